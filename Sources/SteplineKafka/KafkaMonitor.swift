import ControlPlane
import KafkaClient
import Logging
import ServiceLifecycle
import Synchronization

/// Kafka's health as `/readyz` reports it, kept up to date in the background.
///
/// A probe (a metadata request) runs every `interval`; `/readyz` reads the last answer and
/// never waits for the cluster, so it answers at once during an outage. The consumers add
/// what they see (`report`): a consumer whose polls fail makes Kafka not ready even while
/// metadata still answers. The probe also learns the cluster's id: a new id means another
/// cluster, without the records the old one held (a development broker that restarted).
public final class KafkaMonitor: KafkaHealthProbe, Service {
    private struct State {
        var probe: KafkaHealth = .unreachable("not checked yet")
        /// Problems the consumers report, by consumer.
        var problems: [String: String] = [:]
        var clusterID: String?
        /// When the last probe that answered was sent.
        var answeredAt: ContinuousClock.Instant?
    }

    private let admin: KafkaAdmin
    private let bootstrapServers: String
    private let interval: Duration
    private let state = Mutex(State())
    private let logger: Logger
    private let clusters: AsyncStream<ClusterSighting>.Continuation
    /// The cluster ids the probes see: the first one (`previous` nil), then each change.
    public let clusterSightings: AsyncStream<ClusterSighting>

    public struct ClusterSighting: Sendable {
        public var previous: String?
        public var current: String
    }

    private let brokersDownSince: @Sendable () -> ContinuousClock.Instant?

    /// - Parameter brokersDownSince: since when a client that talks to the brokers all the
    ///   time (the producer) has lost every broker connection: a loss newer than the last
    ///   probe's answer makes Kafka unreachable at once, without waiting for the next probe.
    public init(admin: KafkaAdmin, bootstrapServers: String, interval: Duration = .seconds(2), logger: Logger,
                brokersDownSince: @escaping @Sendable () -> ContinuousClock.Instant? = { nil })
    {
        self.brokersDownSince = brokersDownSince
        self.admin = admin
        self.bootstrapServers = bootstrapServers
        self.interval = interval
        self.logger = logger
        (clusterSightings, clusters) = AsyncStream.makeStream(of: ClusterSighting.self, bufferingPolicy: .unbounded)
    }

    public func check() async -> KafkaHealth { current }

    /// The health now: the probe's last answer, or the first problem a consumer reports.
    public var current: KafkaHealth {
        let downSince = brokersDownSince()
        return state.withLock { s in
            if case .unreachable = s.probe { return s.probe }
            if let downSince, s.answeredAt.map({ $0 < downSince }) ?? true {
                return .unreachable("every connection to the brokers at \(bootstrapServers) is down (for \(downSince.duration(to: .now)))")
            }
            if let (who, problem) = s.problems.min(by: { $0.key < $1.key }) { return .unreachable("\(who): \(problem)") }
            return s.probe
        }
    }

    /// A consumer's view: `problem` nil once it polls again without error.
    public func report(_ consumer: String, problem: String?) {
        state.withLock { $0.problems[consumer] = problem }
    }

    /// Probes once and records the answer.
    public func probe() async {
        let health: KafkaHealth
        var clusterID: String?
        // A probe sent before the brokers went down may answer after: its answer is as old as its start.
        let started = ContinuousClock.now
        do {
            let m = try await admin.metadata()
            clusterID = m.clusterID
            health = m.brokers.isEmpty
                ? .unreachable("no broker in the metadata of \(bootstrapServers)")
                : .reachable("\(m.brokers.count) broker(s) at \(bootstrapServers)")
        } catch {
            health = .unreachable("\(bootstrapServers): \(error.message)")
        }
        let (was, previousID) = state.withLock { s in
            defer {
                s.probe = health
                if let clusterID { s.clusterID = clusterID }
                if case .reachable = health { s.answeredAt = started }
            }
            return (s.probe, s.clusterID)
        }
        switch (was, health) {
        case (.reachable, .unreachable(let why)): logger.warning("Kafka is unreachable; waiting for it", metadata: ["reason": "\(why)"])
        case (.unreachable, .reachable(let what)) where !Self.isInitial(was): logger.notice("Kafka is reachable again", metadata: ["brokers": "\(what)"])
        default: break
        }
        if let clusterID, clusterID != previousID {
            clusters.yield(ClusterSighting(previous: previousID, current: clusterID))
        }
    }

    private static func isInitial(_ h: KafkaHealth) -> Bool {
        if case .unreachable("not checked yet") = h { return true }
        return false
    }

    /// Probes every `interval` until shutdown.
    public func run() async throws {
        defer { clusters.finish() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await probe()
            try? await Task.sleep(for: interval)
        }
    }
}
