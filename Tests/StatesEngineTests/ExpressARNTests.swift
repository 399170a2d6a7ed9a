import StatesEngine
import StatesLanguage
import Testing

/// Express execution ARNs: `arn:aws:states:REGION:ACCOUNT:express:MACHINE:NAME:ID`, the same
/// wherever the engine shows the ARN (`$$.Execution.Id` here).
@Suite struct ExpressARNTests {
    static func executionId(_ info: ExecutionInfo) throws -> String? {
        let definition = try StateMachineDefinition.parse(
            #"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name"},"End":true}}}"#,
            options: DefinitionOptions(machineType: info.type == .express ? .express : .standard))
        var handler = NoTaskHandler()
        let outcome = LocalRunner(random: RandomSource(seed: 3)).run(
            definition: definition, info: info, input: [:], startTime: 1_700_000_000_000, handler: &handler)
        #expect(outcome.state.output?["name"]?.stringValue == info.name)
        return outcome.state.output?["id"]?.stringValue
    }

    @Test func expressExecutionIdEndsWithNameAndID() throws {
        let info = ExecutionInfo.make(stateMachineName: "orders", executionName: "run-1", type: .express)
        let id = try #require(try Self.executionId(info))
        let prefix = "arn:aws:states:us-east-1:123456789012:express:orders:run-1:"
        #expect(id.hasPrefix(prefix), "\(id)")
        #expect(id.dropFirst(prefix.count).wholeMatch(of: #/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/#) != nil, "\(id)")
        #expect(id == info.executionArn)
    }

    @Test func everyExpressStartHasItsOwnID() {
        let a = ExecutionInfo.make(stateMachineName: "m", executionName: "same", type: .express)
        let b = ExecutionInfo.make(stateMachineName: "m", executionName: "same", type: .express)
        #expect(a.executionArn != b.executionArn)
        let given = ExecutionInfo.make(stateMachineName: "m", executionName: "n", type: .express, expressID: "id-1")
        #expect(given.executionArn == "arn:aws:states:us-east-1:123456789012:express:m:n:id-1")
    }

    @Test func standardExecutionIdEndsWithName() throws {
        let info = ExecutionInfo.make(stateMachineName: "orders", executionName: "run-1")
        #expect(try Self.executionId(info) == "arn:aws:states:us-east-1:123456789012:execution:orders:run-1")
    }
}
