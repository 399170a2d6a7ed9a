/// The boolean expression of a JSONPath-mode Choice Rule: `And`, `Or`, `Not`, or one
/// comparison of a `Variable` with a value or with another path.
///
/// The top-level rule's `Next`, `Assign` and `Comment` belong to the Choice state and are
/// read by the definition parser; this type is the condition alone.
public indirect enum ChoiceRule: Sendable {
    case and([ChoiceRule])
    case or([ChoiceRule])
    case not(ChoiceRule)
    case comparison(ChoiceComparison)
}

/// `Variable` compared with a literal or with the value at another path.
public struct ChoiceComparison: Sendable {
    public let variable: PathExpression
    public let `operator`: ChoiceOperator
    public let operand: Operand

    public enum Operand: Sendable {
        /// `IsNull: true`, `BooleanEquals: false`, ...
        case boolean(Bool)
        /// `NumericEquals: 2.5`: `.int` or `.double`.
        case number(JSON)
        case string(String)
        case timestamp(Timestamp)
        case pattern(StringPattern)
        /// The operand of a `...Path` operator.
        case path(PathExpression)
    }

    /// `operator.relation` and `operator.valueKind`, kept so that evaluation does not
    /// recompute them.
    let relation: ChoiceOperator.Relation?
    let valueKind: ChoiceOperator.ValueKind

    public init(variable: PathExpression, operator op: ChoiceOperator, operand: Operand) {
        self.variable = variable
        self.operator = op
        self.operand = operand
        relation = op.relation
        valueKind = op.valueKind
    }
}

extension ChoiceRule {
    /// Whether evaluating reads the context object (`$$`).
    public var referencesContext: Bool {
        switch self {
        case .and(let rules), .or(let rules): rules.contains { $0.referencesContext }
        case .not(let rule): rule.referencesContext
        case .comparison(let c):
            if c.variable.referencesContext { true } else if case .path(let p) = c.operand { p.referencesContext } else { false }
        }
    }

    /// The workflow variables read, by name.
    public var variableNames: Set<String> {
        var names = Set<String>()
        collectVariableNames(into: &names)
        return names
    }

    private func collectVariableNames(into names: inout Set<String>) {
        switch self {
        case .and(let rules), .or(let rules): for r in rules { r.collectVariableNames(into: &names) }
        case .not(let rule): rule.collectVariableNames(into: &names)
        case .comparison(let c):
            c.variable.collectVariableNames(into: &names)
            if case .path(let p) = c.operand { p.collectVariableNames(into: &names) }
        }
    }
}

// MARK: - Evaluation

extension ChoiceRule {
    /// Whether the rule holds for the state's input (after `InputPath`).
    ///
    /// A value of the wrong type makes a comparison false, never an error (a string never
    /// equals a number, a non-timestamp string is not before any timestamp). `And` and `Or`
    /// stop at the first rule that decides.
    ///
    /// - Throws: `States.Runtime` when `Variable` (or the operand path of a `...Path`
    ///   operator) selects nothing, except under `IsPresent`. The cause is
    ///   `Invalid path '<path>': The choice state's condition path references an invalid value.`
    ///   (AWS's wording as users report it; not in the conformance corpus). The engine
    ///   prefixes the state (`StatesError.inState`).
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> Bool {
        switch self {
        case .and(let rules):
            for rule in rules where !(try rule.evaluate(in: env)) { return false }
            return true
        case .or(let rules):
            for rule in rules where try rule.evaluate(in: env) { return true }
            return false
        case .not(let rule):
            return !(try rule.evaluate(in: env))
        case .comparison(let comparison):
            return try comparison.evaluate(in: env)
        }
    }
}

extension ChoiceComparison {
    func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> Bool {
        let value = try variable.value(in: env)
        if `operator` == .isPresent {
            guard case .boolean(let expected) = operand else { return false }
            return (value != nil) == expected
        }
        guard let value else { throw Self.invalidPath(variable) }
        switch operand {
        case .boolean(let expected):
            switch `operator` {
            case .isNull: return value.isNull == expected
            case .isNumeric: return value.isNumber == expected
            case .isString: return (value.stringValue != nil) == expected
            case .isBoolean: return (value.boolValue != nil) == expected
            case .isTimestamp: return (value.stringValue.flatMap({ Timestamp($0) }) != nil) == expected
            default: return value.boolValue == expected
            }
        case .number(let number):
            return compareNumbers(value, number)
        case .string(let string):
            guard case .string(let s) = value else { return false }
            return holds(Java.compare(s, string))
        case .timestamp(let timestamp):
            guard let t = value.stringValue.flatMap({ Timestamp($0) }) else { return false }
            return holds(t < timestamp ? -1 : (t == timestamp ? 0 : 1))
        case .pattern(let pattern):
            guard case .string(let s) = value else { return false }
            return pattern.matches(s)
        case .path(let path):
            guard let other = try path.value(in: env) else { throw Self.invalidPath(path) }
            switch valueKind {
            case .numeric:
                guard other.isNumber else { return false }
                return compareNumbers(value, other)
            case .string:
                guard case .string(let s) = value, case .string(let o) = other else { return false }
                return holds(Java.compare(s, o))
            case .boolean:
                guard case .bool(let b) = value, case .bool(let o) = other else { return false }
                return b == o
            case .timestamp:
                guard let t = value.stringValue.flatMap({ Timestamp($0) }), let o = other.stringValue.flatMap({ Timestamp($0) }) else {
                    return false
                }
                return holds(t < o ? -1 : (t == o ? 0 : 1))
            case .test:
                return false
            }
        }
    }

    private func compareNumbers(_ value: JSON, _ operand: JSON) -> Bool {
        switch (value, operand) {
        case (.int(let a), .int(let b)): return holds(a < b ? -1 : (a == b ? 0 : 1))
        case (.decimal, _), (_, .decimal):
            // A number no double holds (`1e309`, `18446744073709551617`) compares exactly.
            guard let a = value.decimalValue, let b = operand.decimalValue else { return false }
            return holds(DecimalNumber.compare(a, b))
        default:
            guard let a = value.doubleValue, let b = operand.doubleValue else { return false }
            return holds(a < b ? -1 : (a == b ? 0 : 1))
        }
    }

    /// Whether an ordering result (`-1`, `0`, `1`) satisfies the operator.
    private func holds(_ order: Int) -> Bool {
        switch relation {
        case .equals, .matches: order == 0
        case .lessThan: order < 0
        case .greaterThan: order > 0
        case .lessThanOrEqual: order <= 0
        case .greaterThanOrEqual: order >= 0
        case nil: false
        }
    }

    static func invalidPath(_ path: PathExpression) -> StatesError {
        StatesError(StatesError.Name.runtime,
                    cause: "Invalid path '\(path.text)': The choice state's condition path references an invalid value.", framing: .invalidPath)
    }
}
