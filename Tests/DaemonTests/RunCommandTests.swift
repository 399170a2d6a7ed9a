import Foundation
import Testing

/// `stepline run` as a process: the execution's facts it is given show in the context object.
@Suite struct RunCommandTests {
    static func run(_ arguments: [String], definition: String) throws -> (Int32, String) {
        let file = NSTemporaryDirectory() + "stepline-run-\(UUID().uuidString).asl.json"
        try definition.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try DaemonProcessTests.steplinePath)
        p.arguments = ["run", file] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let context = #"""
        {"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id","role.$":"$$.Execution.RoleArn"},"End":true}}}
        """#

    static func output(_ text: String) throws -> [String: String] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String], "\(text)")
    }

    @Test func roleArnIsTheExecutionRole() throws {
        let role = "arn:aws:iam::111111111111:role/test-sfn-role"
        let (status, out) = try Self.run(["--role-arn", role, "--name", "e1", "--state-machine-name", "m"], definition: Self.context)
        #expect(status == 0, "\(out)")
        #expect(try Self.output(out)["role"] == role)
        let (_, history) = try Self.run(["--role-arn", role, "--history"], definition: Self.context)
        #expect(history.contains(#""roleArn": "\#(role)""#), "\(history)")
    }

    @Test func expressExecutionIdHasNameAndID() throws {
        let (status, out) = try Self.run(["--type", "EXPRESS", "--name", "e1", "--state-machine-name", "m", "--seed", "1"],
                                         definition: Self.context)
        #expect(status == 0, "\(out)")
        let id = try #require(try Self.output(out)["id"])
        #expect(id.wholeMatch(of: #/arn:aws:states:us-east-1:123456789012:express:m:e1:[0-9a-f-]{36}/#) != nil, "\(id)")
    }
}
