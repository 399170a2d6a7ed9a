import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import Testing

/// Deterministic recovery: the same scenario runs once without a crash, then once per
/// crash point (after every commit and every dispatch confirmation of the first run). The
/// resumed executions' final histories must equal the uninterrupted ones, event for event.
@Suite struct RecoveryTests {
    static let t0: Int64 = 1_700_000_000_000
    static let activity = "arn:aws:states:us-east-1:123456789012:activity:act"

    static let flow = """
        {"StartAt":"W","States":{
          "W":{"Type":"Wait","Seconds":10,"Next":"T"},
          "T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
               "Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},
               "TimeoutSeconds":60,"HeartbeatSeconds":5,
               "Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":2,"MaxAttempts":2}],"Next":"A"},
          "A":{"Type":"Task","Resource":"\(activity)","TimeoutSeconds":100,"Next":"P"},
          "P":{"Type":"Parallel","Branches":[
              {"StartAt":"PW","States":{"PW":{"Type":"Wait","Seconds":3,"End":true}}},
              {"StartAt":"PT","States":{"PT":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}],
           "Next":"Done"},
          "Done":{"Type":"Succeed"}}}
        """
    static let longWait = #"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}"#
    static let heartbeatTimeout = """
        {"StartAt":"T","States":{
          "T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
               "Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"HeartbeatSeconds":3,
               "Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"Next":"F"}],"End":true},
          "F":{"Type":"Fail","Error":"Gone","Cause":"no heartbeat"}}}
        """

    static func taskScript(_ r: TaskRequest) -> [(Int64, ScriptedWorker.Answer)] {
        switch (r.stateName, r.attempt) {
        case ("T", 0) where r.heartbeatSeconds == 5:
            return [(0, .submitted(["MessageId": "m1"])), (500, .heartbeat), (1000, .failure("Boom", "first try"))]
        case ("T", _) where r.heartbeatSeconds == 5:
            return [(0, .submitted(["MessageId": "m2"])), (1000, .heartbeat), (2000, .heartbeat), (3000, .success(["ok": true]))]
        case ("T", _):
            return [(0, .submitted(["MessageId": "m3"]))]  // never answers: heartbeat timeout
        case ("PT", _):
            return [(1500, .success(["StatusCode": 200, "Payload": ["n": 1.5]]))]
        default:
            return []
        }
    }

    static func activityScript(_ r: TaskRequest) -> [(Int64, ScriptedWorker.Answer)] {
        [(700, .heartbeat), (2000, .success(["activity": "done"]))]
    }

    typealias Histories = [ExecutionARN: [String]]

    /// Runs the scenario; returns each execution's history (internal events and threads
    /// included) and the number of hook calls (crash points).
    static func scenario(crashAt: Int?) async throws -> (Histories, Int, [String], Int) {
        let dir = NSTemporaryDirectory() + "stepline-recovery-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let world = try SimulatedWorld(
            path: dir + "/db.sqlite", start: t0, crashAt: crashAt, activities: [activity],
            taskScript: taskScript, activityScript: activityScript)
        let resources = world.service.resources
        var machines: [String: StateMachineARN] = [:]
        for (name, text) in [("flow", flow), ("wait", longWait), ("hb", heartbeatTimeout)] {
            machines[name] = try await resources.createStateMachine(.init(
                name: name, definition: text, roleArn: "arn:aws:iam::123456789012:role/r")).arn
        }
        _ = try await resources.createActivity(name: "act")
        var arns: [ExecutionARN] = []
        func start(_ machine: String, _ name: String) -> (Int64, (SimulatedWorld) async throws -> Void) {
            let arn = ExecutionARN(ARNs.execution(region: "us-east-1", account: "123456789012", machine: machine, name: name))
            arns.append(arn)
            return (t0, { w in
                _ = try await w.service.startExecution(.init(stateMachineArn: machines[machine]!, name: name, input: #"{"n":1}"#))
            })
        }
        let actions: [(Int64, (SimulatedWorld) async throws -> Void)] = [
            start("flow", "f1"), start("flow", "f2"), start("wait", "w1"), start("hb", "h1"),
            (t0 + 20_000, { w in
                _ = try await w.service.stopExecution(executionArn: arns[2], error: "Stopped", cause: "by the test")
            }),
        ]
        try await world.run(until: t0 + 600_000, actions: actions)
        var histories: Histories = [:]
        var running = 0
        for arn in arns {
            let events = try await world.store.base.history(executionArn: arn, fromSequence: 0)
            // AWS's events, with their engine threads. Internal events are left out: a
            // heartbeat that a worker sends again after a crash is a new heartbeat.
            histories[arn] = events.filter { !$0.isInternal }.map { "\($0.thread.rawValue) \($0.awsJSON().serialized())" }
            if try await world.store.base.execution(arn: arn)?.status == .running { running += 1 }
        }
        try? await world.store.base.close()
        return (histories, world.plan.calls.load(ordering: .acquiring), world.plan.kinds.withLock { $0 }, running)
    }

    @Test func crashAfterEveryStepResumesToTheSameHistory() async throws {
        let (baseline, points, kinds, running) = try await Self.scenario(crashAt: nil)
        #expect(running == 0)
        // Every kind of step is among the crash points.
        for kind in ["start", "timer", "taskSubmitted", "taskSucceeded", "taskFailed", "taskHeartbeat", "activityStarted", "stop"] {
            #expect(kinds.contains("commit:\(kind)"), "no \(kind) step in the scenario")
        }
        #expect(kinds.contains("dispatch"))
        let types = baseline.values.flatMap { $0 }
        #expect(types.contains { $0.contains("ExecutionAborted") } && types.contains { $0.contains("ExecutionSucceeded") })
        #expect(types.contains { $0.contains("States.HeartbeatTimeout") })
        for k in 1...points {
            let (resumed, _, _, left) = try await Self.scenario(crashAt: k)
            #expect(left == 0, "crash at \(k) (\(kinds[k - 1])): executions left running")
            for (arn, events) in baseline {
                let got = resumed[arn] ?? []
                guard got != events else { continue }
                let i = Array(zip(got, events)).firstIndex { $0.0 != $0.1 } ?? min(got.count, events.count)
                Issue.record("""
                    crash at \(k) (\(kinds[k - 1])): \(arn) differs at event \(i) (\(got.count) events, expected \(events.count))
                    got:      \(i < got.count ? got[i] : "-")
                    expected: \(i < events.count ? events[i] : "-")
                    """)
            }
        }
    }
}
