/// An event parsed once into its leaf values, ready to be matched against any number of
/// patterns.
///
/// Each leaf (string, number, boolean or null) is kept with its dotted path (`detail.state`)
/// and with the array elements it sits in. Objects and empty arrays produce no leaf, which is
/// why `exists` sees them as absent. Numbers keep their exact decimal value when the event is
/// parsed from text.
///
/// - Note: only an object event has fields; any other JSON value is an event without fields.
public struct FlattenedEvent: Sendable {
    /// One step of a leaf's position: element `index` of the array numbered `array`.
    struct ArrayStep: Sendable, Hashable {
        var array: Int32
        var index: Int32
    }

    struct Field: Sendable {
        let path: String
        let value: EventLeaf
        /// The arrays this leaf sits in, outermost first (array numbers increase inwards).
        let membership: [ArrayStep]
    }

    private(set) var fields: [Field] = []
    private(set) var fieldsByPath: [String: [Int32]] = [:]
    private(set) var hasArrays = false

    /// The number of leaf values.
    public var fieldCount: Int { fields.count }

    /// Parses an event text, keeping numbers exact.
    ///
    /// - Throws: `JSONParseError` when the text is not JSON.
    public init(text: String) throws(JSONParseError) {
        try self.init(text: text, relevantPaths: nil)
    }

    /// Parses an event from UTF-8 bytes (a Kafka record value), keeping numbers exact.
    public init(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        try self.init(utf8: bytes, relevantPaths: nil)
    }

    /// Flattens a `JSON` value. Doubles compare as their shortest decimal spelling.
    public init(json: JSON) {
        var builder = Builder(filter: nil)
        if case .object(let o) = json { builder.addObject(o, path: "", membership: []) }
        self.init(builder)
    }

    init(text: String, relevantPaths: PathFilter?) throws(JSONParseError) {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> FlattenedEvent in
                try FlattenedEvent(utf8: buffer, relevantPaths: relevantPaths)
            }
        }
        self = try result.get()
    }

    init(utf8 buffer: UnsafeBufferPointer<UInt8>, relevantPaths: PathFilter?) throws(JSONParseError) {
        var parser = JSONParser(buffer: buffer, maxDepth: 512)
        var builder = Builder(filter: relevantPaths)
        try parser.flattenDocument(into: &builder)
        self.init(builder)
    }

    private init(_ builder: Builder) {
        fields = builder.fields
        hasArrays = builder.nextArray > 0
        var byPath: [String: [Int32]] = [:]
        byPath.reserveCapacity(fields.count)
        for (i, f) in fields.enumerated() { byPath[f.path, default: []].append(Int32(i)) }
        fieldsByPath = byPath
    }

    /// Whether two leaves can belong to one match: wherever they share an array, they must
    /// sit in the same element of it.
    static func isConsistent(_ a: [ArrayStep], _ b: [ArrayStep]) -> Bool {
        var i = 0
        var j = 0
        while i < a.count, j < b.count {
            if a[i].array == b[j].array {
                if a[i].index != b[j].index { return false }
                i += 1
                j += 1
            } else if a[i].array < b[j].array {
                i += 1
            } else {
                j += 1
            }
        }
        return true
    }

    /// The union of two consistent memberships, sorted by array number.
    static func merge(_ a: [ArrayStep], _ b: [ArrayStep]) -> [ArrayStep] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var out: [ArrayStep] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].array < b[j].array) {
                out.append(a[i])
                i += 1
            } else if i == a.count || b[j].array < a[i].array {
                out.append(b[j])
                j += 1
            } else {
                out.append(a[i])
                i += 1
                j += 1
            }
        }
        return out
    }

    /// Collects leaves while a document is walked.
    struct Builder {
        let filter: PathFilter?
        var fields: [Field] = []
        var nextArray: Int32 = 0

        init(filter: PathFilter?) { self.filter = filter }

        func isRelevant(_ path: String) -> Bool { filter?.isRelevant(path) ?? true }

        /// For an object at `path`: `nil` when every member is relevant (no filter), else the
        /// relevant member names (empty when none is).
        func relevantNames(under path: String) -> Set<String>? {
            guard let filter else { return nil }
            return filter.names(under: path) ?? []
        }

        /// Drops the leaves at `path` or below it collected since `start`.
        mutating func removeFields(under path: String, from start: Int) {
            let below = path + "."
            var kept = Array(fields[..<start])
            for f in fields[start...] where f.path != path && !f.path.hasPrefix(below) { kept.append(f) }
            fields = kept
        }

        mutating func addObject(_ o: JSONObject, path: String, membership: [ArrayStep]) {
            for (key, value) in o {
                let child = path.isEmpty ? key : path + "." + key
                guard isRelevant(child) else { continue }
                add(value, path: child, membership: membership)
            }
        }

        mutating func add(_ value: JSON, path: String, membership: [ArrayStep]) {
            switch value {
            case .null: fields.append(Field(path: path, value: .null, membership: membership))
            case .bool(let b): fields.append(Field(path: path, value: .bool(b), membership: membership))
            case .int(let i):
                let n = DecimalNumber(i)
                fields.append(Field(path: path, value: EventLeaf(number: n, literal: String(i)), membership: membership))
            case .double(let d):
                // Not finite: not a JSON number; nothing a pattern could compare it with.
                if let n = DecimalNumber(d) { fields.append(Field(path: path, value: .number(n), membership: membership)) }
            case .decimal(let n):
                fields.append(Field(path: path, value: EventLeaf(number: n.value, literal: n.literal), membership: membership))
            case .string(let s): fields.append(Field(path: path, value: .string(s), membership: membership))
            case .object(let o): addObject(o, path: path, membership: membership)
            case .array(let a):
                let id = nextArray
                nextArray += 1
                for (i, element) in a.enumerated() {
                    add(element, path: path, membership: membership + [ArrayStep(array: id, index: Int32(i))])
                }
            }
        }
    }
}

/// The paths some pattern looks at, with every dotted prefix of them: an event subtree whose
/// path is not among them cannot hold a leaf that any pattern mentions, so it is skipped.
///
/// Kept as, for each such prefix, the member names that extend it to another one (a name may
/// itself hold dots: `{"detail.state": ...}` in an event reaches the path `detail.state`).
struct PathFilter: Sendable {
    private var continuations: [String: Set<String>] = [:]

    init<S: Sequence>(paths: S) where S.Element == String {
        var prefixes: Set<String> = [""]
        var dots: [String: [String.Index]] = [:]
        for path in paths {
            var positions: [String.Index] = []
            var i = path.startIndex
            while let dot = path[i...].firstIndex(of: ".") {
                positions.append(dot)
                i = path.index(after: dot)
            }
            dots[path] = positions
            prefixes.insert(path)
            for dot in positions { prefixes.insert(String(path[..<dot])) }
        }
        // A prefix q continues a prefix p when q is p, a dot, then a member name.
        for q in prefixes where !q.isEmpty {
            continuations["", default: []].insert(q)
            var i = q.startIndex
            while let dot = q[i...].firstIndex(of: ".") {
                let parent = String(q[..<dot])
                if prefixes.contains(parent) {
                    continuations[parent, default: []].insert(String(q[q.index(after: dot)...]))
                }
                i = q.index(after: dot)
            }
        }
    }

    /// The member names under `path` that lead to a path some pattern looks at; `nil` when none.
    func names(under path: String) -> Set<String>? { continuations[path] }

    func isRelevant(_ path: String) -> Bool {
        if path.isEmpty { return true }
        if continuations[""]?.contains(path) == true { return true }
        return false
    }
}

extension JSONParser {
    /// Walks a document and hands its leaves to `builder`, validating the whole text.
    mutating func flattenDocument(into builder: inout FlattenedEvent.Builder) throws(JSONParseError) {
        skipWhitespace()
        if position >= buffer.count {
            throw error("No content to map due to end-of-input", at: position)
        }
        if buffer[position] == UInt8(ascii: "{") {
            try flattenValue(path: "", membership: [], into: &builder)
        } else {
            try skipValue()
        }
        skipWhitespace()
        if position < buffer.count {
            throw unexpectedCharacter(at: position, expecting: "expected end-of-input")
        }
    }

    mutating func flattenValue(
        path: String, membership: [FlattenedEvent.ArrayStep], into builder: inout FlattenedEvent.Builder
    ) throws(JSONParseError) {
        guard position < buffer.count else {
            throw error("Unexpected end-of-input: expected a value", at: position)
        }
        switch buffer[position] {
        case UInt8(ascii: "{"):
            let start = position
            try enter(at: start)
            position += 1
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return
            }
            let firstField = builder.fields.count
            let relevant = builder.relevantNames(under: path)
            var keys = SeenKeys()
            while true {
                let key = try parseMemberName(objectStart: start)
                if relevant?.contains(key) ?? true {
                    let child = path.isEmpty ? key : path + "." + key
                    if !keys.insert(key) {
                        // AWS behaviour: a repeated key keeps its last value (Jackson), as JSON.parse does.
                        builder.removeFields(under: child, from: firstField)
                    }
                    try flattenValue(path: child, membership: membership, into: &builder)
                } else {
                    try skipValue()
                }
                if try endOfMember(kind: "Object", start: start) {
                    depth -= 1
                    return
                }
            }
        case UInt8(ascii: "["):
            let start = position
            try enter(at: start)
            position += 1
            let id = builder.nextArray
            builder.nextArray += 1
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "]") {
                position += 1
                depth -= 1
                return
            }
            var index: Int32 = 0
            while true {
                skipWhitespace()
                guard position < buffer.count else { throw endOfInput(closing: "Array", start: start) }
                try flattenValue(
                    path: path, membership: membership + [FlattenedEvent.ArrayStep(array: id, index: index)],
                    into: &builder)
                index += 1
                if try endOfMember(kind: "Array", start: start) {
                    depth -= 1
                    return
                }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = position
            _ = try scanNumber()
            // scanNumber accepted the literal, so it is in the JSON grammar.
            let number = DecimalNumber(utf8: UnsafeBufferPointer(rebasing: buffer[start..<position]))!
            builder.fields.append(.init(path: path, value: EventLeaf(number: number, literal: literal(from: start)), membership: membership))
        default:
            let leaf: EventLeaf
            switch try parseValue() {
            case .string(let s): leaf = .string(s)
            case .bool(let b): leaf = .bool(b)
            default: leaf = .null
            }
            builder.fields.append(.init(path: path, value: leaf, membership: membership))
        }
    }
}

extension JSONParser {
    /// Validates and passes over one value without building it.
    mutating func skipValue() throws(JSONParseError) {
        guard position < buffer.count else {
            throw error("Unexpected end-of-input: expected a value", at: position)
        }
        switch buffer[position] {
        case UInt8(ascii: "{"):
            let start = position
            try enter(at: start)
            position += 1
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
                guard buffer[position] == UInt8(ascii: "\"") else {
                    throw unexpectedCharacter(at: position, expecting: "was expecting double-quote to start field name")
                }
                try skipString()
                skipWhitespace()
                guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
                guard buffer[position] == UInt8(ascii: ":") else {
                    throw unexpectedCharacter(at: position, expecting: "was expecting a colon to separate field name and value")
                }
                position += 1
                skipWhitespace()
                guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
                try skipValue()
                if try endOfMember(kind: "Object", start: start) {
                    depth -= 1
                    return
                }
            }
        case UInt8(ascii: "["):
            let start = position
            try enter(at: start)
            position += 1
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "]") {
                position += 1
                depth -= 1
                return
            }
            while true {
                skipWhitespace()
                guard position < buffer.count else { throw endOfInput(closing: "Array", start: start) }
                try skipValue()
                if try endOfMember(kind: "Array", start: start) {
                    depth -= 1
                    return
                }
            }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        default:
            _ = try parseValue()  // keywords: cheap, and the parser's own errors
        }
    }

    /// Passes over a string; an escape or a control character goes through `parseString`
    /// for its validation and errors.
    mutating func skipString() throws(JSONParseError) {
        let quote = position
        var i = position + 1
        var high: UInt8 = 0
        while i < buffer.count {
            let c = buffer[i]
            if c == UInt8(ascii: "\"") {
                // Not UTF-8: `parseString` says where.
                if high & 0x80 != 0, UTF8Validation.firstInvalid(in: UnsafeBufferPointer(rebasing: buffer[quote + 1..<i])) != nil {
                    break
                }
                position = i + 1
                return
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            high |= c
            i += 1
        }
        position = quote
        _ = try parseString()
    }
}

/// The keys of one object seen so far: a short list, a set past a few keys.
struct SeenKeys {
    private var list: [String] = []
    private var set: Set<String>?

    /// Adds `key`; `false` when it was already there.
    mutating func insert(_ key: String) -> Bool {
        if set != nil { return set!.insert(key).inserted }
        if list.contains(key) { return false }
        list.append(key)
        if list.count > 16 {
            set = Set(list)
            list = []
        }
        return true
    }
}
