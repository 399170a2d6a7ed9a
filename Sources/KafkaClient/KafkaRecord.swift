/// A header of a Kafka record: a name and an optional byte value.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    /// The value; `nil` is Kafka's null header value, distinct from an empty one.
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: String) {
        self.init(key: key, value: Array(value.utf8))
    }

    /// The value as UTF-8 text, if it is valid UTF-8.
    public var stringValue: String? {
        value.flatMap { String(validating: $0, as: UTF8.self) }
    }
}

/// A topic and a partition.
public struct KafkaTopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A record read by a `KafkaConsumer`.
public struct KafkaRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// `nil` when the record has no key.
    public var key: [UInt8]?
    /// The value; a null value (a tombstone) reads as `nil`.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch, as the producer or broker stamped it; `nil` if absent.
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var topicPartition: KafkaTopicPartition { .init(topic: topic, partition: partition) }

    /// The first header with this key.
    public func header(_ key: String) -> KafkaHeader? { headers.first { $0.key == key } }
}

/// A record to send with a `KafkaProducer`.
public struct KafkaProducerRecord: Sendable, Hashable {
    public var topic: String
    /// `nil`: the partitioner chooses (by key hash when there is a key).
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch; `nil` stamps the time of sending.
    public var timestampMilliseconds: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    public init(topic: String, key: String? = nil, value: String, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers)
    }
}

/// Where a record was written, from its delivery report.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// A topic to create: name, partition count, replication factor.
public struct KafkaTopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// `nil`: the cluster's default (the mock cluster uses min(3, brokers)).
    public var replicationFactor: Int?

    public init(name: String, partitions: Int = 1, replicationFactor: Int? = nil) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
    }

    /// Parses `name` or `name:partitions` (the `--topics` syntax of `stepline broker`).
    public init(parsing text: String) throws(KafkaError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty, parts.count <= 2 else {
            throw KafkaError(.configuration, "bad topic '\(text)': expected NAME or NAME:PARTITIONS")
        }
        var partitions = 1
        if parts.count == 2 {
            guard let n = Int(parts[1]), n > 0 else {
                throw KafkaError(.configuration, "bad partition count '\(parts[1])' for topic '\(name)': expected a positive integer")
            }
            partitions = n
        }
        self.init(name: String(name), partitions: partitions)
    }
}
