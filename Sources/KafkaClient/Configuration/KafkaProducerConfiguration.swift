/// Configuration of a `KafkaProducer`.
///
/// Typed properties cover what Stepline tunes; `properties` passes any other librdkafka key
/// through (TLS: `security.protocol`, `ssl.ca.location`, ...; SASL: `sasl.mechanisms`,
/// `sasl.username`, ...). Raw properties are applied after the typed ones and win over them.
/// Unknown keys and bad values fail `KafkaProducer.init` with an error naming the key.
public struct KafkaProducerConfiguration: Sendable {
    /// `bootstrap.servers`: comma-separated `host:port` list. No default.
    public var bootstrapServers: String
    /// `client.id`. Default `"stepline"`.
    public var clientID: String = "stepline"
    /// `enable.idempotence`: each record is written once per producer session, in order,
    /// despite retries. Default `true`.
    public var isIdempotent: Bool = true
    /// `acks`. Default `.all` (required by idempotence).
    public var acks: KafkaAcks = .all
    /// `linger.ms`: how long to wait to fill a batch. Default 5 ms.
    public var linger: Duration = .milliseconds(5)
    /// `batch.num.messages`: records per batch at most. Default 10,000 records.
    public var batchMaxRecords: Int = 10_000
    /// `batch.size`: bytes per batch at most. Default 1,000,000 bytes.
    public var batchMaxBytes: Int = 1_000_000
    /// `compression.codec`. Default `.none`.
    public var compression: KafkaCompression = .none
    /// `message.timeout.ms`: a record not delivered within this time fails with a
    /// `.delivery` error. Default 30 s (librdkafka's own is 300 s), so that a broker that
    /// never comes back surfaces as an error in bounded time.
    public var deliveryTimeout: Duration = .seconds(30)
    /// `queue.buffering.max.messages`: records waiting locally at most; beyond, sends
    /// wait (`send`) or fail with `.queueFull` (`enqueue`). Default 1,000,000 records.
    public var queueMaxRecords: Int = 1_000_000
    /// `queue.buffering.max.kbytes`: bytes waiting locally at most. Default 1,048,576 KiB.
    public var queueMaxKilobytes: Int = 1_048_576
    /// `allow.auto.create.topics`: whether sending to a missing topic creates it (when the
    /// cluster allows). Default `false`: a missing topic is an error naming it.
    public var autoCreateTopics: Bool = false
    /// `topic.metadata.propagation.max.ms`: how long a topic the cluster says does not exist
    /// may take to appear before records to it fail with `.unknownTopic`. Default 5 s
    /// (librdkafka's is 30 s).
    public var missingTopicTimeout: Duration = .seconds(5)
    /// `transactional.id`: set to use transactions (`initTransactions()` first). Default none.
    public var transactionalID: String? = nil
    /// How long `close()` waits for outstanding deliveries before purging them (they then
    /// fail with `.shutDown`). Default 10 s. (Not a librdkafka property.)
    public var shutdownFlushTimeout: Duration = .seconds(10)
    /// Raw librdkafka properties, applied last. Default empty.
    public var properties: [String: String] = [:]
    /// Receives non-fatal errors and broker state changes. Default none.
    public var diagnostics: KafkaDiagnosticHandler? = nil

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    /// Keys this layer owns: setting them through `properties` would break its contracts.
    static let reservedKeys: Set<String> = []

    var librdkafkaProperties: [(String, String)] {
        var p: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientID),
            ("enable.idempotence", isIdempotent ? "true" : "false"),
            ("acks", acks.propertyValue),
            ("linger.ms", String(linger.roundedUpMilliseconds)),
            ("batch.num.messages", String(batchMaxRecords)),
            ("batch.size", String(batchMaxBytes)),
            ("compression.codec", compression.propertyValue),
            ("message.timeout.ms", String(deliveryTimeout.roundedUpMilliseconds)),
            ("queue.buffering.max.messages", String(queueMaxRecords)),
            ("queue.buffering.max.kbytes", String(queueMaxKilobytes)),
            ("allow.auto.create.topics", autoCreateTopics ? "true" : "false"),
            ("topic.metadata.propagation.max.ms", String(missingTopicTimeout.roundedUpMilliseconds)),
        ]
        if let transactionalID { p.append(("transactional.id", transactionalID)) }
        p += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return p
    }
}
