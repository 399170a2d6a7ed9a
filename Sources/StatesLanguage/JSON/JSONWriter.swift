/// Compact JSON serialization, byte for byte as AWS writes payloads.
///
/// AWS behaviour: no whitespace; `/` and non-ASCII characters are not escaped; control
/// characters are (`\n`, `\t`, ..., else `\u00XX`); doubles are written as Java's
/// `Double.toString` writes them (`1.0`, `1.0E7`, `1.0E-4`), integers as integers.
extension JSON {
    /// The compact serialization.
    public func serialized() -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact serialization to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .int(let i): JSONNumberFormat.appendInt(i, to: &out)
        case .double(let d): JSONNumberFormat.appendDouble(d, to: &out)
        case .string(let s): JSONStringFormat.append(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for v in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for i in 0..<o.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONStringFormat.append(o.keys[i], to: &out)
                out.append(UInt8(ascii: ":"))
                o.values[i].write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The number of UTF-8 bytes of `serialized()`, computed without building it.
    ///
    /// Step Functions' payload quota (256 KiB) counts these bytes.
    public var serializedSize: Int {
        switch self {
        case .null: return 4
        case .bool(let b): return b ? 4 : 5
        case .int(let i): return JSONNumberFormat.intSize(i)
        case .double(let d): return JSONNumberFormat.doubleSize(d)
        case .string(let s): return JSONStringFormat.size(s)
        case .array(let a):
            var n = 2 + max(0, a.count - 1)
            for v in a { n += v.serializedSize }
            return n
        case .object(let o):
            var n = 2 + max(0, o.count - 1) + o.count  // braces, commas, colons
            for i in 0..<o.count {
                n += JSONStringFormat.size(o.keys[i]) + o.values[i].serializedSize
            }
            return n
        }
    }

    /// An indented serialization for people (two spaces, `": "`), in member order.
    public func prettyPrinted(indent: String = "  ") -> String {
        var out = [UInt8]()
        writePretty(to: &out, level: 0, indent: Array(indent.utf8))
        return String(decoding: out, as: UTF8.self)
    }

    private func writePretty(to out: inout [UInt8], level: Int, indent: [UInt8]) {
        func newline(_ level: Int) {
            out.append(0x0A)
            for _ in 0..<level { out.append(contentsOf: indent) }
        }
        switch self {
        case .array(let a) where !a.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                v.writePretty(to: &out, level: level + 1, indent: indent)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(UInt8(ascii: "{"))
            for i in 0..<o.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSONStringFormat.append(o.keys[i], to: &out)
                out.append(contentsOf: ": ".utf8)
                o.values[i].writePretty(to: &out, level: level + 1, indent: indent)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        default:
            write(to: &out)
        }
    }
}

/// JSON string quoting.
public enum JSONStringFormat {
    @usableFromInline static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` quoted and escaped.
    public static func append(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let c = bytes[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                runStart = i + 1
                out.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    out.append(contentsOf: "u00".utf8)
                    out.append(hex[Int(c >> 4)])
                    out.append(hex[Int(c & 0xF)])
                }
            }
            if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether any byte of `w` is below 0x20, a quote or a backslash (SWAR, no false negatives).
    @inline(__always) static func wordNeedsEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        let below20 = (w &- ones &* 0x20) & ~w & highs != 0
        return below20 || hasZero(w ^ (ones &* 0x22)) || hasZero(w ^ (ones &* 0x5C))
    }

    /// The quoted and escaped size of `s` in UTF-8 bytes.
    public static func size(_ s: String) -> Int {
        // Native strings are contiguous UTF-8: count escapes in a tight loop.
        if let n = s.utf8.withContiguousStorageIfAvailable({ bytes -> Int in
            var extra = 0
            // Eight bytes at a time: skip words with no control byte, quote or backslash.
            var i = 0
            if bytes.count >= 8, let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                while i + 8 <= bytes.count {
                    let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if !Self.wordNeedsEscape(w) {
                        i += 8
                        continue
                    }
                    break
                }
            }
            for c in bytes[i...] where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: extra += 1
                default: extra += 5
                }
            }
            return bytes.count + 2 + extra
        }) {
            return n
        }
        var n = 2
        for c in s.utf8 {
            if c >= 0x20 {
                n += (c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\")) ? 2 : 1
            } else {
                switch c {
                case 0x0A, 0x0D, 0x09, 0x08, 0x0C: n += 2
                default: n += 6
                }
            }
        }
        return n
    }

    /// `s` quoted and escaped, as a String.
    public static func quoted(_ s: String) -> String {
        var out = [UInt8]()
        append(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Number formatting.
public enum JSONNumberFormat {
    public static func appendInt(_ i: Int64, to out: inout [UInt8]) {
        if i == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = i.magnitude
        if i < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while magnitude > 0 {
                buf[n] = UInt8(truncatingIfNeeded: magnitude % 10) + UInt8(ascii: "0")
                magnitude /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                out.append(buf[n])
            }
        }
    }

    public static func intSize(_ i: Int64) -> Int {
        if i == 0 { return 1 }
        var n = i < 0 ? 1 : 0
        var m = i.magnitude
        while m > 0 {
            n += 1
            m /= 10
        }
        return n
    }

    /// Java's `Double.toString`: plain notation for 1e-3 ≤ |d| < 1e7, else `d.dddE±n`;
    /// always at least one digit after the point. Digits are the shortest that round-trip.
    public static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        guard d.isFinite else {
            // Not representable in JSON; AWS never produces these.
            out.append(contentsOf: "null".utf8)
            return
        }
        if d == 0 {
            out.append(contentsOf: (d.sign == .minus ? "-0.0" : "0.0").utf8)
            return
        }
        let (negative, digits, exponent) = decompose(d)
        if negative { out.append(UInt8(ascii: "-")) }
        // value = 0.d1d2d3... × 10^exponent, i.e. the decimal point sits after `exponent` digits.
        let magnitude = abs(d)
        if magnitude >= 1e-3, magnitude < 1e7 {
            if exponent <= 0 {
                out.append(contentsOf: "0.".utf8)
                for _ in 0..<(-exponent) { out.append(UInt8(ascii: "0")) }
                out.append(contentsOf: digits)
            } else if exponent >= digits.count {
                out.append(contentsOf: digits)
                for _ in 0..<(exponent - digits.count) { out.append(UInt8(ascii: "0")) }
                out.append(contentsOf: ".0".utf8)
            } else {
                out.append(contentsOf: digits[0..<exponent])
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[exponent...])
            }
        } else {
            out.append(digits[0])
            out.append(UInt8(ascii: "."))
            if digits.count > 1 {
                out.append(contentsOf: digits[1...])
            } else {
                out.append(UInt8(ascii: "0"))
            }
            out.append(UInt8(ascii: "E"))
            appendInt(Int64(exponent - 1), to: &out)
        }
    }

    /// The length of `appendDouble`'s output, computed without building it.
    public static func doubleSize(_ d: Double) -> Int {
        guard d.isFinite else { return 4 }
        if d == 0 { return d.sign == .minus ? 4 : 3 }
        let sign = d.sign == .minus ? 1 : 0
        let magnitude = abs(d)
        if magnitude < 1e7, magnitude.rounded(.towardZero) == magnitude {
            return sign + intSize(Int64(magnitude)) + 2
        }
        // Count the shortest round-trip digits and the exponent from Swift's description
        // (a small string: no allocation).
        let text = magnitude.description
        var digits = 0, leadingZeros = 0, trailingZeros = 0, point = -1, exp10 = 0, seenNonZero = false
        var index = 0
        var exponentPart = false, exponentSign = 1
        for c in text.utf8 {
            if exponentPart {
                if c == UInt8(ascii: "-") { exponentSign = -1 } else if c != UInt8(ascii: "+") { exp10 = exp10 * 10 + Int(c - 48) }
                continue
            }
            switch c {
            case UInt8(ascii: "."): point = index
            case UInt8(ascii: "e"), UInt8(ascii: "E"): exponentPart = true
            case UInt8(ascii: "0"):
                if seenNonZero { trailingZeros += 1 } else { leadingZeros += 1 }
                index += 1
            default:
                seenNonZero = true
                digits += trailingZeros + 1
                trailingZeros = 0
                index += 1
            }
        }
        exp10 *= exponentSign
        if point < 0 { point = index }
        let n = max(1, digits)
        let e = point - leadingZeros + exp10
        if magnitude >= 1e-3, magnitude < 1e7 {
            if e <= 0 { return sign + 2 - e + n }
            if e >= n { return sign + e + 2 }
            return sign + n + 1
        }
        return sign + 2 + max(n - 1, 1) + 1 + intSize(Int64(e - 1))
    }

    /// Shortest round-trip digits (no leading or trailing zeros) and the decimal exponent `e`
    /// such that |d| = 0.digits × 10^e.
    static func decompose(_ d: Double) -> (negative: Bool, digits: [UInt8], exponent: Int) {
        // Swift's description prints the shortest round-trip digits, e.g. "1.2345e-05", "123.5".
        let text = Array(abs(d).description.utf8)
        var mantissa: [UInt8] = []
        var pointIndex: Int? = nil
        var exp10 = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                var sign = 1
                var j = i + 1
                if j < text.count, text[j] == UInt8(ascii: "-") { sign = -1; j += 1 } else if j < text.count, text[j] == UInt8(ascii: "+") { j += 1 }
                var e = 0
                while j < text.count {
                    e = e * 10 + Int(text[j] - UInt8(ascii: "0"))
                    j += 1
                }
                exp10 = sign * e
                break
            }
            if c == UInt8(ascii: ".") {
                pointIndex = mantissa.count
            } else {
                mantissa.append(c)
            }
            i += 1
        }
        var point = pointIndex ?? mantissa.count
        // Strip leading zeros (moving the point), then trailing zeros.
        var lead = 0
        while lead < mantissa.count - 1, mantissa[lead] == UInt8(ascii: "0") { lead += 1 }
        mantissa.removeFirst(lead)
        point -= lead
        while mantissa.count > 1, mantissa.last == UInt8(ascii: "0") { mantissa.removeLast() }
        return (d.sign == .minus, mantissa, point + exp10)
    }

    /// Java-style text of a double, e.g. for messages.
    public static func javaString(_ d: Double) -> String {
        var out = [UInt8]()
        appendDouble(d, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSON {
    /// Whether the compact serialization is longer than `limit` bytes, decided cheaply when
    /// possible: without escapes every string costs its UTF-8 length plus quotes (a lower
    /// bound), and at most six times that (an upper bound); only a value whose bounds
    /// straddle the limit is measured exactly.
    public func serializedSizeExceeds(_ limit: Int) -> Bool {
        var lower = 0, upper = 0
        bounds(&lower, &upper)
        if lower > limit { return true }
        if upper <= limit { return false }
        return serializedSize > limit
    }

    private func bounds(_ lower: inout Int, _ upper: inout Int) {
        switch self {
        case .null: lower += 4; upper += 4
        case .bool(let b): lower += b ? 4 : 5; upper += b ? 4 : 5
        case .int(let i):
            let n = JSONNumberFormat.intSize(i)
            lower += n; upper += n
        case .double: lower += 1; upper += 26
        case .string(let s):
            let n = s.utf8.count
            lower += n + 2; upper += 6 * n + 2
        case .array(let a):
            let n = 2 + max(0, a.count - 1)
            lower += n; upper += n
            for v in a { v.bounds(&lower, &upper) }
        case .object(let o):
            let n = 2 + max(0, o.count - 1) + o.count
            lower += n; upper += n
            for i in 0..<o.count {
                let k = o.keys[i].utf8.count
                lower += k + 2; upper += 6 * k + 2
                o.values[i].bounds(&lower, &upper)
            }
        }
    }
}
