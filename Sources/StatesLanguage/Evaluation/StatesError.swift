/// A Step Functions runtime error: the `Error` and `Cause` that Retry and Catch see.
///
/// Names are AWS's: predefined ones start with `States.` (see the static members); task
/// and integration errors carry their own (`Lambda.ServiceException`, custom names).
public struct StatesError: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var cause: String?
    /// Where a JSONata evaluation failed (`Output/result`), for the `EvaluationFailed` event.
    public var location: String?

    public init(_ name: String, cause: String? = nil, location: String? = nil) {
        self.name = name
        self.cause = cause
        self.location = location
    }

    public var description: String { cause.map { "\(name): \($0)" } ?? name }
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
