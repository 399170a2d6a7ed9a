import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import StatesAPI
import StatesStore
import SteplineRuntime

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
            settings = try ServeConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
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
            try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        } catch {
            writeStderr("error: cannot create the data directory \(settings.dataDirectory): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        do {
            store = try SQLiteStore(path: settings.databasePath, options: .init(
                synchronous: settings.synchronous == "NORMAL" ? .normal : .full))
        } catch let e as StoreError {
            writeStderr("error: cannot open the store at \(settings.databasePath): \(e). The daemon takes no work without a writable store.")
            throw ExitCode(1)
        }
        let runtime = SteplineRuntime(store: store, configuration: settings.runtime, logger: logger)
        if settings.kafkaBrokers != nil {
            logger.warning("kafka.brokers is set, but this build does not connect to Kafka yet; activity tasks only")
        }
        for m in settings.stateMachines {
            do {
                let text = try String(contentsOfFile: m.definitionPath, encoding: .utf8)
                let r = try await runtime.executions.resources.putStateMachine(.init(
                    name: m.name, definition: text, roleArn: m.roleArn, type: m.type))
                logger.info("state machine loaded", metadata: ["arn": "\(r.arn)", "revision": "\(r.revisionId)"])
            } catch {
                writeStderr("error: state machine \(m.name) (\(m.definitionPath)): \(error)")
                try? await store.close()
                throw ExitCode(2)
            }
        }
        let api = StepFunctionsAPI(services: APIServices(runtime: runtime), logger: logger)
        let host = settings.host
        let server = APIServer.make(api: api, host: host, port: settings.port, logger: logger, metrics: metrics) { port in
            logger.info("listening", metadata: ["address": "http://\(host):\(port)", "data": "\(settings.databasePath)"])
        }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: runtime),
                .init(service: server),
                // Shut down first: stop taking work and release long polls, so the HTTP
                // server's graceful shutdown does not wait for them.
                .init(service: WorkGate(runtime: runtime)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
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
