#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A decimal number that compares exactly as it was written.
///
/// Event patterns compare numbers by value, never through a lossy `Double`: `37.80780` equals
/// `37.8078` but not `37.80780792169409`, and `27.807807921694092` equals itself even though
/// a double cannot hold all of its digits. The value is kept normalized (no leading or
/// trailing zeros, `-0` is `0`), so the synthesized equality and hashing compare values.
///
/// - Note: Exponents are kept in an `Int64` and saturate at about ±10¹⁸; two literals whose
///   exponents both exceed that compare by their digits only.
public struct DecimalNumber: Sendable, Hashable {
    /// The significant digits (each 0...9), without leading or trailing zeros; empty for zero.
    @usableFromInline let digits: [UInt8]
    /// The value is `0.d₁d₂d₃… × 10^exponent`; 0 for zero.
    @usableFromInline let exponent: Int64
    /// `false` for zero.
    @usableFromInline let isNegative: Bool

    /// Zero.
    public static let zero = DecimalNumber(digits: [], exponent: 0, isNegative: false)

    @usableFromInline init(digits: [UInt8], exponent: Int64, isNegative: Bool) {
        self.digits = digits
        self.exponent = digits.isEmpty ? 0 : exponent
        self.isNegative = digits.isEmpty ? false : isNegative
    }

    /// Parses a JSON number literal (RFC 8259 grammar); `nil` when `text` is not one.
    public init?(_ text: some StringProtocol) {
        var copy = String(text)
        guard let value = copy.withUTF8({ DecimalNumber(utf8: $0) }) else { return nil }
        self = value
    }

    /// Parses a JSON number literal from its UTF-8 bytes; `nil` when the bytes are not one.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        var i = 0
        let n = bytes.count
        var negative = false
        if i < n, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var all: [UInt8] = []
        all.reserveCapacity(n)
        let intStart = i
        while i < n, bytes[i] &- UInt8(ascii: "0") < 10 {
            all.append(bytes[i] &- UInt8(ascii: "0"))
            i += 1
        }
        let intCount = i - intStart
        guard intCount > 0, !(intCount > 1 && all[0] == 0) else { return nil }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < n, bytes[i] &- UInt8(ascii: "0") < 10 {
                all.append(bytes[i] &- UInt8(ascii: "0"))
                i += 1
            }
            guard i > fracStart else { return nil }
        }
        var exp: Int64 = 0
        if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < n, bytes[i] &- UInt8(ascii: "0") < 10 {
                // Saturate below 10^18 (one more digit would overflow an Int64 past 9.2 × 10^18):
                // the digits can add at most the text length to the exponent.
                if exp < 100_000_000_000_000_000 { exp = exp * 10 + Int64(bytes[i] &- UInt8(ascii: "0")) }
                i += 1
            }
            guard i > expStart else { return nil }
            if expNegative { exp = -exp }
        }
        guard i == n else { return nil }
        guard let first = all.firstIndex(where: { $0 != 0 }) else {
            self = .zero
            return
        }
        let last = all.lastIndex(where: { $0 != 0 })!
        self.init(
            digits: Array(all[first...last]), exponent: Int64(intCount - first) + exp, isNegative: negative)
    }

    /// The exact value of an integer.
    public init(_ value: Int64) {
        var text = String(value)
        self = text.withUTF8 { DecimalNumber(utf8: $0)! }
    }

    /// The shortest decimal that round-trips to `value` (what a JSON writer prints);
    /// `nil` for infinities and NaN.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        var text = value.description  // shortest round-trip digits, e.g. "1e-05", "301.8"
        guard let parsed = text.withUTF8({ DecimalNumber(utf8: $0) }) else { return nil }
        self = parsed
    }

    public var isZero: Bool { digits.isEmpty }

    /// The value as an `Int64` when it is an integer that fits.
    public var int64Value: Int64? {
        if digits.isEmpty { return 0 }
        guard exponent >= Int64(digits.count), exponent <= 19 else { return nil }
        var magnitude: UInt64 = 0
        for i in 0..<Int(exponent) {
            let d = UInt64(i < digits.count ? digits[i] : 0)
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (n, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            magnitude = n
        }
        if isNegative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The nearest `Double`, correctly rounded: ±infinity beyond the double range, ±0 below it.
    public var nearestDouble: Double {
        if digits.isEmpty { return 0 }
        // Clinger's fast path: up to 15 digits and a power of ten up to 10^22 are both exact
        // doubles, and one multiplication or division rounds correctly.
        if digits.count <= 15 {
            var mantissa: Int64 = 0
            for d in digits { mantissa = mantissa * 10 + Int64(d) }
            let scale = exponent - Int64(digits.count)
            if scale >= -22, scale <= 22 {
                let m = Double(mantissa)
                let d = scale >= 0 ? m * Self.powersOfTen[Int(scale)] : m / Self.powersOfTen[Int(-scale)]
                return isNegative ? -d : d
            }
        }
        let text = description
        return text.withCString { strtod($0, nil) }
    }

    static let powersOfTen: [Double] = (0...22).map { (0..<$0).reduce(1.0) { r, _ in r * 10 } }

    /// The double whose shortest decimal spelling (what a JSON writer prints for it) has
    /// exactly this value; `nil` when there is none: beyond the double range, below it
    /// (`1e-400` is not 0), or with more digits than a double holds.
    ///
    /// AWS behaviour: EventBridge compares numbers only when they are such doubles
    /// (event-ruler's `ComparableNumber`); Step Functions writes any other double this way.
    public var exactDouble: Double? {
        if digits.isEmpty { return isNegative ? -0.0 : 0.0 }
        // Up to 15 significant digits (DBL_DIG) within the normal range always round-trip.
        if digits.count <= 15, exponent >= -306, exponent <= 308 { return nearestDouble }
        let d = nearestDouble
        guard d.isFinite, d != 0, DecimalNumber(d) == self else { return nil }
        return d
    }

    /// Whether `exactDouble` is not nil, decided without converting when the answer is plain.
    public var isExactDouble: Bool {
        if digits.isEmpty || (digits.count <= 15 && exponent >= -306 && exponent <= 308) { return true }
        return exactDouble != nil
    }
}

extension DecimalNumber: Comparable {
    public static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// -1, 0 or 1 as `lhs` is less than, equal to or greater than `rhs`.
    @usableFromInline package static func compare(_ lhs: DecimalNumber, _ rhs: DecimalNumber) -> Int {
        let ls = lhs.isZero ? 0 : (lhs.isNegative ? -1 : 1)
        let rs = rhs.isZero ? 0 : (rhs.isNegative ? -1 : 1)
        if ls != rs { return ls < rs ? -1 : 1 }
        if ls == 0 { return 0 }
        let magnitude = compareMagnitude(lhs, rhs)
        return ls > 0 ? magnitude : -magnitude
    }

    static func compareMagnitude(_ lhs: DecimalNumber, _ rhs: DecimalNumber) -> Int {
        if lhs.exponent != rhs.exponent { return lhs.exponent < rhs.exponent ? -1 : 1 }
        let n = min(lhs.digits.count, rhs.digits.count)
        for i in 0..<n where lhs.digits[i] != rhs.digits[i] {
            return lhs.digits[i] < rhs.digits[i] ? -1 : 1
        }
        if lhs.digits.count == rhs.digits.count { return 0 }
        return lhs.digits.count < rhs.digits.count ? -1 : 1
    }
}

extension DecimalNumber: CustomStringConvertible {
    /// A canonical spelling: plain digits for moderate exponents (`301.8`, `0.001`, `1000`),
    /// scientific notation otherwise (`1E-320`, `2.5E+40`).
    public var description: String {
        if digits.isEmpty { return "0" }
        var out = isNegative ? "-" : ""
        let ds = String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        if exponent > 21 || exponent < -6 {
            out += ds.prefix(1)
            if digits.count > 1 { out += "." + ds.dropFirst() }
            out += "E" + (exponent - 1 >= 0 ? "+" : "") + String(exponent - 1)
        } else if exponent <= 0 {
            out += "0." + String(repeating: "0", count: Int(-exponent)) + ds
        } else if Int(exponent) >= digits.count {
            out += ds + String(repeating: "0", count: Int(exponent) - digits.count)
        } else {
            out += ds.prefix(Int(exponent)) + "." + ds.dropFirst(Int(exponent))
        }
        return out
    }
}
