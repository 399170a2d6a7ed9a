/// What the expressions of one state can read: the effective input (`$`), the context
/// object (`$$`), the workflow variables (`$name`), and a source of randomness for
/// `States.UUID`, `States.MathRandom`, `$uuid()` and `$random()`.
///
/// The context object is a value the engine builds only when a compiled expression says
/// it reads `$$` (see `referencesContext` on compiled expressions), because building it
/// on every state would dominate tight loops.
public struct EvaluationEnvironment: Sendable {
    public var input: JSON
    public var context: JSON
    public var variables: Variables
    public var random: RandomSource

    public init(input: JSON, context: JSON = .null, variables: Variables = Variables(), random: RandomSource = RandomSource()) {
        self.input = input
        self.context = context
        self.variables = variables
        self.random = random
    }
}

/// Workflow variables as one state sees them: its own scope, then the enclosing scopes
/// (a Map iteration or Parallel branch reads the variables of the states around it but
/// cannot assign them).
public struct Variables: Sendable, Hashable {
    public var own: [String: JSON]
    var outer: Outer?

    final class Outer: Sendable, Hashable {
        let value: Variables
        init(_ value: Variables) { self.value = value }
        static func == (a: Outer, b: Outer) -> Bool { a === b || a.value == b.value }
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }

    public init(_ own: [String: JSON] = [:], outer: Variables? = nil) {
        self.own = own
        self.outer = outer.map(Outer.init)
    }

    /// The innermost binding of `name`, or nil when no scope binds it.
    public subscript(name: String) -> JSON? {
        if let v = own[name] { return v }
        return outer?.value[name]
    }

    public var enclosing: Variables? { outer?.value }

    /// A new inner scope whose reads fall back to `self`.
    public func makeInnerScope() -> Variables { Variables([:], outer: self) }

    /// Every visible binding, inner scopes shadowing outer ones.
    public var flattened: [String: JSON] {
        var all = outer?.value.flattened ?? [:]
        for (k, v) in own { all[k] = v }
        return all
    }
}
