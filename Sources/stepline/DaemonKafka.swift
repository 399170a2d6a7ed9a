import SteplineKafka
import Foundation
import KafkaClient
import Logging
import SteplineConfiguration
import SteplineRuntime

/// The daemon's Kafka: the configured cluster, or an embedded development broker; the
/// producer every integration shares, and the settings of its consumers.
struct DaemonKafka {
    let bootstrapServers: String
    /// The in-process broker when no brokers are configured.
    let embedded: KafkaMockCluster?
    let isDevelopmentBroker: Bool
    /// What the clients are made from.
    let settings: ServeConfiguration
    let producer: KafkaProducer
    let admin: KafkaAdmin
    let monitor: KafkaMonitor

    static func start(_ settings: ServeConfiguration, logger: Logger) async throws -> DaemonKafka {
        try KafkaLibrary.ensureSupported()
        let bootstrap: String
        var embedded: KafkaMockCluster?
        if let brokers = settings.kafkaBrokers {
            bootstrap = brokers
        } else {
            let cluster = try KafkaMockCluster(brokers: 1)
            embedded = cluster
            bootstrap = cluster.bootstrapServers
            let file = try cluster.writeBootstrapFile(inDirectory: settings.dataDirectory)
            logger.notice("embedded Kafka broker (development only: in memory, about 5 MB kept per partition; set kafka.brokers for a real cluster)",
                          metadata: ["bootstrap": "\(bootstrap)", "file": "\(file)"])
        }
        let producer = try KafkaProducer(configuration: settings.producerConfiguration(bootstrapServers: bootstrap))
        let admin = try KafkaAdmin(configuration: settings.adminConfiguration(bootstrapServers: bootstrap))
        return DaemonKafka(
            bootstrapServers: bootstrap, embedded: embedded, isDevelopmentBroker: settings.kafkaDevelopmentBroker ?? (embedded != nil),
            settings: settings, producer: producer, admin: admin,
            monitor: KafkaMonitor(admin: admin, bootstrapServers: bootstrap, logger: logger,
                                  brokersDownSince: { producer.allBrokersDownSince }))
    }

    func consumerConfiguration(group: String) -> KafkaConsumerConfiguration {
        settings.consumerConfiguration(bootstrapServers: bootstrapServers, group: group, isDevelopmentBroker: isDevelopmentBroker)
    }

    /// Creates the topics the daemon reads and writes, where the cluster does not on its own.
    /// Best effort: a cluster that refuses (ACLs) must have them created by its operators.
    func ensureTopics(_ names: [String], logger: Logger) async {
        let unique = Array(Set(names)).sorted()
        if let embedded {
            for name in unique { try? embedded.createTopic(.init(name: name, partitions: 4)) }
            return
        }
        if isDevelopmentBroker { return }  // the mock creates topics on first use
        do {
            try await admin.createTopics(unique.map { .init(name: $0, partitions: 4) }, ignoreExisting: true)
        } catch {
            logger.warning("could not create the topics; create them on the cluster", metadata: [
                "topics": "\(unique.joined(separator: ","))", "error": "\(error)",
            ])
        }
    }

    /// Closes the clients and the embedded broker, waiting at most `timeout` (a producer
    /// already closed by its service returns at once).
    func close(within timeout: Duration) async {
        let producer = self.producer, admin = self.admin, embedded = self.embedded
        _ = await waitAtMost(timeout) {
            await producer.close(flushTimeout: timeout)
            await admin.close()
            await embedded?.shutdown()
        }
    }
}
