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

    /// What only the process shows: a bad configuration (every key and message is
    /// unit-tested in SteplineConfigurationTests) stops it before anything starts, exit 2,
    /// the message on stderr; so do a connection limit past the process's open-file limit
    /// and the state machines it cannot load.
    @Test(arguments: [
        ("kafka:\n  broker: x\n", "error: unknown key 'kafka.broker' in the configuration"),
        ("api:\n  maxConnections: 2000000000\n", "error: api.maxConnections: 2000000000 connections do not fit in the open-file limit"),
        ("stateMachines:\n  - {name: m, definition: missing.asl.json}\n", "missing.asl.json"),
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
