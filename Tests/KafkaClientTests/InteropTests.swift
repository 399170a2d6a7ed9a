import Foundation
import KafkaClient
import Testing

/// Our producer and consumer against external clients (kcat from Debian, confluent-kafka
/// from PyPI), on a `stepline broker` process and on the embedded cluster.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct InteropTests {
    @Test(arguments: Backend.allCases)
    func externalProducersToOurConsumer(backend: Backend) async throws {
        let topic = TestEnvironment.unique("in")
        let broker = try await TestBroker.start(backend, brokers: 2, topics: [.init(name: topic, partitions: 3)])
        // kcat: 50 records with keys and a header.
        let kcat = try ChildProcess(
            TestEnvironment.kcat, ["-b", broker.bootstrapServers, "-P", "-t", topic, "-K", ":", "-H", "origin=kcat", "-X", "enable.idempotence=true"],
            name: "kcat producer")
        for i in 0..<50 { kcat.writeLine("kk\(i):kcat-\(i)") }
        kcat.closeStdin()
        // confluent-kafka: 50 records.
        let python = try TestEnvironment.python(["produce", broker.bootstrapServers, topic, "50", "python"], name: "confluent-kafka producer")
        #expect(try await kcat.waitForExit() == 0)
        let produced = try await python.waitForLine { $0.hasPrefix("produced") }
        #expect(produced.hasPrefix("produced 50 failed 0 left 0"), "\(produced)")

        let consumer = try KafkaConsumer(configuration: makeConsumerConfiguration(broker.bootstrapServers, group: topic), topics: [topic])
        let records = try await consume(consumer, count: 100)
        try await consumer.commit()
        await consumer.close()
        try await broker.stop()

        #expect(records.count == 100)
        let values = Set(records.map(\.valueString))
        #expect(values == Set((0..<50).map { "kcat-\($0)" } + (0..<50).map { "python-\($0)" }))
        let fromKcat = records.filter { $0.valueString.hasPrefix("kcat-") }
        #expect(fromKcat.allSatisfy { $0.keyString == "kk" + $0.valueString.dropFirst(5) && $0.header("origin")?.stringValue == "kcat" })
        let fromPython = records.filter { $0.valueString.hasPrefix("python-") }
        #expect(fromPython.allSatisfy { $0.header("origin")?.stringValue == "python" && $0.keyString == "k" + $0.valueString.dropFirst(7) })
    }

    @Test(arguments: Backend.allCases)
    func ourProducerToExternalConsumers(backend: Backend) async throws {
        let topic = TestEnvironment.unique("out")
        let broker = try await TestBroker.start(backend, brokers: 2, topics: [.init(name: topic, partitions: 3)])
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: broker.bootstrapServers))
        let records = (0..<100).map { i in
            KafkaProducerRecord(topic: topic, key: "key\(i)", value: "swift-\(i)", headers: [KafkaHeader(key: "origin", value: "swift")])
        }
        let reports = try await producer.send(records)
        #expect(reports.count == 100)
        #expect(Set(reports.map { "\($0.partition)/\($0.offset)" }).count == 100)
        await producer.close()

        // Both external consumers read the topic in their own groups, at the same time.
        let kcat = try ChildProcess(
            TestEnvironment.kcat,
            ["-b", broker.bootstrapServers, "-G", topic + "-kcat", "-o", "beginning", "-c", "100", "-f", "%k %s %h\\n", topic],
            name: "kcat consumer")
        let python = try TestEnvironment.python(
            ["consume", broker.bootstrapServers, topic, topic + "-py", "100", "30"], name: "confluent-kafka consumer")
        #expect(try await kcat.waitForExit(timeout: .seconds(40)) == 0)
        _ = try await python.waitForLine(timeout: .seconds(40)) { $0.hasPrefix("closed") }
        try await broker.stop()

        let expected = Set((0..<100).map { "key\($0) swift-\($0) origin=swift" })
        #expect(Set(kcat.lines) == expected, "kcat stderr: \(kcat.stderr.suffix(500))")
        let pythonRecords = python.lines.filter { $0.hasPrefix("record ") }.map { line -> String in
            let f = line.split(separator: " ", maxSplits: 6)
            return "\(f[4]) \(f[5]) \(f[6])"
        }
        #expect(pythonRecords.count == 100)
        #expect(Set(pythonRecords) == Set((0..<100).map { "key\($0) swift-\($0) {\"origin\": \"swift\"}" }))
    }
}
