import Hummingbird
import Logging
import HTTPTypes
import Prometheus
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
                            metrics: PrometheusCollectorRegistry? = nil,
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
        router.get("/metrics") { _, _ -> Response in
            let text = metrics?.emitToBuffer() ?? Array("# metrics are not enabled\n".utf8)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.post("/") { request, _ -> Response in
            let target = request.headers[.xAmzTarget]
            let contentType = request.headers[.contentType]
            // One byte past the quota is enough to know the body is too large.
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: StepFunctionsAPI.maxBodyBytes + 1)
            } catch {
                let r = StepFunctionsAPI.Reply(status: 413, body: [
                    "__type": "RequestEntityTooLargeException",
                    "message": .string("Request body exceeds the maximum of \(StepFunctionsAPI.maxBodyBytes) bytes"),
                ])
                return json(r.status, r.body)
            }
            let reply = await api.handle(target: target, contentType: contentType, body: Array(buffer.readableBytesView))
            return json(reply.status, reply.body, contentType: reply.contentType)
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "stepline"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
        return app
    }

    static func json(_ status: Int, _ body: JSON, contentType: String = "application/x-amz-json-1.0") -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        body.write(to: &bytes)
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPTypes.HTTPField.Name {
    static let xAmzTarget = HTTPTypes.HTTPField.Name("X-Amz-Target")!
}
