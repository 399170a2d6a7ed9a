import CRdKafka

/// librdkafka's mock cluster: in-process brokers speaking the Kafka protocol on loopback.
///
/// The mock calls post an operation to the cluster's own thread and wait for it: an
/// in-process queue round trip (microseconds), not network I/O.
final class RDKafkaMockCluster: @unchecked Sendable {
    // @unchecked Sendable: the mock API is thread-safe (every call is an op on the
    // cluster's thread); `cluster` is valid until destroy().
    private let handle: RDKafkaHandle
    private let cluster: OpaquePointer
    let brokerCount: Int
    let bootstrapServers: String

    init(brokers: Int, diagnostics: KafkaDiagnosticHandler?) throws(KafkaError) {
        guard brokers >= 1 else { throw KafkaError(.configuration, "a mock cluster needs at least 1 broker, not \(brokers)") }
        // The mock cluster needs a client handle to live in; a bare producer does.
        handle = try RDKafkaHandle(
            kind: .producer, properties: [("client.id", "stepline-mock-cluster")], rawKeys: [String](), reservedKeys: [],
            callbacks: RDKafkaCallbacks(clientName: "mock cluster", diagnostics: diagnostics))
        // The cluster is ours until rd_kafka_mock_cluster_destroy, called before the handle
        // it lives in is destroyed.
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            handle.destroy()
            throw KafkaError(.mockCluster, "librdkafka could not create a mock cluster of \(brokers) brokers")
        }
        self.cluster = cluster
        self.brokerCount = brokers
        // A static string owned by the cluster; copied.
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Blocking: stops the brokers and frees the cluster.
    func destroy() {
        // No operation may be in progress on the cluster while it goes.
        handle.useGuard.close()
        rd_kafka_mock_cluster_destroy(cluster)
        handle.destroy()
    }

    private func check(_ err: rd_kafka_resp_err_t, _ what: String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw RDKafkaLibrary.error(.mockCluster, err, what) }
    }

    private func checkBroker(_ id: Int32) throws(KafkaError) {
        guard id >= 1 && Int(id) <= brokerCount else {
            throw KafkaError(.mockCluster, "no broker \(id): the mock cluster has brokers 1...\(brokerCount)")
        }
    }

    static func errorCode(_ name: String) throws(KafkaError) -> rd_kafka_resp_err_t {
        guard let code = RDKafkaLibrary.errorCode(named: name) else {
            throw KafkaError(.mockCluster, "unknown Kafka error '\(name)' (use librdkafka's names, e.g. NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT)")
        }
        return code
    }

    func createTopic(_ spec: KafkaTopicSpecification) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        guard spec.partitions > 0 else { throw KafkaError(.mockCluster, "topic '\(spec.name)': partition count must be positive") }
        let rf = spec.replicationFactor ?? min(3, brokerCount)
        guard rf >= 1 && rf <= brokerCount else {
            throw KafkaError(.mockCluster, "topic '\(spec.name)': replication factor \(rf) needs 1...\(brokerCount) brokers")
        }
        try check(rd_kafka_mock_topic_create(cluster, spec.name, Int32(spec.partitions), Int32(rf)), "creating topic '\(spec.name)'")
    }

    func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        try checkBroker(id)
        let err = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        try check(err, "setting broker \(id) \(up ? "up" : "down")")
    }

    func setRoundTripTime(broker id: Int32, milliseconds: Int) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        try checkBroker(id)
        try check(rd_kafka_mock_broker_set_rtt(cluster, id, Int32(clamping: milliseconds)), "setting broker \(id)'s round-trip time")
    }

    func pushRequestErrors(api: KafkaAPIKey, errors: [String]) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        var codes: [rd_kafka_resp_err_t] = []
        for e in errors { codes.append(try Self.errorCode(e)) }
        // The array is read during the call only.
        rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, codes.count, codes)
    }

    func pushBrokerRequestError(broker id: Int32, api: KafkaAPIKey, error: String, roundTripMilliseconds: Int) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        try checkBroker(id)
        let code = try Self.errorCode(error)
        try check(
            stepline_mock_broker_push_error(cluster, id, api.rawValue, code, Int32(clamping: roundTripMilliseconds)),
            "pushing an error on broker \(id)")
    }

    func clearRequestErrors(api: KafkaAPIKey) {
        guard handle.useGuard.enter() else { return }
        defer { handle.useGuard.exit() }
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    /// Holds the cluster open for one operation (exit with `handle.useGuard.exit()`).
    private func enter() throws(KafkaError) {
        guard handle.useGuard.enter() else { throw KafkaError(.shutDown, "the mock cluster is shut down") }
    }

    func setTopicError(_ topic: String, error: String) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        rd_kafka_mock_topic_set_error(cluster, topic, try Self.errorCode(error))
    }

    func setPartitionLeader(topic: String, partition: Int32, broker id: Int32) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        try checkBroker(id)
        try check(rd_kafka_mock_partition_set_leader(cluster, topic, partition, id), "setting the leader of \(topic)[\(partition)]")
    }

    func setCoordinator(type: String, key: String, broker id: Int32) throws(KafkaError) {
        try enter()
        defer { handle.useGuard.exit() }
        try checkBroker(id)
        guard type == "group" || type == "transaction" else {
            throw KafkaError(.mockCluster, "coordinator type must be 'group' or 'transaction', not '\(type)'")
        }
        try check(rd_kafka_mock_coordinator_set(cluster, type, key, id), "setting the \(type) coordinator of '\(key)'")
    }
}
