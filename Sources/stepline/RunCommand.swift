import ArgumentParser
import CommandSupport
import Foundation
import StatesEngine
import StatesLanguage

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one execution in-process and print its output or its history.",
        discussion: """
            Waits and retry delays run on a virtual clock unless --real-time is given. Tasks are \
            answered by a Step Functions Local mock file (--mock FILE --test-case NAME); without one, \
            every Task fails with States.TaskFailed.
            Exit status: 0 when the execution succeeded; 1 when it failed, timed out or was aborted; \
            2 on bad input (unreadable files, invalid JSON, an invalid definition).
            """)

    @Argument(help: "The state machine definition (.asl.json).")
    var file: String

    @Option(help: "The execution input: JSON text, or @FILE.")
    var input: String = "{}"

    @Option(help: "The execution name.")
    var name: String = "local"

    @Option(name: .customLong("state-machine-name"), help: "The state machine name (also selects the machine in the mock file).")
    var stateMachineName: String?

    @Option(help: "STANDARD or EXPRESS.")
    var type: String = "STANDARD"

    @Option(name: .customLong("role-arn"), help: "The execution role ($$.Execution.RoleArn, ExecutionStarted's roleArn).")
    var roleArn: String?

    @Option(help: "A Step Functions Local MockConfigFile.")
    var mock: String?

    @Option(name: .customLong("test-case"), help: "The test case of the mock file to use.")
    var testCase: String?

    @Flag(help: "Print the history as GetExecutionHistory returns it ({\"events\": [...]}).")
    var history = false

    @Flag(name: .customLong("real-time"), help: "Wait for real instead of on a virtual clock.")
    var realTime = false

    @Option(help: "Seed for States.UUID, States.MathRandom and jitter (default: random).")
    var seed: UInt64?

    func run() throws {
        do {
            try execute()
        } catch let error as InputFiles.BadInput {
            writeStderr("error: \(error)")
            throw ExitCode(ExitStatus.badInput)
        }
    }

    private func execute() throws {
        guard let machineType = ExecutionInfo.MachineType(rawValue: type) else {
            throw InputFiles.BadInput(description: "--type must be STANDARD or EXPRESS")
        }
        let text = try InputFiles.readText(file)
        let definition: StateMachineDefinition
        do {
            definition = try StateMachineDefinition.parse(
                text, options: DefinitionOptions(machineType: machineType == .express ? .express : .standard))
        } catch {
            throw InputFiles.BadInput(description: "\(file): \(error.message)")
        }
        let inputValue = try InputFiles.jsonArgument(input, name: "--input")
        let machineName = stateMachineName
            ?? URL(fileURLWithPath: file).deletingPathExtension().deletingPathExtension().lastPathComponent
        let random = seed.map { RandomSource(seed: $0) } ?? RandomSource()
        let info = ExecutionInfo.make(stateMachineName: machineName, executionName: name, roleArn: roleArn, type: machineType,
                                      expressID: random.uuidString())
        var runner = LocalRunner(random: random)
        if realTime {
            runner.clock = { Int64(Date().timeIntervalSince1970 * 1000) }
            runner.sleep = { ms in Thread.sleep(forTimeInterval: Double(ms) / 1000) }
        }
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        let outcome: LocalRunner.Outcome
        if let mock {
            guard let testCase else { throw InputFiles.BadInput(description: "--mock needs --test-case NAME") }
            let config: MockConfiguration
            do {
                config = try MockConfiguration(json: InputFiles.jsonArgument("@" + mock, name: "--mock"))
            } catch let e as MockConfiguration.FormatError {
                throw InputFiles.BadInput(description: "\(mock): \(e)")
            }
            var handler: MockTaskHandler
            do { handler = try config.handler(stateMachine: machineName, testCase: testCase) } catch {
                throw InputFiles.BadInput(description: "\(mock): \(error)")
            }
            outcome = runner.run(definition: definition, info: info, input: inputValue, startTime: start, handler: &handler)
        } else {
            var handler = NoTaskHandler()
            outcome = runner.run(definition: definition, info: info, input: inputValue, startTime: start, handler: &handler)
        }
        let state = outcome.state
        if history {
            print(outcome.events.awsHistoryJSON().prettyPrinted())
        } else if state.status == .succeeded {
            print((state.output ?? .null).prettyPrinted())
        } else {
            var o = JSONObject()
            o["status"] = .string(state.status.rawValue)
            if let e = state.error {
                if !e.name.isEmpty { o["error"] = .string(e.name) }
                if let c = e.cause { o["cause"] = .string(c) }
            }
            if outcome.isStuck { o["reason"] = "the execution waits for a task answer or timer that never comes" }
            print(JSON.object(o).prettyPrinted())
        }
        if state.status != .succeeded { throw ExitCode(ExitStatus.failed) }
    }
}
