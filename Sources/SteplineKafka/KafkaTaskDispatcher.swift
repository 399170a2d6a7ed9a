import KafkaClient
import Logging
import StatesEngine
import StatesLanguage
import Synchronization
import ControlPlane

/// Carries task requests out over Kafka, as PRODUCT.md's topic conventions say, and
/// answers the tasks whose result does not come from a worker (publishes).
///
/// With roles (`security.roles`), a request its role does not allow fails as AWS fails it
/// (`RoleAuthorization`) before anything is published.
///
/// - Important: Idempotent by token, as `TaskDispatcher` requires: after a crash a request
///   is planned and published again with the same token (a duplicate record downstream,
///   which workers tell apart by the `stepline-task-token` header), and its answer is given
///   again, which the executor ignores for a task that has ended.
public final class KafkaTaskDispatcher: TaskDispatcher {
    private let producer: KafkaProducer
    private let planner: IntegrationPlanner
    private let roles: RoleAuthorization?
    private let replies: any TaskReplySink
    private let nested: NestedExecutions
    private let clock: any RuntimeClock
    private let logger: Logger
    /// Tasks that wait for a worker's reply (requests and `.waitForTaskToken` publishes),
    /// and how that reply becomes their result.
    let pending = Mutex<[TaskToken: ReplyShape]>([:])
    private let random = RandomSource.system

    /// - Parameter roles: the roles' policies; nil: every task may call what it calls.
    public init(producer: KafkaProducer, planner: IntegrationPlanner, roles: (any RoleAuthorizer)? = nil, replies: any TaskReplySink,
                nested: NestedExecutions, clock: any RuntimeClock = SystemClock(), logger: Logger)
    {
        self.producer = producer
        self.planner = planner
        self.roles = roles.map { RoleAuthorization(authorizer: $0, region: planner.region, account: planner.account) }
        self.replies = replies
        self.nested = nested
        self.clock = clock
        self.logger = logger
    }

    public func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        let integration = plan(request, now: clock.now())
        let token = request.token
        let replies = self.replies
        switch integration {
        case .publish(let records, let result):
            try await publish(records)
            Task { await Self.answer { try await replies.taskSucceeded(token: token, output: result) } }
        case .publishAndWait(let records, let submitted):
            // The executor presubmits these (`presubmission(for:now:)`): only a row written
            // by a version before it comes here. TaskSubmitted is durable before the record
            // leaves, so a worker's reply can never come before it (AWS's order:
            // TaskSubmitted, then the callback); a task that has ended sends nothing.
            do {
                try await replies.taskSubmitted(token: token, output: submitted)
            } catch let e as ServiceError where !e.isServerError {
                return .sent
            }
            awaitsReply(token: token)
            try await publish(records)
        case .request(let record, let shape):
            pending.withLock { $0[token] = shape }
            try await publish([record])
        case .startExecution(let start):
            if try await nested.start(start, token: token) { return .queued }
        case .fail(let error, let cause):
            Task { await Self.answer { try await replies.taskFailed(token: token, error: error, cause: cause) } }
        }
        return .sent
    }

    /// A denied request is not presubmitted: `dispatch` fails it.
    public func presubmission(for request: TaskRequest, now: Int64) -> Presubmission? {
        guard case .publishAndWait(let records, let submitted) = plan(request, now: now) else { return nil }
        return Presubmission(records: records, output: submitted)
    }

    /// The integration's plan, or its failure when the task's role does not allow the call.
    /// A request the service's SDK would refuse before sending it (a missing parameter) fails
    /// with that error, as on AWS, where no call is authorized then.
    func plan(_ request: TaskRequest, now: Int64) -> IntegrationPlan {
        let random = self.random
        let plan = planner.plan(request, newID: { random.uuidString() }, now: now)
        if case .fail = plan { return plan }
        if let roles, let denial = roles.denial(for: request, requestID: random.uuidString(), now: now) {
            return .fail(error: denial.error, cause: denial.cause)
        }
        return plan
    }

    /// The callback is applied as sent (`.raw`); remembering it spares the reply consumer a
    /// store read to learn that.
    public func awaitsReply(token: TaskToken) {
        pending.withLock { $0[token] = .raw }
    }

    public func cancel(token: TaskToken) async {
        _ = pending.withLock { $0.removeValue(forKey: token) }
        await nested.cancel(token: token)
    }

    /// How a reply to `token` becomes the task's result, if this dispatcher sent it.
    /// A final reply (`settles`) forgets the task; a heartbeat keeps it.
    func replyShape(for token: TaskToken, settles: Bool) -> ReplyShape? {
        pending.withLock { settles ? $0.removeValue(forKey: token) : $0[token] }
    }

    public func publish(_ record: OutboundRecord) async throws {
        try await publish([record])
    }

    public func publish(_ records: [OutboundRecord]) async throws {
        guard !records.isEmpty else { return }
        let batch = records.map { r in
            KafkaProducerRecord(topic: r.topic, key: r.key, value: r.value, headers: r.headers.map { KafkaHeader(key: $0.0, value: $0.1) })
        }
        _ = try await producer.send(batch)
    }

    /// An answer for a task that may have ended meanwhile (a duplicate after a crash).
    static func answer(_ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            // TaskDoesNotExist/TaskTimedOut for an ended task: nothing to do.
        }
    }
}

