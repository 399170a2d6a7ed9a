/// A JSON number kept as the literal it was written as, because neither `Int64` nor `Double`
/// holds it: an integer beyond 64 bits (`18446744073709551616`), a literal with more digits
/// than a double keeps (`0.1000000000000000000001`), or one beyond the double range
/// (`1e309`, `-1e400`, `1e-400`).
///
/// It is written back byte for byte, so a value that passes through a workflow unchanged
/// keeps its digits. Where a number is compared, the comparison is exact (`value`); where
/// arithmetic needs a double, `doubleValue` gives the nearest one when the literal is within
/// the double range and `nil` when it is not, so that it is never silently turned into an
/// infinity or a zero.
public struct JSONDecimal: Sendable, CustomStringConvertible {
    /// The literal, in the JSON number grammar (RFC 8259).
    public let literal: String

    /// Wraps a literal the JSON parser accepted.
    init(uncheckedLiteral literal: String) {
        self.literal = literal
    }

    /// A number from its literal; `nil` when `literal` is not in the JSON number grammar.
    public init?(_ literal: String) {
        guard DecimalNumber(literal) != nil else { return nil }
        self.literal = literal
    }

    /// The exact value.
    public var value: DecimalNumber {
        // The initializers admit only literals in the grammar.
        DecimalNumber(literal)!
    }

    /// The nearest double, for arithmetic; `nil` when the literal is beyond the double range
    /// or so small that it would round to zero.
    public var doubleValue: Double? {
        let v = value
        let d = v.nearestDouble
        guard d.isFinite, d != 0 || v.isZero else { return nil }
        return d
    }

    public var description: String { literal }
}
