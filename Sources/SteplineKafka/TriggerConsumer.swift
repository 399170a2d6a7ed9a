import Foundation
import KafkaClient
import Logging
import ServiceLifecycle
import StatesEngine
import StatesLanguage
import Synchronization
import ControlPlane

/// Starts executions from Kafka records that match trigger rules.
///
/// Exactly once per record and rule: the execution's name derives from the rule and the
/// record's topic, partition and offset (or from the rule's `executionName` path), starts
/// are idempotent by name, and a batch's offsets are stored only after every start in it is
/// durable. A crash replays the batch; a replayed topic finds its executions already there.
public final class TriggerConsumer: Service, Sendable {
    /// Makes the consumer of `topics`; `startAtBeginning` after the cluster was replaced.
    public typealias ConsumerFactory = @Sendable (_ topics: [String], _ startAtBeginning: Bool) throws -> KafkaConsumer

    private let registry: TriggerRegistry
    private let control: any StepFunctionsControl & ExecutionLoad
    private let makeConsumer: ConsumerFactory
    private let deadLetters: DeadLetters
    private let monitor: KafkaMonitor?
    private let region: String
    private let account: String
    private let logger: Logger
    private let current = Mutex<KafkaConsumer?>(nil)
    private let stopping = Mutex(false)
    private let restartFromBeginningNext = Mutex(false)

    public init(registry: TriggerRegistry, control: any StepFunctionsControl & ExecutionLoad, makeConsumer: @escaping ConsumerFactory,
                deadLetters: DeadLetters, monitor: KafkaMonitor? = nil, region: String, account: String, logger: Logger)
    {
        self.monitor = monitor
        self.registry = registry
        self.control = control
        self.makeConsumer = makeConsumer
        self.deadLetters = deadLetters
        self.region = region
        self.account = account
        self.logger = logger
    }

    public func run() async throws {
        try await withTaskCancellationHandler {
            try await consume()
        } onCancel: {
            self.stop()
        }
    }

    /// Replaces the consumer by one that reads its topics from their first records: the
    /// cluster was replaced, and the group's offsets there may be the old cluster's. A record
    /// read twice starts nothing twice (the execution names are deterministic).
    public func restartFromBeginning() {
        restartFromBeginningNext.withLock { $0 = true }
        current.withLock { $0 }?.triggerGracefulShutdown()
    }

    private func stop() {
        self.stopping.withLock { $0 = true }
        self.current.withLock { $0 }?.triggerGracefulShutdown()
        self.registry.finish()
    }

    private func consume() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Resubscribe when the set of topics changes.
                group.addTask {
                    var topics = self.registry.snapshot.topics
                    for await snapshot in self.registry.updates where snapshot.topics != topics {
                        topics = snapshot.topics
                        self.current.withLock { $0 }?.triggerGracefulShutdown()
                    }
                }
                group.addTask {
                    while !self.stopping.withLock({ $0 }) {
                        let topics = self.registry.snapshot.topics
                        if topics.isEmpty {
                            try await Task.sleep(nanoseconds: 200_000_000)
                            continue
                        }
                        let consumer: KafkaConsumer
                        do {
                            let fromBeginning = self.restartFromBeginningNext.withLock { r in defer { r = false }; return r }
                            consumer = try self.makeConsumer(topics, fromBeginning)
                        } catch {
                            self.logger.critical("triggers: cannot create the consumer", metadata: ["error": "\(error)"])
                            throw error
                        }
                        self.current.withLock { $0 = consumer }
                        // A stop between the loop's check and the line above found no consumer.
                        if self.stopping.withLock({ $0 }) { consumer.triggerGracefulShutdown() }
                        self.logger.info("triggers: consuming", metadata: ["topics": "\(topics.joined(separator: ","))"])
                        try await ConsumerLoop(name: "triggers", monitor: self.monitor, logger: self.logger)
                            .run(consumer, maxRecords: 500) { batch in
                                try await self.admit(batch, consumer: consumer)
                            }
                        self.current.withLock { $0 = nil }
                    }
                    self.registry.finish()
                }
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// One start to make.
    struct Start: Sendable {
        var recordIndex: Int
        var rule: TriggerRule
        var request: StartExecutionInput
    }

    /// Processes a batch in parts that keep the running executions under
    /// `maxRunningExecutions`. While the daemon is full, the assigned partitions are paused
    /// and polled (a member that stops polling leaves its group), so the backlog waits in
    /// Kafka; records of partitions assigned meanwhile join the batch.
    func admit(_ batch: [KafkaRecord], consumer: KafkaConsumer) async throws {
        let limit = control.maxRunningExecutions
        guard limit > 0 else { return try await process(batch, consumer: consumer) }
        var records = batch
        var next = 0
        while next < records.count {
            var free = limit - control.runningExecutions
            if free <= 0 {
                records += try await waitForRoom(limit: limit, consumer: consumer)
                free = limit - control.runningExecutions
            }
            let part = Array(records[next..<min(records.count, next + max(1, free))])
            next += part.count
            try await process(part, consumer: consumer)
        }
    }

    /// Waits with the assigned partitions paused until a tenth of `limit` (at most 500)
    /// is free; returns what the polls meanwhile brought (partitions assigned since).
    private func waitForRoom(limit: Int, consumer: KafkaConsumer) async throws -> [KafkaRecord] {
        let enough = max(1, min(500, limit / 10))
        let paused = try consumer.assignment()
        try consumer.pause(paused)
        KafkaMetrics.triggersPaused()
        logger.info("triggers: paused, the running executions are at the limit", metadata: [
            "running": "\(control.runningExecutions)", "maxRunningExecutions": "\(limit)"])
        defer { try? consumer.resume(paused) }
        var polled: [KafkaRecord] = []
        while limit - control.runningExecutions < enough {
            if consumer.isShutdownTriggered { throw CancellationError() }
            do {
                polled += try await consumer.poll(maxRecords: 500, timeout: .milliseconds(20))
            } catch {
                if ConsumerLoop.isPermanent(error) || error.code == .shutDown { throw error }
                // An outage while paused: keep waiting (the poll keeps the membership).
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        logger.info("triggers: resumed", metadata: ["running": "\(control.runningExecutions)"])
        return polled
    }

    func process(_ batch: [KafkaRecord], consumer: KafkaConsumer) async throws {
        let snapshot = registry.snapshot
        var letters: [DeadLetters.Letter] = []
        var starts: [Start] = []
        for (i, record) in batch.enumerated() {
            let wantsLetters = snapshot.deadLetters(topic: record.topic)
            let value = record.value ?? []
            let event: FlattenedEvent
            do { event = try value.withUnsafeBufferPointer { try FlattenedEvent(utf8: $0) } } catch {
                if wantsLetters { letters.append(.init(record: record, error: "Stepline.NotJSON", cause: "the record value is not JSON: \(error)")) }
                continue
            }
            let rules = snapshot.rules(matching: event, topic: record.topic)
            if rules.isEmpty {
                if wantsLetters {
                    letters.append(.init(record: record, error: "Stepline.NoMatchingRule", cause: "no trigger rule of topic \(record.topic) matches the record"))
                }
                continue
            }
            let json: JSON
            do { json = try JSON.parse(bytes: value) } catch {
                if wantsLetters { letters.append(.init(record: record, error: "Stepline.NotJSON", cause: "the record value is not JSON: \(error)")) }
                continue
            }
            for rule in rules {
                switch Self.startRequest(rule, record: record, value: json, region: region, account: account) {
                case .success(let request): starts.append(Start(recordIndex: i, rule: rule, request: request))
                case .failure(let reason):
                    if rule.deadLetter { letters.append(.init(record: record, error: "Stepline.InvalidInput", cause: reason.message, rule: rule.name)) }
                    logger.warning("triggers: cannot build the start", metadata: ["rule": "\(rule.name)", "reason": "\(reason.message)"])
                }
            }
        }
        let failures = try await startAll(starts, consumer: consumer)
        for (start, error) in failures {
            if start.rule.deadLetter {
                letters.append(.init(record: batch[start.recordIndex], error: error.type, cause: error.message, rule: start.rule.name))
            } else {
                logger.warning("triggers: start failed", metadata: ["rule": "\(start.rule.name)", "error": "\(error)"])
            }
        }
        try await deadLetters.send(letters, stopping: { consumer.isShutdownTriggered })
        try consumer.storeOffsets(for: batch)
        KafkaMetrics.kafkaRecords("triggers", "started", starts.count - failures.count)
        KafkaMetrics.kafkaRecords("triggers", "dead_letter", letters.count)
    }

    public struct BuildError: Error, Sendable {
        public var message: String
    }

    /// The start a record asks for under `rule` (which matched it): the execution name and
    /// the input the rule's transformer makes.
    public static func startRequest(_ rule: TriggerRule, record: KafkaRecord, value: JSON, region: String, account: String)
        -> Result<StartExecutionInput, BuildError>
    {
        // A key or header that is not UTF-8 fails the start only when the rule reads it.
        func reads(_ field: String) -> Bool {
            rule.transformer?.readsRecordField(field) == true || rule.namePath?.readsRecordField(field) == true
        }
        var key: String?
        if let bytes = record.key {
            do { key = try String(strictlyDecodingUTF8: bytes) } catch {
                if reads("key") { return .failure(BuildError(message: "the record key is \(error), and the rule reads $$.key")) }
            }
        }
        var headers: [(name: String, value: String)] = []
        for h in record.headers {
            do { headers.append((h.key, try String(strictlyDecodingUTF8: h.value ?? []))) } catch {
                if reads("headers") { return .failure(BuildError(message: "the record header \(h.key) is \(error), and the rule reads $$.headers")) }
            }
        }
        let input = TransformInput(
            value: value, key: key, headers: headers, topic: record.topic,
            partition: record.partition, offset: record.offset, timestampMilliseconds: record.timestampMilliseconds,
            ruleName: rule.name, ruleARN: "arn:aws:events:\(region):\(account):rule/\(rule.name)")
        var executionInput = value
        if let t = rule.transformer {
            do {
                switch try t.apply(to: input) {
                case .json(let j): executionInput = j
                case .text(let s):
                    guard let j = try? JSON.parse(s) else {
                        return .failure(BuildError(message: "the input template does not produce JSON: \(s.prefix(200))"))
                    }
                    executionInput = j
                }
            } catch {
                return .failure(BuildError(message: "input: \(error.reason)"))
            }
        }
        var name = "\(rule.name)-\(record.topic)-\(record.partition)-\(record.offset)"
        if let namePath = rule.namePath {
            guard let out = try? namePath.apply(to: input) else { return .failure(BuildError(message: "executionName: no value")) }
            switch out {
            case .text(let s): name = s
            case .json(let j): name = j.stringValue ?? j.serialized()
            }
            if name.isEmpty || name == "null" { return .failure(BuildError(message: "executionName: the path \(rule.executionName ?? "") selects nothing")) }
        }
        let machine = rule.stateMachine.hasPrefix("arn:") ? rule.stateMachine : ARNs.stateMachine(region: region, account: account, name: rule.stateMachine)
        return .success(.init(stateMachineArn: StateMachineARN(machine), name: Self.executionName(name), input: executionInput.serialized()))
    }

    /// A valid execution name (1-80 characters, none of AWS's forbidden ones): forbidden
    /// characters become `_`; a longer name keeps its head and a hash of the whole.
    static func executionName(_ raw: String) -> String {
        let forbidden = Set(" \t\n\r?*<>{}[]\"#%\\^|~`$&,;:/".unicodeScalars)
        var s = String(String.UnicodeScalarView(raw.unicodeScalars.map { forbidden.contains($0) || $0.value < 0x20 ? "_" : $0 }))
        if s.count > 80 {
            let hash = Digest.hex(Digest.sha256(Array(raw.utf8))).prefix(16)
            s = String(s.prefix(63)) + "-" + hash
        }
        return s
    }

    /// Starts the batch's executions through the control plane's batch entry point (their
    /// commits group); returns the failures that are the request's fault. The starts that
    /// failed for the service's own reasons (storage) are tried again, alone, until they
    /// are durable or the consumer stops.
    func startAll(_ starts: [Start], consumer: KafkaConsumer) async throws -> [(Start, ServiceError)] {
        var pending = Array(starts.indices)
        var failures: [(Start, ServiceError)] = []
        var delay: Duration = .milliseconds(50)
        while !pending.isEmpty {
            let results = await control.startExecutions(pending.map { starts[$0].request })
            var again: [Int] = []
            var lastError: ServiceError?
            for (i, result) in zip(pending, results) {
                switch result {
                case .success: break
                // A replayed record (its execution is there already): nothing to do.
                case .failure(let e) where e.code == .executionAlreadyExists: break
                case .failure(let e) where !e.isServerError: failures.append((starts[i], e))
                case .failure(let e):
                    again.append(i)
                    lastError = e
                }
            }
            guard !again.isEmpty else { break }
            if consumer.isShutdownTriggered { throw CancellationError() }
            logger.warning("triggers: starts not durable yet, retrying", metadata: [
                "count": "\(again.count)", "error": "\(lastError.map { "\($0)" } ?? "")"])
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
            pending = again
        }
        return failures
    }
}

extension TriggerRegistry {
    /// Ends `updates` (shutdown).
    func finish() { changesFinish() }
}
