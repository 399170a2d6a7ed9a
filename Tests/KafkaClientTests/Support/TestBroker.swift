import Foundation
import KafkaClient

/// A dev broker for one test: a `stepline broker` process (controlled over its TCP control
/// port) or an in-process `KafkaMockCluster`.
final class TestBroker: Sendable {
    let bootstrapServers: String
    private let process: ChildProcess?
    private let controlPort: UInt16?
    let cluster: KafkaMockCluster?

    static func start(_ backend: Backend, brokers: Int = 1, topics: [KafkaTopicSpecification] = []) async throws -> TestBroker {
        switch backend {
        case .embedded:
            let cluster = try KafkaMockCluster(brokers: brokers, topics: topics)
            return TestBroker(bootstrapServers: cluster.bootstrapServers, process: nil, controlPort: nil, cluster: cluster)
        case .process:
            var args = ["broker", "--brokers", String(brokers), "--control", "0"]
            if !topics.isEmpty { args += ["--topics", topics.map { "\($0.name):\($0.partitions)" }.joined(separator: ",")] }
            let process = try ChildProcess(try TestEnvironment.steplinePath, args, name: "stepline broker")
            let bootstrap = try await process.line(0)
            let control = try await process.line(1)
            guard control.hasPrefix("control 127.0.0.1:"), let port = UInt16(control.dropFirst("control 127.0.0.1:".count)) else {
                throw TestFailure("unexpected second line from stepline broker: \(control)")
            }
            return TestBroker(bootstrapServers: bootstrap, process: process, controlPort: port, cluster: nil)
        }
    }

    private init(bootstrapServers: String, process: ChildProcess?, controlPort: UInt16?, cluster: KafkaMockCluster?) {
        self.bootstrapServers = bootstrapServers
        self.process = process
        self.controlPort = controlPort
        self.cluster = cluster
    }

    /// Sends one control command; returns the reply line.
    func control(_ command: String) async throws -> String {
        if let cluster { return cluster.execute(command) }
        let port = controlPort!
        return try await Task.detached {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { throw TestFailure("cannot connect to control port \(port)") }
            let line = Array((command + "\n").utf8)
            _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var reply: [UInt8] = []
            var byte: UInt8 = 0
            while recv(fd, &byte, 1, 0) == 1, byte != UInt8(ascii: "\n") { reply.append(byte) }
            return String(decoding: reply, as: UTF8.self)
        }.value
    }

    /// Sends a command that must succeed.
    func mustControl(_ command: String) async throws {
        let reply = try await control(command)
        guard reply.hasPrefix("ok") else { throw TestFailure("control '\(command)' failed: \(reply)") }
    }

    /// Stops the broker; for a process, by SIGTERM, and checks that it exits cleanly.
    func stop() async throws {
        if let cluster { await cluster.shutdown() }
        if let process {
            process.terminate()
            let status = try await process.waitForExit(timeout: .seconds(15))
            guard status == 0 else { throw TestFailure("stepline broker exited with \(status) on SIGTERM; stderr: \(process.stderr)") }
        }
    }
}

extension KafkaRecord {
    var valueString: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
    var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

/// Consumes until `count` records arrived or `timeout`; stores and commits as it goes.
func consume(
    _ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30), store: Bool = true
) async throws -> [KafkaRecord] {
    var records: [KafkaRecord] = []
    let deadline = ContinuousClock.now + timeout
    while records.count < count && ContinuousClock.now < deadline {
        let batch = try await consumer.poll(maxRecords: count - records.count, timeout: .milliseconds(200))
        records += batch
        if store { try consumer.storeOffsets(for: batch) }
    }
    return records
}

func makeConsumerConfiguration(_ bootstrap: String, group: String) -> KafkaConsumerConfiguration {
    var c = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: group)
    // Short fetch waits: the mock cluster holds a fetch for the whole wait. Short session
    // timeouts: it completes a rebalance only after the session timeout.
    c.fetchWaitMax = .milliseconds(10)
    c.sessionTimeout = .seconds(3)
    c.heartbeatInterval = .seconds(1)
    return c
}
