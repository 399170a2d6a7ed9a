import SteplineKafka
import ControlPlane
import Foundation
import KafkaClient
import Logging
import NIOSSL
import Prometheus
import ServiceLifecycle
import StatesAPI
import StatesStore
import SteplineConfiguration
import SteplineRuntime
import SteplineSecurity
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why `stepline serve` stops before or while it runs: the message for stderr (without
/// "error: ") and the exit status (2: the configuration or what it names; 1: the machine,
/// Kafka, or a part that failed).
struct DaemonFailure: Error, CustomStringConvertible {
    var status: Int32
    var message: String
    var description: String { message }
}

/// The daemon's parts, made in dependency order by `make`: the store, Kafka, the runtime and
/// its task dispatcher, the configuration's state machines, the trigger rules, the consumers,
/// the API server. Nothing is wired after `make` returns; `run` runs them in a service group.
struct Daemon {
    let settings: ServeConfiguration
    let logger: Logger
    let kafka: DaemonKafka
    let runtime: SteplineRuntime
    let registry: TriggerRegistry
    let replies: ReplyConsumer
    let triggers: TriggerConsumer
    let server: HTTPServer

    /// Makes the parts; a part that cannot be made closes those made before it (in reverse
    /// order) and is the failure thrown.
    ///
    /// - Parameter metrics: the registry of `/metrics`, bootstrapped before any metric exists.
    /// - Throws: `DaemonFailure` naming what could not be made.
    static func make(settings: ServeConfiguration, metrics: PrometheusCollectorRegistry, logger: Logger) async throws(DaemonFailure) -> Daemon {
        // Files that are read once and can be wrong, before anything starts.
        let tls = try settings.tls.map { files throws(DaemonFailure) in
            do {
                return try HTTPServer.tlsContext(certificatePath: files.certificate, privateKeyPath: files.privateKey)
            } catch {
                throw DaemonFailure(status: 2, message: "\(error)")
            }
        }
        let store = try openStore(settings)
        do throws(DaemonFailure) {
            let kafka = try await startKafka(settings, logger: logger)
            do throws(DaemonFailure) {
                return try await make(settings: settings, store: store, kafka: kafka, metrics: metrics, tls: tls, logger: logger)
            } catch {
                await kafka.close(within: .seconds(3))
                throw error
            }
        } catch {
            try? await store.close()
            throw error
        }
    }

    static func openStore(_ settings: ServeConfiguration) throws(DaemonFailure) -> SQLiteStore {
        do {
            let keyring = settings.runtime.encryption.keyring
            return try SQLiteStore(path: settings.databasePath, options: .init(
                synchronous: settings.synchronous == "NORMAL" ? .normal : .full, sealer: keyring.isEmpty ? nil : DataSealer(keyring: keyring)))
        } catch {
            throw DaemonFailure(status: 1, message: "cannot open the store at \(settings.databasePath): \(error). The daemon takes no work without a writable store.")
        }
    }

    static func startKafka(_ settings: ServeConfiguration, logger: Logger) async throws(DaemonFailure) -> DaemonKafka {
        do {
            return try await DaemonKafka.start(settings, logger: logger)
        } catch {
            throw DaemonFailure(status: 1, message: "Kafka: \(error)")
        }
    }

    /// The parts over the store and Kafka.
    private static func make(settings: ServeConfiguration, store: SQLiteStore, kafka: DaemonKafka, metrics: PrometheusCollectorRegistry,
                             tls: NIOSSLContext?, logger: Logger) async throws(DaemonFailure) -> Daemon
    {
        let (runtime, dispatcher) = makeRuntime(settings, store: store, kafka: kafka, logger: logger)
        do {
            try await loadStateMachines(settings, runtime: runtime, logger: logger)
        } catch {
            throw DaemonFailure(status: 2, message: "\(error)")
        }
        let registry = try makeTriggerRegistry(settings)
        for rule in registry.snapshot.rules {
            logger.info("trigger", metadata: ["name": "\(rule.name)", "topic": "\(rule.topic)", "stateMachine": "\(rule.stateMachine)", "source": "\(rule.source)"])
        }
        await kafka.ensureTopics([settings.topics.taskReplies, settings.topics.executionStatus, settings.topics.deadLetters]
            + registry.snapshot.topics, logger: logger)
        let deadLetters = DeadLetters(producer: kafka.producer, topic: settings.topics.deadLetters, logger: logger)
        let replies = try makeReplyConsumer(settings, kafka: kafka, runtime: runtime, dispatcher: dispatcher, deadLetters: deadLetters,
                                            logger: logger)
        let triggers = makeTriggerConsumer(settings, kafka: kafka, runtime: runtime, registry: registry, deadLetters: deadLetters,
                                           logger: logger)
        let server = makeAPIServer(settings, runtime: runtime, registry: registry, metrics: metrics, tls: tls, logger: logger)
        return Daemon(settings: settings, logger: logger, kafka: kafka, runtime: runtime, registry: registry, replies: replies,
                      triggers: triggers, server: server)
    }

    /// The runtime over the store, and the dispatcher that publishes its tasks on Kafka.
    static func makeRuntime(_ settings: ServeConfiguration, store: SQLiteStore, kafka: DaemonKafka, logger: Logger)
        -> (SteplineRuntime, KafkaTaskDispatcher)
    {
        var configuration = settings.runtime
        // The embedded broker starts empty: tasks sent before a restart are sent again.
        configuration.resendOpenTasksAtStart = kafka.embedded != nil
        // The dispatcher answers the executor, which is built after it, through the ports
        // that the runtime serves while it runs.
        let ports = SteplineRuntime.Ports()
        let nested = NestedExecutions(control: ports.control, replies: ports.replies, logger: logger)
        let dispatcher = KafkaTaskDispatcher(
            producer: kafka.producer,
            planner: IntegrationPlanner(topics: settings.topics, region: settings.region, account: settings.account),
            roles: settings.security.executionRoles(region: settings.region), replies: ports.replies, nested: nested, logger: logger)
        let runtime = SteplineRuntime(
            store: store, configuration: configuration, kafka: kafka.monitor, ports: ports, dispatcher: dispatcher,
            mirrorActivities: settings.topics.publishActivities, logger: logger)
        return (runtime, dispatcher)
    }

    /// The configuration's rules and those of the trigger API (`<dataDir>/triggers.json`).
    static func makeTriggerRegistry(_ settings: ServeConfiguration) throws(DaemonFailure) -> TriggerRegistry {
        do {
            return try TriggerRegistry(
                config: settings.triggers, file: URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("triggers.json"),
                loopCheck: settings.loopCheck)
        } catch {
            throw DaemonFailure(status: 2, message: "the trigger rules: \(error)")
        }
    }

    /// The reply consumer (group `<groupId>.replies`). Its first Kafka consumer is made
    /// here, so that a configuration error stops the daemon at start.
    static func makeReplyConsumer(_ settings: ServeConfiguration, kafka: DaemonKafka, runtime: SteplineRuntime,
                                  dispatcher: KafkaTaskDispatcher, deadLetters: DeadLetters, logger: Logger) throws(DaemonFailure)
        -> ReplyConsumer
    {
        let configuration = kafka.consumerConfiguration(group: settings.kafkaGroupID + ".replies")
        let topic = settings.topics.taskReplies
        let first: Mutex<KafkaConsumer?>
        do {
            first = Mutex(try KafkaConsumer(configuration: configuration, topics: [topic]))
        } catch {
            throw DaemonFailure(status: 1, message: "Kafka consumer: \(error)")
        }
        return ReplyConsumer(
            makeConsumer: { fromBeginning in
                if !fromBeginning, let consumer = first.withLock({ f in defer { f = nil }; return f }) { return consumer }
                var c = configuration
                c.startAtBeginning = fromBeginning
                return try KafkaConsumer(configuration: c, topics: [topic])
            },
            control: RuntimeControl(runtime: runtime), dispatcher: dispatcher, deadLetters: deadLetters, monitor: kafka.monitor, logger: logger)
    }

    /// The trigger consumer (group `<groupId>.triggers`), on the topics of the rules in force.
    static func makeTriggerConsumer(_ settings: ServeConfiguration, kafka: DaemonKafka, runtime: SteplineRuntime, registry: TriggerRegistry,
                                    deadLetters: DeadLetters, logger: Logger) -> TriggerConsumer
    {
        let configuration = kafka.consumerConfiguration(group: settings.kafkaGroupID + ".triggers")
        return TriggerConsumer(
            registry: registry, control: RuntimeControl(runtime: runtime),
            makeConsumer: { topics, fromBeginning in
                var c = configuration
                c.startAtBeginning = fromBeginning
                return try KafkaConsumer(configuration: c, topics: topics)
            },
            deadLetters: deadLetters, monitor: kafka.monitor, region: settings.region, account: settings.account, logger: logger)
    }

    /// The HTTP server: the Step Functions API, the trigger API, health and metrics.
    static func makeAPIServer(_ settings: ServeConfiguration, runtime: SteplineRuntime, registry: TriggerRegistry,
                              metrics: PrometheusCollectorRegistry, tls: NIOSSLContext?, logger: Logger) -> HTTPServer
    {
        let security = settings.security
        let access = security.authentication == .sigv4
            ? AccessControl(principals: security.principals.map { ($0.key, security.policies(named: $0.policies)) }, region: settings.region,
                            account: settings.account, secureTransport: tls != nil)
            : nil
        let api = StepFunctionsAPI(control: RuntimeControl(runtime: runtime), logger: logger, access: access)
        let host = settings.host, databasePath = settings.databasePath
        let triggers = TriggerService(registry: registry, region: settings.region, account: settings.account)
        let scheme = tls == nil ? "http" : "https"
        return APIServer.make(api: api, host: host, port: settings.port, limits: settings.httpLimits, health: runtime,
                              triggers: triggers, metrics: metrics, tls: tls) { port in
            logger.info("listening", metadata: ["address": "\(scheme)://\(host):\(port)", "data": "\(databasePath)"])
        }
    }

    /// The services in start order. Graceful shutdown runs in reverse order: the watcher and
    /// the consumers stop first (their batches finish and their offsets are committed), then
    /// the doors close, the HTTP server stops, the runtime finishes its commits and closes the
    /// store, and the producer flushes for what is left of the grace period.
    func services(lifecycle: DaemonLifecycle) -> [(String, any Service)] {
        var services: [(String, any Service)] = [
            ("the Kafka producer", ProducerService(producer: kafka.producer, lifecycle: lifecycle)),
            ("the Kafka monitor", kafka.monitor),
            ("the runtime", runtime),
            ("the API server", server),
            ("the work gate", WorkGate(runtime: runtime)),
            ("the Kafka cluster watch", ClusterWatch(
                monitor: kafka.monitor, runtime: runtime, consumers: [replies.restartFromBeginning, triggers.restartFromBeginning],
                file: (settings.dataDirectory as NSString).appendingPathComponent("kafka-cluster-id"), logger: logger)),
            ("the reply consumer", replies),
            ("the trigger consumer", triggers),
        ]
        if let file = settings.file {
            services.append(("the configuration watcher", ConfigWatcher(
                file: file, environment: ProcessInfo.processInfo.environment, registry: registry, runtime: runtime, logger: logger)))
        }
        return services
    }

    /// Runs the services until a signal stops them (returns) or a part fails (throws), in
    /// bounded time either way (`DaemonLifecycle`); then closes Kafka.
    ///
    /// - Throws: `DaemonFailure` with status 1 when a part failed or the services ended
    ///   without a signal.
    func run() async throws(DaemonFailure) {
        let lifecycle = DaemonLifecycle(gracePeriod: settings.shutdownGracePeriod, logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: services(lifecycle: lifecycle).map { .init(service: Supervised(name: $0.0, service: $0.1, lifecycle: lifecycle)) },
            logger: logger)
        // Past most of the grace period, what still waits is cancelled (the consumers and
        // the producer then stop at once); the lifecycle's watchdog ends the rest.
        configuration.maximumGracefulShutdownDuration = settings.shutdownGracePeriod * 7 / 10
        let group = ServiceGroup(configuration: configuration)
        lifecycle.handleSignals { await group.triggerGracefulShutdown() }
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        await kafka.close(within: max(.milliseconds(100), lifecycle.remaining - .milliseconds(500)))
        if let why = lifecycle.failure ?? failure.map({ "\($0)" }) ?? (lifecycle.wasSignalled ? nil : "the services ended without a signal") {
            // A service failed (the listen address taken, Kafka failing for good, ...): the
            // others were cancelled. Non-zero, so that a supervisor restarts the daemon.
            logger.error("stopped on error", metadata: ["error": "\(why)"])
            throw DaemonFailure(status: 1, message: why)
        }
        logger.notice("stopped")
    }
}

/// One daemon per data directory: a second one would share the store's writer and
/// overwrite the embedded broker's bootstrap file. The lock lasts until `release`.
struct DataDirectoryLock {
    private let fd: Int32

    /// Takes `<directory>/stepline.lock`.
    ///
    /// A lock file that cannot be created means a read-only directory: the store's open
    /// reports that, and no other daemon can be writing there either.
    ///
    /// - Throws: `DaemonFailure` (status 1) when another daemon holds it.
    init(directory: String) throws(DaemonFailure) {
        let path = (directory as NSString).appendingPathComponent("stepline.lock")
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw DaemonFailure(status: 1, message: "another stepline serve is using the data directory \(directory) (\(path) is locked)")
        }
    }

    func release() {
        if fd >= 0 { close(fd) }
    }
}

/// Loads (creates or updates) the state machines named in the configuration.
func loadStateMachines(_ settings: ServeConfiguration, runtime: SteplineRuntime, logger: Logger) async throws {
    for m in settings.stateMachines {
        do {
            let text = try String(contentsOfFile: m.definitionPath, encoding: .utf8)
            let r = try await runtime.executions.resources.putStateMachine(.init(
                name: m.name, definition: text, roleArn: m.roleArn, type: m.type))
            logger.info("state machine loaded", metadata: ["arn": "\(r.arn)", "revision": "\(r.revisionId)"])
        } catch {
            throw ServeConfiguration.Invalid(description: "state machine \(m.name) (\(m.definitionPath)): \(error)")
        }
    }
}
