/// What an input transformer reads: a Kafka record that matched a trigger rule.
public struct TransformInput: Sendable {
    /// The record value: the event the rule's pattern matched.
    public var value: JSON
    /// The record key, decoded as UTF-8; `nil` when the record has none.
    public var key: String?
    /// The record headers in order, values decoded as UTF-8. A repeated name keeps its last value.
    public var headers: [(name: String, value: String)]
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record timestamp in milliseconds since the Unix epoch, when it has one.
    public var timestampMilliseconds: Int64?
    /// The trigger rule's name and ARN (`<aws.events.rule-name>`, `<aws.events.rule-arn>`).
    public var ruleName: String
    public var ruleARN: String

    public init(
        value: JSON, key: String? = nil, headers: [(name: String, value: String)] = [], topic: String,
        partition: Int32 = 0, offset: Int64 = 0, timestampMilliseconds: Int64? = nil, ruleName: String = "",
        ruleARN: String = ""
    ) {
        self.value = value
        self.key = key
        self.headers = headers
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMilliseconds = timestampMilliseconds
        self.ruleName = ruleName
        self.ruleARN = ruleARN
    }

    /// The record envelope that `$$` paths read:
    /// `{"topic", "partition", "offset", "timestamp", "key", "headers": {name: value}, "value"}`.
    public var envelope: JSON {
        var headerObject = JSONObject()
        for h in headers { headerObject[h.name] = .string(h.value) }
        return [
            "topic": .string(topic), "partition": .int(Int64(partition)), "offset": .int(offset),
            "timestamp": timestampMilliseconds.map { .int($0) } ?? .null, "key": key.map { .string($0) } ?? .null,
            "headers": .object(headerObject), "value": value,
        ]
    }
}

/// The result of an input transformer: JSON when the template is JSON, text otherwise.
public enum TransformOutput: Sendable, Equatable {
    case json(JSON)
    case text(String)

    /// The execution input: the JSON, or the text as a JSON string.
    public var asJSON: JSON {
        switch self {
        case .json(let j): j
        case .text(let s): .string(s)
        }
    }
}

/// A transformer definition EventBridge (and so Stepline) refuses, with the reason.
public struct InputTransformerError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// EventBridge's input transformer: named values picked from the event by paths
/// (`InputPathsMap`), substituted into a template (`InputTemplate`) at `<name>` placeholders.
///
/// Paths: `$` is the record value (the event), as in EventBridge (`$.detail.state`,
/// `$.resources[0]`, `$['odd key']`). `$$` is the Kafka record around it, a Stepline
/// addition: `$$.topic`, `$$.partition`, `$$.offset`, `$$.timestamp` (milliseconds),
/// `$$.key`, `$$.headers.<name>`, `$$.headers`, `$$.value`.
///
/// Predefined placeholders, usable without a paths map: `<aws.events.event>` and
/// `<aws.events.event.json>` (the whole event), `<aws.events.rule-name>`,
/// `<aws.events.rule-arn>`, `<aws.events.event.ingestion-time>` (the record timestamp, ISO 8601).
///
/// Substitution, when the template is JSON (once every placeholder outside quotes is read as
/// a value):
/// - outside quotes, the value is inserted as JSON (`{"n": <count>}` → `{"n": 3}`); a missing
///   path gives `null`;
/// - inside quotes, a string is inserted as escaped string content (`"id: <id>"`), any other
///   value as its JSON text with its quotes removed (AWS behaviour: EventBridge removes the
///   inner quotes of an object or array placed in a string); a missing path gives nothing.
///
/// Otherwise the template is text and the output is text: strings are inserted as they are,
/// other values as JSON, missing paths as nothing.
///
/// AWS behaviour: EventBridge does not escape a string inserted between quotes, so a value
/// holding `"` breaks its output; Stepline escapes it and the output stays valid JSON.
public struct InputTransformer: Sendable {
    /// The reserved prefix of predefined placeholders.
    static let reservedPrefix = "aws.events."
    static let predefined: Set<String> = [
        "aws.events.event", "aws.events.event.json", "aws.events.rule-name", "aws.events.rule-arn",
        "aws.events.event.ingestion-time",
    ]

    public let pathsMap: [(name: String, path: String)]
    public let template: String
    let paths: [String: InputPath]
    let pieces: [TemplatePiece]
    let isJSONTemplate: Bool

    /// Validates a transformer.
    ///
    /// - Parameters:
    ///   - pathsMap: placeholder names and their paths (at most 100; names of letters, digits,
    ///     `_`, `-` and `.`, not starting with `aws.events.`).
    ///   - template: the `InputTemplate`.
    /// - Throws: `InputTransformerError` naming the bad entry.
    public init(pathsMap: [(name: String, path: String)] = [], template: String) throws(InputTransformerError) {
        guard pathsMap.count <= 100 else {
            throw InputTransformerError(reason: "InputPathsMap has \(pathsMap.count) entries; at most 100 are allowed")
        }
        var paths: [String: InputPath] = [:]
        for (name, path) in pathsMap {
            guard !name.isEmpty, name.utf8.count <= 256, name.utf8.allSatisfy(Self.isNameByte) else {
                throw InputTransformerError(reason: "InputPathsMap key \"\(name)\" must be 1 to 256 letters, digits, '_', '-' or '.'")
            }
            guard !name.lowercased().hasPrefix(Self.reservedPrefix) else {
                throw InputTransformerError(reason: "InputPathsMap key \"\(name)\" uses the reserved prefix aws.events.")
            }
            guard paths[name] == nil else {
                throw InputTransformerError(reason: "InputPathsMap key \"\(name)\" is given twice")
            }
            paths[name] = try InputPath(path)
        }
        self.pathsMap = pathsMap
        self.template = template
        self.paths = paths
        pieces = Self.split(template, names: Set(paths.keys).union(Self.predefined))
        // A JSON template is one that is JSON once each value placeholder reads as a value.
        var skeleton = ""
        for piece in pieces {
            switch piece {
            case .literal(let s): skeleton += s
            case .placeholder(_, let inString): skeleton += inString ? "" : "null"
            }
        }
        isJSONTemplate = (try? JSON.parse(skeleton)) != nil
    }

    /// Validates a transformer whose paths map comes as a dictionary (as in a configuration
    /// file or an EventBridge `PutTargets` request); names are taken in sorted order.
    public init(pathsMap: [String: String], template: String) throws(InputTransformerError) {
        try self.init(pathsMap: pathsMap.sorted { $0.key < $1.key }.map { (name: $0.key, path: $0.value) }, template: template)
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    /// Whether a path reads the record field `name` of the envelope (`$$.key`, or all of
    /// `$$`): a field the caller cannot decode matters only then.
    public func readsRecordField(_ name: String) -> Bool {
        paths.values.contains { path in
            guard path.isEnvelope else { return false }
            guard let first = path.steps.first else { return true }
            if case .member(let m) = first { return m == name }
            return false
        }
    }

    /// Applies the transformer to one record.
    ///
    /// - Throws: `InputTransformerError` if a JSON template somehow yields invalid JSON (it
    ///   cannot with escaped substitution; kept as a guard rather than a trap).
    public func apply(to input: TransformInput) throws(InputTransformerError) -> TransformOutput {
        var envelope: JSON?
        var out = [UInt8]()
        out.reserveCapacity(template.utf8.count + 64)
        for piece in pieces {
            switch piece {
            case .literal(let s):
                out.append(contentsOf: s.utf8)
            case .placeholder(let name, let inString):
                let value = resolve(name, input, &envelope)
                if isJSONTemplate {
                    if inString {
                        Self.appendStringContent(value, to: &out)
                    } else if let value {
                        value.write(to: &out)
                    } else {
                        out.append(contentsOf: "null".utf8)
                    }
                } else if let value {
                    if case .string(let s) = value { out.append(contentsOf: s.utf8) } else { value.write(to: &out) }
                }
            }
        }
        let text = String(decoding: out, as: UTF8.self)
        guard isJSONTemplate else { return .text(text) }
        do {
            return .json(try JSON.parse(text))
        } catch {
            throw InputTransformerError(reason: "InputTemplate did not produce valid JSON: \(error)")
        }
    }

    func resolve(_ name: String, _ input: TransformInput, _ envelope: inout JSON?) -> JSON? {
        switch name {
        case "aws.events.event", "aws.events.event.json": return input.value
        case "aws.events.rule-name": return .string(input.ruleName)
        case "aws.events.rule-arn": return .string(input.ruleARN)
        case "aws.events.event.ingestion-time":
            return input.timestampMilliseconds.map { .string(Self.iso8601(milliseconds: $0)) } ?? .null
        default:
            guard let path = paths[name] else { return nil }
            if path.isEnvelope {
                if envelope == nil { envelope = input.envelope }
                return path.evaluate(on: envelope!)
            }
            return path.evaluate(on: input.value)
        }
    }

    /// A value placed between quotes: escaped string content.
    static func appendStringContent(_ value: JSON?, to out: inout [UInt8]) {
        guard let value else { return }
        var quoted = [UInt8]()
        switch value {
        case .string(let s):
            JSONStringFormat.append(s, to: &quoted)
        case .object, .array:
            // AWS behaviour: the inner quotes of an object or array are removed.
            let raw = value.serialized().filter { $0 != "\"" }
            JSONStringFormat.append(raw, to: &quoted)
        default:
            JSONStringFormat.append(value.serialized(), to: &quoted)
        }
        out.append(contentsOf: quoted.dropFirst().dropLast())
    }

    enum TemplatePiece: Sendable {
        case literal(String)
        case placeholder(String, inString: Bool)
    }

    /// Splits a template at the placeholders it names, noting whether each sits inside a
    /// JSON string. `<word>` that names nothing stays text.
    static func split(_ template: String, names: Set<String>) -> [TemplatePiece] {
        let bytes = Array(template.utf8)
        var pieces: [TemplatePiece] = []
        var literalStart = 0
        var inString = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\\"), inString {
                i += 2
                continue
            }
            if c == UInt8(ascii: "\"") {
                inString.toggle()
                i += 1
                continue
            }
            if c == UInt8(ascii: "<") {
                var j = i + 1
                while j < bytes.count, isNameByte(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: ">"), j > i + 1 {
                    let name = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
                    if names.contains(name) {
                        if literalStart < i {
                            pieces.append(.literal(String(decoding: bytes[literalStart..<i], as: UTF8.self)))
                        }
                        pieces.append(.placeholder(name, inString: inString))
                        i = j + 1
                        literalStart = i
                        continue
                    }
                }
            }
            i += 1
        }
        if literalStart < bytes.count {
            pieces.append(.literal(String(decoding: bytes[literalStart...], as: UTF8.self)))
        }
        return pieces
    }

    /// `2024-05-06T07:08:09Z` (UTC, whole seconds, as EventBridge writes event times).
    static func iso8601(milliseconds: Int64) -> String {
        Timestamp(millisecondsSinceEpoch: milliseconds).formatted(fractionDigits: 0)
    }
}

/// A path of an `InputPathsMap`: `$` (the event) or `$$` (the record) followed by
/// `.name`, `['name']`, `["name"]` or `[index]` steps.
struct InputPath: Sendable {
    enum Step: Sendable {
        case member(String)
        case index(Int)
    }

    let isEnvelope: Bool
    let steps: [Step]

    init(_ text: String) throws(InputTransformerError) {
        let bytes = Array(text.utf8)
        func invalid(_ why: String) -> InputTransformerError {
            InputTransformerError(reason: "InputPathsMap path \"\(text)\" is not valid: \(why)")
        }
        guard bytes.first == UInt8(ascii: "$") else { throw invalid("it must start with $") }
        var i = 1
        isEnvelope = bytes.count > 1 && bytes[1] == UInt8(ascii: "$")
        if isEnvelope { i = 2 }
        var steps: [Step] = []
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: ".") {
                var j = i + 1
                while j < bytes.count, bytes[j] != UInt8(ascii: "."), bytes[j] != UInt8(ascii: "[") { j += 1 }
                guard j > i + 1 else { throw invalid("empty name at offset \(i)") }
                steps.append(.member(String(decoding: bytes[(i + 1)..<j], as: UTF8.self)))
                i = j
            } else if bytes[i] == UInt8(ascii: "[") {
                guard let close = bytes[i...].firstIndex(of: UInt8(ascii: "]")) else { throw invalid("unclosed [") }
                let inner = bytes[(i + 1)..<close]
                if let q = inner.first, q == UInt8(ascii: "'") || q == UInt8(ascii: "\""), inner.count >= 2, inner.last == q {
                    steps.append(.member(String(decoding: inner.dropFirst().dropLast(), as: UTF8.self)))
                } else if !inner.isEmpty, inner.count <= 9, inner.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                    let n = Int(String(decoding: inner, as: UTF8.self))
                {
                    steps.append(.index(n))
                } else {
                    throw invalid("expected an index or a quoted name between [ and ]")
                }
                i = close + 1
            } else {
                throw invalid("unexpected character at offset \(i)")
            }
        }
        self.steps = steps
    }

    /// The value at the path, or `nil` when it is missing.
    func evaluate(on root: JSON) -> JSON? {
        var current = root
        for step in steps {
            switch step {
            case .member(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .index(let n):
                guard let next = current[n] else { return nil }
                current = next
            }
        }
        return current
    }
}
