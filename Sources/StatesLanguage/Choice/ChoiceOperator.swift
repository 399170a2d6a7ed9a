/// The comparison operators of a JSONPath-mode Choice Rule (everything but `And`, `Or`, `Not`).
public enum ChoiceOperator: String, Sendable, Hashable, CaseIterable {
    case stringEquals = "StringEquals"
    case stringEqualsPath = "StringEqualsPath"
    case stringLessThan = "StringLessThan"
    case stringLessThanPath = "StringLessThanPath"
    case stringGreaterThan = "StringGreaterThan"
    case stringGreaterThanPath = "StringGreaterThanPath"
    case stringLessThanEquals = "StringLessThanEquals"
    case stringLessThanEqualsPath = "StringLessThanEqualsPath"
    case stringGreaterThanEquals = "StringGreaterThanEquals"
    case stringGreaterThanEqualsPath = "StringGreaterThanEqualsPath"
    case stringMatches = "StringMatches"

    case numericEquals = "NumericEquals"
    case numericEqualsPath = "NumericEqualsPath"
    case numericLessThan = "NumericLessThan"
    case numericLessThanPath = "NumericLessThanPath"
    case numericGreaterThan = "NumericGreaterThan"
    case numericGreaterThanPath = "NumericGreaterThanPath"
    case numericLessThanEquals = "NumericLessThanEquals"
    case numericLessThanEqualsPath = "NumericLessThanEqualsPath"
    case numericGreaterThanEquals = "NumericGreaterThanEquals"
    case numericGreaterThanEqualsPath = "NumericGreaterThanEqualsPath"

    case booleanEquals = "BooleanEquals"
    case booleanEqualsPath = "BooleanEqualsPath"

    case timestampEquals = "TimestampEquals"
    case timestampEqualsPath = "TimestampEqualsPath"
    case timestampLessThan = "TimestampLessThan"
    case timestampLessThanPath = "TimestampLessThanPath"
    case timestampGreaterThan = "TimestampGreaterThan"
    case timestampGreaterThanPath = "TimestampGreaterThanPath"
    case timestampLessThanEquals = "TimestampLessThanEquals"
    case timestampLessThanEqualsPath = "TimestampLessThanEqualsPath"
    case timestampGreaterThanEquals = "TimestampGreaterThanEquals"
    case timestampGreaterThanEqualsPath = "TimestampGreaterThanEqualsPath"

    case isNull = "IsNull"
    case isPresent = "IsPresent"
    case isNumeric = "IsNumeric"
    case isString = "IsString"
    case isBoolean = "IsBoolean"
    case isTimestamp = "IsTimestamp"

    /// What the operator compares.
    public enum ValueKind: Sendable {
        case string, numeric, boolean, timestamp
        /// `Is*`: a type or presence test with a boolean operand.
        case test
    }

    /// How the two sides compare.
    public enum Relation: Sendable {
        case equals, lessThan, greaterThan, lessThanOrEqual, greaterThanOrEqual, matches
    }

    public var valueKind: ValueKind {
        switch self {
        case .stringEquals, .stringEqualsPath, .stringLessThan, .stringLessThanPath, .stringGreaterThan,
             .stringGreaterThanPath, .stringLessThanEquals, .stringLessThanEqualsPath, .stringGreaterThanEquals,
             .stringGreaterThanEqualsPath, .stringMatches:
            .string
        case .numericEquals, .numericEqualsPath, .numericLessThan, .numericLessThanPath, .numericGreaterThan,
             .numericGreaterThanPath, .numericLessThanEquals, .numericLessThanEqualsPath, .numericGreaterThanEquals,
             .numericGreaterThanEqualsPath:
            .numeric
        case .booleanEquals, .booleanEqualsPath:
            .boolean
        case .timestampEquals, .timestampEqualsPath, .timestampLessThan, .timestampLessThanPath, .timestampGreaterThan,
             .timestampGreaterThanPath, .timestampLessThanEquals, .timestampLessThanEqualsPath,
             .timestampGreaterThanEquals, .timestampGreaterThanEqualsPath:
            .timestamp
        case .isNull, .isPresent, .isNumeric, .isString, .isBoolean, .isTimestamp:
            .test
        }
    }

    /// The comparison, for the non-test operators.
    public var relation: Relation? {
        if valueKind == .test { return nil }
        if self == .stringMatches { return .matches }
        let name = takesPath ? String(rawValue.dropLast(4)) : rawValue
        if name.hasSuffix("LessThanEquals") { return .lessThanOrEqual }
        if name.hasSuffix("GreaterThanEquals") { return .greaterThanOrEqual }
        if name.hasSuffix("LessThan") { return .lessThan }
        if name.hasSuffix("GreaterThan") { return .greaterThan }
        return .equals
    }

    /// Whether the operand is a path to the value to compare with (`...Path` operators).
    public var takesPath: Bool { rawValue.hasSuffix("Path") }
}
