import KafkaClient
import Testing

/// Bad configuration, unreachable brokers, missing topics: clear errors that name the thing.
@Suite(.timeLimit(.minutes(1)))
struct BadInputTests {
    @Test func unknownConfigurationKeyIsNamed() throws {
        var producer = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
        producer.properties = ["no.such.property": "1"]
        let e1 = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: producer) }
        #expect(e1?.code == .configuration)
        #expect(e1?.message == "unknown configuration property 'no.such.property'")

        var consumer = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092", groupID: "g")
        consumer.properties = ["fetch.wait.maximum": "5"]
        let e2 = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: consumer, topics: ["t"]) }
        #expect(e2?.message.contains("'fetch.wait.maximum'") == true)

        var admin = KafkaAdminConfiguration(bootstrapServers: "127.0.0.1:9092")
        admin.properties = ["sasl.mechanismz": "PLAIN"]
        let e3 = #expect(throws: KafkaError.self) { try KafkaAdmin(configuration: admin) }
        #expect(e3?.message.contains("'sasl.mechanismz'") == true)
    }

    @Test func badValuesAreNamed() throws {
        var raw = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
        raw.properties = ["acks": "sometimes"]
        let e1 = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: raw) }
        #expect(e1?.code == .configuration)
        #expect(e1?.message.hasPrefix("invalid value 'sometimes' for configuration property 'acks'") == true, "\(e1?.message ?? "")")

        var typed = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
        typed.batchMaxRecords = -5
        let e2 = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: typed) }
        #expect(e2?.message.contains("'batch.num.messages'") == true, "\(e2?.message ?? "")")

        var tls = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092", groupID: "g")
        tls.properties = ["security.protocol": "carrier-pigeon"]
        let e3 = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: tls, topics: ["t"]) }
        #expect(e3?.message.contains("'carrier-pigeon'") == true && e3?.message.contains("'security.protocol'") == true)
    }

    @Test func reservedKeysAreRefused() throws {
        var c = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092", groupID: "g")
        c.properties = ["enable.auto.offset.store": "true"]
        let e = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: c, topics: ["t"]) }
        #expect(e?.message.contains("'enable.auto.offset.store'") == true)
    }

    @Test func tlsAndSaslPropertiesPassThrough() throws {
        var c = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
        c.properties = ["security.protocol": "sasl_plaintext", "sasl.mechanisms": "PLAIN", "sasl.username": "u", "sasl.password": "p"]
        let producer = try KafkaProducer(configuration: c)
        _ = producer
    }

    @Test func unsupportedLibraryVersionIsRefused() {
        #expect(KafkaLibrary.check(version: 0x0200_02ff) == nil)
        #expect(KafkaLibrary.check(version: 0x0209_00ff) == nil)
        let old = KafkaLibrary.check(version: 0x0109_02ff)
        #expect(old?.code == .unsupportedLibrary)
        #expect(old?.message.hasPrefix("librdkafka 1.9.2 is not supported") == true)
        #expect(KafkaLibrary.check(version: 0x0300_00ff)?.message.hasPrefix("librdkafka 3.0.0 is not supported") == true)
        #expect(KafkaLibrary.version.hasPrefix("2."))
    }

    @Test func topicSpecificationsParse() throws {
        #expect(try KafkaTopicSpecification(parsing: "orders") == .init(name: "orders", partitions: 1))
        #expect(try KafkaTopicSpecification(parsing: "orders:3") == .init(name: "orders", partitions: 3))
        #expect(throws: KafkaError.self) { try KafkaTopicSpecification(parsing: "orders:x") }
        #expect(throws: KafkaError.self) { try KafkaTopicSpecification(parsing: ":3") }
        #expect(throws: KafkaError.self) { try KafkaTopicSpecification(parsing: "a:1:2") }
    }

    @Test func unreachableBrokersGiveAClearErrorInBoundedTime() async throws {
        var admin = KafkaAdminConfiguration(bootstrapServers: "127.0.0.1:1")
        admin.requestTimeout = .seconds(2)
        let client = try KafkaAdmin(configuration: admin)
        let start = ContinuousClock.now
        let e1 = await #expect(throws: KafkaError.self) { try await client.createTopics([.init(name: "t", partitions: 1)]) }
        #expect(e1?.code == .brokersUnreachable)
        #expect(e1?.message.contains("127.0.0.1:1") == true, "\(e1?.message ?? "")")
        #expect(e1?.message.contains("Connection refused") == true, "\(e1?.message ?? "")")
        // Bounded, not a hang; generous for a loaded 2-core machine (a test asserts behaviour, not speed).
        #expect(start.duration(to: .now) < .seconds(25))
        await client.close()

        var producer = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1")
        producer.deliveryTimeout = .seconds(2)
        let p = try KafkaProducer(configuration: producer)
        let start2 = ContinuousClock.now
        let e2 = await #expect(throws: KafkaError.self) { try await p.send(KafkaProducerRecord(topic: "t", value: "x")) }
        #expect(e2?.code == .delivery)
        #expect(e2?.message.contains("topic 't' was not delivered within 2") == true, "\(e2?.message ?? "")")
        #expect(e2?.message.contains("127.0.0.1:1") == true, "\(e2?.message ?? "")")
        #expect(start2.duration(to: .now) < .seconds(25))
        await p.close()
    }

    /// The mock cluster creates a topic on its first metadata request; a real broker with
    /// `auto.create.topics.enable=false` answers UNKNOWN_TOPIC_OR_PART instead, which the
    /// mock is told to do here.
    @Test func missingTopicsAreNamed() async throws {
        let cluster = try KafkaMockCluster(brokers: 1, topics: [.init(name: "present", partitions: 2)])
        let missing = TestEnvironment.unique("missing")
        try cluster.setTopicError(missing, "UNKNOWN_TOPIC_OR_PART")

        var pc = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        pc.missingTopicTimeout = .seconds(1)
        let producer = try KafkaProducer(configuration: pc)
        let start = ContinuousClock.now
        let e1 = await #expect(throws: KafkaError.self) { try await producer.send(KafkaProducerRecord(topic: missing, value: "x")) }
        #expect(e1?.code == .unknownTopic)
        #expect(e1?.message == "topic '\(missing)' does not exist")
        // Bounded by missingTopicTimeout (1 s), not deliveryTimeout (30 s); generous for load.
        #expect(start.duration(to: .now) < .seconds(20))
        #expect(try await producer.send(KafkaProducerRecord(topic: "present", value: "x")).topic == "present")
        await producer.close()

        let admin = try KafkaAdmin(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        let e2 = await #expect(throws: KafkaError.self) { try await admin.partitionCount(of: missing) }
        #expect(e2?.code == .unknownTopic)
        #expect(e2?.message == "topic '\(missing)' does not exist")
        #expect(try await admin.partitionCount(of: "present") == 2)
        await admin.close()

        let consumer = try KafkaConsumer(configuration: makeConsumerConfiguration(cluster.bootstrapServers, group: missing), topics: [missing])
        let e3 = await #expect(throws: KafkaError.self) {
            for _ in 0..<100 { _ = try await consumer.poll(timeout: .milliseconds(100)) }
        }
        #expect(e3?.code == .unknownTopic)
        #expect(e3?.message.contains("topic '\(missing)' does not exist") == true, "\(e3?.message ?? "")")
        await consumer.close()
        await cluster.shutdown()
    }

    @Test func adminReadsMetadataAndExplainsTheMockHasNoController() async throws {
        let name = TestEnvironment.unique("created")
        let cluster = try KafkaMockCluster(brokers: 3, topics: [.init(name: name, partitions: 5)])
        var configuration = KafkaAdminConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.requestTimeout = .seconds(2)
        let admin = try KafkaAdmin(configuration: configuration)
        #expect(try await admin.partitionCount(of: name) == 5)
        let metadata = try await admin.metadata()
        #expect(metadata.brokers.map(\.id).sorted() == [1, 2, 3])
        #expect(metadata.partitionCounts[name] == 5)
        let e = await #expect(throws: KafkaError.self) { try await admin.createTopics([.init(name: name + "-new", partitions: 2)]) }
        #expect(e?.code == .admin)
        #expect(e?.message.contains("no controller") == true, "\(e?.message ?? "")")
        await admin.close()
        await cluster.shutdown()
    }
}

/// Using a client after closing it is an error that says so, never a crash.
@Suite(.timeLimit(.minutes(1)))
struct UseAfterCloseTests {
    @Test func closedClientsSayTheyAreClosed() async throws {
        let cluster = try KafkaMockCluster(brokers: 1, topics: [.init(name: "t", partitions: 1)])
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        _ = try await producer.send(KafkaProducerRecord(topic: "t", value: "x"))
        await producer.close()
        await producer.close()  // idempotent
        let e1 = await #expect(throws: KafkaError.self) { try await producer.send(KafkaProducerRecord(topic: "t", value: "y")) }
        #expect(e1?.code == .shutDown)
        #expect(e1?.message == "cannot send to topic 't': the producer is closed")
        #expect(producer.outstandingCount == 0)
        let e2 = await #expect(throws: KafkaError.self) { try await producer.flush() }
        #expect(e2?.code == .shutDown)

        let consumer = try KafkaConsumer(configuration: makeConsumerConfiguration(cluster.bootstrapServers, group: "closed"), topics: ["t"])
        await consumer.close()
        let e3 = await #expect(throws: KafkaError.self) { try await consumer.poll() }
        #expect(e3?.code == .shutDown)
        let e4 = #expect(throws: KafkaError.self) { try consumer.storeOffsets([KafkaTopicPartition(topic: "t", partition: 0): 1]) }
        #expect(e4?.code == .shutDown)
        let e5 = await #expect(throws: KafkaError.self) { try await consumer.commit() }
        #expect(e5?.code == .shutDown)
        var batches = 0
        for try await _ in consumer.batches() { batches += 1 }
        #expect(batches == 0)

        await cluster.shutdown()
        #expect(cluster.execute("broker-down 1") == "error: the mock cluster is shut down")
    }
}
