import CRdKafka
import Synchronization

/// What a handle's callbacks report to, carried through `rd_kafka_conf_set_opaque`.
///
/// The `on...` closures are set before the handle is created and never change after.
final class RDKafkaCallbacks: @unchecked Sendable {
    // @unchecked Sendable: the closures are written only before rd_kafka_new (single
    // thread) and only read after; `brokers` is a Mutex.
    let clientName: String
    let diagnostics: KafkaDiagnosticHandler?
    /// For producers: records not delivered within this fail with it in their message; set
    /// to receive delivery reports (`RDKafkaProducer.deliver`). A plain value, not a
    /// closure: the report path runs once per record and a closure call costs retains.
    var deliveryTimeout: Duration?
    var onRebalance: ((OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?
    let brokers = Mutex(BrokerHealth())
    /// Mirrors `brokers.allDownSince != nil`, so that the hot paths (every delivery report,
    /// every batch) mark the cluster reachable without taking the lock.
    private let isAllDown = Atomic<Bool>(false)

    /// What we know about reaching the brokers, for errors that say why.
    struct BrokerHealth {
        /// librdkafka's last transport-level error text, e.g.
        /// `127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: Connection refused`.
        var lastError: String?
        /// Since when every broker connection has been down, if they all are.
        var allDownSince: ContinuousClock.Instant?
    }

    init(clientName: String, diagnostics: KafkaDiagnosticHandler?) {
        self.clientName = clientName
        self.diagnostics = diagnostics
    }

    func report(_ level: KafkaDiagnostic.Level, _ message: String) {
        diagnostics?(KafkaDiagnostic(level: level, message: "\(clientName): \(message)"))
    }

    /// Something succeeded against a broker: the cluster is reachable.
    func markReachable() {
        guard isAllDown.load(ordering: .relaxed) else { return }
        brokers.withLock { $0.allDownSince = nil }
        isAllDown.store(false, ordering: .relaxed)
    }

    /// Every broker connection is down.
    func markAllDown() {
        brokers.withLock { health in
            if health.allDownSince == nil { health.allDownSince = .now }
        }
        isAllDown.store(true, ordering: .relaxed)
    }

    /// A suffix for error messages: why the brokers may be unreachable. Callers that do
    /// not poll (admin) serve pending callbacks first with `RDKafkaHandle.serveCallbacks()`.
    var brokerErrorSuffix: String {
        brokers.withLock { $0.lastError }.map { " (last broker error: \($0))" } ?? ""
    }
}

/// Owns one `rd_kafka_t` (producer or consumer) and the context its callbacks receive.
///
/// - Important: `destroy()` MUST be called exactly once, on a thread that may block (it
///   waits for librdkafka's threads); after it the handle MUST NOT be used.
final class RDKafkaHandle: @unchecked Sendable {
    // @unchecked Sendable: librdkafka's rd_kafka_t is thread-safe for the calls we make on
    // it; `pointer` is immutable and valid until destroy().
    let pointer: OpaquePointer
    let callbacks: RDKafkaCallbacks
    /// Calls from other threads enter it; destroy() closes it first and waits for them.
    let useGuard = HandleGuard()
    private let opaque: UnsafeMutableRawPointer

    enum Kind { case producer, consumer }

    /// Builds the configuration and creates the handle.
    ///
    /// - Throws: `.configuration` naming the key for an unknown key or a bad value (or a
    ///   raw key in `reservedKeys`); `.unsupportedLibrary` for a librdkafka we do not support.
    init(
        kind: Kind, properties: [(String, String)], rawKeys: some Collection<String>, reservedKeys: Set<String>,
        callbacks: RDKafkaCallbacks
    ) throws(KafkaError) {
        try RDKafkaLibrary.ensureSupported()
        for key in rawKeys where reservedKeys.contains(key) {
            throw KafkaError(.configuration, "configuration property '\(key)' is managed by Stepline's Kafka layer and cannot be set")
        }
        // We own `conf` until rd_kafka_new succeeds, which then takes it; on any failure
        // before that we destroy it.
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            switch result {
            case RD_KAFKA_CONF_OK:
                continue
            case RD_KAFKA_CONF_UNKNOWN:
                rd_kafka_conf_destroy(conf)
                throw KafkaError(.configuration, "unknown configuration property '\(key)'")
            default:
                rd_kafka_conf_destroy(conf)
                let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(.configuration, "invalid value '\(value)' for configuration property '\(key)': \(reason)")
            }
        }

        // Retained for the callbacks; released in destroy(), after rd_kafka_destroy has
        // stopped every thread that could call them (or below if rd_kafka_new fails).
        let opaque = Unmanaged.passRetained(callbacks).toOpaque()
        rd_kafka_conf_set_opaque(conf, opaque)
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque!).takeUnretainedValue()
            let text = reason.map { String(cString: $0) } ?? ""
            let code = rd_kafka_resp_err_t(rawValue: err)
            if code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
                callbacks.markAllDown()
            } else if code == RD_KAFKA_RESP_ERR__TRANSPORT || code == RD_KAFKA_RESP_ERR__RESOLVE {
                callbacks.brokers.withLock { $0.lastError = text }
            }
            callbacks.report(.warning, "\(text) (\(RDKafkaLibrary.name(of: code)))")
        }
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, buffer in
            // rd_kafka_opaque returns the conf opaque set above, valid while rk lives.
            guard let rk, let raw = rd_kafka_opaque(rk) else { return }
            let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(raw).takeUnretainedValue()
            guard callbacks.diagnostics != nil else { return }
            let mapped: KafkaDiagnostic.Level = level <= 3 ? .error : level == 4 ? .warning : level <= 6 ? .info : .debug
            callbacks.report(mapped, "\(facility.map { String(cString: $0) } ?? ""): \(buffer.map { String(cString: $0) } ?? "")")
        }
        if callbacks.deliveryTimeout != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                // Borrowed without retain/release: the context outlives every report (it is
                // released only after rd_kafka_destroy).
                Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque!)._withUnsafeGuaranteedRef { callbacks in
                    RDKafkaProducer.deliver(message!.pointee, callbacks: callbacks)
                }
            }
        }
        if callbacks.onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                let callbacks = Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque!).takeUnretainedValue()
                callbacks.onRebalance?(rk!, err, partitions!)
            }
        }

        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        // rd_kafka_new takes ownership of conf only on success.
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).release()
            let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(.configuration, "cannot create the Kafka \(kind): \(reason)")
        }
        self.pointer = rk
        self.callbacks = callbacks
        self.opaque = opaque
    }

    /// Refuses new guarded calls, waits for those in progress, destroys the handle
    /// (blocking), then releases the callback context.
    func destroy() {
        useGuard.close()
        rd_kafka_destroy(pointer)
        Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).release()
    }

    /// Serves queued callbacks (errors, logs) without waiting; for handles without a poll
    /// loop, so that error texts include the last broker error.
    func serveCallbacks() {
        rd_kafka_poll(pointer, 0)
    }

    /// Runs `body` while the handle cannot be destroyed; throws `.shutDown` naming `what`
    /// once it is closed.
    @inline(__always)
    func use<R>(_ what: @autoclosure () -> String, _ body: () throws(KafkaError) -> R) throws(KafkaError) -> R {
        try useGuard.use({ KafkaError(.shutDown, "\(what()): the \(callbacks.clientName) is closed") }, body)
    }

    /// Throws `.fatal` if librdkafka raised a fatal error on this handle.
    func checkFatal() throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(pointer, &errstr, errstr.count)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(.fatal, "\(callbacks.clientName): fatal error: \(reason)", rdKafkaErrorName: RDKafkaLibrary.name(of: err))
        }
    }

    /// Partition counts of topics, from a metadata request (blocking up to `timeout`).
    ///
    /// - Throws: `.unknownTopic` naming a missing topic; `.brokersUnreachable` when no
    ///   broker answered in time.
    func partitionCounts(topics: [String], timeout: Duration, bootstrap: String) throws(KafkaError) -> [String: Int] {
        var result: [String: Int] = [:]
        for topic in topics {
            // rd_kafka_topic_new returns a refcounted handle we must destroy; metadata is
            // allocated by librdkafka and freed with rd_kafka_metadata_destroy.
            guard let rkt = rd_kafka_topic_new(pointer, topic, nil) else {
                throw KafkaError(.configuration, "bad topic name '\(topic)'")
            }
            defer { rd_kafka_topic_destroy(rkt) }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(pointer, 0, rkt, &metadata, Int32(clamping: timeout.roundedUpMilliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                if err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT {
                    throw KafkaError(
                        .brokersUnreachable,
                        "no Kafka broker at \(bootstrap) answered within \(timeout)\(callbacks.brokerErrorSuffix)",
                        rdKafkaErrorName: RDKafkaLibrary.name(of: err), isRetriable: true)
                }
                throw RDKafkaLibrary.error(.admin, err, "metadata request for topic '\(topic)' failed")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            callbacks.markReachable()
            guard metadata.pointee.topic_cnt > 0 else {
                throw KafkaError(.unknownTopic, "topic '\(topic)' does not exist")
            }
            let t = metadata.pointee.topics[0]
            if t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == 0) {
                throw KafkaError(.unknownTopic, "topic '\(topic)' does not exist", rdKafkaErrorName: RDKafkaLibrary.name(of: t.err))
            } else if t.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw RDKafkaLibrary.error(.admin, t.err, "topic '\(topic)'")
            }
            result[topic] = Int(t.partition_cnt)
        }
        return result
    }
}

extension Array where Element == KafkaTopicPartition {
    /// Reads a librdkafka partition list (borrowed; the caller keeps ownership).
    init(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) {
        self = (0..<Int(list.pointee.cnt)).map { i in
            let e = list.pointee.elems[i]
            return KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)
        }
    }
}

/// Builds a librdkafka partition list with offsets; the caller owns the result and MUST
/// free it with `rd_kafka_topic_partition_list_destroy`.
func makePartitionList(_ offsets: [(KafkaTopicPartition, Int64)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(clamping: offsets.count))!
    for (tp, offset) in offsets {
        // The element lives inside `list`; librdkafka copies the topic string.
        let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
        element.pointee.offset = offset
    }
    return list
}
