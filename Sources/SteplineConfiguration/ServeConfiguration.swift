import SteplineKafka
import Foundation
import StatesAPI
import StatesLanguage
import SteplineRuntime
import Yams

/// `stepline serve` settings: embedded defaults, then the YAML file, then `STEPLINE_*`
/// environment overrides. Unknown keys and bad values are errors that name the key.
///
/// The keys and their defaults are the README's "Configuration" section; PRODUCT.md fixes
/// the shape scripts rely on.
public struct ServeConfiguration: Sendable {
    /// A state machine loaded (created or updated) at start and on reload.
    public struct MachineFile: Sendable, Equatable {
        public var name: String
        /// Absolute, or relative to the working directory when the configuration file's
        /// path was.
        public var definitionPath: String
        /// `STANDARD` or `EXPRESS`.
        public var type: String
        public var roleArn: String
    }

    public var host = "127.0.0.1"
    public var port = 8083
    /// The HTTP server's limits (`api.headerTimeoutSeconds`, `bodyTimeoutSeconds`,
    /// `idleTimeoutSeconds`, `maxConnections`).
    public var httpLimits = HTTPServer.Limits()
    /// `api.maxConnections` was configured: it must fit in the open-file limit, where the
    /// default shrinks to fit.
    var maxConnectionsGiven = false
    public var dataDirectory = "./.stepline"
    public var storePath: String?
    public var synchronous = "FULL"
    public var logLevel = "info"
    public var kafkaBrokers: String?
    /// Raw librdkafka properties for every client (TLS, SASL, ...).
    public var kafkaProperties: [String: String] = [:]
    /// The consumer group of the reply and trigger consumers (one per daemon fleet).
    public var kafkaGroupID = "stepline"
    /// The brokers are librdkafka's mock cluster (`stepline broker`): consumers then fetch
    /// with a 1 ms wait, as the mock holds every fetch for its whole wait. Default: true for
    /// the embedded broker, false for configured brokers.
    public var kafkaDevelopmentBroker: Bool?
    public var triggers: [TriggerRule] = []
    public var topics = IntegrationTopics()
    /// Publish execution status events (STANDARD executions) on `topics.executionStatus`.
    public var statusEvents = true
    /// The file read, for reloads.
    public var file: String?
    public var region = "us-east-1"
    public var account = "123456789012"
    public var stateMachines: [MachineFile] = []
    public var runtime = RuntimeConfiguration()
    /// SIGTERM ends the process within this time, whatever Kafka does.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Authentication, policies and roles (`security`).
    public var security = SecuritySettings()
    /// HTTPS (`api.tls`): PEM files.
    public var tls: TLSFiles?

    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var privateKey: String

        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// The embedded defaults.
    public init() {}

    /// A configuration that cannot be used: the message names the key (or the file).
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// File descriptors kept for the store, Kafka's sockets and the rest, besides connections.
    public static let reservedFiles = 512

    /// Fits the connection limit in the open-file limit (a connection is a file): the
    /// default shrinks, a configured one that cannot fit is an error (it would not hold).
    ///
    /// - Parameter openFileLimit: the process's open-file limit (`OpenFileLimit.raise()`).
    /// - Throws: `Invalid` naming `api.maxConnections` when the configured limit does not fit.
    public mutating func fitConnectionLimit(openFileLimit files: Int) throws {
        let room = files - Self.reservedFiles - httpLimits.overLimitConnections
        guard httpLimits.maxConnections > room else { return }
        if maxConnectionsGiven {
            throw Invalid(description: "api.maxConnections: \(httpLimits.maxConnections) connections do not fit in the open-file limit of \(files) (ulimit -n), which must also hold \(Self.reservedFiles + httpLimits.overLimitConnections) other files; raise the limit or lower api.maxConnections")
        }
        httpLimits.maxConnections = max(16, room)
    }

    /// The check the trigger rules pass, here and in the trigger API.
    public var loopCheck: TriggerLoopCheck { TriggerLoopCheck(topics: topics, region: region, account: account) }

    /// The SQLite database: `store.path`, else `<dataDir>/stepline.sqlite`.
    public var databasePath: String { storePath ?? (dataDirectory as NSString).appendingPathComponent("stepline.sqlite") }

    /// The settings of `stepline serve`: the embedded defaults, then the file (`file`, else
    /// `STEPLINE_CONFIG`, else none), then the environment's `STEPLINE_*` overrides.
    ///
    /// - Parameters:
    ///   - file: the `--config` option.
    ///   - environment: the process environment; only `STEPLINE_*` variables are read.
    /// - Throws: `Invalid`, naming the file, the key or the variable.
    public static func load(file: String?, environment: [String: String]) throws -> ServeConfiguration {
        guard let file = file ?? environment["STEPLINE_CONFIG"] else {
            return try load(yaml: nil, baseDirectory: "", environment: environment)
        }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw Invalid(description: "cannot read the configuration file \(file): \(error.localizedDescription)")
        }
        var c = try load(yaml: text, baseDirectory: (file as NSString).deletingLastPathComponent, environment: environment)
        c.file = file
        return c
    }

    /// The settings of a configuration text: the embedded defaults, then `yaml`, then the
    /// environment's `STEPLINE_*` overrides.
    ///
    /// - Parameters:
    ///   - yaml: the configuration file's text (nil: no file).
    ///   - baseDirectory: what relative `store.path` and `stateMachines[].definition` are
    ///     relative to: the file's directory.
    ///   - environment: the process environment; only `STEPLINE_*` variables are read.
    /// - Throws: `Invalid`, naming the key or the variable.
    public static func load(yaml: String?, baseDirectory: String, environment: [String: String]) throws -> ServeConfiguration {
        var c = ServeConfiguration()
        if let yaml { try c.apply(yaml: yaml, baseDirectory: baseDirectory, environment: environment) }
        if let d = environment["STEPLINE_DATA_DIR"] { c.dataDirectory = d }
        if let l = environment["STEPLINE_LISTEN"] { try c.setListen(l, key: "STEPLINE_LISTEN") }
        if let b = environment["STEPLINE_KAFKA_BROKERS"] { c.kafkaBrokers = b }
        if let l = environment["STEPLINE_LOG_LEVEL"] { c.logLevel = try Self.logLevel(l, key: "STEPLINE_LOG_LEVEL") }
        c.runtime.region = c.region
        c.runtime.account = c.account
        c.runtime.statusEventsTopic = c.statusEvents ? c.topics.executionStatus : nil
        return c
    }

    /// swift-log's levels, in any case: a misspelt level would otherwise log at `info`.
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    private static func logLevel(_ value: String, key: String) throws -> String {
        let level = value.lowercased()
        guard logLevels.contains(level) else {
            throw Invalid(description: "\(key): expected one of \(logLevels.joined(separator: ", ")), got '\(value)'")
        }
        return level
    }

    private mutating func setListen(_ value: String, key: String) throws {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
            (0...65535).contains(port), colon != value.startIndex
        else { throw Invalid(description: "\(key): expected HOST:PORT, got '\(value)'") }
        host = String(value[..<colon])
        self.port = port
    }

    static func table(_ value: Any?, _ key: String) throws -> [String: Any] {
        guard let value else { return [:] }
        guard let t = value as? [String: Any] else { throw Invalid(description: "\(key): expected a mapping") }
        return t
    }

    static func check(_ t: [String: Any], _ key: String, allowed: Set<String>) throws {
        for k in t.keys.sorted() where !allowed.contains(k) {
            throw Invalid(description: "unknown key '\(key.isEmpty ? k : key + "." + k)' in the configuration")
        }
    }

    static func string(_ v: Any?, _ key: String) throws -> String? {
        guard let v else { return nil }
        if let s = v as? String { return s }
        if let i = v as? Int { return String(i) }
        // YAML reads `off`, `yes`, `1.5` as booleans and numbers: give them back as text,
        // so that the value's own check names the problem.
        if let b = v as? Bool { return b ? "true" : "false" }
        if let d = v as? Double { return String(d) }
        throw Invalid(description: "\(key): expected a string")
    }

    private mutating func apply(yaml: String, baseDirectory: String, environment: [String: String]) throws {
        let root: [String: Any]
        do {
            root = try Self.table(try Yams.load(yaml: yaml), "the configuration")
        } catch let e as Invalid {
            throw e
        } catch {
            throw Invalid(description: "the configuration is not valid YAML: \(YAMLJSON.describe(error))")
        }
        try Self.check(root, "", allowed: [
            "api", "kafka", "store", "dataDir", "logLevel", "region", "account", "stateMachines", "triggers",
            "integrations", "runtime", "shutdownGracePeriodSeconds", "security", "encryption",
        ])
        if root["security"] != nil {
            security = try SecuritySettings.parse(
                try Self.table(root["security"], "security"), policyNodes: try Self.policyNodes(yaml: yaml), baseDirectory: baseDirectory,
                environment: environment)
        }
        let api = try Self.table(root["api"], "api")
        try Self.check(api, "api", allowed: ["listen", "headerTimeoutSeconds", "bodyTimeoutSeconds", "idleTimeoutSeconds", "maxConnections", "tls"])
        if api["tls"] != nil {
            let t = try Self.table(api["tls"], "api.tls")
            try Self.check(t, "api.tls", allowed: ["certificate", "privateKey"])
            func path(_ key: String) throws -> String {
                guard let p = try Self.string(t[key], "api.tls.\(key)"), !p.isEmpty else {
                    throw Invalid(description: "api.tls.\(key) is required: a PEM file")
                }
                return p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
            }
            tls = TLSFiles(certificate: try path("certificate"), privateKey: try path("privateKey"))
        }
        if let l = try Self.string(api["listen"], "api.listen") { try setListen(l, key: "api.listen") }
        func positive(_ key: String) throws -> Int? {
            guard let v = api[key] else { return nil }
            guard let i = v as? Int, i > 0 else { throw Invalid(description: "api.\(key): expected a positive integer") }
            return i
        }
        if let v = try positive("headerTimeoutSeconds") { httpLimits.headerTimeout = .seconds(v) }
        if let v = try positive("bodyTimeoutSeconds") { httpLimits.bodyTimeout = .seconds(v) }
        if let v = try positive("idleTimeoutSeconds") { httpLimits.idleTimeout = .seconds(v) }
        if let v = try positive("maxConnections") {
            httpLimits.maxConnections = v
            maxConnectionsGiven = true
        }
        let kafka = try Self.table(root["kafka"], "kafka")
        try Self.check(kafka, "kafka", allowed: ["brokers", "properties", "groupId", "developmentBroker"])
        kafkaBrokers = try Self.string(kafka["brokers"], "kafka.brokers")
        for (k, v) in try Self.table(kafka["properties"], "kafka.properties") {
            guard let value = try Self.string(v, "kafka.properties.\(k)") else {
                throw Invalid(description: "kafka.properties.\(k): expected a string")
            }
            kafkaProperties[k] = value
        }
        if let g = try Self.string(kafka["groupId"], "kafka.groupId") { kafkaGroupID = g }
        if let v = kafka["developmentBroker"] {
            guard let b = v as? Bool else { throw Invalid(description: "kafka.developmentBroker: expected true or false") }
            kafkaDevelopmentBroker = b
        }
        try applyIntegrations(try Self.table(root["integrations"], "integrations"))
        let store = try Self.table(root["store"], "store")
        try Self.check(store, "store", allowed: ["path", "synchronous"])
        if let p = try Self.string(store["path"], "store.path") {
            storePath = p.hasPrefix("/") ? p : (baseDirectory as NSString).appendingPathComponent(p)
        }
        if let s = try Self.string(store["synchronous"], "store.synchronous") {
            guard ["FULL", "NORMAL"].contains(s.uppercased()) else {
                throw Invalid(description: "store.synchronous: expected FULL or NORMAL, got '\(s)'")
            }
            synchronous = s.uppercased()
        }
        if let d = try Self.string(root["dataDir"], "dataDir") { dataDirectory = d }
        if let v = root["shutdownGracePeriodSeconds"] {
            let seconds = (v as? Int).map(Double.init) ?? (v as? Double)
            guard let seconds, seconds >= 1, seconds <= 3600 else {
                throw Invalid(description: "shutdownGracePeriodSeconds: expected a number of seconds from 1 to 3600")
            }
            shutdownGracePeriod = .milliseconds(Int64(seconds * 1000))
        }
        if let l = try Self.string(root["logLevel"], "logLevel") { logLevel = try Self.logLevel(l, key: "logLevel") }
        if let r = try Self.string(root["region"], "region") { region = r }
        if let a = try Self.string(root["account"], "account") { account = a }
        if root["encryption"] != nil {
            // After region and account: key ARNs name keys of this region and account.
            runtime.encryption = try EncryptionSettings.parse(
                try Self.table(root["encryption"], "encryption"), baseDirectory: baseDirectory, environment: environment, region: region,
                account: account)
        }
        let rt = try Self.table(root["runtime"], "runtime")
        try Self.check(rt, "runtime", allowed: ["shards", "cacheCapacity", "maxRunningExecutions", "timerHorizonSeconds", "retentionDays"])
        func int(_ key: String) throws -> Int? {
            guard let v = rt[key] else { return nil }
            guard let i = v as? Int, i > 0 else { throw Invalid(description: "runtime.\(key): expected a positive integer") }
            return i
        }
        if let v = try int("shards") { runtime.shards = v }
        if let v = try int("cacheCapacity") { runtime.cacheCapacity = v }
        if let v = try int("maxRunningExecutions") { runtime.maxRunningExecutions = v }
        if let v = try int("timerHorizonSeconds") { runtime.timerHorizonSeconds = Int64(v) }
        if let v = try int("retentionDays") { runtime.retentionDays = Int64(v) }
        triggers = try Self.triggers(yaml: yaml)
        if let loop = loopCheck.firstLoop(in: triggers) {
            throw Invalid(description: "triggers[\(loop.index)]: \(loop.message)")
        }
        if let list = root["stateMachines"] {
            guard let items = list as? [Any] else { throw Invalid(description: "stateMachines: expected a list") }
            for (i, item) in items.enumerated() {
                let key = "stateMachines[\(i)]"
                let t = try Self.table(item, key)
                try Self.check(t, key, allowed: ["name", "definition", "type", "roleArn"])
                guard let name = try Self.string(t["name"], "\(key).name") else { throw Invalid(description: "\(key).name is required") }
                guard let def = try Self.string(t["definition"], "\(key).definition") else {
                    throw Invalid(description: "\(key).definition is required")
                }
                let type = (try Self.string(t["type"], "\(key).type") ?? "STANDARD").uppercased()
                guard type == "STANDARD" || type == "EXPRESS" else {
                    throw Invalid(description: "\(key).type: expected STANDARD or EXPRESS, got '\(type)'")
                }
                stateMachines.append(MachineFile(
                    name: name, definitionPath: def.hasPrefix("/") ? def : (baseDirectory as NSString).appendingPathComponent(def),
                    type: type, roleArn: try Self.string(t["roleArn"], "\(key).roleArn") ?? "arn:aws:iam::\(account):role/stepline"))
            }
        }
    }

    private mutating func applyIntegrations(_ t: [String: Any]) throws {
        try Self.check(t, "integrations", allowed: [
            "taskReplies", "executionStatus", "deadLetters", "lambdaPrefix", "activityPrefix", "eventsPrefix", "queues", "snsTopics",
            "activities", "statusEvents",
        ])
        func name(_ key: String, _ apply: (String) -> Void) throws {
            guard let v = try Self.string(t[key], "integrations.\(key)") else { return }
            guard !v.isEmpty else { throw Invalid(description: "integrations.\(key): expected a topic name") }
            apply(v)
        }
        try name("taskReplies") { topics.taskReplies = $0 }
        try name("executionStatus") { topics.executionStatus = $0 }
        try name("deadLetters") { topics.deadLetters = $0 }
        try name("lambdaPrefix") { topics.lambdaPrefix = $0 }
        try name("activityPrefix") { topics.activityPrefix = $0 }
        try name("eventsPrefix") { topics.eventsPrefix = $0 }
        for (k, v) in try Self.table(t["queues"], "integrations.queues") {
            guard let topic = try Self.string(v, "integrations.queues.\(k)") else { continue }
            topics.queueTopics[k] = topic
        }
        for (k, v) in try Self.table(t["snsTopics"], "integrations.snsTopics") {
            guard let topic = try Self.string(v, "integrations.snsTopics.\(k)") else { continue }
            topics.snsTopics[k] = topic
        }
        // A malformed reply is dead-lettered: on the reply topic itself it would be read again.
        if topics.deadLetters == topics.taskReplies {
            throw Invalid(description: "integrations.deadLetters: the dead-letter topic cannot be the reply topic '\(topics.taskReplies)' (a malformed reply would come back forever)")
        }
        if let v = t["activities"] {
            guard let b = v as? Bool else { throw Invalid(description: "integrations.activities: expected true or false") }
            topics.publishActivities = b
        }
        if let v = t["statusEvents"] {
            guard let b = v as? Bool else { throw Invalid(description: "integrations.statusEvents: expected true or false") }
            statusEvents = b
        }
    }

    /// The nodes of `security.policies`, by name: a policy written as YAML keeps its text
    /// (`Version: 2012-10-17` is a string, not a date).
    private static func policyNodes(yaml: String) throws -> [String: Node] {
        guard case .mapping(let root)? = try? Yams.compose(yaml: yaml), case .mapping(let security)? = root["security"],
            case .mapping(let policies)? = security["policies"]
        else { return [:] }
        var out: [String: Node] = [:]
        for pair in policies {
            if case .scalar(let k) = pair.key { out[k.string] = pair.value }
        }
        return out
    }

    /// The `triggers` section, read from the YAML nodes so that the numbers of patterns keep
    /// their spelling.
    private static func triggers(yaml: String) throws -> [TriggerRule] {
        let document: Node?
        do { document = try Yams.compose(yaml: yaml) } catch {
            throw Invalid(description: "the configuration is not valid YAML: \(YAMLJSON.describe(error))")
        }
        guard case .mapping(let root)? = document, let list = root["triggers"] else { return [] }
        guard case .sequence(let items) = list else { throw Invalid(description: "triggers: expected a list") }
        var rules: [TriggerRule] = []
        for (i, item) in items.enumerated() {
            let key = "triggers[\(i)]"
            guard case .mapping(let m) = item else { throw Invalid(description: "\(key): expected a mapping") }
            var o = JSONObject()
            for pair in m {
                guard case .scalar(let k) = pair.key else { throw Invalid(description: "\(key): keys must be strings") }
                if k.string == "pattern", case .mapping = pair.value {
                    o.append("pattern", .string(try YAMLJSON.text(pair.value, key: "\(key).pattern")))
                } else {
                    o.append(k.string, try YAMLJSON.json(pair.value, key: "\(key).\(k.string)"))
                }
            }
            do {
                let rule = try TriggerRule.from(json: .object(o), source: .config)
                guard !rules.contains(where: { $0.name == rule.name }) else {
                    throw Invalid(description: "\(key): a second trigger named '\(rule.name)'")
                }
                rules.append(rule)
            } catch let e as TriggerRule.Invalid {
                throw Invalid(description: "\(key): \(e.message)")
            }
        }
        return rules
    }
}
