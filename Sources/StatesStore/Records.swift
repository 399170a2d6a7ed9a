import StatesEngine
import StatesLanguage

/// A state machine as the store keeps it.
///
/// Room is left for what the API adds later (versions, aliases, tags, logging, tracing and
/// encryption configuration): those are stored as given, as JSON text, and not interpreted here.
///
/// Identifiers of Step Functions resources are typed (`StateMachineARN`, `ExecutionARN`,
/// `TaskToken`, ...) here and in every record of this module; an IAM role (`roleArn`) is not
/// one of them, is never looked up by the store, and stays the text the caller gave.
public struct StateMachineRecord: Sendable, Equatable {
    public var arn: StateMachineARN
    public var name: String
    /// `STANDARD` or `EXPRESS`.
    public var type: String
    /// The definition text as given (DescribeStateMachine returns it verbatim).
    public var definition: String
    /// The IAM role's ARN, as given (not a Step Functions identifier).
    public var roleArn: String
    /// Milliseconds since the epoch.
    public var creationDate: Int64
    /// Identifies this definition; executions name the revision they run.
    public var revisionId: String
    /// `ACTIVE` or `DELETING`.
    public var status: String
    public var description: String?
    public var loggingConfiguration: String?
    public var tracingConfiguration: String?
    public var encryptionConfiguration: String?
    public var updateDate: Int64?

    public init(arn: StateMachineARN, name: String, type: String, definition: String, roleArn: String, creationDate: Int64,
                revisionId: String, status: String = "ACTIVE", description: String? = nil,
                loggingConfiguration: String? = nil, tracingConfiguration: String? = nil,
                encryptionConfiguration: String? = nil, updateDate: Int64? = nil)
    {
        self.arn = arn
        self.name = name
        self.type = type
        self.definition = definition
        self.roleArn = roleArn
        self.creationDate = creationDate
        self.revisionId = revisionId
        self.status = status
        self.description = description
        self.loggingConfiguration = loggingConfiguration
        self.tracingConfiguration = tracingConfiguration
        self.encryptionConfiguration = encryptionConfiguration
        self.updateDate = updateDate
    }
}

/// An activity (`arn:aws:states:REGION:ACCOUNT:activity:NAME`).
public struct ActivityRecord: Sendable, Equatable {
    public var arn: ActivityARN
    public var name: String
    public var creationDate: Int64
    public var encryptionConfiguration: String?

    public init(arn: ActivityARN, name: String, creationDate: Int64, encryptionConfiguration: String? = nil) {
        self.arn = arn
        self.name = name
        self.creationDate = creationDate
        self.encryptionConfiguration = encryptionConfiguration
    }
}

/// The master key that seals what a store keeps of an execution (or of an activity's
/// tasks), and how long one data key seals values before another is made.
///
/// The store seals and opens with the `DataSealer` it was given; the key is named by its id
/// in that sealer's keyring (the runtime resolves aliases and ARNs before).
public struct SealingKey: Sendable, Hashable, CustomStringConvertible {
    /// The master key's id (`encryption.keys[].id`).
    public var keyID: String
    /// `kmsDataKeyReusePeriodSeconds`: 60 to 900, AWS's default 300.
    public var reusePeriodSeconds: Int

    public init(keyID: String, reusePeriodSeconds: Int = 300) {
        self.keyID = keyID
        self.reusePeriodSeconds = reusePeriodSeconds
    }

    public var description: String { "key \(keyID) (data keys reused \(reusePeriodSeconds) s)" }
}

/// An execution's row: what DescribeExecution and ListExecutions show, plus what the
/// runtime needs to resume it (its definition revision, its next timer, its event count).
public struct ExecutionRecord: Sendable, Equatable {
    public var arn: ExecutionARN
    /// The unqualified machine, also when the execution started through a version or alias.
    public var stateMachineArn: StateMachineARN
    public var name: String
    /// `STANDARD` (EXPRESS executions are never stored).
    public var type: String
    /// The definition the execution runs (`StateMachineRecord.revisionId` at its start).
    public var revisionId: String
    public var status: ExecutionStatus
    public var input: JSON
    public var output: JSON?
    public var error: String?
    public var cause: String?
    /// Milliseconds since the epoch.
    public var startDate: Int64
    public var stopDate: Int64?
    /// The next timer (Wait, retry backoff, task timeout, heartbeat, execution timeout),
    /// epoch milliseconds; nil when nothing is due without outside input.
    public var nextDue: Int64?
    /// Id of the last AWS event.
    public var lastEventID: Int64
    /// Events stored, internal ones included: the sequence number of the next event.
    public var eventCount: Int
    /// The IAM role's ARN, as given.
    public var roleArn: String?
    public var traceHeader: String?
    public var stateMachineVersionArn: StateMachineARN?
    public var stateMachineAliasArn: StateMachineARN?
    public var redriveCount: Int
    public var redriveDate: Int64?
    /// Set when the execution's data is sealed (fixed at its start): its input, output,
    /// error and cause, its history, its outbox rows are stored encrypted under this key.
    public var sealingKey: SealingKey?
    /// Set on a record read from the store whose data (input, output, error, cause) could
    /// not be opened: why, naming the key (not configured, other material, damaged). Those
    /// fields are then empty (`input` is `{}`, the others nil); the rest of the row is read.
    public var unreadable: String?

    public init(arn: ExecutionARN, stateMachineArn: StateMachineARN, name: String, type: String = "STANDARD", revisionId: String,
                status: ExecutionStatus = .running, input: JSON, output: JSON? = nil, error: String? = nil,
                cause: String? = nil, startDate: Int64, stopDate: Int64? = nil, nextDue: Int64? = nil,
                lastEventID: Int64 = 0, eventCount: Int = 0, roleArn: String? = nil, traceHeader: String? = nil,
                stateMachineVersionArn: StateMachineARN? = nil, stateMachineAliasArn: StateMachineARN? = nil, redriveCount: Int = 0,
                redriveDate: Int64? = nil, sealingKey: SealingKey? = nil, unreadable: String? = nil)
    {
        self.arn = arn
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.type = type
        self.revisionId = revisionId
        self.status = status
        self.input = input
        self.output = output
        self.error = error
        self.cause = cause
        self.startDate = startDate
        self.stopDate = stopDate
        self.nextDue = nextDue
        self.lastEventID = lastEventID
        self.eventCount = eventCount
        self.roleArn = roleArn
        self.traceHeader = traceHeader
        self.stateMachineVersionArn = stateMachineVersionArn
        self.stateMachineAliasArn = stateMachineAliasArn
        self.redriveCount = redriveCount
        self.redriveDate = redriveDate
        self.sealingKey = sealingKey
        self.unreadable = unreadable
    }
}

/// The events of one step, encoded once by the caller (`HistoryCodec`), so that the
/// store's single writer only copies bytes.
public struct HistoryChunk: Sendable {
    /// Sequence number (0-based, internal events counted) of the first event.
    public var firstSequence: Int
    public var count: Int
    /// Id of the last AWS event in the chunk (or before it, when the chunk holds only internal events).
    public var lastEventID: Int64
    public var encoded: [UInt8]

    public init(firstSequence: Int, events: [HistoryEvent], lastEventID: Int64) {
        self.firstSequence = firstSequence
        self.count = events.count
        self.lastEventID = lastEventID
        self.encoded = HistoryCodec.encode(events)
    }

    public init(firstSequence: Int, count: Int, lastEventID: Int64, encoded: [UInt8]) {
        self.firstSequence = firstSequence
        self.count = count
        self.lastEventID = lastEventID
        self.encoded = encoded
    }

    public func events() throws -> [HistoryEvent] { try HistoryCodec.decode(encoded) }
}

/// A task that waits on a token.
public struct TaskRecord: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Scheduled; the execution waits for its result.
        case open = "OPEN"
        /// Finished, failed, timed out, or its execution ended.
        case closed = "CLOSED"
    }

    public var token: TaskToken
    public var executionArn: ExecutionARN
    /// The engine thread (branch or iteration) that waits.
    public var thread: UInt32
    public var stateName: String
    /// The Task state's `Resource` as written (any service's ARN).
    public var resource: String
    /// Set for activity tasks.
    public var activityArn: ActivityARN?
    public var status: Status
    public var timeoutSeconds: Int64?
    public var heartbeatSeconds: Int64?
    public var scheduledEventID: Int64
    public var createdAt: Int64

    public init(token: TaskToken, executionArn: ExecutionARN, thread: UInt32, stateName: String, resource: String,
                activityArn: ActivityARN? = nil, status: Status = .open, timeoutSeconds: Int64? = nil,
                heartbeatSeconds: Int64? = nil, scheduledEventID: Int64, createdAt: Int64)
    {
        self.token = token
        self.executionArn = executionArn
        self.thread = thread
        self.stateName = stateName
        self.resource = resource
        self.activityArn = activityArn
        self.status = status
        self.timeoutSeconds = timeoutSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.scheduledEventID = scheduledEventID
        self.createdAt = createdAt
    }
}

/// A message that must leave the process after its step is durable (the transactional outbox).
public struct OutboxRecord: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A task request (`TaskRequestCodec` payload).
        case task = "TASK"
        /// An execution status change event.
        case status = "STATUS"
        /// A record that carries a task request planned in its step (a Kafka publish that
        /// waits for its callback): published as it is; `token` names the task.
        case publish = "PUBLISH"
    }

    public enum Status: String, Sendable {
        case pending = "PENDING"
        case sent = "SENT"
        /// Written by versions that kept a closed task's rows; rows now go when their task closes.
        case cancelled = "CANCELLED"
    }

    /// A record header. A record keeps its headers in order, and a name may repeat.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Assigned by the store at commit; 0 before.
    public var id: Int64
    public var executionArn: ExecutionARN
    public var token: TaskToken?
    public var kind: Kind
    /// Where it goes: a resource ARN, a topic.
    public var destination: String
    public var key: [UInt8]?
    public var payload: [UInt8]
    public var headers: [Header]
    public var status: Status
    public var createdAt: Int64
    /// Seals this row (its key, payload and headers) instead of the execution's key: an
    /// activity's own key (`CreateActivity`'s EncryptionConfiguration) for its tasks.
    public var sealingKey: SealingKey?
    /// Set on a row read from the store that could not be opened: why, naming the key. Its
    /// key, payload and headers are then empty; the row stays stored, untouched.
    public var unreadable: String?

    public init(id: Int64 = 0, executionArn: ExecutionARN, token: TaskToken?, kind: Kind, destination: String, key: [UInt8]? = nil,
                payload: [UInt8], headers: [Header] = [], status: Status = .pending, createdAt: Int64, sealingKey: SealingKey? = nil,
                unreadable: String? = nil)
    {
        self.id = id
        self.executionArn = executionArn
        self.token = token
        self.kind = kind
        self.destination = destination
        self.key = key
        self.payload = payload
        self.headers = headers
        self.status = status
        self.createdAt = createdAt
        self.sealingKey = sealingKey
        self.unreadable = unreadable
    }
}

/// Everything one step of one execution writes.
public struct StepRecord: Sendable {
    public enum Kind: Sendable {
        /// The execution's first step: its row is inserted.
        case start(ExecutionRecord)
        /// A later step: its row is updated.
        case update
    }

    /// Fixed at init: `inputText` is derived from it.
    public let kind: Kind
    public var executionArn: ExecutionARN
    public var status: ExecutionStatus
    public let output: JSON?
    /// `output`, and the start's input, serialized when the step is made: off the store's
    /// single writer, which every step waits for.
    public let outputText: String?
    public let inputText: String?
    public var error: String?
    public var cause: String?
    public var stopDate: Int64?
    public var nextDue: Int64?
    public var lastEventID: Int64
    /// The step's events; `chunk.firstSequence` MUST equal the stored event count.
    public var chunk: HistoryChunk
    public var tasksOpened: [TaskRecord]
    /// Tokens of tasks that ended in this step. Their pending outbox rows are settled too.
    public var tasksClosed: [TaskToken]
    /// Tokens whose pending outbox rows are marked sent (an activity task taken by a worker).
    public var outboxDelivered: [TaskToken]
    public var outbox: [OutboxRecord]
    /// Set by a step that redrives the execution (`ExecutionRedriven`).
    public var redrive: RedriveUpdate? = nil

    public init(kind: Kind, executionArn: ExecutionARN, status: ExecutionStatus, output: JSON? = nil, error: String? = nil,
                cause: String? = nil, stopDate: Int64? = nil, nextDue: Int64?, lastEventID: Int64, chunk: HistoryChunk,
                tasksOpened: [TaskRecord] = [], tasksClosed: [TaskToken] = [], outboxDelivered: [TaskToken] = [],
                outbox: [OutboxRecord] = [])
    {
        self.kind = kind
        self.executionArn = executionArn
        self.status = status
        self.output = output
        outputText = output.map { $0.serialized() }
        if case .start(let r) = kind { inputText = r.input.serialized() } else { inputText = nil }
        self.error = error
        self.cause = cause
        self.stopDate = stopDate
        self.nextDue = nextDue
        self.lastEventID = lastEventID
        self.chunk = chunk
        self.tasksOpened = tasksOpened
        self.tasksClosed = tasksClosed
        self.outboxDelivered = outboxDelivered
        self.outbox = outbox
    }
}

/// What one `commit` writes: the steps of many executions, and outbox acknowledgements.
public struct CommitBatch: Sendable {
    public var steps: [StepRecord]
    /// Outbox rows whose delivery the dispatcher confirmed.
    public var outboxSent: [Int64]

    public init(steps: [StepRecord] = [], outboxSent: [Int64] = []) {
        self.steps = steps
        self.outboxSent = outboxSent
    }

    public var isEmpty: Bool { steps.isEmpty && outboxSent.isEmpty }
}

/// What `commit` assigned: the outbox ids of each step, in the batch's order.
public struct CommitResult: Sendable {
    public var outboxIDs: [[Int64]]
    public init(outboxIDs: [[Int64]]) { self.outboxIDs = outboxIDs }
}

/// A page of a listing: the items and the key to continue after.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: String?
    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }
}
