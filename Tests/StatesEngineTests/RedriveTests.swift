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

/// AWS behaviour: "For workflows that include an Inline Map or Parallel state,
/// RedriveExecution reschedules and redrives only the iterations and branches that failed or
/// aborted"; a Distributed Map's Map Run is redriven (MapRunRedriven), and inside a branch or
/// an iteration the redrive continues from the unsuccessful step, the steps that succeeded
/// are not rerun.
struct PartialRedriveTests {
    static let activity = "arn:aws:states:us-east-1:123456789012:activity:w"

    /// A run: the events so far, the state, the open task tokens by the order they were dispatched.
    struct Run {
        var state: ExecutionState
        var events: [HistoryEvent]
        var tokens: [TaskToken]
        let definition: StateMachineDefinition
        var now: Int64 = 1_000

        init(_ text: String, input: JSON) throws {
            definition = try StateMachineDefinition.parse(text)
            let (s, d) = ExecutionState.start(definition: definition, info: RedriveTests.info, input: input,
                                              context: DecisionContext(now: 1_000, random: RandomSource(seed: 21)))
            state = s
            events = d.events
            tokens = Self.dispatched(d)
        }

        static func dispatched(_ d: Decision) -> [TaskToken] {
            d.commands.compactMap { if case .dispatchTask(let r) = $0 { r.token } else { nil } }
        }

        /// The input of each dispatched task, by token.
        mutating func deliver(_ signal: ExecutionSignal) throws -> Decision {
            now += 1
            let d = try state.deliver(signal, DecisionContext(now: now, random: RandomSource(seed: UInt64(now))))
            events += d.events
            tokens += Self.dispatched(d)
            return d
        }

        /// Rebuilds the execution from its history with the next redrive count, and redrives it.
        mutating func redrive() -> Decision {
            now += 1_000
            var again = ExecutionState(definition: definition, info: RedriveTests.redriven(RedriveTests.info))
            for e in events { again.apply(e) }
            state = again
            let d = state.redrive(DecisionContext(now: now, random: RandomSource(seed: 99)))
            events += d.events
            tokens = Self.dispatched(d)
            return d
        }

        /// `type name` of the visible events of a decision (the name is the state's, for
        /// StateEntered/StateExited, or the iteration index).
        static func summary(_ events: [HistoryEvent]) -> [String] {
            events.filter { !$0.isInternal && !$0.hidden }.map { e in
                switch e.details {
                case .stateEntered(let n, _), .stateExited(let n, _, _): return "\(e.type.rawValue) \(n)"
                case .mapIteration(_, let i): return "\(e.type.rawValue) \(i)"
                case .mapRunRedriven(_, let count): return "\(e.type.rawValue) \(count)"
                default: return e.type.rawValue
                }
            }
        }

        /// Replaying the whole history gives the same end.
        func checkReplay() {
            var replay = ExecutionState(definition: definition, info: RedriveTests.redriven(RedriveTests.info))
            for e in events { replay.apply(e) }
            #expect(replay.status == state.status && replay.output == state.output && replay.lastEventID == state.lastEventID)
        }
    }

    /// A Parallel whose second branch failed at its Task, after a Pass: the redrive re-enters
    /// the Parallel, runs only that branch, from its Task; the first branch's result is kept.
    @Test func parallelRerunsOnlyTheFailedBranchFromItsFailedState() throws {
        var run = try Run("""
            {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
              {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "Result": "first", "End": true}}},
              {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"a": 1}, "Next": "T"},
                                          "T": {"Type": "Task", "Resource": "\(Self.activity)", "End": true}}}]}}}
            """, input: ["in": 1])
        _ = try run.deliver(.taskFailed(token: run.tokens[0], error: "Boom", cause: nil))
        #expect(run.state.status == .failed)
        let redrive = run.redrive()
        #expect(Run.summary(redrive.events) == [
            "ExecutionRedriven", "ParallelStateEntered P", "ParallelStateStarted", "TaskStateEntered T", "ActivityScheduled",
        ])
        if case .stateEntered(_, let input) = redrive.events[3].details { #expect(input == ["a": 1]) }
        #expect(redrive.events[3].previousEventId == redrive.events[2].id)
        let done = try run.deliver(.taskSucceeded(token: run.tokens[0], output: "second"))
        #expect(Run.summary(done.events).suffix(3) == ["ParallelStateSucceeded", "ParallelStateExited P", "ExecutionSucceeded"])
        #expect(run.state.status == .succeeded && run.state.output == ["first", "second"])
        run.checkReplay()
    }

    /// An inline Map whose iteration 1 failed while iteration 0 was aborted and 2 had
    /// succeeded: the redrive reruns iterations 0 and 1, each from its Task (not the Pass
    /// before it), and keeps 2's result.
    @Test func inlineMapRerunsOnlyUnsuccessfulIterations() throws {
        var run = try Run("""
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemsPath": "$.items",
              "ItemProcessor": {"StartAt": "A", "States": {
                "A": {"Type": "Pass", "Parameters": {"v.$": "$"}, "Next": "T"},
                "T": {"Type": "Task", "Resource": "\(Self.activity)", "End": true}}}}}}
            """, input: ["items": [10, 20, 30]])
        #expect(run.tokens.count == 3)
        _ = try run.deliver(.taskSucceeded(token: run.tokens[2], output: "r30"))
        _ = try run.deliver(.taskFailed(token: run.tokens[1], error: "Boom", cause: nil))
        #expect(run.state.status == .failed)
        let redrive = run.redrive()
        #expect(Run.summary(redrive.events) == [
            "ExecutionRedriven", "MapStateEntered M", "MapStateStarted",
            "MapIterationStarted 0", "TaskStateEntered T", "ActivityScheduled",
            "MapIterationStarted 1", "TaskStateEntered T", "ActivityScheduled",
        ])
        _ = try run.deliver(.taskSucceeded(token: run.tokens[0], output: "r10"))
        let done = try run.deliver(.taskSucceeded(token: run.tokens[1], output: "r20"))
        #expect(Run.summary(done.events).suffix(3) == ["MapStateSucceeded", "MapStateExited M", "ExecutionSucceeded"])
        #expect(run.state.status == .succeeded && run.state.output == ["r10", "r20", "r30"])
        run.checkReplay()
    }

    /// A Distributed Map whose Map Run failed: the redrive redrives the same Map Run
    /// (MapRunRedriven, its redrive count) and reruns only its unsuccessful child executions.
    @Test func distributedMapRedrivesItsMapRun() throws {
        var run = try Run("""
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemsPath": "$.items",
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "\(Self.activity)", "End": true}}}}}}
            """, input: ["items": [1, 2]])
        let runArn = run.events.compactMap { if case .mapRunStarted(let a) = $0.details { a } else { nil } }.first
        _ = try run.deliver(.taskSucceeded(token: run.tokens[1], output: "two"))
        _ = try run.deliver(.taskFailed(token: run.tokens[0], error: "Boom", cause: nil))
        #expect(run.state.status == .failed)
        let redrive = run.redrive()
        #expect(Run.summary(redrive.events) == ["ExecutionRedriven", "MapStateEntered M", "MapStateStarted", "MapRunRedriven 1"])
        #expect(redrive.events.contains { if case .mapRunRedriven(let a, _) = $0.details { a == runArn } else { false } })
        #expect(run.tokens.count == 1)
        let done = try run.deliver(.taskSucceeded(token: run.tokens[0], output: "one"))
        #expect(Run.summary(done.events) == ["MapRunSucceeded", "MapStateSucceeded", "MapStateExited M", "ExecutionSucceeded"])
        #expect(run.state.output == ["one", "two"])
        run.checkReplay()
    }

    /// Redriven twice: the Map Run's redrive count follows.
    @Test func secondRedriveOfAMapRunCountsTwo() throws {
        var run = try Run("""
            {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
              "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "\(Self.activity)", "End": true}}}}}}
            """, input: [1])
        _ = try run.deliver(.taskFailed(token: run.tokens[0], error: "Boom", cause: nil))
        _ = run.redrive()
        _ = try run.deliver(.taskFailed(token: run.tokens[0], error: "Boom", cause: nil))
        #expect(run.state.status == .failed)
        var info = RedriveTests.redriven(RedriveTests.info)
        info.redriveCount = 2
        var again = ExecutionState(definition: run.definition, info: info)
        for e in run.events { again.apply(e) }
        let second = again.redrive(DecisionContext(now: 9_000, random: RandomSource(seed: 5)))
        #expect(Run.summary(second.events).last == "MapRunRedriven 2")
    }

    /// A stopped execution (ABORTED) whose Parallel had one branch done and one waiting on a
    /// task: the redrive reruns the waiting branch only.
    @Test func abortedParallelRerunsTheBranchThatWasRunning() throws {
        var run = try Run("""
            {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
              {"StartAt": "T1", "States": {"T1": {"Type": "Task", "Resource": "\(Self.activity)", "End": true}}},
              {"StartAt": "T2", "States": {"T2": {"Type": "Task", "Resource": "\(Self.activity)", "End": true}}}]}}}
            """, input: [:])
        _ = try run.deliver(.taskSucceeded(token: run.tokens[0], output: 1))
        _ = try run.deliver(.stop(error: nil, cause: nil))
        #expect(run.state.status == .aborted)
        let redrive = run.redrive()
        #expect(Run.summary(redrive.events) == [
            "ExecutionRedriven", "ParallelStateEntered P", "ParallelStateStarted", "TaskStateEntered T2", "ActivityScheduled",
        ])
        _ = try run.deliver(.taskSucceeded(token: run.tokens[0], output: 2))
        #expect(run.state.output == [1, 2])
        run.checkReplay()
    }
}
