import Metrics
import Synchronization

/// API request metrics: `stepline_api_requests_total{action, status}` and
/// `stepline_api_request_duration_seconds{action}` (swift-metrics; exported in Prometheus
/// text format on `/metrics` when the daemon bootstraps the Prometheus factory).
///
/// Every handle is made once: per action at start, per (action, status) on first use. A
/// request costs one dictionary lookup, one short lock and the metric updates: creating a
/// swift-metrics handle goes through the factory's registry lock and its label lookup.
final class APIMetrics: Sendable {
    private final class Action: Sendable {
        let name: String
        let duration: Metrics.Timer
        /// Counters by status (a handful: 200, 400, 413, 500, 503).
        let requests = Mutex<[Int: Counter]>([:])

        init(_ name: String) {
            self.name = name
            duration = Metrics.Timer(label: "stepline_api_request_duration_seconds", dimensions: [("action", name)])
        }

        func counter(_ status: Int) -> Counter {
            requests.withLock { m in
                if let c = m[status] { return c }
                let c = Counter(label: "stepline_api_requests_total", dimensions: [("action", name), ("status", String(status))])
                m[status] = c
                return c
            }
        }
    }

    private let actions: [String: Action]

    init(actions: [String]) {
        var a: [String: Action] = [:]
        for name in actions { a[name] = Action(name) }
        self.actions = a
    }

    func record(action: String, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        guard let a = actions[action] else { return }
        let (s, attoseconds) = elapsed.components
        a.duration.recordNanoseconds(s * 1_000_000_000 + attoseconds / 1_000_000_000)
        a.counter(status).increment()
    }
}
