import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import Testing

/// The store contract (see `StatesStore`), written against the protocol: every
/// implementation runs it through `StoreContract(make:).runAll()`, and once more with every
/// execution sealed (`sealingKey`) when it can seal.
struct StoreContract {
    /// Makes an empty store. The closure is called once per check.
    let make: () async throws -> any StatesStore

    /// The key every execution the contract starts is sealed with (nil: none).
    @TaskLocal static var sealingKey: SealingKey?

    /// Runs every check with executions sealed under `key`.
    func runAll(sealedWith key: SealingKey) async throws {
        try await Self.$sealingKey.withValue(key) { try await runAll() }
    }

    static let machineArn = StateMachineARN("arn:aws:states:us-east-1:123456789012:stateMachine:m")

    static func machine(_ name: String = "m", revision: String = "r1", definition: String = #"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#) -> StateMachineRecord {
        StateMachineRecord(
            arn: StateMachineARN("arn:aws:states:us-east-1:123456789012:stateMachine:\(name)"), name: name, type: "STANDARD",
            definition: definition, roleArn: "arn:aws:iam::123456789012:role/r", creationDate: 1000, revisionId: revision)
    }

    static func arn(_ name: String) -> ExecutionARN { ExecutionARN("arn:aws:states:us-east-1:123456789012:execution:m:\(name)") }

    static func event(_ id: Int64, _ type: HistoryEventType = .passStateEntered, token: String? = nil) -> HistoryEvent {
        HistoryEvent(id: id, previousEventId: id - 1, timestamp: 1000 + id, type: type,
                     details: .stateEntered(name: "P", input: ["n": .int(id)]), thread: ThreadID(rawValue: UInt32(id % 3)),
                     note: token.map { EngineNote(taskToken: $0) })
    }

    static func start(_ name: String, events: Int = 2, status: ExecutionStatus = .running, nextDue: Int64? = nil,
                      tasks: [String] = [], outbox: [String] = []) -> StepRecord
    {
        let evs = (1...Int64(events)).map { event($0) }
        let record = ExecutionRecord(arn: arn(name), stateMachineArn: machineArn, name: name, revisionId: "r1",
                                     input: ["in": .string(name)], startDate: 1000, sealingKey: sealingKey)
        return StepRecord(
            kind: .start(record), executionArn: arn(name), status: status,
            output: status == .succeeded ? ["out": 1] : nil, stopDate: status.isTerminal ? 2000 : nil, nextDue: nextDue,
            lastEventID: Int64(events), chunk: HistoryChunk(firstSequence: 0, events: evs, lastEventID: Int64(events)),
            tasksOpened: tasks.map { TaskRecord(token: TaskToken($0), executionArn: arn(name), thread: 0, stateName: "T",
                                                resource: "arn:aws:states:us-east-1:123456789012:activity:a",
                                                activityArn: ActivityARN("arn:aws:states:us-east-1:123456789012:activity:a"),
                                                scheduledEventID: 1, createdAt: 1000) },
            outbox: outbox.map { OutboxRecord(executionArn: arn(name), token: TaskToken($0), kind: .task, destination: "d",
                                              payload: Array($0.utf8), headers: [.init("h", $0), .init("x", "1"), .init("h", "again")], createdAt: 1000) })
    }

    static func update(_ name: String, from: Int, events: Int, status: ExecutionStatus = .running, nextDue: Int64? = nil,
                       closed: [String] = [], delivered: [String] = []) -> StepRecord
    {
        let evs = (0..<events).map { event(Int64(from + $0 + 1)) }
        return StepRecord(
            kind: .update, executionArn: arn(name), status: status, output: status == .succeeded ? ["out": 2] : nil,
            error: status == .failed ? "E" : nil, cause: status == .failed ? "C" : nil,
            stopDate: status.isTerminal ? 3000 : nil, nextDue: nextDue, lastEventID: Int64(from + events),
            chunk: HistoryChunk(firstSequence: from, events: evs, lastEventID: Int64(from + events)),
            tasksClosed: closed.map(TaskToken.init), outboxDelivered: delivered.map(TaskToken.init))
    }

    func runAll() async throws {
        try await stateMachines()
        try await activities()
        try await commitAndRead()
        try await numbersKeepTheirLiterals()
        try await atomicity()
        try await conflicts()
        try await timers()
        try await outbox()
        try await listing()
        try await purge()
        try await closing()
    }

    func stateMachines() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        await #expect(throws: StoreError.alreadyExists("m")) { try await s.createStateMachine(Self.machine()) }
        var m = try #require(try await s.stateMachine(arn: Self.machineArn))
        #expect(m == Self.machine())
        m.definition = #"{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}"#
        m.revisionId = "r2"
        m.updateDate = 5000
        try await s.updateStateMachine(m)
        #expect(try await s.stateMachine(arn: Self.machineArn)?.definition == m.definition)
        // Both revisions stay readable: running executions replay with theirs.
        #expect(try await s.definition(revisionId: "r1") == Self.machine().definition)
        #expect(try await s.definition(revisionId: "r2") == m.definition)
        try await s.createStateMachine(Self.machine("n", revision: "r3"))
        let page = try await s.listStateMachines(limit: 1, after: nil)
        #expect(page.items.map(\.name) == ["m"])
        #expect(try await s.listStateMachines(limit: 1, after: page.next).items.map(\.name) == ["n"])
        try await s.deleteStateMachine(arn: Self.machineArn)
        #expect(try await s.stateMachine(arn: Self.machineArn) == nil)
        #expect(try await s.definition(revisionId: "r1") != nil)
        try await s.close()
    }

    func activities() async throws {
        let s = try await make()
        let a = ActivityRecord(arn: ActivityARN("arn:aws:states:us-east-1:123456789012:activity:a"), name: "a", creationDate: 1)
        try await s.createActivity(a)
        await #expect(throws: StoreError.alreadyExists("a")) { try await s.createActivity(a) }
        #expect(try await s.activity(arn: a.arn) == a)
        #expect(try await s.listActivities(limit: 10, after: nil).items == [a])
        try await s.deleteActivity(arn: a.arn)
        #expect(try await s.activity(arn: a.arn) == nil)
        try await s.close()
    }

    /// Numbers no Int64 or Double holds come back from the store as written.
    func numbersKeepTheirLiterals() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        let value = try JSON.parse(#"{"big":18446744073709551616,"huge":-1e400,"tiny":1e-400,"long":0.1000000000000000000001}"#)
        let event = HistoryEvent(id: 1, previousEventId: 0, timestamp: 1001, type: .passStateEntered,
                                 details: .stateEntered(name: "P", input: value), thread: ThreadID(rawValue: 0), note: nil)
        let record = ExecutionRecord(arn: Self.arn("n"), stateMachineArn: Self.machineArn, name: "n", revisionId: "r1",
                                     input: value, startDate: 1000, sealingKey: Self.sealingKey)
        let step = StepRecord(kind: .start(record), executionArn: Self.arn("n"), status: .succeeded, output: ["out": value],
                              stopDate: 2000, nextDue: nil, lastEventID: 1,
                              chunk: HistoryChunk(firstSequence: 0, events: [event], lastEventID: 1))
        _ = try await s.commit(CommitBatch(steps: [step]))
        let (back, events) = try #require(try await s.loadExecution(arn: Self.arn("n")))
        #expect(back.input.serialized() == value.serialized())
        #expect(back.output?.serialized() == #"{"out":\#(value.serialized())}"#)
        #expect(events.first?.awsJSON().serialized() == event.awsJSON().serialized())
        try await s.close()
    }

    func commitAndRead() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        let r = try await s.commit(CommitBatch(steps: [
            Self.start("a", events: 3, nextDue: 5000, tasks: ["t1"], outbox: ["t1"]),
            Self.start("b", events: 2, status: .succeeded),
        ]))
        #expect(r.outboxIDs.count == 2 && r.outboxIDs[0].count == 1 && r.outboxIDs[1].isEmpty)
        _ = try await s.commit(CommitBatch(steps: [Self.update("a", from: 3, events: 2, nextDue: 6000)]))
        let (record, events) = try #require(try await s.loadExecution(arn: Self.arn("a")))
        #expect(record.status == .running && record.eventCount == 5 && record.lastEventID == 5 && record.nextDue == 6000)
        #expect(record.input == ["in": "a"])
        #expect(events.map(\.id) == [1, 2, 3, 4, 5])
        #expect(events.map(\.thread.rawValue) == [1, 2, 0, 1, 2])
        #expect(events.map { $0.awsJSON() } == (1...5).map { Self.event(Int64($0)).awsJSON() })
        // Reading from the middle of a chunk returns exactly the events after it.
        #expect(try await s.history(executionArn: Self.arn("a"), fromSequence: 2).map(\.id) == [3, 4, 5])
        #expect(try await s.history(executionArn: Self.arn("a"), fromSequence: 5).isEmpty)
        let b = try #require(try await s.execution(arn: Self.arn("b")))
        #expect(b.status == .succeeded && b.output == ["out": 1] && b.stopDate == 2000 && b.nextDue == nil)
        let t = try #require(try await s.task(token: TaskToken("t1")))
        #expect(t.executionArn == Self.arn("a") && t.status == .open && t.activityArn != nil)
        #expect(try await s.task(token: TaskToken("nope")) == nil)
        #expect(try await s.runningExecutionCount() == 1)
        // Closing the task closes it and settles its outbox row.
        _ = try await s.commit(CommitBatch(steps: [Self.update("a", from: 5, events: 1, status: .failed, closed: ["t1"])]))
        #expect(try await s.task(token: TaskToken("t1"))?.status == .closed)
        #expect(try await s.pendingOutbox(afterID: 0, limit: 10).isEmpty)
        let a = try #require(try await s.execution(arn: Self.arn("a")))
        #expect(a.status == .failed && a.error == "E" && a.cause == "C" && a.nextDue == nil)
        try await s.close()
    }

    func atomicity() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        _ = try await s.commit(CommitBatch(steps: [Self.start("a", events: 2)]))
        // The second step is invalid: nothing of the batch may be written.
        await #expect(throws: (any Error).self) {
            _ = try await s.commit(CommitBatch(steps: [Self.start("c", events: 1, outbox: ["x"]), Self.update("a", from: 7, events: 1)]))
        }
        #expect(try await s.execution(arn: Self.arn("c")) == nil)
        #expect(try await s.pendingOutbox(afterID: 0, limit: 10).isEmpty)
        #expect(try await s.history(executionArn: Self.arn("a"), fromSequence: 0).count == 2)
        // Two steps of one execution in one batch apply in order.
        _ = try await s.commit(CommitBatch(steps: [Self.update("a", from: 2, events: 1), Self.update("a", from: 3, events: 2)]))
        #expect(try await s.history(executionArn: Self.arn("a"), fromSequence: 0).map(\.id) == [1, 2, 3, 4, 5])
        try await s.close()
    }

    func conflicts() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        _ = try await s.commit(CommitBatch(steps: [Self.start("a")]))
        await #expect(throws: StoreError.alreadyExists(Self.arn("a").rawValue)) {
            _ = try await s.commit(CommitBatch(steps: [Self.start("a")]))
        }
        await #expect(throws: StoreError.self) { _ = try await s.commit(CommitBatch(steps: [Self.update("a", from: 1, events: 1)])) }
        await #expect(throws: StoreError.self) { _ = try await s.commit(CommitBatch(steps: [Self.update("zz", from: 0, events: 1)])) }
        #expect(try await s.history(executionArn: Self.arn("a"), fromSequence: 0).count == 2)
        try await s.close()
    }

    func timers() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        _ = try await s.commit(CommitBatch(steps: [
            Self.start("a", nextDue: 3000), Self.start("b", nextDue: 1000), Self.start("c"),
            Self.start("d", status: .succeeded, nextDue: 500),
        ]))
        #expect(try await s.dueExecutions(before: 2000, limit: 10).map(\.arn) == [Self.arn("b")])
        #expect(try await s.dueExecutions(before: 9000, limit: 10).map(\.arn) == [Self.arn("b"), Self.arn("a")])
        #expect(try await s.dueExecutions(before: 9000, limit: 1).map(\.due) == [1000])
        _ = try await s.commit(CommitBatch(steps: [Self.update("b", from: 2, events: 1, nextDue: nil)]))
        #expect(try await s.dueExecutions(before: 9000, limit: 10).map(\.arn) == [Self.arn("a")])
        try await s.close()
    }

    func outbox() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        let r = try await s.commit(CommitBatch(steps: [Self.start("a", tasks: ["t1", "t2", "t3"], outbox: ["t1", "t2", "t3"])]))
        let ids = r.outboxIDs[0]
        #expect(ids.count == 3 && ids == ids.sorted())
        var pending = try await s.pendingOutbox(afterID: 0, limit: 10)
        #expect(pending.map(\.token?.rawValue) == ["t1", "t2", "t3"])
        // Headers come back in order, a repeated name included.
        #expect(pending[0].headers == [.init("h", "t1"), .init("x", "1"), .init("h", "again")] && pending[0].payload == Array("t1".utf8) && pending[0].executionArn == Self.arn("a"))
        #expect(try await s.pendingOutbox(afterID: ids[0], limit: 1).map(\.token?.rawValue) == ["t2"])
        _ = try await s.commit(CommitBatch(outboxSent: [ids[0]]))
        _ = try await s.commit(CommitBatch(steps: [Self.update("a", from: 2, events: 1, delivered: ["t2"])]))
        pending = try await s.pendingOutbox(afterID: 0, limit: 10)
        #expect(pending.map(\.token?.rawValue) == ["t3"])
        // Sent requests of open tasks (for a broker that lost its records); a closed task's is not.
        #expect(try await s.openTaskRequests(afterID: 0, limit: 10).map(\.token?.rawValue) == ["t1", "t2"])
        #expect(try await s.openTaskRequests(afterID: ids[0], limit: 10).map(\.token?.rawValue) == ["t2"])
        _ = try await s.commit(CommitBatch(steps: [Self.update("a", from: 3, events: 1, closed: ["t1"])]))
        #expect(try await s.openTaskRequests(afterID: 0, limit: 10).map(\.token?.rawValue) == ["t2"])
        try await s.close()
    }

    func listing() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        for i in 0..<5 { _ = try await s.commit(CommitBatch(steps: [Self.start("e\(i)", status: i % 2 == 0 ? .running : .succeeded)])) }
        let first = try await s.listExecutions(stateMachineArn: Self.machineArn, status: nil, limit: 3, after: nil)
        #expect(first.items.count == 3 && first.next != nil)
        let second = try await s.listExecutions(stateMachineArn: Self.machineArn, status: nil, limit: 3, after: first.next)
        #expect(second.items.count == 2 && second.next == nil)
        #expect(Set((first.items + second.items).map(\.name)) == Set((0..<5).map { "e\($0)" }))
        #expect(try await s.listExecutions(stateMachineArn: nil, status: .running, limit: 10, after: nil).items.count == 3)
        // A key the store did not hand out is refused as such, not read as "from the start".
        await #expect(throws: StoreError.invalidPageToken) {
            _ = try await s.listExecutions(stateMachineArn: Self.machineArn, status: nil, limit: 3, after: "not-a-key")
        }
        try await s.close()
    }

    func purge() async throws {
        let s = try await make()
        try await s.createStateMachine(Self.machine())
        _ = try await s.commit(CommitBatch(steps: [Self.start("old", status: .succeeded), Self.start("live", outbox: ["t"])]))
        #expect(try await s.purgeExecutions(stoppedBefore: 2500) == 1)
        #expect(try await s.execution(arn: Self.arn("old")) == nil)
        await #expect(throws: StoreError.notFound(Self.arn("old").rawValue)) { _ = try await s.history(executionArn: Self.arn("old"), fromSequence: 0) }
        // The name is free again.
        _ = try await s.commit(CommitBatch(steps: [Self.start("old")]))
        #expect(try await s.execution(arn: Self.arn("live")) != nil)
        try await s.close()
    }

    func closing() async throws {
        let s = try await make()
        try await s.close()
        await #expect(throws: StoreError.closed) { _ = try await s.execution(arn: Self.arn("a")) }
        await #expect(throws: StoreError.closed) { _ = try await s.commit(CommitBatch(steps: [Self.start("a")])) }
    }
}
