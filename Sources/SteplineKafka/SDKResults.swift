import ControlPlane
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
    public static func httpDate(milliseconds ms: Int64) -> String { Timestamp.httpDate(milliseconds: ms) }
}
