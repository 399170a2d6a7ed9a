import ArgumentParser
import CommandSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KafkaClient
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import StatesAPI
import StatesStore
import SteplineConfiguration
import SteplineRuntime
import Synchronization

/// `stepline serve`: the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: the Step Functions API, durable executions, timers, task dispatch.",
        discussion: """
            Embedded defaults: API on 127.0.0.1:8083, data in ./.stepline/ (SQLite, WAL). Overrides: \
            STEPLINE_CONFIG, STEPLINE_DATA_DIR, STEPLINE_LISTEN, STEPLINE_KAFKA_BROKERS, STEPLINE_LOG_LEVEL. \
            SIGTERM/SIGINT: stop taking work, finish the commit in flight, close the store.
            """)

    @Option(help: "A YAML configuration file (see config/stepline.yaml).")
    var config: String?

    func run() async throws {
        let settings: ServeConfiguration
        do {
            var loaded = try ServeConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
            if let files = OpenFileLimit.raise() { try loaded.fitConnectionLimit(openFileLimit: files) }
            settings = loaded
        } catch {
            writeStderr("error: \(error)")
            throw ExitCode(2)
        }
        let level = Logger.Level(rawValue: settings.logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "stepline")
        // Before any metric is created: the runtime's and the API's counters bind to it.
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
        let store: SQLiteStore
        do {
            try DataDirectory.makePrivate(settings.dataDirectory, logger: logger)
        } catch {
            writeStderr("error: cannot create the data directory \(settings.dataDirectory): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        // One daemon per data directory: a second one would share the store's writer and
        // overwrite the embedded broker's bootstrap file. The lock lasts as long as the process.
        let lockPath = (settings.dataDirectory as NSString).appendingPathComponent("stepline.lock")
        // (A lock file that cannot be created means a read-only directory: the store's
        // open reports that, and no other daemon can be writing there either.)
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD < 0 || flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            writeStderr("error: another stepline serve is using the data directory \(settings.dataDirectory) (\(lockPath) is locked)")
            throw ExitCode(1)
        }
        defer { if lockFD >= 0 { close(lockFD) } }
        do {
            store = try SQLiteStore(path: settings.databasePath, options: .init(
                synchronous: settings.synchronous == "NORMAL" ? .normal : .full))
        } catch let e as StoreError {
            writeStderr("error: cannot open the store at \(settings.databasePath): \(e). The daemon takes no work without a writable store.")
            throw ExitCode(1)
        }
        let kafka: DaemonKafka
        do {
            kafka = try await DaemonKafka.start(settings, logger: logger)
        } catch {
            writeStderr("error: Kafka: \(error)")
            try? await store.close()
            throw ExitCode(1)
        }
        var runtimeConfiguration = settings.runtime
        // The embedded broker starts empty: tasks sent before a restart are sent again.
        runtimeConfiguration.resendOpenTasksAtStart = kafka.embedded != nil
        let replyChannel = TaskReplyChannel()
        let nested = NestedExecutions(logger: logger)
        let dispatcher = KafkaTaskDispatcher(
            producer: kafka.producer,
            planner: IntegrationPlanner(topics: settings.topics, region: settings.region, account: settings.account),
            replies: replyChannel, nested: nested, logger: logger)
        let runtime = SteplineRuntime(
            store: store, configuration: runtimeConfiguration, kafka: kafka.monitor,
            makeFallbackDispatcher: { sink in
                replyChannel.bind(sink)
                return dispatcher
            },
            mirrorActivities: settings.topics.publishActivities, logger: logger)
        nested.bind(runtime.executions)
        do {
            try await loadStateMachines(settings, runtime: runtime, logger: logger)
        } catch {
            writeStderr("error: \(error)")
            try? await store.close()
            await kafka.close(within: .seconds(3))
            throw ExitCode(2)
        }
        let registry: TriggerRegistry
        do {
            registry = try TriggerRegistry(
                config: settings.triggers, file: URL(fileURLWithPath: settings.dataDirectory).appendingPathComponent("triggers.json"),
                loopCheck: settings.loopCheck)
        } catch {
            writeStderr("error: the trigger rules: \(error)")
            try? await store.close()
            await kafka.close(within: .seconds(3))
            throw ExitCode(2)
        }
        for rule in registry.snapshot.rules {
            logger.info("trigger", metadata: ["name": "\(rule.name)", "topic": "\(rule.topic)", "stateMachine": "\(rule.stateMachine)", "source": "\(rule.source)"])
        }
        await kafka.ensureTopics([settings.topics.taskReplies, settings.topics.executionStatus, settings.topics.deadLetters]
            + registry.snapshot.topics, logger: logger)
        let deadLetters = DeadLetters(producer: kafka.producer, topic: settings.topics.deadLetters, logger: logger)
        let replies: ReplyConsumer
        let triggers: TriggerConsumer
        do {
            let replyConfiguration = kafka.consumerConfiguration(group: settings.kafkaGroupID + ".replies")
            let replyTopic = settings.topics.taskReplies
            // Made once here, so that a configuration error stops the daemon at start.
            let firstReplyConsumer = Mutex<KafkaConsumer?>(try KafkaConsumer(configuration: replyConfiguration, topics: [replyTopic]))
            replies = ReplyConsumer(
                makeConsumer: { fromBeginning in
                    if !fromBeginning, let first = firstReplyConsumer.withLock({ f in defer { f = nil }; return f }) { return first }
                    var c = replyConfiguration
                    c.startAtBeginning = fromBeginning
                    return try KafkaConsumer(configuration: c, topics: [replyTopic])
                },
                service: runtime.executions, dispatcher: dispatcher, deadLetters: deadLetters, monitor: kafka.monitor, logger: logger)
            let triggerConfiguration = kafka.consumerConfiguration(group: settings.kafkaGroupID + ".triggers")
            triggers = TriggerConsumer(
                registry: registry, service: runtime.executions,
                makeConsumer: { topics, fromBeginning in
                    var c = triggerConfiguration
                    c.startAtBeginning = fromBeginning
                    return try KafkaConsumer(configuration: c, topics: topics)
                },
                deadLetters: deadLetters, monitor: kafka.monitor, region: settings.region, account: settings.account, logger: logger)
        } catch {
            writeStderr("error: Kafka consumer: \(error)")
            try? await store.close()
            await kafka.close(within: .seconds(3))
            throw ExitCode(1)
        }
        let api = StepFunctionsAPI(services: APIServices(runtime: runtime), logger: logger)
        let host = settings.host
        let server = APIServer.make(api: api, host: host, port: settings.port, limits: settings.httpLimits, triggers: registry,
                                    metrics: metrics) { port in
            logger.info("listening", metadata: ["address": "http://\(host):\(port)", "data": "\(settings.databasePath)"])
        }
        let lifecycle = DaemonLifecycle(gracePeriod: settings.shutdownGracePeriod, logger: logger)
        // Graceful shutdown runs in reverse order: the watcher and the consumers stop first
        // (their batches finish and their offsets are committed), then the doors close, the
        // HTTP server stops, the runtime finishes its commits and closes the store, and the
        // producer flushes for what is left of the grace period.
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
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: Supervised(name: $0.0, service: $0.1, lifecycle: lifecycle)) }, logger: logger)
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
            writeStderr("error: \(why)")
            throw ExitCode(1)
        }
        logger.notice("stopped")
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
