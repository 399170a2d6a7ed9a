/// One finding of the definition validator, shaped like an entry of AWS's
/// `ValidateStateMachineDefinition` response and quoted in `InvalidDefinition` errors.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error = "ERROR", warning = "WARNING" }

    /// AWS's codes, e.g. `SCHEMA_VALIDATION_FAILED`, `INVALID_JSON_DESCRIPTION`,
    /// `MISSING_TRANSITION_TARGET`, `UNREACHABLE_STATE`.
    public var code: String
    public var message: String
    /// A JSON-pointer-like location, e.g. `/States/Charge/Retry/0`; nil where AWS gives none.
    public var location: String?
    public var severity: Severity

    public init(code: String, message: String, location: String?, severity: Severity = .error) {
        self.code = code
        self.message = message
        self.location = location
        self.severity = severity
    }

    public static func schema(_ message: String, at location: String) -> Diagnostic {
        Diagnostic(code: "SCHEMA_VALIDATION_FAILED", message: message, location: location)
    }

    /// The text AWS puts inside `Invalid State Machine Definition: '...'`:
    /// `SCHEMA_VALIDATION_FAILED: <message> at <location>`.
    public var description: String {
        if let location { return "\(code): \(message) at \(location)" }
        return "\(code): \(message)"
    }
}

/// A location inside a definition, built by appending path components.
public struct DefinitionLocation: Sendable, Hashable, CustomStringConvertible {
    public private(set) var components: [String]
    public init(_ components: [String] = []) { self.components = components }
    public func appending(_ c: String) -> DefinitionLocation { DefinitionLocation(components + [c]) }
    public func appending(_ i: Int) -> DefinitionLocation { appending(String(i)) }
    /// `/` for the root, else `/States/X/Next`.
    public var description: String { components.isEmpty ? "/" : "/" + components.joined(separator: "/") }
}
