import KafkaClient
import Testing

/// The consumer's borrowing poll, offsets helpers, pause and resume, on the embedded cluster.
@Suite(.timeLimit(.minutes(1)))
struct ConsumerAPITests {
    @Test func borrowingPollPauseAndResume() async throws {
        let topic = TestEnvironment.unique("api")
        let cluster = try KafkaMockCluster(brokers: 1, topics: [.init(name: topic, partitions: 2)])
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        func send(_ partition: Int32, _ values: Range<Int>) async throws {
            _ = try await producer.send(values.map {
                KafkaProducerRecord(topic: topic, partition: partition, key: Array("k\($0)".utf8), value: Array("v\($0)".utf8),
                                    headers: [KafkaHeader(key: "n", value: "\($0)"), KafkaHeader(key: "null", value: nil)])
            })
        }
        try await send(0, 0..<10)
        try await send(1, 10..<20)

        let consumer = try KafkaConsumer(configuration: makeConsumerConfiguration(cluster.bootstrapServers, group: topic), topics: [topic])
        // Borrowing: parse in place, keep what is needed, store after.
        var seen: [String: (key: String, header: String?, hasNull: Bool, timestamp: Int64?)] = [:]
        var next: [KafkaTopicPartition: Int64] = [:]
        let deadline = ContinuousClock.now + .seconds(20)
        while seen.count < 20 && ContinuousClock.now < deadline {
            let (parsed, offsets) = try await consumer.poll(maxRecords: 7) { views in
                (views.map { v in
                    (String(decoding: v.value!, as: UTF8.self), String(decoding: v.key!, as: UTF8.self),
                     v.headers.first { $0.key == "n" }?.stringValue, v.headers.contains { $0.key == "null" && $0.value == nil },
                     v.timestampMilliseconds)
                }, KafkaConsumer.nextOffsets(after: views))
            }
            #expect(parsed.count <= 7)
            for p in parsed { seen[p.0] = (p.1, p.2, p.3, p.4) }
            next.merge(offsets) { max($0, $1) }
        }
        #expect(seen.count == 20)
        #expect(seen.allSatisfy { value, r in r.key == "k" + value.dropFirst() && r.header == String(value.dropFirst()) && r.hasNull && r.timestamp != nil })
        let p0 = KafkaTopicPartition(topic: topic, partition: 0), p1 = KafkaTopicPartition(topic: topic, partition: 1)
        #expect(next == [p0: 10, p1: 10])
        try consumer.storeOffsets(next)
        try await consumer.commit()
        #expect(try await consumer.committedOffsets(for: [p0, p1]) == [p0: 10, p1: 10])
        #expect(Set(try consumer.assignment()) == [p0, p1])

        // Paused partitions are not fetched; resumed ones are.
        try consumer.pause([p0])
        try await send(0, 20..<25)
        try await send(1, 25..<30)
        var afterPause: [KafkaRecord] = []
        let pauseDeadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < pauseDeadline { afterPause += try await consumer.poll(timeout: .milliseconds(100)) }
        #expect(afterPause.map(\.valueString).sorted() == (25..<30).map { "v\($0)" })
        try consumer.storeOffsets(for: afterPause)
        try consumer.resume([p0])
        let afterResume = try await consume(consumer, count: 5, timeout: .seconds(10))
        #expect(afterResume.map(\.valueString).sorted() == (20..<25).map { "v\($0)" })
        #expect(afterResume.allSatisfy { $0.partition == 0 && $0.keyString == "k" + $0.valueString.dropFirst() })

        // A partition this consumer does not own cannot have offsets stored.
        let e = #expect(throws: KafkaError.self) { try consumer.storeOffsets([KafkaTopicPartition(topic: topic, partition: 7): 1]) }
        #expect(e?.code == .partitionsRevoked)
        #expect(e?.message.contains("\(topic)[7]") == true)

        await consumer.close()
        await producer.close()
        await cluster.shutdown()
    }
}
