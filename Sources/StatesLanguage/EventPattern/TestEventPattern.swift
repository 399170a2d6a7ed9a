/// EventBridge's `TestEventPattern` action as a pure function: the API layer decodes
/// `{"EventPattern": "...", "Event": "..."}` and answers `{"Result": Bool}`, with the same
/// matcher the triggers use.
public enum TestEventPattern {
    /// The envelope fields EventBridge requires of the tested event.
    public static let requiredEventFields = ["id", "account", "source", "time", "region", "resources", "detail-type"]

    /// Why a test request is refused.
    public enum Failure: Error, Sendable, Equatable {
        /// The pattern is not valid; rendered as `InvalidEventPatternException`.
        case invalidEventPattern(InvalidEventPatternError)
        /// The event is not JSON, not an object, or misses an envelope field; rendered as
        /// `ValidationException`.
        case invalidEvent(reason: String)

        /// The AWS exception name for the `__type` of the error response.
        public var exceptionName: String {
            switch self {
            case .invalidEventPattern: InvalidEventPatternError.exceptionName
            case .invalidEvent: "ValidationException"
            }
        }

        public var message: String {
            switch self {
            case .invalidEventPattern(let e): e.message
            case .invalidEvent(let reason): "Parameter Event is not valid. Reason: \(reason)"
            }
        }
    }

    /// Whether `event` matches `eventPattern`.
    ///
    /// - Parameters:
    ///   - eventPattern: the pattern's JSON text (numbers compared as written).
    ///   - event: the event's JSON text; it must be an object with `requiredEventFields` when
    ///     `requiresEnvelope` (as on AWS).
    /// - Throws: `Failure`.
    public static func evaluate(eventPattern: String, event: String, requiresEnvelope: Bool = true)
        throws(Failure) -> Bool
    {
        let pattern: EventPattern
        do {
            pattern = try EventPattern(text: eventPattern)
        } catch {
            throw .invalidEventPattern(error)
        }
        let members: [(key: String, text: String)]
        do {
            members = try JSON.rawMembers(ofObject: event)
        } catch {
            throw .invalidEvent(reason: error.jacksonMessage(source: event))
        }
        if requiresEnvelope {
            for field in requiredEventFields where !members.contains(where: { $0.key == field }) {
                throw .invalidEvent(reason: "Provided Event must have mandatory field: \(field)")
            }
        }
        do {
            return try pattern.matches(eventText: event)
        } catch {
            throw .invalidEvent(reason: error.jacksonMessage(source: event))
        }
    }
}
