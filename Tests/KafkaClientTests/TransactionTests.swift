import KafkaClient
import Testing

/// Transactions on librdkafka 2.0.2's mock cluster: init, begin, commit and abort work, and
/// committed records reach a read_committed consumer once each.
///
/// Finding: the mock cluster does not hide the records of an aborted transaction from a
/// read_committed consumer once they were written (it keeps no aborted-transaction index).
/// An abort with records still queued purges them before they are sent, which hides the gap
/// when records are aborted before delivery; here they are delivered first, so the gap is
/// recorded as a known issue that is expected every time (the test says so if the mock
/// starts filtering them). A real broker filters them.
@Suite(.timeLimit(.minutes(2)))
struct TransactionTests {
    @Test(arguments: [1, 3])
    func committedRecordsAreVisibleOnceEach(brokers: Int) async throws {
        let topic = TestEnvironment.unique("txn")
        let cluster = try KafkaMockCluster(brokers: brokers, topics: [.init(name: topic, partitions: 2)])
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.transactionalID = topic
        let producer = try KafkaProducer(configuration: configuration)
        try await producer.initTransactions(timeout: .seconds(20))

        let start = ContinuousClock.now
        try producer.beginTransaction()
        _ = try await producer.send((0..<10).map { KafkaProducerRecord(topic: topic, value: "committed-\($0)") })
        try await producer.commitTransaction()
        let oneTransaction = start.duration(to: .now)

        try producer.beginTransaction()
        for i in 0..<10 { try producer.enqueue(KafkaProducerRecord(topic: topic, value: "aborted-\(i)")) }
        try await producer.flush(timeout: .seconds(20))
        try await producer.abortTransaction()

        let start2 = ContinuousClock.now
        try producer.beginTransaction()
        _ = try await producer.send((10..<20).map { KafkaProducerRecord(topic: topic, value: "committed-\($0)") })
        try await producer.commitTransaction()
        let laterTransaction = start2.duration(to: .now)
        await producer.close()

        // Read until every committed record arrived: the aborted ones precede the third
        // transaction in each partition, so whatever of them is visible has arrived too.
        let consumer = try KafkaConsumer(configuration: makeConsumerConfiguration(cluster.bootstrapServers, group: topic), topics: [topic])
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while values.filter({ $0.hasPrefix("committed-") }).count < 20 && ContinuousClock.now < deadline {
            values += try await consumer.poll(maxRecords: 100, timeout: .milliseconds(200)).map(\.valueString)
        }
        values += try await consumer.poll(timeout: .milliseconds(300)).map(\.valueString)
        await consumer.close()
        await cluster.shutdown()

        let committed = values.filter { $0.hasPrefix("committed-") }
        #expect(committed.count == 20 && Set(committed) == Set((0..<20).map { "committed-\($0)" }), "\(committed)")
        let aborted = values.filter { $0.hasPrefix("aborted-") }
        withKnownIssue("librdkafka 2.0.2's mock cluster shows aborted records to read_committed consumers") {
            #expect(aborted.isEmpty, "\(aborted.count) aborted records visible")
        }
        print("transactions on \(brokers) mock broker(s): 10 records per transaction, first \(oneTransaction), third \(laterTransaction); \(aborted.count) of 10 aborted records visible")
    }
}
