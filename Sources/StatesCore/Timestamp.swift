/// An instant as Step Functions reads and writes it: RFC 3339 text, nanosecond precision.
///
/// Used by the Wait state (`Timestamp`, `TimestampPath`), the Choice operators `IsTimestamp`
/// and `Timestamp*`, and for the times AWS prints (context object, history).
///
/// AWS behaviour: the accepted form is the ASL profile of RFC 3339:
/// `YYYY-MM-DDThh:mm:ss[.f…]` then `Z` or `±hh:mm`, with an uppercase `T` and `Z`, seconds
/// required, 1 to 9 fraction digits, and calendar-valid fields (no month 13, no hour 25,
/// no February 30). Cases `wait.*test_wait_timestamppath*` and
/// `validation.*test_wait_timestamp_invalid*` show the accepted and rejected shapes
/// ("2025-01-01T00:00:00.000000Z" and "…00.00Z" accepted; no offset, a space for `T`,
/// "2016-13-05…", "…T25:29:29Z" and "05-12-2016T…" rejected).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var secondsSinceEpoch: Int64
    /// Nanoseconds into the second, `0..<1_000_000_000`.
    public var nanosecondOfSecond: Int32

    public init(secondsSinceEpoch: Int64, nanosecondOfSecond: Int32 = 0) {
        precondition(nanosecondOfSecond >= 0 && nanosecondOfSecond < 1_000_000_000, "Timestamp: nanoseconds out of range")
        self.secondsSinceEpoch = secondsSinceEpoch
        self.nanosecondOfSecond = nanosecondOfSecond
    }

    /// An instant given as nanoseconds since the epoch.
    public init(nanosecondsSinceEpoch ns: Int64) {
        let (q, r) = ns.floorDivided(by: 1_000_000_000)
        self.init(secondsSinceEpoch: q, nanosecondOfSecond: Int32(r))
    }

    /// Nanoseconds since the epoch, saturating outside the years 1677–2262 that `Int64` spans.
    public var nanoseconds: Int64 {
        let (product, overflow) = secondsSinceEpoch.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return secondsSinceEpoch < 0 ? Int64.min : Int64.max }
        let (sum, overflow2) = product.addingReportingOverflow(Int64(nanosecondOfSecond))
        return overflow2 ? Int64.max : sum
    }

    public init(millisecondsSinceEpoch ms: Int64) {
        let (q, r) = ms.floorDivided(by: 1000)
        self.init(secondsSinceEpoch: q, nanosecondOfSecond: Int32(r) * 1_000_000)
    }

    /// Milliseconds since the epoch, rounded toward negative infinity (saturating).
    public var millisecondsSinceEpoch: Int64 {
        let (product, overflow) = secondsSinceEpoch.multipliedReportingOverflow(by: 1000)
        if overflow { return secondsSinceEpoch < 0 ? Int64.min : Int64.max }
        return product + Int64(nanosecondOfSecond / 1_000_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        a.secondsSinceEpoch != b.secondsSinceEpoch
            ? a.secondsSinceEpoch < b.secondsSinceEpoch : a.nanosecondOfSecond < b.nanosecondOfSecond
    }

    public var description: String { formatted(fractionDigits: 3) }

    // MARK: - Parsing

    /// Parses an RFC 3339 timestamp (ASL profile); nil when `text` is not one.
    public init?(rfc3339 text: String) { self.init(text) }

    /// Parses an RFC 3339 timestamp (ASL profile); nil when `text` is not one.
    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ Timestamp.parse(utf8: $0, lenient: false) }) else { return nil }
        self = value
    }

    /// Parses the way Java's `DateTimeFormatter.ISO_OFFSET_DATE_TIME` does, which AWS uses
    /// at run time for the Wait state's `TimestampPath` (its causes say "ISO-8601 extended
    /// offset date-time format"): like RFC 3339, but `t` and `z` may be lowercase, the
    /// seconds may be left out (`2016-03-14T01:59Z`), and an offset may carry seconds
    /// (`+01:00:30`).
    public init?(isoOffsetDateTime text: String) {
        var text = text
        guard let value = text.withUTF8({ Timestamp.parse(utf8: $0, lenient: true) }) else { return nil }
        self = value
    }

    static func parse(utf8 s: UnsafeBufferPointer<UInt8>, lenient: Bool) -> Timestamp? {
        var i = 0
        func digits(_ n: Int) -> Int64? {
            guard i + n <= s.count else { return nil }
            var v: Int64 = 0
            for k in 0..<n {
                let c = s[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            i += n
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < s.count, s[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2), expect(UInt8(ascii: "T")) || (lenient && expect(UInt8(ascii: "t"))),
            let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2)
        else { return nil }
        var second: Int64 = 0
        var hasSeconds = false
        if expect(UInt8(ascii: ":")) {
            guard let s = digits(2) else { return nil }
            second = s
            hasSeconds = true
        } else if !lenient {
            return nil
        }
        var nanos: Int64 = 0
        if hasSeconds, i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 {
                guard count < 9 else { return nil }
                nanos = nanos * 10 + Int64(s[i] - 0x30)
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<9 { nanos *= 10 }
        }
        var offsetSeconds: Int64 = 0
        guard i < s.count else { return nil }
        if s[i] == UInt8(ascii: "Z") || (lenient && s[i] == UInt8(ascii: "z")) {
            i += 1
        } else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            let sign: Int64 = s[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2), expect(UInt8(ascii: ":")), let om = digits(2), oh <= 18, om <= 59 else { return nil }
            var os: Int64 = 0
            if lenient, expect(UInt8(ascii: ":")) {
                guard let v = digits(2), v <= 59 else { return nil }
                os = v
            }
            offsetSeconds = sign * (oh * 3600 + om * 60 + os)
            guard abs(offsetSeconds) <= 18 * 3600 else { return nil }
        } else {
            return nil
        }
        guard i == s.count else { return nil }
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Timestamp(secondsSinceEpoch: seconds, nanosecondOfSecond: Int32(nanos))
    }

    // MARK: - Formatting

    /// UTC text with exactly `fractionDigits` (0...9) fraction digits, e.g.
    /// `2024-01-01T00:00:00.000Z` for 3, the form of AWS's context-object times.
    public func formatted(fractionDigits: Int = 3) -> String {
        precondition((0...9).contains(fractionDigits), "Timestamp.formatted: fractionDigits must be 0...9")
        var out = [UInt8]()
        out.reserveCapacity(30)
        appendDateTime(to: &out)
        if fractionDigits > 0 {
            out.append(UInt8(ascii: "."))
            var divisor: Int32 = 100_000_000
            for _ in 0..<fractionDigits {
                out.append(UInt8(ascii: "0") + UInt8((nanosecondOfSecond / divisor) % 10))
                divisor /= 10
            }
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Java's `Instant.toString()`: no fraction when zero, else 3, 6 or 9 digits.
    public var javaInstantString: String {
        if nanosecondOfSecond == 0 { return formatted(fractionDigits: 0) }
        if nanosecondOfSecond % 1_000_000 == 0 { return formatted(fractionDigits: 3) }
        if nanosecondOfSecond % 1000 == 0 { return formatted(fractionDigits: 6) }
        return formatted(fractionDigits: 9)
    }

    private func appendDateTime(to out: inout [UInt8]) {
        let (days, secondOfDay) = secondsSinceEpoch.floorDivided(by: 86400)
        let (year, month, day) = Timestamp.civilFromDays(days)
        func append(_ value: Int64, width: Int) {
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
            var v = value
            var k = width - 1
            while k >= 0 {
                digits[k] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                k -= 1
            }
            out.append(contentsOf: digits)
        }
        if year < 0 {
            out.append(UInt8(ascii: "-"))
            append(-year, width: 4)
        } else {
            append(year, width: 4)
        }
        out.append(UInt8(ascii: "-"))
        append(month, width: 2)
        out.append(UInt8(ascii: "-"))
        append(day, width: 2)
        out.append(UInt8(ascii: "T"))
        append(secondOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, width: 2)
    }

    // MARK: - Calendar (proleptic Gregorian; H. Hinnant's algorithms)

    static func isLeapYear(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The proleptic Gregorian date `z0` days after 1970-01-01 (H. Hinnant's algorithm).
    public static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    /// Quotient rounded toward negative infinity and the matching non-negative remainder.
    func floorDivided(by d: Int64) -> (Int64, Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: d)
        return r < 0 ? (q - 1, r + d) : (q, r)
    }
}

extension Timestamp {
    /// RFC 9110's IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`): HTTP's `Date` header, and
    /// the date in AWS SDK responses' headers.
    public static func httpDate(milliseconds ms: Int64) -> String {
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let seconds = Timestamp(millisecondsSinceEpoch: ms).secondsSinceEpoch
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Timestamp.civilFromDays(days)
        let weekday = weekdays[Int((days % 7 + 7) % 7)]
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
        return "\(weekday), \(pad(Int(day))) \(months[Int(month) - 1]) \(year) \(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60)) GMT"
    }
}
