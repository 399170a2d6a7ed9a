import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization
import SteplineRuntime

/// A request as the routes see it: the whole body, collected up to the server's limit.
public struct HTTPServerRequest: Sendable {
    public var method: HTTPMethod
    /// The path without the query.
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The body was longer than the server's limit (and `body` is empty).
    public var bodyTooLarge: Bool
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
public final class HTTPServer: Service, Sendable {
    public typealias Route = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

    let host: String
    let port: Int
    let maxBodyBytes: Int
    let route: Route
    let onRunning: @Sendable (Int) async -> Void
    private let connections = ConnectionSet()

    public init(host: String, port: Int, maxBodyBytes: Int,
                onRunning: @escaping @Sendable (Int) async -> Void = { _ in }, route: @escaping Route)
    {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.route = route
        self.onRunning = onRunning
    }

    public func run() async throws {
        let route = self.route, maxBody = self.maxBodyBytes, connections = self.connections
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(
                        HTTPConnectionHandler(route: route, maxBodyBytes: maxBody, connections: connections))
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

/// The open connections, so that a shutdown can close them.
private final class ConnectionSet: Sendable {
    private let state = Mutex<(quiescing: Bool, handlers: [ObjectIdentifier: NIOLoopBound<HTTPConnectionHandler>])>((false, [:]))

    /// Registers a connection; false when the server is shutting down.
    func add(_ handler: NIOLoopBound<HTTPConnectionHandler>, id: ObjectIdentifier) -> Bool {
        state.withLock { s in
            if s.quiescing { return false }
            s.handlers[id] = handler
            return true
        }
    }

    func remove(_ id: ObjectIdentifier) {
        state.withLock { _ = $0.handlers.removeValue(forKey: id) }
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

/// One connection: collects a request (head, body, end), answers it, then the next. NIO's
/// pipelining handler hands over one request at a time.
private final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let route: HTTPServer.Route
    let maxBodyBytes: Int
    let connections: ConnectionSet
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false
    private var busy = false
    private var closeWhenDone = false
    private var context: ChannelHandlerContext?

    init(route: @escaping HTTPServer.Route, maxBodyBytes: Int, connections: ConnectionSet) {
        self.route = route
        self.maxBodyBytes = maxBodyBytes
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !connections.add(NIOLoopBound(self, eventLoop: context.eventLoop), id: ObjectIdentifier(self)) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connections.remove(ObjectIdentifier(self))
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = nil
            tooLarge = false
            if h.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .continue))), promise: nil)
            }
        case .body(var part):
            guard !tooLarge else { return }
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
            let request = HTTPServerRequest(
                method: head.method, path: path, query: query, headers: head.headers, body: bytes, bodyTooLarge: tooLarge)
            busy = true
            let keepAlive = head.isKeepAlive, version = head.version
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
        let text = SDKResults.httpDate(milliseconds: second * 1000)
        cache.withLock { $0 = (second, text) }
        return text
    }
}
