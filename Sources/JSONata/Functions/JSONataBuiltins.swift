/// The built-in function library of JSONata 2.0.6 (without `$eval`), plus the Step
/// Functions additions when asked for.
enum Builtins {
    // MARK: - Shared semantics

    /// The effective boolean value (`$boolean`); nil for undefined.
    static func boolean(_ v: JValue?) -> Bool? {
        guard let v else { return nil }
        switch v {
        case .bool(let b): return b
        case .string(let s): return !s.isEmpty
        case .number(let d): return d != 0 && !d.isNaN
        case .null: return false
        case .array(let a):
            // an array is true when one of its items is; nested arrays count their items
            // (a single item decides alone, which is the same thing)
            var array = a
            var i = 0
            var pending: [(JArray, Int)] = []
            while true {
                if i < array.count {
                    let item = array[i]
                    i += 1
                    if case .array(let inner) = item {
                        pending.append((array, i))
                        array = inner
                        i = 0
                    } else if boolean(item) == true {
                        return true
                    }
                } else if let (outer, next) = pending.popLast() {
                    array = outer
                    i = next
                } else {
                    return false
                }
            }
        case .object(let o): return !o.isEmpty
        case .function: return false
        }
    }

    /// JavaScript truthiness, used where jsonata-js tests a value with `if (x)`.
    static func truthy(_ v: JValue?) -> Bool {
        guard let v else { return false }
        switch v {
        case .bool(let b): return b
        case .string(let s): return !s.isEmpty
        case .number(let d): return d != 0 && !d.isNaN
        case .null: return false
        default: return true
        }
    }

    /// Structural equality (jsonata-js's `isDeepEqual`), without recursion: evaluation can
    /// build values nested far deeper than the native stack allows.
    static func deepEqual(_ a: JValue, _ b: JValue) -> Bool {
        var pending: [(JValue, JValue)] = []
        var pair = (a, b)
        while true {
            switch pair {
            case (.null, .null): break
            case (.bool(let x), .bool(let y)): if x != y { return false }
            case (.number(let x), .number(let y)): if x != y { return false }
            case (.string(let x), .string(let y)): if x != y { return false }
            case (.array(let x), .array(let y)):
                if x !== y {
                    guard x.count == y.count else { return false }
                    for i in 0..<x.count { pending.append((x[i], y[i])) }
                }
            case (.object(let x), .object(let y)):
                if x !== y {
                    guard x.count == y.count else { return false }
                    for i in 0..<x.count {
                        guard let other = y[x.keys[i]] else { return false }
                        pending.append((x.values[i], other))
                    }
                }
            case (.function(let x), .function(let y)): if x !== y { return false }
            default: return false
            }
            guard let next = pending.popLast() else { return true }
            pair = next
        }
    }

    /// JavaScript `===`: primitives by value, arrays, objects and functions by identity.
    static func strictEqual(_ a: JValue, _ b: JValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x === y
        case (.object(let x), .object(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        default: return false
        }
    }

    /// `a op b` for one of the order operators (`<`, `<=`, `>`, `>=`).
    @inline(__always)
    static func ordered(_ op: Node.BinaryOp, _ a: Double, _ b: Double) -> Bool {
        switch op {
        case .less: a < b
        case .lessEqual: a <= b
        case .greater: a > b
        default: a >= b
        }
    }

    /// The same for strings, in JavaScript's order.
    @inline(__always)
    static func ordered(_ op: Node.BinaryOp, _ a: String, _ b: String) -> Bool {
        switch op {
        case .less: utf16Less(a, b)
        case .lessEqual: !utf16Less(b, a)
        case .greater: utf16Less(b, a)
        default: !utf16Less(a, b)
        }
    }

    /// String order as JavaScript compares strings: by UTF-16 code units.
    static func utf16Less(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// jsonata-js's `fn.append`: undefined is ignored, the result is a plain array.
    static func append(_ a: JValue?, _ b: JValue?) -> JValue? {
        guard let a else { return b }
        guard let b else { return a }
        let out = JArray()
        if case .array(let x) = a { out.items = x.items } else { out.items = [a] }
        if case .array(let y) = b { out.items.append(contentsOf: y.items) } else { out.items.append(b) }
        return .array(out)
    }

    /// Stable merge sort; `swap(a, b)` returns true when `b` must come before `a`.
    static func mergeSort<T>(_ items: [T], _ swap: (T, T) throws -> Bool) throws -> [T] {
        if items.count <= 1 { return items }
        var a = items
        var buffer = items
        var width = 1
        let n = a.count
        while width < n {
            var i = 0
            while i < n {
                let mid = min(i + width, n), hi = min(i + 2 * width, n)
                var l = i, r = mid, k = i
                while l < mid && r < hi {
                    if try swap(a[l], a[r]) {
                        buffer[k] = a[r]
                        r += 1
                    } else {
                        buffer[k] = a[l]
                        l += 1
                    }
                    k += 1
                }
                while l < mid { buffer[k] = a[l]; l += 1; k += 1 }
                while r < hi { buffer[k] = a[r]; r += 1; k += 1 }
                i += 2 * width
            }
            Swift.swap(&a, &buffer)
            width *= 2
        }
        return a
    }

    // MARK: - Strings

    /// `$string`: strings unchanged, functions become "", other values JSON with numbers
    /// at 15 significant digits.
    static func string(_ v: JValue, pretty: Bool = false) throws -> String {
        switch v {
        case .string(let s): return s
        case .function: return ""
        case .number(let d) where !d.isFinite:
            throw JSONataError(code: "D3001", value: v)
        default:
            var value = v
            if case .array(let a) = v, a.outerWrapper, !a.isEmpty { value = a[0] }
            var out = ""
            try writeJSON(value, pretty: pretty, indent: 0, into: &out, inArray: false)
            return out
        }
    }

    /// `JSON.stringify`-like rendering that never fails (for error messages).
    static func stringify(_ v: JValue, pretty: Bool) -> String {
        var out = ""
        try? writeJSON(v, pretty: pretty, indent: 0, into: &out, inArray: false)
        return out
    }

    static func numberString15(_ d: Double) -> String {
        // at most 15 digits written: rounding to 15 significant digits changes nothing
        if d != 0, let plain = NumberText.plainDecimal(d), plain.digitCount <= 15 { return plain.text }
        if d.rounded(.towardZero) == d { return NumberText.js(d) }
        return NumberText.js(NumberText.toPrecision15(d))
    }

    private static func writeJSON(_ v: JValue, pretty: Bool, indent: Int, into out: inout String, inArray: Bool) throws {
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d):
            if d.isNaN {
                out += "null"
            } else if !d.isFinite {
                throw JSONataError(code: "D1001", value: v)
            } else {
                out += numberString15(d)
            }
        case .string(let s): quote(s, into: &out)
        case .function: out += "\"\""
        case .array(let a):
            if a.isEmpty {
                out += "[]"
                return
            }
            if indent == JValue.maximumDepth { throw JValue.tooDeep() }
            out += "["
            for (i, item) in a.items.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: " ", count: (indent + 1) * 2) }
                try writeJSON(item, pretty: pretty, indent: indent + 1, into: &out, inArray: true)
            }
            if pretty { out += "\n" + String(repeating: " ", count: indent * 2) }
            out += "]"
        case .object(let o):
            if o.isEmpty {
                out += "{}"
                return
            }
            if indent == JValue.maximumDepth { throw JValue.tooDeep() }
            out += "{"
            for i in 0..<o.count {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: " ", count: (indent + 1) * 2) }
                quote(o.keys[i], into: &out)
                out += pretty ? ": " : ":"
                try writeJSON(o.values[i], pretty: pretty, indent: indent + 1, into: &out, inArray: false)
            }
            if pretty { out += "\n" + String(repeating: " ", count: indent * 2) }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    static func substring(_ s: String, _ startIn: Double, _ length: Double?) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII: byte offsets are character offsets
            let bytes = s.utf8
            let n = bytes.count
            var start = startIn
            if Double(n) + start < 0 { start = 0 }
            func clamp(_ x: Double) -> Int {
                let t = x.isNaN ? 0 : x.rounded(.towardZero)
                if t < 0 { return max(0, n + Int(max(t, -Double(n) - 1))) }
                return Int(min(t, Double(n)))
            }
            let from = clamp(start)
            var to = n
            if let length {
                if length <= 0 { return "" }
                to = clamp(start >= 0 ? start + length : Double(n) + start + length)
            }
            if from >= to { return "" }
            return String(Substring(bytes[bytes.index(bytes.startIndex, offsetBy: from)..<bytes.index(bytes.startIndex, offsetBy: to)]))
        }
        let chars = Array(s.unicodeScalars)
        let n = chars.count
        var start = startIn
        if Double(n) + start < 0 { start = 0 }
        func clampIndex(_ x: Double) -> Int {
            let t = x.isNaN ? 0 : x.rounded(.towardZero)
            if t < 0 { return max(0, n + Int(max(t, -Double(n) - 1))) }
            return Int(min(t, Double(n)))
        }
        let from = clampIndex(start)
        var to = n
        if let length {
            if length <= 0 { return "" }
            let end = start >= 0 ? start + length : Double(n) + start + length
            to = clampIndex(end)
        }
        if from >= to { return "" }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: chars[from..<to])
        return String(out)
    }

    /// `$trim`: runs of space, tab, line feed and carriage return become one space, and a
    /// leading or trailing space goes. The four are ASCII, and UTF-8 never uses ASCII bytes
    /// inside a multi-byte character, so the work is done on bytes.
    static func trim(_ s: String) -> String {
        String(unsafeUninitializedCapacity: s.utf8.count) { out in
            var n = 0
            var pendingSpace = false
            for b in s.utf8 {
                if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                    pendingSpace = n > 0
                } else {
                    if pendingSpace {
                        out[n] = 0x20
                        n += 1
                    }
                    pendingSpace = false
                    out[n] = b
                    n += 1
                }
            }
            return n
        }
    }

    /// Index of `needle` in `hay` in UTF-16 units, from `from`; nil when absent.
    static func indexOf<T: FixedWidthInteger>(_ hay: [T], _ needle: [T], from: Int) -> Int? {
        if needle.isEmpty { return from <= hay.count ? from : nil }
        if needle.count > hay.count { return nil }
        var i = from
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == needle[0] {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// `indexOf` over UTF-8 buffers.
    static func indexOf(_ hay: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        if needle.isEmpty { return from <= hay.count ? from : nil }
        if needle.count > hay.count { return nil }
        var i = from
        let last = hay.count - needle.count
        let first = needle[0]
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func utf16String(_ units: ArraySlice<UInt16>) -> String { String(decoding: units, as: UTF16.self) }

    // MARK: - Regular expressions

    /// Runs a regex function value from `from` and builds the match object
    /// `{match, start, end, groups, next}` (jsonata-js's `evaluateRegex` closure).
    static func regexMatch(_ r: JSONataRegex, _ s: String, from: Int, evaluator: Evaluator) throws -> JValue? {
        let units = Array(s.utf16)
        return try regexMatch(r, units, from: from, evaluator: evaluator)
    }

    static func regexMatch(_ r: JSONataRegex, _ units: [UInt16], from: Int, evaluator: Evaluator) throws -> JValue? {
        guard let m = try r.firstMatch(in: units, from: from, evaluator: evaluator) else { return nil }
        let o = JObject()
        o.set("match", .string(utf16String(units[m.start..<m.end])))
        o.set("start", .number(Double(m.start)))
        o.set("end", .number(Double(m.end)))
        let groups = JArray()
        for g in m.groups {
            if let g { groups.append(.string(utf16String(units[g.lowerBound..<g.upperBound]))) } else { groups.append(.string("")) }
        }
        o.set("groups", .array(groups))
        // exec with the global flag leaves lastIndex at the end of the match
        let lastIndex = m.end
        o.set("next", .function(JFunction(.closure(arity: 0) { _ in
            if lastIndex >= units.count { return nil }
            let next = try regexMatch(r, units, from: lastIndex, evaluator: evaluator)
            if let n = next?.asObject, case .string(let ms)? = n["match"], ms.isEmpty {
                throw JSONataError(code: "D1004", value: .string(r.source))
            }
            return next
        })))
        return .object(o)
    }

    /// Calls a matcher (a regex or a user function) and checks the object it returns.
    static func evaluateMatcher(_ matcher: JValue?, _ arg: JValue?, _ ctx: inout CallContext) throws -> JObject? {
        let args: [JValue?] = arg.map { [$0] } ?? []
        let result = try ctx.evaluator.apply(matcher, args, nil, ctx.environment)
        guard let result else { return nil }
        guard case .object(let o) = result else { throw JSONataError(code: "T1010") }
        let ok: Bool = {
            if case .number? = o["start"] { return true }
            if case .array? = o["groups"] { return true }
            if case .function? = o["next"] { return true }
            return false
        }()
        if !ok { throw JSONataError(code: "T1010") }
        return o
    }

    static func matchNext(_ m: JObject, _ ctx: inout CallContext) throws -> JObject? {
        try evaluateMatcher(m["next"], nil, &ctx)
    }

    // MARK: - Numbers

    static func roundHalfEven(_ arg: Double, _ precision: Double?) -> Double {
        var value = arg
        let p = precision.map { Int($0.rounded(.towardZero)) } ?? 0
        if p != 0 { value = shiftDecimal(value, p) }
        var result = value.rounded(.down)
        if value - result >= 0.5 { result += 1 }
        let diff = result - value
        if abs(diff) == 0.5 && abs(result.truncatingRemainder(dividingBy: 2)) == 1 {
            result -= 1
        }
        if p != 0 { result = shiftDecimal(result, -p) }
        if result == 0 { result = 0 }
        return result
    }

    /// Moves the decimal point through the number's text, as jsonata-js's `$round` does.
    static func shiftDecimal(_ d: Double, _ places: Int) -> Double {
        let text = NumberText.js(d)
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(of: "e") {
            mantissa = String(text[..<e])
            exponent = Int(text[text.index(after: e)...].replacing("+", with: "")) ?? 0
        }
        return Double("\(mantissa)e\(exponent + places)") ?? d
    }

    static func toNumber(_ v: JValue) throws -> Double {
        switch v {
        case .number(let d): return d
        case .bool(let b): return b ? 1 : 0
        case .string(let s):
            if NumberText.isJSONataNumeral(s), let d = Double(s), d.isFinite { return d }
            let lower = s.lowercased()
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && s.count > 2 {
                if let n = Int64(s.dropFirst(2), radix: radix) { return Double(n) }
            }
            throw JSONataError(code: "D3030", value: v, index: 1)
        default:
            throw JSONataError(code: "D3030", value: v, index: 1)
        }
    }
}
