/// An error of the Step Functions API: AWS's exception name and message.
///
/// `type` is the `__type` of AWS's JSON error (`ExecutionAlreadyExists`, `TaskTimedOut`);
/// the API layer renders it with AWS's status code.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var type: String
    public var message: String
    /// True for failures of the service itself (storage, shutdown): rendered as 5xx.
    public var isServerError: Bool

    public init(_ type: String, _ message: String, isServerError: Bool = false) {
        self.type = type
        self.message = message
        self.isServerError = isServerError
    }

    public var description: String { "\(type): \(message)" }

    public static func executionDoesNotExist(_ arn: String) -> ServiceError {
        ServiceError("ExecutionDoesNotExist", "Execution Does Not Exist: '\(arn)'")
    }
    public static func executionAlreadyExists(_ arn: String) -> ServiceError {
        ServiceError("ExecutionAlreadyExists", "Execution Already Exists: '\(arn)'")
    }
    public static func stateMachineDoesNotExist(_ arn: String) -> ServiceError {
        ServiceError("StateMachineDoesNotExist", "State Machine Does Not Exist: '\(arn)'")
    }
    public static func activityDoesNotExist(_ arn: String) -> ServiceError {
        ServiceError("ActivityDoesNotExist", "Activity Does Not Exist: '\(arn)'")
    }
    public static func invalidArn(_ arn: String) -> ServiceError {
        ServiceError("InvalidArn", "Invalid Arn: '\(arn)'")
    }
    public static func invalidName(_ name: String) -> ServiceError {
        ServiceError("InvalidName", "Invalid Name: '\(name)'")
    }
    public static let invalidToken = ServiceError("InvalidToken", "Invalid Token: 'Invalid token'")
    public static let taskDoesNotExist = ServiceError("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'")
    /// AWS behaviour: a token whose task finished, timed out or whose execution ended
    /// answers TaskTimedOut, not TaskDoesNotExist.
    public static let taskTimedOut = ServiceError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
    public static func executionNotRedrivable(_ message: String) -> ServiceError {
        ServiceError("ExecutionNotRedrivable", message)
    }
    public static func validation(_ message: String) -> ServiceError { ServiceError("ValidationException", message) }
    /// SendTaskSuccess's (and a reply's) output over 256 KiB of UTF-8. AWS does not echo a
    /// sensitive member's value.
    public static let taskOutputTooLarge = validation(
        "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144")
    public static let shuttingDown = ServiceError(
        "ServiceUnavailable", "the daemon is shutting down and takes no new work", isServerError: true)

    /// The store cannot write: the daemon refuses new work until it can.
    public static func storage(_ message: String) -> ServiceError {
        ServiceError("ServiceUnavailable", "the store cannot write, no new work is taken: \(message)", isServerError: true)
    }
    public static func internalError(_ message: String) -> ServiceError {
        ServiceError("InternalFailure", message, isServerError: true)
    }
}
