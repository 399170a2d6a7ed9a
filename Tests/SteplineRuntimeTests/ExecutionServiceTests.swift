import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import Synchronization
import Testing
import ControlPlane

/// The executor's AWS semantics on a real SQLite store, with a manual clock.
@Suite struct ExecutionServiceTests {
    // @unchecked: the fixture is read-only after init; its clock and runtime are thread-safe.
    final class Fixture: @unchecked Sendable {
        let dir: String
        let clock = ManualClock(1_700_000_000_000)
        let runtime: SteplineRuntime
        var service: ExecutionService { runtime.executions }

        init(configure: (inout RuntimeConfiguration) -> Void = { _ in },
             dispatcher: (any TaskDispatcher)? = nil, hooks: RuntimeHooks = .init()) throws
        {
            dir = NSTemporaryDirectory() + "stepline-exec-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var cfg = RuntimeConfiguration()
            configure(&cfg)
            runtime = SteplineRuntime(store: try SQLiteStore(path: dir + "/db.sqlite", options: .init(synchronous: .normal)),
                                      configuration: cfg, clock: clock, hooks: hooks, dispatcher: dispatcher)
        }

        func machine(_ name: String, _ definition: String, type: String = "STANDARD") async throws -> StateMachineARN {
            try await service.resources.createStateMachine(.init(
                name: name, definition: definition, roleArn: "arn:aws:iam::123456789012:role/r", type: type)).arn
        }

        func events(_ arn: ExecutionARN) async throws -> [HistoryEvent] {
            try await service.getExecutionHistory(executionArn: arn, maxResults: 1000, nextToken: nil, reverseOrder: false).events
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    static let wait = #"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}"#

    @Test func startIsIdempotentByName() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        let a = try await f.service.startExecution(.init(stateMachineArn: m, name: "x", input: #"{"a":1}"#))
        let b = try await f.service.startExecution(.init(stateMachineArn: m, name: "x", input: #"{ "a" : 1 }"#))
        #expect(a == b)
        await #expect(throws: ServiceError.executionAlreadyExists(a.executionArn)) {
            _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "x", input: #"{"a":2}"#))
        }
        // A restarted runtime (empty cache) decides the same way, from the store.
        let again = SteplineRuntime(store: try SQLiteStore(path: f.dir + "/db.sqlite"), clock: f.clock)
        #expect(try await again.executions.startExecution(.init(stateMachineArn: m, name: "x", input: #"{"a":1}"#)).executionArn == a.executionArn)
        await #expect(throws: ServiceError.executionAlreadyExists(a.executionArn)) {
            _ = try await again.executions.startExecution(.init(stateMachineArn: m, name: "x", input: #"{"a":2}"#))
        }
        // Once closed, the name stays taken, even with the same input.
        f.clock.advance(by: 10_000)
        await f.service.timers.fireDue()
        #expect(try await f.service.describeExecution(executionArn: a.executionArn).status == .succeeded)
        await #expect(throws: ServiceError.executionAlreadyExists(a.executionArn)) {
            _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "x", input: #"{"a":1}"#))
        }
        #expect(f.service.timers.count == 0)
        await again.shutdown()
    }

    /// The running count that trigger back-pressure reads: the store's at recovery, then
    /// each durable step's change.
    @Test func runningExecutionsAreCounted() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        let a = try await f.service.startExecution(.init(stateMachineArn: m, name: "a"))
        _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "b"))
        _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "b"))  // idempotent: not counted again
        #expect(f.service.runningExecutions == 2)
        _ = try await f.service.stopExecution(executionArn: a.executionArn, error: nil, cause: nil)
        #expect(f.service.runningExecutions == 1)
        let again = SteplineRuntime(store: try SQLiteStore(path: f.dir + "/db.sqlite"), clock: f.clock)
        try await again.recover()
        #expect(again.executions.runningExecutions == 1)
        await again.shutdown()
        f.clock.advance(by: 10_000)
        await f.service.timers.fireDue()
        #expect(f.service.runningExecutions == 0)
    }

    /// Recounting (recovery) while steps commit neither counts a step twice nor misses one:
    /// the committer reads the store's count between two batches and applies each step's
    /// change before its batch is answered.
    @Test func recountWhileStepsCommitIsExact() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask { _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "e\(i)")) }
                if i % 10 == 0 { group.addTask { _ = try await f.service.committer.recountRunning() } }
            }
            try await group.waitForAll()
        }
        #expect(f.service.runningExecutions == 200)
        #expect(try await f.service.committer.recountRunning() == 200)
    }

    /// What makes the recount exact: a step's change of the count is applied when the step
    /// is durable, before anything follows from it (here: the commit hook), not after.
    @Test func runningCountChangesWhenTheStepIsDurable() async throws {
        final class Holder: Sendable {
            let runtime = Mutex<SteplineRuntime?>(nil)
            let seen = Mutex<[Int]>([])
        }
        let holder = Holder()
        var hooks = RuntimeHooks()
        hooks.afterCommit = { kind, _ in
            guard kind == .start, let r = holder.runtime.withLock({ $0 }) else { return }
            holder.seen.withLock { $0.append(r.executions.runningExecutions) }
        }
        let f = try Fixture(hooks: hooks)
        holder.runtime.withLock { $0 = f.runtime }
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        for name in ["a", "b", "c"] { _ = try await f.service.startExecution(.init(stateMachineArn: m, name: name)) }
        #expect(holder.seen.withLock { $0 } == [1, 2, 3])
    }

    @Test func validationErrors() async throws {
        let f = try Fixture()
        let m = try await f.machine("m", Self.wait)
        await #expect(throws: ServiceError.invalidName("a b")) {
            _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "a b"))
        }
        await #expect(throws: ServiceError.self) { _ = try await f.service.startExecution(.init(stateMachineArn: m, input: "{")) }
        let unknown = StateMachineARN(m.rawValue + "x")
        await #expect(throws: ServiceError.stateMachineDoesNotExist(unknown)) {
            _ = try await f.service.startExecution(.init(stateMachineArn: unknown))
        }
        let malformed = ExecutionARN("nope")
        await #expect(throws: ServiceError.invalidArn(malformed)) { _ = try await f.service.describeExecution(executionArn: malformed) }
        await #expect(throws: ServiceError.invalidToken) { try await f.service.sendTaskSuccess(taskToken: TaskToken("nope"), output: "{}") }
        await #expect(throws: ServiceError.invalidToken) {
            _ = try await f.service.listExecutions(filter: ExecutionFilter(stateMachineArn: m), maxResults: nil, nextToken: "nope")
        }
        await #expect(throws: ServiceError.taskDoesNotExist) {
            try await f.service.sendTaskSuccess(taskToken: TaskToken("AQB" + String(repeating: "x", count: 85)), output: "{}")
        }
        do {
            _ = try await f.service.resources.createStateMachine(.init(name: "bad", definition: "{}", roleArn: "r"))
            Issue.record("an invalid definition was accepted")
        } catch let e as ServiceError {
            #expect(e.code == .invalidDefinition)
        }
    }

    @Test func stopAbortsAndCancelsTasks() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        _ = try await f.service.resources.createActivity(name: "act")
        let m = try await f.machine("m", """
            {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:act","End":true}}}
            """)
        let e = try await f.service.startExecution(.init(stateMachineArn: m, name: "s"))
        await f.service.relay.relayPending()
        #expect(f.runtime.activities.pendingCount(activityArn: ActivityARN("arn:aws:states:us-east-1:123456789012:activity:act")) == 1)
        let stop = try await f.service.stopExecution(executionArn: e.executionArn, error: "E", cause: "C")
        #expect(stop == f.clock.now())
        let d = try await f.service.describeExecution(executionArn: e.executionArn)
        #expect(d.status == .aborted && d.error == "E" && d.cause == "C")
        #expect(try await f.events(e.executionArn).last?.type == .executionAborted)
        try await Task.sleep(for: .milliseconds(50))
        #expect(f.runtime.activities.pendingCount(activityArn: ActivityARN("arn:aws:states:us-east-1:123456789012:activity:act")) == 0)
        // Stopping again is not an error.
        #expect(try await f.service.stopExecution(executionArn: e.executionArn, error: nil, cause: nil) == stop)
        #expect(try await f.runtime.store.pendingOutbox(afterID: 0, limit: 10).isEmpty)
    }

    /// Answers every task's submission itself and plans its record in the step, as the Kafka
    /// dispatcher does for a publish that waits for its callback.
    final class SelfSubmittingDispatcher: TaskDispatcher {
        let dispatched = Mutex<[TaskToken]>([])
        let published = Mutex<[OutboundRecord]>([])
        let awaiting = Mutex<[TaskToken]>([])

        func presubmission(for request: TaskRequest, now: Int64) -> Presubmission? {
            let id = "m-\(request.attempt)"
            let record = OutboundRecord(topic: "q", key: Array("k".utf8), value: Array(id.utf8),
                                        headers: [("stepline-task-token", request.token.rawValue), ("a", "1"), ("a", "2")])
            return Presubmission(records: [record], output: ["MessageId": .string(id)])
        }

        func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
            dispatched.withLock { $0.append(request.token) }
            return .sent
        }

        func publish(_ records: [OutboundRecord]) async throws { published.withLock { $0 += records } }

        func awaitsReply(token: TaskToken) { awaiting.withLock { $0.append(token) } }

        func cancel(token: TaskToken) async {}
    }

    @Test func submissionAnsweredByTheDispatcherIsWrittenInTheSchedulingStep() async throws {
        let d = SelfSubmittingDispatcher()
        let f = try Fixture(dispatcher: d)
        try await f.runtime.recover()
        let m = try await f.machine("cb", """
            {"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
              "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q","MessageBody":{"t.$":"$$.Task.Token"}},
              "End":true}}}
            """)
        let e = try await f.service.startExecution(.init(stateMachineArn: m, name: "c"))
        // TaskSubmitted and the planned record are durable with the start, before the relay
        // hands anything over.
        #expect(try await f.events(e.executionArn).map(\.type) == [.executionStarted, .taskStateEntered, .taskScheduled, .taskStarted, .taskSubmitted])
        let rows = try await f.runtime.store.pendingOutbox(afterID: 0, limit: 10).filter { $0.kind != .status }
        let token = try #require(rows.first?.token)
        #expect(rows.count == 1 && rows[0].kind == .publish && rows[0].payload == Array("m-0".utf8) && rows[0].destination == "q")
        #expect(d.published.withLock { $0 }.isEmpty)
        // The relay publishes the record as planned, and as stored (what a restart reads
        // back), and never asks the dispatcher to plan it again.
        try await f.service.relay.recover()
        await f.service.relay.relayPending()
        let published = d.published.withLock { $0 }.filter { $0.topic == "q" }
        #expect(published.count == 2)
        #expect(published.allSatisfy {
            $0.key == Array("k".utf8) && $0.value == Array("m-0".utf8)
                && $0.headers.map { "\($0.0)=\($0.1)" } == ["stepline-task-token=\(token)", "a=1", "a=2"]
        })
        #expect(d.dispatched.withLock { $0 }.isEmpty && d.awaiting.withLock { $0 } == [token, token])
        // Delivered rows are acknowledged in a later commit.
        var pending = try await f.runtime.store.pendingOutbox(afterID: 0, limit: 10)
        for _ in 0..<200 where !pending.isEmpty {
            try await Task.sleep(for: .milliseconds(10))
            pending = try await f.runtime.store.pendingOutbox(afterID: 0, limit: 10)
        }
        #expect(pending.isEmpty)
        let submitted = try await f.events(e.executionArn).filter { $0.type == .taskSubmitted }
        if case .taskOutput(_, _, let output)? = submitted.first?.details { #expect(output == ["MessageId": "m-0"]) } else { Issue.record("no output") }
        try await f.service.sendTaskSuccess(taskToken: token, output: #"{"ok":true}"#)
        let described = try await f.service.describeExecution(executionArn: e.executionArn)
        #expect(described.status == .succeeded && described.output == ["ok": true])
        #expect(try await f.events(e.executionArn).map(\.type).suffix(3) == [.taskSucceeded, .taskStateExited, .executionSucceeded])
    }

    @Test func historyStopsAtTheQuota() async throws {
        let f = try Fixture { $0.historyEventLimit = 500 }
        try await f.runtime.recover()
        // A loop of Pass states that never blocks: only the quota ends it.
        let m = try await f.machine("loop", """
            {"StartAt":"Init","States":{
              "Init":{"Type":"Pass","Result":0,"ResultPath":"$.i","Next":"Inc"},
              "Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"Check"},
              "Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":1000,"Next":"Inc"}],"Default":"Done"},
              "Done":{"Type":"Succeed"}}}
            """)
        let e = try await f.service.startExecution(.init(stateMachineArn: m, name: "l", input: "{}"))
        let d = try await f.service.describeExecution(executionArn: e.executionArn)
        #expect(d.status == .failed && d.error == "States.Runtime", "\(d.status) \(d.error ?? "") \(d.cause ?? "")")
        #expect(d.cause?.contains("maximum number of history events (500)") == true)
        let events = try await f.events(e.executionArn)
        #expect(events.count == 500 && events.last?.type == .executionFailed && events.last?.id == 500)
        #expect(events.map(\.id) == Array(1...500))
    }

    @Test func expressRunsInMemoryOnly() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("x", #"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}"#, type: "EXPRESS")
        let e = try await f.service.startExecution(.init(stateMachineArn: m, name: "x"))
        #expect(e.executionArn.rawValue.contains(":express:x:x:") && e.status == .succeeded)
        #expect(try await f.runtime.store.execution(arn: e.executionArn) == nil)
        #expect(try await f.runtime.store.runningExecutionCount() == 0)
        let w = try await f.machine("xw", Self.wait, type: "EXPRESS")
        let e2 = try await f.service.startExecution(.init(stateMachineArn: w, name: "y"))
        #expect(e2.status == .running)
        #expect(await f.service.cachedExecutionCount().express == 1)
        f.clock.advance(by: 10_000)
        await f.service.timers.fireDue()
        #expect(await f.service.cachedExecutionCount().express == 0)
    }

    @Test func parkedExecutionsAreEvictedAndReloaded() async throws {
        let f = try Fixture { $0.cacheCapacity = 64; $0.shards = 2 }
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        var arns: [ExecutionARN] = []
        for i in 0..<300 { arns.append(try await f.service.startExecution(.init(stateMachineArn: m, name: "e\(i)")).executionArn) }
        #expect(await f.service.cachedExecutionCount().standard <= 64)
        f.clock.advance(by: 10_000)
        await f.service.timers.fireDue()
        for arn in arns { #expect(try await f.service.describeExecution(executionArn: arn).status == .succeeded) }
    }

    @Test func timersBeyondTheHorizonLoadLater() async throws {
        let f = try Fixture { $0.timerHorizonSeconds = 5 }
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        let e = try await f.service.startExecution(.init(stateMachineArn: m, name: "h"))
        #expect(f.service.timers.count == 0)  // due in 10 s, beyond the 5 s horizon
        f.clock.advance(by: 6_000)
        try await f.service.timers.load(now: f.clock.now())
        #expect(f.service.timers.count == 1)
        f.clock.advance(by: 4_000)
        await f.service.timers.fireDue()
        #expect(try await f.service.describeExecution(executionArn: e.executionArn).status == .succeeded)
    }

    @Test func shutdownFinishesQueuedCommitsAndRefusesWork() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("m", Self.wait)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask { _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "s\(i)")) }
            }
            try await group.waitForAll()
        }
        await f.runtime.shutdown()
        await #expect(throws: ServiceError.shuttingDown) { _ = try await f.service.startExecution(.init(stateMachineArn: m, name: "late")) }
        let reopened = try SQLiteStore(path: f.dir + "/db.sqlite")
        #expect(try await reopened.runningExecutionCount() == 50)
        try await reopened.close()
    }
}
