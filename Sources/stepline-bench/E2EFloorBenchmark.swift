import ArgumentParser
import CommandSupport
import Foundation
import KafkaClient
import StatesLanguage
import SteplineConfiguration

/// `stepline-bench e2e-floor`: the Kafka part of the e2e workload alone, with no engine and
/// no store, for `stepline-bench e2e` to drive in place of `stepline serve`.
///
/// It makes the same Kafka traffic as the daemon for each trigger record (a RUNNING status
/// event and a task request with the token headers; then, for each reply, a SUCCEEDED
/// status event), with the daemon's consumer and producer settings and the same execution
/// names. What the driver measures against it is the floor of this machine and broker: the
/// four Kafka hops and the CPU of the clients and the development broker, which no engine
/// can go under. `Benchmarks/e2e/run.sh --floor` runs it.
struct BenchE2EFloorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-floor",
        abstract: "The e2e workload's Kafka hops without engine or store (a floor for `e2e`); runs until SIGTERM.")

    @Option(help: "Bootstrap servers (default: an embedded development broker, its address written to <data-dir>/bootstrap.servers).")
    var bootstrap: String?

    @Option(help: "Where to write bootstrap.servers for the driver.")
    var dataDir: String = ".stepline"

    @OptionGroup var topics: E2ETopics

    @Option(help: "The state machine's name (in execution ARNs).")
    var stateMachine: String = "approve-order"

    func run() async throws {
        var cluster: KafkaMockCluster?
        let servers: String
        if let bootstrap {
            servers = bootstrap
        } else {
            let specifications = [topics.topic, topics.workTopic, topics.replyTopic, topics.statusTopic].map { KafkaTopicSpecification(name: $0, partitions: 4) }
            let c = try KafkaMockCluster(brokers: 1, topics: specifications)
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            _ = try c.writeBootstrapFile(inDirectory: dataDir)
            cluster = c
            servers = c.bootstrapServers
        }
        // The clients of a daemon on the embedded defaults.
        let daemon = ServeConfiguration()
        let producer = try KafkaProducer(configuration: daemon.producerConfiguration(bootstrapServers: servers))
        func consumer(_ group: String, _ topic: String) throws -> KafkaConsumer {
            let c = daemon.consumerConfiguration(bootstrapServers: servers, group: group, isDevelopmentBroker: bootstrap == nil)
            return try KafkaConsumer(configuration: c, topics: [topic])
        }
        let triggers = try consumer("stepline-floor-triggers", topics.topic)
        let replies = try consumer("stepline-floor-replies", topics.replyTopic)
        let floor = E2EFloor(options: self, producer: producer)
        let triggerTask = Task { await floor.loop(triggers, maxRecords: 500, floor.started) }
        let replyTask = Task { await floor.loop(replies, maxRecords: 1000, floor.replied) }

        let signals = TerminationSignals()
        printLine("ready \(servers)")
        _ = await signals.wait()
        triggers.triggerGracefulShutdown()
        replies.triggerGracefulShutdown()
        await triggerTask.value
        await replyTask.value
        await triggers.close()
        await replies.close()
        try? await producer.flush(timeout: .seconds(10))
        await producer.close()
        await cluster?.shutdown()
    }
}

private struct E2EFloor: Sendable {
    let options: BenchE2EFloorCommand
    let producer: KafkaProducer

    func loop(_ consumer: KafkaConsumer, maxRecords: Int, _ handle: @escaping @Sendable (KafkaRecordView) -> Void) async {
        while !consumer.isShutdownTriggered {
            do {
                try await consumer.poll(maxRecords: maxRecords, timeout: .milliseconds(100)) { views throws(KafkaError) in
                    guard !views.isEmpty else { return }
                    for view in views { handle(view) }
                    try consumer.storeOffsets(KafkaConsumer.nextOffsets(after: views))
                }
            } catch {
                if consumer.isShutdownTriggered { return }
                print("e2e-floor: \(error)")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func arn(_ name: String) -> String { "arn:aws:states:us-east-1:000000000000:execution:\(options.stateMachine):\(name)" }

    /// A trigger record: the RUNNING event and the task request (the token is the name).
    var started: @Sendable (KafkaRecordView) -> Void {
        { view in
            let name = "\(options.topics.rule)-\(view.topic)-\(view.partition)-\(view.offset)"
            let arn = arn(name)
            guard let value = view.value, let event = try? JSON.parse(bytes: Array(value)) else { return }
            publishStatus(arn: arn, name: name, status: "RUNNING", dateField: "startDate")
            var request = JSONObject()
            request.append("order", event["detail"] ?? .null)
            request.append("TaskToken", .string(name))
            var body: [UInt8] = []
            JSON.object(request).write(to: &body)
            let headers = [KafkaHeader(key: "stepline-task-token", value: name), KafkaHeader(key: "stepline-execution-arn", value: arn)]
            body.withUnsafeBytes { b in
                _ = try? producer.enqueue(topic: options.topics.workTopic, key: nil, value: b, headers: headers, onDelivery: { _ in })
            }
        }
    }

    /// A reply: the SUCCEEDED event of the execution its token names.
    var replied: @Sendable (KafkaRecordView) -> Void {
        { view in
            guard let value = view.value, let reply = try? JSON.parse(bytes: Array(value)), let name = reply["taskToken"]?.stringValue else { return }
            publishStatus(arn: arn(name), name: name, status: "SUCCEEDED", dateField: "stopDate")
        }
    }

    func publishStatus(arn: String, name: String, status: String, dateField: String) {
        var detail = JSONObject()
        detail.append("executionArn", .string(arn))
        detail.append("name", .string(name))
        detail.append("status", .string(status))
        detail.append(dateField, .int(wallMilliseconds()))
        var event = JSONObject()
        event.append("detail-type", "Step Functions Execution Status Change")
        event.append("detail", .object(detail))
        var body: [UInt8] = []
        JSON.object(event).write(to: &body)
        let key = Array(arn.utf8)
        key.withUnsafeBytes { k in
            body.withUnsafeBytes { b in
                _ = try? producer.enqueue(topic: options.topics.statusTopic, key: k, value: b, onDelivery: { _ in })
            }
        }
    }
}
