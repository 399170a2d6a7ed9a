/// A Kafka protocol request type (ApiKey), for fault injection by request.
public struct KafkaAPIKey: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Names as in the Kafka protocol guide, with their keys.
    static let names: [(String, Int16)] = [
        ("Produce", 0), ("Fetch", 1), ("ListOffsets", 2), ("Metadata", 3), ("OffsetCommit", 8),
        ("OffsetFetch", 9), ("FindCoordinator", 10), ("JoinGroup", 11), ("Heartbeat", 12),
        ("LeaveGroup", 13), ("SyncGroup", 14), ("DescribeGroups", 15), ("ListGroups", 16),
        ("SaslHandshake", 17), ("ApiVersions", 18), ("CreateTopics", 19), ("DeleteTopics", 20),
        ("DeleteRecords", 21), ("InitProducerId", 22), ("OffsetForLeaderEpoch", 23),
        ("AddPartitionsToTxn", 24), ("AddOffsetsToTxn", 25), ("EndTxn", 26), ("TxnOffsetCommit", 28),
        ("DescribeConfigs", 32), ("AlterConfigs", 33), ("SaslAuthenticate", 36), ("CreatePartitions", 37),
        ("DeleteGroups", 42), ("IncrementalAlterConfigs", 44), ("OffsetDelete", 47),
    ]

    public static let produce = KafkaAPIKey(rawValue: 0)
    public static let fetch = KafkaAPIKey(rawValue: 1)
    public static let metadata = KafkaAPIKey(rawValue: 3)
    public static let offsetCommit = KafkaAPIKey(rawValue: 8)
    public static let offsetFetch = KafkaAPIKey(rawValue: 9)
    public static let findCoordinator = KafkaAPIKey(rawValue: 10)
    public static let joinGroup = KafkaAPIKey(rawValue: 11)
    public static let heartbeat = KafkaAPIKey(rawValue: 12)
    public static let syncGroup = KafkaAPIKey(rawValue: 14)
    public static let initProducerID = KafkaAPIKey(rawValue: 22)
    public static let endTxn = KafkaAPIKey(rawValue: 26)

    /// Parses a name (`Produce`, `offsetcommit`) or a number.
    public init?(name: String) {
        if let n = Int16(name) {
            self.init(rawValue: n)
            return
        }
        guard let entry = Self.names.first(where: { $0.0.lowercased() == name.lowercased() }) else { return nil }
        self.init(rawValue: entry.1)
    }

    public var description: String { Self.names.first { $0.1 == rawValue }?.0 ?? String(rawValue) }
}
