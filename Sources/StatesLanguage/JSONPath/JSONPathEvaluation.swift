/// Evaluating a compiled JSONPath: the direct walk for names and indexes, Jayway's
/// semantics for the rest (wildcards, slices, unions, filters, deep scan, functions).
extension JSONPath {
    /// Evaluates the path against `root` (the node `$` stands for).
    ///
    /// - Returns: for a definite path, the selected node, or nil when there is none; for an
    ///   indefinite path, an `.array` of every match, possibly empty (never nil).
    public func evaluate(_ root: JSON) -> JSON? {
        if let direct = storage.direct, !storage.isRelative { return Self.walk(direct, root) }
        return evaluate(root, current: root)
    }

    /// Evaluates from `root` or, for an `@` path inside a filter, from `current`.
    func evaluate(_ root: JSON, current: JSON) -> JSON? {
        let start = storage.isRelative ? current : root
        if let direct = storage.direct { return Self.walk(direct, start) }
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

    /// The hot path: names and indexes, one node at a time (the root is read in place; each
    /// node below it is held while the next step reads it).
    private static func walk(_ steps: ContiguousArray<DirectStep>, _ root: JSON) -> JSON? {
        guard !steps.isEmpty else { return root }
        guard var node = child(root, steps[0]) else { return nil }
        for i in 1..<steps.count {
            guard let next = child(node, steps[i]) else { return nil }
            node = next
        }
        return node
    }

    @inline(__always)
    private static func child(_ node: JSON, _ step: DirectStep) -> JSON? {
        switch step {
        case .name(let name, let count):
            guard case .object(let object) = node else { return nil }
            return object.value(forKey: name, utf8Count: count)
        case .index(let index):
            guard case .array(let array) = node else { return nil }
            let effective = index < 0 ? array.count + index : index
            guard effective >= 0, effective < array.count else { return nil }
            return array[effective]
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
