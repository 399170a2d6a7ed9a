import CRdKafka
import Synchronization

/// The librdkafka group consumer: subscribe, poll in batches, rebalances, offsets.
///
/// Polls and rebalance callbacks run on one `DedicatedThread`; `storeOffsets`, pause and
/// resume are non-blocking and may be called from any thread.
final class RDKafkaConsumer: @unchecked Sendable {
    // @unchecked Sendable: the handle is thread-safe for the calls made on it; mutable
    // state lives in `progress` (its own lock) or is touched only on `thread`
    // (`isClosed`, `lastTopic`), where every poll runs.
    let handle: RDKafkaHandle
    let thread: DedicatedThread
    let progress: RDKafkaConsumerProgress
    let groupID: String
    let bootstrap: String
    private let unreachableTimeout: Duration
    /// Only touched on `thread`.
    private var isClosed = false

    init(configuration: KafkaConsumerConfiguration, topics: [String]) throws(KafkaError) {
        guard !topics.isEmpty else { throw KafkaError(.configuration, "a consumer needs at least one topic") }
        let callbacks = RDKafkaCallbacks(clientName: "consumer \(configuration.groupID)", diagnostics: configuration.diagnostics)
        let progress = RDKafkaConsumerProgress(drainTimeout: configuration.rebalanceDrainTimeout, startAtBeginning: configuration.startAtBeginning)
        callbacks.onRebalance = { [unowned callbacks] rk, err, partitions in
            progress.rebalance(rk, err, partitions, callbacks: callbacks)
        }
        handle = try RDKafkaHandle(
            kind: .consumer, properties: configuration.librdkafkaProperties, rawKeys: configuration.properties.keys,
            reservedKeys: KafkaConsumerConfiguration.reservedKeys, callbacks: callbacks)
        self.progress = progress
        self.groupID = configuration.groupID
        self.bootstrap = configuration.bootstrapServers
        self.unreachableTimeout = configuration.brokersUnreachableTimeout
        thread = DedicatedThread(name: "kafka-consumer")
        // Error and log events then arrive through the consumer poll, on our thread.
        rd_kafka_poll_set_consumer(handle.pointer)
        // The list is ours; rd_kafka_subscribe copies it.
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let handle = self.handle
            thread.submit { handle.destroy() }
            thread.stop()
            throw RDKafkaLibrary.error(.configuration, err, "cannot subscribe to \(topics)")
        }
    }

    /// A fetched message and its topic-partition. `message` is owned by the batch that
    /// holds it and destroyed by `destroy(_:)`.
    struct Fetched {
        let message: UnsafeMutablePointer<rd_kafka_message_t>
        let topicPartition: KafkaTopicPartition
        var offset: Int64 { message.pointee.offset }
    }

    /// Blocking (run on `thread`): up to `maxRecords` messages, waiting up to `timeout` for
    /// the first one and taking the others that are already there. Messages of partitions
    /// revoked meanwhile are dropped; the rest are marked handed out. The caller owns the
    /// returned messages and MUST pass them to `destroy(_:)`.
    func collect(maxRecords: Int, timeout: Duration) throws(KafkaError) -> [Fetched] {
        guard !isClosed else { throw KafkaError(.shutDown, "the consumer of group '\(groupID)' is closed") }
        try handle.checkFatal()
        let deadline = ContinuousClock.now + timeout
        var batch: [Fetched] = []
        batch.reserveCapacity(min(maxRecords, 1024))
        var pendingError: KafkaError?
        func dropRevoked() {
            guard progress.hasRevokedDuringPoll else { return }
            let revoked = progress.takeRevokedDuringPoll()
            batch.removeAll { f in
                guard revoked.contains(f.topicPartition) else { return false }
                rd_kafka_message_destroy(f.message)
                return true
            }
        }
        while batch.count < maxRecords {
            let waitMs: Int32
            if batch.isEmpty {
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { break }
                waitMs = Int32(clamping: remaining.roundedUpMilliseconds)
            } else {
                waitMs = 0
            }
            // The message is ours: kept in `batch`, or destroyed here.
            guard let message = rd_kafka_consumer_poll(handle.pointer, waitMs) else {
                if batch.isEmpty { continue } else { break }
            }
            dropRevoked()
            if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let error = consumerError(message)
                rd_kafka_message_destroy(message)
                if let error {
                    pendingError = error
                    break
                }
                continue
            }
            batch.append(Fetched(message: message, topicPartition: KafkaTopicPartition(topic: topicName(message.pointee.rkt), partition: message.pointee.partition)))
        }
        dropRevoked()
        if let pendingError {
            // Messages of this poll were not handed out: they will be read again.
            destroy(batch)
            throw pendingError
        }
        if batch.isEmpty {
            try checkBrokersReachable()
            return batch
        }
        handle.callbacks.markReachable()
        let unassigned = progress.markDelivered(batch)
        if !unassigned.isEmpty {
            batch.removeAll { f in
                guard unassigned.contains(f.topicPartition) else { return false }
                rd_kafka_message_destroy(f.message)
                return true
            }
        }
        return batch
    }

    /// Fetched messages crossing from the consumer thread to the caller.
    struct FetchedBatch: @unchecked Sendable {
        // @unchecked Sendable: the messages are owned by this batch alone once handed over,
        // and librdkafka's messages may be read and destroyed on any thread.
        let messages: [Fetched]
    }

    func destroy(_ batch: [Fetched]) {
        for f in batch { rd_kafka_message_destroy(f.message) }
    }

    /// Copies fetched messages into records and destroys the messages. Runs on the
    /// caller's thread: the records are allocated where they will be freed (glibc's malloc
    /// is much slower when one thread frees what another allocated).
    func records(from batch: FetchedBatch) -> [KafkaRecord] {
        guard !batch.messages.isEmpty else { return [] }
        defer {
            destroy(batch.messages)
            handle.useGuard.exit()  // entered by collectForHandOff
        }
        return batch.messages.map { record(from: $0) }
    }

    /// `collect` for a batch that leaves the consumer thread: a non-empty batch holds the
    /// handle open (librdkafka must not be destroyed while messages are alive) until
    /// `records(from:)` has destroyed them.
    func collectForHandOff(maxRecords: Int, timeout: Duration) throws(KafkaError) -> FetchedBatch {
        let messages = try collect(maxRecords: maxRecords, timeout: timeout)
        // Cannot fail: the handle is closed only by close(), on this same thread.
        if !messages.isEmpty { _ = handle.useGuard.enter() }
        return FetchedBatch(messages: messages)
    }

    /// Blocking (run on `thread`): hands a batch to `body` as views into librdkafka's
    /// buffers, valid only during `body`.
    func pollBorrowing<R>(
        maxRecords: Int, timeout: Duration, _ body: ([KafkaRecordView]) throws(KafkaError) -> R
    ) throws(KafkaError) -> R {
        let batch = try collect(maxRecords: maxRecords, timeout: timeout)
        defer { destroy(batch) }
        let views = batch.map { f in
            let m = f.message.pointee
            return KafkaRecordView(
                topic: f.topicPartition.topic, partition: m.partition, offset: m.offset,
                key: m.key.map { UnsafeRawBufferPointer(start: $0, count: m.key_len) },
                value: m.payload.map { UnsafeRawBufferPointer(start: $0, count: m.len) },
                message: UnsafeRawPointer(f.message))
        }
        return try body(views)
    }

    /// Returns the error to throw for an error event, or nil to go on (after reporting it).
    private func consumerError(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaError? {
        let m = message.pointee
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) }
        let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? RDKafkaLibrary.describe(m.err)
        switch m.err {
        case RD_KAFKA_RESP_ERR__PARTITION_EOF:
            return nil
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            return KafkaError(
                .unknownTopic, "topic '\(topic ?? text)' does not exist (consumer group '\(groupID)'): \(text)",
                rdKafkaErrorName: RDKafkaLibrary.name(of: m.err))
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
            return RDKafkaLibrary.error(.consumer, m.err, "consumer group '\(groupID)'\(topic.map { ", topic '\($0)'" } ?? "")")
        case RD_KAFKA_RESP_ERR__FATAL:
            do throws(KafkaError) { try handle.checkFatal() } catch { return error }
            return RDKafkaLibrary.error(.fatal, m.err, "consumer group '\(groupID)'")
        default:
            handle.callbacks.report(.warning, "\(text) (\(RDKafkaLibrary.name(of: m.err)))")
            return nil
        }
    }

    /// Throws `.brokersUnreachable` when every broker has been down for longer than the
    /// configured timeout and a metadata probe fails too.
    private func checkBrokersReachable() throws(KafkaError) {
        guard let since = handle.callbacks.brokers.withLock({ $0.allDownSince }),
            since.duration(to: .now) > unreachableTimeout
        else { return }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        // On success the metadata is ours to free.
        let err = rd_kafka_metadata(handle.pointer, 0, nil, &metadata, 1000)
        if err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
            rd_kafka_metadata_destroy(metadata)
            handle.callbacks.markReachable()
            return
        }
        throw KafkaError(
            .brokersUnreachable,
            "consumer group '\(groupID)': no Kafka broker at \(bootstrap) reachable for \(unreachableTimeout)\(handle.callbacks.brokerErrorSuffix)",
            isRetriable: true)
    }

    /// The last topic handle seen and its name: records come in runs of one topic, and
    /// making a String per record costs. Only touched on `thread`. The pointer is only
    /// compared, never dereferenced after its message is destroyed.
    private var lastTopic: (handle: OpaquePointer?, name: String) = (nil, "")

    private func topicName(_ rkt: OpaquePointer?) -> String {
        if rkt != lastTopic.handle { lastTopic = (rkt, rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "") }
        return lastTopic.name
    }

    /// Copies a fetched message (borrowed) into a `KafkaRecord`.
    private func record(from fetched: Fetched) -> KafkaRecord {
        let message = fetched.message
        let m = message.pointee
        return KafkaRecord(
            topic: fetched.topicPartition.topic, partition: m.partition, offset: m.offset,
            key: m.key.map { copyBytes($0, m.key_len) }, value: m.payload.map { copyBytes($0, m.len) },
            headers: Self.headers(of: UnsafeRawPointer(message)), timestampMilliseconds: Self.timestamp(of: UnsafeRawPointer(message)))
    }

    /// The headers of a message (borrowed), copied.
    static func headers(of rawMessage: UnsafeRawPointer) -> [KafkaHeader] {
        let message = UnsafeMutablePointer(mutating: rawMessage.assumingMemoryBound(to: rd_kafka_message_t.self))
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        // The headers stay owned by the message; we only read them.
        if rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var i = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(KafkaHeader(key: String(cString: name!), value: value.map { copyBytes($0, size) }))
                i += 1
            }
        }
        return headers
    }

    /// The timestamp of a message (borrowed), in ms since the epoch, if it has one.
    static func timestamp(of rawMessage: UnsafeRawPointer) -> Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(rawMessage.assumingMemoryBound(to: rd_kafka_message_t.self), &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts
    }

    /// Stores "next offset to read" per partition, for the next commit.
    ///
    /// - Throws: `.partitionsRevoked` listing partitions this consumer no longer owns
    ///   (the others are stored).
    func storeOffsets(_ offsets: [KafkaTopicPartition: Int64]) throws(KafkaError) {
        guard handle.useGuard.enter() else {
            throw KafkaError(.shutDown, "cannot store offsets: the consumer of group '\(groupID)' is closed")
        }
        defer { handle.useGuard.exit() }
        try progress.store(offsets) { owned -> [KafkaTopicPartition] in
            // The list is ours; rd_kafka_offsets_store reads it and sets per-element errors.
            let list = makePartitionList(owned.map { ($0.key, $0.value) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_offsets_store(handle.pointer, list)
            var failed: [KafkaTopicPartition] = []
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    failed.append(KafkaTopicPartition(topic: String(cString: list.pointee.elems[i].topic), partition: list.pointee.elems[i].partition))
                }
            }
            return failed
        }
    }

    /// Blocking: commits the stored offsets now.
    func commit() throws(KafkaError) {
        let err = try handle.use("commit") { rd_kafka_commit(handle.pointer, nil, 0) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw RDKafkaLibrary.error(.consumer, err, "offset commit of consumer group '\(groupID)' failed")
        }
    }

    /// Blocking: the group's committed offsets ("next offset to read"; -1001 when none).
    func committed(_ partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let list = makePartitionList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = try handle.use("committed offsets") {
            rd_kafka_committed(handle.pointer, list, Int32(clamping: timeout.roundedUpMilliseconds))
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDKafkaLibrary.error(.consumer, err, "reading committed offsets of group '\(groupID)' failed")
        }
        var out: [KafkaTopicPartition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            out[KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)] = e.offset
        }
        return out
    }

    func assignment() throws(KafkaError) -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = try handle.use("assignment") { rd_kafka_assignment(handle.pointer, &list) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw RDKafkaLibrary.error(.consumer, err, "reading the assignment of group '\(groupID)' failed")
        }
        // rd_kafka_assignment hands us a new list to destroy.
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return [KafkaTopicPartition](list)
    }

    func setPaused(_ partitions: [KafkaTopicPartition], paused: Bool) throws(KafkaError) {
        let list = makePartitionList(partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = try handle.use(paused ? "pause" : "resume") {
            paused ? rd_kafka_pause_partitions(handle.pointer, list) : rd_kafka_resume_partitions(handle.pointer, list)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw RDKafkaLibrary.error(.consumer, err, "\(paused ? "pause" : "resume") of \(partitions) failed")
        }
        for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let e = list.pointee.elems[i]
            throw RDKafkaLibrary.error(.consumer, e.err, "\(paused ? "pause" : "resume") of \(String(cString: e.topic))[\(e.partition)] failed")
        }
    }

    /// Blocking (run on `thread`): leaves the group (revoking, so in-flight offsets are
    /// committed; `storeOffsets` still works meanwhile), then destroys the handle once the
    /// calls in progress and the batches handed out are done.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        let err = rd_kafka_consumer_close(handle.pointer)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            handle.callbacks.report(.warning, "closing consumer group '\(groupID)': \(RDKafkaLibrary.describe(err))")
        }
        handle.destroy()
        thread.stop()
    }
}

/// Copies `count` bytes into a new array with one memcpy (the generic Sequence initializer
/// goes byte by byte).
@inline(__always)
func copyBytes(_ source: UnsafeRawPointer, _ count: Int) -> [UInt8] {
    guard count > 0 else { return [] }
    // `source` is valid for `count` bytes (the message is alive during this call).
    return Array(UnsafeBufferPointer(start: source.assumingMemoryBound(to: UInt8.self), count: count))
}
