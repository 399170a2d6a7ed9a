/// A JSON value whose numbers keep their exact decimal value and their spelling.
///
/// `JSON` turns number literals into `Int64` or `Double`; event patterns must compare numbers
/// exactly as written, so patterns are parsed into this value instead. Objects keep every
/// member in document order, repeated keys included: the pattern compiler applies them in
/// order, so the last occurrence wins as it does in EventBridge's streaming parser.
enum ExactJSON: Sendable {
    case null
    case bool(Bool)
    case number(DecimalNumber, literal: String)
    case string(String)
    case array([ExactJSON])
    case object([(key: String, value: ExactJSON)])

    /// Parses a JSON text, keeping number literals exact. Syntax errors are the same as
    /// `JSON.parse`'s (Jackson's wording).
    static func parse(_ text: String, maxDepth: Int = 512) throws(JSONParseError) -> ExactJSON {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> ExactJSON in
                var parser = JSONParser(buffer: buffer, maxDepth: maxDepth)
                return try parser.parseExactDocument()
            }
        }.get()
    }

    /// The exact form of a `JSON` value. A `.double` becomes the shortest decimal that
    /// round-trips to it, which is the literal as written for any literal a double holds exactly.
    init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(DecimalNumber(i), literal: String(i))
        case .double(let d):
            if let n = DecimalNumber(d) {
                self = .number(n, literal: d.description)
            } else {
                self = .null  // not representable in JSON text either
            }
        case .decimal(let n): self = .number(n.value, literal: n.literal)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(ExactJSON.init))
        case .object(let o): self = .object(o.map { (key: $0.key, value: ExactJSON($0.value)) })
        }
    }

    /// The kind name as EventBridge's messages use it.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSON {
    /// The members of a JSON object text, each value given as its exact source text.
    ///
    /// Lets a caller hand one member (an event pattern, an event) to a parser that keeps
    /// number spellings, without going through the lossy `JSON` number representation.
    ///
    /// - Returns: the members in document order, repeated keys included.
    /// - Throws: `JSONParseError` when the text is not JSON or not an object.
    public static func rawMembers(ofObject text: String) throws(JSONParseError) -> [(key: String, text: String)] {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> [(key: String, text: String)] in
                var parser = JSONParser(buffer: buffer, maxDepth: 512)
                return try parser.parseRawMembers()
            }
        }.get()
    }
}

extension JSONParser {
    mutating func parseExactDocument() throws(JSONParseError) -> ExactJSON {
        skipWhitespace()
        if position >= buffer.count {
            throw error("No content to map due to end-of-input", at: position)
        }
        let value = try parseExactValue()
        skipWhitespace()
        if position < buffer.count {
            throw unexpectedCharacter(at: position, expecting: "expected end-of-input")
        }
        return value
    }

    mutating func parseExactValue() throws(JSONParseError) -> ExactJSON {
        guard position < buffer.count else {
            throw error("Unexpected end-of-input: expected a value", at: position)
        }
        switch buffer[position] {
        case UInt8(ascii: "{"):
            let start = position
            try enter(at: start)
            position += 1
            var members: [(key: String, value: ExactJSON)] = []
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return .object(members)
            }
            while true {
                let key = try parseMemberName(objectStart: start)
                let value = try parseExactValue()
                members.append((key, value))
                if try endOfMember(kind: "Object", start: start) {
                    depth -= 1
                    return .object(members)
                }
            }
        case UInt8(ascii: "["):
            let start = position
            try enter(at: start)
            position += 1
            var elements: [ExactJSON] = []
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "]") {
                position += 1
                depth -= 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                guard position < buffer.count else { throw endOfInput(closing: "Array", start: start) }
                elements.append(try parseExactValue())
                if try endOfMember(kind: "Array", start: start) {
                    depth -= 1
                    return .array(elements)
                }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let (number, literal) = try parseExactNumber()
            return .number(number, literal: literal)
        default:
            // Strings and keywords: the JSON parser's own rules and errors.
            switch try parseValue() {
            case .string(let s): return .string(s)
            case .bool(let b): return .bool(b)
            default: return .null
            }
        }
    }

    /// Reads `"name" :` (with surrounding whitespace) inside an object.
    mutating func parseMemberName(objectStart start: Int) throws(JSONParseError) -> String {
        skipWhitespace()
        guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
        guard buffer[position] == UInt8(ascii: "\"") else {
            throw unexpectedCharacter(at: position, expecting: "was expecting double-quote to start field name")
        }
        let key = try parseString()
        skipWhitespace()
        guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
        guard buffer[position] == UInt8(ascii: ":") else {
            throw unexpectedCharacter(at: position, expecting: "was expecting a colon to separate field name and value")
        }
        position += 1
        skipWhitespace()
        guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
        return key
    }

    /// After a member or element: consumes `,` (returns false) or the closing bracket (returns true).
    mutating func endOfMember(kind: String, start: Int) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard position < buffer.count else { throw endOfInput(closing: kind, start: start) }
        let c = buffer[position]
        if c == UInt8(ascii: ",") {
            position += 1
            return false
        }
        if c == UInt8(ascii: kind == "Object" ? "}" : "]") {
            position += 1
            return true
        }
        throw unexpectedCharacter(at: position, expecting: "was expecting comma to separate \(kind) entries")
    }

    /// A number literal as an exact decimal, validated with the JSON parser's rules.
    mutating func parseExactNumber() throws(JSONParseError) -> (DecimalNumber, String) {
        let start = position
        _ = try scanNumber()
        let bytes = UnsafeBufferPointer(rebasing: buffer[start..<position])
        // scanNumber accepted the literal, so it is in the JSON grammar.
        return (DecimalNumber(utf8: bytes)!, String(decoding: bytes, as: UTF8.self))
    }

    mutating func parseRawMembers() throws(JSONParseError) -> [(key: String, text: String)] {
        skipWhitespace()
        if position >= buffer.count {
            throw error("No content to map due to end-of-input", at: position)
        }
        guard buffer[position] == UInt8(ascii: "{") else {
            throw unexpectedCharacter(at: position, expecting: "expected a JSON object")
        }
        let start = position
        try enter(at: start)
        position += 1
        var members: [(key: String, text: String)] = []
        skipWhitespace()
        if position < buffer.count, buffer[position] == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                let key = try parseMemberName(objectStart: start)
                let valueStart = position
                _ = try parseExactValue()
                members.append((key, String(decoding: UnsafeBufferPointer(rebasing: buffer[valueStart..<position]), as: UTF8.self)))
                if try endOfMember(kind: "Object", start: start) { break }
            }
        }
        skipWhitespace()
        if position < buffer.count {
            throw unexpectedCharacter(at: position, expecting: "expected end-of-input")
        }
        return members
    }
}
