import StatesCore

/// The tree-walking evaluator: jsonata-js 2.0.6's `evaluate` and friends, synchronous.
///
/// One evaluator serves one evaluation; it carries the limits (depth, step budget,
/// deadline) so that a hostile expression fails with U1001 instead of hanging or
/// overflowing the stack.
final class Evaluator {
    let maxDepth: Int
    let maxSteps: Int
    let deadline: (() -> Bool)?
    let random: RandomSource?
    let functions: [String: JFunction]
    /// Milliseconds since the epoch at the start of the evaluation, for `$now()`/`$millis()`.
    let timestamp: Double?

    @exclusivity(unchecked) private var depth = 0
    @exclusivity(unchecked) private var steps = 0

    init(options: JSONataOptions, functions: [String: JFunction]) {
        maxDepth = options.maxDepth
        maxSteps = options.maxSteps
        if let clock = options.clock, let limit = options.timeLimitMilliseconds {
            let start = clock()
            deadline = { clock() - start > limit }
        } else {
            deadline = nil
        }
        random = options.random
        self.functions = functions
        timestamp = options.clock.map { $0() }
    }

    // MARK: - evaluate

    func evaluate(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        depth += 1
        defer { depth -= 1 }
        if depth > maxDepth {
            throw JSONataError(code: "U1001", position: expr.position)
        }
        steps += 1
        if steps & 1023 == 0 { try checkBudget() }

        var result: JValue?
        if expr.fast != nil, let r = try runFast(expr, input, env) {
            result = r
        } else {
            switch expr.kind {
            case .path: result = try evaluatePath(expr, input, env)
            case .binary: result = try evaluateBinary(expr, input, env)
            case .negate:
                result = try evaluate(expr.expression!, input, env)
                if let r = result {
                    if let d = try r.numeric() {
                        result = .number(-d)
                    } else {
                        throw JSONataError(code: "D1002", position: expr.position, token: "-", value: r)
                    }
                }
            case .arrayConstructor: result = try evaluateArrayConstructor(expr, input, env)
            case .objectConstructor:
                if let keys = expr.literalKeys, !input.isArrayInput {
                    result = try evaluateObject(keys, expr.objectPairs, input, env)
                } else {
                    result = try evaluateGroup(expr.objectPairs, expr.position, input, env)
                }
            case .name: result = Evaluator.lookup(input, expr.text)
            case .string, .number, .value: result = expr.literal
            case .wildcard: result = try evaluateWildcard(input)
            case .descendant: result = evaluateDescendants(input)
            case .parent: result = env.lookup(expr.slot!.label)
            case .condition:
                let c = try evaluate(expr.condition!, input, env)
                if Builtins.boolean(c) == true {
                    result = try evaluate(expr.then!, input, env)
                } else if let e = expr.otherwise {
                    result = try evaluate(e, input, env)
                }
            case .block:
                let frame = expr.blockNeedsFrame ? Frame(parent: env) : env
                for e in expr.expressions { result = try evaluate(e, input, frame) }
            case .bind:
                let v = try evaluate(expr.rhs!, input, env)
                env.bind(expr.lhs!.text, v)
                result = v
            case .regex: result = .function(JFunction(.regex(expr.regex!)))
            case .function: result = try evaluateFunction(expr, input, env, applyTo: nil, hasApplyTo: false)
            case .variable:
                if expr.text.isEmpty {
                    if case .array(let a)? = input, a.outerWrapper, !a.isEmpty { result = a[0] } else { result = input }
                } else {
                    result = env.lookup(variable: expr)
                }
            case .lambda:
                result = .function(JFunction(.lambda(Lambda(input: input, environment: env, parameters: expr.parameters, signature: expr.signature, body: expr.body, isThunk: expr.isThunk))))
            case .partial: result = try evaluatePartialApplication(expr, input, env)
            case .apply: result = try evaluateApply(expr, input, env)
            case .transform: result = .function(JFunction(.transform(expr, env)))
            case .unary, .sort, .filter, .index, .placeholder, .operatorToken, .end:
                result = nil
            }
        }

        if expr.hasPostStages {
            if let predicates = expr.predicate {
                for p in predicates { result = .array(try evaluateFilter(p.expression!, result, env)) }
            }
            if expr.kind != .path, let g = expr.group {
                result = try evaluateGroup(g.pairs, g.position, result, env)
            }
        }
        if case .array(let a)? = result, a.isSequence, !a.isTupleStream {
            if expr.keepArray { a.keepSingleton = true }
            if a.isEmpty {
                result = nil
            } else if a.count == 1 && !a.keepSingleton {
                result = a[0]
            }
        }
        return result
    }

    /// `evaluate`, with literals answered without the bookkeeping of a full evaluation.
    @inline(__always) func value(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        switch expr.kind {
        case .string, .number, .value: return expr.literal
        default: return try evaluate(expr, input, env)
        }
    }

    /// Runs a node's fast form (the node has one), charging the steps the general walk
    /// would; nil when the fast form gave up or the tree would go deeper than `maxDepth`
    /// (the general walk then fails at the same node).
    ///
    /// - Important: the node's own step and depth level are counted by the caller.
    @inline(__always) private func runFast(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue?? {
        // unretained: the node holds its fast form, and the compiled tree outlives the evaluation
        try Unmanaged.passUnretained(expr.fast.unsafelyUnwrapped)._withUnsafeGuaranteedRef { fast in
            if depth + fast.height - 1 > maxDepth { return nil }
            var counted = 0
            guard let r = fast.run(FastValue(input), env, &counted).value else { return nil }
            let before = steps
            steps += counted - 1
            if before >> 10 != steps >> 10 { try checkBudget() }
            return r
        }
    }

    private func checkBudget() throws {
        if steps > maxSteps {
            throw JSONataError(code: "U1001", message: "Expression evaluation exceeded its step budget: check for an infinite loop")
        }
        if let deadline, deadline() {
            throw JSONataError(code: "U1001", message: "Expression evaluation timeout: Check for infinite loop")
        }
    }

    /// Checks the budget from built-ins that loop without evaluating (range, sort).
    func tick(_ n: Int = 1) throws {
        steps += n
        try checkBudget()
    }

    // MARK: - Paths

    private func evaluatePath(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
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
                steps += 1
                if steps & 1023 == 0 { try checkBudget() }
                if let res = Evaluator.collapsed(Evaluator.lookup(item, name)) { add(res) }
            }
        } else if step.stages == nil && !step.hasPostStages, let fast = step.fast, depth + fast.height <= maxDepth {
            // `evaluate(step, item, env)` through the step's fast form, without the call
            for item in input.items {
                var counted = 0
                let r = fast.run(FastValue(item), env, &counted)
                let res: JValue?
                if let v = r.value {
                    let before = steps
                    steps += counted
                    if before >> 10 != steps >> 10 { try checkBudget() }
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

    /// What `evaluate` does to a result on the way out (for a node without `keepArray`): an
    /// empty sequence is undefined and a sequence of one is its item.
    @inline(__always) static func collapsed(_ result: JValue?) -> JValue? {
        if case .array(let a)? = result, a.isSequence, !a.isTupleStream {
            if a.isEmpty { return nil }
            if a.count == 1 && !a.keepSingleton { return a[0] }
        }
        return result
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

    private func frame(from tuple: JValue?, _ env: Frame) -> Frame {
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

    // MARK: - Filters, wildcards, descendants

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
                let before = steps
                steps += counted
                if before >> 10 != steps >> 10 { try checkBudget() }
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

    private func evaluateWildcard(_ input: JValue?) throws -> JValue? {
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

    private func evaluateDescendants(_ input: JValue?) -> JValue? {
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

    // MARK: - Constructors and grouping

    private func evaluateArrayConstructor(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
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
    private func evaluateObject(_ keys: [String], _ pairs: [(Node, Node)], _ input: JValue?, _ env: Frame) throws -> JValue {
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

    // MARK: - Sorting

    private func evaluateSort(_ expr: Node, _ input: JArray, _ env: Frame) throws -> JArray {
        let isTupleSort = input.isTupleStream
        if input.count <= 1 { return input }
        // evaluate each term once per item, then merge-sort on the keys
        var keys: [[JValue?]] = []
        keys.reserveCapacity(input.count)
        for item in input.items {
            var row: [JValue?] = []
            for term in expr.sortTerms {
                if isTupleSort {
                    row.append(try evaluate(term.expression, item.asObject?["@"], frame(from: item, env)))
                } else {
                    row.append(try evaluate(term.expression, item, env))
                }
            }
            keys.append(row)
        }
        let position = expr.position
        let terms = expr.sortTerms
        func swap(_ a: Int, _ b: Int) throws -> Bool {
            var comp = 0
            var index = 0
            while comp == 0 && index < terms.count {
                defer { index += 1 }
                let aa = keys[a][index], bb = keys[b][index]
                guard let aa else {
                    comp = bb == nil ? 0 : 1
                    continue
                }
                guard let bb else {
                    comp = -1
                    continue
                }
                switch (aa, bb) {
                case (.number(let x), .number(let y)):
                    if x == y { continue }
                    comp = x < y ? -1 : 1
                case (.string(let x), .string(let y)):
                    if x == y { continue }
                    comp = Builtins.utf16Less(x, y) ? -1 : 1
                case (.number, .string), (.string, .number):
                    throw JSONataError(code: "T2007", position: position, value: aa, value2: bb)
                default:
                    let bad: JValue
                    switch aa {
                    case .number, .string: bad = bb
                    default: bad = aa
                    }
                    throw JSONataError(code: "T2008", position: position, value: bad)
                }
                if terms[index].descending { comp = -comp }
            }
            return comp == 1
        }
        let order = try Builtins.mergeSort(Array(0..<input.count), swap)
        let out = JArray(ContiguousArray(order.map { input.items[$0] }))
        out.isTupleStream = isTupleSort
        out.isSequence = true
        return out
    }

    // MARK: - Operators

    private func evaluateBinary(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        if let chain = expr.concatChain, depth + chain.count - 1 <= maxDepth {
            return try evaluateConcatenation(chain, input, env)
        }
        let lhs = try value(expr.lhs!, input, env)
        let op = expr.op
        if op == .and || op == .or {
            let l = Builtins.boolean(lhs) ?? false
            if op == .and {
                if !l { return .bool(false) }
                return .bool(Builtins.boolean(try evaluate(expr.rhs!, input, env)) ?? false)
            }
            if l { return .bool(true) }
            return .bool(Builtins.boolean(try evaluate(expr.rhs!, input, env)) ?? false)
        }
        let rhs = try value(expr.rhs!, input, env)
        do {
            switch op {
            case .add, .subtract, .multiply, .divide, .modulo:
                return try Evaluator.arithmetic(lhs, rhs, op)
            case .equal:
                guard let lhs, let rhs else { return .bool(false) }
                return .bool(Builtins.deepEqual(lhs, rhs))
            case .notEqual:
                guard let lhs, let rhs else { return .bool(false) }
                return .bool(!Builtins.deepEqual(lhs, rhs))
            case .less, .lessEqual, .greater, .greaterEqual:
                return try Evaluator.compare(lhs, rhs, op)
            case .concat:
                let l = try lhs.map { try Builtins.string($0) } ?? ""
                let r = try rhs.map { try Builtins.string($0) } ?? ""
                return .string(l + r)
            case .range:
                return try evaluateRange(lhs, rhs)
            case .includes:
                guard let lhs, let rhs else { return .bool(false) }
                if case .array(let a) = rhs {
                    for item in a.items where Builtins.strictEqual(item, lhs) { return .bool(true) }
                    return .bool(false)
                }
                return .bool(Builtins.strictEqual(rhs, lhs))
            case .and, .or, .other:
                return nil
            }
        } catch var e as JSONataError {
            if e.position == nil { e.position = expr.position }
            if e.token == nil { e.setToken(expr.text) }
            throw e
        }
    }

    /// `a & b & c ...` built into one string, as the nested `&` nodes would build it: each
    /// operand evaluated at the depth its node would evaluate it, the inner nodes' steps
    /// charged, and a conversion error placed at the node that converts the operand.
    ///
    /// - Parameter chain: the `&` nodes, innermost first (`Node.concatChain`).
    private func evaluateConcatenation(_ chain: [Node], _ input: JValue?, _ env: Frame) throws -> JValue? {
        let k = chain.count
        let base = depth
        defer { depth = base }
        let before = steps
        steps += k - 1
        if before >> 10 != steps >> 10 { try checkBudget() }
        var out = ""
        func append(_ v: JValue?, _ node: Node) throws {
            guard let v else { return }
            do {
                out += try Builtins.string(v)
            } catch var e as JSONataError {
                if e.position == nil { e.position = node.position }
                if e.token == nil { e.setToken(node.text) }
                throw e
            }
        }
        // the innermost node evaluates both its operands before converting them
        depth = base + k - 1
        let first = try value(chain[0].lhs!, input, env)
        let second = try value(chain[0].rhs!, input, env)
        try append(first, chain[0])
        try append(second, chain[0])
        for m in 1..<k {
            depth = base + k - 1 - m
            try append(try value(chain[m].rhs!, input, env), chain[m])
        }
        return .string(out)
    }

    static func arithmetic(_ lhs: JValue?, _ rhs: JValue?, _ op: Node.BinaryOp) throws -> JValue? {
        var l: Double?
        var r: Double?
        if let lhs {
            l = try lhs.numeric()
            if l == nil { throw JSONataError(code: "T2001", value: lhs) }
        }
        if let rhs {
            r = try rhs.numeric()
            if r == nil { throw JSONataError(code: "T2002", value: rhs) }
        }
        guard let l, let r else { return nil }
        switch op {
        case .add: return .number(l + r)
        case .subtract: return .number(l - r)
        case .multiply: return .number(l * r)
        case .divide: return .number(l / r)
        default: return .number(l.truncatingRemainder(dividingBy: r))
        }
    }

    static func compare(_ lhs: JValue?, _ rhs: JValue?, _ op: Node.BinaryOp) throws -> JValue? {
        func comparable(_ v: JValue?) -> Bool {
            switch v {
            case nil, .string?, .number?: return true
            default: return false
            }
        }
        let lc = comparable(lhs), rc = comparable(rhs)
        if !lc || !rc {
            throw JSONataError(code: "T2010", value: !lc ? lhs : rhs)
        }
        guard let lhs, let rhs else { return nil }
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return .bool(Builtins.ordered(op, a, b))
        case (.string(let a), .string(let b)): return .bool(Builtins.ordered(op, a, b))
        default:
            throw JSONataError(code: "T2009", value: lhs, value2: rhs)
        }
    }

    private func evaluateRange(_ lhs: JValue?, _ rhs: JValue?) throws -> JValue? {
        func integer(_ v: JValue?) -> Double? {
            if case .number(let d)? = v, d.isFinite, d.rounded(.towardZero) == d { return d }
            return nil
        }
        if lhs != nil && integer(lhs) == nil { throw JSONataError(code: "T2003", value: lhs) }
        if rhs != nil && integer(rhs) == nil { throw JSONataError(code: "T2004", value: rhs) }
        guard let l = integer(lhs), let r = integer(rhs) else { return nil }
        if l > r { return nil }
        let size = r - l + 1
        if size > 1e7 { throw JSONataError(code: "D2014", value: .number(size)) }
        try tick(Int(size) / 8)
        var items = ContiguousArray<JValue>()
        items.reserveCapacity(Int(size))
        var v = l
        while v <= r {
            items.append(.number(v))
            v += 1
        }
        return .array(JArray.sequence(items))
    }

    // MARK: - Functions

    /// The function a call names: `evaluate(procNode, input, env)`, without the call for a
    /// plain `$name` (the same step counted).
    private func procedure(_ procNode: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        guard procNode.kind == .variable, !procNode.text.isEmpty, !procNode.hasPostStages, depth < maxDepth else {
            return try evaluate(procNode, input, env)
        }
        steps += 1
        if steps & 1023 == 0 { try checkBudget() }
        return Evaluator.collapsed(env.lookup(variable: procNode))
    }

    private func evaluateFunction(_ expr: Node, _ input: JValue?, _ env: Frame, applyTo: JValue?, hasApplyTo: Bool) throws -> JValue? {
        let procNode = expr.procedure!
        let proc = try procedure(procNode, input, env)
        if proc == nil, procNode.kind == .path, env.lookup(procNode.steps[0].text) != nil {
            throw JSONataError(code: "T1005", position: expr.position, token: procNode.steps[0].text)
        }
        var args: [JValue?] = []
        args.reserveCapacity(expr.arguments.count + 1)
        if hasApplyTo { args.append(applyTo) }
        for a in expr.arguments { args.append(try value(a, input, env)) }
        let procName = procNode.kind == .path ? procNode.steps[0].text : procNode.text
        do {
            return try apply(proc, args, input, env, name: procName)
        } catch var e as JSONataError {
            if e.position == nil { e.position = expr.position }
            if e.token == nil { e.setToken(procName) }
            throw e
        }
    }

    /// Applies a function value, running the tail-call trampoline.
    func apply(_ proc: JValue?, _ args: [JValue?], _ input: JValue?, _ env: Frame, name: String? = nil) throws -> JValue? {
        try resolveTailCalls(try applyInner(proc, args, input, env, name: name), input, env)
    }

    @inline(__always) private func enterCall() throws {
        depth += 1
        if depth > maxDepth {
            depth -= 1
            throw JSONataError(code: "U1001")
        }
    }

    /// The trampoline: runs the tail calls (thunks) a function body returned.
    private func resolveTailCalls(_ first: JValue?, _ input: JValue?, _ env: Frame) throws -> JValue? {
        var result = first
        while case .function(let f)? = result, case .lambda(let l) = f.kind, l.isThunk {
            let call = l.body!
            let next = try evaluate(call.procedure!, l.input, l.environment)
            var evaluated: [JValue?] = []
            evaluated.reserveCapacity(call.arguments.count)
            for a in call.arguments { evaluated.append(try evaluate(a, l.input, l.environment)) }
            let nextName = call.procedure!.kind == .variable ? call.procedure!.text : nil
            try tick()
            result = try applyInner(next, evaluated, input, env, name: nextName)
        }
        return result
    }

    private func applyInner(_ proc: JValue?, _ args: [JValue?], _ input: JValue?, _ env: Frame, name: String?) throws -> JValue? {
        guard case .function(let f)? = proc else {
            throw JSONataError(code: "T1006", token: name)
        }
        var validated = args
        if let sig = f.signature {
            validated = try sig.validate(args, context: input, name: f.name ?? name)
        }
        switch f.kind {
        case .lambda(let l):
            return try applyProcedure(l, validated)
        case .builtin(let b):
            // A built-in counts as a level: a higher-order one (`$filter`, `$map`, ...) calls
            // back into a lambda whose tail call the trampoline below it resolves, so a
            // recursion through it would deepen the native stack without any `evaluate`.
            try enterCall()
            defer { depth -= 1 }
            var ctx = CallContext(evaluator: self, input: input, environment: env)
            return try b.implementation(&ctx, validated)
        case .regex(let r):
            guard case .string(let s)? = validated.first ?? nil else { return nil }
            var from = 0
            if validated.count > 1, case .number(let d)? = validated[1] { from = Int(d) }
            return try Builtins.regexMatch(r, s, from: from, evaluator: self)
        case .closure(_, let c):
            try enterCall()
            defer { depth -= 1 }
            return try c(validated)
        case .transform(let node, let frame):
            return try transform(node, frame, validated.first ?? nil)
        }
    }

    /// Calls a function value once per item, as the higher-order built-ins do (`$map`,
    /// `$filter`): `apply(fn, [item, index, array] prefixed to the function's arity, nil, env)`.
    ///
    /// A plain lambda (no signature, no partial application) is called without the argument
    /// arrays, and its scope is reused while nothing kept it (`isKnownUniquelyReferenced`
    /// after the call: a closure made in the body keeps it, and then the next call gets a
    /// new one), so that each call still sees a fresh scope.
    final class ItemCaller {
        // A class with constant fields, so that a call reads them without copying them out.
        private let evaluator: Evaluator
        private let function: JValue?
        private let arity: Int
        private let environment: Frame
        /// The parts of a plain lambda (nil `body` for any other function value).
        private let body: Node?
        private let lambdaInput: JValue?
        private let lambdaScope: Frame?
        private let parameters: [String]
        private var frame: Frame?

        init(_ evaluator: Evaluator, _ function: JValue?, environment: Frame) {
            self.evaluator = evaluator
            self.function = function
            self.environment = environment
            arity = function?.asFunction?.arity ?? 1
            if case .function(let f)? = function, case .lambda(let l) = f.kind, l.signature == nil, l.nativeBody == nil, l.body != nil, !l.isThunk {
                body = l.body
                lambdaInput = l.input
                lambdaScope = l.environment
                parameters = l.parameters
            } else {
                body = nil
                lambdaInput = nil
                lambdaScope = nil
                parameters = []
            }
        }

        func call(_ item: JValue, _ index: Int, _ array: JValue) throws -> JValue? {
            guard let body else {
                var args: [JValue?] = [item]
                if arity >= 2 { args.append(.number(Double(index))) }
                if arity >= 3 { args.append(array) }
                return try evaluator.apply(function, args, nil, environment)
            }
            let scope: Frame
            if isKnownUniquelyReferenced(&frame), let reused = frame {
                reused.removeAll()
                scope = reused
            } else {
                scope = Frame(parent: lambdaScope)
                frame = scope
            }
            if arity == 1 {
                scope.bind(parameters[0], item)
            } else {
                for (i, p) in parameters.enumerated() {
                    switch i {
                    case 0: scope.bind(p, item)
                    case 1: scope.bind(p, .number(Double(index)))
                    case 2: scope.bind(p, array)
                    default: scope.bind(p, nil)
                    }
                }
            }
            let result = try evaluator.evaluate(body, lambdaInput, scope)
            return try evaluator.resolveTailCalls(result, nil, environment)
        }
    }

    private func applyProcedure(_ l: Lambda, _ args: [JValue?]) throws -> JValue? {
        let env = Frame(parent: l.environment)
        for (i, p) in l.parameters.enumerated() {
            env.bind(p, i < args.count ? args[i] : nil)
        }
        if let native = l.nativeBody {
            var nativeArgs: [JValue?] = []
            for i in 0..<native.arity { nativeArgs.append(env.lookup(Builtin.parameterNames[i])) }
            var ctx = CallContext(evaluator: self, input: nil, environment: env)
            return try native.implementation(&ctx, nativeArgs)
        }
        return try evaluate(l.body!, l.input, env)
    }

    private func evaluatePartialApplication(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        var args: [JValue??] = []
        for a in expr.arguments {
            if a.kind == .placeholder { args.append(.none) } else { args.append(.some(try evaluate(a, input, env))) }
        }
        let procNode = expr.procedure!
        let proc = try procedure(procNode, input, env)
        if proc == nil, procNode.kind == .path, env.lookup(procNode.steps[0].text) != nil {
            throw JSONataError(code: "T1007", position: expr.position, token: procNode.steps[0].text)
        }
        guard case .function(let f)? = proc else {
            throw JSONataError(code: "T1008", position: expr.position, token: procNode.kind == .path ? procNode.steps[0].text : procNode.text)
        }
        let base: Lambda
        switch f.kind {
        case .lambda(let l):
            base = l
        case .builtin(let b):
            base = Lambda(input: nil, environment: Frame(parent: nil), parameters: Array(Builtin.parameterNames.prefix(b.arity)), nativeBody: b)
        default:
            throw JSONataError(code: "T1008", position: expr.position, token: procNode.kind == .path ? procNode.steps[0].text : procNode.text)
        }
        let frame = Frame(parent: base.environment)
        var unbound: [String] = []
        for (i, p) in base.parameters.enumerated() {
            if i < args.count, case .none = args[i] {
                unbound.append(p)
            } else {
                frame.bind(p, i < args.count ? args[i]! : nil)
            }
        }
        let partial = Lambda(input: base.input, environment: frame, parameters: unbound, signature: nil, body: base.body, nativeBody: base.nativeBody)
        return .function(JFunction(.lambda(partial)))
    }

    private static let chainAST: Node = try! Parser.parse("function($f, $g) { function($x){ $g($f($x)) } }")

    private func evaluateApply(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        let lhs = try evaluate(expr.lhs!, input, env)
        if expr.rhs!.kind == .function {
            return try evaluateFunction(expr.rhs!, input, env, applyTo: lhs, hasApplyTo: true)
        }
        let fn = try evaluate(expr.rhs!, input, env)
        guard case .function? = fn else {
            throw JSONataError(code: "T2006", position: expr.position, value: fn)
        }
        if case .function? = lhs {
            let chain = try evaluate(Evaluator.chainAST, nil, env)
            return try apply(chain, [lhs, fn], nil, env)
        }
        return try apply(fn, [lhs], nil, env)
    }

    private func transform(_ expr: Node, _ env: Frame, _ obj: JValue?) throws -> JValue? {
        guard let obj else { return nil }
        let cloneFn = env.lookup("clone")
        guard case .function? = cloneFn else {
            throw JSONataError(code: "T2013", position: expr.position)
        }
        let result = try apply(cloneFn, [obj], nil, env)
        guard let matches = try evaluate(expr.pattern!, result, env) else { return result }
        let list: ContiguousArray<JValue>
        if case .array(let a) = matches { list = a.items } else { list = [matches] }
        for match in list {
            if let update = try evaluate(expr.update!, match, env) {
                guard case .object(let u) = update else {
                    throw JSONataError(code: "T2011", position: expr.update!.position, value: update)
                }
                if case .object(let m) = match {
                    for i in 0..<u.count { m.set(u.keys[i], u.values[i]) }
                }
            }
            if let del = expr.delete, let deletions = try evaluate(del, match, env) {
                var names: [String] = []
                switch deletions {
                case .string(let s): names = [s]
                case .array(let a):
                    for v in a.items {
                        guard case .string(let s) = v else {
                            throw JSONataError(code: "T2012", position: del.position, value: deletions)
                        }
                        names.append(s)
                    }
                default:
                    throw JSONataError(code: "T2012", position: del.position, value: deletions)
                }
                if case .object(let m) = match {
                    for n in names { m.remove(n) }
                }
            }
        }
        return result
    }
}
