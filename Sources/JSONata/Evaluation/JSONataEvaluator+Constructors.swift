/// Array constructors (`[...]`) and object constructors (`{...}`), which group their input
/// by key (`Account.Order{Product.SKU: Price}`).
extension Evaluator {
    func evaluateArrayConstructor(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        let result = JArray()
        for item in expr.expressions {
            guard let v = try evaluate(item, input, env) else { continue }
            if item.kind == .arrayConstructor {
                result.append(v)
            } else if case .array(let a) = v {
                result.items.append(contentsOf: a.items)
            } else {
                result.append(v)
            }
        }
        if expr.isConsArray { result.isCons = true }
        return .array(result)
    }

    /// `evaluateGroup` for one input item and distinct literal keys: no grouping and no
    /// duplicate check, the members appended in order.
    func evaluateObject(_ keys: [String], _ pairs: [(Node, Node)], _ input: JValue?, _ env: Frame) throws -> JValue {
        let result = JObject(minimumCapacity: pairs.count)
        for (pi, pair) in pairs.enumerated() {
            if let v = try value(pair.1, input, env) { result.appendNew(keys[pi], v) }
        }
        return .object(result)
    }

    func evaluateGroup(_ pairs: [(Node, Node)], _ position: Int, _ input: JValue?, _ env: Frame) throws -> JValue {
        let result = JObject()
        var reduce = false
        var items: ContiguousArray<JValue?>
        switch input {
        case .array(let a)?:
            reduce = a.isTupleStream
            items = ContiguousArray(a.items.lazy.map { Optional($0) })
            if items.isEmpty { items.append(nil) }
        default:
            items = [input]
        }
        if items.count == 1 && !reduce {
            // one item: no grouping needed, keys must still be distinct per pair
            let item = items[0]
            result.reserveCapacity(pairs.count)
            var keys: [String?] = []
            keys.reserveCapacity(pairs.count)
            for (pi, pair) in pairs.enumerated() {
                let key = try value(pair.0, item, env)
                switch key {
                case .string(let k)?:
                    if let prev = keys.firstIndex(of: k), prev != pi {
                        throw JSONataError(code: "D1009", position: position, value: key)
                    }
                    keys.append(k)
                case nil: keys.append(nil)
                case .some(let v): throw JSONataError(code: "T1003", position: position, value: v)
                }
            }
            for (pi, pair) in pairs.enumerated() {
                guard let k = keys[pi] else { continue }
                if let v = try value(pair.1, item, env) { result.set(k, v) }
            }
            return .object(result)
        }
        var order: [String] = []
        var groups: [String: (data: JValue?, exprIndex: Int)] = [:]
        for item in items {
            let e = reduce ? frame(from: item, env) : env
            let context = reduce ? item?.asObject?["@"] : item
            for (pi, pair) in pairs.enumerated() {
                let key = try evaluate(pair.0, context, e)
                guard let key else { continue }
                guard case .string(let k) = key else {
                    throw JSONataError(code: "T1003", position: position, value: key)
                }
                if let existing = groups[k] {
                    if existing.exprIndex != pi {
                        throw JSONataError(code: "D1009", position: position, value: key)
                    }
                    groups[k] = (Builtins.append(existing.data, item), pi)
                } else {
                    groups[k] = (item, pi)
                    order.append(k)
                }
            }
        }
        for k in order {
            let entry = groups[k]!
            var context = entry.data
            var e = env
            if reduce {
                let tuple = reduceTupleStream(entry.data)
                context = tuple["@"]
                tuple.remove("@")
                e = frame(from: .object(tuple), env)
            }
            if let v = try evaluate(pairs[entry.exprIndex].1, context, e) { result.set(k, v) }
        }
        return .object(result)
    }

    private func reduceTupleStream(_ stream: JValue?) -> JObject {
        switch stream {
        case .object(let o)?: return o.copy()
        case .array(let a)?:
            let result = a.isEmpty ? JObject() : (a[0].asObject?.copy() ?? JObject())
            for i in 1..<max(1, a.count) {
                guard let t = a[i].asObject else { continue }
                for j in 0..<t.count {
                    let k = t.keys[j]
                    if let merged = Builtins.append(result[k], t.values[j]) { result.set(k, merged) }
                }
            }
            return result
        default: return JObject()
        }
    }
}
