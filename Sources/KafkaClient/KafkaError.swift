/// An error of the Kafka layer, with a message that names the thing at fault.
///
/// `code` is the kind of failure, stable for callers to match on; `message` is for people;
/// `rdKafkaErrorName` is librdkafka's name for the underlying error when there is one
/// (`"UNKNOWN_TOPIC_OR_PART"`, `"_MSG_TIMED_OUT"`, ...).
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// The kind of a `KafkaError`; an extensible set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unsupportedLibrary, configuration, unknownTopic, brokersUnreachable, timedOut
            case delivery, queueFull, shutDown, partitionsRevoked, consumer, admin, transaction
            case fatal, mockCluster, control
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The linked librdkafka is a version Stepline does not support.
        public static let unsupportedLibrary = Code(.unsupportedLibrary)
        /// An unknown configuration key, or a bad value for a known one.
        public static let configuration = Code(.configuration)
        /// A topic (or partition) that does not exist.
        public static let unknownTopic = Code(.unknownTopic)
        /// No broker could be reached within the allowed time.
        public static let brokersUnreachable = Code(.brokersUnreachable)
        /// An operation did not finish within its time limit.
        public static let timedOut = Code(.timedOut)
        /// A record was not delivered (its delivery report carried an error).
        public static let delivery = Code(.delivery)
        /// The producer's local queue is full; retry after deliveries drain it.
        public static let queueFull = Code(.queueFull)
        /// The client was shut down.
        public static let shutDown = Code(.shutDown)
        /// Offsets could not be stored because a rebalance took the partitions away.
        public static let partitionsRevoked = Code(.partitionsRevoked)
        /// Any other consumer error.
        public static let consumer = Code(.consumer)
        /// An admin request failed.
        public static let admin = Code(.admin)
        /// A transaction call failed (see `isRetriable` / `requiresAbort`).
        public static let transaction = Code(.transaction)
        /// librdkafka raised a fatal error: the client cannot be used any more.
        public static let fatal = Code(.fatal)
        /// The mock cluster refused an operation.
        public static let mockCluster = Code(.mockCluster)
        /// A control-protocol command could not be parsed or applied.
        public static let control = Code(.control)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    /// librdkafka's name of the underlying error code, if any.
    public let rdKafkaErrorName: String?
    /// Whether retrying the same operation may succeed.
    public let isRetriable: Bool
    /// For transactions: the transaction must be aborted before the producer can go on.
    public let requiresAbort: Bool

    public init(
        _ code: Code, _ message: String, rdKafkaErrorName: String? = nil,
        isRetriable: Bool = false, requiresAbort: Bool = false
    ) {
        self.code = code
        self.message = message
        self.rdKafkaErrorName = rdKafkaErrorName
        self.isRetriable = isRetriable
        self.requiresAbort = requiresAbort
    }

    public var description: String { "Kafka \(code): \(message)" }
}
