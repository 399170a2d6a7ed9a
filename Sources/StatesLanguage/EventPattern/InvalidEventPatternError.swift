/// An event pattern that EventBridge would reject, with the reason in EventBridge's words.
///
/// The API renders it as `{"__type": "InvalidEventPatternException", "message": message}`.
public struct InvalidEventPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `Unrecognized match type x` or `Empty arrays are not allowed`.
    public var reason: String
    /// The dotted field path where the problem is, when it is inside a field (`detail.state`).
    public var fieldPath: String?

    public init(reason: String, fieldPath: String? = nil) {
        self.reason = reason
        self.fieldPath = fieldPath
    }

    /// EventBridge's exception name for this error.
    public static let exceptionName = "InvalidEventPatternException"

    /// The whole message as EventBridge words it.
    public var message: String { "Event pattern is not valid. Reason: \(reason)" }

    public var description: String {
        if let fieldPath { return "\(message) (at \(fieldPath))" }
        return message
    }
}
