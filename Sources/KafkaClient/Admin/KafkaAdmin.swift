import Synchronization

/// Brokers and topics of a cluster.
public struct KafkaClusterMetadata: Sendable, Hashable {
    public struct Broker: Sendable, Hashable {
        public var id: Int32
        public var host: String
        public var port: Int
    }

    public var brokers: [Broker]
    /// Partition count per topic.
    public var partitionCounts: [String: Int]
    /// The cluster's id, when its brokers tell it (Kafka 0.10+; each development broker
    /// has its own): a new id means another cluster, without the records of the old one.
    public var clusterID: String?
}

/// Creates topics and reads cluster metadata. Every request runs on its own thread.
public final class KafkaAdmin: Sendable {
    private let core: RDKafkaAdmin
    private let closed = Mutex(false)

    /// - Throws: `.configuration` naming an unknown key or a bad value.
    public init(configuration: KafkaAdminConfiguration) throws(KafkaError) {
        core = try RDKafkaAdmin(configuration: configuration)
    }

    /// Creates topics with their partition counts.
    ///
    /// - Parameter ignoreExisting: when true (the default), a topic that already exists is
    ///   not an error (its partition count is left as it is).
    /// - Returns: the names of topics that already existed.
    /// - Throws: `.brokersUnreachable` naming the bootstrap servers when no broker answers
    ///   within `requestTimeout`; `.admin` naming the topic the cluster refused.
    @discardableResult
    public func createTopics(_ topics: [KafkaTopicSpecification], ignoreExisting: Bool = true) async throws(KafkaError) -> [String] {
        let core = self.core
        return try await runBlocking(name: "kafka-admin") { () throws(KafkaError) in
            try core.createTopics(topics, ignoreExisting: ignoreExisting)
        }
    }

    /// Brokers and topics.
    public func metadata() async throws(KafkaError) -> KafkaClusterMetadata {
        let core = self.core
        return try await runBlocking(name: "kafka-admin") { () throws(KafkaError) in try core.clusterMetadata() }
    }

    /// The partition count of a topic.
    ///
    /// - Throws: `.unknownTopic` naming the topic if it does not exist.
    public func partitionCount(of topic: String) async throws(KafkaError) -> Int {
        let core = self.core
        return try await runBlocking(name: "kafka-admin") { () throws(KafkaError) in try core.partitionCount(of: topic) }
    }

    /// Releases librdkafka. Idempotent.
    public func close() async {
        guard closed.withLock({ c in defer { c = true }; return !c }) else { return }
        let core = self.core
        _ = try? await runBlocking(name: "kafka-admin") { () throws(KafkaError) in core.destroy() }
    }

    deinit {
        if !closed.withLock({ $0 }) {
            let core = self.core
            startThread(name: "kafka-admin") { core.destroy() }
        }
    }
}
