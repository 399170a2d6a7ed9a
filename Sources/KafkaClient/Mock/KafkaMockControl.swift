/// The control protocol of the dev broker: one command per line, one reply line each,
/// `ok[ DETAIL]` or `error: MESSAGE`. Documented in docs/kafka.md.
///
/// ```
/// broker-down 1                               take broker 1 down
/// broker-up 1                                 bring it back
/// rtt 1 50ms                                  add latency to broker 1 (0 removes it)
/// push-error Produce 3 NOT_LEADER_FOR_PARTITION   next 3 Produce requests fail so
/// push-error OffsetCommit REQUEST_TIMED_OUT,NO_ERROR  a list, in order
/// broker-error 1 Fetch NOT_LEADER_FOR_PARTITION [RTT_MS]
/// clear-errors Produce
/// topic-create NAME PARTITIONS [REPLICATION]
/// topic-error NAME ERROR                      (NO_ERROR clears)
/// leader TOPIC PARTITION BROKER
/// coordinator group|transaction KEY BROKER
/// bootstrap | brokers | ping | help
/// ```
extension KafkaMockCluster {
    /// Executes one control command and returns the reply line.
    public func execute(_ line: String) -> String {
        do throws(KafkaError) {
            return try executeCommand(line)
        } catch {
            return "error: \(error.message)"
        }
    }

    private func executeCommand(_ line: String) throws(KafkaError) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        guard let command = words.first?.lowercased() else { return "ok" }
        let args = Array(words.dropFirst())

        func arity(_ counts: ClosedRange<Int>, _ usage: String) throws(KafkaError) {
            guard counts.contains(args.count) else { throw KafkaError(.control, "usage: \(usage)") }
        }
        func broker(_ text: String) throws(KafkaError) -> Int32 {
            guard let id = Int32(text) else { throw KafkaError(.control, "bad broker id '\(text)': expected a number 1...\(brokerCount)") }
            return id
        }
        func api(_ text: String) throws(KafkaError) -> KafkaAPIKey {
            guard let key = KafkaAPIKey(name: text) else {
                throw KafkaError(.control, "unknown request type '\(text)' (e.g. Produce, Fetch, OffsetCommit, JoinGroup, Metadata)")
            }
            return key
        }
        func integer(_ text: String, _ what: String) throws(KafkaError) -> Int {
            guard let n = Int(text), n >= 0 else { throw KafkaError(.control, "bad \(what) '\(text)': expected a non-negative integer") }
            return n
        }

        switch command {
        case "ping":
            return "ok pong"
        case "help":
            return "ok commands: broker-down ID, broker-up ID, rtt ID MS, push-error API [COUNT] ERROR[,ERROR...], "
                + "broker-error ID API ERROR [RTT_MS], clear-errors API, topic-create NAME PARTITIONS [RF], "
                + "topic-error NAME ERROR, leader TOPIC PARTITION ID, coordinator group|transaction KEY ID, bootstrap, brokers"
        case "bootstrap":
            return "ok \(bootstrapServers)"
        case "brokers":
            return "ok \((1...brokerCount).map(String.init).joined(separator: " "))"
        case "broker-down", "broker-up":
            try arity(1...1, "\(command) BROKER_ID")
            let id = try broker(args[0])
            if command == "broker-down" { try setBrokerDown(id) } else { try setBrokerUp(id) }
            return "ok"
        case "rtt":
            try arity(2...2, "rtt BROKER_ID MILLISECONDS (e.g. 50ms, 1s, 0)")
            try setRoundTripTime(broker: try broker(args[0]), try parseDuration(args[1]))
            return "ok"
        case "push-error":
            try arity(2...3, "push-error API [COUNT] ERROR[,ERROR...]")
            let key = try api(args[0])
            var errors = args.last!.split(separator: ",").map(String.init)
            if args.count == 3 {
                let count = try integer(args[1], "count")
                guard errors.count == 1 else { throw KafkaError(.control, "push-error with a COUNT takes one ERROR") }
                errors = Array(repeating: errors[0], count: count)
            }
            try pushRequestErrors(key, errors)
            return "ok"
        case "broker-error":
            try arity(3...4, "broker-error BROKER_ID API ERROR [RTT_MS]")
            let rtt = args.count == 4 ? Duration.milliseconds(try integer(args[3], "round-trip time")) : .zero
            try pushBrokerRequestError(broker: try broker(args[0]), try api(args[1]), args[2], rtt: rtt)
            return "ok"
        case "clear-errors":
            try arity(1...1, "clear-errors API")
            clearRequestErrors(try api(args[0]))
            return "ok"
        case "topic-create":
            try arity(2...3, "topic-create NAME PARTITIONS [REPLICATION_FACTOR]")
            let partitions = try integer(args[1], "partition count")
            let rf = args.count == 3 ? try integer(args[2], "replication factor") : nil
            try createTopic(KafkaTopicSpecification(name: args[0], partitions: partitions, replicationFactor: rf))
            return "ok"
        case "topic-error":
            try arity(2...2, "topic-error NAME ERROR")
            try setTopicError(args[0], args[1])
            return "ok"
        case "leader":
            try arity(3...3, "leader TOPIC PARTITION BROKER_ID")
            try setPartitionLeader(topic: args[0], partition: Int32(try integer(args[1], "partition")), broker: try broker(args[2]))
            return "ok"
        case "coordinator":
            try arity(3...3, "coordinator group|transaction KEY BROKER_ID")
            try setCoordinator(type: args[0] == "txn" ? "transaction" : args[0], key: args[1], broker: try broker(args[2]))
            return "ok"
        default:
            throw KafkaError(.control, "unknown command '\(command)' (try 'help')")
        }
    }
}

/// Parses `50ms`, `2s`, `250` (milliseconds).
func parseDuration(_ text: String) throws(KafkaError) -> Duration {
    let lower = text.lowercased()
    if lower.hasSuffix("ms"), let n = Int(lower.dropLast(2)), n >= 0 { return .milliseconds(n) }
    if lower.hasSuffix("s"), let n = Int(lower.dropLast(1)), n >= 0 { return .seconds(n) }
    if let n = Int(lower), n >= 0 { return .milliseconds(n) }
    throw KafkaError(.control, "bad duration '\(text)': expected e.g. 50ms, 2s or 250 (milliseconds)")
}

/// Serves `KafkaMockCluster.execute` on a loopback TCP port, one command per line.
public final class KafkaMockControlServer: Sendable {
    private let server: LineServer
    /// The port it listens on (127.0.0.1).
    public var port: UInt16 { server.port }

    /// - Parameter port: 0 for any free port.
    /// - Throws: `.mockCluster` if the port cannot be bound.
    public init(cluster: KafkaMockCluster, port: UInt16 = 0) throws(KafkaError) {
        server = try LineServer(port: port) { line in cluster.execute(line) }
    }

    public func stop() { server.stop() }
}
