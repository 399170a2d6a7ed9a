/// Configuration of a group `KafkaConsumer`.
///
/// Offsets are committed only from offsets the caller stored (`storeOffsets`), so a record
/// counts as consumed once its effect is durable. Raw `properties` pass any other
/// librdkafka key through (TLS, SASL, ...); they are applied last and win, except for the
/// keys this layer owns (`enable.auto.offset.store`), which are refused.
///
/// - Note: latency. A real Kafka broker answers a fetch as soon as `fetch.min.bytes` is
///   met; librdkafka's mock cluster (the dev broker) holds every fetch for the whole
///   `fetch.wait.max.ms`. `fetchWaitMax` therefore bounds the delivery latency on the dev
///   broker. See `lowLatency(bootstrapServers:groupID:isMockCluster:)` and docs/kafka.md.
/// - Note: rebalances. The mock cluster completes a rebalance only after about one
///   `sessionTimeout` (45 s by default): use a short one (6 s) against it.
public struct KafkaConsumerConfiguration: Sendable {
    /// `bootstrap.servers`: comma-separated `host:port` list. No default.
    public var bootstrapServers: String
    /// `group.id`. No default.
    public var groupID: String
    /// `client.id`. Default `"stepline"`.
    public var clientID: String = "stepline"
    /// `auto.offset.reset`: where a partition without committed offset starts. Default
    /// `.earliest` (librdkafka's is latest): a new trigger group sees records that arrived
    /// before it first ran.
    public var autoOffsetReset: KafkaOffsetReset = .earliest
    /// `session.timeout.ms`: a member silent this long leaves the group. Default 45 s.
    public var sessionTimeout: Duration = .seconds(45)
    /// `heartbeat.interval.ms`. Default 3 s.
    public var heartbeatInterval: Duration = .seconds(3)
    /// `max.poll.interval.ms`: a member that does not poll this long leaves the group.
    /// Default 300 s.
    public var maxPollInterval: Duration = .seconds(300)
    /// `fetch.wait.max.ms`: how long the broker may hold a fetch waiting for data.
    /// Default 100 ms. On the mock cluster this is the delivery latency (see the type note).
    public var fetchWaitMax: Duration = .milliseconds(100)
    /// `fetch.min.bytes`: the broker answers once this many bytes are there. Default 1 byte.
    public var fetchMinBytes: Int = 1
    /// `queued.max.messages.kbytes`: prefetched bytes at most; this bounds memory while the
    /// caller is slow (back-pressure). Default 65,536 KiB (librdkafka's).
    ///
    /// - Note: librdkafka 2.0 stops fetching when the prefetch queue reaches this size or
    ///   `prefetchMaxRecords`, and looks again only about a second later, not when the
    ///   queue drains: a consumer slower than its fetches stalls 0.5-0.8 s each time
    ///   (measured; librdkafka 2.1 added `fetch.queue.backoff.ms` for it). Large limits make
    ///   that rare: 16 MB and 100k records cut a 1 M records/s consumer to ~180k/s.
    public var prefetchMaxKilobytes: Int = 65_536
    /// `queued.min.messages`: prefetched records at most (per partition). Default
    /// 1,000,000 records (librdkafka's is 100,000; see `prefetchMaxKilobytes`).
    public var prefetchMaxRecords: Int = 1_000_000
    /// `fetch.error.backoff.ms`: how long fetching a partition pauses after a fetch error.
    /// Default 500 ms (librdkafka's).
    public var fetchErrorBackoff: Duration = .milliseconds(500)
    /// `enable.auto.commit`: commit stored offsets in the background every
    /// `autoCommitInterval`. Default `true`. Only stored offsets are ever committed.
    public var autoCommit: Bool = true
    /// `auto.commit.interval.ms`. Default 5 s.
    public var autoCommitInterval: Duration = .seconds(5)
    /// `isolation.level`. Default `.readCommitted`.
    public var isolationLevel: KafkaIsolationLevel = .readCommitted
    /// `partition.assignment.strategy`. Default `"range,roundrobin"` (eager); set
    /// `"cooperative-sticky"` for incremental rebalances.
    public var assignmentStrategy: String = "range,roundrobin"
    /// When partitions are revoked, how long to wait for the caller to store the offsets
    /// of records already handed out from them before they are committed and released.
    /// Records not stored by then are redelivered to the next owner. Default 30 s.
    /// (Not a librdkafka property.)
    public var rebalanceDrainTimeout: Duration = .seconds(30)
    /// Read every partition this consumer is assigned from its first record, whatever
    /// offsets the group committed. For a consumer made after the cluster was replaced (a
    /// development broker that restarted empty): offsets committed there may come from the
    /// old cluster, and would skip the new one's records. Default false. (Not a librdkafka
    /// property.)
    public var startAtBeginning: Bool = false
    /// When no broker can be reached for this long, polling throws `.brokersUnreachable`.
    /// Default 60 s. (Not a librdkafka property.)
    public var brokersUnreachableTimeout: Duration = .seconds(60)
    /// Raw librdkafka properties, applied last. Default empty.
    public var properties: [String: String] = [:]
    /// Receives non-fatal errors, rebalances and broker state changes. Default none.
    public var diagnostics: KafkaDiagnosticHandler? = nil

    public init(bootstrapServers: String, groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// Settings for the reply and trigger paths, where latency matters (docs/kafka.md).
    ///
    /// On the mock cluster (the dev broker) a fetch is held for the whole
    /// `fetch.wait.max.ms`, so the wait is the delivery latency: 1 ms gives ~1.5 ms from
    /// send to poll at the median, for ~3% of a core per idle consumer; 0 ms would answer
    /// in ~0.2 ms but busy-loop fetches (~50% of a core). The mock also completes a
    /// rebalance only after about one session timeout, hence 6 s (heartbeats every 1 s).
    /// On a real broker a fetch returns as soon as `fetch.min.bytes` (1) is there, so the
    /// wait only bounds idle traffic: 100 ms, and librdkafka's session timeout (45 s).
    /// Both use `cooperative-sticky` assignment: a rebalance moves only the partitions that
    /// change owner, and their revoke comes once the group is stable, so the commit of
    /// in-flight offsets succeeds (the mock refuses commits during an eager rebalance).
    /// Every member of the group must then use it too.
    public static func lowLatency(bootstrapServers: String, groupID: String, isMockCluster: Bool) -> Self {
        var c = Self(bootstrapServers: bootstrapServers, groupID: groupID)
        c.fetchMinBytes = 1
        c.assignmentStrategy = "cooperative-sticky"
        if isMockCluster {
            c.fetchWaitMax = .milliseconds(1)
            c.sessionTimeout = .seconds(6)
            c.heartbeatInterval = .seconds(1)
        } else {
            c.fetchWaitMax = .milliseconds(100)
        }
        return c
    }

    /// Keys this layer owns: setting them through `properties` would break its contracts.
    static let reservedKeys: Set<String> = ["enable.auto.offset.store", "enable.partition.eof"]

    var librdkafkaProperties: [(String, String)] {
        var p: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID),
            ("client.id", clientID),
            ("auto.offset.reset", autoOffsetReset.propertyValue),
            ("session.timeout.ms", String(sessionTimeout.roundedUpMilliseconds)),
            ("heartbeat.interval.ms", String(heartbeatInterval.roundedUpMilliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.roundedUpMilliseconds)),
            ("fetch.wait.max.ms", String(fetchWaitMax.roundedUpMilliseconds)),
            ("fetch.min.bytes", String(fetchMinBytes)),
            ("queued.max.messages.kbytes", String(prefetchMaxKilobytes)),
            ("queued.min.messages", String(prefetchMaxRecords)),
            ("fetch.error.backoff.ms", String(fetchErrorBackoff.roundedUpMilliseconds)),
            ("enable.auto.commit", autoCommit ? "true" : "false"),
            ("auto.commit.interval.ms", String(autoCommitInterval.roundedUpMilliseconds)),
            ("isolation.level", isolationLevel.propertyValue),
            ("partition.assignment.strategy", assignmentStrategy),
            // Offsets are stored by the caller once the record's effect is durable.
            ("enable.auto.offset.store", "false"),
        ]
        p += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return p
    }
}

/// Configuration of a `KafkaAdmin` client.
public struct KafkaAdminConfiguration: Sendable {
    /// `bootstrap.servers`. No default.
    public var bootstrapServers: String
    /// `client.id`. Default `"stepline-admin"`.
    public var clientID: String = "stepline-admin"
    /// How long one admin request (including finding a broker) may take. Default 10 s.
    public var requestTimeout: Duration = .seconds(10)
    /// Raw librdkafka properties, applied last. Default empty.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    var librdkafkaProperties: [(String, String)] {
        [("bootstrap.servers", bootstrapServers), ("client.id", clientID)]
            + properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
