import StatesCore

/// Options of one JSONata evaluation.
///
/// The limits make a hostile expression fail with `U1001` rather than hang or crash the
/// daemon: `maxDepth` bounds the nesting of evaluation (and so the native stack),
/// `maxSteps` bounds the number of evaluation steps (deterministic), and `timeLimit`
/// bounds wall time through an injected clock (this module has no clock of its own).
public struct JSONataOptions: Sendable {
    /// Maximum nesting depth of evaluation; jsonata-js counts the same way (its `depth`).
    /// Default 400, which keeps the native stack under about 2 MB.
    public var maxDepth: Int
    /// Maximum number of evaluation steps. Default 50 million.
    public var maxSteps: Int
    /// Wall-time limit in milliseconds, checked with `clock` every 1,024 steps.
    public var timeLimitMilliseconds: Double?
    /// Milliseconds since the Unix epoch; used for `timeLimitMilliseconds` and by
    /// `$now()`/`$millis()` (which return the time the evaluation started). Without a
    /// clock, `$now()` is the epoch.
    public var clock: (@Sendable () -> Double)?
    /// Randomness for `$random()`, `$shuffle()` and `$uuid()`; nil uses the system generator.
    public var random: RandomSource?
    /// Registers the Step Functions functions `$partition`, `$range`, `$hash`,
    /// `$random([seed])`, `$uuid` and `$parse`.
    public var stepFunctionsFunctions: Bool

    public init(maxDepth: Int = 400, maxSteps: Int = 50_000_000, timeLimitMilliseconds: Double? = nil,
                clock: (@Sendable () -> Double)? = nil, random: RandomSource? = nil,
                stepFunctionsFunctions: Bool = false) {
        self.maxDepth = maxDepth
        self.maxSteps = maxSteps
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.clock = clock
        self.random = random
        self.stepFunctionsFunctions = stepFunctionsFunctions
    }

    /// The options Step Functions evaluation uses: its function set, the given randomness.
    public static func stepFunctions(random: RandomSource? = nil, clock: (@Sendable () -> Double)? = nil) -> JSONataOptions {
        JSONataOptions(timeLimitMilliseconds: clock == nil ? nil : 10_000, clock: clock, random: random, stepFunctionsFunctions: true)
    }
}

/// A compiled JSONata expression: parsed once, evaluated many times, safe to share.
///
/// ```swift
/// let e = try JSONataExpression("$sum(items.price)")
/// let total = try e.evaluate(input: json)          // nil when the result is undefined
/// ```
public struct JSONataExpression: Sendable {
    /// The expression text.
    public let source: String
    private let box: ASTBox

    /// The free variables the expression reads (`$name`, without `$`), in any scope.
    ///
    /// Step Functions uses these to know which workflow variables a state references.
    /// Variables bound inside the expression (`:=`, lambda parameters) are included only
    /// when they are also read before being bound; built-in function names are left out.
    public let referencedVariables: Set<String>

    // @unchecked: the syntax tree is never mutated after compilation.
    private final class ASTBox: @unchecked Sendable {
        let root: Node
        init(_ root: Node) { self.root = root }
    }

    /// Compiles an expression.
    ///
    /// - Throws: a syntax error (`S0xxx`) with its position and token.
    public init(_ source: String) throws(JSONataError) {
        self.source = source
        let root = try Parser.parse(source)
        box = ASTBox(root)
        referencedVariables = JSONataExpression.freeVariables(root)
    }

    /// Evaluates the expression.
    ///
    /// - Parameters:
    ///   - input: the context value (`$`); nil for undefined.
    ///   - bindings: variables by name without `$` (e.g. `states`, workflow variables).
    ///   - options: limits, randomness, and the function set.
    /// - Returns: the result, or nil when it is undefined.
    /// - Throws: `JSONataError` with the reference code (`T2001`, `D3030`, ...; `U1001`
    ///   when a limit is hit).
    public func evaluate(input: JSON?, bindings: [String: JSON] = [:], options: JSONataOptions = .init()) throws(JSONataError) -> JSON? {
        let value = try evaluateValue(input: input.map(JValue.init(json:)), bindings: bindings, options: options)
        return try value?.toJSON()
    }

    /// Evaluates the expression against an input converted once with `JSONataValue`.
    ///
    /// Use this when one input serves several evaluations (the expressions of one state,
    /// a benchmark): the conversion from `JSON` is then paid once.
    public func evaluate(prepared input: JSONataValue?, bindings: [String: JSONataValue] = [:], options: JSONataOptions = .init()) throws(JSONataError) -> JSON? {
        let value = try evaluateValue(input: input?.value, preparedBindings: bindings.isEmpty ? [:] : bindings.mapValues { $0.value }, options: options)
        return try value?.toJSON()
    }

    func evaluateValue(input inputValue: JValue?, bindings: [String: JSON], options: JSONataOptions) throws(JSONataError) -> JValue? {
        try evaluateValue(input: inputValue, preparedBindings: bindings.isEmpty ? [:] : bindings.mapValues(JValue.init(json:)), options: options)
    }

    func evaluateValue(input inputValue: JValue?, preparedBindings bindings: [String: JValue?], options: JSONataOptions) throws(JSONataError) -> JValue? {
        let functions = options.stepFunctionsFunctions ? Library.stepFunctions : Library.standard
        let evaluator = Evaluator(options: options, functions: functions)
        let env = Frame(root: functions, stepFunctions: options.stepFunctionsFunctions)
        var input = inputValue
        for (k, v) in bindings { env.bind(k, v) }
        env.bind("$", input)
        if case .array(let a)? = input, !a.isSequence {
            let wrapper = JArray.sequence(of: .array(a))
            wrapper.outerWrapper = true
            input = .array(wrapper)
        }
        do {
            return try evaluator.evaluate(box.root, input, env)
        } catch let e as JSONataError {
            throw e
        } catch {
            throw JSONataError(code: "U1001", message: "\(error)")
        }
    }

    private static func freeVariables(_ root: Node) -> Set<String> {
        var out = Set<String>()
        var seen = Set<ObjectIdentifier>()
        func visit(_ n: Node?) {
            guard let n, seen.insert(ObjectIdentifier(n)).inserted else { return }
            if n.kind == .variable, !n.text.isEmpty, n.text != "$", Library.stepFunctions[n.text] == nil {
                out.insert(n.text)
            }
            for c in [n.lhs, n.rhs, n.expression, n.condition, n.then, n.otherwise, n.procedure, n.body, n.pattern, n.update, n.delete] { visit(c) }
            for c in n.expressions { visit(c) }
            for c in n.steps { visit(c) }
            for c in n.arguments { visit(c) }
            for c in n.predicate ?? [] { visit(c) }
            for c in n.stages ?? [] { visit(c) }
            for (k, v) in n.objectPairs { visit(k); visit(v) }
            for (k, v) in n.group?.pairs ?? [] { visit(k); visit(v) }
            for t in n.sortTerms { visit(t.expression) }
        }
        visit(root)
        return out
    }
}

extension JSONataExpression {
    /// What an expression produced, telling undefined and a function apart (Step Functions
    /// reports them differently).
    public enum Outcome: Sendable {
        case value(JSON)
        case undefined
        case function
    }

    /// Evaluates the expression like `evaluate(input:bindings:options:)`, telling an
    /// undefined result and a function apart.
    public func evaluateOutcome(input: JSON?, bindings: [String: JSON], options: JSONataOptions) throws(JSONataError) -> Outcome {
        guard let v = try evaluateValue(input: input.map(JValue.init(json:)), bindings: bindings, options: options) else {
            return .undefined
        }
        if case .function = v { return .function }
        return .value(try v.toJSON() ?? .null)
    }
}

/// A JSON value converted once to JSONata's representation, for repeated evaluation.
///
/// - Note: `@unchecked Sendable`: evaluation never mutates input values (it builds new
///   arrays and objects, and transforms clone first), so one prepared value can be read
///   by concurrent evaluations.
public struct JSONataValue: @unchecked Sendable {
    let value: JValue?

    /// Converts `json`; nil is undefined.
    public init(_ json: JSON?) {
        value = json.map(JValue.init(json:))
    }
}
