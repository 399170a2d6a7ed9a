/// Compact JSON serialization, byte for byte as AWS writes payloads.
///
/// AWS behaviour: no whitespace; `/` and non-ASCII characters are not escaped; control
/// characters are (`\n`, `\t`, ..., else `\u00XX`); doubles are written as Java's
/// `Double.toString` writes them (`1.0`, `1.0E7`, `1.0E-4`), integers as integers, and a
/// `.decimal` as its literal.
extension JSON {
    /// The compact serialization.
    public func serialized() -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact serialization to `out`.
    public func write(to out: inout [UInt8]) { write(to: &out, depth: 0) }

    /// `write(to:)` at nesting `depth`: deeper than `recursionDepth`, without recursion.
    func write(to out: inout [UInt8], depth: Int) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .int(let i): JSONNumberFormat.appendInt(i, to: &out)
        case .double(let d): JSONNumberFormat.appendDouble(d, to: &out)
        case .decimal(let n): out.append(contentsOf: n.literal.utf8)
        case .string(let s): JSONStringFormat.append(s, to: &out)
        case .array(let a):
            if depth >= Self.recursionDepth { return writeIteratively(to: &out) }
            out.append(UInt8(ascii: "["))
            var first = true
            for v in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                v.write(to: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if depth >= Self.recursionDepth { return writeIteratively(to: &out) }
            out.append(UInt8(ascii: "{"))
            o.withMembers { members in
                for i in members.indices {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    JSONStringFormat.append(members[i].key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    members[i].value.write(to: &out, depth: depth + 1)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The number of UTF-8 bytes of `serialized()`, computed without building it.
    ///
    /// Step Functions' payload quota (256 KiB) counts these bytes.
    public var serializedSize: Int { serializedSize(depth: 0) }

    func serializedSize(depth: Int) -> Int {
        switch self {
        case .null: return 4
        case .bool(let b): return b ? 4 : 5
        case .int(let i): return JSONNumberFormat.intSize(i)
        case .double(let d): return JSONNumberFormat.doubleSize(d)
        case .decimal(let n): return n.literal.utf8.count
        case .string(let s): return JSONStringFormat.size(s)
        case .array(let a):
            if depth >= Self.recursionDepth { return serializedSizeIteratively() }
            var n = 2 + max(0, a.count - 1)
            for v in a { n += v.serializedSize(depth: depth + 1) }
            return n
        case .object(let o):
            if depth >= Self.recursionDepth { return serializedSizeIteratively() }
            var n = 2 + max(0, o.count - 1) + o.count  // braces, commas, colons
            o.withMembers { members in
                for i in members.indices {
                    n += JSONStringFormat.size(members[i].key) + members[i].value.serializedSize(depth: depth + 1)
                }
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
        if level >= Self.recursionDepth { return writePrettyIteratively(to: &out, level: level, indent: indent) }
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
                JSONStringFormat.append(o.key(at: i), to: &out)
                out.append(contentsOf: ": ".utf8)
                o.value(at: i).writePretty(to: &out, level: level + 1, indent: indent)
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
            let count = bytes.count
            // Eight bytes at a time (the last word overlapping the one before): most strings
            // need no escape, and then their size is their length.
            if count >= 8, let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                var i = 0
                var clean = true
                while i + 8 <= count {
                    if Self.wordNeedsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
                        clean = false
                        break
                    }
                    i += 8
                }
                if clean, i < count, Self.wordNeedsEscape(raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) {
                    clean = false
                }
                if clean { return count + 2 }
            }
            var extra = 0
            for i in 0..<count {
                let c = bytes[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: extra += 1
                default: extra += 5
                }
            }
            return count + 2 + extra
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
    /// Whether the compact serialization is longer than `limit` bytes.
    ///
    /// See `serializedSizeExceeds(_:memo:)`.
    public func serializedSizeExceeds(_ limit: Int) -> Bool {
        var memo = JSONSizeMemo()
        return serializedSizeExceeds(limit, memo: &memo)
    }

    /// Whether the compact serialization is longer than `limit` bytes, decided cheaply when
    /// possible, in up to three passes that each stop as soon as the answer is known:
    ///
    /// 1. bounds from lengths alone: a string costs its UTF-8 length plus quotes at least
    ///    and six times that at most (every byte escaped as `\u00XX`), a double 3 to 26 bytes;
    /// 2. strings measured exactly (a word-at-a-time scan for escapes), doubles still bounded;
    /// 3. the exact size, doubles formatted.
    ///
    /// The answer is always exact: a pass decides only when its bounds fall on the same side
    /// of the limit.
    ///
    /// - Parameter memo: bounds of the large arrays and objects already measured. State
    ///   data flows from state to state mostly unchanged, so the large parts of an output
    ///   are often parts of earlier outputs; `memo` measures them once.
    public func serializedSizeExceeds(_ limit: Int, memo: inout JSONSizeMemo) -> Bool {
        if let decided = decide(limit, LengthsPass.self, &memo) { return decided }
        if let decided = decide(limit, ExactStringsPass.self, &memo) { return decided }
        if let decided = decide(limit, ExactPass.self, &memo) { return decided }
        preconditionFailure("JSON.serializedSizeExceeds: the exact pass did not decide")
    }

    /// Whether the serialization exceeds `limit`; nil when the pass cannot tell.
    private func decide<Pass: SizePass>(_ limit: Int, _ pass: Pass.Type, _ memo: inout JSONSizeMemo) -> Bool? {
        decide(limit, bounds(pass, &memo))
    }

    private func decide(_ limit: Int, _ bounds: SizeBounds) -> Bool? {
        if bounds.lower > limit { return true }
        if bounds.upper <= limit { return false }
        return nil
    }

    private func bounds<Pass: SizePass>(_ pass: Pass.Type, _ memo: inout JSONSizeMemo) -> SizeBounds {
        var bounds = SizeBounds()
        switch self {
        case .array(let a): bounds.add(a, pass, &memo)
        case .object(let o): bounds.add(o, pass, &memo)
        default: bounds.add(scalar: self, pass)
        }
        return bounds
    }

    /// What is wrong with a payload a state produced, if anything.
    public enum PayloadProblem: Equatable, Sendable {
        /// Its compact serialization is longer than the size limit.
        case tooLarge
        /// It nests this many arrays and objects deep, past the depth limit.
        case tooDeep(Int)
    }

    /// `serializedSizeExceeds` and a nesting-depth check in one: the size passes note
    /// whether the value goes deeper than `JSON.recursionDepth` (48) anywhere, and only such
    /// a value is walked again to measure its depth, so the check costs nothing more for
    /// the usual shallow payloads.
    ///
    /// - Parameter depthLimit: the deepest nesting allowed (the JSON parser's limit: what
    ///   is stored must read back).
    public func payloadProblem(sizeLimit: Int, depthLimit: Int = JSON.defaultMaxDepth,
                               memo: inout JSONSizeMemo) -> PayloadProblem?
    {
        let first = bounds(LengthsPass.self, &memo)
        let exceeds = decide(sizeLimit, first) ?? decide(sizeLimit, ExactStringsPass.self, &memo)
            ?? decide(sizeLimit, ExactPass.self, &memo) ?? true
        if exceeds { return .tooLarge }
        if first.isDeep {
            let depth = nestingDepth()
            if depth > depthLimit { return .tooDeep(depth) }
        }
        return nil
    }
}

/// Lower and upper bounds of a serialized size.
///
/// Containers are walked by loops that switch on their elements in place: a call per
/// element would copy (retain) it.
struct SizeBounds {
    var lower = 0
    var upper = 0
    /// The value nests deeper than `JSON.recursionDepth` somewhere (`JSON.payloadCheck`
    /// then measures its depth exactly; shallower values need no second walk).
    var isDeep = false

    @inline(__always) mutating func add(_ n: Int) {
        lower += n
        upper += n
    }

    @inline(__always) mutating func add(_ b: (lower: Int, upper: Int)) {
        lower += b.lower
        upper += b.upper
    }

    @inline(__always) mutating func add(_ b: SizeBounds) {
        lower += b.lower
        upper += b.upper
        if b.isDeep { isDeep = true }
    }

    /// Adds a value that is not an array or an object.
    @inline(__always) mutating func add<Pass: SizePass>(scalar value: JSON, _ pass: Pass.Type) {
        switch value {
        case .null: add(4)
        case .bool(let v): add(v ? 4 : 5)
        case .int(let i): add(JSONNumberFormat.intSize(i))
        case .double(let d): add(Pass.double(d))
        case .decimal(let n): add(n.literal.utf8.count)
        case .string(let s): add(Pass.string(s))
        case .array, .object: preconditionFailure("SizeBounds.add(scalar:): a container")
        }
    }

    /// Adds an array: brackets, commas and elements (through the memo when large).
    ///
    /// - Parameter depth: the array's nesting level; deeper than `JSON.recursionDepth`, the
    ///   array is measured without recursion (and without the memo).
    mutating func add<Pass: SizePass>(_ a: [JSON], _ pass: Pass.Type, _ memo: inout JSONSizeMemo, depth: Int = 0) {
        if depth >= JSON.recursionDepth {
            isDeep = true
            return add(JSON.array(a).sizeBoundsIteratively(pass))
        }
        add(2 + max(0, a.count - 1))
        if a.count >= JSONSizeMemo.threshold {
            add(memo.bounds(of: a, pass) { memo in
                var inner = SizeBounds()
                inner.addElements(a, pass, &memo, depth: depth)
                return inner
            })
        } else {
            addElements(a, pass, &memo, depth: depth)
        }
    }

    /// Adds an object: braces, commas, colons, keys and values (through the memo when large).
    mutating func add<Pass: SizePass>(_ o: JSONObject, _ pass: Pass.Type, _ memo: inout JSONSizeMemo, depth: Int = 0) {
        if depth >= JSON.recursionDepth {
            isDeep = true
            return add(JSON.object(o).sizeBoundsIteratively(pass))
        }
        add(2 + max(0, o.count - 1) + o.count)
        if o.count >= JSONSizeMemo.threshold {
            add(memo.bounds(of: o, pass) { memo in
                var inner = SizeBounds()
                inner.addMembers(o, pass, &memo, depth: depth)
                return inner
            })
        } else {
            addMembers(o, pass, &memo, depth: depth)
        }
    }

    private mutating func addElements<Pass: SizePass>(_ a: [JSON], _ pass: Pass.Type, _ memo: inout JSONSizeMemo, depth: Int) {
        for i in a.indices {
            switch a[i] {
            case .null: add(4)
            case .bool(let v): add(v ? 4 : 5)
            case .int(let n): add(JSONNumberFormat.intSize(n))
            case .double(let d): add(Pass.double(d))
            case .decimal(let n): add(n.literal.utf8.count)
            case .string(let s): add(Pass.string(s))
            case .array(let inner): add(inner, pass, &memo, depth: depth + 1)
            case .object(let inner): add(inner, pass, &memo, depth: depth + 1)
            }
        }
    }

    private mutating func addMembers<Pass: SizePass>(_ o: JSONObject, _ pass: Pass.Type, _ memo: inout JSONSizeMemo, depth: Int) {
        o.withMembers { members in
            for i in members.indices {
                add(Pass.string(members[i].key))
                switch members[i].value {
                case .null: add(4)
                case .bool(let v): add(v ? 4 : 5)
                case .int(let n): add(JSONNumberFormat.intSize(n))
                case .double(let d): add(Pass.double(d))
                case .decimal(let n): add(n.literal.utf8.count)
                case .string(let s): add(Pass.string(s))
                case .array(let inner): add(inner, pass, &memo, depth: depth + 1)
                case .object(let inner): add(inner, pass, &memo, depth: depth + 1)
                }
            }
        }
    }
}


/// Bounds of the serialized size of large arrays and objects, by the identity of their
/// storage (which the memo retains, so that the identity stays theirs).
public struct JSONSizeMemo {
    /// Arrays and objects with fewer elements are measured every time (a lookup would cost
    /// as much).
    static let threshold = 16

    struct Key: Hashable {
        let storage: UnsafeRawPointer
        let pass: UInt8
    }

    struct Entry {
        let lower: Int
        let upper: Int
        let isDeep: Bool
        /// Keeps the storage alive while it is a key.
        let value: JSON
    }

    var entries: [Key: Entry] = [:]

    public init() {}

    /// The bounds of a large array's elements (without its brackets and commas), measured
    /// by `measure` the first time.
    @inline(never)
    mutating func bounds<Pass: SizePass>(of a: [JSON], _ pass: Pass.Type, _ measure: (inout JSONSizeMemo) -> SizeBounds) -> SizeBounds {
        let key = Key(storage: a.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress!) }, pass: Pass.id)
        return bounds(key, .array(a), measure)
    }

    /// The bounds of a large object's members (without its braces, commas and colons),
    /// measured by `measure` the first time.
    @inline(never)
    mutating func bounds<Pass: SizePass>(of o: JSONObject, _ pass: Pass.Type, _ measure: (inout JSONSizeMemo) -> SizeBounds) -> SizeBounds {
        let key = Key(storage: UnsafeRawPointer(Unmanaged.passUnretained(o.storage!).toOpaque()), pass: Pass.id)
        return bounds(key, .object(o), measure)
    }

    private mutating func bounds(_ key: Key, _ value: JSON, _ measure: (inout JSONSizeMemo) -> SizeBounds) -> SizeBounds {
        if let e = entries[key] { return SizeBounds(lower: e.lower, upper: e.upper, isDeep: e.isDeep) }
        let b = measure(&self)
        entries[key] = Entry(lower: b.lower, upper: b.upper, isDeep: b.isDeep, value: value)
        return b
    }
}

/// What a serialized-size pass measures exactly (a type, so that each pass is compiled on
/// its own: the cheap pass calls nothing per string).
protocol SizePass {
    static var id: UInt8 { get }
    /// The bounds of a string, quoted.
    static func string(_ s: String) -> (lower: Int, upper: Int)
    static func double(_ d: Double) -> (lower: Int, upper: Int)
}

extension SizePass {
    /// From "0.0" to "-1.2345678901234567E-308".
    @inline(__always) static func double(_ d: Double) -> (lower: Int, upper: Int) { (3, 26) }
}

/// Lengths only: a string costs its UTF-8 length plus quotes at least, six times that at
/// most (every byte escaped as `\u00XX`); doubles bounded.
enum LengthsPass: SizePass {
    static var id: UInt8 { 0 }
    @inline(__always) static func string(_ s: String) -> (lower: Int, upper: Int) {
        let n = s.utf8.count
        return (n + 2, 6 * n + 2)
    }
}

/// Strings exact, doubles bounded.
enum ExactStringsPass: SizePass {
    static var id: UInt8 { 1 }
    @inline(__always) static func string(_ s: String) -> (lower: Int, upper: Int) {
        let n = JSONStringFormat.size(s)
        return (n, n)
    }
}

/// Everything exact.
enum ExactPass: SizePass {
    static var id: UInt8 { 2 }
    @inline(__always) static func string(_ s: String) -> (lower: Int, upper: Int) {
        let n = JSONStringFormat.size(s)
        return (n, n)
    }
    @inline(__always) static func double(_ d: Double) -> (lower: Int, upper: Int) {
        let n = JSONNumberFormat.doubleSize(d)
        return (n, n)
    }
}

