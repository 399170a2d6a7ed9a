import KafkaClient
import Synchronization

/// `/readyz`'s Kafka probe: a metadata request through an admin client, its answer kept for
/// a few seconds so that frequent probes do not load the cluster.
public final class KafkaHealthCheck: KafkaHealthProbe {
    private let admin: KafkaAdmin
    private let bootstrapServers: String
    private let clock: any RuntimeClock
    private let cached = Mutex<(at: Int64, health: KafkaHealth)?>(nil)
    /// How long an answer is reused, in milliseconds.
    private let maxAgeMilliseconds: Int64

    public init(admin: KafkaAdmin, bootstrapServers: String, clock: any RuntimeClock = SystemClock(), maxAgeMilliseconds: Int64 = 2_000) {
        self.admin = admin
        self.bootstrapServers = bootstrapServers
        self.clock = clock
        self.maxAgeMilliseconds = maxAgeMilliseconds
    }

    public func check() async -> KafkaHealth {
        let now = clock.now()
        if let c = cached.withLock({ $0 }), now - c.at < maxAgeMilliseconds { return c.health }
        let health: KafkaHealth
        do {
            let m = try await admin.metadata()
            health = m.brokers.isEmpty
                ? .unreachable("no broker in the metadata of \(bootstrapServers)")
                : .reachable("\(m.brokers.count) broker(s) at \(bootstrapServers)")
        } catch {
            health = .unreachable("\(bootstrapServers): \(error)")
        }
        cached.withLock { $0 = (clock.now(), health) }
        return health
    }
}
