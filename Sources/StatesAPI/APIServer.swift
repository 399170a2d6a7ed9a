import Hummingbird
import Logging
import ServiceLifecycle
import StatesLanguage
import SteplineRuntime

/// The HTTP surface of `stepline serve`: `POST /` (the AWS API), `/healthz`, `/readyz`.
public enum APIServer {
    /// Builds the Hummingbird application (a `Service`: run it in the daemon's ServiceGroup).
    ///
    /// - Parameters:
    ///   - host/port: the listen address (`127.0.0.1:8083` by default).
    ///   - onRunning: called with the bound port once the server listens.
    public static func make(api: StepFunctionsAPI, host: String, port: Int, logger: Logger,
                            triggers: TriggerRegistry? = nil,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service
    {
        let router = Router()
        let runtime = api.services.runtime
        if let triggers {
            TriggerRoutes.register(on: router, registry: triggers, region: runtime.configuration.region, account: runtime.configuration.account)
        }
        router.get("/healthz") { _, _ -> Response in
            json(200, ["status": "alive"])
        }
        router.get("/readyz") { _, _ -> Response in
            let r = await runtime.readiness()
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
            return json(r.isReady ? 200 : 503, ["status": .string(r.isReady ? "ready" : "not ready"), "checks": .object(checks)])
        }
        router.post("/") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 2 * 1_048_576)
            let target = request.headers.first { $0.name.canonicalName == "x-amz-target" }?.value
            let reply = await api.handle(target: target, body: Array(buffer.readableBytesView))
            return json(reply.status, reply.body)
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "stepline"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        return app
    }

    static func json(_ status: Int, _ body: JSON) -> Response {
        var bytes: [UInt8] = []
        body.write(to: &bytes)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/x-amz-json-1.0"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
