/// How many replicas must acknowledge a record before the producer counts it as delivered.
public struct KafkaAcks: Hashable, Sendable, CustomStringConvertible {
    private enum Base: Hashable, Sendable { case none, leader, all }
    private let base: Base

    /// `acks=0`: fire and forget (not allowed with idempotence).
    public static let none = KafkaAcks(base: .none)
    /// `acks=1`: the partition leader has written it.
    public static let leader = KafkaAcks(base: .leader)
    /// `acks=all`: every in-sync replica has it.
    public static let all = KafkaAcks(base: .all)

    var propertyValue: String {
        switch base {
        case .none: "0"
        case .leader: "1"
        case .all: "all"
        }
    }

    public var description: String { propertyValue }
}

/// Compression of record batches.
public struct KafkaCompression: Hashable, Sendable {
    fileprivate let codec: String
    public static let none = KafkaCompression(codec: "none")
    public static let gzip = KafkaCompression(codec: "gzip")
    public static let snappy = KafkaCompression(codec: "snappy")
    public static let lz4 = KafkaCompression(codec: "lz4")
    public static let zstd = KafkaCompression(codec: "zstd")
    var propertyValue: String { codec }
}

/// Where a consumer group starts reading a partition that has no committed offset.
public struct KafkaOffsetReset: Hashable, Sendable {
    fileprivate let value: String
    public static let earliest = KafkaOffsetReset(value: "earliest")
    public static let latest = KafkaOffsetReset(value: "latest")
    /// Fail with an error instead of guessing.
    public static let error = KafkaOffsetReset(value: "error")
    var propertyValue: String { value }
}

/// Which records of transactional producers a consumer sees.
public struct KafkaIsolationLevel: Hashable, Sendable {
    fileprivate let value: String
    /// Only records of committed transactions (and non-transactional ones).
    public static let readCommitted = KafkaIsolationLevel(value: "read_committed")
    /// Everything, aborted transactions included.
    public static let readUncommitted = KafkaIsolationLevel(value: "read_uncommitted")
    var propertyValue: String { value }
}

/// A diagnostic from the Kafka layer: non-fatal errors, rebalances, broker state.
public struct KafkaDiagnostic: Sendable, CustomStringConvertible {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public var level: Level
    public var message: String

    public var description: String { "[\(level)] \(message)" }
}

/// Receives diagnostics; called on librdkafka's or the client's own threads, so it must be
/// quick and thread-safe. The runtime bridges this to its logger.
public typealias KafkaDiagnosticHandler = @Sendable (KafkaDiagnostic) -> Void

extension Duration {
    /// Whole milliseconds, rounded up so that a short positive duration never becomes 0.
    var roundedUpMilliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(clamping: max(0, ms))
    }
}
