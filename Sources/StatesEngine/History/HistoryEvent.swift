import StatesLanguage

/// One event of an execution's history: the truth from which execution state is derived.
///
/// `id`, `previousEventId`, `timestamp`, `type` and `details` are AWS's. `thread` and `note`
/// are the engine's own: which branch or iteration the event belongs to, and what the
/// decider computed that AWS's event does not show (a timer's due time, a task token, the
/// error of a failure). They are stored with the event and never rendered.
public struct HistoryEvent: Sendable {
    // Declared largest first, so that the small fields share padding (an event is moved
    // into the decision's array and destroyed with it).
    public var id: Int64
    public var previousEventId: Int64
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    public var details: EventDetails
    public var type: HistoryEventType
    /// Events of a Distributed Map's child executions: stored with the parent (replay needs
    /// them) but not part of its AWS history, and numbered in no sequence.
    public var hidden: Bool
    public var thread: ThreadID
    public var note: EngineNote?
    /// The state a `...StateEntered` event enters, when the decider knows it (saves a lookup
    /// by name). Not stored: replay finds the state by name.
    public var stateHint: StateID?

    // The initializers are in an extension, so that the compiler's memberwise initializer
    // exists: the decider builds events with it (an explicit initializer, inlined, made the
    // optimizer copy the new event once more).

    /// Engine-only events (such as a recorded heartbeat) that AWS's history does not show.
    public var isInternal: Bool { hidden || type.isInternal }

    /// The fields other than the details and the note.
    var header: EventHeader {
        EventHeader(id: id, previousEventId: previousEventId, timestamp: timestamp, type: type, thread: thread, hidden: hidden,
                    stateHint: stateHint)
    }
}

extension HistoryEvent {
    public init(id: Int64, previousEventId: Int64, timestamp: Int64, type: HistoryEventType, details: EventDetails = .none,
                thread: ThreadID = .root, note: EngineNote? = nil, hidden: Bool = false)
    {
        self.init(id: id, previousEventId: previousEventId, timestamp: timestamp, details: details, type: type, hidden: hidden,
                  thread: thread, note: note, stateHint: nil)
    }
}

/// An event's plain fields: what `apply` reads besides the details and the note.
struct EventHeader {
    var id: Int64
    var previousEventId: Int64
    var timestamp: Int64
    var type: HistoryEventType
    var thread: ThreadID
    var hidden: Bool
    var stateHint: StateID?

    var isInternal: Bool { hidden || type.isInternal }
}

/// A branch of execution: the top level (`root`), a Parallel branch or a Map iteration.
public struct ThreadID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let root = ThreadID(rawValue: 0)
    public static func < (a: ThreadID, b: ThreadID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "thread \(rawValue)" }
}

/// What the decider knew when it emitted an event, beyond AWS's details.
public final class EngineNote: Sendable {
    /// A timer: Wait, retry backoff. Milliseconds since the epoch.
    public let dueTime: Int64?
    /// The task token of a scheduled task.
    public let taskToken: String?
    /// Task deadlines (milliseconds since the epoch).
    public let taskTimeout: Int64?
    public let heartbeatTimeout: Int64?
    /// The error of a failure that the event does not spell out.
    public let failure: StatesError?
    /// The retrier chosen for a retry (index into the state's `Retry`).
    public let retrierIndex: Int?
    /// Map: the items being iterated (after ItemsPath/Items), so replay needs no evaluation.
    public let items: [JSON]?
    /// Map: the effective MaxConcurrency and tolerated-failure thresholds.
    public let mapLimits: MapLimits?
    /// Distributed Map: the map run.
    public let mapRunArn: String?
    /// The effective input of a state (after InputPath/Parameters) where later steps need it.
    public let effectiveInput: JSON?
    /// The event a later event must chain to (`previousEventId`), where it is not the thread's last.
    public let chainEventID: Int64?

    public init(dueTime: Int64? = nil, taskToken: String? = nil, taskTimeout: Int64? = nil, heartbeatTimeout: Int64? = nil,
                failure: StatesError? = nil, retrierIndex: Int? = nil, items: [JSON]? = nil, mapLimits: MapLimits? = nil,
                effectiveInput: JSON? = nil, chainEventID: Int64? = nil, mapRunArn: String? = nil)
    {
        self.mapRunArn = mapRunArn
        self.dueTime = dueTime
        self.taskToken = taskToken
        self.taskTimeout = taskTimeout
        self.heartbeatTimeout = heartbeatTimeout
        self.failure = failure
        self.retrierIndex = retrierIndex
        self.items = items
        self.mapLimits = mapLimits
        self.effectiveInput = effectiveInput
        self.chainEventID = chainEventID
    }
}

public struct MapLimits: Sendable, Hashable {
    /// 0 means no limit.
    public var maxConcurrency: Int
    public var toleratedFailureCount: Int?
    public var toleratedFailurePercentage: Double?

    public init(maxConcurrency: Int, toleratedFailureCount: Int? = nil, toleratedFailurePercentage: Double? = nil) {
        self.maxConcurrency = maxConcurrency
        self.toleratedFailureCount = toleratedFailureCount
        self.toleratedFailurePercentage = toleratedFailurePercentage
    }
}

/// The details object of an event (AWS's `*EventDetails`), by shape.
public enum EventDetails: Sendable {
    case none
    /// `stateEnteredEventDetails`
    case stateEntered(name: String, input: JSON)
    /// `stateExitedEventDetails`; `assigned` holds `Assign`'s variables in assignment order.
    case stateExited(name: String, output: JSON, assigned: [(String, JSON)]?)
    /// `executionStartedEventDetails`
    indirect case executionStarted(ExecutionStartedDetails)
    /// `executionSucceededEventDetails`, `activitySucceededEventDetails`, `lambdaFunctionSucceededEventDetails`
    case output(JSON)
    /// The `{error, cause}` shapes: execution failed/aborted/timed out, activity and Lambda
    /// failures, map run failures.
    case error(error: String?, cause: String?)
    /// `executionRedrivenEventDetails`
    case redriven(count: Int)
    /// `taskScheduledEventDetails`
    indirect case taskScheduled(TaskScheduledDetails)
    /// `taskStartedEventDetails`
    indirect case taskStarted(resourceType: String, resource: String)
    /// `taskSucceededEventDetails`, `taskSubmittedEventDetails`
    indirect case taskOutput(resourceType: String, resource: String, output: JSON)
    /// `taskFailedEventDetails`, `taskTimedOutEventDetails`, `taskStartFailedEventDetails`, `taskSubmitFailedEventDetails`
    indirect case taskError(resourceType: String, resource: String, error: String?, cause: String?)
    /// `activityScheduledEventDetails` (heartbeat) and `lambdaFunctionScheduledEventDetails`
    indirect case scheduled(ScheduledDetails)
    /// `activityStartedEventDetails`
    case activityStarted(workerName: String?)
    /// `mapStateStartedEventDetails`
    case mapStateStarted(length: Int)
    /// `mapIteration*EventDetails`
    case mapIteration(name: String, index: Int)
    /// `mapRunStartedEventDetails`
    case mapRunStarted(mapRunArn: String)
    /// `mapRunRedrivenEventDetails`
    indirect case mapRunRedriven(mapRunArn: String, count: Int)
    /// `evaluationFailedEventDetails`
    indirect case evaluationFailed(error: String, cause: String?, location: String?, state: String)
}

public struct ExecutionStartedDetails: Sendable {
    public var input: JSON
    public var roleArn: String?
    public var stateMachineAliasArn: String?
    public var stateMachineVersionArn: String?

    public init(input: JSON, roleArn: String?, stateMachineAliasArn: String? = nil, stateMachineVersionArn: String? = nil) {
        self.input = input
        self.roleArn = roleArn
        self.stateMachineAliasArn = stateMachineAliasArn
        self.stateMachineVersionArn = stateMachineVersionArn
    }
}

public struct TaskScheduledDetails: Sendable {
    public var resourceType: String
    public var resource: String
    public var region: String
    public var parameters: JSON
    public var timeoutInSeconds: Int64?
    public var heartbeatInSeconds: Int64?
    public var taskCredentials: JSON?

    public init(resourceType: String, resource: String, region: String, parameters: JSON, timeoutInSeconds: Int64? = nil,
                heartbeatInSeconds: Int64? = nil, taskCredentials: JSON? = nil)
    {
        self.resourceType = resourceType
        self.resource = resource
        self.region = region
        self.parameters = parameters
        self.timeoutInSeconds = timeoutInSeconds
        self.heartbeatInSeconds = heartbeatInSeconds
        self.taskCredentials = taskCredentials
    }
}

/// `activityScheduledEventDetails` and `lambdaFunctionScheduledEventDetails`.
public struct ScheduledDetails: Sendable {
    public var resource: String
    public var input: JSON
    public var timeoutInSeconds: Int64?
    public var heartbeatInSeconds: Int64?
    public var taskCredentials: JSON?

    public init(resource: String, input: JSON, timeoutInSeconds: Int64? = nil, heartbeatInSeconds: Int64? = nil,
                taskCredentials: JSON? = nil)
    {
        self.resource = resource
        self.input = input
        self.timeoutInSeconds = timeoutInSeconds
        self.heartbeatInSeconds = heartbeatInSeconds
        self.taskCredentials = taskCredentials
    }
}

/// AWS's history event types, plus the engine's internal ones.
public enum HistoryEventType: String, Sendable, CaseIterable {
    case activityFailed = "ActivityFailed"
    case activityScheduled = "ActivityScheduled"
    case activityScheduleFailed = "ActivityScheduleFailed"
    case activityStarted = "ActivityStarted"
    case activitySucceeded = "ActivitySucceeded"
    case activityTimedOut = "ActivityTimedOut"
    case choiceStateEntered = "ChoiceStateEntered"
    case choiceStateExited = "ChoiceStateExited"
    case executionAborted = "ExecutionAborted"
    case executionFailed = "ExecutionFailed"
    case executionStarted = "ExecutionStarted"
    case executionSucceeded = "ExecutionSucceeded"
    case executionTimedOut = "ExecutionTimedOut"
    case failStateEntered = "FailStateEntered"
    case lambdaFunctionFailed = "LambdaFunctionFailed"
    case lambdaFunctionScheduled = "LambdaFunctionScheduled"
    case lambdaFunctionScheduleFailed = "LambdaFunctionScheduleFailed"
    case lambdaFunctionStarted = "LambdaFunctionStarted"
    case lambdaFunctionStartFailed = "LambdaFunctionStartFailed"
    case lambdaFunctionSucceeded = "LambdaFunctionSucceeded"
    case lambdaFunctionTimedOut = "LambdaFunctionTimedOut"
    case mapIterationAborted = "MapIterationAborted"
    case mapIterationFailed = "MapIterationFailed"
    case mapIterationStarted = "MapIterationStarted"
    case mapIterationSucceeded = "MapIterationSucceeded"
    case mapStateAborted = "MapStateAborted"
    case mapStateEntered = "MapStateEntered"
    case mapStateExited = "MapStateExited"
    case mapStateFailed = "MapStateFailed"
    case mapStateStarted = "MapStateStarted"
    case mapStateSucceeded = "MapStateSucceeded"
    case parallelStateAborted = "ParallelStateAborted"
    case parallelStateEntered = "ParallelStateEntered"
    case parallelStateExited = "ParallelStateExited"
    case parallelStateFailed = "ParallelStateFailed"
    case parallelStateStarted = "ParallelStateStarted"
    case parallelStateSucceeded = "ParallelStateSucceeded"
    case passStateEntered = "PassStateEntered"
    case passStateExited = "PassStateExited"
    case succeedStateEntered = "SucceedStateEntered"
    case succeedStateExited = "SucceedStateExited"
    case taskFailed = "TaskFailed"
    case taskScheduled = "TaskScheduled"
    case taskStarted = "TaskStarted"
    case taskStartFailed = "TaskStartFailed"
    case taskStateAborted = "TaskStateAborted"
    case taskStateEntered = "TaskStateEntered"
    case taskStateExited = "TaskStateExited"
    case taskSubmitFailed = "TaskSubmitFailed"
    case taskSubmitted = "TaskSubmitted"
    case taskSucceeded = "TaskSucceeded"
    case taskTimedOut = "TaskTimedOut"
    case waitStateAborted = "WaitStateAborted"
    case waitStateEntered = "WaitStateEntered"
    case waitStateExited = "WaitStateExited"
    case mapRunAborted = "MapRunAborted"
    case mapRunFailed = "MapRunFailed"
    case mapRunStarted = "MapRunStarted"
    case mapRunSucceeded = "MapRunSucceeded"
    case executionRedriven = "ExecutionRedriven"
    case mapRunRedriven = "MapRunRedriven"
    case evaluationFailed = "EvaluationFailed"

    /// Internal: a task heartbeat arrived (extends the heartbeat deadline).
    case heartbeatRecorded = "_HeartbeatRecorded"
    /// Internal: a Parallel or Map state failed and one of its retriers will run it again
    /// (AWS records no event between the failure and the next attempt).
    case retryScheduled = "_RetryScheduled"

    public var isInternal: Bool { self == .heartbeatRecorded || self == .retryScheduled }

    public var isStateEntered: Bool {
        switch self {
        case .choiceStateEntered, .failStateEntered, .mapStateEntered, .parallelStateEntered, .passStateEntered,
            .succeedStateEntered, .taskStateEntered, .waitStateEntered:
            true
        default: false
        }
    }

    /// `XStateEntered` for a state. Reads only the case of the state's kind (a copy of the
    /// whole kind, with its payload, costs a few hundred bytes).
    static func stateEntered(of state: State) -> HistoryEventType {
        switch state.kind {
        case .pass: .passStateEntered
        case .task: .taskStateEntered
        case .choice: .choiceStateEntered
        case .wait: .waitStateEntered
        case .succeed: .succeedStateEntered
        case .fail: .failStateEntered
        case .parallel: .parallelStateEntered
        case .map: .mapStateEntered
        }
    }

    /// `XStateExited` for a state (Fail states never exit). Reads only the case of its kind.
    static func stateExited(of state: State) -> HistoryEventType {
        switch state.kind {
        case .pass: .passStateExited
        case .task: .taskStateExited
        case .choice: .choiceStateExited
        case .wait: .waitStateExited
        case .succeed: .succeedStateExited
        case .parallel: .parallelStateExited
        case .map: .mapStateExited
        case .fail: preconditionFailure("Fail states have no exit event")
        }
    }

    /// The name of the `*EventDetails` member that carries this event's details.
    public var detailsKey: String? {
        switch self {
        case .activityFailed: "activityFailedEventDetails"
        case .activityScheduleFailed: "activityScheduleFailedEventDetails"
        case .activityScheduled: "activityScheduledEventDetails"
        case .activityStarted: "activityStartedEventDetails"
        case .activitySucceeded: "activitySucceededEventDetails"
        case .activityTimedOut: "activityTimedOutEventDetails"
        case .taskFailed: "taskFailedEventDetails"
        case .taskScheduled: "taskScheduledEventDetails"
        case .taskStartFailed: "taskStartFailedEventDetails"
        case .taskStarted: "taskStartedEventDetails"
        case .taskSubmitFailed: "taskSubmitFailedEventDetails"
        case .taskSubmitted: "taskSubmittedEventDetails"
        case .taskSucceeded: "taskSucceededEventDetails"
        case .taskTimedOut: "taskTimedOutEventDetails"
        case .executionFailed: "executionFailedEventDetails"
        case .executionStarted: "executionStartedEventDetails"
        case .executionSucceeded: "executionSucceededEventDetails"
        case .executionAborted: "executionAbortedEventDetails"
        case .executionTimedOut: "executionTimedOutEventDetails"
        case .executionRedriven: "executionRedrivenEventDetails"
        case .mapStateStarted: "mapStateStartedEventDetails"
        case .mapIterationStarted: "mapIterationStartedEventDetails"
        case .mapIterationSucceeded: "mapIterationSucceededEventDetails"
        case .mapIterationFailed: "mapIterationFailedEventDetails"
        case .mapIterationAborted: "mapIterationAbortedEventDetails"
        case .lambdaFunctionFailed: "lambdaFunctionFailedEventDetails"
        case .lambdaFunctionScheduleFailed: "lambdaFunctionScheduleFailedEventDetails"
        case .lambdaFunctionScheduled: "lambdaFunctionScheduledEventDetails"
        case .lambdaFunctionStartFailed: "lambdaFunctionStartFailedEventDetails"
        case .lambdaFunctionSucceeded: "lambdaFunctionSucceededEventDetails"
        case .lambdaFunctionTimedOut: "lambdaFunctionTimedOutEventDetails"
        case .mapRunStarted: "mapRunStartedEventDetails"
        case .mapRunFailed: "mapRunFailedEventDetails"
        case .mapRunRedriven: "mapRunRedrivenEventDetails"
        case .evaluationFailed: "evaluationFailedEventDetails"
        case .choiceStateEntered, .failStateEntered, .mapStateEntered, .parallelStateEntered, .passStateEntered,
            .succeedStateEntered, .taskStateEntered, .waitStateEntered:
            "stateEnteredEventDetails"
        case .choiceStateExited, .mapStateExited, .parallelStateExited, .passStateExited, .succeedStateExited,
            .taskStateExited, .waitStateExited:
            "stateExitedEventDetails"
        default: nil
        }
    }
}
