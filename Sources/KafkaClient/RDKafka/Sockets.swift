#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal blocking TCP over loopback for the dev broker: the fixed-port forwarder and the
/// control channel. Each connection gets threads of its own; traffic is tiny (bootstrap
/// metadata, control lines).
enum LoopbackSocket {
    /// Opens a listening socket on 127.0.0.1:`port` (0: any free port).
    /// Returns the descriptor and the bound port.
    static func listen(port: UInt16) throws(KafkaError) -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw KafkaError(.mockCluster, "socket() failed: \(errnoText())") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        // `address` is a stack value read during the call only.
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, Glibc.listen(fd, 64) == 0 else {
            let text = errnoText()
            close(fd)
            throw KafkaError(.mockCluster, "cannot listen on 127.0.0.1:\(port): \(text)")
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: bound.sin_port))
    }

    /// Connects to `host:port` (IPv4 literal). Returns the descriptor or nil.
    static func connect(host: String, port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = loopback(port: port)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            return nil
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(fd)
            return nil
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func accept(_ listener: Int32) -> Int32? {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Reads up to `count` bytes; nil on EOF or error.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return n }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Writes all bytes; false on error.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    static func shutdownBoth(_ fd: Int32) { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return a
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Forwards connections from a fixed loopback port to the first reachable of some
/// upstream addresses: a stable bootstrap address in front of the mock brokers' ephemeral
/// ports. Clients then follow the brokers' advertised addresses from metadata.
final class TCPForwarder: @unchecked Sendable {
    // @unchecked Sendable: `connections` and `isStopped` are guarded by `lock`.
    let port: UInt16
    private let listener: Int32
    private let upstreams: [(host: String, port: UInt16)]
    private let lock = ConditionLock()
    private var connections: Set<Int32> = []
    private var isStopped = false

    init(port: UInt16, upstreams: [(host: String, port: UInt16)]) throws(KafkaError) {
        (listener, self.port) = try LoopbackSocket.listen(port: port)
        self.upstreams = upstreams
        startThread(name: "kafka-forwarder") { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while let client = LoopbackSocket.accept(listener) {
            // The first upstream that accepts: a broker that is down is skipped.
            guard let server = upstreams.lazy.compactMap({ LoopbackSocket.connect(host: $0.host, port: $0.port) }).first else {
                LoopbackSocket.close(client)
                continue
            }
            let accepted = lock.withLock { () -> Bool in
                if isStopped { return false }
                connections.formUnion([client, server])
                return true
            }
            guard accepted else {
                LoopbackSocket.close(client)
                LoopbackSocket.close(server)
                return
            }
            startThread(name: "kafka-fwd-up") { [self] in pump(from: client, to: server) }
            startThread(name: "kafka-fwd-down") { [self] in pump(from: server, to: client) }
        }
    }

    private func pump(from source: Int32, to sink: Int32) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        while let n = LoopbackSocket.read(source, into: buffer),
            LoopbackSocket.writeAll(sink, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        {}
        // Either side ended: end both directions; the last pump to finish closes.
        LoopbackSocket.shutdownBoth(source)
        LoopbackSocket.shutdownBoth(sink)
        lock.withLock {
            if connections.remove(source) != nil, !connections.contains(sink) { LoopbackSocket.close(source); LoopbackSocket.close(sink) }
        }
    }

    func stop() {
        let open = lock.withLock { () -> Set<Int32> in
            isStopped = true
            return connections
        }
        LoopbackSocket.shutdownBoth(listener)
        LoopbackSocket.close(listener)
        for fd in open { LoopbackSocket.shutdownBoth(fd) }
    }
}

/// Serves a line protocol on a loopback port: each line is handed to `handle`, whose
/// answer is written back as one line.
final class LineServer: @unchecked Sendable {
    // @unchecked Sendable: `listener` and `port` are immutable; `handle` is Sendable.
    let port: UInt16
    private let listener: Int32
    private let handle: @Sendable (String) -> String

    init(port: UInt16, handle: @escaping @Sendable (String) -> String) throws(KafkaError) {
        (listener, self.port) = try LoopbackSocket.listen(port: port)
        self.handle = handle
        startThread(name: "kafka-control") { [self] in
            while let fd = LoopbackSocket.accept(listener) {
                startThread(name: "kafka-control-c") { [self] in serve(fd) }
            }
        }
    }

    private func serve(_ fd: Int32) {
        defer { LoopbackSocket.close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        var pending: [UInt8] = []
        while let n = LoopbackSocket.read(fd, into: buffer) {
            pending += buffer[0..<n]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let reply = Array((handle(line) + "\n").utf8)
                guard reply.withUnsafeBytes({ LoopbackSocket.writeAll(fd, $0) }) else { return }
            }
        }
    }

    func stop() {
        LoopbackSocket.shutdownBoth(listener)
        LoopbackSocket.close(listener)
    }
}
