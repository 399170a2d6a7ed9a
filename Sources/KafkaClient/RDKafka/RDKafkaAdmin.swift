import CRdKafka

/// Admin requests on a producer-type handle. Every call here blocks; callers run them on
/// their own threads.
final class RDKafkaAdmin: Sendable {
    let handle: RDKafkaHandle
    let bootstrap: String
    let requestTimeout: Duration

    init(configuration: KafkaAdminConfiguration) throws(KafkaError) {
        let callbacks = RDKafkaCallbacks(clientName: "admin \(configuration.clientID)", diagnostics: nil)
        handle = try RDKafkaHandle(
            kind: .producer, properties: configuration.librdkafkaProperties, rawKeys: [String](), reservedKeys: [],
            callbacks: callbacks)
        bootstrap = configuration.bootstrapServers
        requestTimeout = configuration.requestTimeout
    }

    /// Creates topics. Returns the names that already existed (not an error when
    /// `ignoreExisting`).
    func createTopics(_ topics: [KafkaTopicSpecification], ignoreExisting: Bool) throws(KafkaError) -> [String] {
        guard !topics.isEmpty else { return [] }
        return try handle.use("creating topics") { () throws(KafkaError) in try createTopicsUnguarded(topics, ignoreExisting: ignoreExisting) }
    }

    private func createTopicsUnguarded(_ topics: [KafkaTopicSpecification], ignoreExisting: Bool) throws(KafkaError) -> [String] {
        var errstr = [CChar](repeating: 0, count: 512)
        func errText() -> String { String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        let timeoutMs = Int32(clamping: requestTimeout.roundedUpMilliseconds)

        // Everything allocated here is ours and destroyed by the defers.
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for spec in topics {
            guard spec.partitions > 0 else {
                throw KafkaError(.configuration, "topic '\(spec.name)': partition count must be positive, not \(spec.partitions)")
            }
            guard let t = rd_kafka_NewTopic_new(spec.name, Int32(spec.partitions), Int32(spec.replicationFactor ?? -1), &errstr, errstr.count) else {
                throw KafkaError(.configuration, "bad topic '\(spec.name)': \(errText())")
            }
            newTopics.append(t)
        }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
        let queue = rd_kafka_queue_new(handle.pointer)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle.pointer, buffer.baseAddress, buffer.count, options, queue)
        }
        // The result event is ours to destroy. librdkafka answers by the request timeout;
        // the margin only guards against a lost answer.
        guard let event = rd_kafka_queue_poll(queue, timeoutMs + 5000) else {
            throw unreachable("creating topics \(topics.map(\.name))")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT {
            // CreateTopics goes to the controller. Brokers that answer metadata but never
            // name a controller are librdkafka's mock cluster, which has none.
            var metadata: UnsafePointer<rd_kafka_metadata>?
            if rd_kafka_metadata(handle.pointer, 0, nil, &metadata, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                rd_kafka_metadata_destroy(metadata)
                throw KafkaError(
                    .admin,
                    "creating topics \(topics.map(\.name)): the cluster at \(bootstrap) answers but no controller took the request "
                        + "within \(requestTimeout); librdkafka's mock cluster (the dev broker) has no controller: create topics with "
                        + "`stepline broker --topics`, its control command `topic-create`, or KafkaMockCluster.createTopic",
                    rdKafkaErrorName: RDKafkaLibrary.name(of: err))
            }
            throw unreachable("creating topics \(topics.map(\.name))")
        } else if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? RDKafkaLibrary.describe(err)
            throw KafkaError(.admin, "creating topics \(topics.map(\.name)) failed: \(text)", rdKafkaErrorName: RDKafkaLibrary.name(of: err))
        }
        handle.callbacks.markReachable()
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
            let results = rd_kafka_CreateTopics_result_topics(result, &count)
        else { throw KafkaError(.admin, "creating topics \(topics.map(\.name)): no result") }
        var existing: [String] = []
        for i in 0..<count {
            let r = results[i]
            let name = String(cString: rd_kafka_topic_result_name(r))
            let topicErr = rd_kafka_topic_result_error(r)
            if topicErr == RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            if topicErr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && ignoreExisting {
                existing.append(name)
                continue
            }
            let text = rd_kafka_topic_result_error_string(r).map { String(cString: $0) } ?? RDKafkaLibrary.describe(topicErr)
            throw KafkaError(.admin, "creating topic '\(name)' failed: \(text)", rdKafkaErrorName: RDKafkaLibrary.name(of: topicErr))
        }
        return existing
    }

    private func unreachable(_ what: String) -> KafkaError {
        handle.serveCallbacks()
        return KafkaError(
            .brokersUnreachable,
            "\(what): no Kafka broker at \(bootstrap) answered within \(requestTimeout)\(handle.callbacks.brokerErrorSuffix)",
            isRetriable: true)
    }

    /// Brokers and topics, from one metadata request.
    func clusterMetadata() throws(KafkaError) -> KafkaClusterMetadata {
        try handle.use("reading metadata") { () throws(KafkaError) in try clusterMetadataUnguarded() }
    }

    private func clusterMetadataUnguarded() throws(KafkaError) -> KafkaClusterMetadata {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, Int32(clamping: requestTimeout.roundedUpMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            if err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT { throw unreachable("reading cluster metadata") }
            throw RDKafkaLibrary.error(.admin, err, "reading cluster metadata from \(bootstrap) failed")
        }
        // Allocated by librdkafka for us; freed here.
        defer { rd_kafka_metadata_destroy(metadata) }
        let m = metadata.pointee
        let brokers = (0..<Int(m.broker_cnt)).map { i in
            KafkaClusterMetadata.Broker(id: m.brokers[i].id, host: String(cString: m.brokers[i].host), port: Int(m.brokers[i].port))
        }
        var topics: [String: Int] = [:]
        for i in 0..<Int(m.topic_cnt) where m.topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR {
            topics[String(cString: m.topics[i].topic)] = Int(m.topics[i].partition_cnt)
        }
        // Known from the metadata just read: no wait. The string is ours to free.
        var clusterID: String?
        if let id = rd_kafka_clusterid(handle.pointer, 0) {
            clusterID = String(cString: id)
            rd_kafka_mem_free(handle.pointer, id)
        }
        return KafkaClusterMetadata(brokers: brokers, partitionCounts: topics, clusterID: clusterID)
    }

    func partitionCount(of topic: String) throws(KafkaError) -> Int {
        try handle.use("reading metadata") { () throws(KafkaError) in
            try handle.partitionCounts(topics: [topic], timeout: requestTimeout, bootstrap: bootstrap)[topic]!
        }
    }

    func destroy() { handle.destroy() }
}
