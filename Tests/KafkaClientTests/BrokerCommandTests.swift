import Foundation
import KafkaClient
import Testing

/// `stepline broker` as a process: its stdout contract, the fixed port, topics, the control
/// channels, graceful shutdown.
@Suite(.timeLimit(.minutes(1)))
struct BrokerCommandTests {
    @Test func fixedPortTopicsAndStdinControl() async throws {
        // A free port: bind to 0, read it, release it.
        let probe = try KafkaMockCluster(brokers: 1, port: 0)
        let port = probe.bootstrapServers.split(separator: ":").last.map(String.init)!
        await probe.shutdown()

        let topic = TestEnvironment.unique("fixed")
        let broker = try ChildProcess(
            try TestEnvironment.steplinePath, ["broker", "--brokers", "2", "--port", port, "--topics", "\(topic):3,\(topic)-one", "--control", "stdin"],
            name: "stepline broker")
        #expect(try await broker.line(0) == "127.0.0.1:\(port)")

        // Clients bootstrap through the fixed port, then follow the advertised brokers.
        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: "127.0.0.1:\(port)"))
        let metadata = try await admin.metadata()
        #expect(metadata.brokers.count == 2)
        #expect(metadata.partitionCounts[topic] == 3)
        #expect(metadata.partitionCounts[topic + "-one"] == 1)
        await admin.close()
        let kcat = try ChildProcess(TestEnvironment.kcat, ["-b", "127.0.0.1:\(port)", "-L", "-t", topic], name: "kcat -L")
        #expect(try await kcat.waitForExit() == 0)
        #expect(kcat.lines.contains { $0.contains("topic \"\(topic)\" with 3 partitions") }, "\(kcat.lines)")

        broker.writeLine("brokers")
        #expect(try await broker.line(1) == "ok 1 2")
        broker.writeLine("broker-down 7")
        #expect(try await broker.line(2) == "error: no broker 7: the mock cluster has brokers 1...2")
        broker.closeStdin()  // EOF ends the control channel, not the broker
        try await Task.sleep(for: .milliseconds(200))
        #expect(broker.process.isRunning)

        broker.process.interrupt()  // SIGINT
        #expect(try await broker.waitForExit() == 0)
        #expect(broker.stderr.contains("SIGINT, shutting down"))
    }

    @Test func badArgumentsAreRefused() async throws {
        let zero = try ChildProcess(try TestEnvironment.steplinePath, ["broker", "--brokers", "0"], name: "stepline broker")
        #expect(try await zero.waitForExit() != 0)
        #expect(zero.stderr.contains("--brokers must be at least 1"))
        let topics = try ChildProcess(try TestEnvironment.steplinePath, ["broker", "--topics", "a:zero"], name: "stepline broker")
        #expect(try await topics.waitForExit() != 0)
        #expect(topics.stderr.contains("bad partition count 'zero' for topic 'a'"), "\(topics.stderr)")
        let control = try ChildProcess(try TestEnvironment.steplinePath, ["broker", "--control", "telnet"], name: "stepline broker")
        #expect(try await control.waitForExit() != 0)
        #expect(control.stderr.contains("--control must be 'stdin' or a port number"))
    }

    @Test func controlProtocol() async throws {
        let cluster = try KafkaMockCluster(brokers: 3)
        #expect(cluster.execute("ping") == "ok pong")
        #expect(cluster.execute("bootstrap") == "ok \(cluster.bootstrapServers)")
        #expect(cluster.execute("broker-down 2") == "ok")
        #expect(cluster.execute("broker-up 2") == "ok")
        #expect(cluster.execute("rtt 1 50ms") == "ok")
        #expect(cluster.execute("rtt 1 0") == "ok")
        #expect(cluster.execute("push-error Produce 3 NOT_LEADER_FOR_PARTITION") == "ok")
        #expect(cluster.execute("push-error offsetcommit REQUEST_TIMED_OUT,NO_ERROR") == "ok")
        #expect(cluster.execute("clear-errors Produce") == "ok")
        #expect(cluster.execute("broker-error 1 Fetch NOT_LEADER_FOR_PARTITION 10") == "ok")
        #expect(cluster.execute("topic-create t 4 2") == "ok")
        #expect(cluster.execute("leader t 0 3") == "ok")
        #expect(cluster.execute("coordinator group g 1") == "ok")
        #expect(cluster.execute("topic-error t NO_ERROR") == "ok")
        #expect(cluster.execute("") == "ok")

        #expect(cluster.execute("reboot") == "error: unknown command 'reboot' (try 'help')")
        #expect(cluster.execute("broker-down") == "error: usage: broker-down BROKER_ID")
        #expect(cluster.execute("broker-down x") == "error: bad broker id 'x': expected a number 1...3")
        #expect(cluster.execute("broker-up 4") == "error: no broker 4: the mock cluster has brokers 1...3")
        #expect(cluster.execute("rtt 1 fast") == "error: bad duration 'fast': expected e.g. 50ms, 2s or 250 (milliseconds)")
        #expect(cluster.execute("push-error Teleport 1 NOT_LEADER_FOR_PARTITION").hasPrefix("error: unknown request type 'Teleport'"))
        #expect(cluster.execute("push-error Produce 1 NOT_A_REAL_ERROR").hasPrefix("error: unknown Kafka error 'NOT_A_REAL_ERROR'"))
        #expect(cluster.execute("topic-create t2 0").hasPrefix("error: topic 't2': partition count must be positive"))
        #expect(cluster.execute("topic-create t3 1 4") == "error: topic 't3': replication factor 4 needs 1...3 brokers")
        #expect(cluster.execute("coordinator cluster g 1") == "error: coordinator type must be 'group' or 'transaction', not 'cluster'")
        await cluster.shutdown()
    }

    @Test func embeddedClusterWritesItsBootstrapFile() async throws {
        let directory = NSTemporaryDirectory() + TestEnvironment.unique("data")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = try KafkaMockCluster(brokers: 1)
        let path = try cluster.writeBootstrapFile(inDirectory: directory)
        #expect(path == directory + "/bootstrap.servers")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == cluster.bootstrapServers + "\n")
        let e = #expect(throws: KafkaError.self) { try cluster.writeBootstrapFile(inDirectory: directory + "/no/such/dir") }
        #expect(e?.message.contains("cannot write '\(directory)/no/such/dir/bootstrap.servers'") == true)
        await cluster.shutdown()
    }
}
