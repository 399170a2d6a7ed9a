/// Parses JSONPath text into steps, accepting what Jayway's `PathCompiler` accepts (less a
/// few rarities: functions with arguments, `type` and `matches` in filters).
///
/// AWS behaviour: inside `['...']` a backslash protects the next character from ending the
/// name, and the name keeps the backslash: `$['Test\""Name"']` selects the member
/// `Test\""Name"` (case `scenarios.*test_escape_sequence_parsing.ESCAPE_SEQUENCES_JSONPATH*`).
struct JSONPathParser {
    private let bytes: [UInt8]
    private var pos = 0
    private let depth: Int

    /// Nesting limit for filters inside paths inside filters, so that hostile input cannot
    /// exhaust the stack.
    static let maximumDepth = 16

    init(_ text: String, depth: Int = 0) {
        var b = Array(text.utf8)
        // Jayway trims the path.
        while let last = b.last, Self.isWhitespace(last) { b.removeLast() }
        let lead = b.prefix { Self.isWhitespace($0) }.count
        b.removeFirst(lead)
        bytes = b
        self.depth = depth
    }

    static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    private func fail(_ message: String) -> JSONPathError { JSONPathError(message) }

    private var atEnd: Bool { pos >= bytes.count }
    private func peek(_ offset: Int = 0) -> UInt8? { pos + offset < bytes.count ? bytes[pos + offset] : nil }

    private mutating func skipWhitespace() {
        while let c = peek(), Self.isWhitespace(c) { pos += 1 }
    }

    private func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    // MARK: - Paths

    /// Parses the whole text as a path starting at `$` (or `@` when `allowRelative`).
    mutating func parsePath(allowRelative: Bool) throws(JSONPathError) -> (isRelative: Bool, steps: [JSONPath.Step]) {
        guard depth <= Self.maximumDepth else { throw fail("Path nesting too deep") }
        guard let first = peek() else { throw fail("Path must not be empty") }
        let isRelative: Bool
        switch first {
        case UInt8(ascii: "$"): isRelative = false
        case UInt8(ascii: "@") where allowRelative: isRelative = true
        default: throw fail("Path must start with '$'")
        }
        pos += 1
        var steps: [JSONPath.Step] = []
        while let c = peek() {
            if case .function = steps.last { throw fail("A function must be the last step of a path") }
            switch c {
            case UInt8(ascii: "."):
                if peek(1) == UInt8(ascii: ".") {
                    pos += 2
                    guard let target = peek() else { throw fail("Path must not end with a '.' or '..'") }
                    switch target {
                    case UInt8(ascii: "["): steps.append(.scan(try parseBracket()))
                    case UInt8(ascii: "*"):
                        pos += 1
                        steps.append(.scan(.wildcard))
                    case UInt8(ascii: "."): throw fail("Character '.' on position \(pos) is not valid.")
                    default:
                        let step = try parseName()
                        guard case .property = step else { throw fail("Functions cannot follow '..'") }
                        steps.append(.scan(step))
                    }
                } else {
                    pos += 1
                    guard let target = peek() else { throw fail("Path must not end with a '.'") }
                    switch target {
                    case UInt8(ascii: "["): steps.append(try parseBracket())
                    case UInt8(ascii: "*"):
                        pos += 1
                        steps.append(.wildcard)
                    case UInt8(ascii: "."): throw fail("Character '.' on position \(pos) is not valid.")
                    default: steps.append(try parseName())
                    }
                }
            case UInt8(ascii: "["):
                steps.append(try parseBracket())
            default:
                throw fail("Illegal character at position \(pos) expected '.' or '['")
            }
        }
        return (isRelative, steps)
    }

    /// A dot-notation name, or a function call `name()`.
    private mutating func parseName() throws(JSONPathError) -> JSONPath.Step {
        let start = pos
        while let c = peek() {
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "[") || c == UInt8(ascii: "(") { break }
            if Self.isWhitespace(c) {
                throw fail("Use bracket notion ['my prop'] if your property contains blank characters. position: \(pos)")
            }
            pos += 1
        }
        guard pos > start else { throw fail("Empty property at position \(pos)") }
        let name = string(start..<pos)
        if peek() == UInt8(ascii: "(") {
            pos += 1
            skipWhitespace()
            guard peek() == UInt8(ascii: ")") else { throw fail("Function arguments are not supported: \(name)") }
            pos += 1
            guard let function = JSONPath.PathFunction(rawValue: name) else {
                throw fail("Function with name: \(name) does not exist.")
            }
            return .function(function)
        }
        if name == "*" { return .wildcard }
        return .property(name)
    }

    /// `[...]`: filter, wildcard, quoted names, indexes or a slice.
    private mutating func parseBracket() throws(JSONPathError) -> JSONPath.Step {
        let open = pos
        pos += 1
        skipWhitespace()
        guard let c = peek() else { throw fail("Could not parse token starting at position \(open)") }
        switch c {
        case UInt8(ascii: "?"):
            pos += 1
            skipWhitespace()
            guard peek() == UInt8(ascii: "(") else { throw fail("Could not parse token starting at position \(open)") }
            let close = try matchingClose(from: pos)
            let inner = string((pos + 1)..<close)
            pos = close + 1
            skipWhitespace()
            guard peek() == UInt8(ascii: "]") else { throw fail("Filter must end with ')]' at position \(pos)") }
            pos += 1
            var filterParser = FilterParser(inner, depth: depth + 1)
            return .filter(try filterParser.parse())
        case UInt8(ascii: "*"):
            pos += 1
            skipWhitespace()
            guard peek() == UInt8(ascii: "]") else { throw fail("Expected wildcard token to end with ']' on position \(pos)") }
            pos += 1
            return .wildcard
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            var names: [String] = []
            while true {
                skipWhitespace()
                guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                    throw fail("Expected a quoted property at position \(pos)")
                }
                pos += 1
                let start = pos
                var escaped = false
                while let d = peek() {
                    if escaped {
                        escaped = false
                    } else if d == UInt8(ascii: "\\") {
                        escaped = true
                    } else if d == quote {
                        break
                    }
                    pos += 1
                }
                guard peek() == quote else { throw fail("Property has not been closed - missing closing \(Character(UnicodeScalar(quote)))") }
                names.append(string(start..<pos))
                pos += 1
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                guard peek() == UInt8(ascii: "]") else {
                    throw fail("Property must be separated by comma or Property must be terminated close square bracket at index \(pos)")
                }
                pos += 1
                break
            }
            return names.count == 1 ? .property(names[0]) : .properties(names)
        case UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = pos
            while let d = peek(), d != UInt8(ascii: "]") { pos += 1 }
            guard peek() == UInt8(ascii: "]") else { throw fail("Could not parse token starting at position \(open)") }
            let content = string(start..<pos).trimmingWhitespace()
            pos += 1
            if content.contains(":") {
                let parts = content.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("Failed to parse SliceOperation: \(content)") }
                let from = try Self.optionalInt(parts[0], content)
                let to = try Self.optionalInt(parts[1], content)
                guard from != nil || to != nil else { throw fail("Failed to parse SliceOperation: \(content)") }
                return .slice(from: from, to: to)
            }
            var indexes: [Int] = []
            for part in content.split(separator: ",", omittingEmptySubsequences: false) {
                guard let i = Int(part.trimmingWhitespace()) else { throw fail("Failed to parse ArrayIndexOperation: \(content)") }
                indexes.append(i)
            }
            return indexes.count == 1 ? .index(indexes[0]) : .indexes(indexes)
        default:
            throw fail("Could not parse token starting at position \(open)")
        }
    }

    private static func optionalInt(_ s: Substring, _ content: String) throws(JSONPathError) -> Int? {
        let t = s.trimmingWhitespace()
        if t.isEmpty { return nil }
        guard let i = Int(t) else { throw JSONPathError("Failed to parse SliceOperation: \(content)") }
        return i
    }

    /// The index of the `)` that closes the `(` at `open`, skipping quoted strings.
    private func matchingClose(from open: Int) throws(JSONPathError) -> Int {
        var level = 0
        var i = open
        var quote: UInt8? = nil
        var escaped = false
        while i < bytes.count {
            let c = bytes[i]
            if let q = quote {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == q { quote = nil }
            } else if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                quote = c
            } else if c == UInt8(ascii: "(") {
                level += 1
            } else if c == UInt8(ascii: ")") {
                level -= 1
                if level == 0 { return i }
            }
            i += 1
        }
        throw fail("Could not find matching close for ( at position \(open)")
    }
}

// MARK: - Filters

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

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
