import StatesCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Array where Element == JValue? {
    @inline(__always) func arg(_ i: Int) -> JValue? { i < count ? self[i] : nil }
    @inline(__always) func string(_ i: Int) -> String? { if case .string(let s)? = arg(i) { s } else { nil } }
    @inline(__always) func number(_ i: Int) -> Double? { if case .number(let d)? = arg(i) { d } else { nil } }
    @inline(__always) func array(_ i: Int) -> JArray? { if case .array(let a)? = arg(i) { a } else { nil } }
}

/// The function tables: the standard library and the Step Functions additions.
enum Library {
    static let standard: [String: JFunction] = {
        var t: [String: JFunction] = [:]
        for b in standardBuiltins { t[b.name] = JFunction(.builtin(b)) }
        return t
    }()

    static let stepFunctions: [String: JFunction] = {
        var t = standard
        for b in stepFunctionsBuiltins { t[b.name] = JFunction(.builtin(b)) }
        return t
    }()

    static func hofArgs(_ fn: JValue?, _ v: JValue, _ i: JValue, _ whole: JValue) -> [JValue?] {
        let arity = fn?.asFunction?.arity ?? 1
        var args: [JValue?] = [v]
        if arity >= 2 { args.append(i) }
        if arity >= 3 { args.append(whole) }
        return args
    }

    /// Case mapping with an ASCII fast path (the full Unicode mapping otherwise).
    static func asciiCase(_ s: String, upper: Bool) -> String {
        if !s.utf8.allSatisfy({ $0 < 0x80 }) { return upper ? s.uppercased() : s.lowercased() }
        let n = s.utf8.count
        return String(unsafeUninitializedCapacity: n) { buffer in
            var i = 0
            for b in s.utf8 {
                if upper, b >= 0x61, b <= 0x7A {
                    buffer[i] = b - 32
                } else if !upper, b >= 0x41, b <= 0x5A {
                    buffer[i] = b + 32
                } else {
                    buffer[i] = b
                }
                i += 1
            }
            return n
        }
    }

    static func call(_ ctx: inout CallContext, _ fn: JValue?, _ args: [JValue?]) throws -> JValue? {
        try ctx.evaluator.apply(fn, args, nil, ctx.environment)
    }

    static func numbers(_ a: JArray) -> [Double] {
        a.items.map { if case .number(let d) = $0 { d } else { .nan } }
    }

    static func strings(_ a: JValue?) -> [String]? {
        switch a {
        case .string(let s)?: return [s]
        case .array(let arr)?:
            var out: [String] = []
            for v in arr.items {
                guard case .string(let s) = v else { return nil }
                out.append(s)
            }
            return out
        default: return nil
        }
    }

    static func clone(_ v: JValue, depth: Int = 0) throws -> JValue? {
        // JSON.parse(JSON.stringify(v)): functions drop out of objects, become null in arrays
        switch v {
        case .array(let a):
            if depth == JValue.maximumDepth { throw JValue.tooDeep() }
            let out = JArray()
            for item in a.items {
                if case .function = item { out.append(.null) } else if let c = try clone(item, depth: depth + 1) { out.append(c) }
            }
            return .array(out)
        case .object(let o):
            if depth == JValue.maximumDepth { throw JValue.tooDeep() }
            let out = JObject(minimumCapacity: o.count)
            for i in 0..<o.count {
                if case .function = o.values[i] { continue }
                if let c = try clone(o.values[i], depth: depth + 1) { out.set(o.keys[i], c) }
            }
            return .object(out)
        case .number(let d) where !d.isFinite:
            if d.isNaN { return .null }
            throw JSONataError(code: "D1001", value: v)
        case .function: return nil
        default: return v
        }
    }

    static func keys(_ v: JValue?) -> [String] {
        switch v {
        case .array(let a)?:
            // the objects of nested arrays count too: flattened first, without recursion
            var items = ContiguousArray<JValue>()
            Evaluator.flatten(a, into: &items)
            var seen = Set<String>()
            var out: [String] = []
            for case .object(let o) in items {
                for k in o.keys where !seen.contains(k) {
                    seen.insert(k)
                    out.append(k)
                }
            }
            return out
        case .object(let o)?: return Array(o.keys)
        default: return []
        }
    }

    static func spread(_ v: JValue?) -> JValue? {
        switch v {
        case .array(let a)?:
            // nested arrays spread their items: flattened first, without recursion
            var items = ContiguousArray<JValue>()
            Evaluator.flatten(a, into: &items)
            var result: JValue? = .array(JArray.sequence())
            for item in items { result = Builtins.append(result, spread(item)) }
            return result
        case .object(let o)?:
            let out = JArray.sequence()
            for i in 0..<o.count {
                let single = JObject()
                single.set(o.keys[i], o.values[i])
                out.append(.object(single))
            }
            return .array(out)
        default: return v
        }
    }

    static func distinct(_ v: JValue?) -> JValue? {
        guard case .array(let a)? = v, a.count > 1 else { return v }
        let out = a.isSequence ? JArray.sequence() : JArray()
        var seenStrings = Set<String>()
        var seenNumbers = Set<Double>()
        var others: [JValue] = []
        for item in a.items {
            switch item {
            case .string(let s):
                if seenStrings.insert(s).inserted { out.append(item) }
            case .number(let d):
                if seenNumbers.insert(d).inserted { out.append(item) }
            default:
                if !others.contains(where: { Builtins.deepEqual($0, item) }) {
                    others.append(item)
                    out.append(item)
                }
            }
        }
        return .array(out)
    }

    // MARK: - The standard library

    static let standardBuiltins: [Builtin] = [
        Builtin("sum", "<a<n>:n>", arity: 1) { _, a in
            guard let arr = a.array(0) else { return nil }
            var total = 0.0
            for d in numbers(arr) { total += d }
            return .number(total)
        },
        Builtin("count", "<a:n>", arity: 1) { _, a in
            guard let arr = a.array(0) else { return .number(0) }
            return .number(Double(arr.count))
        },
        Builtin("max", "<a<n>:n>", arity: 1) { _, a in
            guard let arr = a.array(0), !arr.isEmpty else { return nil }
            return .number(numbers(arr).reduce(-Double.infinity) { Swift.max($0, $1) })
        },
        Builtin("min", "<a<n>:n>", arity: 1) { _, a in
            guard let arr = a.array(0), !arr.isEmpty else { return nil }
            return .number(numbers(arr).reduce(Double.infinity) { Swift.min($0, $1) })
        },
        Builtin("average", "<a<n>:n>", arity: 1) { _, a in
            guard let arr = a.array(0), !arr.isEmpty else { return nil }
            return .number(numbers(arr).reduce(0, +) / Double(arr.count))
        },
        Builtin("string", "<x-b?:s>", arity: 1) { _, a in
            guard let v = a.arg(0) else { return nil }
            var pretty = false
            if case .bool(let b)? = a.arg(1) { pretty = b }
            return .string(try Builtins.string(v, pretty: pretty))
        },
        Builtin("substring", "<s-nn?:s>", arity: 3) { _, a in
            guard let s = a.string(0) else { return nil }
            return .string(Builtins.substring(s, a.number(1) ?? 0, a.number(2)))
        },
        Builtin("substringBefore", "<s-s:s>", arity: 2) { _, a in
            guard let s = a.string(0) else { return nil }
            guard let chars = a.string(1) else { return .string(s) }
            let hay = Array(s.utf8)
            if let i = Builtins.indexOf(hay, Array(chars.utf8), from: 0) {
                return .string(String(decoding: hay[0..<i], as: UTF8.self))
            }
            return .string(s)
        },
        Builtin("substringAfter", "<s-s:s>", arity: 2) { _, a in
            guard let s = a.string(0) else { return nil }
            guard let chars = a.string(1) else { return .string(s) }
            let hay = Array(s.utf8)
            let needle = Array(chars.utf8)
            if let i = Builtins.indexOf(hay, needle, from: 0) {
                return .string(String(decoding: hay[(i + needle.count)...], as: UTF8.self))
            }
            return .string(s)
        },
        Builtin("lowercase", "<s-:s>", arity: 1) { _, a in a.string(0).map { .string(asciiCase($0, upper: false)) } },
        Builtin("uppercase", "<s-:s>", arity: 1) { _, a in a.string(0).map { .string(asciiCase($0, upper: true)) } },
        Builtin("length", "<s-:n>", arity: 1) { _, a in a.string(0).map { .number(Double($0.unicodeScalars.count)) } },
        Builtin("trim", "<s-:s>", arity: 1) { _, a in a.string(0).map { .string(Builtins.trim($0)) } },
        Builtin("pad", "<s-ns?:s>", arity: 3) { _, a in
            guard let s = a.string(0) else { return nil }
            let width = a.number(1) ?? 0
            var padChar = a.string(2) ?? " "
            if padChar.isEmpty { padChar = " " }
            let len = s.unicodeScalars.count
            let padLength = Int(abs(width).rounded(.towardZero)) - len
            guard padLength > 0 else { return .string(s) }
            var padding = String(repeating: padChar, count: padLength)
            if padChar.unicodeScalars.count > 1 { padding = Builtins.substring(padding, 0, Double(padLength)) }
            return .string(width > 0 ? s + padding : padding + s)
        },
        Builtin("match", "<s-f<s:o>n?:a<o>>", arity: 3) { ctx, a in
            guard let s = a.string(0) else { return nil }
            let limit = a.number(2)
            if let limit, limit < 0 { throw JSONataError(code: "D3040", value: .number(limit), index: 3) }
            let result = JArray.sequence()
            if limit == nil || limit! > 0 {
                var count = 0.0
                var m = try Builtins.evaluateMatcher(a.arg(1), .string(s), &ctx)
                while let match = m, limit == nil || count < limit! {
                    let o = JObject()
                    o.set("match", match["match"] ?? .string(""))
                    o.set("index", match["start"] ?? .number(0))
                    o.set("groups", match["groups"] ?? .array(JArray()))
                    result.append(.object(o))
                    m = try Builtins.matchNext(match, &ctx)
                    count += 1
                }
            }
            return .array(result)
        },
        Builtin("contains", "<s-(sf):b>", arity: 2) { ctx, a in
            guard let s = a.string(0) else { return nil }
            if let token = a.string(1) {
                return .bool(Builtins.indexOf(Array(s.utf8), Array(token.utf8), from: 0) != nil)
            }
            return .bool(try Builtins.evaluateMatcher(a.arg(1), .string(s), &ctx) != nil)
        },
        Builtin("replace", "<s-(sf)(sf)n?:s>", arity: 4) { ctx, a in
            try replace(&ctx, a)
        },
        Builtin("split", "<s-(sf)n?:a<s>>", arity: 3) { ctx, a in
            guard let s = a.string(0) else { return nil }
            let limit = a.number(2)
            if let limit, limit < 0 { throw JSONataError(code: "D3020", value: .number(limit), index: 3) }
            let result = JArray()
            guard limit == nil || limit! > 0 else { return .array(result) }
            if let sep = a.string(1) {
                var parts: [String] = []
                if sep.isEmpty {
                    parts = Array(s.utf16).map { Builtins.utf16String([$0][...]) }
                } else {
                    // UTF-8 is self-synchronising: a byte search finds exactly the code-point matches
                    var text = s, separator = sep
                    text.withUTF8 { bytes in
                        separator.withUTF8 { sepBytes in
                            var pos = 0
                            while let i = Builtins.indexOf(bytes, sepBytes, from: pos) {
                                parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[pos..<i]), as: UTF8.self))
                                pos = i + sepBytes.count
                                if let limit, Double(parts.count) >= limit { break }
                            }
                            parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[pos...]), as: UTF8.self))
                        }
                    }
                }
                if let limit { parts = Array(parts.prefix(Int(limit))) }
                result.items.reserveCapacity(parts.count)
                for p in parts { result.append(.string(p)) }
                return .array(result)
            }
            let units = Array(s.utf16)
            var count = 0.0
            var m = try Builtins.evaluateMatcher(a.arg(1), .string(s), &ctx)
            if m == nil {
                result.append(.string(s))
                return .array(result)
            }
            var start = 0
            while let match = m, limit == nil || count < limit! {
                let ms = Int(match["start"].flatMap { if case .number(let d) = $0 { d } else { nil } } ?? 0)
                let me = Int(match["end"].flatMap { if case .number(let d) = $0 { d } else { nil } } ?? 0)
                result.append(.string(Builtins.utf16String(units[min(start, units.count)..<max(min(ms, units.count), min(start, units.count))])))
                start = me
                m = try Builtins.matchNext(match, &ctx)
                count += 1
            }
            if limit == nil || count < limit! {
                result.append(.string(Builtins.utf16String(units[min(start, units.count)...])))
            }
            return .array(result)
        },
        Builtin("join", "<a<s>s?:s>", arity: 2) { _, a in
            guard let arr = a.array(0) else { return nil }
            let sep = a.string(1) ?? ""
            var out = ""
            for (i, item) in arr.items.enumerated() {
                if i > 0 { out += sep }
                if case .string(let s) = item { out += s }
            }
            return .string(out)
        },
        Builtin("formatNumber", "<n-so?:s>", arity: 3) { _, a in
            guard let n = a.number(0) else { return nil }
            return .string(try NumberFormat.formatNumber(n, a.string(1) ?? "", a.arg(2)?.asObject))
        },
        Builtin("formatBase", "<n-n?:s>", arity: 2) { _, a in
            guard let n = a.number(0) else { return nil }
            let value = Builtins.roundHalfEven(n, nil)
            let radix = a.number(1).map { $0 } ?? 10
            if radix < 2 || radix > 36 { throw JSONataError(code: "D3100", value: .number(radix)) }
            let r = Int(radix)
            let neg = value < 0
            var mag = abs(value)
            if mag < 9.0e15 {
                let s = String(Int64(mag), radix: r)
                return .string(neg ? "-" + s : s)
            }
            var digits: [Character] = []
            let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
            while mag >= 1 {
                let d = mag.truncatingRemainder(dividingBy: Double(r))
                digits.append(alphabet[Int(d)])
                mag = (mag - d) / Double(r)
            }
            return .string((neg ? "-" : "") + String(digits.reversed()))
        },
        Builtin("formatInteger", "<n-s:s>", arity: 2) { _, a in
            guard let n = a.number(0) else { return nil }
            return .string(try IntegerFormat.format(n, a.string(1) ?? ""))
        },
        Builtin("parseInteger", "<s-s:n>", arity: 2) { _, a in
            guard let s = a.string(0) else { return nil }
            return try IntegerFormat.parse(s, a.string(1) ?? "").map { .number($0) }
        },
        Builtin("number", "<(nsb)-:n>", arity: 1) { _, a in
            guard let v = a.arg(0) else { return nil }
            return .number(try Builtins.toNumber(v))
        },
        Builtin("floor", "<n-:n>", arity: 1) { _, a in a.number(0).map { .number($0.rounded(.down)) } },
        Builtin("ceil", "<n-:n>", arity: 1) { _, a in a.number(0).map { .number($0.rounded(.up)) } },
        Builtin("round", "<n-n?:n>", arity: 2) { _, a in
            guard let n = a.number(0) else { return nil }
            return .number(Builtins.roundHalfEven(n, a.number(1)))
        },
        Builtin("abs", "<n-:n>", arity: 1) { _, a in a.number(0).map { .number(abs($0)) } },
        Builtin("sqrt", "<n-:n>", arity: 1) { _, a in
            guard let n = a.number(0) else { return nil }
            if n < 0 { throw JSONataError(code: "D3060", value: .number(n), index: 1) }
            return .number(n.squareRoot())
        },
        Builtin("power", "<n-n:n>", arity: 2) { _, a in
            guard let b = a.number(0), let e = a.number(1) else { return nil }
            let r = pow(b, e)
            if !r.isFinite { throw JSONataError(code: "D3061", value: .number(b), value2: .number(e)) }
            return .number(r)
        },
        Builtin("random", "<:n>", arity: 0) { ctx, _ in
            if let rs = ctx.evaluator.random { return .number(rs.nextUnitDouble()) }
            return .number(Double.random(in: 0..<1))
        },
        Builtin("boolean", "<x-:b>", arity: 1) { _, a in Builtins.boolean(a.arg(0)).map { .bool($0) } },
        Builtin("not", "<x-:b>", arity: 1) { _, a in Builtins.boolean(a.arg(0)).map { .bool(!$0) } },
        Builtin("map", "<af>", arity: 2) { ctx, a in
            guard let arr = a.array(0) else { return nil }
            let fn = a.arg(1)
            let result = JArray.sequence()
            result.items.reserveCapacity(arr.count)
            let whole = JValue.array(arr)
            let caller = Evaluator.ItemCaller(ctx.evaluator, fn, environment: ctx.environment)
            for i in 0..<arr.count {
                if let r = try caller.call(arr[i], i, whole) { result.append(r) }
            }
            return .array(result)
        },
        Builtin("zip", "<a+>", arity: 0) { _, a in
            let arrays = a.map { $0?.asArray }
            let length = arrays.map { $0?.count ?? 0 }.min() ?? 0
            let result = JArray()
            for i in 0..<length {
                let tuple = JArray()
                for arr in arrays { tuple.append(arr![i]) }
                result.append(.array(tuple))
            }
            return .array(result)
        },
        Builtin("filter", "<af>", arity: 2) { ctx, a in
            guard let arr = a.array(0) else { return nil }
            let fn = a.arg(1)
            let result = JArray.sequence()
            let whole = JValue.array(arr)
            let caller = Evaluator.ItemCaller(ctx.evaluator, fn, environment: ctx.environment)
            for i in 0..<arr.count {
                let r = try caller.call(arr[i], i, whole)
                if Builtins.boolean(r) == true { result.append(arr[i]) }
            }
            return .array(result)
        },
        Builtin("single", "<af?>", arity: 2) { ctx, a in
            guard let arr = a.array(0) else { return nil }
            let fn = a.arg(1)
            var found: JValue?
            let whole = JValue.array(arr)
            for i in 0..<arr.count {
                var positive = true
                if fn != nil {
                    positive = Builtins.boolean(try call(&ctx, fn, hofArgs(fn, arr[i], .number(Double(i)), whole))) ?? false
                }
                if positive {
                    if found == nil { found = arr[i] } else { throw JSONataError(code: "D3138", index: i) }
                }
            }
            guard let found else { throw JSONataError(code: "D3139") }
            return found
        },
        Builtin("reduce", "<afj?:j>", arity: 3) { ctx, a in
            guard let arr = a.array(0) else { return nil }
            let fn = a.arg(1)
            let arity = fn?.asFunction?.arity ?? 0
            if arity < 2 { throw JSONataError(code: "D3050", index: 1) }
            var result: JValue?
            var index = 0
            if a.arg(2) == nil && arr.count > 0 {
                result = arr[0]
                index = 1
            } else {
                result = a.arg(2)
            }
            while index < arr.count {
                var args: [JValue?] = [result, arr[index]]
                if arity >= 3 { args.append(.number(Double(index))) }
                if arity >= 4 { args.append(.array(arr)) }
                result = try call(&ctx, fn, args)
                index += 1
            }
            return result
        },
        Builtin("sift", "<o-f?:o>", arity: 2) { ctx, a in
            guard case .object(let o)? = a.arg(0) else { return nil }
            let fn = a.arg(1)
            let result = JObject()
            for i in 0..<o.count {
                let r = try call(&ctx, fn, hofArgs(fn, o.values[i], .string(o.keys[i]), .object(o)))
                if Builtins.boolean(r) == true { result.set(o.keys[i], o.values[i]) }
            }
            return result.isEmpty ? nil : .object(result)
        },
        Builtin("keys", "<x-:a<s>>", arity: 1) { _, a in
            let out = JArray.sequence()
            for k in keys(a.arg(0)) { out.append(.string(k)) }
            return .array(out)
        },
        Builtin("lookup", "<x-s:x>", arity: 2) { _, a in
            guard let k = a.string(1) else { return nil }
            return Evaluator.lookup(a.arg(0), k)
        },
        Builtin("append", "<xx:a>", arity: 2) { _, a in Builtins.append(a.arg(0), a.arg(1)) },
        Builtin("exists", "<x:b>", arity: 1) { _, a in .bool(a.arg(0) != nil) },
        Builtin("spread", "<x-:a<o>>", arity: 1) { _, a in spread(a.arg(0)) },
        Builtin("merge", "<a<o>:o>", arity: 1) { _, a in
            guard let arr = a.array(0) else { return nil }
            let result = JObject()
            for v in arr.items {
                guard case .object(let o) = v else { continue }
                for i in 0..<o.count { result.set(o.keys[i], o.values[i]) }
            }
            return .object(result)
        },
        Builtin("reverse", "<a:a>", arity: 1) { _, a in
            guard let arr = a.array(0) else { return nil }
            if arr.count <= 1 { return .array(arr) }
            return .array(JArray(ContiguousArray(arr.items.reversed())))
        },
        Builtin("each", "<o-f:a>", arity: 2) { ctx, a in
            let result = JArray.sequence()
            guard case .object(let o)? = a.arg(0) else { return .array(result) }
            let fn = a.arg(1)
            for i in 0..<o.count {
                if let r = try call(&ctx, fn, hofArgs(fn, o.values[i], .string(o.keys[i]), .object(o))) { result.append(r) }
            }
            return .array(result)
        },
        Builtin("error", "<s?:x>", arity: 1) { _, a in
            throw JSONataError(code: "D3137", message: a.string(0) ?? "$error() function evaluated")
        },
        Builtin("assert", "<bs?:x>", arity: 2) { _, a in
            if case .bool(true)? = a.arg(0) { return nil }
            throw JSONataError(code: "D3141", message: a.string(1) ?? "$assert() statement failed")
        },
        Builtin("type", "<x:s>", arity: 1) { _, a in
            guard let v = a.arg(0) else { return nil }
            switch v {
            case .null: return .string("null")
            case .number: return .string("number")
            case .string: return .string("string")
            case .bool: return .string("boolean")
            case .array: return .string("array")
            case .function: return .string("function")
            case .object: return .string("object")
            }
        },
        Builtin("sort", "<af?:a>", arity: 2) { ctx, a in
            guard let arr = a.array(0) else { return nil }
            if arr.count <= 1 { return .array(arr) }
            let sorted: [JValue]
            if let fn = a.arg(1) {
                var c = ctx
                sorted = try Builtins.mergeSort(Array(arr.items)) { x, y in
                    try c.evaluator.tick()
                    return Builtins.truthy(try call(&c, fn, [x, y]))
                }
            } else {
                if arr.items.allSatisfy({ if case .number = $0 { true } else { false } }) {
                    sorted = try Builtins.mergeSort(Array(arr.items)) { x, y in
                        if case .number(let p) = x, case .number(let q) = y { return p > q }
                        return false
                    }
                } else if arr.items.allSatisfy({ if case .string = $0 { true } else { false } }) {
                    sorted = try Builtins.mergeSort(Array(arr.items)) { x, y in
                        if case .string(let p) = x, case .string(let q) = y { return Builtins.utf16Less(q, p) }
                        return false
                    }
                } else {
                    throw JSONataError(code: "D3070", index: 1)
                }
            }
            return .array(JArray(ContiguousArray(sorted)))
        },
        Builtin("shuffle", "<a:a>", arity: 1) { ctx, a in
            guard let arr = a.array(0) else { return nil }
            if arr.count <= 1 { return .array(arr) }
            var items = Array(arr.items)
            for i in stride(from: items.count - 1, to: 0, by: -1) {
                let r = ctx.evaluator.random?.nextUnitDouble() ?? Double.random(in: 0..<1)
                let j = Int(r * Double(i + 1))
                items.swapAt(i, j)
            }
            return .array(JArray(ContiguousArray(items)))
        },
        Builtin("distinct", "<x:x>", arity: 1) { _, a in distinct(a.arg(0)) },
        Builtin("base64encode", "<s-:s>", arity: 1) { _, a in
            a.string(0).map { .string(Base64.encode(Array($0.utf8))) }
        },
        Builtin("base64decode", "<s-:s>", arity: 1) { _, a in
            a.string(0).map { .string(String(decoding: Base64.decodeLenient($0), as: UTF8.self)) }
        },
        Builtin("encodeUrlComponent", "<s-:s>", arity: 1) { _, a in
            guard let s = a.string(0) else { return nil }
            return .string(try URLCoding.encode(s, keep: URLCoding.componentUnreserved, name: "encodeUrlComponent"))
        },
        Builtin("encodeUrl", "<s-:s>", arity: 1) { _, a in
            guard let s = a.string(0) else { return nil }
            return .string(try URLCoding.encode(s, keep: URLCoding.uriUnreserved, name: "encodeUrl"))
        },
        Builtin("decodeUrlComponent", "<s-:s>", arity: 1) { _, a in
            guard let s = a.string(0) else { return nil }
            return .string(try URLCoding.decode(s, reserved: [], name: "decodeUrlComponent"))
        },
        Builtin("decodeUrl", "<s-:s>", arity: 1) { _, a in
            guard let s = a.string(0) else { return nil }
            return .string(try URLCoding.decode(s, reserved: URLCoding.uriReserved, name: "decodeUrl"))
        },
        Builtin("toMillis", "<s-s?:n>", arity: 2) { ctx, a in
            guard let s = a.string(0) else { return nil }
            return try DateTime.toMillis(s, picture: a.string(1), now: ctx.evaluator.timestamp ?? 0).map { .number($0) }
        },
        Builtin("fromMillis", "<n-s?s?:s>", arity: 3) { _, a in
            guard let n = a.number(0) else { return nil }
            return .string(try DateTime.fromMillis(n, picture: a.string(1), timezone: a.string(2)))
        },
        Builtin("clone", "<(oa)-:o>", arity: 1) { _, a in
            guard let v = a.arg(0) else { return nil }
            return try clone(v)
        },
        Builtin("now", "<s?s?:s>", arity: 2) { ctx, a in
            let ms = ctx.evaluator.timestamp ?? 0
            return .string(try DateTime.fromMillis(ms, picture: a.string(0), timezone: a.string(1)))
        },
        Builtin("millis", "<:n>", arity: 0) { ctx, _ in .number(ctx.evaluator.timestamp ?? 0) },
    ]

    static func replace(_ ctx: inout CallContext, _ a: [JValue?]) throws -> JValue? {
        guard let s = a.string(0) else { return nil }
        let pattern = a.arg(1)
        if case .string("")? = pattern { throw JSONataError(code: "D3010", value: pattern, index: 2) }
        let limit = a.number(3)
        if let limit, limit < 0 { throw JSONataError(code: "D3011", value: .number(limit), index: 4) }
        guard limit == nil || limit! > 0 else { return .string(s) }
        let units = Array(s.utf16)
        let replacement = a.arg(2)
        var count = 0.0
        if case .string(let p)? = pattern {
            let pu = Array(p.utf16)
            let rep: String
            if case .string(let r)? = replacement { rep = r } else { rep = "" }
            var out = [UInt16]()
            var pos = 0
            while let i = Builtins.indexOf(units, pu, from: pos), limit == nil || count < limit! {
                out.append(contentsOf: units[pos..<i])
                out.append(contentsOf: rep.utf16)
                pos = i + pu.count
                count += 1
            }
            out.append(contentsOf: units[pos...])
            return .string(String(decoding: out, as: UTF16.self))
        }
        var m = try Builtins.evaluateMatcher(pattern, .string(s), &ctx)
        guard m != nil else { return .string(s) }
        var out = [UInt16]()
        var pos = 0
        while let match = m, limit == nil || count < limit! {
            let start = Int(match["start"].flatMap { if case .number(let d) = $0 { d } else { nil } } ?? 0)
            let matched = match["match"]?.asString ?? ""
            if start > pos && start <= units.count { out.append(contentsOf: units[pos..<start]) }
            let replaced: JValue?
            if case .string(let r)? = replacement {
                replaced = .string(substitute(r, match: match))
            } else {
                replaced = try call(&ctx, replacement, [.object(match)])
            }
            guard case .string(let rs)? = replaced else {
                throw JSONataError(code: "D3012", value: replaced)
            }
            out.append(contentsOf: rs.utf16)
            pos = start + matched.utf16.count
            count += 1
            m = try Builtins.matchNext(match, &ctx)
        }
        if pos < units.count { out.append(contentsOf: units[pos...]) }
        return .string(String(decoding: out, as: UTF16.self))
    }

    /// `$n` substitution in a replacement string, as jsonata-js does it.
    static func substitute(_ replacement: String, match: JObject) -> String {
        let r = Array(replacement.utf16)
        var groups: [String] = []
        if case .array(let g)? = match["groups"] { groups = g.items.map { $0.asString ?? "" } }
        let matched = match["match"]?.asString ?? ""
        var out = [UInt16]()
        var position = 0
        func next(_ from: Int) -> Int? { r[from...].firstIndex(of: 0x24) }
        var index = next(position)
        while let i = index, position < r.count {
            out.append(contentsOf: r[position..<i])
            position = i + 1
            let dollar: UInt16? = position < r.count ? r[position] : nil
            if dollar == 0x24 {
                out.append(0x24)
                position += 1
            } else if dollar == 0x30 {
                out.append(contentsOf: matched.utf16)
                position += 1
            } else {
                let maxDigits = groups.isEmpty ? 1 : Int((log10(Double(groups.count))).rounded(.down)) + 1
                func parseDigits(_ n: Int) -> Int? {
                    var v = 0
                    var k = 0
                    while k < n, position + k < r.count, r[position + k] >= 0x30, r[position + k] <= 0x39 {
                        v = v * 10 + Int(r[position + k] - 0x30)
                        k += 1
                    }
                    return k == 0 ? nil : v
                }
                var gi = parseDigits(maxDigits)
                if maxDigits > 1, let g = gi, g > groups.count { gi = parseDigits(maxDigits - 1) }
                if let g = gi {
                    if !groups.isEmpty, g >= 1, g <= groups.count { out.append(contentsOf: groups[g - 1].utf16) }
                    position += String(g).count
                } else {
                    out.append(0x24)
                }
            }
            index = position < r.count ? next(position) : nil
        }
        if position < r.count { out.append(contentsOf: r[position...]) }
        return String(decoding: out, as: UTF16.self)
    }

    // MARK: - Step Functions additions

    static let stepFunctionsBuiltins: [Builtin] = [
        Builtin("partition", "<an:a>", arity: 2) { _, a in
            guard let arr = a.array(0), let size = a.number(1) else { return nil }
            guard size >= 1, size.rounded(.towardZero) == size else {
                throw JSONataError(code: "D3030", message: "The size argument of $partition must be a positive integer")
            }
            let n = Int(size)
            let out = JArray()
            var i = 0
            while i < arr.count {
                out.append(.array(JArray(ContiguousArray(arr.items[i..<min(i + n, arr.count)]))))
                i += n
            }
            return .array(out)
        },
        Builtin("range", "<nnn?:a>", arity: 3) { ctx, a in
            guard let start = a.number(0), let end = a.number(1) else { return nil }
            let step = a.number(2) ?? 1
            guard step != 0, step.isFinite else {
                throw JSONataError(code: "D3030", message: "The step argument of $range must be a non-zero number")
            }
            // AWS behaviour: $range returns a sequence, so a single number comes out alone
            // ($range(1, 9, 9) is 1; case intrinsic_functions.test_array_jsonata ... resp_2).
            let out = JArray.sequence()
            var v = start
            while step > 0 ? v <= end : v >= end {
                if out.count >= 10_000_000 { throw JSONataError(code: "D2014", value: .number(Double(out.count))) }
                out.append(.number(v))
                v += step
                if out.count & 4095 == 0 { try ctx.evaluator.tick(512) }
            }
            return .array(out)
        },
        Builtin("hash", "<s-s?:s>", arity: 2) { _, a in
            guard let s = a.string(0) else { return nil }
            let algorithm = a.string(1) ?? "SHA-256"
            guard let digest = Digest.Algorithm(rawValue: algorithm).map({ Digest.hex(Digest.hash(Array(s.utf8), using: $0)) }) else {
                throw JSONataError(code: "D3030", message: "Unsupported hash algorithm: \(algorithm); use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
            }
            return .string(digest)
        },
        Builtin("random", "<n?:n>", arity: 1) { ctx, a in
            if let seed = a.number(0) {
                return .number(RandomSource(seed: UInt64(bitPattern: Int64(seed.isFinite ? seed.rounded(.towardZero) : 0))).nextUnitDouble())
            }
            if let rs = ctx.evaluator.random { return .number(rs.nextUnitDouble()) }
            return .number(Double.random(in: 0..<1))
        },
        Builtin("uuid", "<:s>", arity: 0) { ctx, _ in
            .string((ctx.evaluator.random ?? RandomSource()).uuidString())
        },
        Builtin("parse", "<s-:x>", arity: 1) { _, a in
            guard let s = a.string(0) else { return nil }
            do {
                return JValue(json: try JSON.parse(s))
            } catch {
                throw JSONataError(code: "D3030", message: "$parse: the argument is not valid JSON: \(error)")
            }
        },
    ]
}
