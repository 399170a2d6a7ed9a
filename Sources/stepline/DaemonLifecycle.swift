import SteplineKafka
import CommandSupport
import Dispatch
import Foundation
import KafkaClient
import Logging
import ServiceLifecycle
import SteplineConfiguration
import SteplineRuntime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How `stepline serve` ends: in bounded time, whatever Kafka does.
///
/// - The first SIGTERM or SIGINT starts a graceful shutdown of the service group (consumers
///   finish their batch, the API stops, the commits in flight are written, the producer
///   flushes what it can) and arms a watchdog: when the grace period is over the process
///   exits with status 0 even if a part is still waiting (on a broker that is down, say).
///   Nothing committed is lost: the store is on disk after every commit, and a request not
///   yet delivered stays in the outbox, to go out after the next start.
/// - A second signal exits at once (status 128 + the signal's number).
/// - A service that fails (or ends on its own) cancels the group; the same watchdog makes
///   the process exit with status 1 at the end of the grace period, so that a supervisor
///   restarts it rather than find it wedged.
final class DaemonLifecycle: Sendable {
    let gracePeriod: Duration
    private let logger: Logger
    private struct State {
        var shutdownStarted: ContinuousClock.Instant?
        var signals = 0
        var failure: String?
    }

    private let state = Mutex(State())
    private let sources = SignalSources()

    init(gracePeriod: Duration, logger: Logger) {
        self.gracePeriod = gracePeriod
        self.logger = logger
    }

    /// Takes SIGTERM and SIGINT over from their default action; `shutdown` is what the first
    /// one starts.
    func handleSignals(_ shutdown: @escaping @Sendable () async -> Void) {
        var made: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in received(sig, shutdown) }
            source.resume()
            made.append(source)
        }
        sources.keep(made)
    }

    private func received(_ sig: Int32, _ shutdown: @escaping @Sendable () async -> Void) {
        let count = state.withLock { s in
            s.signals += 1
            return s.signals
        }
        let name = sig == SIGTERM ? "SIGTERM" : "SIGINT"
        if count > 1 {
            writeStderr("stepline: second \(name): exiting now (committed work is on disk; undelivered records stay in the outbox)")
            _exit(128 + sig)
        }
        logger.notice("\(name): shutting down", metadata: ["gracePeriod": "\(gracePeriod)"])
        arm(exitStatus: 0, reason: "the grace period (\(gracePeriod)) is over")
        Task { await shutdown() }
    }

    /// A service failed: the group is being cancelled; the process exits non-zero by the
    /// end of the grace period at the latest.
    func failed(_ service: String, _ error: any Error) {
        // A part that fails while a signal's shutdown runs does not make that shutdown a failure.
        state.withLock { s in if s.failure == nil && s.signals == 0 { s.failure = "\(service): \(error)" } }
        arm(exitStatus: 1, reason: "\(service) failed (\(error)) and the others did not stop within \(gracePeriod)")
    }

    /// Why the daemon failed, if it did (before any signal asked it to stop).
    var failure: String? { state.withLock { $0.failure } }

    /// Whether a signal asked for the shutdown.
    var wasSignalled: Bool { state.withLock { $0.signals > 0 } }

    /// Time left before the watchdog ends the process (the whole grace period before it is armed).
    var remaining: Duration {
        guard let started = state.withLock({ $0.shutdownStarted }) else { return gracePeriod }
        return max(.zero, gracePeriod - started.duration(to: .now))
    }

    private func arm(exitStatus: Int32, reason: String) {
        let first = state.withLock { s in
            if s.shutdownStarted != nil { return false }
            s.shutdownStarted = .now
            return true
        }
        guard first else { return }
        let nanoseconds = gracePeriod.components.seconds * 1_000_000_000 + gracePeriod.components.attoseconds / 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
            writeStderr("stepline: \(reason): exiting with status \(exitStatus); undelivered records stay in the outbox and go out after the next start")
            _exit(exitStatus)
        }
    }
}

/// Keeps the signal sources alive for the process's lifetime.
private final class SignalSources: @unchecked Sendable {
    // @unchecked Sendable: written once under the lock, never read; it only holds references.
    private let lock = NSLock()
    private var sources: [any DispatchSourceSignal] = []

    func keep(_ s: [any DispatchSourceSignal]) {
        lock.lock()
        sources += s
        lock.unlock()
    }
}

/// A service whose failure the lifecycle learns at once (the group's own error comes only
/// once every other service has stopped, which is what may never happen).
struct Supervised: Service {
    let name: String
    let service: any Service
    let lifecycle: DaemonLifecycle

    func run() async throws {
        do {
            try await service.run()
        } catch {
            if !(error is CancellationError) { lifecycle.failed(name, error) }
            throw error
        }
        if !Task.isShuttingDownGracefully && !Task.isCancelled {
            lifecycle.failed(name, ServiceEnded(name: name))
            throw ServiceEnded(name: name)
        }
    }
}

/// A service that must run as long as the daemon returned on its own.
struct ServiceEnded: Error, CustomStringConvertible {
    var name: String
    var description: String { "\(name) stopped while the daemon was running" }
}

/// The Kafka producer as a service: flushes at shutdown, after the runtime, for the time
/// the grace period leaves (less a second for the rest); what is not delivered by then is
/// purged, and stays PENDING in the outbox.
///
/// While running it watches for a fatal librdkafka error: such a producer sends nothing
/// ever again, so the service fails (and the daemon exits 1 for its supervisor to restart
/// it) rather than let the outbox retry forever.
struct ProducerService: Service {
    let producer: KafkaProducer
    let lifecycle: DaemonLifecycle
    var checkInterval: Duration = .seconds(1)

    func run() async throws {
        let fatal: KafkaError? = await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if let e = producer.fatalError { return e }
                try? await Task.sleep(for: checkInterval)
            }
            return nil
        }
        await producer.close(flushTimeout: max(.milliseconds(100), lifecycle.remaining - .seconds(1)))
        if let fatal { throw fatal }
    }
}

/// Closes the doors at graceful shutdown: no new executions or answers, no more waiting
/// pollers. Runs last, so it stops first.
struct WorkGate: Service {
    let runtime: SteplineRuntime

    func run() async throws {
        try? await gracefulShutdown()
        runtime.executions.stopAccepting()
        runtime.activities.close()
    }
}

/// Reacts to the Kafka cluster the monitor sees: requests sent to a cluster that is gone
/// (a development broker restarted, another cluster configured) are sent again, at start
/// (against the id recorded in the data directory) and while running; while running, the
/// consumers also start over from the beginning of the new cluster's topics.
struct ClusterWatch: Service {
    let monitor: KafkaMonitor
    let runtime: SteplineRuntime
    /// Restart the consumers from the beginning of their topics (`restartFromBeginning`).
    let consumers: [@Sendable () -> Void]
    /// Where the last cluster id is kept (`<dataDir>/kafka-cluster-id`).
    let file: String
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await sighting in monitor.clusterSightings {
                let before = sighting.previous ?? (try? String(contentsOfFile: file, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                if let before, !before.isEmpty, before != sighting.current {
                    logger.warning("the Kafka cluster changed: the requests of open tasks are sent again", metadata: [
                        "previous": "\(before)", "current": "\(sighting.current)",
                    ])
                    await runtime.resendOpenTasks()
                    // While running, the consumers' positions (and the offsets they commit)
                    // are the old cluster's: on the new one they would skip records.
                    if sighting.previous != nil { for restart in consumers { restart() } }
                }
                DataDirectory.writePrivate(sighting.current + "\n", to: file)
            }
        }
    }
}
