import StatesLanguage

/// The result shapes AWS's optimized integrations return to a Task state, so that
/// `ResultSelector`s and paths written against AWS keep working.
public enum SDKResults {
    /// `SdkHttpMetadata` and `SdkResponseMetadata` as AWS's Java SDK reports them.
    static func metadata(requestID: String, contentType: String, contentLength: Int, date: String,
                         extraHeaders: [(String, String)] = []) -> (JSON, JSON)
    {
        var all = JSONObject()
        var plain = JSONObject()
        for (k, v) in [("x-amzn-RequestId", requestID), ("Content-Length", String(contentLength)), ("Date", date),
                       ("Content-Type", contentType)] + extraHeaders
        {
            all.append(k, [.string(v)])
            plain.append(k, .string(v))
        }
        let http: JSON = ["AllHttpHeaders": .object(all), "HttpHeaders": .object(plain), "HttpStatusCode": 200]
        return (http, ["RequestId": .string(requestID)])
    }

    /// `sqs:sendMessage`: `MD5OfMessageBody`, `MessageId` (and `MD5OfMessageAttributes`).
    public static func sqsSendMessage(body: String, attributes: JSONObject?, messageID: String, requestID: String,
                                      date: String) -> JSON
    {
        var o = JSONObject()
        if let attributes, !attributes.isEmpty, let md5 = md5OfMessageAttributes(attributes) {
            o.append("MD5OfMessageAttributes", .string(md5))
        }
        o.append("MD5OfMessageBody", .string(Digest.hex(Digest.md5(Array(body.utf8)))))
        o.append("MessageId", .string(messageID))
        let (http, response) = metadata(requestID: requestID, contentType: "application/x-amz-json-1.0", contentLength: 106, date: date)
        o.append("SdkHttpMetadata", http)
        o.append("SdkResponseMetadata", response)
        return .object(o)
    }

    /// `sns:publish`: `MessageId` (and `SequenceNumber` for FIFO topics).
    public static func snsPublish(messageID: String, sequenceNumber: String?, requestID: String, date: String) -> JSON {
        var o = JSONObject()
        o.append("MessageId", .string(messageID))
        if let sequenceNumber { o.append("SequenceNumber", .string(sequenceNumber)) }
        let (http, response) = metadata(requestID: requestID, contentType: "text/xml", contentLength: 294, date: date)
        o.append("SdkHttpMetadata", http)
        o.append("SdkResponseMetadata", response)
        return .object(o)
    }

    /// `events:putEvents`: one `EventId` per entry.
    public static func eventsPutEvents(eventIDs: [String]) -> JSON {
        ["Entries": .array(eventIDs.map { ["EventId": .string($0)] }), "FailedEntryCount": 0]
    }

    /// `lambda:invoke`: the function's answer in `Payload`, with `StatusCode` and
    /// `ExecutedVersion`.
    public static func lambdaInvoke(payload: JSON, statusCode: Int, executedVersion: String = "$LATEST", requestID: String,
                                    date: String) -> JSON
    {
        var o = JSONObject()
        o.append("ExecutedVersion", .string(executedVersion))
        o.append("Payload", payload)
        let (http, response) = metadata(
            requestID: requestID, contentType: "application/json", contentLength: payload.serializedSize, date: date,
            extraHeaders: [("X-Amz-Executed-Version", executedVersion)])
        o.append("SdkHttpMetadata", http)
        o.append("SdkResponseMetadata", response)
        o.append("StatusCode", .int(Int64(statusCode)))
        return .object(o)
    }

    /// SQS's MD5 of message attributes: names sorted; each attribute encoded as the
    /// length-prefixed (4-byte big-endian) name, data type, a transport byte (1 string,
    /// 2 binary) and the length-prefixed value.
    public static func md5OfMessageAttributes(_ attributes: JSONObject) -> String? {
        var bytes: [UInt8] = []
        func lengthPrefixed(_ b: [UInt8]) {
            let n = UInt32(b.count)
            bytes += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            bytes += b
        }
        for name in attributes.orderedKeys.sorted() {
            guard case .object(let a)? = attributes[name], let type = a["DataType"]?.stringValue else { return nil }
            lengthPrefixed(Array(name.utf8))
            lengthPrefixed(Array(type.utf8))
            if let s = a["StringValue"]?.stringValue {
                bytes.append(1)
                lengthPrefixed(Array(s.utf8))
            } else if let b = a["BinaryValue"]?.stringValue, let decoded = Base64.decode(b) {
                bytes.append(2)
                lengthPrefixed(decoded)
            } else {
                return nil
            }
        }
        return Digest.hex(Digest.md5(bytes))
    }

    /// An RFC 1123 date, as HTTP's `Date` header.
    public static func httpDate(milliseconds ms: Int64) -> String {
        let iso = ISOTimeFormat.components(milliseconds: ms)
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let dayNumber = Int((ms >= 0 ? ms : ms - 86_399_999) / 86_400_000)
        let weekday = days[((dayNumber % 7) + 7) % 7]
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(weekday), \(pad(iso.day)) \(months[iso.month - 1]) \(iso.year) \(pad(iso.hour)):\(pad(iso.minute)):\(pad(iso.second)) GMT"
    }
}

/// Civil time from epoch milliseconds (UTC).
enum ISOTimeFormat {
    static func components(milliseconds ms: Int64) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        return (Int(year), Int(month), Int(day), secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
}
