/// A token of a JSONata expression.
struct Token {
    enum Kind: Equatable {
        case name, variable, op, string, number, value, regex, end
    }
    var kind: Kind
    /// Operator text, name, variable name (without `$`) or string literal content.
    var text: String
    var number: Double = 0
    /// For `.value`: `true`, `false` or `null`.
    var literal: JValue? = nil
    var regex: JSONataRegex? = nil
    var position: Int
}

/// The tokenizer: jsonata-js's `tokenizer`, over Unicode scalars.
struct Lexer {
    let chars: [Unicode.Scalar]
    var position = 0
    var depth = 0

    init(_ source: String) {
        chars = Array(source.unicodeScalars)
    }

    /// Binding powers of the operators; also the set of characters that end a name.
    static let operators: [String: Int] = [
        ".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80,
        ";": 80, ":": 80, "?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 20,
        "=": 40, "<": 40, ">": 40, "^": 40, "**": 60, "..": 20, ":=": 10, "!=": 40, "<=": 40,
        ">=": 40, "~>": 40, "and": 30, "or": 25, "in": 40, "&": 50, "!": 0, "~": 0,
    ]

    static let singleCharOperators: Set<Unicode.Scalar> = [
        ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/",
        "%", "|", "=", "<", ">", "^", "&", "!", "~",
    ]

    @inline(__always) private func at(_ i: Int) -> Unicode.Scalar? { i < chars.count ? chars[i] : nil }

    private func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}"
    }

    /// The next token, or nil at the end.
    ///
    /// - Parameter prefix: true after an operand, where `/` is division rather than the
    ///   start of a regular expression.
    mutating func next(prefix: Bool) throws(JSONataError) -> Token? {
        while position < chars.count, isWhitespace(chars[position]) { position += 1 }
        guard position < chars.count else { return nil }
        var c = chars[position]
        // comments
        if c == "/", at(position + 1) == "*" {
            let start = position
            position += 2
            while true {
                guard position < chars.count else {
                    throw JSONataError(code: "S0106", position: start)
                }
                if chars[position] == "*", at(position + 1) == "/" { break }
                position += 1
            }
            position += 2
            return try next(prefix: prefix)
        }
        if !prefix, c == "/" {
            position += 1
            return try scanRegex()
        }
        let n = at(position + 1)
        func two(_ s: String) -> Token {
            position += 2
            return Token(kind: .op, text: s, position: position)
        }
        if c == ".", n == "." { return two("..") }
        if c == ":", n == "=" { return two(":=") }
        if c == "!", n == "=" { return two("!=") }
        if c == ">", n == "=" { return two(">=") }
        if c == "<", n == "=" { return two("<=") }
        if c == "*", n == "*" { return two("**") }
        if c == "~", n == ">" { return two("~>") }
        if Lexer.singleCharOperators.contains(c) {
            position += 1
            return Token(kind: .op, text: String(Character(c)), position: position)
        }
        // string literals
        if c == "\"" || c == "'" {
            let quote = c
            position += 1
            var units = [UInt16]()
            while position < chars.count {
                c = chars[position]
                if c == "\\" {
                    position += 1
                    guard let e = at(position) else { break }
                    switch e {
                    case "\"": units.append(0x22)
                    case "\\": units.append(0x5C)
                    case "/": units.append(0x2F)
                    case "b": units.append(0x08)
                    case "f": units.append(0x0C)
                    case "n": units.append(0x0A)
                    case "r": units.append(0x0D)
                    case "t": units.append(0x09)
                    case "u":
                        var code: UInt16 = 0
                        var ok = position + 4 < chars.count
                        if ok {
                            for k in 1...4 {
                                guard let h = hexValue(chars[position + k]) else {
                                    ok = false
                                    break
                                }
                                code = code &* 16 &+ UInt16(h)
                            }
                        }
                        guard ok else { throw JSONataError(code: "S0104", position: position) }
                        units.append(code)
                        position += 4
                    default:
                        throw JSONataError(code: "S0103", position: position, token: String(Character(e)))
                    }
                } else if c == quote {
                    position += 1
                    return Token(kind: .string, text: String(decoding: units, as: UTF16.self), position: position)
                } else {
                    units.append(contentsOf: UTF16.encode(c)!)
                }
                position += 1
            }
            throw JSONataError(code: "S0101", position: position)
        }
        // numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)?
        if let end = scanNumber() {
            let text = String(String.UnicodeScalarView(chars[position..<end]))
            let value = Double(text) ?? .nan
            if value.isFinite {
                position = end
                var t = Token(kind: .number, text: text, position: position)
                t.number = value
                return t
            }
            throw JSONataError(code: "S0102", position: position, token: text)
        }
        // quoted names
        if c == "`" {
            position += 1
            var end = position
            while end < chars.count, chars[end] != "`" { end += 1 }
            if end < chars.count {
                let name = String(String.UnicodeScalarView(chars[position..<end]))
                position = end + 1
                return Token(kind: .name, text: name, position: position)
            }
            position = chars.count
            throw JSONataError(code: "S0105", position: position)
        }
        // names and variables
        var i = position
        while i < chars.count {
            let ch = chars[i]
            if isWhitespace(ch) || Lexer.singleCharOperators.contains(ch) { break }
            i += 1
        }
        if chars[position] == "$" {
            let name = String(String.UnicodeScalarView(chars[(position + 1)..<i]))
            position = i
            return Token(kind: .variable, text: name, position: position)
        }
        let name = String(String.UnicodeScalarView(chars[position..<i]))
        position = i
        switch name {
        case "and", "or", "in": return Token(kind: .op, text: name, position: position)
        case "true": return Token(kind: .value, text: name, literal: .bool(true), position: position)
        case "false": return Token(kind: .value, text: name, literal: .bool(false), position: position)
        case "null": return Token(kind: .value, text: name, literal: .null, position: position)
        default:
            if position == chars.count && name.isEmpty { return nil }
            return Token(kind: .name, text: name, position: position)
        }
    }

    private func hexValue(_ c: Unicode.Scalar) -> Int? {
        switch c {
        case "0"..."9": return Int(c.value - 48)
        case "a"..."f": return Int(c.value - 87)
        case "A"..."F": return Int(c.value - 55)
        default: return nil
        }
    }

    private func isDigit(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c >= "0" && c <= "9"
    }

    private func scanNumber() -> Int? {
        var i = position
        if at(i) == "-" { i += 1 }
        guard isDigit(at(i)) else { return nil }
        if at(i) == "0" {
            i += 1
        } else {
            while isDigit(at(i)) { i += 1 }
        }
        if at(i) == ".", isDigit(at(i + 1)) {
            i += 1
            while isDigit(at(i)) { i += 1 }
        }
        if at(i) == "e" || at(i) == "E" {
            var j = i + 1
            if at(j) == "+" || at(j) == "-" { j += 1 }
            if isDigit(at(j)) {
                while isDigit(at(j)) { j += 1 }
                i = j
            }
        }
        return i
    }

    private func isClosingSlash(_ p: Int) -> Bool {
        guard chars[p] == "/", depth == 0 else { return false }
        var backslashes = 0
        while p - (backslashes + 1) >= 0, chars[p - (backslashes + 1)] == "\\" { backslashes += 1 }
        return backslashes % 2 == 0
    }

    private mutating func scanRegex() throws(JSONataError) -> Token {
        let start = position
        while position < chars.count {
            let c = chars[position]
            if isClosingSlash(position) {
                let pattern = String(String.UnicodeScalarView(chars[start..<position]))
                if pattern.isEmpty { throw JSONataError(code: "S0301", position: position) }
                position += 1
                var flags = ""
                while let f = at(position), f == "i" || f == "m" {
                    flags.unicodeScalars.append(f)
                    position += 1
                }
                let regex = try JSONataRegex(pattern: pattern, flags: flags)
                var t = Token(kind: .regex, text: pattern, position: position)
                t.regex = regex
                return t
            }
            let prev: Unicode.Scalar? = position > 0 ? chars[position - 1] : nil
            if (c == "(" || c == "[" || c == "{") && prev != "\\" { depth += 1 }
            if (c == ")" || c == "]" || c == "}") && prev != "\\" { depth -= 1 }
            position += 1
        }
        throw JSONataError(code: "S0302", position: position)
    }
}
