/// The definition-time problems of one payload template or Choice Rule.
///
/// Thrown by `PayloadTemplate.init` and `ChoiceRule.init`; the definition parser adds
/// `diagnostics` to its own list.
public struct ExpressionDiagnostics: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: ", ") }
}
