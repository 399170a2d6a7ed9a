/// Paths: `a.b.c`, evaluated step by step over sequences, with the stages of each step
/// (filters, `#` index bindings) and the tuple streams that `@` and `#` bind variables in.
extension Evaluator {
    func evaluatePath(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        if expr.fastPath != nil {
            // the walk counts no steps, as the simple walk below does not; the fast form is
            // unretained: the node holds it, and the compiled tree outlives the evaluation
            var uncounted = 0
            let r = Unmanaged.passUnretained(expr.fastPath.unsafelyUnwrapped)._withUnsafeGuaranteedRef {
                $0.run(FastValue(input), env, &uncounted)
            }
            if let v = r.value { return v }
        }
        if expr.isSimplePath {
            // walk single objects directly; hand over to the general algorithm at the first array
            let steps = expr.steps
            let first = steps[0]
            var current: JValue?
            var start = 0
            if first.kind == .variable {
                if first.text.isEmpty {
                    if case .array(let a)? = input, a.outerWrapper, !a.isEmpty { current = a[0] } else { current = input }
                } else {
                    current = env.lookup(first.text)
                }
                start = 1
            } else {
                current = input
            }
            var i = start
            while i < steps.count, case .object(let o)? = current {
                current = o[steps[i].text]
                i += 1
            }
            if i == steps.count || current == nil {
                if case .array(let a)? = current, a.isSequence, start == 1, i == 1 {
                    // `$seq` alone: let the general path flatten and collapse it
                } else {
                    return current
                }
            }
            if i > start || start == 1 {
                guard let value = current else { return nil }
                var seq: JArray
                if case .array(let a) = value {
                    if i == steps.count && !a.isSequence { return value }
                    seq = a.isCons ? JArray.sequence(of: value) : JArray.sequence(a.items)
                } else {
                    if i == steps.count { return value }
                    seq = JArray.sequence(of: value)
                }
                if i == steps.count { return .array(seq) }
                return try evaluatePathSteps(expr, from: i, JArray.sequence(seq.items), false, env)
            }
        }
        // nil with `undefinedInput` stands for jsonata-js's [undefined]
        var inputSequence: JArray
        var undefinedInput = false
        if case .array(let a)? = input, expr.steps[0].kind != .variable {
            inputSequence = a
        } else if let input {
            inputSequence = JArray.sequence(of: input)
        } else {
            inputSequence = JArray.sequence()
            undefinedInput = true
        }
        return try evaluatePathSteps(expr, from: 0, inputSequence, undefinedInput, env)
    }

    private func evaluatePathSteps(_ expr: Node, from: Int, _ initial: JArray, _ undefinedStart: Bool, _ env: Frame) throws -> JValue? {
        var inputSequence = initial
        var undefinedInput = undefinedStart
        var resultSequence: JArray?
        var isTupleStream = false
        var tupleBindings: JArray?
        let count = expr.steps.count
        for ii in from..<count {
            let step = expr.steps[ii]
            if step.isTuple { isTupleStream = true }
            if ii == 0 && step.isConsArray {
                let r = try evaluate(step, .array(inputSequence), env)
                switch r {
                case .array(let a)?: resultSequence = a
                case .some(let v): resultSequence = JArray.sequence(of: v)
                case nil: resultSequence = nil
                }
            } else if isTupleStream {
                tupleBindings = try evaluateTupleStep(step, inputSequence, undefinedInput, tupleBindings, env)
            } else {
                resultSequence = try evaluateStep(step, inputSequence, undefinedInput, env, ii == count - 1)
            }
            undefinedInput = false
            if !isTupleStream && (resultSequence == nil || resultSequence!.isEmpty) { break }
            if step.focus == nil, let r = resultSequence { inputSequence = r }
        }
        if isTupleStream {
            if expr.isTuple {
                resultSequence = tupleBindings
            } else {
                let out = JArray.sequence()
                if let tb = tupleBindings {
                    out.items.reserveCapacity(tb.count)
                    for t in tb.items { if let v = t.asObject?["@"] { out.append(v) } }
                }
                resultSequence = out
            }
        }
        if expr.keepSingletonArray, var r = resultSequence {
            if r.isCons && !r.isSequence {
                r = JArray.sequence(of: .array(r))
                resultSequence = r
            }
            // the flag only matters on sequences; input arrays are never written to
            if r.isSequence { r.keepSingleton = true }
        }
        if let g = expr.group {
            let groupInput: JValue? = isTupleStream ? tupleBindings.map { .array($0) } : resultSequence.map { .array($0) }
            return try evaluateGroup(g.pairs, g.position, groupInput, env)
        }
        return resultSequence.map { .array($0) }
    }

    private func evaluateStep(_ step: Node, _ input: JArray, _ undefinedInput: Bool, _ env: Frame, _ lastStep: Bool) throws -> JArray {
        if step.kind == .sort {
            var result = try evaluateSort(step, input, env)
            if let stages = step.stages { result = try evaluateStages(stages, result, env) }
            return result
        }
        let out = JArray.sequence()
        out.items.reserveCapacity(input.count)
        var produced = 0
        // the result when it is the only one and a plain array (the last step returns it)
        var only: JArray?
        func add(_ res: JValue) {
            produced += 1
            if case .array(let a) = res {
                only = produced == 1 && !a.isSequence ? a : nil
                if !a.isCons {
                    out.items.append(contentsOf: a.items)
                    return
                }
            }
            out.items.append(res)
        }
        if undefinedInput {
            if let res = try evaluateInStep(step, nil, env) { add(res) }
        } else if step.kind == .name && step.stages == nil && !step.hasPostStages && !step.keepArray && depth < maxDepth {
            // `evaluate(step, item, env)` for a plain field name, without the call
            let name = step.text
            for item in input.items {
                try countStep()
                if let res = Evaluator.collapsed(Evaluator.lookup(item, name)) { add(res) }
            }
        } else if step.stages == nil && !step.hasPostStages, let fast = step.fast, depth + fast.height <= maxDepth {
            // `evaluate(step, item, env)` through the step's fast form, without the call
            for item in input.items {
                var counted = 0
                let r = fast.run(FastValue(item), env, &counted)
                let res: JValue?
                if let v = r.value {
                    try countSteps(counted)
                    res = v
                } else {
                    res = try evaluate(step, item, env)
                }
                if let res { add(res) }
            }
        } else {
            for item in input.items {
                if let res = try evaluateInStep(step, item, env) { add(res) }
            }
        }
        if lastStep && produced == 1, let only { return only }
        return out
    }

    /// One item of a step: the step's value, filtered by its stages.
    private func evaluateInStep(_ step: Node, _ item: JValue?, _ env: Frame) throws -> JValue? {
        var res = try evaluate(step, item, env)
        if let stages = step.stages {
            for stage in stages where stage.kind == .filter {
                res = .array(try evaluateFilter(stage.expression!, res, env))
            }
        }
        return res
    }

    private func evaluateStages(_ stages: [Node], _ input: JArray, _ env: Frame) throws -> JArray {
        var result = input
        for stage in stages {
            if stage.kind == .filter {
                result = try evaluateFilter(stage.expression!, .array(result), env)
            } else if stage.kind == .index {
                for (i, t) in result.items.enumerated() {
                    t.asObject?.set(stage.text, .number(Double(i)))
                }
            }
        }
        return result
    }

    func frame(from tuple: JValue?, _ env: Frame) -> Frame {
        let f = Frame(parent: env)
        if let o = tuple?.asObject {
            for i in 0..<o.count { f.bind(o.keys[i], o.values[i]) }
        }
        return f
    }

    private func evaluateTupleStep(_ step: Node, _ input: JArray, _ undefinedInput: Bool, _ bindings: JArray?, _ env: Frame) throws -> JArray {
        if step.kind == .sort {
            var result: JArray
            if let bindings {
                result = try evaluateSort(step, bindings, env)
            } else {
                let sorted = try evaluateSort(step, input, env)
                result = JArray.sequence()
                result.isTupleStream = true
                for (i, v) in sorted.items.enumerated() {
                    let t = JObject()
                    t.set("@", v)
                    t.set(step.indexVariable ?? "undefined", .number(Double(i)))
                    result.append(.object(t))
                }
            }
            if let stages = step.stages { result = try evaluateStages(stages, result, env) }
            return result
        }
        let result = JArray.sequence()
        result.isTupleStream = true
        let tuples: ContiguousArray<JValue>
        if let bindings {
            tuples = bindings.items
        } else if undefinedInput {
            tuples = [.object(JObject())]
        } else {
            var ts = ContiguousArray<JValue>()
            ts.reserveCapacity(input.count)
            for item in input.items {
                let t = JObject()
                t.set("@", item)
                ts.append(.object(t))
            }
            tuples = ts
        }
        for tv in tuples {
            guard let tuple = tv.asObject else { continue }
            let stepEnv = frame(from: tv, env)
            guard let res = try evaluate(step, tuple["@"], stepEnv) else { continue }
            let resItems: ContiguousArray<JValue>
            var resIsTuple = false
            if case .array(let a) = res {
                resItems = a.items
                resIsTuple = a.isTupleStream
            } else {
                resItems = [res]
            }
            for (bb, item) in resItems.enumerated() {
                let t = tuple.copy()
                if resIsTuple {
                    if let o = item.asObject {
                        for i in 0..<o.count { t.set(o.keys[i], o.values[i]) }
                    }
                } else {
                    if let focus = step.focus {
                        t.set(focus, item)
                        if let at = tuple["@"] { t.set("@", at) }
                    } else {
                        t.set("@", item)
                    }
                    if let iv = step.indexVariable { t.set(iv, .number(Double(bb))) }
                    if let anc = step.ancestor, let at = tuple["@"] { t.set(anc.label, at) }
                }
                result.append(.object(t))
            }
        }
        if let stages = step.stages { return try evaluateStages(stages, result, env) }
        return result
    }
}
