/// A parsed intrinsic function call such as `States.Format('Hello {}', $.name)`.
///
/// Arguments are string literals in single quotes, numbers, `true`, `false`, `null`, paths
/// (`$.x`, `$$.x`, `$var`) and nested calls, separated by commas with optional spaces.
///
/// AWS behaviour:
/// - In a string literal only `\'`, `\{`, `\}` and `\\` are escapes; any other backslash
///   sequence makes the definition invalid (cases
///   `validation.*test_illegal_escapes.ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION*`: `\"`).
///   Raw newlines and unescaped lone braces are fine (`intrinsics.*test_escape_sequence`,
///   `intrinsics.*test_json_merge_escaped_argument`).
/// - An unescaped `{}` in the first argument of `States.Format` is a placeholder; `\{\}` is
///   literal text.
/// - Calls nest up to 10 deep (the outermost call counts as one).
public struct IntrinsicCall: Sendable, Hashable, CustomStringConvertible {
    /// One reference, so that copies are cheap on the evaluation path.
    let storage: Storage

    final class Storage: Sendable {
        let function: IntrinsicFunction
        let arguments: ContiguousArray<IntrinsicArgument>
        let text: String
        init(function: IntrinsicFunction, arguments: ContiguousArray<IntrinsicArgument>, text: String) {
            self.function = function
            self.arguments = arguments
            self.text = text
        }
    }

    public var function: IntrinsicFunction { storage.function }
    var arguments: ContiguousArray<IntrinsicArgument> { storage.arguments }
    /// The call as written.
    public var text: String { storage.text }

    /// How deep calls may nest in one field.
    public static let maximumNesting = 10

    /// Parses `text`, which must be exactly one call.
    ///
    /// - Throws: `JSONPathError` describing the first problem.
    public init(_ text: String) throws(JSONPathError) {
        var parser = IntrinsicParser(text)
        self = try parser.parseWhole()
    }

    init(function: IntrinsicFunction, arguments: [IntrinsicArgument], text: String) {
        storage = Storage(function: function, arguments: ContiguousArray(arguments), text: text)
    }

    public var description: String { text }

    public static func == (a: IntrinsicCall, b: IntrinsicCall) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    var referencesContext: Bool {
        arguments.contains {
            switch $0 {
            case .path(let p): p.referencesContext
            case .call(let c): c.referencesContext
            case .literal, .string: false
            }
        }
    }

    func collectVariableNames(into names: inout Set<String>) {
        for argument in arguments {
            switch argument {
            case .path(let p): p.collectVariableNames(into: &names)
            case .call(let c): c.collectVariableNames(into: &names)
            case .literal, .string: break
            }
        }
    }
}

/// The 18 intrinsic functions.
public enum IntrinsicFunction: String, Sendable, Hashable, CaseIterable {
    case format = "States.Format"
    case stringToJson = "States.StringToJson"
    case jsonToString = "States.JsonToString"
    case array = "States.Array"
    case arrayPartition = "States.ArrayPartition"
    case arrayContains = "States.ArrayContains"
    case arrayRange = "States.ArrayRange"
    case arrayGetItem = "States.ArrayGetItem"
    case arrayLength = "States.ArrayLength"
    case arrayUnique = "States.ArrayUnique"
    case base64Encode = "States.Base64Encode"
    case base64Decode = "States.Base64Decode"
    case hash = "States.Hash"
    case jsonMerge = "States.JsonMerge"
    case mathRandom = "States.MathRandom"
    case mathAdd = "States.MathAdd"
    case stringSplit = "States.StringSplit"
    case uuid = "States.UUID"

    /// How many arguments the function takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .format: 1...Int.max
        case .array: 0...Int.max
        case .uuid: 0...0
        case .stringToJson, .jsonToString, .arrayLength, .arrayUnique, .base64Encode, .base64Decode: 1...1
        case .arrayPartition, .arrayContains, .arrayGetItem, .hash, .mathAdd, .stringSplit: 2...2
        case .arrayRange, .jsonMerge: 3...3
        case .mathRandom: 2...3
        }
    }
}

enum IntrinsicArgument: Sendable {
    /// A number, `true`, `false` or `null`.
    case literal(JSON)
    /// A quoted string: its value, and its pieces for `States.Format` (placeholders apart).
    case string(String, pieces: [FormatPiece])
    case path(PathExpression)
    case call(IntrinsicCall)
}

/// A piece of a `States.Format` template.
enum FormatPiece: Sendable, Hashable {
    case text(String)
    case placeholder
}

// MARK: - Parser

struct IntrinsicParser {
    private let bytes: [UInt8]
    private let text: String
    private var pos = 0

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
    }

    private func fail(_ message: String) -> JSONPathError { JSONPathError("Invalid intrinsic function call: \(message)") }
    private func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }
    private func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
    private mutating func skipSpaces() {
        while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos += 1 }
    }

    mutating func parseWhole() throws(JSONPathError) -> IntrinsicCall {
        let call = try parseCall(nesting: 1)
        guard pos == bytes.count else { throw fail("unexpected text after the call at position \(pos)") }
        return call
    }

    private mutating func parseCall(nesting: Int) throws(JSONPathError) -> IntrinsicCall {
        guard nesting <= IntrinsicCall.maximumNesting else {
            throw fail("more than \(IntrinsicCall.maximumNesting) nested calls")
        }
        let start = pos
        while let c = peek(), c != UInt8(ascii: "(") { pos += 1 }
        let name = string(start..<pos)
        guard let function = IntrinsicFunction(rawValue: name) else { throw fail("unknown function '\(name)'") }
        guard peek() == UInt8(ascii: "(") else { throw fail("expected '(' after \(name)") }
        pos += 1
        var arguments: [IntrinsicArgument] = []
        skipSpaces()
        if peek() == UInt8(ascii: ")") {
            pos += 1
        } else {
            while true {
                skipSpaces()
                arguments.append(try parseArgument(nesting: nesting))
                skipSpaces()
                guard let c = peek() else { throw fail("missing ')'") }
                pos += 1
                if c == UInt8(ascii: ")") { break }
                guard c == UInt8(ascii: ",") else { throw fail("expected ',' or ')' at position \(pos - 1)") }
            }
        }
        guard function.arity.contains(arguments.count) else {
            throw fail("\(name) does not take \(arguments.count) argument(s)")
        }
        return IntrinsicCall(function: function, arguments: arguments, text: string(start..<pos))
    }

    private mutating func parseArgument(nesting: Int) throws(JSONPathError) -> IntrinsicArgument {
        guard let c = peek() else { throw fail("missing argument") }
        switch c {
        case UInt8(ascii: "'"):
            return try parseString()
        case UInt8(ascii: "$"):
            let start = pos
            var brackets = 0
            var parens = 0
            var quote: UInt8? = nil
            var escaped = false
            scan: while let d = peek() {
                if let q = quote {
                    if escaped { escaped = false } else if d == UInt8(ascii: "\\") { escaped = true } else if d == q { quote = nil }
                } else {
                    switch d {
                    case UInt8(ascii: "'"), UInt8(ascii: "\""): if brackets > 0 { quote = d }
                    case UInt8(ascii: "["): brackets += 1
                    case UInt8(ascii: "]"): brackets -= 1
                    case UInt8(ascii: "("): parens += 1
                    case UInt8(ascii: ")"):
                        if brackets == 0 && parens == 0 { break scan }
                        parens -= 1
                    case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D:
                        if brackets == 0 && parens == 0 { break scan }
                    default: break
                    }
                }
                pos += 1
            }
            let pathText = string(start..<pos)
            return .path(try PathExpression(pathText, allowIntrinsics: false))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = pos
            while let d = peek(), (d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9")) || d == UInt8(ascii: "-")
                || d == UInt8(ascii: "+") || d == UInt8(ascii: ".") || d == UInt8(ascii: "e") || d == UInt8(ascii: "E")
            {
                pos += 1
            }
            let literal = string(start..<pos)
            guard let number = try? JSON.parse(literal), number.isNumber else { throw fail("invalid number '\(literal)'") }
            return .literal(number)
        default:
            for (word, value) in [("true", JSON.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w {
                    let after = pos + w.count < bytes.count ? bytes[pos + w.count] : nil
                    if after == nil || after == UInt8(ascii: ",") || after == UInt8(ascii: ")") || after == 0x20 {
                        pos += w.count
                        return .literal(value)
                    }
                }
            }
            if bytes[pos...].starts(with: "States.".utf8) {
                return .call(try parseCall(nesting: nesting + 1))
            }
            throw fail("unexpected character at position \(pos)")
        }
    }

    /// A single-quoted string; see the escape rules on `IntrinsicCall`.
    private mutating func parseString() throws(JSONPathError) -> IntrinsicArgument {
        pos += 1
        var value = [UInt8]()
        var pieces: [FormatPiece] = []
        var pending = [UInt8]()
        func flush() {
            if !pending.isEmpty { pieces.append(.text(String(decoding: pending, as: UTF8.self))) }
            pending.removeAll(keepingCapacity: true)
        }
        while let c = peek() {
            pos += 1
            switch c {
            case UInt8(ascii: "'"):
                flush()
                return .string(String(decoding: value, as: UTF8.self), pieces: pieces)
            case UInt8(ascii: "\\"):
                guard let e = peek() else { throw fail("unterminated string") }
                guard e == UInt8(ascii: "'") || e == UInt8(ascii: "{") || e == UInt8(ascii: "}") || e == UInt8(ascii: "\\") else {
                    throw fail("illegal escape sequence '\\\(Character(UnicodeScalar(e)))' at position \(pos - 1)")
                }
                pos += 1
                value.append(e)
                pending.append(e)
            case UInt8(ascii: "{") where peek() == UInt8(ascii: "}"):
                pos += 1
                value.append(contentsOf: [c, UInt8(ascii: "}")])
                flush()
                pieces.append(.placeholder)
            default:
                value.append(c)
                pending.append(c)
            }
        }
        throw fail("unterminated string")
    }
}
