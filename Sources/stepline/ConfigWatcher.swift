import SteplineKafka
import Foundation
import Logging
import ServiceLifecycle
import SteplineConfiguration
import SteplineRuntime

/// Reloads the configuration file when it changes: its trigger rules replace the previous
/// ones and its state machines are updated, without a restart. A file that no longer parses
/// is reported and ignored (the rules in force stay). Other sections need a restart.
///
/// - Important: its description is what ServiceLifecycle logs for it (at `debug`): it names
///   the file only. It keeps only the `STEPLINE_*` variables of the environment, which a
///   reload reads again; the rest of the environment (tokens, passwords) is never held.
struct ConfigWatcher: Service, CustomStringConvertible {
    let file: String
    let environment: [String: String]
    let registry: TriggerRegistry
    let runtime: SteplineRuntime
    let logger: Logger
    var interval: Duration = .seconds(1)

    init(file: String, environment: [String: String], registry: TriggerRegistry, runtime: SteplineRuntime, logger: Logger) {
        self.file = file
        self.environment = environment.filter { $0.key.hasPrefix("STEPLINE_") }
        self.registry = registry
        self.runtime = runtime
        self.logger = logger
    }

    var description: String { "ConfigWatcher(\(file))" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var last = Self.stamp(file)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let now = Self.stamp(file)
                guard now != last else { continue }
                last = now
                await reload()
            }
        }
    }

    /// Modification time and size: a rewrite within the same second usually changes one.
    static func stamp(_ file: String) -> String {
        guard let a = try? FileManager.default.attributesOfItem(atPath: file) else { return "missing" }
        let date = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(date)/\(a[.size] ?? 0)"
    }

    func reload() async {
        let settings: ServeConfiguration
        do {
            settings = try ServeConfiguration.load(file: file, environment: environment)
        } catch {
            logger.error("configuration not reloaded: the file does not parse; the previous rules stay", metadata: [
                "file": "\(file)", "error": "\(error)",
            ])
            return
        }
        do {
            try registry.replaceConfigRules(settings.triggers)
            try await loadStateMachines(settings, runtime: runtime, logger: logger)
            logger.notice("configuration reloaded", metadata: [
                "file": "\(file)", "triggers": "\(settings.triggers.count)", "stateMachines": "\(settings.stateMachines.count)",
            ])
        } catch {
            logger.error("configuration not fully reloaded", metadata: ["file": "\(file)", "error": "\(error)"])
        }
    }
}
