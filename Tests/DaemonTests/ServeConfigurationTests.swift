import Foundation
import Testing

/// `stepline serve --config`: a bad configuration stops the daemon at start, exit 2, with
/// a message that names the key; nothing is started.
@Suite struct ServeConfigurationTests {
    static func serve(yaml: String, files: [String: String] = [:]) throws -> (Int32, String) {
        let dir = NSTemporaryDirectory() + "stepline-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try yaml.write(toFile: dir + "/stepline.yaml", atomically: true, encoding: .utf8)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try DaemonProcessTests.steplinePath)
        p.arguments = ["serve", "--config", dir + "/stepline.yaml"]
        var env = ProcessInfo.processInfo.environment
        env["STEPLINE_DATA_DIR"] = dir + "/data"
        env["STEPLINE_LISTEN"] = "127.0.0.1:0"
        p.environment = env
        let pipe = Pipe()
        p.standardError = pipe
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let machine = #"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#

    @Test(arguments: [
        ("kafka:\n  broker: x\n", "unknown key 'kafka.broker'"),
        ("api:\n  listen: nowhere\n", "api.listen: expected HOST:PORT"),
        ("store:\n  synchronous: OFF\n", "store.synchronous: expected FULL or NORMAL"),
        ("runtime:\n  shards: 0\n", "runtime.shards: expected a positive integer"),
        ("runtime:\n  maxRunningExecutions: -1\n", "runtime.maxRunningExecutions: expected a positive integer"),
        ("triggers:\n  - {name: t, topic: orders, stateMachine: m, pattern: {\"a\": [{\"numeric\": [\">\"]}]}}\n",
         "triggers[0]: trigger 't': Event pattern is not valid"),
        ("triggers:\n  - {name: t, topic: orders}\n", "triggers[0]: trigger 't': stateMachine is required"),
        ("triggers:\n  - {name: t, topic: 'bad topic', stateMachine: m}\n", "is not a valid Kafka topic name"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m}\n  - {name: t, topic: b, stateMachine: m}\n", "a second trigger named 't'"),
        ("triggers:\n  - {name: t, topic: a, stateMachine: m, colour: red}\n", "unknown key 'colour'"),
        ("integrations:\n  activities: maybe\n", "integrations.activities: expected true or false"),
        ("stateMachines:\n  - {name: m, definition: missing.asl.json}\n", "missing.asl.json"),
        ("stateMachines: [\n", "not valid YAML"),
        // Sections that do nothing yet are refused rather than ignored.
        ("api:\n  tls: {certificate: c.pem, privateKey: k.pem}\n", "api.tls: TLS is not supported yet"),
        ("security:\n  authentication: sigv4\n", "security: authentication and access policies"),
        ("encryption:\n  keys: []\n", "encryption: encryption of data at rest"),
        ("api:\n  idleTimeoutSeconds: 0\n", "api.idleTimeoutSeconds: expected a positive integer"),
        ("api:\n  maxConnections: 2000000000\n", "api.maxConnections: 2000000000 connections do not fit in the open-file limit"),
        ("api:\n  readTimeout: 5\n", "unknown key 'api.readTimeout'"),
        // Loops through the topics Stepline writes.
        ("triggers:\n  - {name: t, topic: stepline.dead-letters, stateMachine: m, deadLetter: true}\n",
         "triggers[0]: trigger 't': deadLetter on the dead-letter topic"),
        ("integrations:\n  deadLetters: r\n  taskReplies: r\n", "integrations.deadLetters: the dead-letter topic cannot be the reply topic"),
        ("integrations:\n  executionStatus: s\ntriggers:\n  - {name: a, topic: x, stateMachine: m}\n  - {name: t, topic: s, stateMachine: m}\n",
         "triggers[1]: trigger 't' on the execution status topic 's' would feed itself"),
    ])
    func badConfigurationStopsTheDaemon(_ yaml: String, _ message: String) throws {
        let (status, output) = try Self.serve(yaml: yaml)
        #expect(status == 2, "\(output)")
        #expect(output.contains(message), "\(output)")
    }

    @Test func invalidDefinitionNamesTheMachine() throws {
        let (status, output) = try Self.serve(
            yaml: "stateMachines:\n  - {name: m, definition: m.asl.json}\n",
            files: ["m.asl.json": #"{"StartAt":"Nope","States":{"P":{"Type":"Pass","End":true}}}"#])
        #expect(status == 2, "\(output)")
        #expect(output.contains("state machine m (") && output.contains("MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt"),
                "\(output)")
    }
}
