import KafkaClient
import Testing

/// `KafkaProducer.send(_: [KafkaProducerRecord])`: one report per record in the records'
/// order, through a full local queue, and a failing record that does not hide the others.
///
/// Release builds once trapped here (a task group whose children lost their index at -O);
/// `stepline-bench e2e` in release exercises the same call through the daemon.
@Suite(.timeLimit(.minutes(1)))
struct ProducerBatchTests {
    @Test func reportsComeInTheRecordsOrder() async throws {
        let topic = TestEnvironment.unique("batch")
        let cluster = try KafkaMockCluster(brokers: 1, topics: [.init(name: topic, partitions: 3)])
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        for round in 0..<2 {
            let records = (0..<300).map { i in KafkaProducerRecord(topic: topic, partition: Int32(i % 3), value: Array("v\(round)-\(i)".utf8)) }
            let reports = try await producer.send(records)
            #expect(reports.count == records.count)
            #expect(reports.indices.allSatisfy { reports[$0].topic == topic && reports[$0].partition == Int32($0 % 3) })
            // Per partition, the offsets follow the records' order, one after another.
            for p in 0..<3 {
                let offsets = reports.filter { $0.partition == Int32(p) }.map(\.offset)
                #expect(offsets == Array(Int64(round * 100)..<Int64(round * 100 + 100)), "partition \(p)")
            }
        }
        #expect(try await producer.send([]).isEmpty)
        await producer.close()
        await cluster.shutdown()
    }

    @Test func aFullLocalQueueMakesTheBatchWait() async throws {
        let topic = TestEnvironment.unique("batch-full")
        let cluster = try KafkaMockCluster(brokers: 1, topics: [.init(name: topic, partitions: 1)])
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.queueMaxRecords = 10
        let producer = try KafkaProducer(configuration: configuration)
        let records = (0..<100).map { KafkaProducerRecord(topic: topic, value: "v\($0)") }
        let reports = try await producer.send(records)
        #expect(reports.map(\.offset) == Array(0..<100))
        await producer.close()
        await cluster.shutdown()
    }

    @Test func aFailingRecordIsThrownAfterTheOthersAreDelivered() async throws {
        let topic = TestEnvironment.unique("batch-ok")
        let missing = TestEnvironment.unique("batch-missing")
        let cluster = try KafkaMockCluster(brokers: 1, topics: [.init(name: topic, partitions: 1)])
        try cluster.setTopicError(missing, "UNKNOWN_TOPIC_OR_PART")
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.missingTopicTimeout = .seconds(1)
        let producer = try KafkaProducer(configuration: configuration)
        let records = [KafkaProducerRecord(topic: topic, value: "a"), KafkaProducerRecord(topic: missing, value: "b"),
                       KafkaProducerRecord(topic: topic, value: "c")]
        let error = await #expect(throws: KafkaError.self) { try await producer.send(records) }
        #expect(error?.code == .unknownTopic)
        // "a" and "c" were written: the next record comes after them.
        #expect(try await producer.send(KafkaProducerRecord(topic: topic, value: "d")).offset == 2)
        await producer.close()
        await cluster.shutdown()
    }
}
