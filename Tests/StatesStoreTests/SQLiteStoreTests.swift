import Foundation
import StatesEngine
import StatesLanguage
@testable import StatesStore
import Testing

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "stepline-store-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct SQLiteStoreTests {
    @Test func contract() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        var n = 0
        try await StoreContract(make: {
            n += 1
            return try SQLiteStore(path: "\(dir.path)/db\(n).sqlite")
        }).runAll()
    }

    @Test func migrationsAreVersionedAndReopenKeepsData() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = "\(dir.path)/s.sqlite"
        do {
            let s = try SQLiteStore(path: path)
            #expect(try s.appliedMigrations() == ["v1", "v2-versions-aliases", "v3-encryption"])
            #expect(try s.synchronousMode() == 2)  // FULL by default: a commit is synced
            try await s.createStateMachine(StoreContract.machine())
            _ = try await s.commit(CommitBatch(steps: [StoreContract.start("a", events: 4, nextDue: 10)]))
            try await s.close()
        }
        let s = try SQLiteStore(path: path)
        #expect(try await s.history(executionArn: StoreContract.arn("a"), fromSequence: 0).count == 4)
        #expect(try await s.dueExecutions(before: 100, limit: 10).count == 1)
        try await s.close()
    }

    /// The outbox keeps only what may still be sent: a sent row without a task goes at once,
    /// a task's rows when the task closes.
    @Test func outboxKeepsOnlyWhatMayBeSentAgain() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let s = try SQLiteStore(path: "\(dir.path)/s.sqlite")
        try await s.createStateMachine(StoreContract.machine())
        var start = StoreContract.start("a", tasks: ["t1", "t2"], outbox: ["t1", "t2"])
        start.outbox.append(OutboxRecord(executionArn: StoreContract.arn("a"), token: nil, kind: .status, destination: "status",
                                         payload: Array("RUNNING".utf8), createdAt: 1000))
        let ids = try await s.commit(CommitBatch(steps: [start])).outboxIDs[0]
        #expect(try s.outboxRowCount() == 3)
        _ = try await s.commit(CommitBatch(outboxSent: ids))
        // The status event is gone; both requests stay, sent, for their open tasks.
        #expect(try s.outboxRowCount() == 2)
        #expect(try await s.pendingOutbox(afterID: 0, limit: 10).isEmpty)
        #expect(try await s.openTaskRequests(afterID: 0, limit: 10).map(\.token?.rawValue) == ["t1", "t2"])
        _ = try await s.commit(CommitBatch(steps: [StoreContract.update("a", from: 2, events: 1, closed: ["t1"])]))
        #expect(try s.outboxRowCount() == 1)
        #expect(try await s.openTaskRequests(afterID: 0, limit: 10).map(\.token?.rawValue) == ["t2"])
        try await s.close()
    }

    /// Outbox headers are stored as ordered pairs; rows of earlier versions (an object of
    /// sorted names) still read.
    @Test func outboxHeadersReadBothFormats() {
        let h: [OutboxRecord.Header] = [.init("z", "1"), .init("a", "2"), .init("z", "3")]
        #expect(SQLiteStore.decodeHeaders(SQLiteStore.encodeHeaders(h)) == h)
        #expect(SQLiteStore.decodeHeaders(#"{"a":"2","z":"1"}"#) == [.init("a", "2"), .init("z", "1")])
        #expect(SQLiteStore.encodeHeaders([]) == nil && SQLiteStore.decodeHeaders(nil).isEmpty)
    }

    /// "No space left": SQLite's `max_page_count` caps the database, as a full disk would.
    @Test func fullDatabaseRefusesWritesAndKeepsCommittedData() async throws {
        let dir = TemporaryDirectory()
        defer { dir.cleanup() }
        let path = "\(dir.path)/s.sqlite"
        do {
            let s = try SQLiteStore(path: path)
            try await s.createStateMachine(StoreContract.machine())
            _ = try await s.commit(CommitBatch(steps: [StoreContract.start("kept", events: 3)]))
            try await s.close()
        }
        let s = try SQLiteStore(path: path, options: .init(maxPageCount: 40))
        var failure: StoreError?
        for i in 0..<400 {
            do {
                _ = try await s.commit(CommitBatch(steps: [StoreContract.start("big\(i)", events: 200)]))
            } catch let e as StoreError {
                failure = e
                break
            }
        }
        #expect(failure?.isStorageFailure == true, "\(String(describing: failure))")
        if case .diskFull = failure {} else { Issue.record("expected diskFull, got \(String(describing: failure))") }
        #expect(try await s.history(executionArn: StoreContract.arn("kept"), fromSequence: 0).count == 3)
        try await s.close()
        let again = try SQLiteStore(path: path)
        #expect(try await again.execution(arn: StoreContract.arn("kept"))?.eventCount == 3)
        try await again.close()
    }
}
