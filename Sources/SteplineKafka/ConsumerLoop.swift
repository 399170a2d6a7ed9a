import ControlPlane
import KafkaClient
import Logging

/// The poll loop the trigger and reply consumers share: batches until shutdown, Kafka
/// outages ridden out, the consumer closed in bounded time.
///
/// - A poll that fails for a reason that can pass (no broker reachable, a topic not there
///   yet, a coordinator moving) is logged once, reported to the monitor (so `/readyz` says
///   why it is not ready) and retried with a growing pause (up to 5 s); librdkafka
///   reconnects by itself. The first batch after it clears the report.
/// - A failure that cannot pass (a fatal librdkafka error, a configuration error) is
///   thrown: the service fails and the daemon exits non-zero, for its supervisor to restart.
/// - `process` MUST store the batch's offsets once its effect is durable; what it throws
///   ends the loop (`CancellationError` at shutdown: the batch is read again next time).
struct ConsumerLoop: Sendable {
    /// `triggers` or `replies`: the name in logs, metrics and `/readyz`.
    let name: String
    let monitor: KafkaMonitor?
    let logger: Logger
    /// How long closing the consumer may take at the end (leaving the group blocks while
    /// the brokers are down).
    var closeTimeout: Duration = .seconds(3)

    /// Errors that no retry can mend.
    static func isPermanent(_ e: KafkaError) -> Bool {
        e.code == .fatal || e.code == .configuration || e.code == .unsupportedLibrary
    }

    /// Polls `consumer` until its graceful shutdown is triggered, then closes it.
    func run(_ consumer: KafkaConsumer, maxRecords: Int, process: ([KafkaRecord]) async throws -> Void) async throws {
        var failing: KafkaError?
        var pause: Duration = .milliseconds(200)
        defer { monitor?.report(name, problem: nil) }
        do {
            while !consumer.isShutdownTriggered {
                let batch: [KafkaRecord]
                do {
                    batch = try await consumer.poll(maxRecords: maxRecords, timeout: .milliseconds(100))
                } catch where error.code == .shutDown {
                    break
                } catch where Self.isPermanent(error) {
                    logger.critical("\(name): the Kafka consumer failed for good", metadata: ["error": "\(error)"])
                    throw error
                } catch {
                    if failing == nil {
                        logger.warning("\(name): Kafka poll failed; retrying until it answers", metadata: ["error": "\(error)"])
                    }
                    failing = error
                    monitor?.report(name, problem: error.message)
                    try? await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(5))
                    continue
                }
                if let was = failing {
                    logger.notice("\(name): Kafka answers again", metadata: ["after": "\(was.code)"])
                    failing = nil
                    pause = .milliseconds(200)
                    monitor?.report(name, problem: nil)
                }
                if batch.isEmpty { continue }
                do {
                    try await process(batch)
                } catch let e as KafkaError where e.code == .partitionsRevoked {
                    // A rebalance took partitions away mid-batch: their new owner reads
                    // those records again, and the starts and replies are idempotent.
                    logger.info("\(name): partitions revoked during a batch", metadata: ["detail": "\(e.message)"])
                }
            }
        } catch is CancellationError where consumer.isShutdownTriggered {
            // Stopped during a batch: its offsets are not stored; it is read again.
        } catch {
            await close(consumer)
            throw error
        }
        await close(consumer)
    }

    private func close(_ consumer: KafkaConsumer) async {
        if !(await consumer.close(timeout: closeTimeout)) {
            logger.warning("\(name): the consumer did not leave its group within \(closeTimeout); its uncommitted offsets are read again at the next start")
        }
    }
}
