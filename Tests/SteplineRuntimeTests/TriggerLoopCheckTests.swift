import SteplineKafka
import SteplineRuntime
import Testing

/// Trigger rules that would feed themselves through the topics Stepline writes.
@Suite struct TriggerLoopCheckTests {
    let check = TriggerLoopCheck(topics: IntegrationTopics(), region: "us-east-1", account: "123456789012")
    static let m = "arn:aws:states:us-east-1:123456789012:stateMachine:m"

    func rule(_ name: String, _ topic: String, _ machine: String, pattern: String? = nil, deadLetter: Bool = false,
              enabled: Bool = true) throws -> TriggerRule
    {
        try TriggerRule(name: name, topic: topic, pattern: pattern, stateMachine: machine, deadLetter: deadLetter, enabled: enabled)
    }

    @Test func deadLettersOfTheDeadLetterTopic() throws {
        #expect(check.firstLoop(in: [try rule("a", "stepline.dead-letters", "m", deadLetter: true)])?.index == 0)
        // Without deadLetter, or disabled, it starts workflows and writes nothing back.
        #expect(check.firstLoop(in: [try rule("a", "stepline.dead-letters", "m")]) == nil)
        #expect(check.firstLoop(in: [try rule("a", "stepline.dead-letters", "m", deadLetter: true, enabled: false)]) == nil)
        // Dead letters of another topic are fine.
        #expect(check.firstLoop(in: [try rule("a", "orders", "m", deadLetter: true)]) == nil)
    }

    @Test(arguments: [
        (#"{"source": ["aws.states"]}"#, true),
        (#"{"detail": {"status": ["RUNNING"]}}"#, true),
        (#"{"detail": {"status": ["TIMED_OUT"], "stateMachineArn": [{"prefix": "arn:aws:states:us-east-1:123456789012:stateMachine:"}]}}"#, true),
        (#"{"detail": {"stateMachineArn": [{"anything-but": ["arn:aws:states:us-east-1:123456789012:stateMachine:m"]}]}}"#, false),
        (#"{"detail": {"name": [{"prefix": "nightly-"}]}}"#, false),
        (#"{"detail": {"input": [{"exists": false}]}}"#, false),
    ])
    func statusEventsOfItsOwnMachine(_ pattern: String, _ loops: Bool) throws {
        for machine in ["m", Self.m, Self.m + ":3", Self.m + ":live"] {
            let found = check.firstLoop(in: [try rule("s", "stepline.execution-status", machine, pattern: pattern)])
            #expect((found != nil) == loops, "\(machine): \(found?.message ?? "no loop")")
        }
        // No pattern: every status event, its own machine's too.
        #expect(check.firstLoop(in: [try rule("s", "stepline.execution-status", "m")]) != nil)
    }

    @Test func aLoopThroughTwoRulesNamesBoth() throws {
        let a = try rule("a", "stepline.execution-status", "m", pattern: #"{"detail": {"stateMachineArn": ["arn:aws:states:us-east-1:123456789012:stateMachine:n"]}}"#)
        let b = try rule("b", "stepline.execution-status", "n", pattern: #"{"detail": {"stateMachineArn": ["\#(Self.m)"], "status": ["SUCCEEDED"]}}"#)
        let loop = try #require(check.firstLoop(in: [a, b]))
        #expect(loop.index == 1 && loop.message.contains("'b' → 'a' → 'b'"), "\(loop.message)")
        // A third rule from m to another machine closes nothing.
        let c = try rule("c", "stepline.execution-status", "o", pattern: #"{"detail": {"stateMachineArn": ["\#(Self.m)"]}}"#)
        #expect(check.firstLoop(in: [a, c]) == nil)
    }
}
