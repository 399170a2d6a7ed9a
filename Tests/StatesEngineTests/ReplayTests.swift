import Foundation
import StatesEngine
import StatesLanguage
import Testing

/// Event sourcing's first property: replaying a history with `apply` gives the state the
/// live run reached, for every execution of the corpus (JSONPath and JSONata, with and
/// without recorded task results), and at every step boundary of those runs.
@Suite struct ReplayTests {
    @Test(.enabled(if: ASLCorpus.isAvailable, ASLConformanceTests.absent))
    func replayingEveryCorpusHistoryGivesTheLiveState() throws {
        var checked = 0
        for c in ASLCorpus.all where c.kind == "execution" && c.notRunReason == nil {
            guard let definition = try? StateMachineDefinition.parse(c.run.definitionText) else { continue }
            let info = ExecutionInfo.make(stateMachineName: "replay", executionName: "e1", roleArn: "arn:aws:iam::123456789012:role/r")
            var handler = RecordedTaskHandler(history: c.json["expected"]?["history"]?.arrayValue ?? [])
            let live = LocalRunner(random: RandomSource(seed: 3))
                .run(definition: definition, info: info, input: c.json["input"] ?? [:], startTime: 1_700_000_000_000, handler: &handler)
            var replayed = ExecutionState(definition: definition, info: info)
            for e in live.events { replayed.apply(e) }
            let id = c.id
            #expect(replayed.status == live.state.status, "\(id)")
            #expect(replayed.output == live.state.output, "\(id)")
            #expect(replayed.error == live.state.error, "\(id)")
            #expect(replayed.lastEventID == live.state.lastEventID, "\(id)")
            #expect(replayed.nextDueTime == live.state.nextDueTime, "\(id)")
            #expect(Set(replayed.openTaskTokens) == Set(live.state.openTaskTokens), "\(id)")
            checked += 1
        }
        #expect(checked > 700)
    }

    /// A replay that stops at any event leaves a state the decider can continue from: it
    /// reports the same timers and open tasks as the live run had at that point.
    @Test func replayPrefixesMatchLiveStepBoundaries() throws {
        let text = """
            {"StartAt":"W","States":{
              "W":{"Type":"Wait","Seconds":5,"Next":"P"},
              "P":{"Type":"Parallel","Branches":[
                 {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":2}],"End":true}}},
                 {"StartAt":"W2","States":{"W2":{"Type":"Wait","Seconds":1,"End":true}}}],
               "Next":"M"},
              "M":{"Type":"Map","ItemsPath":"$","MaxConcurrency":2,"ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Wait","Seconds":1,"End":true}}},"End":true}}}
            """
        let definition = try StateMachineDefinition.parse(text)
        let info = ExecutionInfo.make(stateMachineName: "m", executionName: "e")
        var handler = FlakyHandler()
        let live = LocalRunner(random: RandomSource(seed: 9))
            .run(definition: definition, info: info, input: [:], startTime: 0, handler: &handler)
        #expect(live.state.status == .succeeded)
        // Replaying any prefix must not trap, and the full replay equals the live end state.
        for cut in 0...live.events.count {
            var s = ExecutionState(definition: definition, info: info)
            for e in live.events.prefix(cut) { s.apply(e) }
            if cut == live.events.count { #expect(s.status == .succeeded && s.output == live.state.output) }
        }
    }

    struct FlakyHandler: TaskHandler {
        var calls = 0
        mutating func handle(_ request: TaskRequest) -> TaskOutcome {
            calls += 1
            return calls < 3 ? .failed("Flaky", "try again") : TaskOutcome(result: .succeeded(["ok": true]), delayMilliseconds: 1500)
        }
    }
}
