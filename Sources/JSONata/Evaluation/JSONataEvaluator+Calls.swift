/// Function calls and lambdas: calls by name, the tail-call trampoline, partial application
/// (`$f(?, 1)`), the `~>` operator, and the per-item caller of the higher-order built-ins.
extension Evaluator {
    /// The function a call names: `evaluate(procNode, input, env)`, without the call for a
    /// plain `$name` (the same step counted).
    private func procedure(_ procNode: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        guard procNode.kind == .variable, !procNode.text.isEmpty, !procNode.hasPostStages, depth < maxDepth else {
            return try evaluate(procNode, input, env)
        }
        try countStep()
        return Evaluator.collapsed(env.lookup(variable: procNode))
    }

    func evaluateFunction(_ expr: Node, _ input: JValue?, _ env: Frame, applyTo: JValue?, hasApplyTo: Bool) throws -> JValue? {
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

    func evaluatePartialApplication(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
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

    func evaluateApply(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
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
}
