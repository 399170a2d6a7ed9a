import StatesEngine
import StatesLanguage
import Synchronization
import ControlPlane

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
    func cancel(token: String) async
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
    func awaitsReply(token: String)
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

    public func awaitsReply(token: String) {}

    /// Dispatchers without a way out for events drop them.
    public func publish(_ record: OutboundRecord) async throws {}

    /// One at a time, unless the dispatcher batches.
    public func publish(_ records: [OutboundRecord]) async throws {
        for r in records { try await publish(r) }
    }
}

/// Where dispatchers send answers: the same operations as SendTaskSuccess/Failure/Heartbeat.
public protocol TaskReplySink: Sendable {
    func taskSucceeded(token: String, output: JSON) async throws
    func taskFailed(token: String, error: String?, cause: String?) async throws
    func taskHeartbeat(token: String) async throws
    /// A `.waitForTaskToken` or `.sync` request was delivered (TaskSubmitted with the
    /// integration's response); the result comes later.
    func taskSubmitted(token: String, output: JSON) async throws
    /// An activity worker took the task. Returns false when the task is no longer open
    /// (or was already taken), so the worker must not get it.
    func activityStarted(token: String, workerName: String?) async throws -> Bool
}

/// A late-bound reply sink: dispatchers are built before the service they answer to.
public final class TaskReplyChannel: TaskReplySink {
    private let target = Mutex<(any TaskReplySink)?>(nil)

    public init() {}

    public func bind(_ sink: any TaskReplySink) { target.withLock { $0 = sink } }

    private var sink: any TaskReplySink {
        get throws {
            guard let s = target.withLock({ $0 }) else { throw ServiceError.shuttingDown }
            return s
        }
    }

    public func taskSucceeded(token: String, output: JSON) async throws { try await sink.taskSucceeded(token: token, output: output) }
    public func taskFailed(token: String, error: String?, cause: String?) async throws {
        try await sink.taskFailed(token: token, error: error, cause: cause)
    }
    public func taskHeartbeat(token: String) async throws { try await sink.taskHeartbeat(token: token) }
    public func taskSubmitted(token: String, output: JSON) async throws { try await sink.taskSubmitted(token: token, output: output) }
    public func activityStarted(token: String, workerName: String?) async throws -> Bool {
        try await sink.activityStarted(token: token, workerName: workerName)
    }
}

/// Routes task requests by resource: activities to the activity queues, everything else
/// to `fallback` (until the Kafka dispatcher of issue 6: `UnconfiguredDispatcher`).
public struct RoutingDispatcher: TaskDispatcher {
    public let activities: ActivityDispatcher
    public let fallback: any TaskDispatcher
    /// Also hand activity tasks to `fallback` (Kafka workers of activities).
    public let mirrorsActivities: Bool

    public init(activities: ActivityDispatcher, fallback: any TaskDispatcher, mirrorsActivities: Bool = false) {
        self.activities = activities
        self.fallback = fallback
        self.mirrorsActivities = mirrorsActivities
    }

    public func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        if case .activity = request.resource.kind {
            let outcome = try await activities.dispatch(request)
            // Kafka workers get activity tasks too; the first worker to answer takes it.
            if mirrorsActivities { _ = try await fallback.dispatch(request) }
            return outcome
        }
        return try await fallback.dispatch(request)
    }

    public func cancel(token: String) async {
        await activities.cancel(token: token)
        await fallback.cancel(token: token)
    }

    public func publish(_ record: OutboundRecord) async throws { try await fallback.publish(record) }

    public func publish(_ records: [OutboundRecord]) async throws { try await fallback.publish(records) }

    public func presubmission(for request: TaskRequest, now: Int64) -> Presubmission? {
        if case .activity = request.resource.kind { return nil }
        return fallback.presubmission(for: request, now: now)
    }

    public func awaitsReply(token: String) { fallback.awaitsReply(token: token) }
}

/// Fails every task it gets with `States.TaskFailed`, naming the resource: the daemon has
/// no way to carry it out (no Kafka dispatcher configured).
public struct UnconfiguredDispatcher: TaskDispatcher {
    let replies: any TaskReplySink

    public init(replies: any TaskReplySink) { self.replies = replies }

    public func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        let replies = self.replies
        let token = request.token
        let cause = "no dispatcher for \(request.resource.arn): this daemon carries out activity tasks only (Kafka integrations are not configured)"
        // Answer after the request is marked sent, outside the relay's path.
        Task { try? await replies.taskFailed(token: token, error: StatesError.Name.taskFailed, cause: cause) }
        return .sent
    }

    public func cancel(token: String) async {}
}

/// The outbox payload of a task request: a JSON object, so that any consumer can read it.
public enum TaskRequestCodec {
    public static func encode(_ r: TaskRequest) -> [UInt8] {
        var o = JSONObject(minimumCapacity: 10)
        o.append("token", .string(r.token))
        o.append("executionArn", .string(r.executionArn))
        o.append("stateName", .string(r.stateName))
        o.append("resource", .string(r.resource.arn))
        o.append("parameters", r.parameters)
        if let t = r.timeoutSeconds { o.append("timeoutSeconds", .int(t)) }
        if let h = r.heartbeatSeconds { o.append("heartbeatSeconds", .int(h)) }
        if let c = r.credentials { o.append("credentials", c) }
        o.append("attempt", .int(Int64(r.attempt)))
        o.append("scheduledEventId", .int(r.scheduledEventID))
        var out: [UInt8] = []
        JSON.object(o).write(to: &out)
        return out
    }

    public static func decode(_ bytes: [UInt8]) -> TaskRequest? {
        guard let j = try? JSON.parse(bytes: bytes), let token = j["token"]?.stringValue,
            let arn = j["executionArn"]?.stringValue, let stateName = j["stateName"]?.stringValue,
            let resourceArn = j["resource"]?.stringValue, let resource = TaskResource(resourceArn)
        else { return nil }
        return TaskRequest(
            token: token, executionArn: arn, stateName: stateName, resource: resource, parameters: j["parameters"] ?? .null,
            timeoutSeconds: j["timeoutSeconds"]?.integerValue, heartbeatSeconds: j["heartbeatSeconds"]?.integerValue,
            credentials: j["credentials"], attempt: Int(j["attempt"]?.integerValue ?? 0),
            scheduledEventID: j["scheduledEventId"]?.integerValue ?? 0)
    }
}
