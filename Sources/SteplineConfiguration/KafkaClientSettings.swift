import KafkaClient

/// The Kafka clients of the daemon, as its settings make them. `stepline-bench e2e-floor`
/// makes its clients here too, so that the floor it measures is the daemon's.
extension ServeConfiguration {
    /// The producer every integration shares.
    public func producerConfiguration(bootstrapServers: String) -> KafkaProducerConfiguration {
        var p = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        p.clientID = "stepline"
        // Task requests wait on this hop: a short linger; batches still form under load.
        p.linger = .milliseconds(1)
        // Integrations publish to topics named by definitions (queues, SNS topics, Lambda
        // functions): a cluster that allows it creates them on first use.
        p.autoCreateTopics = true
        p.properties = kafkaProperties
        return p
    }

    /// The admin client, whose metadata requests are the Kafka monitor's probe.
    public func adminConfiguration(bootstrapServers: String) -> KafkaAdminConfiguration {
        var a = KafkaAdminConfiguration(bootstrapServers: bootstrapServers)
        a.properties = kafkaProperties
        // The monitor's probe: an answer, or "unreachable", every couple of seconds.
        a.requestTimeout = .seconds(2)
        return a
    }

    /// A consumer of the group `group` (`<kafka.groupId>.triggers`, `.replies`).
    ///
    /// - Parameter isDevelopmentBroker: the brokers are librdkafka's mock cluster, which holds
    ///   every fetch for its whole wait: fetch with a 1 ms wait.
    public func consumerConfiguration(bootstrapServers: String, group: String, isDevelopmentBroker: Bool) -> KafkaConsumerConfiguration {
        var c = KafkaConsumerConfiguration.lowLatency(bootstrapServers: bootstrapServers, groupID: group, isMockCluster: isDevelopmentBroker)
        c.clientID = "stepline"
        c.properties = kafkaProperties
        return c
    }
}
