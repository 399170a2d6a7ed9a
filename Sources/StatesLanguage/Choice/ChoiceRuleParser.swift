/// Reading a Choice Rule from its JSON, with the definition-time checks.
extension ChoiceRule {
    /// The fields a top-level rule may carry besides its condition; the definition parser
    /// reads them.
    public static let topLevelFields: Set<String> = ["Next", "Assign", "Comment"]

    /// Parses the condition of one rule.
    ///
    /// Checks: the rule is an object with exactly one of `And`, `Or`, `Not` or a comparison
    /// operator; comparisons have a `Variable` that is a valid path and an operand of the
    /// operator's type (a number, a string, a boolean, an RFC 3339 timestamp, or a valid path
    /// for `...Path`); `And` and `Or` hold non-empty arrays of rules, `Not` one rule; no
    /// unknown fields (top-level rules may also carry `Next`, `Assign` and `Comment`; nested
    /// ones `Comment`).
    ///
    /// - Parameters:
    ///   - location: the rule's place, e.g. `/States/Check/Choices/0`; nested rules are
    ///     located under it (`.../And/1`, `.../Not`).
    ///   - isTopLevel: whether this is an element of `Choices` (it then may carry `Next`...).
    /// - Throws: every problem found, as `SCHEMA_VALIDATION_FAILED` diagnostics.
    public init(_ json: JSON, location: DefinitionLocation, isTopLevel: Bool) throws(ExpressionDiagnostics) {
        var diagnostics: [Diagnostic] = []
        if let rule = Self.parse(json, at: location, isTopLevel: isTopLevel, diagnostics: &diagnostics), diagnostics.isEmpty {
            self = rule
        } else {
            throw ExpressionDiagnostics(diagnostics)
        }
    }

    private static let combinators: Set<String> = ["And", "Or", "Not"]
    private static let operatorsByName: [String: ChoiceOperator] = Dictionary(
        uniqueKeysWithValues: ChoiceOperator.allCases.map { ($0.rawValue, $0) })

    private static func parse(_ json: JSON, at location: DefinitionLocation, isTopLevel: Bool,
                              diagnostics: inout [Diagnostic]) -> ChoiceRule? {
        guard case .object(let object) = json else {
            diagnostics.append(.schema("A Choice Rule must be a JSON object", at: location.description))
            return nil
        }
        let allowed: Set<String> = isTopLevel ? topLevelFields : ["Comment"]
        var unknown: [String] = []
        var found: [String] = []
        for key in object.orderedKeys {
            if combinators.contains(key) || operatorsByName[key] != nil {
                found.append(key)
            } else if key != "Variable" && !allowed.contains(key) {
                unknown.append(key)
            }
        }
        if !unknown.isEmpty {
            let what = !isTopLevel && unknown.contains("Next") ? "Nested Choice Rules must not have the field 'Next'"
                : "These fields are not supported: [\(unknown.joined(separator: ", "))]"
            diagnostics.append(.schema(what, at: location.description))
        }
        guard found.count == 1, let key = found.first else {
            let message = found.isEmpty
                ? "A Choice Rule must have one comparison operator, or one of And, Or, Not"
                : "A Choice Rule must have only one comparison operator, or one of And, Or, Not; found [\(found.joined(separator: ", "))]"
            diagnostics.append(.schema(message, at: location.description))
            return nil
        }
        let value = object[key]!
        if combinators.contains(key) {
            if object["Variable"] != nil {
                diagnostics.append(.schema("The field 'Variable' is not allowed with '\(key)'", at: location.description))
            }
            let inner = location.appending(key)
            if key == "Not" {
                return parse(value, at: inner, isTopLevel: false, diagnostics: &diagnostics).map(ChoiceRule.not)
            }
            guard case .array(let elements) = value else {
                diagnostics.append(.schema("The value for the field '\(key)' must be an array of Choice Rules", at: inner.description))
                return nil
            }
            guard !elements.isEmpty else {
                diagnostics.append(.schema("Value cannot be empty", at: inner.description))
                return nil
            }
            var rules: [ChoiceRule] = []
            for (i, element) in elements.enumerated() {
                if let rule = parse(element, at: inner.appending(i), isTopLevel: false, diagnostics: &diagnostics) {
                    rules.append(rule)
                }
            }
            guard rules.count == elements.count else { return nil }
            return key == "And" ? .and(rules) : .or(rules)
        }
        let op = operatorsByName[key]!
        guard let variableValue = object["Variable"] else {
            diagnostics.append(.schema("These fields are required: [Variable]", at: location.description))
            return nil
        }
        guard case .string(let variableText) = variableValue,
              let variable = try? PathExpression(variableText, allowIntrinsics: false)
        else {
            diagnostics.append(.schema("The value for the field 'Variable' must be a valid JSONPath", at: location.description))
            return nil
        }
        guard let operand = parseOperand(op, value, at: location, diagnostics: &diagnostics) else { return nil }
        return .comparison(ChoiceComparison(variable: variable, operator: op, operand: operand))
    }

    private static func parseOperand(_ op: ChoiceOperator, _ value: JSON, at location: DefinitionLocation,
                                     diagnostics: inout [Diagnostic]) -> ChoiceComparison.Operand? {
        func invalid(_ expected: String) -> ChoiceComparison.Operand? {
            diagnostics.append(.schema("The value for the field '\(op.rawValue)' must be \(expected)", at: location.description))
            return nil
        }
        if op.takesPath {
            guard case .string(let text) = value, let path = try? PathExpression(text, allowIntrinsics: false) else {
                return invalid("a valid JSONPath")
            }
            return .path(path)
        }
        switch op.valueKind {
        case .test, .boolean:
            guard case .bool(let b) = value else { return invalid("a boolean") }
            return .boolean(b)
        case .numeric:
            guard value.isNumber else { return invalid("a number") }
            return .number(value)
        case .string:
            guard case .string(let s) = value else { return invalid("a string") }
            return op == .stringMatches ? .pattern(StringPattern(s)) : .string(s)
        case .timestamp:
            // AWS behaviour: the message for a malformed timestamp literal, as for the Wait
            // state's `Timestamp` (cases `validation.*test_wait_timestamp_invalid*`).
            guard case .string(let s) = value, let t = Timestamp(s) else {
                diagnostics.append(.schema("String does not match RFC3339 timestamp", at: location.appending(op.rawValue).description))
                return nil
            }
            return .timestamp(t)
        }
    }
}
