import Synchronization

/// A development Kafka cluster in this process: librdkafka's mock cluster, real Kafka
/// protocol on loopback, in memory, with fault injection.
///
/// `stepline broker` runs one as a process; `stepline serve` embeds one when no brokers are
/// configured. It keeps about 5 MB per partition (older records are dropped): it is for
/// development and tests, not production.
///
/// - Important: call `shutdown()` when done; it stops the brokers.
public final class KafkaMockCluster: Sendable {
    private let core: RDKafkaMockCluster
    private let forwarder: TCPForwarder?
    private let isShutDown = Mutex(false)

    /// The number of brokers; their IDs are 1...brokerCount.
    public var brokerCount: Int { core.brokerCount }

    /// The address clients bootstrap from: `127.0.0.1:<port>` when a fixed port was asked,
    /// otherwise the brokers' own (ephemeral) addresses, comma-separated.
    public let bootstrapServers: String

    /// The brokers' own addresses (ephemeral ports), comma-separated.
    public var brokerAddresses: String { core.bootstrapServers }

    /// Starts the brokers and creates the topics.
    ///
    /// - Parameters:
    ///   - brokers: number of brokers (1 or more).
    ///   - port: a fixed loopback port for bootstrapping; a forwarder listens there and
    ///     passes connections to the first broker that is up. `nil`: no fixed port.
    ///   - topics: topics to create, with their partition counts.
    ///   - diagnostics: receives the mock brokers' log lines.
    /// - Throws: `.mockCluster` (e.g. the port is taken), `.unsupportedLibrary`.
    public init(
        brokers: Int = 1, port: UInt16? = nil, topics: [KafkaTopicSpecification] = [],
        diagnostics: KafkaDiagnosticHandler? = nil
    ) throws(KafkaError) {
        core = try RDKafkaMockCluster(brokers: brokers, diagnostics: diagnostics)
        do throws(KafkaError) {
            for topic in topics { try core.createTopic(topic) }
            if let port {
                let upstreams = core.bootstrapServers.split(separator: ",").compactMap { address -> (host: String, port: UInt16)? in
                    guard let colon = address.lastIndex(of: ":"), let p = UInt16(address[address.index(after: colon)...]) else { return nil }
                    return (String(address[..<colon]), p)
                }
                let forwarder = try TCPForwarder(port: port, upstreams: upstreams)
                self.forwarder = forwarder
                bootstrapServers = "127.0.0.1:\(forwarder.port)"
            } else {
                forwarder = nil
                bootstrapServers = core.bootstrapServers
            }
        } catch {
            core.destroy()
            throw error
        }
    }

    /// Stops the brokers (blocking briefly, on a thread of its own). Idempotent.
    public func shutdown() async {
        guard isShutDown.withLock({ s in defer { s = true }; return !s }) else { return }
        let core = self.core, forwarder = self.forwarder
        _ = try? await runBlocking(name: "kafka-mock-stop") { () throws(KafkaError) in
            forwarder?.stop()
            core.destroy()
        }
    }

    deinit {
        if !isShutDown.withLock({ $0 }) {
            let core = self.core, forwarder = self.forwarder
            startThread(name: "kafka-mock-stop") {
                forwarder?.stop()
                core.destroy()
            }
        }
    }

    /// Writes the bootstrap address to `<directory>/bootstrap.servers` (for external
    /// workers of an embedded broker).
    ///
    /// - Returns: the file's path.
    @discardableResult
    public func writeBootstrapFile(inDirectory directory: String) throws(KafkaError) -> String {
        let path = directory.hasSuffix("/") ? directory + "bootstrap.servers" : directory + "/bootstrap.servers"
        try writeTextFile(path: path, contents: bootstrapServers + "\n")
        return path
    }

    // MARK: Topics

    /// Creates a topic (replication factor: min(3, brokers) unless given).
    public func createTopic(_ topic: KafkaTopicSpecification) throws(KafkaError) { try core.createTopic(topic) }

    // MARK: Fault injection

    /// Takes broker `id` down: its connections close and it refuses new ones.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) { try core.setBroker(id, up: false) }

    /// Brings broker `id` back up.
    public func setBrokerUp(_ id: Int32) throws(KafkaError) { try core.setBroker(id, up: true) }

    /// Adds `rtt` of latency to every response of broker `id` (zero removes it).
    public func setRoundTripTime(broker id: Int32, _ rtt: Duration) throws(KafkaError) {
        try core.setRoundTripTime(broker: id, milliseconds: rtt.roundedUpMilliseconds)
    }

    /// The next requests of type `api` (to any broker) fail with these errors, in order,
    /// one per request. Errors are librdkafka's names (`NOT_LEADER_FOR_PARTITION`,
    /// `REQUEST_TIMED_OUT`, ...) or numbers.
    public func pushRequestErrors(_ api: KafkaAPIKey, _ errors: [String]) throws(KafkaError) {
        try core.pushRequestErrors(api: api, errors: errors)
    }

    /// The next request of type `api` to broker `id` fails with `error` after `rtt`.
    public func pushBrokerRequestError(broker id: Int32, _ api: KafkaAPIKey, _ error: String, rtt: Duration = .zero) throws(KafkaError) {
        try core.pushBrokerRequestError(broker: id, api: api, error: error, roundTripMilliseconds: rtt.roundedUpMilliseconds)
    }

    /// Drops the errors still queued for `api` by `pushRequestErrors`.
    public func clearRequestErrors(_ api: KafkaAPIKey) { core.clearRequestErrors(api: api) }

    /// Makes metadata for `topic` report `error` (`NO_ERROR` clears it).
    public func setTopicError(_ topic: String, _ error: String) throws(KafkaError) { try core.setTopicError(topic, error: error) }

    /// Moves the leadership of a partition to broker `id`.
    public func setPartitionLeader(topic: String, partition: Int32, broker id: Int32) throws(KafkaError) {
        try core.setPartitionLeader(topic: topic, partition: partition, broker: id)
    }

    /// Makes broker `id` the coordinator of a group or transactional ID (`type`: `group` or
    /// `transaction`).
    public func setCoordinator(type: String, key: String, broker id: Int32) throws(KafkaError) {
        try core.setCoordinator(type: type, key: key, broker: id)
    }
}
