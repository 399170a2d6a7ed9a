import StatesCore

/// The tree-walking evaluator: jsonata-js 2.0.6's `evaluate` and friends, synchronous.
///
/// One evaluator serves one evaluation; it carries the limits (depth, step budget,
/// deadline) so that a hostile expression fails with U1001 instead of hanging or
/// overflowing the stack.
///
/// This file holds the dispatch on the node kind; the evaluator's parts are extensions in
/// `JSONataEvaluator+Paths.swift` (paths, steps, tuple streams), `+Selection` (filters,
/// lookup, wildcards, descendants), `+Constructors` (arrays, objects and grouping), `+Sort`,
/// `+Operators`, `+Calls` (function calls, lambdas, partial application, `~>`),
/// `+Transform` and `+Budget` (depth and step accounting).
final class Evaluator {
    let maxDepth: Int
    let maxSteps: Int
    let deadline: (() -> Bool)?
    let random: RandomSource?
    let functions: [String: JFunction]
    /// Milliseconds since the epoch at the start of the evaluation, for `$now()`/`$millis()`.
    let timestamp: Double?

    // Read and written by every file of the evaluator (see JSONataEvaluator+Budget.swift).
    @exclusivity(unchecked) var depth = 0
    @exclusivity(unchecked) var steps = 0

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
        try countStep()

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

    /// What `evaluate` does to a result on the way out (for a node without `keepArray`): an
    /// empty sequence is undefined and a sequence of one is its item.
    @inline(__always) static func collapsed(_ result: JValue?) -> JValue? {
        if case .array(let a)? = result, a.isSequence, !a.isTupleStream {
            if a.isEmpty { return nil }
            if a.count == 1 && !a.keepSingleton { return a[0] }
        }
        return result
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
            try countSteps(counted - 1)
            return r
        }
    }
}
