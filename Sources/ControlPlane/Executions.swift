import StatesEngine
import StatesLanguage

public struct StartExecutionInput: Sendable, Equatable {
    /// A state machine, or one of its versions or aliases.
    public var stateMachineArn: StateMachineARN
    /// Nil: a UUID.
    public var name: String?
    /// The input as JSON text (nil: `{}`).
    public var input: String?
    public var traceHeader: String?

    public init(stateMachineArn: StateMachineARN, name: String? = nil, input: String? = nil, traceHeader: String? = nil) {
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.input = input
        self.traceHeader = traceHeader
    }
}

public struct StartExecutionOutput: Sendable, Equatable {
    public var executionArn: ExecutionARN
    public var startDate: Int64

    public init(executionArn: ExecutionARN, startDate: Int64) {
        self.executionArn = executionArn
        self.startDate = startDate
    }
}

/// StartSyncExecution's answer: the execution as it ended.
public struct SyncExecutionResult: Sendable {
    public var executionArn: ExecutionARN
    public var stateMachineArn: StateMachineARN
    public var name: String
    public var startDate: Int64
    public var stopDate: Int64
    public var status: ExecutionStatus
    public var input: JSON
    public var output: JSON?
    public var error: String?
    public var cause: String?

    public init(executionArn: ExecutionARN, stateMachineArn: StateMachineARN, name: String, startDate: Int64, stopDate: Int64,
                status: ExecutionStatus, input: JSON, output: JSON?, error: String?, cause: String?)
    {
        self.executionArn = executionArn
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.startDate = startDate
        self.stopDate = stopDate
        self.status = status
        self.input = input
        self.output = output
        self.error = error
        self.cause = cause
    }
}

public struct ExecutionDescription: Sendable {
    public var executionArn: ExecutionARN
    public var stateMachineArn: StateMachineARN
    public var name: String
    public var status: ExecutionStatus
    public var startDate: Int64
    public var stopDate: Int64?
    public var input: JSON
    public var output: JSON?
    public var error: String?
    public var cause: String?
    public var traceHeader: String?
    public var stateMachineVersionArn: StateMachineARN?
    public var stateMachineAliasArn: StateMachineARN?
    public var redriveCount: Int
    public var redriveDate: Int64?
    /// `REDRIVABLE` or `NOT_REDRIVABLE` (with the reason).
    public var redriveStatus: String
    public var redriveStatusReason: String?

    public init(executionArn: ExecutionARN, stateMachineArn: StateMachineARN, name: String, status: ExecutionStatus, startDate: Int64,
                stopDate: Int64?, input: JSON, output: JSON?, error: String?, cause: String?, traceHeader: String?,
                stateMachineVersionArn: StateMachineARN?, stateMachineAliasArn: StateMachineARN?, redriveCount: Int,
                redriveDate: Int64?, redriveStatus: String, redriveStatusReason: String?)
    {
        self.executionArn = executionArn
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.status = status
        self.startDate = startDate
        self.stopDate = stopDate
        self.input = input
        self.output = output
        self.error = error
        self.cause = cause
        self.traceHeader = traceHeader
        self.stateMachineVersionArn = stateMachineVersionArn
        self.stateMachineAliasArn = stateMachineAliasArn
        self.redriveCount = redriveCount
        self.redriveDate = redriveDate
        self.redriveStatus = redriveStatus
        self.redriveStatusReason = redriveStatusReason
    }
}

public struct ExecutionListItem: Sendable {
    public var executionArn: ExecutionARN
    public var stateMachineArn: StateMachineARN
    public var name: String
    public var status: ExecutionStatus
    public var startDate: Int64
    public var stopDate: Int64?
    public var stateMachineVersionArn: StateMachineARN?
    public var stateMachineAliasArn: StateMachineARN?
    public var redriveCount: Int
    public var redriveDate: Int64?

    public init(executionArn: ExecutionARN, stateMachineArn: StateMachineARN, name: String, status: ExecutionStatus, startDate: Int64,
                stopDate: Int64?, stateMachineVersionArn: StateMachineARN?, stateMachineAliasArn: StateMachineARN?,
                redriveCount: Int, redriveDate: Int64?)
    {
        self.executionArn = executionArn
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.status = status
        self.startDate = startDate
        self.stopDate = stopDate
        self.stateMachineVersionArn = stateMachineVersionArn
        self.stateMachineAliasArn = stateMachineAliasArn
        self.redriveCount = redriveCount
        self.redriveDate = redriveDate
    }
}

public struct ListExecutionsInput: Sendable {
    /// The executions of a state machine (or of one of its versions or aliases)...
    public var stateMachineArn: StateMachineARN?
    /// ...or of a map run: exactly one of the two.
    public var mapRunArn: MapRunARN?
    public var statusFilter: ExecutionStatus?
    /// true: REDRIVEN only; false: NOT_REDRIVEN only.
    public var redriven: Bool?
    public var page: PageRequest

    public init(stateMachineArn: StateMachineARN? = nil, mapRunArn: MapRunARN? = nil, statusFilter: ExecutionStatus? = nil,
                redriven: Bool? = nil, page: PageRequest = .init())
    {
        self.stateMachineArn = stateMachineArn
        self.mapRunArn = mapRunArn
        self.statusFilter = statusFilter
        self.redriven = redriven
        self.page = page
    }
}

public struct HistoryRequest: Sendable {
    public var executionArn: ExecutionARN
    public var reverseOrder: Bool
    public var page: PageRequest

    public init(executionArn: ExecutionARN, reverseOrder: Bool = false, page: PageRequest = .init()) {
        self.executionArn = executionArn
        self.reverseOrder = reverseOrder
        self.page = page
    }
}

// MARK: Task answers

/// An answer to a task that waits for one: SendTaskSuccess, SendTaskFailure and
/// SendTaskHeartbeat over HTTP, or a record of the reply topic.
public enum TaskAnswer: Sendable {
    case success(TaskToken, output: JSON)
    case failure(TaskToken, error: String?, cause: String?)
    case heartbeat(TaskToken)

    public var token: TaskToken {
        switch self {
        case .success(let t, _), .failure(let t, _, _), .heartbeat(let t): t
        }
    }
}

// MARK: Map runs

public struct MapRunCounts: Sendable, Equatable {
    public var pending, running, succeeded, failed, timedOut, aborted, total, resultsWritten: Int

    public init(pending: Int, running: Int, succeeded: Int, failed: Int, timedOut: Int, aborted: Int, total: Int, resultsWritten: Int) {
        self.pending = pending
        self.running = running
        self.succeeded = succeeded
        self.failed = failed
        self.timedOut = timedOut
        self.aborted = aborted
        self.total = total
        self.resultsWritten = resultsWritten
    }
}

public struct MapRunDescription: Sendable, Equatable {
    public var mapRunArn: MapRunARN
    public var executionArn: ExecutionARN
    /// RUNNING, SUCCEEDED, FAILED or ABORTED.
    public var status: String
    public var startDate: Int64
    public var stopDate: Int64?
    public var maxConcurrency: Int
    public var toleratedFailurePercentage: Double
    public var toleratedFailureCount: Int
    public var counts: MapRunCounts
    public var redriveCount: Int
    public var redriveDate: Int64?

    public init(mapRunArn: MapRunARN, executionArn: ExecutionARN, status: String, startDate: Int64, stopDate: Int64?,
                maxConcurrency: Int, toleratedFailurePercentage: Double, toleratedFailureCount: Int, counts: MapRunCounts,
                redriveCount: Int, redriveDate: Int64?)
    {
        self.mapRunArn = mapRunArn
        self.executionArn = executionArn
        self.status = status
        self.startDate = startDate
        self.stopDate = stopDate
        self.maxConcurrency = maxConcurrency
        self.toleratedFailurePercentage = toleratedFailurePercentage
        self.toleratedFailureCount = toleratedFailureCount
        self.counts = counts
        self.redriveCount = redriveCount
        self.redriveDate = redriveDate
    }
}

public struct MapRunListItem: Sendable, Equatable {
    public var executionArn: ExecutionARN
    public var mapRunArn: MapRunARN
    public var stateMachineArn: StateMachineARN
    public var startDate: Int64
    public var stopDate: Int64?

    public init(executionArn: ExecutionARN, mapRunArn: MapRunARN, stateMachineArn: StateMachineARN, startDate: Int64, stopDate: Int64?) {
        self.executionArn = executionArn
        self.mapRunArn = mapRunArn
        self.stateMachineArn = stateMachineArn
        self.startDate = startDate
        self.stopDate = stopDate
    }
}

public struct UpdateMapRunInput: Sendable, Equatable {
    public var mapRunArn: MapRunARN
    public var maxConcurrency: Int?
    public var toleratedFailurePercentage: Double?
    public var toleratedFailureCount: Int?

    public init(mapRunArn: MapRunARN, maxConcurrency: Int? = nil, toleratedFailurePercentage: Double? = nil,
                toleratedFailureCount: Int? = nil)
    {
        self.mapRunArn = mapRunArn
        self.maxConcurrency = maxConcurrency
        self.toleratedFailurePercentage = toleratedFailurePercentage
        self.toleratedFailureCount = toleratedFailureCount
    }
}
