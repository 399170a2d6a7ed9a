import ControlPlane
import Metrics

/// The Kafka transports' metrics: records consumed by outcome, trigger pauses, dead letters.
enum KafkaMetrics {
    /// Records read from Kafka by a consumer of the daemon, by outcome (`started`,
    /// `replayed`, `applied`, `dead_letter`, `no_rule`).
    public static func kafkaRecords(_ consumer: String, _ outcome: String, _ n: Int = 1) {
        guard n > 0 else { return }
        Counter(label: "stepline_kafka_records_total", dimensions: [("consumer", consumer), ("outcome", outcome)]).increment(by: Int64(n))
    }

    private static let triggerPauses = Counter(label: "stepline_trigger_pauses_total")

    /// The trigger consumer paused its partitions: the running executions reached the limit.
    static func triggersPaused() { triggerPauses.increment() }

    /// Records sent to the dead-letter topic, by error.
    public static func deadLetters(_ error: String) {
        Counter(label: "stepline_dead_letters_total", dimensions: [("error", error)]).increment()
    }
}
