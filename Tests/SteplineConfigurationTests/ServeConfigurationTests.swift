import SteplineKafka
import Foundation
import SteplineConfiguration
import SteplineRuntime
import Testing

/// `stepline serve`'s configuration: each key's accepted values and their effect, each bad
/// value's message (naming the key), unknown keys, environment overrides, relative paths.
@Suite struct ServeConfigurationTests {
    static func load(_ yaml: String?, base: String = "/etc/stepline", environment: [String: String] = [:]) throws -> ServeConfiguration {
        try ServeConfiguration.load(yaml: yaml, baseDirectory: base, environment: environment)
    }

    /// The message `load` throws for `yaml` (nil when it loads).
    static func message(_ yaml: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try load(yaml, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func embeddedDefaults() throws {
        let c = try Self.load(nil)
        #expect(c.host == "127.0.0.1" && c.port == 8083)
        #expect(c.dataDirectory == "./.stepline")
        #expect(c.databasePath == "./.stepline/stepline.sqlite")
        #expect(c.storePath == nil && c.synchronous == "FULL")
        #expect(c.logLevel == "info")
        #expect(c.kafkaBrokers == nil && c.kafkaProperties.isEmpty && c.kafkaGroupID == "stepline" && c.kafkaDevelopmentBroker == nil)
        #expect(c.region == "us-east-1" && c.account == "123456789012")
        #expect(c.triggers.isEmpty && c.stateMachines.isEmpty && c.file == nil)
        #expect(c.topics == IntegrationTopics() && c.statusEvents)
        #expect(c.shutdownGracePeriod == .seconds(10))
        #expect(c.httpLimits.headerTimeout == .seconds(10) && c.httpLimits.bodyTimeout == .seconds(60))
        #expect(c.httpLimits.idleTimeout == .seconds(60) && c.httpLimits.maxConnections == 4096)
        let r = c.runtime, d = RuntimeConfiguration()
        #expect(r.shards == d.shards && r.cacheCapacity == d.cacheCapacity && r.maxRunningExecutions == d.maxRunningExecutions)
        #expect(r.timerHorizonSeconds == d.timerHorizonSeconds && r.retentionDays == d.retentionDays)
        #expect(r.region == "us-east-1" && r.account == "123456789012" && r.statusEventsTopic == "stepline.execution-status")
        // An empty file is the defaults too.
        #expect(try Self.load("").port == 8083)
    }

    /// A key's value and what it sets: `read` renders the setting it affects.
    struct Accepted: Sendable, CustomTestStringConvertible {
        let yaml: String
        let expected: String
        let read: @Sendable (ServeConfiguration) -> String
        init(_ yaml: String, _ expected: String, _ read: @escaping @Sendable (ServeConfiguration) -> String) {
            self.yaml = yaml
            self.expected = expected
            self.read = read
        }
        var testDescription: String { yaml.replacingOccurrences(of: "\n", with: "⏎") }
    }

    static let accepted: [Accepted] = [
        // api
        .init("api:\n  listen: 0.0.0.0:9000\n", "0.0.0.0 9000") { "\($0.host) \($0.port)" },
        .init("api:\n  listen: '[::1]:8084'\n", "[::1] 8084") { "\($0.host) \($0.port)" },
        .init("api:\n  listen: localhost:0\n", "localhost 0") { "\($0.host) \($0.port)" },
        .init("api:\n  headerTimeoutSeconds: 3\n", "3.0 seconds") { "\($0.httpLimits.headerTimeout)" },
        .init("api:\n  bodyTimeoutSeconds: 120\n", "120.0 seconds") { "\($0.httpLimits.bodyTimeout)" },
        .init("api:\n  idleTimeoutSeconds: 5\n", "5.0 seconds") { "\($0.httpLimits.idleTimeout)" },
        .init("api:\n  maxConnections: 100\n", "100") { "\($0.httpLimits.maxConnections)" },
        // top level
        .init("dataDir: /var/lib/stepline\n", "/var/lib/stepline /var/lib/stepline/stepline.sqlite") { "\($0.dataDirectory) \($0.databasePath)" },
        // dataDir is relative to the working directory, not to the file (unlike store.path).
        .init("dataDir: data\n", "data data/stepline.sqlite") { "\($0.dataDirectory) \($0.databasePath)" },
        .init("shutdownGracePeriodSeconds: 30\n", "30.0 seconds") { "\($0.shutdownGracePeriod)" },
        .init("shutdownGracePeriodSeconds: 1.5\n", "1.5 seconds") { "\($0.shutdownGracePeriod)" },
        .init("shutdownGracePeriodSeconds: 1\n", "1.0 seconds") { "\($0.shutdownGracePeriod)" },
        .init("shutdownGracePeriodSeconds: 3600\n", "3600.0 seconds") { "\($0.shutdownGracePeriod)" },
        .init("logLevel: debug\n", "debug") { $0.logLevel },
        .init("logLevel: WARNING\n", "warning") { $0.logLevel },
        .init("region: eu-west-1\n", "eu-west-1 eu-west-1") { "\($0.region) \($0.runtime.region)" },
        .init("account: \"111111111111\"\n", "111111111111 111111111111") { "\($0.account) \($0.runtime.account)" },
        // A number is taken as its text.
        .init("account: 111111111111\n", "111111111111") { $0.account },
        // kafka
        .init("kafka:\n  brokers: \"b1:9092,b2:9092\"\n", "b1:9092,b2:9092") { $0.kafkaBrokers ?? "nil" },
        .init("kafka:\n  properties:\n    security.protocol: SASL_SSL\n    batch.size: 1000\n    enable.ssl.certificate.verification: false\n",
              "batch.size=1000 enable.ssl.certificate.verification=false security.protocol=SASL_SSL") {
            $0.kafkaProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        },
        .init("kafka:\n  groupId: fleet-a\n", "fleet-a") { $0.kafkaGroupID },
        .init("kafka:\n  developmentBroker: true\n", "Optional(true)") { "\($0.kafkaDevelopmentBroker as Any)" },
        .init("kafka:\n  developmentBroker: false\n", "Optional(false)") { "\($0.kafkaDevelopmentBroker as Any)" },
        // store: a relative path is relative to the configuration file's directory.
        .init("store:\n  path: db/s.sqlite\n", "/etc/stepline/db/s.sqlite /etc/stepline/db/s.sqlite") {
            "\($0.storePath ?? "nil") \($0.databasePath)"
        },
        .init("store:\n  path: /data/s.sqlite\n", "/data/s.sqlite") { $0.databasePath },
        .init("store:\n  synchronous: normal\n", "NORMAL") { $0.synchronous },
        .init("store:\n  synchronous: FULL\n", "FULL") { $0.synchronous },
        // runtime
        .init("runtime:\n  shards: 8\n", "8") { "\($0.runtime.shards)" },
        .init("runtime:\n  cacheCapacity: 500\n", "500") { "\($0.runtime.cacheCapacity)" },
        .init("runtime:\n  maxRunningExecutions: 2000\n", "2000") { "\($0.runtime.maxRunningExecutions)" },
        .init("runtime:\n  timerHorizonSeconds: 30\n", "30") { "\($0.runtime.timerHorizonSeconds)" },
        .init("runtime:\n  retentionDays: 7\n", "7") { "\($0.runtime.retentionDays)" },
        // integrations
        .init("integrations:\n  taskReplies: replies\n", "replies") { $0.topics.taskReplies },
        .init("integrations:\n  executionStatus: status\n", "status Optional(\"status\")") {
            "\($0.topics.executionStatus) \($0.runtime.statusEventsTopic as Any)"
        },
        .init("integrations:\n  deadLetters: dlq\n", "dlq") { $0.topics.deadLetters },
        .init("integrations:\n  lambdaPrefix: fn.\n", "fn.") { $0.topics.lambdaPrefix },
        .init("integrations:\n  activityPrefix: act.\n", "act.") { $0.topics.activityPrefix },
        .init("integrations:\n  eventsPrefix: ev.\n", "ev.") { $0.topics.eventsPrefix },
        .init("integrations:\n  queues: {orders-queue: orders.v2}\n", "orders.v2 other") {
            "\($0.topics.queueTopic("orders-queue")) \($0.topics.queueTopic("other"))"
        },
        .init("integrations:\n  snsTopics: {alerts: alerts.v1}\n", "alerts.v1 other") {
            "\($0.topics.snsTopic("alerts")) \($0.topics.snsTopic("other"))"
        },
        .init("integrations:\n  activities: false\n", "false") { "\($0.topics.publishActivities)" },
        .init("integrations:\n  statusEvents: false\n", "false nil") { "\($0.statusEvents) \($0.runtime.statusEventsTopic ?? "nil")" },
        // stateMachines: definitions relative to the file's directory; type and role defaults.
        .init("stateMachines:\n  - {name: orders, definition: machines/orders.asl.json}\n",
              "orders /etc/stepline/machines/orders.asl.json STANDARD arn:aws:iam::123456789012:role/stepline") {
            $0.stateMachines.map { "\($0.name) \($0.definitionPath) \($0.type) \($0.roleArn)" }.joined(separator: "; ")
        },
        .init("account: \"222222222222\"\nstateMachines:\n  - {name: m, definition: /abs/m.json, type: express, roleArn: arn:aws:iam::1:role/r}\n",
              "m /abs/m.json EXPRESS arn:aws:iam::1:role/r") {
            $0.stateMachines.map { "\($0.name) \($0.definitionPath) \($0.type) \($0.roleArn)" }.joined(separator: "; ")
        },
        .init("account: \"222222222222\"\nstateMachines:\n  - {name: m, definition: m.json}\n", "arn:aws:iam::222222222222:role/stepline") {
            $0.stateMachines.first?.roleArn ?? "nil"
        },
        // triggers: every field, from the configuration.
        .init("""
            triggers:
              - name: new-orders
                topic: orders
                pattern: {"detail-type": ["OrderPlaced"]}
                stateMachine: orders
                executionName: $.detail.orderId
                input:
                  pathsMap: {order: "$.detail"}
                  template: '{"order": <order>}'
                deadLetter: true
            """, #"new-orders orders {"detail-type":["OrderPlaced"]} orders $.detail.orderId ["order": "$.detail"] {"order": <order>} true true config"#) {
            $0.triggers.map { r in
                "\(r.name) \(r.topic) \(r.patternText ?? "nil") \(r.stateMachine) \(r.executionName ?? "nil") \(r.inputPathsMap ?? [:]) "
                    + "\(r.inputTemplate ?? "nil") \(r.deadLetter) \(r.enabled) \(r.source)"
            }.joined(separator: "; ")
        },
        // A pattern's numbers keep their spelling (a double would round this one; a
        // `numeric` operand must be an exact double, as EventBridge requires).
        .init("triggers:\n  - {name: t, topic: o, stateMachine: m, pattern: {n: [18446744073709551617]}}\n",
              #"{"n":[18446744073709551617]}"#) { $0.triggers.first?.patternText ?? "nil" },
        // A pattern given as JSON text is kept as written.
        .init("triggers:\n  - {name: t, topic: o, stateMachine: m, pattern: '{\"a\": [1]}'}\n", #"{"a": [1]}"#) {
            $0.triggers.first?.patternText ?? "nil"
        },
        .init("triggers:\n  - {name: a, topic: o, stateMachine: m}\n  - {name: b, topic: p, stateMachine: m, enabled: false}\n",
              "a:o:true b:p:false") { $0.triggers.map { "\($0.name):\($0.topic):\($0.enabled)" }.joined(separator: " ") },
    ]

    @Test(arguments: accepted)
    func acceptedValue(_ c: Accepted) throws {
        #expect(c.read(try Self.load(c.yaml)) == c.expected)
    }

    /// Bad values: the whole message, which names the key.
    @Test(arguments: [
        // the document
        ("- a\n", "the configuration: expected a mapping"),
        ("hello\n", "the configuration: expected a mapping"),
        ("colour: red\n", "unknown key 'colour' in the configuration"),
        ("security:\n  authentication: sigv4\n", "security.authentication: sigv4 needs at least one entry in security.credentials"),
        ("encryption:\n  keys: []\n", "encryption.keys: expected at least one key (id, file)"),
        // An empty value is not an absent one.
        ("api:\n", "api: expected a mapping"),
        ("kafka:\n  brokers:\n", "kafka.brokers: expected a string"),
        ("logLevel: ~\n", "logLevel: expected a string"),
        ("triggers:\n", "triggers: expected a list"),
        ("stateMachines:\n", "stateMachines: expected a list"),
        ("integrations:\n  queues: {q: }\n", "integrations.queues.q: expected a string"),
        // api
        ("api: 5\n", "api: expected a mapping"),
        ("api:\n  tls: {certificate: c.pem}\n", "api.tls.privateKey is required: a PEM file"),
        ("api:\n  tls: {certificate: c.pem, privateKey: k.pem, ciphers: x}\n", "unknown key 'api.tls.ciphers' in the configuration"),
        ("api:\n  readTimeout: 5\n", "unknown key 'api.readTimeout' in the configuration"),
        ("api:\n  listen: nowhere\n", "api.listen: expected HOST:PORT, got 'nowhere'"),
        ("api:\n  listen: ':8083'\n", "api.listen: expected HOST:PORT, got ':8083'"),
        ("api:\n  listen: 'h:70000'\n", "api.listen: expected HOST:PORT, got 'h:70000'"),
        ("api:\n  listen: 'h:http'\n", "api.listen: expected HOST:PORT, got 'h:http'"),
        ("api:\n  listen: [a]\n", "api.listen: expected a string"),
        ("api:\n  headerTimeoutSeconds: 0\n", "api.headerTimeoutSeconds: expected a positive integer"),
        ("api:\n  bodyTimeoutSeconds: -1\n", "api.bodyTimeoutSeconds: expected a positive integer"),
        ("api:\n  idleTimeoutSeconds: 1.5\n", "api.idleTimeoutSeconds: expected a positive integer"),
        ("api:\n  maxConnections: many\n", "api.maxConnections: expected a positive integer"),
        // kafka
        ("kafka: []\n", "kafka: expected a mapping"),
        ("kafka:\n  broker: x\n", "unknown key 'kafka.broker' in the configuration"),
        ("kafka:\n  brokers: [a, b]\n", "kafka.brokers: expected a string"),
        ("kafka:\n  properties: [a]\n", "kafka.properties: expected a mapping"),
        ("kafka:\n  properties:\n    sasl.username: [a]\n", "kafka.properties.sasl.username: expected a string"),
        ("kafka:\n  groupId: {a: b}\n", "kafka.groupId: expected a string"),
        ("kafka:\n  developmentBroker: sometimes\n", "kafka.developmentBroker: expected true or false"),
        // integrations
        ("integrations: x\n", "integrations: expected a mapping"),
        ("integrations:\n  replies: r\n", "unknown key 'integrations.replies' in the configuration"),
        ("integrations:\n  taskReplies: ''\n", "integrations.taskReplies: expected a topic name"),
        ("integrations:\n  executionStatus: ''\n", "integrations.executionStatus: expected a topic name"),
        ("integrations:\n  deadLetters: ''\n", "integrations.deadLetters: expected a topic name"),
        ("integrations:\n  lambdaPrefix: ''\n", "integrations.lambdaPrefix: expected a topic name"),
        ("integrations:\n  activityPrefix: ''\n", "integrations.activityPrefix: expected a topic name"),
        ("integrations:\n  eventsPrefix: ''\n", "integrations.eventsPrefix: expected a topic name"),
        ("integrations:\n  taskReplies: [a]\n", "integrations.taskReplies: expected a string"),
        ("integrations:\n  queues: [a]\n", "integrations.queues: expected a mapping"),
        ("integrations:\n  queues: {q: [a]}\n", "integrations.queues.q: expected a string"),
        ("integrations:\n  snsTopics: a\n", "integrations.snsTopics: expected a mapping"),
        ("integrations:\n  snsTopics: {t: {a: b}}\n", "integrations.snsTopics.t: expected a string"),
        ("integrations:\n  activities: maybe\n", "integrations.activities: expected true or false"),
        ("integrations:\n  statusEvents: 1\n", "integrations.statusEvents: expected true or false"),
        ("integrations:\n  deadLetters: r\n  taskReplies: r\n",
         "integrations.deadLetters: the dead-letter topic cannot be the reply topic 'r' (a malformed reply would come back forever)"),
        ("integrations:\n  deadLetters: stepline.task-replies\n",
         "integrations.deadLetters: the dead-letter topic cannot be the reply topic 'stepline.task-replies' (a malformed reply would come back forever)"),
        // store
        ("store: x\n", "store: expected a mapping"),
        ("store:\n  url: postgres://db/stepline\n", "unknown key 'store.url' in the configuration"),
        ("store:\n  path: [a]\n", "store.path: expected a string"),
        ("store:\n  synchronous: NONE\n", "store.synchronous: expected FULL or NORMAL, got 'NONE'"),
        // YAML reads OFF as a boolean: the message shows the value as read.
        ("store:\n  synchronous: OFF\n", "store.synchronous: expected FULL or NORMAL, got 'false'"),
        // top-level values
        ("dataDir: [a]\n", "dataDir: expected a string"),
        ("shutdownGracePeriodSeconds: 0\n", "shutdownGracePeriodSeconds: expected a number of seconds from 1 to 3600"),
        ("shutdownGracePeriodSeconds: 0.5\n", "shutdownGracePeriodSeconds: expected a number of seconds from 1 to 3600"),
        ("shutdownGracePeriodSeconds: 3601\n", "shutdownGracePeriodSeconds: expected a number of seconds from 1 to 3600"),
        ("shutdownGracePeriodSeconds: ten\n", "shutdownGracePeriodSeconds: expected a number of seconds from 1 to 3600"),
        ("logLevel: [debug]\n", "logLevel: expected a string"),
        ("logLevel: verbose\n", "logLevel: expected one of trace, debug, info, notice, warning, error, critical, got 'verbose'"),
        ("region: {a: b}\n", "region: expected a string"),
        ("account: [1]\n", "account: expected a string"),
        // runtime
        ("runtime: 4\n", "runtime: expected a mapping"),
        ("runtime:\n  threads: 4\n", "unknown key 'runtime.threads' in the configuration"),
        ("runtime:\n  shards: 0\n", "runtime.shards: expected a positive integer"),
        ("runtime:\n  cacheCapacity: lots\n", "runtime.cacheCapacity: expected a positive integer"),
        ("runtime:\n  maxRunningExecutions: -1\n", "runtime.maxRunningExecutions: expected a positive integer"),
        ("runtime:\n  timerHorizonSeconds: 2.5\n", "runtime.timerHorizonSeconds: expected a positive integer"),
        ("runtime:\n  retentionDays: 0\n", "runtime.retentionDays: expected a positive integer"),
        // stateMachines
        ("stateMachines: {a: b}\n", "stateMachines: expected a list"),
        ("stateMachines:\n  - m\n", "stateMachines[0]: expected a mapping"),
        ("stateMachines:\n  - {name: m, definition: d, colour: red}\n", "unknown key 'stateMachines[0].colour' in the configuration"),
        ("stateMachines:\n  - {definition: d}\n", "stateMachines[0].name is required"),
        ("stateMachines:\n  - {name: m, definition: d}\n  - {name: n}\n", "stateMachines[1].definition is required"),
        ("stateMachines:\n  - {name: m, definition: d, type: batch}\n", "stateMachines[0].type: expected STANDARD or EXPRESS, got 'BATCH'"),
        ("stateMachines:\n  - {name: m, definition: d, roleArn: [r]}\n", "stateMachines[0].roleArn: expected a string"),
        // triggers: the shape here, the rule's own checks in TriggerRule
        ("triggers: {a: b}\n", "triggers: expected a list"),
        ("triggers:\n  - t\n", "triggers[0]: expected a mapping"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m}\n  - {name: t, topic: b, stateMachine: m}\n", "triggers[1]: a second trigger named 't'"),
        ("triggers:\n  - {topic: a, stateMachine: m}\n", "triggers[0]: a trigger needs a name"),
        ("triggers:\n  - {name: t, topic: orders}\n", "triggers[0]: trigger 't': stateMachine is required"),
        ("triggers:\n  - {name: t, stateMachine: m}\n", "triggers[0]: trigger 't': topic is required"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m, colour: red}\n", "triggers[0]: trigger 't': unknown key 'colour'"),
        ("triggers:\n  - {name: t, topic: 'bad topic', stateMachine: m}\n",
         "triggers[0]: trigger 't': topic 'bad topic' is not a valid Kafka topic name"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m, deadLetter: maybe}\n", "triggers[0]: trigger 't': deadLetter must be true or false"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m, input: {pathsMap: {a: $.a}}}\n",
         "triggers[0]: trigger 't': input.template is required"),
        // Loops through the topics Stepline writes.
        ("integrations:\n  deadLetters: dlq\ntriggers:\n  - {name: t, topic: dlq, stateMachine: m, deadLetter: true}\n",
         "triggers[0]: trigger 't': deadLetter on the dead-letter topic 'dlq' would feed itself (a record that matches no rule would come back as a dead letter); set deadLetter to false"),
    ])
    func rejectedValue(_ yaml: String, _ expected: String) {
        #expect(Self.message(yaml) == expected)
    }

    /// Messages composed here around another module's (the event pattern's, the loop check's):
    /// the prefix that names the key is this module's.
    @Test(arguments: [
        ("triggers:\n  - {name: t, topic: orders, stateMachine: m, pattern: {\"a\": [{\"numeric\": [\">\"]}]}}\n",
         "triggers[0]: trigger 't': Event pattern is not valid"),
        ("integrations:\n  executionStatus: s\ntriggers:\n  - {name: a, topic: x, stateMachine: m}\n  - {name: t, topic: s, stateMachine: m}\n",
         "triggers[1]: trigger 't' on the execution status topic 's' would feed itself"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m, input: {pathsMap: {a: nope}, template: '<a>'}}\n", "triggers[0]: trigger 't': input: "),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m, executionName: 'detail.id'}\n", "triggers[0]: trigger 't': executionName: "),
    ])
    func rejectedByTheRule(_ yaml: String, _ prefix: String) {
        let message = Self.message(yaml)
        #expect(message?.hasPrefix(prefix) == true, "\(message ?? "loaded")")
    }

    /// A YAML error names its line and column, never the line's text (it may hold a password).
    @Test(arguments: [
        ("kafka:\n  properties:\n    sasl.password: \"s3cret\n", "the configuration is not valid YAML: line 4, column 1: scanner: "),
        ("stateMachines: [\n", "the configuration is not valid YAML: line 2, column 1: parser: "),
        ("kafka:\n  brokers: a\n  brokers: s3cret\n", "the configuration is not valid YAML: line "),
    ])
    func yamlErrorsNameTheLineNotTheText(_ yaml: String, _ prefix: String) {
        let message = Self.message(yaml) ?? "loaded"
        #expect(message.hasPrefix(prefix), "\(message)")
        #expect(!message.contains("s3cret"), "\(message)")
    }

    /// `STEPLINE_*` variables win over the file; other variables are not read.
    @Test(arguments: [
        ("STEPLINE_DATA_DIR", "/srv/data", "/srv/data /srv/data/stepline.sqlite"),
        ("STEPLINE_LISTEN", "0.0.0.0:9999", "0.0.0.0 9999"),
        ("STEPLINE_KAFKA_BROKERS", "k1:9092", "k1:9092"),
        ("STEPLINE_LOG_LEVEL", "trace", "trace"),
    ])
    func environmentOverride(_ variable: String, _ value: String, _ expected: String) throws {
        let yaml = "dataDir: /file\napi:\n  listen: 127.0.0.1:1\nkafka:\n  brokers: file:9092\nlogLevel: error\n"
        func read(_ c: ServeConfiguration) -> String {
            switch variable {
            case "STEPLINE_DATA_DIR": "\(c.dataDirectory) \(c.databasePath)"
            case "STEPLINE_LISTEN": "\(c.host) \(c.port)"
            case "STEPLINE_KAFKA_BROKERS": c.kafkaBrokers ?? "nil"
            default: c.logLevel
            }
        }
        #expect(read(try Self.load(yaml, environment: [variable: value])) == expected)
        // Without a file too.
        #expect(read(try Self.load(nil, environment: [variable: value])) == expected)
        // Not a STEPLINE_ variable: no effect.
        #expect(read(try Self.load(yaml, environment: [String(variable.dropFirst("STEPLINE_".count)): value])) != expected)
    }

    @Test func badListenVariableIsNamed() {
        #expect(Self.message("", environment: ["STEPLINE_LISTEN": "8083"]) == "STEPLINE_LISTEN: expected HOST:PORT, got '8083'")
        #expect(Self.message("", environment: ["STEPLINE_LOG_LEVEL": "loud"]) == "STEPLINE_LOG_LEVEL: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'")
    }

    /// The file: `--config`, else `STEPLINE_CONFIG`; paths in it are relative to its directory.
    @Test func configurationFile() throws {
        let dir = NSTemporaryDirectory() + "stepline-configuration-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "region: eu-west-1\nstore:\n  path: s.sqlite\nstateMachines:\n  - {name: m, definition: m.asl.json}\n"
            .write(toFile: dir + "/sub/a.yaml", atomically: true, encoding: .utf8)
        try "region: eu-west-2\n".write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)

        let a = try ServeConfiguration.load(file: dir + "/sub/a.yaml", environment: [:])
        #expect(a.file == dir + "/sub/a.yaml" && a.region == "eu-west-1")
        #expect(a.databasePath == dir + "/sub/s.sqlite")
        #expect(a.stateMachines.map(\.definitionPath) == [dir + "/sub/m.asl.json"])
        let b = try ServeConfiguration.load(file: nil, environment: ["STEPLINE_CONFIG": dir + "/b.yaml"])
        #expect(b.file == dir + "/b.yaml" && b.region == "eu-west-2")
        // --config wins over STEPLINE_CONFIG.
        #expect(try ServeConfiguration.load(file: dir + "/sub/a.yaml", environment: ["STEPLINE_CONFIG": dir + "/b.yaml"]).region == "eu-west-1")
        #expect(try ServeConfiguration.load(file: nil, environment: [:]).file == nil)
        // A file named without a directory: paths stay relative to the working directory.
        #expect(try Self.load("store:\n  path: s.sqlite\n", base: "").databasePath == "s.sqlite")

        #expect(throws: ServeConfiguration.Invalid.self) { try ServeConfiguration.load(file: dir + "/none.yaml", environment: [:]) }
        do {
            _ = try ServeConfiguration.load(file: dir + "/none.yaml", environment: [:])
        } catch {
            #expect("\(error)".hasPrefix("cannot read the configuration file \(dir)/none.yaml: "), "\(error)")
        }
    }

    /// `api.maxConnections` in the open-file limit, less the files kept for the rest (512 +
    /// 64 connections past the limit).
    @Test(arguments: [
        // (configured, open files, connections allowed, or the error)
        (nil, 100_000, "4096"),
        (nil, 1024, "448"),
        (nil, 100, "16"),
        (nil, Int.max, "4096"),
        (5000, 1_000_000, "5000"),
        (448, 1024, "448"),
        (5000, 1024, "api.maxConnections: 5000 connections do not fit in the open-file limit of 1024 (ulimit -n), which must also hold 576 other files; raise the limit or lower api.maxConnections"),
    ] as [(Int?, Int, String)])
    func connectionLimit(_ configured: Int?, _ openFiles: Int, _ expected: String) throws {
        var c = try Self.load(configured.map { "api:\n  maxConnections: \($0)\n" })
        do {
            try c.fitConnectionLimit(openFileLimit: openFiles)
            #expect("\(c.httpLimits.maxConnections)" == expected)
        } catch {
            #expect("\(error)" == expected)
        }
    }

    /// The daemon's Kafka clients: its fixed settings, and `kafka.properties` on every client.
    @Test func kafkaClients() throws {
        let c = try Self.load("kafka:\n  properties: {security.protocol: SSL}\n")
        let p = c.producerConfiguration(bootstrapServers: "b:1")
        #expect(p.bootstrapServers == "b:1" && p.clientID == "stepline" && p.linger == .milliseconds(1) && p.autoCreateTopics)
        #expect(p.properties == ["security.protocol": "SSL"])
        let a = c.adminConfiguration(bootstrapServers: "b:1")
        #expect(a.requestTimeout == .seconds(2) && a.properties == ["security.protocol": "SSL"])
        let mock = c.consumerConfiguration(bootstrapServers: "b:1", group: "g.replies", isDevelopmentBroker: true)
        #expect(mock.groupID == "g.replies" && mock.clientID == "stepline" && mock.fetchWaitMax == .milliseconds(1))
        #expect(mock.properties == ["security.protocol": "SSL"])
        let real = c.consumerConfiguration(bootstrapServers: "b:1", group: "g.triggers", isDevelopmentBroker: false)
        #expect(real.fetchWaitMax == .milliseconds(100))
    }
}
