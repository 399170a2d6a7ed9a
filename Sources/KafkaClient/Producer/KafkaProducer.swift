import Synchronization

/// Sends records to Kafka: idempotent, `acks=all` by default, batched by librdkafka.
///
/// Two ways to send: `send(_:)` awaits the record's delivery report; `enqueue(_:onDelivery:)`
/// returns at once and reports later, for high throughput. Delivery reports are served on
/// a dedicated thread, never on Swift's cooperative pool.
///
/// - Important: call `close()` (or `run()` + `triggerGracefulShutdown()`) before dropping
///   the producer: it flushes outstanding records. Records still outstanding after
///   `shutdownFlushTimeout` fail with `.shutDown`.
public final class KafkaProducer: Sendable {
    private let core: RDKafkaProducer
    private let configuration: KafkaProducerConfiguration
    private let shutdown = ShutdownSignal()
    private let closed = Mutex(false)

    /// Creates the producer. Connecting happens in the background.
    ///
    /// - Throws: `.configuration` naming an unknown key or a bad value;
    ///   `.unsupportedLibrary` if the linked librdkafka is not 2.x.
    public init(configuration: KafkaProducerConfiguration) throws(KafkaError) {
        self.configuration = configuration
        core = try RDKafkaProducer(configuration: configuration)
    }

    /// Sends one record and waits for its delivery report.
    ///
    /// A full local queue makes this wait (polling every millisecond) rather than fail,
    /// up to `deliveryTimeout`.
    ///
    /// - Returns: where the record was written.
    /// - Throws: `.unknownTopic` naming a missing topic, `.delivery` (with the last broker
    ///   error) when it could not be delivered within `deliveryTimeout`, `.shutDown`.
    @discardableResult
    public func send(_ record: KafkaProducerRecord) async throws(KafkaError) -> KafkaDeliveryReport {
        let deadline = ContinuousClock.now + configuration.deliveryTimeout
        while true {
            let result: Result<KafkaDeliveryReport, KafkaError> = await withCheckedContinuation { continuation in
                do throws(KafkaError) {
                    try core.produce(record, handler: RDKafkaDeliveryHandler(topic: record.topic) { continuation.resume(returning: $0) })
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if case .failure(let error) = result, error.code == .queueFull, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
                continue
            }
            return try result.get()
        }
    }

    /// Sends records and waits for all their delivery reports; they are batched together.
    ///
    /// - Returns: one report per record, in order.
    /// - Throws: the first record's error, after every record has been reported.
    public func send(_ records: [KafkaProducerRecord]) async throws(KafkaError) -> [KafkaDeliveryReport] {
        switch records.count {
        case 0: return []
        case 1: return [try await send(records[0])]
        default: break
        }
        // Every record is handed over at once and one continuation waits for the last report,
        // which is what a batch needs (no task per record). Not a task group whose children
        // `return (i, .success(try await send(record)))` inside a do/catch: Swift 6.3.1 at -O
        // loses the captured index held across that `await` (every child returned 0), which
        // left results nil and trapped release builds.
        let join = DeliveryJoin(count: records.count)
        var results: [Result<KafkaDeliveryReport, KafkaError>] = await withCheckedContinuation { continuation in
            join.start(continuation)
            for (i, record) in records.enumerated() {
                do throws(KafkaError) {
                    try core.produce(record, handler: RDKafkaDeliveryHandler(topic: record.topic) { join.complete(i, $0) })
                } catch {
                    join.complete(i, .failure(error))
                }
            }
        }
        // A record the full local queue refused is sent again on its own: `send` waits for room.
        for i in results.indices {
            guard case .failure(let error) = results[i], error.code == .queueFull else { continue }
            do throws(KafkaError) {
                results[i] = .success(try await send(records[i]))
            } catch {
                results[i] = .failure(error)
            }
        }
        return try results.map { r throws(KafkaError) in try r.get() }
    }

    /// Hands a record to librdkafka and returns at once; `onDelivery` gets the delivery
    /// report later, on the producer's poll thread (keep it short).
    ///
    /// A record sent without `onDelivery` that fails is reported to `diagnostics`.
    ///
    /// - Throws: `.queueFull` when the local queue is full (retry after some deliveries).
    public func enqueue(
        _ record: KafkaProducerRecord,
        onDelivery: (@Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void)? = nil
    ) throws(KafkaError) {
        try core.produce(record, handler: onDelivery.map { RDKafkaDeliveryHandler(topic: record.topic, complete: $0) })
    }

    /// `enqueue` from raw buffers, which librdkafka copies before this returns: for callers
    /// that hold payloads in their own memory (database rows, a reused buffer); nothing is
    /// allocated on the Swift side when `onDelivery` and `headers` are absent.
    ///
    /// - Throws: `.queueFull` when the local queue is full.
    public func enqueue(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
        headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil,
        onDelivery: (@Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void)? = nil
    ) throws(KafkaError) {
        try core.produce(
            topic: topic, partition: partition, key: key, value: value, headers: headers,
            timestampMilliseconds: timestampMilliseconds,
            handler: onDelivery.map { RDKafkaDeliveryHandler(topic: topic, complete: $0) })
    }

    /// Records handed over whose delivery report has not been served yet.
    public var outstandingCount: Int { core.outstandingCount }

    /// Waits until every record handed over so far has its delivery report.
    ///
    /// - Throws: `.timedOut` naming how many are still outstanding.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let core = self.core
        let flushed = try await runBlocking(name: "kafka-flush") { () throws(KafkaError) -> Bool in try core.flush(timeout: timeout) }
        if !flushed {
            throw KafkaError(.timedOut, "\(core.outstandingCount) records were not delivered within \(timeout)\(core.handle.callbacks.brokerErrorSuffix)")
        }
    }

    /// Flushes (up to `shutdownFlushTimeout`), then releases librdkafka. Idempotent.
    public func close() async {
        await close(flushTimeout: configuration.shutdownFlushTimeout)
    }

    /// Flushes for at most `flushTimeout`, then purges what is left (its sends fail with
    /// `.shutDown`) and releases librdkafka. Idempotent: a second call returns at once.
    public func close(flushTimeout: Duration) async {
        guard closed.withLock({ c in defer { c = true }; return !c }) else { return }
        let core = self.core
        _ = try? await runBlocking(name: "kafka-close") { () throws(KafkaError) in core.close(flushTimeout: flushTimeout) }
    }

    /// Since when every broker connection of this producer has been down (librdkafka's
    /// "all brokers down"), if they are; cleared by the next delivery.
    public var allBrokersDownSince: ContinuousClock.Instant? {
        core.handle.callbacks.brokers.withLock { $0.allDownSince }
    }

    /// The fatal error librdkafka raised on this producer, if any: no record can be sent
    /// any more (an idempotent producer whose sequence broke, say). Nil once closed.
    public var fatalError: KafkaError? {
        let handle = core.handle
        return try? handle.use("checking for a fatal error") { () throws(KafkaError) -> KafkaError? in
            do throws(KafkaError) {
                try handle.checkFatal()
                return nil
            } catch {
                return error
            }
        } ?? nil
    }

    /// Runs until `triggerGracefulShutdown()`, then closes (service lifecycle shape).
    public func run() async {
        await shutdown.wait()
        await close()
    }

    public func triggerGracefulShutdown() { shutdown.trigger() }

    deinit {
        if !closed.withLock({ $0 }) {
            let core = self.core, timeout = configuration.shutdownFlushTimeout
            startThread(name: "kafka-close") { core.close(flushTimeout: timeout) }
        }
    }

    // MARK: Transactions

    /// Registers the `transactionalID` with the cluster, fencing older producers with it.
    /// Call once before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let core = self.core
        try await runBlocking { () throws(KafkaError) in try core.initTransactions(timeout: timeout) }
    }

    public func beginTransaction() throws(KafkaError) { try core.beginTransaction() }

    /// Flushes and commits the current transaction: its records become visible to
    /// `read_committed` consumers together.
    ///
    /// - Throws: `.transaction`; when `requiresAbort`, call `abortTransaction()`.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let core = self.core
        try await runBlocking { () throws(KafkaError) in try core.commitTransaction(timeout: timeout) }
    }

    /// Aborts the current transaction: its records are never seen by `read_committed`
    /// consumers.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let core = self.core
        try await runBlocking { () throws(KafkaError) in try core.abortTransaction(timeout: timeout) }
    }
}

/// Collects the delivery reports of one batch, by index; the last one resumes the waiter.
private final class DeliveryJoin: Sendable {
    private struct State {
        var remaining: Int
        var results: [Result<KafkaDeliveryReport, KafkaError>?]
        var continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count, results: Array(repeating: nil, count: count)))
    }

    /// MUST be called before the first `complete`.
    func start(_ continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Called exactly once per index, on any thread.
    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let done: (CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>, [Result<KafkaDeliveryReport, KafkaError>])? =
            state.withLock { s in
                guard s.results[index] == nil else { preconditionFailure("delivery report \(index) of \(s.results.count) reported twice") }
                s.results[index] = result
                s.remaining -= 1
                guard s.remaining == 0, let c = s.continuation else { return nil }
                s.continuation = nil
                return (c, s.results.map { $0! })
            }
        if let (c, results) = done { c.resume(returning: results) }
    }
}
