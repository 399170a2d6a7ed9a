/// Parses the inside of `[?( ... )]`.
struct FilterParser {
    private let bytes: [UInt8]
    private var pos = 0
    private let depth: Int
    private var nesting = 0

    init(_ text: String, depth: Int) {
        bytes = Array(text.utf8)
        self.depth = depth
    }

    private func fail(_ message: String) -> JSONPathError { JSONPathError("Invalid filter: \(message)") }
    private func peek(_ offset: Int = 0) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }
    private mutating func skipWhitespace() {
        while let c = peek(), JSONPathParser.isWhitespace(c) { pos += 1 }
    }
    private func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    mutating func parse() throws(JSONPathError) -> FilterExpression {
        guard depth <= JSONPathParser.maximumDepth else { throw fail("nesting too deep") }
        let expression = try parseOr()
        skipWhitespace()
        guard pos == bytes.count else { throw fail("unexpected character at position \(pos)") }
        return expression
    }

    private mutating func parseOr() throws(JSONPathError) -> FilterExpression {
        var left = try parseAnd()
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "|"), peek(1) == UInt8(ascii: "|") else { return left }
            pos += 2
            left = .or(left, try parseAnd())
        }
    }

    private mutating func parseAnd() throws(JSONPathError) -> FilterExpression {
        var left = try parseUnary()
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "&"), peek(1) == UInt8(ascii: "&") else { return left }
            pos += 2
            left = .and(left, try parseUnary())
        }
    }

    private mutating func parseUnary() throws(JSONPathError) -> FilterExpression {
        skipWhitespace()
        guard let c = peek() else { throw fail("expected an expression") }
        if c == UInt8(ascii: "!"), peek(1) != UInt8(ascii: "=") {
            pos += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "(") { return .not(try parseParenthesized()) }
            guard case .path(let path) = try parseOperand() else { throw fail("'!' must be followed by a path or '('") }
            return .not(.exists(path))
        }
        if c == UInt8(ascii: "(") { return try parseParenthesized() }
        return try parseRelation()
    }

    private mutating func parseParenthesized() throws(JSONPathError) -> FilterExpression {
        nesting += 1
        guard nesting <= 64 else { throw fail("too many parentheses") }
        pos += 1
        let inner = try parseOr()
        skipWhitespace()
        guard peek() == UInt8(ascii: ")") else { throw fail("expected ')' at position \(pos)") }
        pos += 1
        nesting -= 1
        return inner
    }

    private mutating func parseRelation() throws(JSONPathError) -> FilterExpression {
        let left = try parseOperand()
        skipWhitespace()
        let atBoundary: Bool
        switch peek() {
        case nil, UInt8(ascii: ")"): atBoundary = true
        case UInt8(ascii: "&"): atBoundary = peek(1) == UInt8(ascii: "&")
        case UInt8(ascii: "|"): atBoundary = peek(1) == UInt8(ascii: "|")
        default: atBoundary = false
        }
        if atBoundary {
            guard case .path(let path) = left else { throw fail("a literal alone is not a condition") }
            return .exists(path)
        }
        let op = try parseOperator()
        skipWhitespace()
        let right = try parseOperand()
        if op == .exists || op == .empty {
            guard case .literal(.bool) = right else { throw fail("'\(op.rawValue)' expects true or false") }
        }
        if op == .exists {
            guard case .path = left else { throw fail("'exists' applies to a path") }
        }
        return .relation(left, op, right)
    }

    private mutating func parseOperator() throws(JSONPathError) -> FilterOperator {
        for op in [FilterOperator.typeSafeEqual, .typeSafeNotEqual, .equal, .notEqual, .lessThanOrEqual,
                   .greaterThanOrEqual, .regexMatch, .lessThan, .greaterThan] {
            let symbol = Array(op.rawValue.utf8)
            if pos + symbol.count <= bytes.count, Array(bytes[pos..<(pos + symbol.count)]) == symbol {
                pos += symbol.count
                return op
            }
        }
        let start = pos
        while let c = peek(), (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) {
            pos += 1
        }
        let word = string(start..<pos).lowercased()
        guard let op = FilterOperator(rawValue: word), !op.rawValue.first!.isPunctuation, op.rawValue.first!.isLetter else {
            throw fail("unknown operator at position \(start)")
        }
        return op
    }

    private mutating func parseOperand() throws(JSONPathError) -> FilterOperand {
        skipWhitespace()
        guard let c = peek() else { throw fail("expected a value") }
        switch c {
        case UInt8(ascii: "@"), UInt8(ascii: "$"):
            let start = pos
            var brackets = 0
            var parens = 0
            var quote: UInt8? = nil
            var escaped = false
            scan: while let d = peek() {
                if let q = quote {
                    if escaped { escaped = false } else if d == UInt8(ascii: "\\") { escaped = true } else if d == q { quote = nil }
                    pos += 1
                    continue
                }
                switch d {
                case UInt8(ascii: "'"), UInt8(ascii: "\""): if brackets > 0 { quote = d }
                case UInt8(ascii: "["): brackets += 1
                case UInt8(ascii: "]"): brackets -= 1
                case UInt8(ascii: "("): parens += 1
                case UInt8(ascii: ")"):
                    if parens == 0 && brackets == 0 { break scan }
                    parens -= 1
                case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "="), UInt8(ascii: "~"), UInt8(ascii: "!"),
                     UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: ","):
                    if brackets == 0 && parens == 0 { break scan }
                case 0x20, 0x09, 0x0A, 0x0D:
                    if brackets == 0 && parens == 0 { break scan }
                default: break
                }
                pos += 1
            }
            var parser = JSONPathParser(string(start..<pos), depth: depth + 1)
            let (isRelative, steps) = try parser.parsePath(allowRelative: true)
            return .path(JSONPath(text: string(start..<pos), isRelative: isRelative, steps: steps))
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .literal(.string(try parseStringLiteral()))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = pos
            while let d = peek(), (d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9")) || d == UInt8(ascii: "-")
                || d == UInt8(ascii: "+") || d == UInt8(ascii: ".") || d == UInt8(ascii: "e") || d == UInt8(ascii: "E")
            {
                pos += 1
            }
            let text = string(start..<pos)
            guard let number = try? JSON.parse(text), number.isNumber else { throw fail("invalid number '\(text)'") }
            return .literal(.number(number))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            for (word, value) in [("true", FilterValue.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w {
                    pos += w.count
                    return .literal(value)
                }
            }
            throw fail("unexpected token at position \(pos)")
        case UInt8(ascii: "/"):
            pos += 1
            let start = pos
            var escaped = false
            while let d = peek() {
                if escaped { escaped = false } else if d == UInt8(ascii: "\\") { escaped = true } else if d == UInt8(ascii: "/") { break }
                pos += 1
            }
            guard peek() == UInt8(ascii: "/") else { throw fail("unterminated regular expression") }
            let pattern = string(start..<pos)
            pos += 1
            let flagStart = pos
            while let d = peek(), d >= UInt8(ascii: "a"), d <= UInt8(ascii: "z") { pos += 1 }
            return .literal(.regex(FilterRegex(pattern: pattern, flags: string(flagStart..<pos))))
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return .literal(.json(try parseJSONLiteral()))
        default:
            throw fail("unexpected character at position \(pos)")
        }
    }

    /// A quoted string with Java-style escapes (`\'`, `\"`, `\\`, `\n`, `\uXXXX`, ...).
    private mutating func parseStringLiteral() throws(JSONPathError) -> String {
        let quote = bytes[pos]
        pos += 1
        var out = [UInt8]()
        while let c = peek() {
            pos += 1
            if c == quote { return String(decoding: out, as: UTF8.self) }
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                continue
            }
            guard let e = peek() else { break }
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard pos + 4 <= bytes.count, let v = UInt32(string(pos..<(pos + 4)), radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw fail("invalid unicode escape")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                pos += 4
            default: out.append(e)
            }
        }
        throw fail("unterminated string")
    }

    /// A JSON array or object literal; single-quoted strings are accepted as Jayway's
    /// lenient parser accepts them (`@.kind in ['a','b']`).
    private mutating func parseJSONLiteral() throws(JSONPathError) -> JSON {
        var level = 0
        var out = [UInt8]()
        var quote: UInt8? = nil
        while let c = peek() {
            pos += 1
            if let q = quote {
                if c == UInt8(ascii: "\\") {
                    guard let e = peek() else { break }
                    pos += 1
                    if q == UInt8(ascii: "'"), e == UInt8(ascii: "'") {
                        out.append(e)
                    } else {
                        out.append(c)
                        out.append(e)
                    }
                } else if c == q {
                    out.append(UInt8(ascii: "\""))
                    quote = nil
                } else if c == UInt8(ascii: "\"") {
                    out.append(contentsOf: [UInt8(ascii: "\\"), c])
                } else {
                    out.append(c)
                }
                continue
            }
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                quote = c
                out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                level += 1
                out.append(c)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                level -= 1
                out.append(c)
            default:
                out.append(c)
            }
            if level == 0 { break }
        }
        guard level == 0, quote == nil, let json = try? JSON.parse(bytes: out, maxDepth: 64) else {
            throw fail("invalid JSON literal")
        }
        return json
    }
}
