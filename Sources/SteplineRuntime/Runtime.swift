import ControlPlane
import Logging
import ServiceLifecycle
import StatesEngine
import StatesStore
import Synchronization

/// A loop that runs as long as the daemon returned on its own.
public struct RuntimeLoopEnded: Error, CustomStringConvertible {
    public var loop: String
    public var description: String { "the \(loop) loop ended while the daemon was running" }
}

/// The runtime of `stepline serve`, assembled: store, executor, timers, outbox relay,
/// activity dispatcher. As a `Service` it recovers at start (timers due while the daemon
/// was down, task requests not confirmed), runs the timer and relay loops, and on
/// graceful shutdown stops taking work, finishes the commit in flight and closes the store.
public final class SteplineRuntime: Service, Sendable {
    /// What a runtime serves while it runs, to the parts built before it: the dispatchers'
    /// answers (`replies`: the executor's `TaskReplySink`) and the control plane that
    /// nested executions start their children through (`control`: `RuntimeControl`).
    ///
    /// Made first and handed to those parts, then to the runtime: construction follows the
    /// dependencies (executor → dispatcher → ports), and nothing is wired afterwards. A call
    /// made before `run()` waits for it; after shutdown it throws `ServiceError.shuttingDown`.
    public struct Ports: Sendable {
        public let replies = ServicePort<any TaskReplySink>()
        public let control = ServicePort<any StepFunctionsControl>()

        public init() {}
    }

    public let store: any StatesStore
    public let executions: ExecutionService
    public let activities: ActivityDispatcher
    public let ports: Ports
    public let kafka: any KafkaHealthProbe
    /// Map runs learned from histories, and UpdateMapRun's changes (`RuntimeControl`).
    let mapRuns: MapRuns
    private let logger: Logger
    private let clock: any RuntimeClock
    public let configuration: RuntimeConfiguration
    private let recovered = Atomic<Bool>(false)
    private let storeOpen = Atomic<Bool>(true)
    private let shuttingDown = Atomic<Bool>(false)
    /// Why the runtime stopped on its own (a loop failed), for `/healthz`.
    private let failure = Mutex<String?>(nil)

    /// The runtime's clock: epoch milliseconds.
    public func now() -> Int64 { clock.now() }

    /// - Parameters:
    ///   - ports: served by `run()`; the dispatcher answers through `ports.replies`.
    ///   - dispatcher: carries out the tasks that are not activities (the Kafka dispatcher);
    ///     nil: `UnconfiguredDispatcher`, which fails them with a clear cause.
    ///   - mirrorActivities: also hand activity tasks to `dispatcher` (Kafka workers of activities).
    public init(store: any StatesStore, configuration: RuntimeConfiguration = .init(), clock: any RuntimeClock = SystemClock(),
                hooks: RuntimeHooks = .init(), kafka: any KafkaHealthProbe = NoKafka(), ports: Ports = Ports(),
                dispatcher: (any TaskDispatcher)? = nil, mirrorActivities: Bool = false,
                logger: Logger = Logger(label: "stepline.runtime"))
    {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.kafka = kafka
        self.logger = logger
        self.ports = ports
        let activities = ActivityDispatcher()
        self.activities = activities
        let routing = RoutingDispatcher(
            activities: activities, fallback: dispatcher ?? UnconfiguredDispatcher(replies: ports.replies),
            mirrorsActivities: mirrorActivities)
        executions = ExecutionService(store: store, dispatcher: routing, configuration: configuration, clock: clock, hooks: hooks,
                                      logger: logger)
        mapRuns = MapRuns(executions: executions)
    }

    /// Recovery: loads the timers due (overdue ones included) and queues the task requests
    /// whose delivery was not confirmed. Executions themselves are replayed from their
    /// events on their next step: every stored execution is at rest between two steps.
    public func recover() async throws {
        let started = clock.now()
        let running = try await executions.committer.recountRunning()
        try await executions.timers.load(now: clock.now())
        try await executions.relay.recover(resendOpenTasks: configuration.resendOpenTasksAtStart)
        recovered.store(true, ordering: .releasing)
        logger.info("recovery done", metadata: [
            "running": "\(running)", "timers": "\(executions.timers.count)",
            "requests": "\(executions.relay.pendingCount)", "ms": "\(clock.now() - started)",
        ])
    }

    public func readiness() async -> Readiness {
        Readiness(storeOpen: storeOpen.load(ordering: .acquiring), recovered: recovered.load(ordering: .acquiring),
                  storeWritable: executions.committer.storageFailure == nil, kafka: await kafka.check(), shuttingDown: shuttingDown.load(ordering: .acquiring))
    }

    /// Recovers, then runs the timers, the outbox relay, retention and the gauges until
    /// graceful shutdown or cancellation, and shuts down (the store closed) either way. The
    /// ports are served from the start of recovery until shutdown begins.
    ///
    /// - Throws: what stopped a loop that must run as long as the daemon (the timers, the
    ///   relay): the service fails, and with it the daemon, rather than go on without them.
    public func run() async throws {
        try await ports.replies.serve(executions) {
            try await ports.control.serve(RuntimeControl(runtime: self)) {
                try await runServices()
            }
        }
    }

    private func runServices() async throws {
        try await recover()
        let failure: (any Error)? = await withTaskGroup(of: (any Error)?.self) { group in
            func essential(_ name: String, _ body: @escaping @Sendable () async throws -> Void) {
                group.addTask {
                    do {
                        try await body()
                    } catch {
                        if Task.isCancelled || Task.isShuttingDownGracefully { return nil }
                        self.logger.critical("the \(name) loop failed", metadata: ["error": "\(error)"])
                        return error
                    }
                    if Task.isCancelled || Task.isShuttingDownGracefully { return nil }
                    return RuntimeLoopEnded(loop: name)
                }
            }
            essential("timer") { try await self.executions.timers.run() }
            essential("outbox relay") { try await self.executions.relay.run() }
            group.addTask { await self.purgeLoop(); return nil }
            group.addTask { await self.sampleLoop(); return nil }
            // Returns at graceful shutdown (SIGTERM) and throws at cancellation.
            group.addTask { try? await gracefulShutdown(); return nil }
            let first = await group.next() ?? nil
            await self.shutdown()
            group.cancelAll()
            return first
        }
        if let failure {
            self.failure.withLock { $0 = "\(failure)" }
            throw failure
        }
    }

    /// What `/healthz` reports: nil while the process does its work; otherwise why not
    /// (shutting down, or a part that failed). A process that answers with a reason is on
    /// its way out (the daemon exits within its grace period); one that does not answer at
    /// all is wedged.
    public func liveness() -> String? {
        if let f = failure.withLock({ $0 }) { return "failed: \(f)" }
        if shuttingDown.load(ordering: .acquiring) { return "shutting down" }
        return nil
    }

    /// Re-queues the open tasks' requests (see `OutboxRelay.resendOpenTasks`).
    public func resendOpenTasks() async {
        do {
            try await executions.relay.resendOpenTasks()
        } catch {
            logger.error("could not read the open tasks to send them again", metadata: ["error": "\(error)"])
        }
    }

    /// Stops taking work, answers waiting pollers, writes the commit in flight and the
    /// steps already queued, and closes the store. The ports close too (a runtime that
    /// never ran does not leave their callers waiting).
    public func shutdown() async {
        guard !shuttingDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        logger.info("shutting down: no new work; finishing the commit in flight")
        executions.stopAccepting()
        ports.replies.close()
        ports.control.close()
        activities.close()
        await executions.committer.shutdown()
        executions.relay.finish()
        do {
            try await store.close()
        } catch {
            logger.error("closing the store failed", metadata: ["error": "\(error)"])
        }
        storeOpen.store(false, ordering: .releasing)
        logger.info("store closed")
    }

    /// Removes executions closed longer than the retention period (hourly).
    /// Backlog gauges for `/metrics`.
    private func sampleLoop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            RuntimeMetrics.sample(outboxPending: executions.relay.pendingCount, timers: executions.timers.count,
                                  running: executions.runningExecutions)
            try? await Task.sleep(for: .seconds(2))
        }
    }

    private func purgeLoop() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let cutoff = clock.now() - configuration.retentionDays * 86_400_000
            do {
                let n = try await store.purgeExecutions(stoppedBefore: cutoff)
                if n > 0 { logger.info("purged closed executions past retention", metadata: ["count": "\(n)"]) }
            } catch {
                logger.warning("purge failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
