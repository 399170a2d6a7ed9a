/// A function signature such as `<s-nn?:s>`, validating and fixing up arguments.
///
/// jsonata-js compiles a signature into a regular expression over one letter per argument
/// (`s`, `n`, `b`, `l` for null, `a`, `o`, `f`, `m` for undefined); this is the same
/// matcher written out: each parameter is a letter set with a count, matched greedily with
/// backtracking.
struct Signature {
    struct Param {
        var type: Character = " "
        var mask: UInt16 = 0
        var letters: Set<Character> {
            get { Set(Signature.letterOrder.enumerated().filter { (mask >> UInt16($0.offset)) & 1 == 1 }.map(\.element)) }
            set { mask = Signature.mask(newValue) }
        }
        var min = 1
        var max = 1
        var isContext = false
        var contextMask: UInt16 = 0
        var subtype: String?
    }

    private(set) var params: [Param] = []

    static let transform = try! Signature("<(oa):o>")

    init(_ text: String) throws(JSONataError) {
        let chars = Array(text)
        var position = 1
        var param = Param()
        func next() {
            params.append(param)
            param = Param()
        }
        func closing(_ start: Int, _ open: Character, _ close: Character) -> Int {
            var depth = 1
            var p = start
            while p < chars.count - 1 {
                p += 1
                if chars[p] == close {
                    depth -= 1
                    if depth == 0 { break }
                } else if chars[p] == open {
                    depth += 1
                }
            }
            return p
        }
        while position < chars.count {
            let symbol = chars[position]
            if symbol == ":" { break }
            switch symbol {
            case "s", "n", "b", "l", "o":
                param.letters = [symbol, "m"]
                param.type = symbol
                next()
            case "a":
                param.letters = ["a", "s", "n", "b", "l", "f", "o", "m"]
                param.type = symbol
                next()
            case "f":
                param.letters = ["f"]
                param.type = symbol
                next()
            case "j":
                param.letters = ["a", "s", "n", "b", "l", "o", "m"]
                param.type = symbol
                next()
            case "x":
                param.letters = ["a", "s", "n", "b", "l", "f", "o", "m"]
                param.type = symbol
                next()
            case "-":
                if !params.isEmpty {
                    params[params.count - 1].isContext = true
                    params[params.count - 1].contextMask = params[params.count - 1].mask
                    params[params.count - 1].min = 0
                }
            case "?":
                if !params.isEmpty { params[params.count - 1].min = 0 }
            case "+":
                if !params.isEmpty { params[params.count - 1].max = Int.max }
            case "(":
                let end = closing(position, "(", ")")
                let choice = String(chars[(position + 1)..<end])
                if choice.contains("<") {
                    throw JSONataError(code: "S0402", position: position, value: .string(choice))
                }
                param.letters = Set(choice + "m")
                param.type = "("
                position = end
                next()
            case "<":
                if let last = params.last, last.type == "a" || last.type == "f" {
                    let end = closing(position, "<", ">")
                    params[params.count - 1].subtype = String(chars[(position + 1)..<end])
                    position = end
                } else {
                    throw JSONataError(code: "S0401", position: position, value: .string(params.last.map { String($0.type) } ?? ""))
                }
            default:
                break
            }
            position += 1
        }
    }

    static let letterOrder: [Character] = ["m", "f", "s", "n", "b", "l", "a", "o"]

    static func mask(_ letters: Set<Character>) -> UInt16 {
        var m: UInt16 = 0
        for (i, c) in letterOrder.enumerated() where letters.contains(c) { m |= 1 << UInt16(i) }
        return m
    }

    /// The argument's type as a bit index into `letterOrder`.
    @inline(__always) static func code(_ v: JValue?) -> UInt8 {
        guard let v else { return 0 }
        switch v {
        case .function: return 1
        case .string: return 2
        case .number: return 3
        case .bool: return 4
        case .null: return 5
        case .array: return 6
        case .object: return 7
        }
    }

    static func symbol(_ v: JValue?) -> Character {
        guard let v else { return "m" }
        switch v {
        case .function: return "f"
        case .string: return "s"
        case .number: return "n"
        case .bool: return "b"
        case .null: return "l"
        case .array: return "a"
        case .object: return "o"
        }
    }

    /// One greedy pass, without backtracking: decides most calls; false when unsure.
    private func greedy(_ sig: [UInt8], _ counts: inout [Int]) -> Bool {
        var at = 0
        for (i, p) in params.enumerated() {
            if p.max != 1 { return false }
            if at < sig.count && (p.mask >> UInt16(sig[at])) & 1 == 1 {
                counts[i] = 1
                at += 1
            } else if p.min == 0 {
                counts[i] = 0
            } else {
                return false
            }
        }
        return at == sig.count
    }

    /// `validate` for the common case, without the letter and count arrays: every parameter
    /// takes at most one argument and one greedy pass decides the match (as `greedy`).
    ///
    /// - Returns: nil when unsure or when the arguments do not fit; `validate` then takes
    ///   the full path, which gives the same result or the error.
    private func validateGreedily(_ args: [JValue?], context: JValue?) -> [JValue?]? {
        guard params.count <= 64 else { return nil }
        var taken: UInt64 = 0
        var at = 0
        for (i, p) in params.enumerated() {
            if p.max != 1 { return nil }
            if at < args.count && (p.mask >> UInt16(Signature.code(args[at]))) & 1 == 1 {
                taken |= 1 << UInt64(i)
                at += 1
            } else if p.min != 0 {
                return nil
            }
        }
        if at != args.count { return nil }
        var validated: [JValue?] = []
        validated.reserveCapacity(params.count)
        var argIndex = 0
        for (index, param) in params.enumerated() {
            if (taken >> UInt64(index)) & 1 == 0 {
                if param.isContext {
                    guard (param.contextMask >> UInt16(Signature.code(context))) & 1 == 1 else { return nil }
                    validated.append(context)
                } else {
                    validated.append(argIndex < args.count ? args[argIndex] : nil)
                    argIndex += 1
                }
                continue
            }
            var arg = args[argIndex]
            if param.type == "a" {
                switch arg {
                case nil:
                    break
                case .array(let arr)?:
                    if let sub = param.subtype, !arr.isEmpty {
                        let itemType = Signature.symbol(arr[0])
                        if itemType != sub.first || !arr.items.allSatisfy({ Signature.symbol($0) == itemType }) { return nil }
                    }
                case .some(let a):
                    if let sub = param.subtype, String(Signature.symbol(a)) != sub { return nil }
                    arg = .array(JArray([a]))
                }
            }
            validated.append(arg)
            argIndex += 1
        }
        return validated
    }

    /// Greedy backtracking match of `params[from...]` against `sig[at...]`, recording how
    /// many letters each parameter took. With `anchored`, the match must consume everything.
    private func match(_ sig: [UInt8], _ from: Int, _ at: Int, _ upTo: Int, _ anchored: Bool, _ counts: inout [Int]) -> Int? {
        if from == upTo {
            if anchored && at != sig.count { return nil }
            return at
        }
        let p = params[from]
        var n = 0
        while n < p.max && at + n < sig.count && (p.mask >> UInt16(sig[at + n])) & 1 == 1 { n += 1 }
        while n >= p.min {
            counts[from] = n
            if let end = match(sig, from + 1, at + n, upTo, anchored, &counts) { return end }
            n -= 1
        }
        return nil
    }

    /// Checks `args` against the signature and returns them fixed up: a missing argument
    /// marked `-` takes the context value, a non-array passed for an array parameter is
    /// wrapped.
    ///
    /// - Throws: T0410 (argument does not match), T0411 (context value does not fit), T0412
    ///   (array items of the wrong type).
    func validate(_ args: [JValue?], context: JValue?, name: String?) throws -> [JValue?] {
        if let validated = validateGreedily(args, context: context) { return validated }
        let codes = args.map(Signature.code)
        var counts = [Int](repeating: 0, count: params.count)
        if !greedy(codes, &counts), match(codes, 0, 0, params.count, true, &counts) == nil {
            var goodTo = 0
            for i in 0..<params.count {
                var c = [Int](repeating: 0, count: params.count)
                guard let end = match(codes, 0, 0, i + 1, false, &c) else {
                    throw JSONataError(code: "T0410", token: name, value: goodTo < args.count ? args[goodTo] : nil, index: goodTo + 1)
                }
                goodTo = end
            }
            throw JSONataError(code: "T0410", token: name, value: goodTo < args.count ? args[goodTo] : nil, index: goodTo + 1)
        }
        var validated: [JValue?] = []
        validated.reserveCapacity(params.count)
        var argIndex = 0
        for (index, param) in params.enumerated() {
            let n = counts[index]
            if n == 0 {
                if param.isContext {
                    if (param.contextMask >> UInt16(Signature.code(context))) & 1 == 1 {
                        validated.append(context)
                    } else {
                        throw JSONataError(code: "T0411", token: name, value: context, index: argIndex + 1)
                    }
                } else {
                    validated.append(argIndex < args.count ? args[argIndex] : nil)
                    argIndex += 1
                }
                continue
            }
            for k in 0..<n {
                let single: Character = argIndex < codes.count ? Signature.letterOrder[Int(codes[argIndex])] : "m"
                var arg = argIndex < args.count ? args[argIndex] : nil
                if param.type == "a" {
                    if single == "m" {
                        arg = nil
                    } else {
                        var ok = true
                        if let sub = param.subtype {
                            if single != "a" && String(codes[Swift.min(argIndex - k, codes.count)..<Swift.min(argIndex - k + n, codes.count)].map { Signature.letterOrder[Int($0)] }) != sub {
                                ok = false
                            } else if single == "a", case .array(let arr)? = arg, !arr.isEmpty {
                                let itemType = Signature.symbol(arr[0])
                                if itemType != sub.first {
                                    ok = false
                                } else {
                                    ok = arr.items.allSatisfy { Signature.symbol($0) == itemType }
                                }
                            }
                        }
                        if !ok {
                            let typeName: String = ["a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"][param.subtype ?? ""] ?? "values"
                            throw JSONataError(code: "T0412", token: name, value: arg, value2: .string(typeName), index: argIndex + 1)
                        }
                        if single != "a", let a = arg {
                            arg = .array(JArray([a]))
                        }
                    }
                }
                validated.append(arg)
                argIndex += 1
            }
        }
        return validated
    }
}
