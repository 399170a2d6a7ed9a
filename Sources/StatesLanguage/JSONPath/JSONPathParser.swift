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

    /// How many steps a path may have. A path is a string, so only its length bounds it
    /// otherwise; a step that does not go down a level (a filter applied to an object)
    /// still deepens the evaluation, and no JSON value nests deeper than 512 levels.
    static let maximumSteps = 512

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
            if steps.count == Self.maximumSteps { throw fail("Path has more than \(Self.maximumSteps) steps") }
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

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
