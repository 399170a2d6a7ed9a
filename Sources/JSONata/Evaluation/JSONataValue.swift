import StatesCore

/// A JSONata value during evaluation.
///
/// JSONata's data model is JavaScript's: numbers are doubles, arrays and objects are shared
/// by reference (the evaluator appends to sequences it builds, and `in` compares objects by
/// identity), and functions are values. `undefined` is not a case: it is Swift's `nil` in a
/// `JValue?`, which keeps the hot paths free of a sixth "missing" tag test.
enum JValue {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array(JArray)
    case object(JObject)
    case function(JFunction)
}

/// An array, or a *sequence*: the evaluator's result collection, flagged rather than wrapped.
///
/// The flags are the ones jsonata-js sets as hidden properties on its arrays: a sequence of
/// one item collapses to the item, `keepSingleton` stops that (`[]` in a path), `isCons`
/// marks an array built by an array constructor (so a path does not flatten it),
/// `outerWrapper` marks the wrapper put around an array input, and `isTupleStream` marks a
/// sequence of tuples (objects holding `@` and the `@`/`#`/`%` bindings).
final class JArray {
    @exclusivity(unchecked) var items: ContiguousArray<JValue>
    @exclusivity(unchecked) var isSequence: Bool
    @exclusivity(unchecked) var keepSingleton = false
    @exclusivity(unchecked) var isCons = false
    @exclusivity(unchecked) var outerWrapper = false
    @exclusivity(unchecked) var isTupleStream = false

    init(_ items: ContiguousArray<JValue> = [], sequence: Bool = false) {
        self.items = items
        self.isSequence = sequence
    }

    static func sequence(_ items: ContiguousArray<JValue> = []) -> JArray { JArray(items, sequence: true) }

    static func sequence(of item: JValue) -> JArray { JArray([item], sequence: true) }

    @inline(__always) var count: Int { items.count }
    @inline(__always) var isEmpty: Bool { items.isEmpty }
    @inline(__always) subscript(i: Int) -> JValue { items[i] }
    @inline(__always) func append(_ v: JValue) { items.append(v) }
}

/// An object with members in insertion order, shared by reference as in JavaScript.
///
/// Small objects are searched linearly; past `indexThreshold` members a key index is kept.
final class JObject {
    @exclusivity(unchecked) private(set) var keys: ContiguousArray<String>
    @exclusivity(unchecked) private(set) var values: ContiguousArray<JValue>
    @exclusivity(unchecked) private var index: [String: Int]?

    private static var indexThreshold: Int { 8 }

    init() {
        keys = []
        values = []
    }

    init(minimumCapacity: Int) {
        keys = []
        values = []
        keys.reserveCapacity(minimumCapacity)
        values.reserveCapacity(minimumCapacity)
    }

    @inline(__always) var count: Int { keys.count }
    @inline(__always) var isEmpty: Bool { keys.isEmpty }

    func indexOf(_ key: String) -> Int? {
        if let index { return index[key] }
        var i = 0
        let n = keys.count
        while i < n {
            if keys[i] == key { return i }
            i += 1
        }
        return nil
    }

    subscript(key: String) -> JValue? {
        get {
            guard let i = indexOf(key) else { return nil }
            return values[i]
        }
        set {
            if let newValue { set(key, newValue) } else { remove(key) }
        }
    }

    func set(_ key: String, _ value: JValue) {
        if let i = indexOf(key) {
            values[i] = value
            return
        }
        keys.append(key)
        values.append(value)
        if index != nil {
            index![key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Appends a member whose key the object does not have yet (the caller knows).
    func appendNew(_ key: String, _ value: JValue) {
        keys.append(key)
        values.append(value)
        if index != nil {
            index![key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    func remove(_ key: String) {
        guard let i = indexOf(key) else { return }
        keys.remove(at: i)
        values.remove(at: i)
        if index != nil { rebuildIndex() }
    }

    private func rebuildIndex() {
        guard keys.count > Self.indexThreshold else {
            index = nil
            return
        }
        var d = [String: Int](minimumCapacity: keys.count)
        for (i, k) in keys.enumerated() { d[k] = i }
        index = d
    }

    func reserveCapacity(_ n: Int) {
        keys.reserveCapacity(n)
        values.reserveCapacity(n)
    }

    /// A shallow copy: new member storage, same member values.
    func copy() -> JObject {
        let o = JObject()
        o.keys = keys
        o.values = values
        o.index = index
        return o
    }
}

/// Variable bindings of one scope, falling back to the enclosing scope.
///
/// Scopes hold few names (a lambda's parameters, a block's `:=`), so they are two small
/// arrays searched linearly rather than a dictionary. The root scope falls back to the
/// built-in function table.
final class Frame {
    let parent: Frame?
    let functions: [String: JFunction]?
    // Two inline slots cover lambda parameters and most blocks without an allocation.
    @exclusivity(unchecked) fileprivate var name0: String?
    @exclusivity(unchecked) fileprivate var value0: JValue = .null { didSet { object0 = value0.unmanagedObject } }
    @exclusivity(unchecked) fileprivate var name1: String?
    @exclusivity(unchecked) fileprivate var value1: JValue = .null { didSet { object1 = value1.unmanagedObject } }
    // The objects of the inline slots, unretained (the slot holds them): fast expressions
    // read them without counting references (`lookupFast`).
    @exclusivity(unchecked) fileprivate var object0: Unmanaged<JObject>?
    @exclusivity(unchecked) fileprivate var object1: Unmanaged<JObject>?
    @exclusivity(unchecked) fileprivate var names: ContiguousArray<String> = []
    @exclusivity(unchecked) fileprivate var values: ContiguousArray<JValue> = []

    /// Whether `functions` is `Library.stepFunctions` (else `Library.standard`), which lets
    /// a variable node answer with the built-in it resolved when it was compiled.
    let hasStepFunctions: Bool

    init(parent: Frame?) {
        self.parent = parent
        self.functions = nil
        self.hasStepFunctions = false
    }

    init(root functions: [String: JFunction], stepFunctions: Bool) {
        self.parent = nil
        self.functions = functions
        self.hasStepFunctions = stepFunctions
    }

    /// Clears every binding, so that the next call of the same lambda can use the frame.
    ///
    /// - Important: only for a frame nothing else refers to (`isKnownUniquelyReferenced`).
    func removeAll() {
        name0 = nil
        value0 = .null
        name1 = nil
        value1 = .null
        if !names.isEmpty {
            names.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
        }
    }

    /// Binds `name`; binding `undefined` removes the binding so that reads fall through to
    /// the enclosing scope, as in jsonata-js.
    func bind(_ name: String, _ value: JValue?) {
        if name0 == name {
            if let value { value0 = value } else { name0 = nil; value0 = .null }
            return
        }
        if name1 == name {
            if let value { value1 = value } else { name1 = nil; value1 = .null }
            return
        }
        var i = 0
        while i < names.count {
            if names[i] == name {
                if let value { values[i] = value } else {
                    names.remove(at: i)
                    values.remove(at: i)
                }
                return
            }
            i += 1
        }
        guard let value else { return }
        if name0 == nil {
            name0 = name
            value0 = value
        } else if name1 == nil {
            name1 = name
            value1 = value
        } else {
            names.append(name)
            values.append(value)
        }
    }

    /// `lookup` for a variable node: at the root, the built-in the node resolved when it
    /// was compiled stands for a search of the function table.
    func lookup(variable node: Node) -> JValue? {
        let name = node.text
        unowned(unsafe) var f = self
        while true {
            if f.name0 == name { return f.value0 }
            if f.name1 == name { return f.value1 }
            if !f.names.isEmpty {
                var i = 0
                let n = f.names.count
                while i < n {
                    if f.names[i] == name { return f.values[i] }
                    i += 1
                }
            }
            if f.functions != nil {
                let fn = f.hasStepFunctions ? node.stepFunctionsBuiltin : node.standardBuiltin
                return fn.map { .function($0) }
            }
            guard let p = f.parent else { return nil }
            f = p
        }
    }

    func lookup(_ name: String) -> JValue? {
        // unowned(unsafe): the chain is kept alive by `self`; walking it needs no retains
        unowned(unsafe) var f = self
        while true {
            if f.name0 == name { return f.value0 }
            if f.name1 == name { return f.value1 }
            if !f.names.isEmpty {
                var i = 0
                let n = f.names.count
                while i < n {
                    if f.names[i] == name { return f.values[i] }
                    i += 1
                }
            }
            if let fns = f.functions, let fn = fns[name] { return .function(fn) }
            guard let p = f.parent else { return nil }
            f = p
        }
    }
}

extension Frame {
    /// `lookup`, as a fast value (borrowed: the frame chain holds the value while a fast
    /// expression runs).
    func lookupFast(_ name: String) -> FastValue {
        unowned(unsafe) var f = self
        while true {
            if f.name0 == name {
                if let o = f.object0 { return .object(o) }
                return FastValue(f.value0)
            }
            if f.name1 == name {
                if let o = f.object1 { return .object(o) }
                return FastValue(f.value1)
            }
            if !f.names.isEmpty {
                var i = 0
                let n = f.names.count
                while i < n {
                    if f.names[i] == name { return FastValue(f.values[i]) }
                    i += 1
                }
            }
            if let fns = f.functions, fns[name] != nil { return .giveUp }
            guard let p = f.parent else { return .undefined }
            f = p
        }
    }
}

// MARK: - Type tests used throughout the evaluator

extension JValue {
    @inline(__always) var isArray: Bool { if case .array = self { true } else { false } }
    @inline(__always) var isFunction: Bool { if case .function = self { true } else { false } }
    @inline(__always) var asArray: JArray? { if case .array(let a) = self { a } else { nil } }
    @inline(__always) var asObject: JObject? { if case .object(let o) = self { o } else { nil } }
    @inline(__always) var asString: String? { if case .string(let s) = self { s } else { nil } }
    @inline(__always) var unmanagedObject: Unmanaged<JObject>? { if case .object(let o) = self { Unmanaged.passUnretained(o) } else { nil } }
    @inline(__always) var asFunction: JFunction? { if case .function(let f) = self { f } else { nil } }

    /// The number, if this is a finite number; non-finite numbers are error D1001 (as
    /// jsonata-js's `isNumeric` throws).
    @inline(__always) func numeric() throws -> Double? {
        if case .number(let d) = self {
            if d.isFinite { return d }
            if d.isNaN { return nil }
            throw JSONataError(code: "D1001", message: "Number out of range", value: self)
        }
        return nil
    }

    var isSequenceArray: Bool { if case .array(let a) = self { a.isSequence } else { false } }
}

extension Optional where Wrapped == JValue {
    /// Whether an evaluator input is an array, which an object constructor groups over.
    var isArrayInput: Bool { if case .array? = self { true } else { false } }
}

// MARK: - Conversion at the edge

extension JValue {
    /// The JSONata value of a JSON value (numbers become doubles, as JavaScript's
    /// `JSON.parse` reads them: a literal beyond the double range is an infinity, which is
    /// error D1001 where it is used or returned; one below it is zero).
    init(json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .decimal(let n): self = .number(n.value.nearestDouble)
        case .string(let s): self = .string(s)
        case .array(let a):
            var items = ContiguousArray<JValue>()
            items.reserveCapacity(a.count)
            for v in a { items.append(JValue(json: v)) }
            self = .array(JArray(items))
        case .object(let o):
            let obj = JObject(minimumCapacity: o.count)
            for (k, v) in o { obj.set(k, JValue(json: v)) }
            self = .object(obj)
        }
    }

    /// How many arrays and objects a value may nest when it leaves JSONata (converted to
    /// JSON or rendered by `$string`): the JSON parser's default limit, so that every result
    /// can be read back (outputs go into the execution's history). Evaluation can build
    /// deeper values (`$f($n - 1, {'a': $a})` in a loop); converting them fails with `U1001`.
    static let maximumDepth = 512

    static func tooDeep() -> JSONataError {
        JSONataError(code: "U1001", message: "Stack overflow error: the value nests deeper than \(maximumDepth) levels")
    }

    /// The JSON value of a result, following `JSON.stringify`: functions in an object are
    /// left out, functions in an array become `null`; a non-finite number is error D1001.
    ///
    /// - Returns: nil for a function at the top level (JSON has no such value).
    /// - Throws: D1001; U1001 for a value nested deeper than `maximumDepth`.
    func toJSON() throws(JSONataError) -> JSON? {
        try toJSON(depth: 0)
    }

    private func toJSON(depth: Int) throws(JSONataError) -> JSON? {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let d):
            guard d.isFinite else { throw JSONataError(code: "D1001", message: "Number out of range", value: self) }
            return JSON.number(d)
        case .string(let s): return .string(s)
        case .array(let a):
            if depth == JValue.maximumDepth { throw JValue.tooDeep() }
            var out = [JSON]()
            out.reserveCapacity(a.count)
            for v in a.items { out.append(try v.toJSON(depth: depth + 1) ?? .null) }
            return .array(out)
        case .object(let o):
            if depth == JValue.maximumDepth { throw JValue.tooDeep() }
            var out = JSONObject(minimumCapacity: o.count)
            for i in 0..<o.count {
                if let v = try o.values[i].toJSON(depth: depth + 1) { out.append(o.keys[i], v) }
            }
            return .object(out)
        case .function: return nil
        }
    }
}
