/// A Step Functions runtime error: the `Error` and `Cause` that Retry and Catch see.
///
/// Names are AWS's: predefined ones start with `States.` (see the static members); task
/// and integration errors carry their own (`Lambda.ServiceException`, custom names).
public struct StatesError: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var cause: String?
    /// Where a JSONata evaluation failed (`Output/result`), for the `EvaluationFailed` event.
    public var location: String?
    /// The prefixes AWS puts on the cause that it already carries, so that layers that add
    /// them do not add them twice (decided on this, never on the text). Not part of the
    /// error's identity: two errors with the same name and cause are equal.
    public var framing: Framing = []

    /// Prefixes of a cause.
    public struct Framing: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `An error occurred while executing the state 'S' (entered at the event id #N).`
        public static let inState = Framing(rawValue: 1)
        /// `Invalid path 'P' : ...`
        public static let invalidPath = Framing(rawValue: 2)
    }

    public init(_ name: String, cause: String? = nil, location: String? = nil, framing: Framing = []) {
        self.name = name
        self.cause = cause
        self.location = location
        self.framing = framing
    }

    public var description: String { cause.map { "\(name): \($0)" } ?? name }

    public static func == (a: StatesError, b: StatesError) -> Bool {
        a.name == b.name && a.cause == b.cause && a.location == b.location
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(cause)
        hasher.combine(location)
    }
}

extension StatesError {
    /// The predefined error names (ASL "Error names").
    public enum Name {
        public static let all = "States.ALL"
        public static let heartbeatTimeout = "States.HeartbeatTimeout"
        public static let timeout = "States.Timeout"
        public static let taskFailed = "States.TaskFailed"
        public static let permissions = "States.Permissions"
        public static let resultPathMatchFailure = "States.ResultPathMatchFailure"
        public static let parameterPathFailure = "States.ParameterPathFailure"
        public static let queryEvaluationError = "States.QueryEvaluationError"
        public static let branchFailed = "States.BranchFailed"
        public static let noChoiceMatched = "States.NoChoiceMatched"
        public static let intrinsicFailure = "States.IntrinsicFailure"
        public static let exceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
        public static let itemReaderFailed = "States.ItemReaderFailed"
        public static let resultWriterFailed = "States.ResultWriterFailed"
        public static let dataLimitExceeded = "States.DataLimitExceeded"
        public static let runtime = "States.Runtime"
    }
}
