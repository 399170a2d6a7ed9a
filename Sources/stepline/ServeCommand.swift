import ArgumentParser
import CommandSupport
import Foundation
import Logging
import Metrics
import Prometheus
import SteplineConfiguration

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
        do {
            try await serve()
        } catch {
            writeStderr("error: \(error.message)")
            throw ExitCode(error.status)
        }
    }

    /// The settings, the process's logging and metrics, the data directory and its lock,
    /// then the daemon, in that order.
    private func serve() async throws(DaemonFailure) {
        let settings = try settings()
        let logger = Self.bootstrapLogging(level: settings.logLevel)
        if settings.security.authentication == .none, !SecuritySettings.isLoopback(settings.host) {
            logger.warning("the API has no authentication and listens on \(settings.host): anyone who reaches the port may do anything (security.allowUnauthenticated)")
        }
        let encryption = settings.runtime.encryption
        if !encryption.keyring.isEmpty {
            // Keys by id and alias only: never their material.
            logger.notice("encryption at rest", metadata: [
                "keys": "\(encryption.keyring.keys.map(\.description).joined(separator: ", "))",
                "defaultKey": "\(encryption.defaultKey.map(\.id) ?? "none: machines that name a key only")",
            ])
        }
        // Before any metric is created: the runtime's and the API's counters bind to it.
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
        do {
            try DataDirectory.makePrivate(settings.dataDirectory, logger: logger)
        } catch {
            throw DaemonFailure(status: 1, message: "cannot create the data directory \(settings.dataDirectory): \(error.localizedDescription)")
        }
        // The lock lasts as long as the daemon runs.
        let lock = try DataDirectoryLock(directory: settings.dataDirectory)
        defer { lock.release() }
        let daemon = try await Daemon.make(settings: settings, metrics: metrics, logger: logger)
        try await daemon.run()
    }

    /// The configuration, with the connection limit fitted in the open-file limit (raised
    /// to its hard limit).
    private func settings() throws(DaemonFailure) -> ServeConfiguration {
        do {
            var settings = try ServeConfiguration.load(file: config, environment: ProcessInfo.processInfo.environment)
            if let files = OpenFileLimit.raise() { try settings.fitConnectionLimit(openFileLimit: files) }
            if let problem = settings.security.exposureProblem(host: settings.host) { throw ServeConfiguration.Invalid(description: problem) }
            return settings
        } catch {
            throw DaemonFailure(status: 2, message: "\(error)")
        }
    }

    /// Logs on stderr at `level` (the configuration checked it is a level's name).
    private static func bootstrapLogging(level: String) -> Logger {
        let level = Logger.Level(rawValue: level.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        return Logger(label: "stepline")
    }
}
