import ControlPlane
import KafkaClient
import Logging

/// Publishes records Stepline could not process to the dead-letter topic: the original key,
/// value and headers, plus `stepline-error`, `stepline-cause` and `stepline-source`
/// (`topic/partition/offset`).
public struct DeadLetters: Sendable {
    let producer: KafkaProducer
    let topic: String
    let logger: Logger

    public init(producer: KafkaProducer, topic: String, logger: Logger) {
        self.producer = producer
        self.topic = topic
        self.logger = logger
    }

    public struct Letter: Sendable {
        public var record: KafkaRecord
        public var error: String
        public var cause: String
        public var rule: String?

        public init(record: KafkaRecord, error: String, cause: String, rule: String? = nil) {
            self.record = record
            self.error = error
            self.cause = cause
            self.rule = rule
        }
    }

    /// Publishes the letters and waits for their delivery reports, retrying while Kafka
    /// refuses them (an outage holds the batch back rather than losing its letters).
    ///
    /// - Parameter stopping: polled between retries; when it says so, the letters are
    ///   given up with `CancellationError` (the batch is read again at the next start).
    public func send(_ letters: [Letter], stopping: @Sendable () -> Bool = { false }) async throws {
        guard !letters.isEmpty else { return }
        let records = letters.map { l in
            var headers = l.record.headers
            headers.append(KafkaHeader(key: DeadLetterHeaders.error, value: l.error))
            headers.append(KafkaHeader(key: DeadLetterHeaders.cause, value: String(l.cause.prefix(4000))))
            headers.append(KafkaHeader(key: DeadLetterHeaders.source, value: "\(l.record.topic)/\(l.record.partition)/\(l.record.offset)"))
            if let rule = l.rule { headers.append(KafkaHeader(key: DeadLetterHeaders.rule, value: rule)) }
            return KafkaProducerRecord(topic: topic, key: l.record.key, value: l.record.value, headers: headers)
        }
        for l in letters {
            KafkaMetrics.deadLetters(l.error)
            logger.notice("dead letter", metadata: [
                "source": "\(l.record.topic)/\(l.record.partition)/\(l.record.offset)", "error": "\(l.error)", "cause": "\(l.cause)",
            ])
        }
        var pause: Duration = .milliseconds(200)
        while true {
            do {
                _ = try await producer.send(records)
                return
            } catch {
                if stopping() || error.code == .shutDown { throw CancellationError() }
                logger.warning("dead letters not delivered yet; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }
}
