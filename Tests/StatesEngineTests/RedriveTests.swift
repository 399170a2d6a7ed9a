import StatesEngine
import StatesLanguage
import Testing

/// Redrive (engine): a FAILED execution restarts from the state where it stopped, its
/// history kept, `ExecutionRedriven` appended; replaying the whole history gives the same state.
struct RedriveTests {
    static func run(_ definition: String, info: ExecutionInfo, events: [HistoryEvent] = [], now: Int64)
        throws -> ExecutionState
    {
        let d = try StateMachineDefinition.parse(definition)
        var s = ExecutionState(definition: d, info: info)
        for e in events { s.apply(e) }
        return s
    }

    static let info = ExecutionInfo.make(stateMachineName: "m", executionName: "e")

    static func redriven(_ info: ExecutionInfo) -> ExecutionInfo {
        var i = info
        i.redriveCount += 1
        i.redriveTime = 2_000
        return i
    }

    /// A task fails; the redrive re-schedules it with the same input; its success ends the execution.
    @Test func taskFailureRedrivenFromTheFailedState() throws {
        let text = """
            {"StartAt": "A", "States": {
              "A": {"Type": "Pass", "Result": {"x": 1}, "Next": "T"},
              "T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:w", "End": true}}}
            """
        let d = try StateMachineDefinition.parse(text)
        let ctx = DecisionContext(now: 1_000, random: RandomSource(seed: 1))
        var (s, first) = ExecutionState.start(definition: d, info: Self.info, input: ["in": true], context: ctx)
        guard case .dispatchTask(let r)? = first.commands.first else { Issue.record("no task"); return }
        let failed = try s.deliver(.taskFailed(token: r.token, error: "Boom", cause: "c"), ctx)
        #expect(s.status == .failed && s.canRedrive && s.redriveStateName == "T")
        let before = first.events + failed.events

        var again = ExecutionState(definition: d, info: Self.redriven(Self.info))
        for e in before { again.apply(e) }
        let ctx2 = DecisionContext(now: 2_000, random: RandomSource(seed: 2))
        let redrive = again.redrive(ctx2)
        let types = redrive.events.map(\.type)
        #expect(types == [.executionRedriven, .taskStateEntered, .activityScheduled])
        #expect(redrive.events[0].previousEventId == before.last!.id)
        #expect(redrive.events[1].previousEventId == redrive.events[0].id)
        if case .stateEntered(_, let input) = redrive.events[1].details { #expect(input == ["x": 1]) }
        guard case .dispatchTask(let r2)? = redrive.commands.first else { Issue.record("no task after redrive"); return }
        let done = try again.deliver(.taskSucceeded(token: r2.token, output: ["ok": true]), ctx2)
        #expect(again.status == .succeeded && again.output == ["ok": true])

        // Replay of the whole history gives the same end.
        var replay = ExecutionState(definition: d, info: Self.redriven(Self.info))
        for e in before + redrive.events + done.events { replay.apply(e) }
        #expect(replay.status == .succeeded && replay.lastEventID == again.lastEventID)
    }

    /// A Parallel whose branch fails is run again as a whole.
    @Test func parallelFailureRedriven() throws {
        let text = """
            {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
              {"StartAt": "ok", "States": {"ok": {"Type": "Pass", "End": true}}},
              {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:w", "End": true}}}]}}}
            """
        let d = try StateMachineDefinition.parse(text)
        let ctx = DecisionContext(now: 1_000, random: RandomSource(seed: 3))
        var (s, first) = ExecutionState.start(definition: d, info: Self.info, input: [:], context: ctx)
        guard case .dispatchTask(let r)? = first.commands.first else { Issue.record("no task"); return }
        let failed = try s.deliver(.taskFailed(token: r.token, error: "Boom", cause: nil), ctx)
        #expect(s.status == .failed && s.redriveStateName == "P")
        var again = ExecutionState(definition: d, info: Self.redriven(Self.info))
        for e in first.events + failed.events { again.apply(e) }
        let redrive = again.redrive(DecisionContext(now: 2_000, random: RandomSource(seed: 4)))
        #expect(redrive.events.first?.type == .executionRedriven)
        #expect(redrive.events.contains { $0.type == .parallelStateEntered })
        guard case .dispatchTask(let r2)? = redrive.commands.first else { Issue.record("no task after redrive"); return }
        _ = try again.deliver(.taskSucceeded(token: r2.token, output: 1), DecisionContext(now: 3_000, random: RandomSource(seed: 5)))
        #expect(again.status == .succeeded && again.output == [[:], 1])
    }

    /// A Map iteration failure: the Map state runs again.
    @Test func mapFailureRedriven() throws {
        let text = """
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemsPath": "$.items",
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:w", "End": true}}}}}}
            """
        let d = try StateMachineDefinition.parse(text)
        let ctx = DecisionContext(now: 1_000, random: RandomSource(seed: 6))
        var (s, first) = ExecutionState.start(definition: d, info: Self.info, input: ["items": [1]], context: ctx)
        guard case .dispatchTask(let r)? = first.commands.first else { Issue.record("no task"); return }
        let failed = try s.deliver(.taskFailed(token: r.token, error: "Boom", cause: nil), ctx)
        #expect(s.status == .failed && s.redriveStateName == "M")
        var again = ExecutionState(definition: d, info: Self.redriven(Self.info))
        for e in first.events + failed.events { again.apply(e) }
        let redrive = again.redrive(DecisionContext(now: 2_000, random: RandomSource(seed: 7)))
        #expect(redrive.events.map(\.type).prefix(3) == [.executionRedriven, .mapStateEntered, .mapStateStarted])
        guard case .dispatchTask(let r2)? = redrive.commands.first else { Issue.record("no task after redrive"); return }
        _ = try again.deliver(.taskSucceeded(token: r2.token, output: 2), DecisionContext(now: 3_000, random: RandomSource(seed: 8)))
        #expect(again.status == .succeeded && again.output == [2])
    }
}
