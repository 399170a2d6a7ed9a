import CRdKafka
import Synchronization

/// What to do when one record's delivery report arrives. Passed to librdkafka as the
/// record's opaque.
final class RDKafkaDeliveryHandler: Sendable {
    let topic: String
    let complete: @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void

    init(topic: String, complete: @escaping @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        self.topic = topic
        self.complete = complete
    }
}

/// The librdkafka producer: produce calls, the delivery-report poll thread, flush, purge,
/// transactions.
final class RDKafkaProducer: @unchecked Sendable {
    // @unchecked Sendable: the handle is thread-safe; mutable state is in Mutex/ConditionLock.
    let handle: RDKafkaHandle
    let bootstrap: String
    private let deliveryTimeout: Duration
    private let pollLock = ConditionLock()
    private var isPollStopped = false  // guarded by pollLock
    private var isPollLoopDone = false  // guarded by pollLock
    /// Topic handles by name, made on first use and destroyed in close(); the last one used
    /// is checked first (a producer usually sends runs to one topic).
    private let topics = Mutex<(last: (name: String, handle: TopicHandle)?, all: [String: TopicHandle])>((nil, [:]))

    /// An `rd_kafka_topic_t`. @unchecked Sendable: librdkafka's topic handles are
    /// refcounted and thread-safe; ours live until close().
    struct TopicHandle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    init(configuration: KafkaProducerConfiguration) throws(KafkaError) {
        let properties = configuration.librdkafkaProperties
        let callbacks = RDKafkaCallbacks(clientName: "producer \(configuration.clientID)", diagnostics: configuration.diagnostics)
        self.bootstrap = configuration.bootstrapServers
        self.deliveryTimeout = configuration.deliveryTimeout
        callbacks.deliveryTimeout = configuration.deliveryTimeout
        handle = try RDKafkaHandle(
            kind: .producer, properties: properties, rawKeys: configuration.properties.keys,
            reservedKeys: KafkaProducerConfiguration.reservedKeys, callbacks: callbacks)
        startThread(name: "kafka-producer") { [self] in pollLoop() }
    }

    /// The delivery-report callback (on the poll thread), once per record.
    static func deliver(_ m: rd_kafka_message_t, callbacks: RDKafkaCallbacks) {
        let deliveryTimeout = callbacks.deliveryTimeout ?? .zero
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR { callbacks.markReachable() }
        guard let opaque = m._private else {
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                callbacks.report(.error, deliveryError(m.err, topic: topic, callbacks: callbacks, deliveryTimeout: deliveryTimeout).message)
            }
            return
        }
        // Retained in produce(); librdkafka reports every enqueued record exactly once, so
        // this takes the retain back exactly once.
        let handler = Unmanaged<RDKafkaDeliveryHandler>.fromOpaque(opaque).takeRetainedValue()
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            handler.complete(.success(KafkaDeliveryReport(topic: handler.topic, partition: m.partition, offset: m.offset)))
        } else {
            handler.complete(.failure(deliveryError(m.err, topic: handler.topic, callbacks: callbacks, deliveryTimeout: deliveryTimeout)))
        }
    }

    static func deliveryError(
        _ err: rd_kafka_resp_err_t, topic: String, callbacks: RDKafkaCallbacks, deliveryTimeout: Duration
    ) -> KafkaError {
        let name = RDKafkaLibrary.name(of: err)
        switch err {
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return KafkaError(.unknownTopic, "topic '\(topic)' does not exist", rdKafkaErrorName: name)
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            return KafkaError(.unknownTopic, "topic '\(topic)' has no such partition", rdKafkaErrorName: name)
        case RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
            return KafkaError(.shutDown, "the producer was closed before a record to topic '\(topic)' was delivered", rdKafkaErrorName: name)
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
            return KafkaError(
                .delivery,
                "a record to topic '\(topic)' was not delivered within \(deliveryTimeout)\(callbacks.brokerErrorSuffix)",
                rdKafkaErrorName: name, isRetriable: true)
        default:
            return RDKafkaLibrary.error(.delivery, err, "a record to topic '\(topic)' was not delivered")
        }
    }

    /// Serves delivery reports until close() stops it.
    private func pollLoop() {
        while !pollLock.withLock({ isPollStopped }) {
            rd_kafka_poll(handle.pointer, 100)
        }
        pollLock.withLock {
            isPollLoopDone = true
            pollLock.broadcast()
        }
    }

    /// Hands one record to librdkafka; its delivery report goes to `handler` (on the poll
    /// thread). Does not block: a full local queue throws `.queueFull`.
    func produce(_ record: KafkaProducerRecord, handler: RDKafkaDeliveryHandler?) throws(KafkaError) {
        try withOptionalBytes(record.value) { value throws(KafkaError) in
            try withOptionalBytes(record.key) { key throws(KafkaError) in
                try produce(
                    topic: record.topic, partition: record.partition, key: key, value: value, headers: record.headers,
                    timestampMilliseconds: record.timestampMilliseconds, handler: handler)
            }
        }
    }

    /// The same from raw buffers, which librdkafka copies (RD_KAFKA_MSG_F_COPY) before
    /// this returns: nothing is allocated on the Swift side.
    func produce(
        topic: String, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
        headers recordHeaders: [KafkaHeader], timestampMilliseconds: Int64?, handler: RDKafkaDeliveryHandler?
    ) throws(KafkaError) {
        guard handle.useGuard.enter() else {
            throw KafkaError(.shutDown, "cannot send to topic '\(topic)': the producer is closed")
        }
        defer { handle.useGuard.exit() }
        var headers: OpaquePointer? = nil
        if !recordHeaders.isEmpty {
            // We own `headers` until stepline_produce succeeds; on failure we destroy it.
            headers = rd_kafka_headers_new(recordHeaders.count)
            for h in recordHeaders {
                if let value = h.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(headers, h.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, h.key, -1, nil, 0)
                }
            }
        }
        let rkt: OpaquePointer
        do {
            rkt = try topicHandle(topic)
        } catch {
            if let headers { rd_kafka_headers_destroy(headers) }
            throw error
        }
        // Retained for librdkafka, released by the delivery report (or below on failure).
        let opaque = handler.map { Unmanaged.passRetained($0).toOpaque() }
        let err = stepline_produce(
            handle.pointer, rkt, partition ?? RD_KAFKA_PARTITION_UA,
            value?.baseAddress, value?.count ?? 0, key?.baseAddress, key?.count ?? 0, headers,
            timestampMilliseconds ?? 0, opaque)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if let headers { rd_kafka_headers_destroy(headers) }
            if let opaque { Unmanaged<RDKafkaDeliveryHandler>.fromOpaque(opaque).release() }
            switch err {
            case RD_KAFKA_RESP_ERR__QUEUE_FULL:
                throw KafkaError(.queueFull, "the producer's local queue is full", rdKafkaErrorName: RDKafkaLibrary.name(of: err), isRetriable: true)
            case RD_KAFKA_RESP_ERR__FATAL:
                try handle.checkFatal()
                throw RDKafkaLibrary.error(.fatal, err, "cannot send to topic '\(topic)'")
            default:
                throw Self.deliveryError(err, topic: topic, callbacks: handle.callbacks, deliveryTimeout: deliveryTimeout)
            }
        }
    }

    /// The topic handle for `name`. Handles stay valid until close() destroys them.
    private func topicHandle(_ name: String) throws(KafkaError) -> OpaquePointer {
        let rk = handle.pointer
        let found: TopicHandle? = topics.withLock { t in
            if let last = t.last, last.name == name { return last.handle }
            // rd_kafka_topic_new returns a new reference, ours until close().
            guard let topic = t.all[name] ?? rd_kafka_topic_new(rk, name, nil).map(TopicHandle.init) else { return nil }
            t.all[name] = topic
            t.last = (name, topic)
            return topic
        }
        guard let found else {
            throw RDKafkaLibrary.error(.configuration, rd_kafka_last_error(), "bad topic name '\(name)'")
        }
        return found.pointer
    }

    /// Records handed over and not yet reported (queued, in flight, or reports not served).
    var outstandingCount: Int {
        (try? handle.use("outstanding count") { Int(rd_kafka_outq_len(handle.pointer)) }) ?? 0
    }

    /// Blocks until every outstanding record is reported, or `timeout`. Returns success.
    func flush(timeout: Duration) throws(KafkaError) -> Bool {
        try handle.use("flush") { flushUnguarded(timeout: timeout) }
    }

    private func flushUnguarded(timeout: Duration) -> Bool {
        rd_kafka_flush(handle.pointer, Int32(clamping: timeout.roundedUpMilliseconds)) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Blocking: stops the poll thread, flushes up to `flushTimeout`, purges what is left
    /// (those records fail with `.shutDown`), destroys the handle.
    func close(flushTimeout: Duration) {
        // New sends now fail with .shutDown; those in progress finish first.
        guard handle.useGuard.close() else { return }
        pollLock.withLock {
            isPollStopped = true
            while !isPollLoopDone { _ = pollLock.wait(until: nil) }
        }
        if !flushUnguarded(timeout: flushTimeout) {
            let left = rd_kafka_outq_len(handle.pointer)
            handle.callbacks.report(.warning, "\(left) records still outstanding after \(flushTimeout); purging them")
            rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            // Serves the purged records' delivery reports so their handlers complete.
            _ = flushUnguarded(timeout: .seconds(1))
        }
        // Our references to the topic handles; librdkafka keeps its own while needed.
        for topic in topics.withLock({ t in defer { t = (nil, [:]) }; return Array(t.all.values) }) { rd_kafka_topic_destroy(topic.pointer) }
        handle.destroy()
    }

    // MARK: Transactions (all blocking)

    func initTransactions(timeout: Duration) throws(KafkaError) {
        try handle.use("initTransactions") { () throws(KafkaError) in
            // A returned rd_kafka_error_t is ours to destroy (RDKafkaLibrary.take does).
            if let error = rd_kafka_init_transactions(handle.pointer, Int32(clamping: timeout.roundedUpMilliseconds)) {
                throw RDKafkaLibrary.take(error, .transaction, "init transactions failed\(handle.callbacks.brokerErrorSuffix)")
            }
        }
    }

    func beginTransaction() throws(KafkaError) {
        try handle.use("beginTransaction") { () throws(KafkaError) in
            if let error = rd_kafka_begin_transaction(handle.pointer) {
                throw RDKafkaLibrary.take(error, .transaction, "begin transaction failed")
            }
        }
    }

    func commitTransaction(timeout: Duration) throws(KafkaError) {
        try handle.use("commitTransaction") { () throws(KafkaError) in
            if let error = rd_kafka_commit_transaction(handle.pointer, Int32(clamping: timeout.roundedUpMilliseconds)) {
                throw RDKafkaLibrary.take(error, .transaction, "commit transaction failed")
            }
        }
    }

    func abortTransaction(timeout: Duration) throws(KafkaError) {
        try handle.use("abortTransaction") { () throws(KafkaError) in
            if let error = rd_kafka_abort_transaction(handle.pointer, Int32(clamping: timeout.roundedUpMilliseconds)) {
                throw RDKafkaLibrary.take(error, .transaction, "abort transaction failed")
            }
        }
    }
}

/// Calls `body` with the bytes of `bytes` (nil for nil). The buffer is valid only inside
/// `body`.
@inline(__always)
private func withOptionalBytes<R>(
    _ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(KafkaError) -> R
) throws(KafkaError) -> R {
    guard let bytes else { return try body(nil) }
    // withUnsafeBytes rethrows untyped errors: carry the typed one through a Result.
    let result = bytes.withUnsafeBytes { buffer in Result { () throws(KafkaError) -> R in try body(buffer) } }
    return try result.get()
}
