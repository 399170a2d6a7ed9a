/// Selecting from a value: predicates (`[...]`), field lookup, wildcards (`*`) and
/// descendants (`**`).
extension Evaluator {
    func evaluateFilter(_ predicate: Node, _ input: JValue?, _ env: Frame) throws -> JArray {
        var results = JArray.sequence()
        let items: JArray
        switch input {
        case .array(let a)?:
            items = a
            if a.isTupleStream { results.isTupleStream = true }
        case .some(let v): items = JArray.sequence(of: v)
        case nil: return results
        }
        if predicate.kind == .number, case .number(let d) = predicate.literal {
            var index = Int(exactly: d.rounded(.down)) ?? Int.max
            if index < 0 { index += items.count }
            if index >= 0 && index < items.count {
                let item = items[index]
                if case .array(let a) = item {
                    results = a
                } else {
                    results.append(item)
                }
            }
            return results
        }
        var first = 0
        if !items.isTupleStream, let fast = predicate.fast, !predicate.hasPostStages, depth + fast.height <= maxDepth {
            first = try filterFastly(fast, items, into: results, env)
        }
        for index in first..<items.count {
            let item = items[index]
            var context: JValue? = item
            var e = env
            if items.isTupleStream {
                context = item.asObject?["@"]
                e = frame(from: item, env)
            }
            let res = try evaluate(predicate, context, e)
            if let r = res, let d = try r.numeric() {
                var ii = Int(exactly: d.rounded(.down)) ?? Int.max
                if ii < 0 { ii += items.count }
                if ii == index { results.append(item) }
            } else if case .array(let arr)? = res, try Evaluator.isArrayOfNumbers(arr) {
                for n in arr.items {
                    guard case .number(let d) = n else { continue }
                    var ii = Int(exactly: d.rounded(.down)) ?? Int.max
                    if ii < 0 { ii += items.count }
                    if ii == index { results.append(item) }
                }
            } else if Builtins.boolean(res) == true {
                results.append(item)
            }
        }
        return results
    }

    /// The loop of `evaluateFilter` for a predicate with a fast form: each item is tested
    /// as `evaluate(predicate, item, env)` would (same steps, same depth), without the call.
    ///
    /// - Returns: the index of the first item the fast form gave up on (the caller goes on
    ///   from there the general way), or the item count.
    private func filterFastly(_ fast: FastExpression, _ items: JArray, into results: JArray, _ env: Frame) throws -> Int {
        let count = items.count
        return try items.items.withUnsafeBufferPointer { buffer in
            for index in 0..<count {
                var counted = 0
                let r = fast.run(FastValue(buffer[index]), env, &counted)
                switch r {
                case .giveUp: return index
                case .number(let d):
                    guard d.isFinite else { return index }
                    var ii = Int(exactly: d.rounded(.down)) ?? Int.max
                    if ii < 0 { ii += count }
                    if ii == index { results.append(buffer[index]) }
                default:
                    if r.boolean == true { results.append(buffer[index]) }
                }
                try countSteps(counted)
            }
            return count
        }
    }

    static func isArrayOfNumbers(_ a: JArray) throws -> Bool {
        for v in a.items {
            guard try v.numeric() != nil else { return false }
        }
        return true
    }

    /// jsonata-js's `fn.lookup`: a member of an object, or of every object in an array.
    static func lookup(_ input: JValue?, _ key: String) -> JValue? {
        switch input {
        case .object(let o)?: return o[key]
        case .array(let a)?:
            let result = JArray.sequence()
            for item in a.items {
                switch item {
                case .object(let o):
                    if let v = o[key] {
                        if case .array(let inner) = v { result.items.append(contentsOf: inner.items) } else { result.append(v) }
                    }
                case .array(let nested): lookupNested(nested, key, into: result)
                default: break
                }
            }
            return .array(result)
        default: return nil
        }
    }

    /// `lookup` in the arrays nested in an array, in order, on a stack of its own (nested
    /// arrays can go deeper than the native stack allows).
    private static func lookupNested(_ a: JArray, _ key: String, into result: JArray) {
        var pending: [(JArray, Int)] = [(a, 0)]
        walk: while let (array, start) = pending.popLast() {
            var i = start
            while i < array.count {
                switch array[i] {
                case .object(let o):
                    if let v = o[key] {
                        if case .array(let inner) = v { result.items.append(contentsOf: inner.items) } else { result.append(v) }
                    }
                case .array(let inner):
                    pending.append((array, i + 1))
                    pending.append((inner, 0))
                    continue walk
                default: break
                }
                i += 1
            }
        }
    }

    func evaluateWildcard(_ input: JValue?) throws -> JValue? {
        var results = JArray.sequence()
        var source = input
        if case .array(let a)? = input, a.outerWrapper, !a.isEmpty { source = a[0] }
        let values: ContiguousArray<JValue>
        switch source {
        case .object(let o)?: values = o.values
        case .array(let a)?: values = a.items
        default: return .array(results)
        }
        for v in values {
            if case .array(let a) = v {
                var flat = ContiguousArray<JValue>()
                Evaluator.flatten(a, into: &flat)
                // fn.append returns a plain (non-sequence) array
                let out = JArray(results.items)
                out.items.append(contentsOf: flat)
                results = out
            } else {
                results.append(v)
            }
        }
        return .array(results)
    }

    // The walks over values below use a stack of their own: evaluation can build values
    // nested far deeper than the native stack allows (`[[$a]]` in a tail-recursive loop).

    static func flatten(_ a: JArray, into out: inout ContiguousArray<JValue>) {
        var pending: [(JArray, Int)] = [(a, 0)]
        while let (array, index) = pending.popLast() {
            var i = index
            while i < array.count {
                if case .array(let inner) = array[i] {
                    pending.append((array, i + 1))
                    pending.append((inner, 0))
                    break
                }
                out.append(array[i])
                i += 1
            }
        }
    }

    func evaluateDescendants(_ input: JValue?) -> JValue? {
        guard let input else { return nil }
        var out = ContiguousArray<JValue>()
        // depth first, in document order: children are pushed last first
        var pending: [JValue] = [input]
        while let v = pending.popLast() {
            switch v {
            case .array(let a): pending.append(contentsOf: a.items.reversed())
            case .object(let o):
                out.append(v)
                pending.append(contentsOf: o.values.reversed())
            default: out.append(v)
            }
        }
        if out.count == 1 { return out[0] }
        return .array(JArray.sequence(out))
    }
}
