import Synchronization

/// A consumer-group member that hands records over in batches, when asked (pull).
///
/// Usage, the at-least-once-into-exactly-once pattern:
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: config, topics: ["orders"])
/// for try await batch in consumer.batches(maxRecords: 500) {
///     try await store.commitStarts(for: batch)     // the effect, durable
///     try consumer.storeOffsets(for: batch)        // only then
/// }
/// ```
///
/// Offsets are committed only once stored: in the background every `autoCommitInterval`,
/// on `commit()`, when partitions are revoked, and on close.
///
/// - Important: records are prefetched by librdkafka only up to `prefetchMaxKilobytes`
///   per partition; nothing more is read until the caller asks (back-pressure).
/// - Important: on a rebalance, the revoke waits (up to `rebalanceDrainTimeout`) for the
///   offsets of records already handed out from the revoked partitions to be stored,
///   commits them, and only then releases the partitions. Store offsets from a task that
///   does not wait for the next batch, or the revoke waits for its timeout.
public final class KafkaConsumer: Sendable {
    private let core: RDKafkaConsumer
    private let shutdown = ShutdownSignal()
    private let closed = Mutex(false)
    /// The group this consumer belongs to.
    public let groupID: String

    /// Creates the consumer and subscribes to `topics`; the group join happens during the
    /// first polls (about 3 s on the mock cluster).
    ///
    /// - Throws: `.configuration` naming an unknown key, a bad value or a reserved key.
    public init(configuration: KafkaConsumerConfiguration, topics: [String]) throws(KafkaError) {
        core = try RDKafkaConsumer(configuration: configuration, topics: topics)
        groupID = configuration.groupID
    }

    /// Polls once: waits up to `timeout` for a first record, then takes those already
    /// there, up to `maxRecords`. Returns an empty batch on timeout.
    ///
    /// - Throws: `.unknownTopic` naming a subscribed topic that does not exist;
    ///   `.brokersUnreachable` when no broker could be reached for
    ///   `brokersUnreachableTimeout`; `.fatal`; `.shutDown` once closed.
    public func poll(maxRecords: Int = 500, timeout: Duration = .milliseconds(100)) async throws(KafkaError) -> [KafkaRecord] {
        let core = self.core
        let fetched = try await core.thread.run { () throws(KafkaError) -> RDKafkaConsumer.FetchedBatch in
            try core.collectForHandOff(maxRecords: maxRecords, timeout: timeout)
        }
        // Copied here, on the caller's thread, where the records will be freed.
        return core.records(from: fetched)
    }

    /// Polls once like `poll(maxRecords:timeout:)`, but hands the batch to `body` as views
    /// into librdkafka's buffers instead of copies: for parsing records in place.
    ///
    /// `body` runs on the consumer's own thread, while no other poll can run: keep it
    /// short (parse, collect what you need) and do not block in it. The views MUST NOT
    /// escape `body`. Offsets are stored as usual, after the effect is durable, with
    /// `storeOffsets(_:)` and the offsets `body` returned.
    ///
    /// - Returns: what `body` returns (also when the batch is empty).
    public func poll<R: Sendable>(
        maxRecords: Int = 500, timeout: Duration = .milliseconds(100),
        borrowing body: @escaping @Sendable ([KafkaRecordView]) throws(KafkaError) -> R
    ) async throws(KafkaError) -> R {
        let core = self.core
        return try await core.thread.run { () throws(KafkaError) -> R in
            try core.pollBorrowing(maxRecords: maxRecords, timeout: timeout, body)
        }
    }

    /// Batches of records until `triggerGracefulShutdown()`; never yields an empty batch.
    ///
    /// - Parameters:
    ///   - maxRecords: records per batch at most.
    ///   - pollTimeout: how long one poll waits before checking for shutdown.
    public func batches(maxRecords: Int = 500, pollTimeout: Duration = .milliseconds(100)) -> KafkaRecordBatches {
        KafkaRecordBatches(consumer: self, maxRecords: maxRecords, pollTimeout: pollTimeout)
    }

    /// Stores the offsets after these records (the highest per partition), to be committed.
    /// Call only once the records' effects are durable.
    ///
    /// - Throws: `.partitionsRevoked` naming partitions that a rebalance took away (the
    ///   others are stored); their records will be redelivered to the new owner.
    public func storeOffsets<C: Collection<KafkaRecord>>(for records: C) throws(KafkaError) {
        let next = Self.nextOffsets(after: records)
        guard !next.isEmpty else { return }
        try core.storeOffsets(next)
    }

    /// The "next offset to read" per partition after these records (their highest offset
    /// + 1), for `storeOffsets(_:)`.
    public static func nextOffsets<C: Collection<KafkaRecord>>(after records: C) -> [KafkaTopicPartition: Int64] {
        highestOffsets(records.lazy.map { ($0.topic, $0.partition, $0.offset) }).mapValues { $0 + 1 }
    }

    /// The same for borrowed views; call it inside the borrowing closure.
    public static func nextOffsets(after views: [KafkaRecordView]) -> [KafkaTopicPartition: Int64] {
        highestOffsets(views.lazy.map { ($0.topic, $0.partition, $0.offset) }).mapValues { $0 + 1 }
    }

    /// Stores explicit "next offset to read" values per partition.
    public func storeOffsets(_ nextOffsets: [KafkaTopicPartition: Int64]) throws(KafkaError) {
        try core.storeOffsets(nextOffsets)
    }

    /// Commits the stored offsets now and waits for the coordinator's answer.
    public func commit() async throws(KafkaError) {
        let core = self.core
        try await runBlocking(name: "kafka-commit") { () throws(KafkaError) in try core.commit() }
    }

    /// The group's committed offsets for these partitions (next offset to read; a negative
    /// value when none is committed).
    public func committedOffsets(
        for partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let core = self.core
        return try await runBlocking { () throws(KafkaError) in try core.committed(partitions, timeout: timeout) }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws(KafkaError) -> [KafkaTopicPartition] { try core.assignment() }

    /// Stops fetching these (assigned) partitions until `resume(_:)`; the group membership
    /// stays. Records already handed out are unaffected.
    public func pause(_ partitions: [KafkaTopicPartition]) throws(KafkaError) { try core.setPaused(partitions, paused: true) }

    public func resume(_ partitions: [KafkaTopicPartition]) throws(KafkaError) { try core.setPaused(partitions, paused: false) }

    /// Leaves the group: revokes (committing stored offsets), then releases librdkafka.
    /// Idempotent. Waits for a poll in progress to end.
    public func close() async {
        guard closed.withLock({ c in defer { c = true }; return !c }) else { return }
        shutdown.trigger()
        let core = self.core
        _ = try? await core.thread.run { () throws(KafkaError) in core.close() }
    }

    /// `close()`, waiting for it at most `timeout`: with the brokers down, leaving the group
    /// can block for much longer. Offsets stored but not committed by then are committed by
    /// nobody: their records are delivered again, which the caller's deduplication absorbs.
    ///
    /// - Returns: true when the consumer closed within `timeout`.
    @discardableResult
    public func close(timeout: Duration) async -> Bool {
        await waitAtMost(timeout) { await self.close() }
    }

    /// Runs until `triggerGracefulShutdown()`, then closes (service lifecycle shape).
    public func run() async {
        await shutdown.wait()
        await close()
    }

    /// Ends `batches` after the poll in progress; `run()` then closes the consumer.
    public func triggerGracefulShutdown() { shutdown.trigger() }

    public var isShutdownTriggered: Bool { shutdown.isTriggered }

    deinit {
        if !closed.withLock({ $0 }) {
            let core = self.core
            core.thread.submit { core.close() }
        }
    }
}

/// Batches from a `KafkaConsumer` until its graceful shutdown; see `KafkaConsumer.batches`.
public struct KafkaRecordBatches: AsyncSequence, Sendable {
    public typealias Element = [KafkaRecord]
    public typealias Failure = KafkaError

    let consumer: KafkaConsumer
    let maxRecords: Int
    let pollTimeout: Duration

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        let maxRecords: Int
        let pollTimeout: Duration

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(KafkaError) -> [KafkaRecord]? {
            while !consumer.isShutdownTriggered {
                let batch: [KafkaRecord]
                do {
                    batch = try await consumer.poll(maxRecords: maxRecords, timeout: pollTimeout)
                } catch where error.code == .shutDown {
                    return nil
                }
                // A batch polled while shutdown was triggered is still handed out: its
                // records count as delivered and the caller stores their offsets.
                if !batch.isEmpty { return batch }
            }
            return nil
        }

        public mutating func next() async throws(KafkaError) -> [KafkaRecord]? {
            try await next(isolation: nil)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: consumer, maxRecords: maxRecords, pollTimeout: pollTimeout)
    }
}

/// The highest offset per partition among (topic, partition, offset) triples. Records come
/// in runs of one partition, so this hashes once per run, not once per record.
func highestOffsets<S: Sequence<(String, Int32, Int64)>>(_ records: S) -> [KafkaTopicPartition: Int64] {
    var highest: [KafkaTopicPartition: Int64] = [:]
    var run: (topic: String, partition: Int32, offset: Int64)? = nil
    func close(_ run: (topic: String, partition: Int32, offset: Int64)) {
        let tp = KafkaTopicPartition(topic: run.topic, partition: run.partition)
        highest[tp] = max(highest[tp] ?? -1, run.offset)
    }
    for (topic, partition, offset) in records {
        if let current = run, current.partition == partition, current.topic == topic {
            if offset > current.offset { run!.offset = offset }
        } else {
            if let current = run { close(current) }
            run = (topic, partition, offset)
        }
    }
    if let current = run { close(current) }
    return highest
}
