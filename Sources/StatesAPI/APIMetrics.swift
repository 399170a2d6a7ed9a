import Metrics
import Synchronization

/// API request metrics: `stepline_api_requests_total{action, status}` and
/// `stepline_api_request_duration_seconds{action}` (swift-metrics; exported in Prometheus
/// text format on `/metrics` when the daemon bootstraps the Prometheus factory).
final class APIMetrics: Sendable {
    private let timers: [String: Metrics.Timer]
    private let counters = Mutex<[String: Counter]>([:])

    init(actions: [String]) {
        var t: [String: Metrics.Timer] = [:]
        for a in actions {
            t[a] = Metrics.Timer(label: "stepline_api_request_duration_seconds", dimensions: [("action", a)])
        }
        timers = t
    }

    func record(action: String, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (s, a) = elapsed.components
        timers[action]?.recordNanoseconds(s * 1_000_000_000 + a / 1_000_000_000)
        let key = "\(action) \(status)"
        let counter = counters.withLock { m in
            if let c = m[key] { return c }
            let c = Counter(label: "stepline_api_requests_total", dimensions: [("action", action), ("status", String(status))])
            m[key] = c
            return c
        }
        counter.increment()
    }
}
