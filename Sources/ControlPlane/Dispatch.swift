import StatesEngine
import StatesLanguage

// The executor's way out: how task requests and events leave the process. The runtime's
// outbox relay calls a `TaskDispatcher`; dispatchers answer through a `TaskReplySink`.

/// What became of a task request handed to a dispatcher.
public enum DispatchOutcome: Sendable, Equatable {
    /// Delivered (for Kafka: the broker acknowledged the record, the delivery report
    /// arrived): the outbox row is marked sent.
    case sent
    /// The dispatcher keeps the request and settles it itself (an activity task waits in
    /// its queue until a worker takes it, and its outbox row stays pending until then, so
    /// that a restart hands it over again).
    case queued
}

/// Carries task requests out of the process: the outbox relay's only way out.
///
/// - Important: `dispatch` MUST be idempotent by `request.token`: after a crash the same
///   request (same token, same payload) is handed over again, and a receiver treats the
///   second copy as the first. `dispatch` returns when the request is durably with the
///   receiver (`.sent`) or kept by the dispatcher (`.queued`); throwing leaves the outbox
///   row pending, and the relay retries it.
public protocol TaskDispatcher: Sendable {
    func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome
    /// The task is no longer wanted (its state ended, timed out, or the execution stopped).
    func cancel(token: TaskToken) async
    /// Publishes an event (execution status changes); returns when it is delivered.
    ///
    /// - Important: MUST be idempotent in effect: after a crash the same event (same id)
    ///   is published again.
    func publish(_ record: OutboundRecord) async throws
    /// Publishes events together; returns when every one is delivered.
    ///
    /// - Throws: when any could not be delivered (all may be published again).
    func publish(_ records: [OutboundRecord]) async throws
    /// A request whose submission this dispatcher answers itself, without a receiver (a
    /// Kafka publish that waits for its callback: the response, a MessageId and the like,
    /// is made here), planned once: the records that carry it and TaskSubmitted's output.
    /// The executor then records TaskSubmitted in the step that schedules the task and keeps
    /// the records in that step's outbox, so both are durable before the request leaves and
    /// the ids in the history are those the records carry. The relay publishes the records
    /// (`publish`) and calls `awaitsReply(token:)`; `dispatch` never sees the request.
    /// nil: the request goes to `dispatch`.
    func presubmission(for request: TaskRequest, now: Int64) -> Presubmission?
    /// The records of a presubmitted request are delivered: its callback is awaited.
    func awaitsReply(token: TaskToken)
}

/// A request planned in the step that schedules it (`TaskDispatcher.presubmission`).
public struct Presubmission: Sendable {
    /// The records that carry the request, published as they are.
    public var records: [OutboundRecord]
    /// TaskSubmitted's output.
    public var output: JSON

    public init(records: [OutboundRecord], output: JSON) {
        self.records = records
        self.output = output
    }
}

extension TaskDispatcher {
    public func presubmission(for request: TaskRequest, now: Int64) -> Presubmission? { nil }

    public func awaitsReply(token: TaskToken) {}

    /// Dispatchers without a way out for events drop them.
    public func publish(_ record: OutboundRecord) async throws {}

    /// One at a time, unless the dispatcher batches.
    public func publish(_ records: [OutboundRecord]) async throws {
        for r in records { try await publish(r) }
    }
}

/// Where dispatchers send answers: the same operations as SendTaskSuccess/Failure/Heartbeat.
public protocol TaskReplySink: Sendable {
    func taskSucceeded(token: TaskToken, output: JSON) async throws
    func taskFailed(token: TaskToken, error: String?, cause: String?) async throws
    func taskHeartbeat(token: TaskToken) async throws
    /// A `.waitForTaskToken` or `.sync` request was delivered (TaskSubmitted with the
    /// integration's response); the result comes later.
    func taskSubmitted(token: TaskToken, output: JSON) async throws
    /// An activity worker took the task. Returns false when the task is no longer open
    /// (or was already taken), so the worker must not get it.
    func activityStarted(token: TaskToken, workerName: String?) async throws -> Bool
}

/// The executor's answers reached through a port: what the dispatchers hold, made before the
/// executor they answer (`SteplineRuntime` serves it while it runs). Each call goes to the
/// executor as it is; see `ServicePort` for before and after.
extension ServicePort: TaskReplySink where Target == any TaskReplySink {
    public func taskSucceeded(token: TaskToken, output: JSON) async throws {
        try await target().taskSucceeded(token: token, output: output)
    }

    public func taskFailed(token: TaskToken, error: String?, cause: String?) async throws {
        try await target().taskFailed(token: token, error: error, cause: cause)
    }

    public func taskHeartbeat(token: TaskToken) async throws { try await target().taskHeartbeat(token: token) }

    public func taskSubmitted(token: TaskToken, output: JSON) async throws {
        try await target().taskSubmitted(token: token, output: output)
    }

    public func activityStarted(token: TaskToken, workerName: String?) async throws -> Bool {
        try await target().activityStarted(token: token, workerName: workerName)
    }
}

/// A record to publish: where, keyed how, with what headers.
public struct OutboundRecord: Sendable, Equatable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [(String, String)]

    public init(topic: String, key: [UInt8]? = nil, value: [UInt8], headers: [(String, String)] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    public static func == (a: OutboundRecord, b: OutboundRecord) -> Bool {
        a.topic == b.topic && a.key == b.key && a.value == b.value && a.headers.map(\.0) == b.headers.map(\.0)
            && a.headers.map(\.1) == b.headers.map(\.1)
    }
}
