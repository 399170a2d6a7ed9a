import StatesEngine
import StatesLanguage
import Testing

/// The engine over definitions nested as deep as the JSON parser allows (issue 14): Parallel
/// states inside Parallel branches, Map states inside item processors. The engine walks the
/// definition's blocks and the execution's threads; both nest once per level.
@Suite struct DeepDefinitionTests {
    static func nested(_ kind: String, levels: Int) -> String {
        var machine: JSON = ["StartAt": "S", "States": ["S": ["Type": "Pass", "End": true]]]
        for _ in 0..<levels {
            let state: JSON = kind == "Parallel"
                ? ["Type": "Parallel", "Branches": [machine], "End": true]
                : ["Type": "Map", "ItemsPath": "$.items", "ItemProcessor": machine, "End": true]
            machine = ["StartAt": "S", "States": ["S": state]]
        }
        return machine.serialized()
    }

    /// The deepest nesting the JSON parser's 512 levels leave room for: 125 Parallel states
    /// (4 levels each) or 165 Map states (3 each).
    @Test(arguments: [("Parallel", 125), ("Map", 165)])
    func deeplyNestedStatesRunAndReplay(_ kind: String, _ levels: Int) throws {
        let definition = try StateMachineDefinition.parse(Self.nested(kind, levels: levels))
        // each Map level iterates over a one-item list whose item holds the next level's list
        var input: JSON = ["items": []]
        for _ in 0..<levels { input = ["items": [input]] }
        let info = ExecutionInfo.make(stateMachineName: "deep", executionName: "x")
        var handler = NoTaskHandler()
        let outcome = LocalRunner(random: RandomSource(seed: 1)).run(
            definition: definition, info: info, input: kind == "Map" ? input : ["a": 1], startTime: 1_700_000_000_000,
            handler: &handler)
        #expect(outcome.state.status == .succeeded, "\(String(describing: outcome.state.error))")
        // recovery: the history decodes and replays to the same state
        let decoded = try HistoryCodec.decode(HistoryCodec.encode(outcome.events))
        var replayed = ExecutionState(definition: definition, info: info)
        for e in decoded { replayed.apply(e) }
        #expect(replayed.status == outcome.state.status && replayed.output == outcome.state.output)
        #expect(replayed.lastEventID == outcome.state.lastEventID)
    }
}
