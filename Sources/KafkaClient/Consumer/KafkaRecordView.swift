/// A record borrowed from librdkafka's buffers, for callers that parse records in place
/// instead of copying them (see `KafkaConsumer.poll(maxRecords:timeout:borrowing:)`).
///
/// - Important: a view and its buffers are valid only inside the closure it is handed to:
///   they MUST NOT escape it. `copy()` makes an owned `KafkaRecord`.
public struct KafkaRecordView {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// The key bytes; `nil` when the record has no key.
    public let key: UnsafeRawBufferPointer?
    /// The value bytes; `nil` for a null value (a tombstone).
    public let value: UnsafeRawBufferPointer?
    /// The librdkafka message (`rd_kafka_message_t`), for headers and timestamp.
    let message: UnsafeRawPointer

    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The headers, copied.
    public var headers: [KafkaHeader] { RDKafkaConsumer.headers(of: message) }

    /// Milliseconds since the Unix epoch, if the record has a timestamp.
    public var timestampMilliseconds: Int64? { RDKafkaConsumer.timestamp(of: message) }

    private static func copy(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        bytes.baseAddress.map { copyBytes($0, bytes.count) } ?? []
    }

    /// An owned copy.
    public func copy() -> KafkaRecord {
        KafkaRecord(
            topic: topic, partition: partition, offset: offset, key: key.map(Self.copy), value: value.map(Self.copy),
            headers: headers, timestampMilliseconds: timestampMilliseconds)
    }
}
