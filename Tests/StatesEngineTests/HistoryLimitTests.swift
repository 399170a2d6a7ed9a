import StatesEngine
import StatesLanguage
import Testing

/// The history quota ends executions inside the engine, so that a loop of states that never
/// blocks (Pass/Choice only, in a branch or an iteration too) returns.
@Suite struct HistoryLimitTests {
    static func run(_ text: String, limit: Int64) throws -> [HistoryEvent] {
        let definition = try StateMachineDefinition.parse(text)
        let info = ExecutionInfo.make(stateMachineName: "loop", executionName: "x")
        var (state, decision) = ExecutionState.start(
            definition: definition, info: info, input: [:],
            context: DecisionContext(now: 1_700_000_000_000, random: RandomSource(seed: 1), historyEventLimit: limit))
        #expect(state.status == .failed)
        // Replaying the events gives the same state: dropped events were never applied.
        var replayed = ExecutionState(definition: definition, info: info)
        for e in decision.events { replayed.apply(e) }
        #expect(replayed.lastEventID == state.lastEventID && replayed.status == state.status)
        decision.events.removeAll { $0.type.isInternal || $0.hidden }
        state = replayed
        return decision.events
    }

    static let loop = """
        {"StartAt":"A","States":{
          "A":{"Type":"Pass","Next":"B"},
          "B":{"Type":"Choice","Choices":[{"Variable":"$.never","IsPresent":true,"Next":"C"}],"Default":"A"},
          "C":{"Type":"Succeed"}}}
        """

    @Test func loopAtTopLevel() throws {
        let events = try Self.run(Self.loop, limit: 500)
        #expect(events.map(\.id) == Array(1...500))
        #expect(events.last?.type == .executionFailed && events.last?.previousEventId == 499)
        if case .error(let error, let cause) = events.last?.details {
            #expect(error == "States.Runtime" && cause == "The execution reached the maximum number of history events (500).")
        } else {
            Issue.record("ExecutionFailed without error details")
        }
    }

    @Test func loopInsideParallelAndMap() throws {
        let parallel = """
            {"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
              {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}},
              \(Self.loop)]}}}
            """
        let p = try Self.run(parallel, limit: 300)
        #expect(p.count == 300 && p.last?.type == .executionFailed)
        let map = """
            {"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","End":true,
              "ItemProcessor":\(Self.loop)}}}
            """
        let definition = try StateMachineDefinition.parse(map)
        let (state, decision) = ExecutionState.start(
            definition: definition, info: ExecutionInfo.make(stateMachineName: "m", executionName: "x"), input: ["items": [1, 2, 3]],
            context: DecisionContext(now: 0, random: RandomSource(seed: 1), historyEventLimit: 400))
        let visible = decision.events.filter { !$0.type.isInternal && !$0.hidden }
        #expect(state.status == .failed && visible.count == 400 && visible.last?.id == 400)
    }

    /// A task open when the quota is reached is cancelled.
    @Test func openTasksAreCancelled() throws {
        let text = """
            {"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
              {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:a","End":true}}},
              \(Self.loop)]}}}
            """
        let definition = try StateMachineDefinition.parse(text)
        let (state, decision) = ExecutionState.start(
            definition: definition, info: ExecutionInfo.make(stateMachineName: "t", executionName: "x"), input: [:],
            context: DecisionContext(now: 0, random: RandomSource(seed: 1), historyEventLimit: 200))
        #expect(state.status == .failed)
        let cancelled = decision.commands.compactMap { c -> TaskToken? in if case .cancelTask(let t) = c { return t } else { return nil } }
        let dispatched = decision.commands.compactMap { c -> TaskToken? in if case .dispatchTask(let r) = c { return r.token } else { return nil } }
        #expect(!dispatched.isEmpty && Set(dispatched).isSubset(of: Set(cancelled)))
    }

    /// A redriven execution that loops again ends at the quota too, instead of staying
    /// RUNNING with no terminal event.
    @Test func redriveEndsAtTheQuota() throws {
        let definition = try StateMachineDefinition.parse(Self.loop)
        let info = ExecutionInfo.make(stateMachineName: "loop", executionName: "x")
        let (state, first) = ExecutionState.start(
            definition: definition, info: info, input: [:],
            context: DecisionContext(now: 0, random: RandomSource(seed: 1), historyEventLimit: 200))
        #expect(state.status == .failed && state.canRedrive)
        var redrivenInfo = info
        redrivenInfo.redriveCount = 1
        redrivenInfo.redriveTime = 1_000
        var again = ExecutionState(definition: definition, info: redrivenInfo)
        for e in first.events { again.apply(e) }
        let redrive = again.redrive(DecisionContext(now: 1_000, random: RandomSource(seed: 2), historyEventLimit: 400))
        let visible = redrive.events.filter { !$0.type.isInternal && !$0.hidden }
        #expect(again.status == .failed)
        #expect(visible.first?.type == .executionRedriven && visible.first?.id == 201)
        #expect(visible.last?.type == .executionFailed && visible.last?.id == 400)
    }
}
