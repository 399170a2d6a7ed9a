import StatesLanguage

/// What one call into the engine produced: the events to append (already applied to the
/// state) and the commands the runtime must carry out.
public struct Decision: Sendable {
    public var events: [HistoryEvent] = []
    public var commands: [EngineCommand] = []
    /// States entered (the `...StateEntered` events among `events`).
    public var transitions = 0

    public init() {}
}

/// Work the engine asks the runtime to do. The engine never does I/O itself.
public enum EngineCommand: Sendable {
    /// Send a task request (an integration call, an activity task, a callback message).
    /// The same token may be dispatched again after a crash; receivers deduplicate on it.
    case dispatchTask(TaskRequest)
    /// A task is no longer wanted (its state was aborted or timed out): stop waiting for it.
    case cancelTask(token: TaskToken)
}

/// A task the engine scheduled.
public struct TaskRequest: Sendable {
    public var token: TaskToken
    public var executionArn: ExecutionARN
    public var stateName: String
    public var resource: TaskResource
    /// The resolved `Parameters`/`Arguments` (the payload the integration receives).
    public var parameters: JSON
    public var timeoutSeconds: Int64?
    public var heartbeatSeconds: Int64?
    /// Resolved `Credentials`, if any (`{"roleArn": ...}`: the role the task runs as).
    public var credentials: JSON?
    /// The execution's role (the state machine's `roleArn`, `$$.Execution.RoleArn`); nil in
    /// requests written before it was recorded.
    public var roleArn: String?
    /// 0 for the first attempt, then one more per retry.
    public var attempt: Int
    /// The event id of the TaskScheduled (or Activity/LambdaFunction scheduled) event.
    public var scheduledEventID: Int64

    public init(token: TaskToken, executionArn: ExecutionARN, stateName: String, resource: TaskResource, parameters: JSON,
                timeoutSeconds: Int64?, heartbeatSeconds: Int64?, credentials: JSON?, attempt: Int, scheduledEventID: Int64,
                roleArn: String? = nil)
    {
        self.token = token
        self.executionArn = executionArn
        self.stateName = stateName
        self.resource = resource
        self.parameters = parameters
        self.timeoutSeconds = timeoutSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.credentials = credentials
        self.attempt = attempt
        self.scheduledEventID = scheduledEventID
        self.roleArn = roleArn
    }

    /// The role whose policies decide what the task may call: `Credentials.RoleArn` when the
    /// Task gives one (Step Functions assumes it for the task), else the execution's role.
    public var taskRoleArn: String? { credentials?["roleArn"]?.stringValue ?? roleArn }
}

/// Something that happened outside the engine to one of its tasks, or to the execution.
public enum ExecutionSignal: Sendable {
    /// A `.waitForTaskToken` or `.sync` request was delivered; the result comes later.
    /// `output` is the integration's response (TaskSubmitted's output).
    case taskSubmitted(token: TaskToken, output: JSON)
    /// The task finished with this result.
    case taskSucceeded(token: TaskToken, output: JSON)
    case taskFailed(token: TaskToken, error: String?, cause: String?)
    case taskHeartbeat(token: TaskToken)
    /// An activity worker took the task.
    case activityStarted(token: TaskToken, workerName: String?)
    /// StopExecution.
    case stop(error: String?, cause: String?)
}

/// Why a signal could not be applied.
public enum SignalError: Error, Sendable, Equatable {
    /// The execution has ended.
    case executionClosed
    /// No open task holds this token (finished, timed out, or never existed).
    case taskDoesNotExist
    /// The payload is too large or not valid for the task.
    case invalidOutput(String)
}

/// Clock, randomness and placement for one call into the engine.
public struct DecisionContext: Sendable {
    /// The current time in epoch milliseconds (a virtual clock in tests and `stepline run`).
    public var now: Int64
    public var random: RandomSource
    /// Used in TaskScheduled's `region`.
    public var region: String
    /// The history quota: the event with this id is the execution's last, `ExecutionFailed`
    /// (`HistoryLimit`), when the execution would go past it. Also what stops a loop of
    /// states that never blocks (Pass/Choice only) inside one engine call.
    public var historyEventLimit: Int64
    /// Events of any kind one call may produce before the execution fails as over its quota.
    public var maxEventsPerCall: Int = 2_000_000
    /// With a value, a call stops between two states once it produced this many events,
    /// leaving the execution runnable and due at once (`nextDueTime`); the next `advance`
    /// goes on. For EXPRESS executions, which have no history quota (set
    /// `historyEventLimit` to `.max`).
    public var yieldAfterEvents: Int?

    public init(now: Int64, random: RandomSource, region: String = "us-east-1", historyEventLimit: Int64 = HistoryLimit.defaultLimit) {
        self.now = now
        self.random = random
        self.region = region
        self.historyEventLimit = historyEventLimit
    }
}

/// AWS's payload quota: 256 KiB of UTF-8.
public let payloadSizeLimit = 262_144
