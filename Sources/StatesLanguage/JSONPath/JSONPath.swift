/// A compiled JSONPath, evaluated the way AWS Step Functions does (Jayway JsonPath semantics).
///
/// The text is parsed once into a list of steps; evaluation walks the JSON value without
/// re-parsing and, for definite paths, without allocating.
///
/// A path is *definite* when it can select at most one node (only names, single indexes,
/// and functions). A definite path evaluates to the node or to nothing; an indefinite path
/// (wildcards, filters, slices, unions, deep scan) always evaluates to an array of the
/// matches, possibly empty.
///
/// AWS behaviour: an indefinite path never fails, even when an intermediate member is
/// missing: `$.item.items[1:5]` on `{}` gives `[]` (cases
/// `base.test_base.TestSnfBase.test_json_path_array_wildcard_or_slice_with_no_input*`).
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// One reference, so that copying a path costs one retain and evaluation reads the steps
    /// in place.
    let storage: Storage

    final class Storage: Sendable {
        let text: String
        let isRelative: Bool
        let steps: [Step]
        let isDefinite: Bool
        let isReferencePath: Bool
        /// The steps again, for the common definite paths made only of names and indexes,
        /// in a form that evaluation walks without copying.
        let direct: ContiguousArray<DirectStep>?

        init(text: String, isRelative: Bool, steps: [Step]) {
            self.text = text
            self.isRelative = isRelative
            self.steps = steps
            var definite = true
            var direct: ContiguousArray<DirectStep>? = []
            for (i, step) in steps.enumerated() {
                switch step {
                case .property(let name): direct?.append(.name(name, utf8Count: name.utf8.count))
                case .index(let index): direct?.append(.index(index))
                case .function: direct = nil
                case .properties:
                    direct = nil
                    if i != steps.count - 1 { definite = false }
                case .indexes, .slice, .wildcard, .scan, .filter:
                    direct = nil
                    definite = false
                }
            }
            isDefinite = definite
            self.direct = direct
            isReferencePath = !isRelative && steps.allSatisfy {
                switch $0 {
                case .property: true
                case .index(let i): i >= 0
                default: false
                }
            }
        }
    }

    enum DirectStep: Sendable {
        case name(String, utf8Count: Int)
        case index(Int)
    }

    /// The path as written.
    public var text: String { storage.text }
    /// Whether the path starts at `@` (the current node, inside filters) rather than `$`.
    var isRelative: Bool { storage.isRelative }
    var steps: [Step] { storage.steps }
    /// Whether the path selects at most one node.
    public var isDefinite: Bool { storage.isDefinite }
    /// Whether the path is an ASL *reference path*: `$` followed only by `.name`, `['name']`
    /// and `[n]`, so that it names exactly one place (required for `ResultPath`).
    public var isReferencePath: Bool { storage.isReferencePath }

    /// Parses `text`.
    ///
    /// - Throws: `JSONPathError` when the text is not a JSONPath Step Functions accepts.
    public init(_ text: String) throws(JSONPathError) {
        var parser = JSONPathParser(text)
        let (isRelative, steps) = try parser.parsePath(allowRelative: false)
        self.init(text: text, isRelative: isRelative, steps: steps)
    }

    init(text: String, isRelative: Bool, steps: [Step]) {
        storage = Storage(text: text, isRelative: isRelative, steps: steps)
    }

    /// The root path `$`.
    public static let root = JSONPath(text: "$", isRelative: false, steps: [])

    /// Whether this is `$` itself.
    public var isRoot: Bool { steps.isEmpty }

    public var description: String { text }

    public static func == (a: JSONPath, b: JSONPath) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Jayway's normalized form, e.g. `$['a'][0]`, as its error messages print paths.
    public var normalizedText: String {
        var out = isRelative ? "@" : "$"
        for step in steps { out += step.normalizedText }
        return out
    }
}

/// A JSONPath that does not parse.
public struct JSONPathError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Steps

extension JSONPath {
    enum Step: Sendable {
        /// `.name` or `['name']`.
        case property(String)
        /// `['a','b']`: at the end of a path, an object of the named members; elsewhere, each member.
        case properties([String])
        /// `[n]`; negative counts from the end.
        case index(Int)
        /// `[i,j,...]`.
        case indexes([Int])
        /// `[from:to]`, either bound optional, negative counting from the end.
        case slice(from: Int?, to: Int?)
        /// `.*` or `[*]`: every member value or element.
        case wildcard
        /// `..` followed by the step it applies at every level.
        indirect case scan(Step)
        /// `[?(...)]`.
        case filter(FilterExpression)
        /// `.length()` and the other Jayway functions.
        case function(PathFunction)

        var normalizedText: String {
            switch self {
            case .property(let name): "['\(name)']"
            case .properties(let names): "[" + names.map { "'\($0)'" }.joined(separator: ",") + "]"
            case .index(let i): "[\(i)]"
            case .indexes(let list): "[" + list.map(String.init).joined(separator: ",") + "]"
            case .slice(let from, let to): "[\(from.map(String.init) ?? ""):\(to.map(String.init) ?? "")]"
            case .wildcard: "[*]"
            case .scan(let next): ".." + next.normalizedText
            case .filter: "[?]"
            case .function(let f): ".\(f.rawValue)()"
            }
        }
    }

    /// The functions Jayway allows at the end of a path.
    enum PathFunction: String, Sendable, CaseIterable {
        case length, size, min, max, avg, stddev, sum, keys, first, last
    }
}

// MARK: - Evaluation

extension JSONPath {
    /// Evaluates the path against `root` (the node `$` stands for).
    ///
    /// - Returns: for a definite path, the selected node, or nil when there is none; for an
    ///   indefinite path, an `.array` of every match, possibly empty (never nil).
    public func evaluate(_ root: JSON) -> JSON? {
        evaluate(root, current: root)
    }

    /// Evaluates from `root` or, for an `@` path inside a filter, from `current`.
    func evaluate(_ root: JSON, current: JSON) -> JSON? {
        let start = storage.isRelative ? current : root
        if let direct = storage.direct { return Self.walk(direct, start, 0) }
        if storage.isDefinite {
            switch resolveDefinite(start) {
            case .found(let value): return value
            case .missing: return nil
            }
        }
        var results: [JSON] = []
        collect(stepIndex: 0, value: start, root: root, into: &results)
        return .array(results)
    }

    /// Evaluates the path and explains a miss the way Jayway words it.
    ///
    /// - Throws: `JSONPathNotFound` when a definite path selects nothing. Indefinite paths
    ///   never throw.
    public func resolve(_ root: JSON) throws(JSONPathNotFound) -> JSON {
        if !isDefinite {
            var results: [JSON] = []
            collect(stepIndex: 0, value: root, root: root, into: &results)
            return .array(results)
        }
        switch resolveDefinite(root) {
        case .found(let value): return value
        case .missing(let miss): throw JSONPathNotFound(path: self, miss: miss)
        }
    }

    /// The hot path: names and indexes, recursing on borrowed values.
    private static func walk(_ steps: ContiguousArray<DirectStep>, _ value: JSON, _ i: Int) -> JSON? {
        guard i < steps.count else { return value }
        switch steps[i] {
        case .name(let name, let count):
            guard case .object(let object) = value else { return nil }
            if let index = object.index {
                guard let k = index[name] else { return nil }
                return walk(steps, object.values[k], i + 1)
            }
            // A cheap length test first: most keys differ in length.
            let keys = object.keys
            for k in keys.indices where keys[k].utf8.count == count && keys[k] == name {
                return walk(steps, object.values[k], i + 1)
            }
            return nil
        case .index(let index):
            guard case .array(let array) = value else { return nil }
            let effective = index < 0 ? array.count + index : index
            guard effective >= 0, effective < array.count else { return nil }
            return walk(steps, array[effective], i + 1)
        }
    }

    enum DefiniteResult {
        case found(JSON)
        case missing(Miss)
    }

    /// Why a definite path found nothing: the step where it stopped and what it saw there.
    struct Miss: Sendable {
        enum Reason: Sendable {
            /// The last step names a member that is absent.
            case missingLeaf
            /// An inner step names a member that is absent.
            case missingProperty
            /// A member step met something that is not an object.
            case notAnObject(JSON)
            /// An index step met something that is not an array.
            case notAnArray(JSON)
            /// An index out of range (Jayway says nothing until the end).
            case noResult
            /// A function could not compute (e.g. `min()` of an empty array).
            case functionFailed(String)
        }
        var stepIndex: Int
        var reason: Reason
    }

    func resolveDefinite(_ start: JSON) -> DefiniteResult {
        var value = start
        var i = 0
        let count = steps.count
        while i < count {
            switch steps[i] {
            case .property(let name):
                guard case .object(let object) = value else {
                    return .missing(Miss(stepIndex: i, reason: .notAnObject(value)))
                }
                guard let next = object[name] else {
                    return .missing(Miss(stepIndex: i, reason: i == count - 1 ? .missingLeaf : .missingProperty))
                }
                value = next
            case .index(let index):
                guard case .array(let array) = value else {
                    return .missing(Miss(stepIndex: i, reason: .notAnArray(value)))
                }
                let effective = index < 0 ? array.count + index : index
                guard effective >= 0, effective < array.count else {
                    return .missing(Miss(stepIndex: i, reason: .noResult))
                }
                value = array[effective]
            case .properties(let names):
                // Only definite as the last step: an object of the members present.
                guard case .object(let object) = value else {
                    return .missing(Miss(stepIndex: i, reason: .notAnObject(value)))
                }
                var merged = JSONObject(minimumCapacity: names.count)
                for name in names {
                    if let member = object[name] { merged[name] = member }
                }
                value = .object(merged)
            case .function(let function):
                switch function.apply(to: value) {
                case .success(let result): value = result
                case .failure(let failure): return .missing(Miss(stepIndex: i, reason: .functionFailed(failure.message)))
                }
            case .indexes, .slice, .wildcard, .scan, .filter:
                preconditionFailure("JSONPath.resolveDefinite: indefinite step in a definite path '\(text)'")
            }
            i += 1
        }
        return .found(value)
    }

    /// Appends every match of `steps[stepIndex...]` applied to `value`.
    func collect(stepIndex: Int, value: JSON, root: JSON, into results: inout [JSON]) {
        guard stepIndex < steps.count else {
            results.append(value)
            return
        }
        apply(steps[stepIndex], next: stepIndex + 1, value: value, root: root, into: &results)
    }

    /// Appends every match of `step` applied to `value`, followed by `steps[next...]`.
    private func apply(_ step: Step, next: Int, value: JSON, root: JSON, into results: inout [JSON]) {
        switch step {
        case .property(let name):
            if case .object(let object) = value, let member = object[name] {
                collect(stepIndex: next, value: member, root: root, into: &results)
            }
        case .properties(let names):
            guard case .object(let object) = value else { return }
            if next == steps.count {
                var merged = JSONObject(minimumCapacity: names.count)
                for name in names {
                    if let member = object[name] { merged[name] = member }
                }
                results.append(.object(merged))
            } else {
                for name in names {
                    if let member = object[name] { collect(stepIndex: next, value: member, root: root, into: &results) }
                }
            }
        case .index(let index):
            if case .array(let array) = value {
                let effective = index < 0 ? array.count + index : index
                if effective >= 0, effective < array.count {
                    collect(stepIndex: next, value: array[effective], root: root, into: &results)
                }
            }
        case .indexes(let indexes):
            if case .array(let array) = value {
                for index in indexes {
                    let effective = index < 0 ? array.count + index : index
                    if effective >= 0, effective < array.count {
                        collect(stepIndex: next, value: array[effective], root: root, into: &results)
                    }
                }
            }
        case .slice(let from, let to):
            if case .array(let array) = value {
                for element in Self.sliced(array, from: from, to: to) {
                    collect(stepIndex: next, value: element, root: root, into: &results)
                }
            }
        case .wildcard:
            switch value {
            case .object(let object):
                for member in object.orderedValues { collect(stepIndex: next, value: member, root: root, into: &results) }
            case .array(let array):
                for element in array { collect(stepIndex: next, value: element, root: root, into: &results) }
            default: break
            }
        case .filter(let filter):
            switch value {
            case .array(let array):
                for element in array where filter.matches(element, root: root) {
                    collect(stepIndex: next, value: element, root: root, into: &results)
                }
            case .object:
                // Jayway applies a filter on an object to the object itself.
                if filter.matches(value, root: root) {
                    collect(stepIndex: next, value: value, root: root, into: &results)
                }
            default: break
            }
        case .function(let function):
            if case .success(let result) = function.apply(to: value) {
                collect(stepIndex: next, value: result, root: root, into: &results)
            }
        case .scan(let target):
            scan(target, next: next, value: value, root: root, into: &results)
        }
    }

    /// Deep scan: applies `target` (then `steps[next...]`) at `value` and at every node below
    /// it, in document order, parents before children.
    private func scan(_ target: Step, next: Int, value: JSON, root: JSON, into results: inout [JSON]) {
        if case .filter(let filter) = target {
            // Jayway tests the filter against each object reached, not against arrays (their
            // elements are reached as objects themselves), so nothing is matched twice.
            if case .object = value, filter.matches(value, root: root) {
                collect(stepIndex: next, value: value, root: root, into: &results)
            }
        } else {
            apply(target, next: next, value: value, root: root, into: &results)
        }
        switch value {
        case .object(let object):
            for member in object.orderedValues { scan(target, next: next, value: member, root: root, into: &results) }
        case .array(let array):
            for element in array { scan(target, next: next, value: element, root: root, into: &results) }
        default: break
        }
    }

    /// Jayway's slice: negative bounds count from the end; bounds are clamped to the array.
    static func sliced(_ array: [JSON], from: Int?, to: Int?) -> ArraySlice<JSON> {
        let n = array.count
        var lower = from ?? 0
        if lower < 0 { lower = Swift.max(0, n + lower) }
        var upper = to ?? n
        if upper < 0 { upper = n + upper }
        upper = Swift.min(upper, n)
        lower = Swift.min(lower, n)
        guard lower < upper else { return [] }
        return array[lower..<upper]
    }
}

// MARK: - Functions

extension JSONPath.PathFunction {
    /// Jayway's function semantics; numeric aggregates return doubles as Jayway does.
    func apply(to value: JSON) -> Result<JSON, FunctionFailure> {
        switch self {
        case .length, .size:
            switch value {
            case .array(let a): return .success(.int(Int64(a.count)))
            case .object(let o): return .success(.int(Int64(o.count)))
            case .string(let s): return .success(.int(Int64(s.utf16.count)))
            default: return .success(.null)
            }
        case .keys:
            guard case .object(let o) = value else { return .success(.null) }
            return .success(.array(o.orderedKeys.map { .string($0) }))
        case .first, .last:
            guard case .array(let a) = value else { return .success(.null) }
            guard let element = self == .first ? a.first : a.last else {
                return .failure(FunctionFailure("Aggregation function attempted to calculate value using empty array"))
            }
            return .success(element)
        case .min, .max, .avg, .stddev, .sum:
            guard case .array(let a) = value else { return .success(.null) }
            let numbers = a.compactMap(\.doubleValue)
            guard !numbers.isEmpty else {
                return .failure(FunctionFailure("Aggregation function attempted to calculate value using empty array"))
            }
            switch self {
            case .min: return .success(.double(numbers.min()!))
            case .max: return .success(.double(numbers.max()!))
            case .sum: return .success(.double(numbers.reduce(0, +)))
            case .avg: return .success(.double(numbers.reduce(0, +) / Double(numbers.count)))
            default:
                let mean = numbers.reduce(0, +) / Double(numbers.count)
                let variance = numbers.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(numbers.count)
                return .success(.double(variance.squareRoot()))
            }
        }
    }

    struct FunctionFailure: Error, Sendable {
        var message: String
        init(_ message: String) { self.message = message }
    }
}

// MARK: - Misses, worded as Jayway words them

/// A definite JSONPath that selected nothing, with Jayway's explanation.
public struct JSONPathNotFound: Error, Sendable, CustomStringConvertible {
    public let path: JSONPath
    let miss: JSONPath.Miss

    /// Jayway's message, e.g. `No results for path: $['x']` or `Missing property in path $['a']`.
    ///
    /// AWS behaviour: AWS quotes it after `Invalid path '<path>' : ` for `InputPath`,
    /// `OutputPath`, `TimeoutSecondsPath`, ... (cases
    /// `scenarios.*test_invalid_jsonpath.ST.INVALID_JSONPATH_IN_INPUTPATH*`,
    /// `scenarios.*test_catch_states_runtime`).
    public var jaywayMessage: String {
        let prefix = (path.isRelative ? "@" : "$") + path.steps[..<miss.stepIndex].map(\.normalizedText).joined()
        let step = path.steps[miss.stepIndex]
        switch miss.reason {
        case .missingLeaf, .noResult:
            return "No results for path: " + path.normalizedText
        case .missingProperty:
            return "Missing property in path " + prefix + step.normalizedText
        case .notAnObject(let found):
            // Jayway with Jackson's JsonNode provider, which unwraps scalars to Java values.
            let fragment: String
            if case .property(let name) = step { fragment = "['\(name)']" } else { fragment = step.normalizedText }
            return "Expected to find an object with property \(fragment) in path \(prefix) but found '\(Self.javaClassName(found))'. "
                + "This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."
        case .notAnArray(let found):
            if case .null = found { return "The path \(prefix) is null" }
            return "Filter: \(step.normalizedText) can only be applied to arrays. Current context is: \(Self.javaToString(found))"
        case .functionFailed(let message):
            return message
        }
    }

    /// AWS's wording for a `*Path` field that selects nothing:
    /// `Invalid path '<path>' : <Jayway message>`.
    public var invalidPathMessage: String { "Invalid path '\(path.text)' : \(jaywayMessage)" }

    public var description: String { jaywayMessage }

    static func javaClassName(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "java.lang.Boolean"
        case .int(let i): (i >= Int64(Int32.min) && i <= Int64(Int32.max)) ? "java.lang.Integer" : "java.lang.Long"
        case .double: "java.lang.Double"
        case .string: "java.lang.String"
        case .array: "com.fasterxml.jackson.databind.node.ArrayNode"
        case .object: "com.fasterxml.jackson.databind.node.ObjectNode"
        }
    }

    static func javaToString(_ value: JSON) -> String {
        switch value {
        case .string(let s): s
        default: value.serialized()
        }
    }
}
