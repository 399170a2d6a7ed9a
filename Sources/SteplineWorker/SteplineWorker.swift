import KafkaClient
import StatesLanguage

/// A task worker for Stepline's Kafka integrations: it consumes a task topic
/// (`stepline.lambda.<function>`, `stepline.activity.<name>`, a queue's topic), runs a
/// handler for each task, and answers on the reply topic with the output or the error,
/// sending heartbeats while the handler runs.
///
/// ```swift
/// let worker = try SteplineWorker(bootstrapServers: "127.0.0.1:9092", topic: "stepline.lambda.greet")
/// try await worker.run { task in
///     ["greeting": .string("Hello, \(task.input["name"]?.stringValue ?? "you")")]
/// }
/// ```
///
/// - Important: Delivery is at least once: a crash before a task's offset is committed
///   hands the task over again. Answers are idempotent on Stepline's side (a second answer
///   for the same token changes nothing), so handlers only need to tolerate running twice.
public final class SteplineWorker: Sendable {
    /// One task handed to the handler.
    public struct TaskContext: Sendable {
        /// The task token (the `stepline-task-token` header).
        public var token: String
        /// The task's input: the record value as JSON (a string when it is not JSON).
        public var input: JSON
        public var executionArn: String?
        public var stateName: String?
        /// The record the task came in.
        public var record: KafkaRecord
        let worker: SteplineWorker

        /// Tells Stepline the task is alive (for states with `HeartbeatSeconds`).
        public func heartbeat() async throws {
            try await worker.reply(["taskToken": .string(token), "heartbeat": true])
        }
    }

    /// A failure to report as the task's error (`Error` and `Cause` in the state machine).
    public struct TaskFailure: Error, Sendable {
        public var error: String
        public var cause: String
        public init(error: String, cause: String) {
            self.error = error
            self.cause = cause
        }
    }

    public let topic: String
    public let replyTopic: String
    /// Heartbeats are sent this often while a handler runs (nil: none).
    public let heartbeatInterval: Duration?
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer

    /// - Parameters:
    ///   - bootstrapServers: the Kafka bootstrap servers (the embedded broker's address is in
    ///     `<data dir>/bootstrap.servers`).
    ///   - topic: the task topic to consume.
    ///   - groupID: the consumer group (workers of one group share the tasks).
    ///   - replyTopic: where answers go (`stepline.task-replies`).
    ///   - heartbeatInterval: how often to heartbeat while a handler runs.
    ///   - properties: raw librdkafka properties (security settings, ...).
    public init(bootstrapServers: String, topic: String, groupID: String? = nil, replyTopic: String = "stepline.task-replies",
                heartbeatInterval: Duration? = .seconds(10), properties: [String: String] = [:], lowLatency: Bool = true) throws
    {
        self.topic = topic
        self.replyTopic = replyTopic
        self.heartbeatInterval = heartbeatInterval
        var consumerConfiguration = lowLatency
            ? KafkaConsumerConfiguration.lowLatency(bootstrapServers: bootstrapServers, groupID: groupID ?? "worker-\(topic)",
                                                    isMockCluster: true)
            : KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: groupID ?? "worker-\(topic)")
        consumerConfiguration.properties = properties
        consumer = try KafkaConsumer(configuration: consumerConfiguration, topics: [topic])
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        producerConfiguration.linger = .milliseconds(0)
        producerConfiguration.properties = properties
        producer = try KafkaProducer(configuration: producerConfiguration)
    }

    /// Runs tasks until `stop()`: each through `handler`, answered with its output, or with
    /// its error (`TaskFailure`, or the error's type and description).
    public func run(concurrency: Int = 16, _ handler: @escaping @Sendable (TaskContext) async throws -> JSON) async throws {
        for try await batch in consumer.batches(maxRecords: concurrency) {
            await withTaskGroup(of: Void.self) { group in
                for record in batch {
                    group.addTask { await self.handle(record, handler) }
                }
            }
            try consumer.storeOffsets(for: batch)
        }
        await consumer.close()
        await producer.close()
    }

    /// Stops `run` after the tasks in hand are answered.
    public func stop() { consumer.triggerGracefulShutdown() }

    private func handle(_ record: KafkaRecord, _ handler: @escaping @Sendable (TaskContext) async throws -> JSON) async {
        guard let tokenBytes = record.header("stepline-task-token")?.value else { return }
        let token = String(decoding: tokenBytes, as: UTF8.self)
        let value = record.value ?? []
        let input = (try? JSON.parse(bytes: value)) ?? .string(String(decoding: value, as: UTF8.self))
        let context = TaskContext(
            token: token, input: input,
            executionArn: record.header("stepline-execution-arn")?.value.map { String(decoding: $0, as: UTF8.self) },
            stateName: record.header("stepline-state-name")?.value.map { String(decoding: $0, as: UTF8.self) }, record: record,
            worker: self)
        let beats: Task<Void, Never>? = heartbeatInterval.map { interval in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    if Task.isCancelled { break }
                    try? await context.heartbeat()
                }
            }
        }
        let answer: JSON
        do {
            let output = try await handler(context)
            answer = ["taskToken": .string(token), "output": output]
        } catch let f as TaskFailure {
            answer = ["taskToken": .string(token), "error": .string(f.error), "cause": .string(f.cause)]
        } catch {
            answer = ["taskToken": .string(token), "error": .string(String(describing: type(of: error))), "cause": .string("\(error)")]
        }
        beats?.cancel()
        // An answer that cannot be sent is retried: the offset is stored only after it is.
        while true {
            do {
                try await reply(answer)
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func reply(_ body: JSON) async throws {
        var bytes: [UInt8] = []
        body.write(to: &bytes)
        _ = try await producer.send(KafkaProducerRecord(topic: replyTopic, key: nil, value: bytes))
    }
}
