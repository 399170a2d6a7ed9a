import StatesEngine

/// An error of the Step Functions API: AWS's exception (`code`) and message.
///
/// The code renders itself as the `__type` of AWS's JSON error (`ExecutionAlreadyExists`,
/// `TaskTimedOut`); the API layer gives it AWS's status code. Callers match on the code,
/// never on the text.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An AWS exception name; an extensible set (the service model has more than Stepline
    /// raises).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let activityDoesNotExist = Code(rawValue: "ActivityDoesNotExist")
        public static let activityWorkerLimitExceeded = Code(rawValue: "ActivityWorkerLimitExceeded")
        public static let conflict = Code(rawValue: "ConflictException")
        public static let executionAlreadyExists = Code(rawValue: "ExecutionAlreadyExists")
        public static let executionDoesNotExist = Code(rawValue: "ExecutionDoesNotExist")
        public static let executionNotRedrivable = Code(rawValue: "ExecutionNotRedrivable")
        public static let internalFailure = Code(rawValue: "InternalFailure")
        public static let invalidArn = Code(rawValue: "InvalidArn")
        public static let invalidDefinition = Code(rawValue: "InvalidDefinition")
        public static let invalidEncryptionConfiguration = Code(rawValue: "InvalidEncryptionConfiguration")
        public static let invalidExecutionInput = Code(rawValue: "InvalidExecutionInput")
        public static let invalidLoggingConfiguration = Code(rawValue: "InvalidLoggingConfiguration")
        public static let invalidName = Code(rawValue: "InvalidName")
        public static let invalidOutput = Code(rawValue: "InvalidOutput")
        public static let invalidToken = Code(rawValue: "InvalidToken")
        public static let kmsAccessDenied = Code(rawValue: "KmsAccessDeniedException")
        public static let kmsInvalidState = Code(rawValue: "KmsInvalidStateException")
        public static let missingRequiredParameter = Code(rawValue: "MissingRequiredParameter")
        public static let resourceNotFound = Code(rawValue: "ResourceNotFound")
        public static let serializationException = Code(rawValue: "SerializationException")
        public static let serviceQuotaExceeded = Code(rawValue: "ServiceQuotaExceededException")
        public static let serviceUnavailable = Code(rawValue: "ServiceUnavailable")
        public static let stateMachineAlreadyExists = Code(rawValue: "StateMachineAlreadyExists")
        public static let stateMachineDeleting = Code(rawValue: "StateMachineDeleting")
        public static let stateMachineDoesNotExist = Code(rawValue: "StateMachineDoesNotExist")
        public static let stateMachineTypeNotSupported = Code(rawValue: "StateMachineTypeNotSupported")
        public static let taskDoesNotExist = Code(rawValue: "TaskDoesNotExist")
        public static let taskTimedOut = Code(rawValue: "TaskTimedOut")
        public static let throttling = Code(rawValue: "ThrottlingException")
        public static let tooManyTags = Code(rawValue: "TooManyTags")
        public static let unknownOperation = Code(rawValue: "UnknownOperationException")
        public static let validation = Code(rawValue: "ValidationException")
    }

    public var code: Code
    public var message: String
    /// True for failures of the service itself (storage, shutdown): rendered as 5xx.
    public var isServerError: Bool

    /// AWS's `__type`.
    public var type: String { code.rawValue }

    public init(_ code: Code, _ message: String, isServerError: Bool = false) {
        self.code = code
        self.message = message
        self.isServerError = isServerError
    }

    /// An error whose code comes as text (a TestState failure, a worker's answer).
    public init(_ type: String, _ message: String, isServerError: Bool = false) {
        self.init(Code(rawValue: type), message, isServerError: isServerError)
    }

    public var description: String { "\(type): \(message)" }

    public static func executionDoesNotExist(_ arn: ExecutionARN) -> ServiceError {
        ServiceError(.executionDoesNotExist, "Execution Does Not Exist: '\(arn)'")
    }
    public static func executionAlreadyExists(_ arn: ExecutionARN) -> ServiceError {
        ServiceError(.executionAlreadyExists, "Execution Already Exists: '\(arn)'")
    }
    public static func stateMachineDoesNotExist(_ arn: StateMachineARN) -> ServiceError {
        ServiceError(.stateMachineDoesNotExist, "State Machine Does Not Exist: '\(arn)'")
    }
    public static func activityDoesNotExist(_ arn: ActivityARN) -> ServiceError {
        ServiceError(.activityDoesNotExist, "Activity Does Not Exist: '\(arn)'")
    }
    public static func invalidArn(_ arn: some StatesIdentifier) -> ServiceError {
        ServiceError(.invalidArn, "Invalid Arn: '\(arn)'")
    }
    public static func invalidName(_ name: String) -> ServiceError {
        ServiceError(.invalidName, "Invalid Name: '\(name)'")
    }
    public static let invalidToken = ServiceError(.invalidToken, "Invalid Token: 'Invalid token'")
    public static let taskDoesNotExist = ServiceError(.taskDoesNotExist, "Task Does Not Exist: 'Provided task does not exist'")
    /// AWS behaviour: a token whose task finished, timed out or whose execution ended
    /// answers TaskTimedOut, not TaskDoesNotExist.
    public static let taskTimedOut = ServiceError(.taskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'")
    public static func executionNotRedrivable(_ message: String) -> ServiceError {
        ServiceError(.executionNotRedrivable, message)
    }
    public static func validation(_ message: String) -> ServiceError { ServiceError(.validation, message) }
    /// SendTaskSuccess's (and a reply's) output over 256 KiB of UTF-8. AWS does not echo a
    /// sensitive member's value.
    public static let taskOutputTooLarge = validation(
        "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144")
    public static let shuttingDown = ServiceError(
        .serviceUnavailable, "the daemon is shutting down and takes no new work", isServerError: true)

    /// The store cannot write: the daemon refuses new work until it can.
    public static func storage(_ message: String) -> ServiceError {
        ServiceError(.serviceUnavailable, "the store cannot write, no new work is taken: \(message)", isServerError: true)
    }
    public static func internalError(_ message: String) -> ServiceError {
        ServiceError(.internalFailure, message, isServerError: true)
    }
}
