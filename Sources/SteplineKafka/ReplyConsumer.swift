import KafkaClient
import Logging
import ServiceLifecycle
import StatesEngine
import StatesLanguage
import Synchronization
import ControlPlane

/// Applies task replies from the reply topic: `{"taskToken", "output"}`,
/// `{"taskToken", "error", "cause"}` or `{"taskToken", "heartbeat": true}` — the same as
/// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
///
/// A batch's offsets are stored only after every reply in it was applied durably (or
/// dead-lettered), so a crash replays the batch, and replaying is harmless: a second reply
/// for a task that ended is not applied (it goes to the dead-letter topic, as any reply for
/// an unknown, finished or malformed token does).
public final class ReplyConsumer: Service, Sendable {
    /// Makes the consumer; `startAtBeginning` after the cluster was replaced.
    public typealias ConsumerFactory = @Sendable (_ startAtBeginning: Bool) throws -> KafkaConsumer

    private let makeConsumer: ConsumerFactory
    private let control: any StepFunctionsControl
    private let dispatcher: KafkaTaskDispatcher
    private let deadLetters: DeadLetters
    private let monitor: KafkaMonitor?
    private let logger: Logger
    private let current = Mutex<KafkaConsumer?>(nil)
    private let flags = Mutex<(stopping: Bool, restartFromBeginning: Bool)>((false, false))

    public init(makeConsumer: @escaping ConsumerFactory, control: any StepFunctionsControl, dispatcher: KafkaTaskDispatcher,
                deadLetters: DeadLetters, monitor: KafkaMonitor? = nil, logger: Logger)
    {
        self.makeConsumer = makeConsumer
        self.monitor = monitor
        self.control = control
        self.dispatcher = dispatcher
        self.deadLetters = deadLetters
        self.logger = logger
    }

    public func run() async throws {
        // Graceful shutdown finishes the batch in hand; cancellation (another service
        // failed) stops as soon as the poll returns. Either way the consumer closes.
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                var fromBeginning = false
                while !flags.withLock({ $0.stopping }) {
                    let consumer = try makeConsumer(fromBeginning)
                    current.withLock { $0 = consumer }
                    // A stop between the loop's check and the line above found no consumer.
                    if flags.withLock({ $0.stopping }) { consumer.triggerGracefulShutdown() }
                    try await ConsumerLoop(name: "replies", monitor: monitor, logger: logger).run(consumer, maxRecords: 1000) { batch in
                        try await process(batch, consumer: consumer)
                    }
                    current.withLock { $0 = nil }
                    fromBeginning = flags.withLock { f in defer { f.restartFromBeginning = false }; return f.restartFromBeginning }
                }
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    private func stop() {
        flags.withLock { $0.stopping = true }
        current.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// Replaces the consumer by one that reads the reply topic from its first record: the
    /// cluster was replaced, and the group's offsets there may be the old cluster's.
    public func restartFromBeginning() {
        flags.withLock { $0.restartFromBeginning = true }
        current.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// What one reply asks for.
    enum Reply: Sendable {
        case success(token: TaskToken, output: JSON)
        case failure(token: TaskToken, error: String?, cause: String?)
        case heartbeat(token: TaskToken)

        var token: TaskToken {
            switch self {
            case .success(let t, _), .failure(let t, _, _), .heartbeat(let t): t
            }
        }
    }

    /// Parses a reply record; the error says why it is not one.
    static func parse(_ value: [UInt8]?) -> Result<Reply, ReplyError> {
        let json: JSON
        do { json = try JSON.parse(bytes: value ?? []) } catch {
            return .failure(ReplyError("Stepline.MalformedReply", "the reply is not JSON: \(error)"))
        }
        guard case .object(let o) = json else { return .failure(ReplyError("Stepline.MalformedReply", "the reply is not a JSON object")) }
        guard let text = o["taskToken"]?.stringValue, !text.isEmpty, text.utf8.count <= 1024 else {
            return .failure(ReplyError("Stepline.MalformedReply", "the reply has no taskToken string (1 to 1024 characters)"))
        }
        let token = TaskToken(text)
        if o["heartbeat"]?.boolValue == true { return .success(.heartbeat(token: token)) }
        if o.contains("error") || o.contains("cause") {
            let error = o["error"].flatMap { $0.stringValue ?? ($0.isNull ? nil : $0.serialized()) }
            let cause = o["cause"].flatMap { $0.stringValue ?? ($0.isNull ? nil : $0.serialized()) }
            if let error, error.utf8.count > 256 {
                return .failure(ReplyError("Stepline.MalformedReply", "error is longer than 256 characters"))
            }
            return .success(.failure(token: token, error: error, cause: cause.map { String($0.prefix(32_768)) }))
        }
        guard let output = o["output"] else {
            return .failure(ReplyError("Stepline.MalformedReply", "the reply has none of output, error/cause or heartbeat"))
        }
        return .success(.success(token: token, output: output))
    }

    struct ReplyError: Error {
        var name: String
        var message: String
        init(_ name: String, _ message: String) {
            self.name = name
            self.message = message
        }
    }

    func process(_ batch: [KafkaRecord], consumer: KafkaConsumer) async throws {
        // Replies to different tasks apply in parallel (their commits group); replies to the
        // same task apply in record order.
        var byToken: [TaskToken: [(Int, Reply)]] = [:]
        var letters: [DeadLetters.Letter] = []
        for (i, record) in batch.enumerated() {
            switch Self.parse(record.value) {
            case .success(let reply): byToken[reply.token, default: []].append((i, reply))
            case .failure(let e): letters.append(.init(record: record, error: e.name, cause: e.message))
            }
        }
        let failed: [(Int, String, String)] = try await withThrowingTaskGroup(of: [(Int, String, String)].self) { group in
            for (_, replies) in byToken {
                group.addTask {
                    var out: [(Int, String, String)] = []
                    for (i, reply) in replies {
                        if let (name, message) = try await self.apply(reply, consumer: consumer) { out.append((i, name, message)) }
                    }
                    return out
                }
            }
            var all: [(Int, String, String)] = []
            for try await part in group { all += part }
            return all
        }
        for (i, name, message) in failed.sorted(by: { $0.0 < $1.0 }) {
            letters.append(.init(record: batch[i], error: name, cause: message))
        }
        try await deadLetters.send(letters, stopping: { consumer.isShutdownTriggered })
        try consumer.storeOffsets(for: batch)
        KafkaMetrics.kafkaRecords("replies", "applied", batch.count - letters.count)
        KafkaMetrics.kafkaRecords("replies", "dead_letter", letters.count)
    }

    /// Applies one reply; returns the error and message when it could not be applied.
    /// Failures of the service itself (storage) are retried, not dead-lettered; at shutdown
    /// it throws `CancellationError`, and the batch is left to be read again.
    func apply(_ reply: Reply, consumer: KafkaConsumer) async throws -> (String, String)? {
        var delay: UInt64 = 50_000_000
        while true {
            do {
                try await deliver(reply)
                return nil
            } catch let e as ServiceError where !e.isServerError {
                return (e.type, e.message)
            } catch {
                if consumer.isShutdownTriggered { throw CancellationError() }
                logger.warning("reply not applied yet, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(nanoseconds: delay)
                delay = min(delay * 2, 2_000_000_000)
            }
        }
    }

    private func deliver(_ reply: Reply) async throws {
        let token = reply.token
        if case .success(_, let output) = reply, output.serializedSizeExceeds(payloadSizeLimit),
            try await playsLambda(token) == false
        {
            // AWS behaviour: SendTaskSuccess refuses an output over 256 KiB and the task keeps
            // waiting; a reply is the same answer over Kafka, so it is refused the same way
            // (and dead-lettered with that reason).
            throw ServiceError.taskOutputTooLarge
        }
        let settles: Bool
        if case .heartbeat = reply { settles = false } else { settles = true }
        let shape = try await replyShape(token, settles: settles)
        if shape == .activity {
            // A Kafka worker took the activity task (an HTTP worker may not get it now).
            _ = try await control.activityStarted(token, workerName: "kafka")
        }
        switch reply {
        case .success(_, let output):
            var result = output
            if shape == .lambdaInvoke {
                result = SDKResults.lambdaInvoke(payload: output, statusCode: 200, requestID: RandomSource().uuidString(),
                                                 date: SDKResults.httpDate(milliseconds: SystemClock().now()))
            }
            try await control.answerTask(.success(token, output: result))
        case .failure(_, let error, let cause):
            try await control.answerTask(.failure(token, error: error, cause: cause))
        case .heartbeat:
            try await control.answerTask(.heartbeat(token))
        }
    }

    /// Whether the worker answering `token` plays a Lambda function (`lambda:invoke` or a
    /// function ARN, without `.waitForTaskToken`). AWS behaviour: a function's result over
    /// 256 KiB fails the task with `States.DataLimitExceeded` (the engine does that), whereas
    /// a callback's or an activity's output comes through SendTaskSuccess, which refuses it.
    private func playsLambda(_ token: TaskToken) async throws -> Bool {
        guard let resource = await control.taskResource(token), resource.pattern != .waitForTaskToken else { return false }
        switch resource.kind {
        case .lambdaFunction, .service("lambda", "invoke"): return true
        default: return false
        }
    }

    /// How the reply to `token` is applied: the dispatcher remembers the tasks it sent;
    /// after a restart the stored task says.
    private func replyShape(_ token: TaskToken, settles: Bool) async throws -> ReplyShape {
        if let shape = dispatcher.replyShape(for: token, settles: settles) { return shape }
        guard let resource = await control.taskResource(token) else {
            return .raw
        }
        switch resource.kind {
        case .activity: return .activity
        case .service("lambda", "invoke") where resource.pattern == .requestResponse: return .lambdaInvoke
        default: return .raw
        }
    }
}
