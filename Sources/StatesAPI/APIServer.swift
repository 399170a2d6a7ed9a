import ControlPlane
import NIOSSL
import Prometheus
import ServiceLifecycle
import StatesLanguage

/// The HTTP surface of `stepline serve`: `POST /` (the AWS API), `/healthz`, `/readyz`.
public enum APIServer {
    /// Builds the HTTP server (a `Service`: run it in the daemon's ServiceGroup).
    ///
    /// `GET /healthz` is answered on the connection's event loop, so that it answers while
    /// every other thread is busy. Past `limits.maxConnections`, a new connection may still
    /// ask `/healthz` and `/readyz` (which then says not ready); other requests on it get
    /// 503 `ServiceUnavailable` and the connection closes.
    ///
    /// - Parameters:
    ///   - host/port: the listen address (`127.0.0.1:8083` by default).
    ///   - limits: the HTTP server's timeouts and connection limit (`api:` in the configuration).
    ///   - health: what `/healthz` and `/readyz` report.
    ///   - triggers: the `/triggers` API, if the daemon has triggers.
    ///   - onRunning: called with the bound port once the server listens.
    public static func make(api: StepFunctionsAPI, host: String, port: Int, limits: HTTPServer.Limits = .init(),
                            health: any DaemonHealth, triggers: (any TriggerControl)? = nil,
                            metrics: PrometheusCollectorRegistry? = nil, tls: NIOSSLContext? = nil,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> HTTPServer
    {
        let triggerRoutes = triggers.map { TriggerRoutes(triggers: $0) }
        let connections = ConnectionSet(limits: limits)
        let evaluations = api.evaluations
        // Bodies past the quota are not kept: one byte past it is enough to say 413.
        return HTTPServer(
            host: host, port: port, maxBodyBytes: StepFunctionsAPI.maxBodyBytes, connections: connections, tls: tls,
            immediate: { request in
                guard request.method == .GET, request.path == "/healthz" else { return nil }
                if let problem = health.liveness() { return json(503, ["status": .string(problem)]) }
                return json(200, ["status": "alive"])
            },
            overLimit: { request in
                if request.method == .GET, request.path == "/healthz" || request.path == "/readyz" { return nil }
                return json(503, [
                    "__type": "ServiceUnavailable",
                    "message": .string("Too many connections: the server is at its limit of \(limits.maxConnections)"),
                ])
            },
            onRunning: onRunning
        ) { request in
            // Every request but the health checks and the metrics is signed when
            // authentication is on; the caller's policies are checked per action.
            let caller: Caller?
            if let access = api.access, !(request.method == .GET && (request.path == "/readyz" || request.path == "/metrics")) {
                switch access.authenticate(request) {
                case .success(let c): caller = c
                case .failure(let e): return json(e.status, ["__type": .string(e.code.rawValue), "message": .string(e.message)])
                }
            } else {
                caller = nil
            }
            switch (request.method, request.path) {
            case (.POST, "/"):
                if request.bodyTooLarge {
                    return json(413, [
                        "__type": "RequestEntityTooLargeException",
                        "message": .string("Request body exceeds the maximum of \(StepFunctionsAPI.maxBodyBytes) bytes"),
                    ])
                }
                let reply = await api.handle(
                    target: request.headers.first(name: "X-Amz-Target"), contentType: request.headers.first(name: "Content-Type"),
                    body: request.body, caller: caller)
                return json(reply.status, reply.body, contentType: reply.contentType)
            case (.GET, "/readyz"):
                let r = await health.readiness()
                var checks: JSONObject = [
                    "store": .string(r.storeOpen ? (r.storeWritable ? "ok" : "not writable") : "closed"),
                    "recovery": .string(r.recovered ? "done" : "in progress"),
                ]
                switch r.kafka {
                case .notConfigured: checks["kafka"] = "not configured"
                case .reachable(let m): checks["kafka"] = .string("reachable: \(m)")
                case .unreachable(let m): checks["kafka"] = .string("unreachable: \(m)")
                }
                if r.shuttingDown { checks["shutdown"] = "in progress" }
                // At the connection limit the server takes no more clients: a load balancer
                // should send them elsewhere.
                let full = connections.isAtLimit
                checks["connections"] = .string(full ? "at the limit of \(limits.maxConnections)" : "ok")
                let ready = r.isReady && !full
                return json(ready ? 200 : 503, ["status": .string(ready ? "ready" : "not ready"), "checks": .object(checks)])
            case (.GET, "/metrics"):
                let text = metrics?.emitToBuffer() ?? Array("# metrics are not enabled\n".utf8)
                return HTTPServerResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
            default:
                if let triggerRoutes, request.path == "/triggers" || request.path.hasPrefix("/triggers/") {
                    // Patterns compile and transformers run here: off the other requests' threads.
                    do {
                        if let answer = try await evaluations.run({ triggerRoutes.answer(request, caller: caller, access: api.access) }) {
                            return answer
                        }
                    } catch {
                        let e = error as? ServiceError ?? ServiceError.internalError("\(error)")
                        let reply = StepFunctionsAPI.error(e)
                        return json(reply.status, reply.body)
                    }
                }
                return json(404, ["__type": "UnknownOperationException", "message": .string("No route for \(request.method) \(request.path)")])
            }
        }
    }

    static func json(_ status: Int, _ body: JSON, contentType: String = "application/x-amz-json-1.0") -> HTTPServerResponse {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        body.write(to: &bytes)
        return HTTPServerResponse(status: status, contentType: contentType, body: bytes)
    }
}
