import Foundation
import GRDB
import StatesEngine
import StatesLanguage
import SteplineSecurity
import Testing

@testable import StatesStore

/// Encryption at rest in the SQLite store: the contract with every execution sealed, no
/// plaintext in any file of the database, reads after a restart, and clear errors without
/// the key.
@Suite struct SealedStoreTests {
    static let keyID = "0b0d2c3e-1111-2222-3333-444455556666"
    static let material = (0..<32).map { UInt8($0 * 7 & 0xFF) }

    static func keyring(_ keys: [(String, [UInt8])] = [(keyID, material)]) throws -> Keyring {
        try Keyring(keys.map { try MasterKey(id: $0.0, material: $0.1) })
    }

    static func store(_ path: String, keyring: Keyring? = nil) throws -> SQLiteStore {
        let ring = try keyring ?? Self.keyring()
        return try SQLiteStore(path: path, options: .init(sealer: ring.isEmpty ? nil : DataSealer(keyring: ring)))
    }

    static let key = SealingKey(keyID: keyID, reusePeriodSeconds: 60)

    @Test func theContractHoldsWithEveryExecutionSealed() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var n = 0
        try await StoreContract(make: {
            n += 1
            return try Self.store("\(dir.path)/db\(n).sqlite")
        }).runAll(sealedWith: Self.key)
    }

    /// A step whose every data field carries the marker: the start (input, history, a task
    /// request's key, payload and headers, a status event) and an end (output, error, cause).
    static func steps(_ name: String, marker: String, key: SealingKey?) -> [StepRecord] {
        let arn = StoreContract.arn(name)
        let record = ExecutionRecord(arn: arn, stateMachineArn: StoreContract.machineArn, name: name, revisionId: "r1",
                                     input: ["card": .string(marker)], startDate: 1000, sealingKey: key)
        let entered = HistoryEvent(id: 1, previousEventId: 0, timestamp: 1001, type: .passStateEntered,
                                   details: .stateEntered(name: "P", input: ["card": .string(marker)]), thread: ThreadID(rawValue: 0), note: nil)
        let start = StepRecord(
            kind: .start(record), executionArn: arn, status: .running, nextDue: 5000, lastEventID: 1,
            chunk: HistoryChunk(firstSequence: 0, events: [entered], lastEventID: 1),
            tasksOpened: [TaskRecord(token: TaskToken("tok-\(name)"), executionArn: arn, thread: 0, stateName: "T", resource: "r",
                                     scheduledEventID: 1, createdAt: 1000)],
            outbox: [
                OutboxRecord(executionArn: arn, token: TaskToken("tok-\(name)"), kind: .task, destination: "d", key: Array(marker.utf8),
                             payload: Array("{\"input\":\"\(marker)\"}".utf8), headers: [.init("h", marker)], createdAt: 1000),
                OutboxRecord(executionArn: arn, token: nil, kind: .status, destination: "status", payload: Array(marker.utf8), createdAt: 1000),
            ])
        let exited = HistoryEvent(id: 2, previousEventId: 1, timestamp: 1002, type: .passStateExited,
                                  details: .stateExited(name: "P", output: ["out": .string(marker)], assigned: [("v", .string(marker))]), thread: ThreadID(rawValue: 0), note: nil)
        let end = StepRecord(
            kind: .update, executionArn: arn, status: .failed, output: ["out": .string(marker)], error: "E-\(marker)", cause: "C-\(marker)",
            stopDate: 3000, nextDue: nil, lastEventID: 2, chunk: HistoryChunk(firstSequence: 1, events: [exited], lastEventID: 2))
        return [start, end]
    }

    /// Every file of `dir` (the database, its WAL and shared memory, anything else).
    static func filesContain(_ dir: String, _ marker: String) throws -> [String] {
        let needle = Array(marker.utf8)
        var found: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))
            if data.firstRange(of: Data(needle)) != nil { found.append(name) }
        }
        return found
    }

    @Test func noPlaintextReachesAnyFileAndARestartReadsItBack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = "\(dir.path)/s.sqlite"
        let secret = "MARKER-7f3a9c41-sealed", plain = "MARKER-2b8e5d10-plain"
        do {
            let s = try Self.store(path)
            try await s.createStateMachine(StoreContract.machine())
            let sealed = Self.steps("sealed", marker: secret, key: Self.key)
            let unsealed = Self.steps("plain", marker: plain, key: nil)
            _ = try await s.commit(CommitBatch(steps: [sealed[0], unsealed[0]]))
            // Before the end: the pending rows are there, in the WAL.
            #expect(try Self.filesContain(dir.path, secret).isEmpty)
            _ = try await s.commit(CommitBatch(steps: [sealed[1], unsealed[1]]))
            #expect(try Self.filesContain(dir.path, secret).isEmpty)
            // The search would see plaintext: the unsealed execution's is there.
            #expect(!(try Self.filesContain(dir.path, plain)).isEmpty)
            try await s.close()
        }
        #expect(try Self.filesContain(dir.path, secret).isEmpty)
        // A new process with the same key reads everything back.
        let s = try Self.store(path)
        let (record, events) = try #require(try await s.loadExecution(arn: StoreContract.arn("sealed")))
        #expect(record.input == ["card": .string(secret)] && record.output == ["out": .string(secret)])
        #expect(record.error == "E-\(secret)" && record.cause == "C-\(secret)" && record.unreadable == nil)
        #expect(record.sealingKey == Self.key)
        #expect(events.map(\.id) == [1, 2] && events[0].awsJSON().serialized().contains(secret))
        let rows = try await s.pendingOutbox(afterID: 0, limit: 10).filter { $0.executionArn == StoreContract.arn("sealed") }
        #expect(rows.map(\.payload) == [Array("{\"input\":\"\(secret)\"}".utf8), Array(secret.utf8)])
        #expect(rows[0].key == Array(secret.utf8) && rows[0].headers == [.init("h", secret)] && rows[0].sealingKey?.keyID == Self.keyID)
        #expect(try await s.execution(arn: StoreContract.arn("plain"))?.input == ["card": .string(plain)])
        try await s.close()
    }

    @Test func withoutTheKeyReadsFailClearlyAndNothingIsLost() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = "\(dir.path)/s.sqlite"
        do {
            let s = try Self.store(path)
            try await s.createStateMachine(StoreContract.machine())
            _ = try await s.commit(CommitBatch(steps: [Self.steps("sealed", marker: "m", key: Self.key)[0],
                                                       Self.steps("plain", marker: "p", key: nil)[0]]))
            try await s.close()
        }
        // Restarted with another key only, with another material under the same id, without keys.
        let other = try Self.keyring([("another", [UInt8](repeating: 1, count: 32))])
        let replaced = try Self.keyring([(Self.keyID, [UInt8](repeating: 2, count: 32))])
        for (ring, expected) in [(other, "is not configured"), (replaced, "does not open this data"), (Keyring(), "is not configured")] {
            let s = try Self.store(path, keyring: ring)
            let arn = StoreContract.arn("sealed")
            let message = "cannot decrypt the data of execution \(arn)"
            // The row is there: its status and dates read; its data is named unreadable.
            let record = try #require(try await s.execution(arn: arn))
            #expect(record.status == .running && record.input == [:] && record.eventCount == 1)
            #expect(record.unreadable?.contains(message) == true && record.unreadable?.contains(Self.keyID) == true
                    && record.unreadable?.contains(expected) == true, "\(record.unreadable ?? "")")
            await #expect { _ = try await s.loadExecution(arn: arn) } throws: { e in
                guard case StoreError.encryption(let m) = e else { return false }
                return m.contains(message) && m.contains(Self.keyID)
            }
            await #expect { _ = try await s.history(executionArn: arn, fromSequence: 0) } throws: { e in
                guard case StoreError.encryption(let m) = e else { return false }
                return m.contains(Self.keyID)
            }
            // Listings and the outbox go on; the rows that cannot be opened say so.
            let listed = try await s.listExecutions(filter: ExecutionFilter(stateMachineArn: StoreContract.machineArn), limit: 10, after: nil)
            #expect(Set(listed.items.map(\.name)) == ["sealed", "plain"])
            let rows = try await s.pendingOutbox(afterID: 0, limit: 10)
            #expect(rows.filter { $0.unreadable != nil }.map(\.executionArn) == [arn, arn])
            #expect(rows.first { $0.executionArn == StoreContract.arn("plain") }?.payload == Array("{\"input\":\"p\"}".utf8))
            // Without its key, a step of that execution cannot be written either: nothing is.
            // (The runtime writes a step only after reading the execution.)
            if ring.key(id: Self.keyID) == nil {
                await #expect(throws: StoreError.self) {
                    _ = try await s.commit(CommitBatch(steps: [Self.steps("sealed", marker: "m", key: Self.key)[1]]))
                }
            }
            #expect(try await s.loadExecution(arn: StoreContract.arn("plain"))?.1.count == 1)
            try await s.close()
        }
        // The key back: everything reads, and the execution goes on.
        let s = try Self.store(path)
        #expect(try await s.loadExecution(arn: StoreContract.arn("sealed"))?.0.input == ["card": "m"])
        _ = try await s.commit(CommitBatch(steps: [Self.steps("sealed", marker: "m", key: Self.key)[1]]))
        #expect(try await s.execution(arn: StoreContract.arn("sealed"))?.status == .failed)
        try await s.close()
    }

    @Test func anActivitysKeySealsItsTasks() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let activityKey = SealingKey(keyID: "activity-key")
        let ring = try Self.keyring([(Self.keyID, Self.material), ("activity-key", [UInt8](repeating: 3, count: 32))])
        let s = try Self.store("\(dir.path)/s.sqlite", keyring: ring)
        try await s.createStateMachine(StoreContract.machine())
        var step = Self.steps("plain", marker: "ACTIVITY-INPUT-91c2", key: nil)[0]
        step.outbox[0].sealingKey = activityKey
        _ = try await s.commit(CommitBatch(steps: [step]))
        try await s.close()
        // The task request is sealed; the status event of the unsealed execution is not.
        #expect(try Self.filesContain(dir.path, "{\"input\":\"ACTIVITY-INPUT-91c2\"}").isEmpty)
        let again = try Self.store("\(dir.path)/s.sqlite", keyring: ring)
        let rows = try await again.pendingOutbox(afterID: 0, limit: 10)
        #expect(rows[0].payload == Array("{\"input\":\"ACTIVITY-INPUT-91c2\"}".utf8) && rows[0].sealingKey?.keyID == "activity-key")
        #expect(rows[1].sealingKey == nil)
        try await again.close()
    }

    /// A value copied into another place (another execution's row) does not open there.
    @Test func aValueMovedToAnotherRowDoesNotOpen() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = "\(dir.path)/s.sqlite"
        let s = try Self.store(path)
        try await s.createStateMachine(StoreContract.machine())
        _ = try await s.commit(CommitBatch(steps: [Self.steps("a", marker: "A", key: Self.key)[0], Self.steps("b", marker: "B", key: Self.key)[0]]))
        try await s.close()
        let db = try DatabaseQueue(path: path)
        try await db.write { try $0.execute(sql: "UPDATE executions SET input = (SELECT input FROM executions WHERE name = 'a') WHERE name = 'b'") }
        try db.close()
        let again = try Self.store(path)
        #expect(try await again.execution(arn: StoreContract.arn("a"))?.input == ["card": "A"])
        #expect(try await again.execution(arn: StoreContract.arn("b"))?.unreadable?.contains("does not authenticate") == true)
        try await again.close()
    }
}
