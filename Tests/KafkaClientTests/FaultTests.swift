import Foundation
import KafkaClient
import Testing

/// Broker failures injected through the mock cluster's fault API: over the control port of
/// a `stepline broker` process, and in-process.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FaultTests {
    /// A broker goes down while records stream through it, and comes back: every record is
    /// written once (idempotent producer) and a consumer that takes over resumes from the
    /// committed offsets.
    @Test func brokerDownMidStreamAndBack() async throws {
        let topic = TestEnvironment.unique("down")
        let broker = try await TestBroker.start(.process, brokers: 3, topics: [.init(name: topic, partitions: 3)])
        // Make broker 2 lead partition 0 and coordinate the group, so both paths see it go.
        try await broker.mustControl("leader \(topic) 0 2")
        try await broker.mustControl("coordinator group \(topic) 2")

        let total = 3000
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: broker.bootstrapServers))
        let producing = Task {
            for start in stride(from: 0, to: total, by: 100) {
                _ = try await producer.send((start..<start + 100).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: "v-\($0)") })
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        var configuration = makeConsumerConfiguration(broker.bootstrapServers, group: topic)
        configuration.autoCommit = false
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .seconds(1)
        let first = try KafkaConsumer(configuration: configuration, topics: [topic])
        var firstRecords: [KafkaRecord] = []
        var wentDown = false, cameBack = false
        let deadline = ContinuousClock.now + .seconds(60)
        while firstRecords.count < total / 2 && ContinuousClock.now < deadline {
            let batch = try await first.poll(maxRecords: min(100, total / 2 - firstRecords.count), timeout: .milliseconds(100))
            firstRecords += batch
            try first.storeOffsets(for: batch)
            try? await first.commit()  // fails while the coordinator is down; the next one covers it
            if !wentDown && firstRecords.count >= 300 {
                try await broker.mustControl("broker-down 2")
                wentDown = true
                try await Task.sleep(for: .seconds(2))
                try await broker.mustControl("broker-up 2")
                cameBack = true
            }
        }
        #expect(wentDown && cameBack)
        try await producing.value
        await producer.close()
        try await first.commit()
        await first.close()

        // The first consumer may be handed records again after the coordinator came back (a
        // member that lost the group resumes from the last commit, and commits fail while the
        // coordinator is down): at-least-once. The log itself holds each record once.
        let firstDistinct = Set(firstRecords.map(\.valueString)).count
        let second = try KafkaConsumer(configuration: configuration, topics: [topic])
        let secondRecords = try await consume(second, count: total - firstDistinct, timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(300))
        let extra = try await second.poll(timeout: .milliseconds(300))
        await second.close()
        try await broker.stop()

        let all = firstRecords + secondRecords + extra
        #expect(firstRecords.count == total / 2)
        #expect(Set(all.map(\.valueString)) == Set((0..<total).map { "v-\($0)" }))
        // Once per idempotent producer session: every value at exactly one position in the log.
        let positions = Dictionary(grouping: all, by: \.valueString).mapValues { Set($0.map { "p\($0.partition)@\($0.offset)" }) }
        let writtenTwice = positions.filter { $0.value.count > 1 }
        #expect(writtenTwice.isEmpty, "\(writtenTwice.count) values written twice, e.g. \(writtenTwice.prefix(3))")
        // The second consumer reads nothing twice and nothing the first one had already read.
        #expect(secondRecords.count + extra.count == total - firstDistinct, "the second consumer read \(secondRecords.count + extra.count) records for \(total - firstDistinct)")
        print("broker down and up: \(firstRecords.count - firstDistinct) records handed to the first consumer again after the outage")
        // The second consumer starts exactly at the first one's committed offsets.
        let firstEnd = Dictionary(grouping: firstRecords, by: \.partition).mapValues { $0.map(\.offset).max()! + 1 }
        let secondStart = Dictionary(grouping: secondRecords, by: \.partition).mapValues { $0.map(\.offset).min()! }
        for (partition, start) in secondStart {
            #expect(start == (firstEnd[partition] ?? 0), "partition \(partition)")
        }
    }

    /// Produce requests fail with retriable errors and OffsetCommit with a non-retriable one:
    /// records are written once, the commit error reaches the caller, the next commit lands,
    /// and the next consumer resumes from it.
    @Test func errorsInjectedOnProduceAndOffsetCommit() async throws {
        let topic = TestEnvironment.unique("errors")
        let broker = try await TestBroker.start(.embedded, brokers: 1, topics: [.init(name: topic, partitions: 2)])
        try await broker.mustControl("push-error Produce 3 NOT_LEADER_FOR_PARTITION")
        try await broker.mustControl("push-error Produce REQUEST_TIMED_OUT,NOT_ENOUGH_REPLICAS")

        let producer = try KafkaProducer(configuration: .init(bootstrapServers: broker.bootstrapServers))
        for start in stride(from: 0, to: 200, by: 20) {
            _ = try await producer.send((start..<start + 20).map { KafkaProducerRecord(topic: topic, value: "e-\($0)") })
        }
        await producer.close()

        var configuration = makeConsumerConfiguration(broker.bootstrapServers, group: topic)
        configuration.autoCommit = false
        let first = try KafkaConsumer(configuration: configuration, topics: [topic])
        let firstRecords = try await consume(first, count: 100)
        #expect(firstRecords.count == 100)
        try await broker.mustControl("push-error OffsetCommit 1 OFFSET_METADATA_TOO_LARGE")
        let commitError = await #expect(throws: KafkaError.self) { try await first.commit() }
        #expect(commitError?.rdKafkaErrorName == "OFFSET_METADATA_TOO_LARGE", "\(String(describing: commitError))")
        #expect(commitError?.message.contains("offset commit of consumer group '\(topic)' failed") == true)
        try await first.commit()
        let partitions = [KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1)]
        let committed = try await first.committedOffsets(for: partitions)
        let firstEnd = Dictionary(grouping: firstRecords, by: \.partition).mapValues { $0.map(\.offset).max()! + 1 }
        for tp in partitions where firstEnd[tp.partition] != nil {
            #expect(committed[tp] == firstEnd[tp.partition])
        }
        await first.close()

        let second = try KafkaConsumer(configuration: configuration, topics: [topic])
        let secondRecords = try await consume(second, count: 100)
        let extra = try await second.poll(timeout: .milliseconds(300))
        await second.close()
        try await broker.stop()

        let values = (firstRecords + secondRecords + extra).map(\.valueString)
        #expect(values.count == 200, "read \(values.count) records for 200 sent: a retried produce was written twice or lost")
        #expect(Set(values) == Set((0..<200).map { "e-\($0)" }))
    }

    /// The only broker goes down for good: sends, polls and admin calls end with clear
    /// errors within their time limits.
    @Test func brokerThatNeverComesBack() async throws {
        let topic = TestEnvironment.unique("gone")
        let broker = try await TestBroker.start(.embedded, brokers: 1, topics: [.init(name: topic, partitions: 1)])
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        producerConfiguration.deliveryTimeout = .seconds(3)
        let producer = try KafkaProducer(configuration: producerConfiguration)
        _ = try await producer.send(KafkaProducerRecord(topic: topic, value: "before"))

        try await broker.mustControl("broker-down 1")
        let start = ContinuousClock.now
        let sendError = await #expect(throws: KafkaError.self) { try await producer.send(KafkaProducerRecord(topic: topic, value: "after")) }
        // librdkafka scans for timed-out records about once a second and waits for a
        // request already in flight to the dead broker: measured 3-10 s for a 3 s timeout.
        #expect(start.duration(to: .now) < .seconds(15))
        #expect(sendError?.code == .delivery)
        #expect(sendError?.message.contains("was not delivered within 3.0 seconds") == true, "\(sendError?.message ?? "")")
        #expect(sendError?.message.contains("last broker error") == true, "\(sendError?.message ?? "")")
        await producer.close()

        var consumerConfiguration = makeConsumerConfiguration(broker.bootstrapServers, group: topic)
        consumerConfiguration.brokersUnreachableTimeout = .seconds(3)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, topics: [topic])
        let start2 = ContinuousClock.now
        let pollError = await #expect(throws: KafkaError.self) {
            while start2.duration(to: .now) < .seconds(20) { _ = try await consumer.poll(timeout: .milliseconds(200)) }
        }
        #expect(start2.duration(to: .now) < .seconds(19))
        #expect(pollError?.code == .brokersUnreachable)
        #expect(pollError?.message.contains("no Kafka broker at \(broker.bootstrapServers) reachable for 3.0 seconds") == true, "\(pollError?.message ?? "")")
        await consumer.close()
        try await broker.stop()
    }

    /// Added latency shows in the round trip, and goes away again.
    @Test func addedLatency() async throws {
        let topic = TestEnvironment.unique("rtt")
        let broker = try await TestBroker.start(.process, brokers: 1, topics: [.init(name: topic, partitions: 1)])
        var configuration = KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers)
        configuration.linger = .zero
        let producer = try KafkaProducer(configuration: configuration)
        _ = try await producer.send(KafkaProducerRecord(topic: topic, value: "warm-up"))
        // Below the injected 300 ms without it, at or above with it (no tighter bound: the
        // machine's load adds tens of milliseconds at times).
        func roundTrip() async throws -> Duration {
            let start = ContinuousClock.now
            _ = try await producer.send(KafkaProducerRecord(topic: topic, value: "x"))
            return start.duration(to: .now)
        }
        #expect(try await roundTrip() < .milliseconds(300))
        try await broker.mustControl("rtt 1 300ms")
        #expect(try await roundTrip() >= .milliseconds(300))
        try await broker.mustControl("rtt 1 0")
        _ = try await roundTrip()
        #expect(try await roundTrip() < .milliseconds(300))
        await producer.close()
        try await broker.stop()
    }
}
