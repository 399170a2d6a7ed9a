import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import StatesLanguage
import Synchronization

/// A request as the routes see it: the whole body, collected up to the server's limit.
public struct HTTPServerRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query, as sent (percent-encoded).
    public var path: String
    public var query: [String: String]
    /// The query as sent (what SigV4 signs).
    public var rawQuery: String = ""
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The body was longer than the server's limit (and `body` is empty).
    public var bodyTooLarge: Bool
}

extension HTTPServer {
    /// Why `api.tls` cannot be served: which file, and what is wrong with it.
    public struct TLSFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A server context from a PEM certificate chain and private key.
    public static func tlsContext(certificatePath: String, privateKeyPath: String) throws(TLSFailure) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw TLSFailure(description: "api.tls.certificate: cannot read a PEM certificate from \(certificatePath): \(error)")
        }
        guard !chain.isEmpty else { throw TLSFailure(description: "api.tls.certificate: \(certificatePath) holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            // Not the key's text: only where it is and that it could not be read.
            throw TLSFailure(description: "api.tls.privateKey: cannot read a PEM private key from \(privateKeyPath)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFailure(description: "api.tls: the certificate and the private key do not make a TLS context (do they belong together?): \(error)")
        }
    }
}

/// An answer: status, media type and body bytes.
public struct HTTPServerResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// The daemon's HTTP/1.1 server: NIO's HTTP codec and one channel handler that collects a
/// request, runs the route in a task and writes the answer.
///
/// It replaces Hummingbird for one reason, measured (docs/api.md): an EXPRESS
/// StartExecution cost about 100 µs of CPU, of which Hummingbird's async channel (an inbound
/// stream and an outbound writer per connection, each a hand-off between threads), its
/// request and response types and their conversions were a third. Here a request is one
/// task on Swift's pool, and its answer one `execute` back on the connection's event loop.
///
/// No client holds a connection for ever (`Limits`): the request line and headers must
/// arrive within the header timeout, the body within the body timeout, and a connection
/// with no request open is closed after the idle timeout. Past `maxConnections`, a new
/// connection may still ask what `overLimit` lets through (the health checks); anything
/// else is answered by `overLimit` and the connection closed.
public final class HTTPServer: Service, Sendable {
    public typealias Route = @Sendable (HTTPServerRequest) async -> HTTPServerResponse
    /// Answered on the connection's event loop, without a task, when it returns an answer:
    /// for liveness, which must not wait for busy threads.
    public typealias ImmediateRoute = @Sendable (HTTPServerRequest) -> HTTPServerResponse?

    /// Timeouts and the connection limit.
    public struct Limits: Sendable, Equatable {
        /// From a connection's start, or the first byte of a request after an answer, until
        /// its request line and headers are in. Past it the connection is closed (after an
        /// answer, at the latest when the idle timeout would have closed it).
        public var headerTimeout: Duration = .seconds(10)
        /// From a request's headers until the end of its body. Past it the request is
        /// answered 408 and the connection closed.
        public var bodyTimeout: Duration = .seconds(60)
        /// A keep-alive connection with no request in it is closed after this.
        public var idleTimeout: Duration = .seconds(60)
        /// Open connections; one past it is served only as `overLimit` says.
        public var maxConnections = 4096
        /// Connections past `maxConnections` that are read at all (for a health check),
        /// each for at most `overLimitHeaderTimeout`; further ones are closed at once.
        public var overLimitConnections = 64
        public var overLimitHeaderTimeout: Duration = .seconds(2)

        public init() {}
    }

    let host: String
    let port: Int
    let maxBodyBytes: Int
    let route: Route
    let immediate: ImmediateRoute
    let overLimit: ImmediateRoute
    let onRunning: @Sendable (Int) async -> Void
    /// HTTPS when set (`api.tls`).
    let tls: NIOSSLContext?
    /// The open connections (what `/readyz` and the limit read).
    public let connections: ConnectionSet

    /// - Parameters:
    ///   - connections: the open connections and their limits (`ConnectionSet(limits:)`).
    ///   - immediate: answers a request on the event loop when it returns non-nil.
    ///   - overLimit: for a request on a connection past `limits.maxConnections`: the
    ///     answer (the connection closes after it), or nil to route the request as usual.
    ///   - tls: serve HTTPS with this context (`HTTPServer.tlsContext`).
    public init(host: String, port: Int, maxBodyBytes: Int, connections: ConnectionSet = ConnectionSet(limits: Limits()), tls: NIOSSLContext? = nil,
                immediate: @escaping ImmediateRoute = { _ in nil },
                overLimit: @escaping ImmediateRoute = { _ in HTTPServerResponse(status: 503, contentType: "text/plain", body: Array("too many connections\n".utf8)) },
                onRunning: @escaping @Sendable (Int) async -> Void = { _ in }, route: @escaping Route)
    {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.route = route
        self.immediate = immediate
        self.overLimit = overLimit
        self.onRunning = onRunning
        self.connections = connections
        self.tls = tls
    }

    public func run() async throws {
        let route = self.route, immediate = self.immediate, overLimit = self.overLimit, tls = self.tls
        let maxBody = self.maxBodyBytes, connections = self.connections, limits = self.connections.limits
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    // TLS first: the handshake counts in the header timeout, as the head does.
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    let handler = HTTPConnectionHandler(
                        route: route, immediate: immediate, overLimit: overLimit, maxBodyBytes: maxBody, limits: limits,
                        connections: connections)
                    try child.pipeline.syncOperations.addHandler(RequestStartObserver(connection: handler))
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: host, port: port).get()
        await onRunning(channel.localAddress?.port ?? port)
        // A future's wait ignores task cancellation: closing the channel is what ends it,
        // at graceful shutdown and when the daemon is cancelled (another service failed).
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await channel.closeFuture.get()
            } onGracefulShutdown: {
                // Stop accepting; idle connections close now, busy ones after their answer.
                channel.close(promise: nil)
                connections.quiesce()
            }
        } onCancel: {
            channel.close(promise: nil)
            connections.quiesce()
        }
    }
}

/// The open connections: their count against the limit, and the handlers, so that a
/// shutdown can close them.
public final class ConnectionSet: Sendable {
    /// How a new connection is served.
    enum Admission { case normal, overLimit, refused }

    private struct State {
        var quiescing = false
        var handlers: [ObjectIdentifier: NIOLoopBound<HTTPConnectionHandler>] = [:]
        var overLimit = 0
    }

    public let limits: HTTPServer.Limits
    private let state = Mutex(State())

    public init(limits: HTTPServer.Limits) { self.limits = limits }

    /// Open connections, those past the limit included.
    public var count: Int { state.withLock { $0.handlers.count } }
    /// The connections are at `maxConnections`: a new one is served only as `overLimit` says.
    public var isAtLimit: Bool { state.withLock { $0.handlers.count - $0.overLimit >= limits.maxConnections } }
    public var maxConnections: Int { limits.maxConnections }

    /// Registers a connection: refused when the server is shutting down or past both limits.
    fileprivate func add(_ handler: NIOLoopBound<HTTPConnectionHandler>, id: ObjectIdentifier) -> Admission {
        state.withLock { s in
            if s.quiescing { return .refused }
            let admission: Admission
            if s.handlers.count - s.overLimit < limits.maxConnections {
                admission = .normal
            } else if s.overLimit < limits.overLimitConnections {
                admission = .overLimit
                s.overLimit += 1
            } else {
                return .refused
            }
            s.handlers[id] = handler
            return admission
        }
    }

    func remove(_ id: ObjectIdentifier, overLimit: Bool) {
        state.withLock { s in
            if s.handlers.removeValue(forKey: id) != nil, overLimit { s.overLimit -= 1 }
        }
    }

    func quiesce() {
        let all = state.withLock { s in
            s.quiescing = true
            return Array(s.handlers.values)
        }
        for h in all {
            h.eventLoop.execute { h.value.quiesce() }
        }
    }
}

/// Sits before the HTTP decoder: tells the connection when the first byte of a request
/// arrives, which starts the header timeout of a kept-alive connection.
private final class RequestStartObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    // Both handlers live on the connection's event loop, in one pipeline.
    weak var connection: HTTPConnectionHandler?

    init(connection: HTTPConnectionHandler) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection?.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// One connection: collects a request (head, body, end), answers it, then the next. NIO's
/// pipelining handler hands over one request at a time.
private final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the connection is; each phase but `busy` has its deadline.
    private enum Phase { case waitingForHead, receivingBody, busy, idle }

    let route: HTTPServer.Route
    let immediate: HTTPServer.ImmediateRoute
    let overLimit: HTTPServer.ImmediateRoute
    let maxBodyBytes: Int
    let limits: HTTPServer.Limits
    let connections: ConnectionSet
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var busy = false
    private var closeWhenDone = false
    private var isOverLimit = false
    private var context: ChannelHandlerContext?
    private var phase = Phase.waitingForHead
    /// When the current phase ends (nil while busy).
    private var deadline: NIODeadline?
    /// The pending timer and when it fires.
    private var timer: Scheduled<Void>?
    private var timerAt: NIODeadline?

    init(route: @escaping HTTPServer.Route, immediate: @escaping HTTPServer.ImmediateRoute,
         overLimit: @escaping HTTPServer.ImmediateRoute, maxBodyBytes: Int, limits: HTTPServer.Limits, connections: ConnectionSet)
    {
        self.route = route
        self.immediate = immediate
        self.overLimit = overLimit
        self.maxBodyBytes = maxBodyBytes
        self.limits = limits
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        switch connections.add(NIOLoopBound(self, eventLoop: context.eventLoop), id: ObjectIdentifier(self)) {
        case .refused:
            context.close(promise: nil)
            return
        case .overLimit:
            isOverLimit = true
            closeWhenDone = true
        case .normal:
            break
        }
        enter(.waitingForHead)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        connections.remove(ObjectIdentifier(self), overLimit: isOverLimit)
        self.context = nil
    }

    /// Moves to `phase` and sets its deadline.
    ///
    /// One timer per connection, never cancelled while the connection lives: NIO finds a
    /// cancelled task by searching all of the loop's timers, which per request and with
    /// thousands of connections would cost more than the request. So a new deadline does not
    /// move the pending timer: when it fires, it closes the connection if the deadline of
    /// the phase then is past, and otherwise waits again until that deadline. A deadline
    /// that comes sooner than the pending timer (the head of a kept-alive connection's next
    /// request) is therefore enforced at the latest when that timer fires, within the idle
    /// timeout.
    private func enter(_ phase: Phase) {
        self.phase = phase
        let timeout: Duration
        switch phase {
        case .waitingForHead: timeout = isOverLimit ? min(limits.headerTimeout, limits.overLimitHeaderTimeout) : limits.headerTimeout
        case .receivingBody: timeout = limits.bodyTimeout
        case .idle: timeout = limits.idleTimeout
        case .busy:
            deadline = nil
            return
        }
        let at = NIODeadline.now() + TimeAmount(timeout)
        deadline = at
        if timerAt == nil { arm(at) }
    }

    private func arm(_ at: NIODeadline) {
        guard let context else { return }
        timerAt = at
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: at) { [self] in
            timer = nil
            timerAt = nil
            guard let deadline else { return }  // busy: the next phase arms it again
            if deadline <= .now() { timedOut() } else { arm(deadline) }
        }
    }

    private func timedOut() {
        guard let context else { return }
        switch phase {
        case .receivingBody:
            // The request is half in: say why it ends, then close.
            guard let head else { return context.close(promise: nil) }
            self.head = nil
            body = nil
            busy = true
            closeWhenDone = true
            enter(.busy)
            answer(HTTPServerResponse(status: 408, contentType: "text/plain", body: Array("request body timeout\n".utf8)),
                   version: head.version, keepAlive: false)
        case .waitingForHead, .idle:
            context.close(promise: nil)
        case .busy:
            break
        }
    }

    /// The first bytes of the next request on a kept-alive connection.
    func bytesArrived() {
        if phase == .idle { enter(.waitingForHead) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            tooLarge = false
            enter(.receivingBody)
            if h.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
            }
        case .body(var part):
            guard !tooLarge, head != nil else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > maxBodyBytes {
                tooLarge = true
                body = nil
            } else if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            body = nil
            let (path, query) = Self.split(head.uri)
            let rawQuery = head.uri.firstIndex(of: "?").map { String(head.uri[head.uri.index(after: $0)...]) } ?? ""
            let request = HTTPServerRequest(
                method: head.method, path: path, query: query, rawQuery: rawQuery, headers: head.headers, body: bytes, bodyTooLarge: tooLarge)
            busy = true
            enter(.busy)
            let keepAlive = head.isKeepAlive, version = head.version
            if isOverLimit, let refusal = overLimit(request) {
                return answer(refusal, version: version, keepAlive: false)
            }
            if let now = immediate(request) {
                return answer(now, version: version, keepAlive: keepAlive)
            }
            let route = self.route
            let loop = context.eventLoop
            let bound = NIOLoopBound(self, eventLoop: loop)
            Task {
                let response = await route(request)
                loop.execute { bound.value.answer(response, version: version, keepAlive: keepAlive) }
            }
        }
    }

    private func answer(_ response: HTTPServerResponse, version: HTTPVersion, keepAlive: Bool) {
        busy = false
        guard let context else { return }
        let keep = keepAlive && !closeWhenDone
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Date", value: HTTPDate.now())
        if !keep { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keep {
            enter(.idle)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        }
    }

    /// Shutdown: an idle connection closes now, a busy one after its answer.
    func quiesce() {
        closeWhenDone = true
        if !busy, head == nil { context?.close(promise: nil) }
    }

    static func split(_ uri: String) -> (String, [String: String]) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: q)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            query[key] = value
        }
        return (String(uri[..<q]), query)
    }
}

/// The `Date` header's text (RFC 9110 IMF-fixdate), made once per second.
enum HTTPDate {
    private static let cache = Mutex<(second: Int64, text: String)>((-1, ""))

    static func now() -> String {
        let second = Int64(Date().timeIntervalSince1970)
        if let hit = cache.withLock({ $0.second == second ? $0.text : nil }) { return hit }
        let text = Timestamp.httpDate(milliseconds: second * 1000)
        cache.withLock { $0 = (second, text) }
        return text
    }
}
