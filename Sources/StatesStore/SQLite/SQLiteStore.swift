import Foundation
import GRDB
import Synchronization
import StatesEngine
import StatesLanguage

/// The embedded store: one SQLite database in WAL mode (GRDB's `DatabasePool`).
///
/// Writes go through GRDB's single writer queue, reads through its reader pool; both run on
/// GRDB's own dispatch queues, never on Swift's cooperative pool: an `await` on this store
/// suspends the caller, it does not block a thread.
///
/// Durability: with `.full` (the default) a commit returns after SQLite has synced the WAL
/// (one fsync per commit; group commit shares it between many steps); with `.normal` a
/// commit survives a process crash but the last commits may be lost in a power failure.
public final class SQLiteStore: StatesStore {
    public enum Synchronous: String, Sendable {
        case full = "FULL"
        case normal = "NORMAL"
    }

    public struct Options: Sendable {
        public var synchronous: Synchronous
        /// Pages of cache per connection (SQLite `cache_size`, negative = KiB).
        public var cacheSize: Int
        /// Test hook: caps the database size in pages (`PRAGMA max_page_count`), to
        /// simulate a full disk where no small file system can be mounted.
        public var maxPageCount: Int?

        public init(synchronous: Synchronous = .full, cacheSize: Int = -8_000, maxPageCount: Int? = nil) {
            self.synchronous = synchronous
            self.cacheSize = cacheSize
            self.maxPageCount = maxPageCount
        }
    }

    public let path: String
    private let pool: DatabasePool
    private let isClosed = Atomic<Bool>(false)
    /// Execution ids by ARN, so that a step's update needs no lookup (bounded; cleared when full).
    private let ids = Mutex<[ExecutionARN: Int64]>([:])
    private static let idCacheLimit = 50_000

    /// Opens (creating when absent) the database at `path` and migrates its schema.
    ///
    /// - Throws: `StoreError.notWritable` when the file or its directory cannot be
    ///   written, `.diskFull` when there is no room, `.failed` otherwise.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        var config = Configuration()
        config.label = "stepline.store"
        config.maximumReaderCount = 4
        let options = options
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(options.synchronous.rawValue)")
            try db.execute(sql: "PRAGMA cache_size = \(options.cacheSize)")
            if let max = options.maxPageCount { try db.execute(sql: "PRAGMA max_page_count = \(max)") }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // DatabasePool sets `synchronous = NORMAL` on its writer when it turns WAL on,
            // after `prepareDatabase`: set the chosen mode again on the (single) writer.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(options.synchronous.rawValue)")
            }
            try SQLiteSchema.migrator.migrate(pool)
        } catch {
            throw Self.map(error, context: "opening \(path)")
        }
    }

    /// The writer's `PRAGMA synchronous` (0 OFF, 1 NORMAL, 2 FULL).
    public func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The rows in the outbox, whatever their status (tests: what is kept).
    public func outboxRowCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0 }
    }

    /// The applied schema migrations, oldest first.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try SQLiteSchema.migrator.appliedMigrations(db) }
    }

    // MARK: Error mapping

    static func map(_ error: any Error, context: String) -> StoreError {
        if let e = error as? StoreError { return e }
        guard let e = error as? DatabaseError else { return .failed("\(context): \(error)") }
        let message = "\(context): \(e.message ?? "\(e.resultCode)") (\(e.extendedResultCode))"
        switch e.resultCode {
        case .SQLITE_FULL: return .diskFull(message)
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_PERM, .SQLITE_AUTH: return .notWritable(message)
        default: return .failed(message)
        }
    }

    func write<T: Sendable>(_ context: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        if isClosed.load(ordering: .acquiring) { throw StoreError.closed }
        do {
            return try await pool.write(body)
        } catch {
            throw Self.map(error, context: context)
        }
    }

    func read<T: Sendable>(_ context: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        if isClosed.load(ordering: .acquiring) { throw StoreError.closed }
        do {
            return try await pool.read(body)
        } catch {
            throw Self.map(error, context: context)
        }
    }

    // MARK: State machines

    public func createStateMachine(_ r: StateMachineRecord) async throws {
        try await write("creating state machine \(r.name)") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM state_machines WHERE name = ? OR arn = ?", arguments: [r.name, r.arn.rawValue]) != nil {
                throw StoreError.alreadyExists(r.name)
            }
            try db.execute(sql: """
                INSERT INTO state_machines (arn, name, type, revision_id, role_arn, status, description,
                    logging_configuration, tracing_configuration, encryption_configuration, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.arn.rawValue, r.name, r.type, r.revisionId, r.roleArn, r.status, r.description,
                                 r.loggingConfiguration, r.tracingConfiguration, r.encryptionConfiguration,
                                 r.creationDate, r.updateDate])
            try Self.putDefinition(db, r)
        }
    }

    public func updateStateMachine(_ r: StateMachineRecord) async throws {
        try await write("updating state machine \(r.name)") { db in
            try db.execute(sql: """
                UPDATE state_machines SET type = ?, revision_id = ?, role_arn = ?, status = ?, description = ?,
                    logging_configuration = ?, tracing_configuration = ?, encryption_configuration = ?, updated_at = ?
                WHERE arn = ?
                """, arguments: [r.type, r.revisionId, r.roleArn, r.status, r.description, r.loggingConfiguration,
                                 r.tracingConfiguration, r.encryptionConfiguration, r.updateDate, r.arn.rawValue])
            guard db.changesCount > 0 else { throw StoreError.notFound(r.arn.rawValue) }
            try Self.putDefinition(db, r)
        }
    }

    private static func putDefinition(_ db: Database, _ r: StateMachineRecord) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO definitions (revision_id, state_machine_arn, definition, created_at) VALUES (?, ?, ?, ?)
            """, arguments: [r.revisionId, r.arn.rawValue, r.definition, r.updateDate ?? r.creationDate])
    }

    private static let machineColumns = """
        m.arn, m.name, m.type, d.definition, m.role_arn, m.created_at, m.revision_id, m.status, m.description,
        m.logging_configuration, m.tracing_configuration, m.encryption_configuration, m.updated_at
        """

    private static func machine(_ row: Row) -> StateMachineRecord {
        StateMachineRecord(
            arn: StateMachineARN(row[0]), name: row[1], type: row[2], definition: row[3], roleArn: row[4], creationDate: row[5],
            revisionId: row[6], status: row[7], description: row[8], loggingConfiguration: row[9],
            tracingConfiguration: row[10], encryptionConfiguration: row[11], updateDate: row[12])
    }

    public func stateMachine(arn: StateMachineARN) async throws -> StateMachineRecord? {
        try await read("reading state machine") { db in
            try Row.fetchOne(db, sql: """
                SELECT \(Self.machineColumns) FROM state_machines m JOIN definitions d ON d.revision_id = m.revision_id
                WHERE m.arn = ?
                """, arguments: [arn.rawValue]).map(Self.machine)
        }
    }

    public func listStateMachines(limit: Int, after: String?) async throws -> Page<StateMachineRecord> {
        try await read("listing state machines") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.machineColumns) FROM state_machines m JOIN definitions d ON d.revision_id = m.revision_id
                WHERE m.name > ? ORDER BY m.name LIMIT ?
                """, arguments: [after ?? "", limit + 1])
            let items = rows.prefix(limit).map(Self.machine)
            return Page(items: Array(items), next: rows.count > limit ? items.last?.name : nil)
        }
    }

    public func deleteStateMachine(arn: StateMachineARN) async throws {
        try await write("deleting state machine") { db in
            try db.execute(sql: "DELETE FROM state_machines WHERE arn = ?", arguments: [arn.rawValue])
            try db.execute(sql: "DELETE FROM tags WHERE resource_arn = ?", arguments: [arn.rawValue])
            try db.execute(sql: "DELETE FROM state_machine_versions WHERE machine_arn = ?", arguments: [arn.rawValue])
            try db.execute(sql: "DELETE FROM state_machine_aliases WHERE machine_arn = ?", arguments: [arn.rawValue])
        }
    }

    public func definition(revisionId: String) async throws -> String? {
        try await read("reading definition") { db in
            try String.fetchOne(db, sql: "SELECT definition FROM definitions WHERE revision_id = ?", arguments: [revisionId])
        }
    }

    // MARK: Activities

    public func createActivity(_ r: ActivityRecord) async throws {
        try await write("creating activity \(r.name)") { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM activities WHERE name = ? OR arn = ?", arguments: [r.name, r.arn.rawValue]) != nil {
                throw StoreError.alreadyExists(r.name)
            }
            try db.execute(sql: "INSERT INTO activities (arn, name, created_at, encryption_configuration) VALUES (?, ?, ?, ?)",
                           arguments: [r.arn.rawValue, r.name, r.creationDate, r.encryptionConfiguration])
        }
    }

    public func activity(arn: ActivityARN) async throws -> ActivityRecord? {
        try await read("reading activity") { db in
            try Row.fetchOne(db, sql: "SELECT arn, name, created_at, encryption_configuration FROM activities WHERE arn = ?",
                             arguments: [arn.rawValue]).map(Self.activity)
        }
    }

    public func listActivities(limit: Int, after: String?) async throws -> Page<ActivityRecord> {
        try await read("listing activities") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT arn, name, created_at, encryption_configuration FROM activities WHERE name > ? ORDER BY name LIMIT ?
                """, arguments: [after ?? "", limit + 1])
            let items = rows.prefix(limit).map(Self.activity)
            return Page(items: Array(items), next: rows.count > limit ? items.last?.name : nil)
        }
    }

    public func deleteActivity(arn: ActivityARN) async throws {
        try await write("deleting activity") { db in
            try db.execute(sql: "DELETE FROM activities WHERE arn = ?", arguments: [arn.rawValue])
        }
    }

    private static func activity(_ row: Row) -> ActivityRecord {
        ActivityRecord(arn: ActivityARN(row[0]), name: row[1], creationDate: row[2], encryptionConfiguration: row[3])
    }

    // MARK: Executions

    private static let executionColumns = """
        arn, state_machine_arn, name, type, revision_id, status, input, output, error, cause, start_date, stop_date,
        next_due, last_event_id, event_count, role_arn, trace_header, version_arn, alias_arn, redrive_count, redrive_date, id
        """

    private static func execution(_ row: Row) throws -> ExecutionRecord {
        let statusText: String = row[5]
        guard let status = ExecutionStatus(rawValue: statusText) else { throw StoreError.failed("unknown status \(statusText)") }
        let inputText: String = row[6]
        let outputText: String? = row[7]
        return ExecutionRecord(
            arn: ExecutionARN(row[0]), stateMachineArn: StateMachineARN(row[1]), name: row[2], type: row[3], revisionId: row[4],
            status: status,
            input: try JSON.parse(inputText), output: try outputText.map { try JSON.parse($0) }, error: row[8],
            cause: row[9], startDate: row[10], stopDate: row[11], nextDue: row[12], lastEventID: row[13],
            eventCount: row[14], roleArn: row[15], traceHeader: row[16],
            stateMachineVersionArn: (row[17] as String?).map(StateMachineARN.init),
            stateMachineAliasArn: (row[18] as String?).map(StateMachineARN.init), redriveCount: row[19], redriveDate: row[20])
    }

    public func execution(arn: ExecutionARN) async throws -> ExecutionRecord? {
        try await read("reading execution") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.executionColumns) FROM executions WHERE arn = ?"), arguments: [arn.rawValue])
                .map(Self.execution)
        }
    }

    public func loadExecution(arn: ExecutionARN) async throws -> (ExecutionRecord, [HistoryEvent])? {
        try await read("loading execution") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.executionColumns) FROM executions WHERE arn = ?"),
                                             arguments: [arn.rawValue]) else { return nil }
            let record = try Self.execution(row)
            let id: Int64 = row[21]
            return (record, try Self.events(db, execution: id, fromSequence: 0))
        }
    }

    private static func events(_ db: Database, execution id: Int64, fromSequence: Int) throws -> [HistoryEvent] {
        // The chunk holding `fromSequence` may start before it: read from the last chunk
        // starting at or before it.
        let low = SQLiteSchema.historyKey(execution: id, sequence: 0)
        let high = SQLiteSchema.historyKey(execution: id + 1, sequence: 0)
        let from = SQLiteSchema.historyKey(execution: id, sequence: fromSequence)
        let start = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(key) FROM history WHERE key >= ? AND key <= ?"),
                                       arguments: [low, from]) ?? low
        var out: [HistoryEvent] = []
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT key, data FROM history WHERE key >= ? AND key < ? ORDER BY key"),
                                         arguments: [start, high])
        while let row = try cursor.next() {
            let key: Int64 = row[0]
            let first = Int(key & 0xFFFF_FFFF)
            let data: Data = row[1]
            let events = try HistoryCodec.decode([UInt8](data))
            for (i, e) in events.enumerated() where first + i >= fromSequence { out.append(e) }
        }
        return out
    }

    public func history(executionArn: ExecutionARN, fromSequence: Int) async throws -> [HistoryEvent] {
        try await read("reading history") { db in
            guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM executions WHERE arn = ?"), arguments: [executionArn.rawValue])
            else { throw StoreError.notFound(executionArn.rawValue) }
            return try Self.events(db, execution: id, fromSequence: fromSequence)
        }
    }

    public func listExecutions(stateMachineArn: StateMachineARN?, status: ExecutionStatus?, limit: Int, after: String?) async throws
        -> Page<ExecutionRecord>
    {
        try await listExecutions(filter: ExecutionFilter(stateMachineArn: stateMachineArn, status: status), limit: limit, after: after)
    }

    public func listExecutions(filter: ExecutionFilter, limit: Int, after: String?) async throws -> Page<ExecutionRecord> {
        try await read("listing executions") { db in
            var conditions: [String] = []
            var args: [(any DatabaseValueConvertible)?] = []
            if let v = filter.stateMachineArn {
                conditions.append("state_machine_arn = ?")
                args.append(v.rawValue)
            }
            if let v = filter.versionArn {
                conditions.append("version_arn = ?")
                args.append(v.rawValue)
            }
            if let v = filter.aliasArn {
                conditions.append("alias_arn = ?")
                args.append(v.rawValue)
            }
            if let status = filter.status {
                conditions.append("status = ?")
                args.append(status.rawValue)
            }
            if let redriven = filter.redriven {
                conditions.append(redriven ? "redrive_count > 0" : "redrive_count = 0")
            }
            if let after {
                let parts = after.split(separator: ":")
                guard parts.count == 2, let date = Int64(parts[0]), let id = Int64(parts[1]) else {
                    throw StoreError.invalidPageToken
                }
                conditions.append("(start_date < ? OR (start_date = ? AND id < ?))")
                args.append(contentsOf: [date, date, id])
            }
            args.append(limit + 1)
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.executionColumns) FROM executions \(whereClause) ORDER BY start_date DESC, id DESC LIMIT ?
                """, arguments: StatementArguments(args))
            var items: [ExecutionRecord] = []
            for row in rows.prefix(limit) { items.append(try Self.execution(row)) }
            var next: String? = nil
            if rows.count > limit, let last = rows.prefix(limit).last {
                let date: Int64 = last[10]
                let id: Int64 = last[21]
                next = "\(date):\(id)"
            }
            return Page(items: items, next: next)
        }
    }

    public func dueExecutions(before time: Int64, limit: Int) async throws -> [(arn: ExecutionARN, due: Int64)] {
        try await read("reading timers") { db in
            try Row.fetchAll(db, sql: """
                SELECT arn, next_due FROM executions WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due LIMIT ?
                """, arguments: [time, limit]).map { (arn: ExecutionARN($0[0]), due: $0[1]) }
        }
    }

    public func runningExecutionCount() async throws -> Int {
        try await read("counting executions") { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM executions WHERE status = 'RUNNING'") ?? 0
        }
    }

    // MARK: Tasks and outbox

    public func task(token: TaskToken) async throws -> TaskRecord? {
        try await read("reading task") { db in
            try Row.fetchOne(db.cachedStatement(sql: """
                SELECT t.token, e.arn, t.thread, t.state_name, t.resource, t.activity_arn, t.status, t.timeout_seconds,
                    t.heartbeat_seconds, t.scheduled_event_id, t.created_at
                FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.token = ?
                """), arguments: [token.rawValue]).map { row in
                TaskRecord(token: TaskToken(row[0]), executionArn: ExecutionARN(row[1]), thread: row[2], stateName: row[3],
                           resource: row[4], activityArn: (row[5] as String?).map(ActivityARN.init), status: TaskRecord.Status(rawValue: row[6]) ?? .closed,
                           timeoutSeconds: row[7], heartbeatSeconds: row[8], scheduledEventID: row[9], createdAt: row[10])
            }
        }
    }

    public func pendingOutbox(afterID: Int64, limit: Int) async throws -> [OutboxRecord] {
        try await outboxRows(where: "o.status = 'PENDING'", afterID: afterID, limit: limit)
    }

    public func openTaskRequests(afterID: Int64, limit: Int) async throws -> [OutboxRecord] {
        try await outboxRows(
            where: "o.status = 'SENT' AND o.kind IN ('TASK', 'PUBLISH') AND EXISTS (SELECT 1 FROM tasks t WHERE t.token = o.token AND t.status = 'OPEN')",
            afterID: afterID, limit: limit)
    }

    private func outboxRows(where condition: String, afterID: Int64, limit: Int) async throws -> [OutboxRecord] {
        try await read("reading outbox") { db in
            try Row.fetchAll(db, sql: """
                SELECT o.id, e.arn, o.token, o.kind, o.destination, o.key, o.payload, o.headers, o.status, o.created_at
                FROM outbox o JOIN executions e ON e.id = o.execution_id
                WHERE \(condition) AND o.id > ? ORDER BY o.id LIMIT ?
                """, arguments: [afterID, limit]).map { row in
                let key: Data? = row[5]
                let payload: Data = row[6]
                let headersText: String? = row[7]
                return OutboxRecord(
                    id: row[0], executionArn: ExecutionARN(row[1]), token: (row[2] as String?).map(TaskToken.init), kind: OutboxRecord.Kind(rawValue: row[3]) ?? .task,
                    destination: row[4], key: key.map { [UInt8]($0) }, payload: [UInt8](payload),
                    headers: Self.decodeHeaders(headersText), status: OutboxRecord.Status(rawValue: row[8]) ?? .pending,
                    createdAt: row[9])
            }
        }
    }

    /// Headers as a JSON array of `[name, value]` pairs: in order, repeated names kept.
    static func encodeHeaders(_ h: [OutboxRecord.Header]) -> String? {
        guard !h.isEmpty else { return nil }
        return JSON.array(h.map { JSON.array([.string($0.name), .string($0.value)]) }).serialized()
    }

    /// Reads `encodeHeaders`' pairs, and the object (names sorted, one value each) that
    /// earlier versions wrote.
    static func decodeHeaders(_ text: String?) -> [OutboxRecord.Header] {
        guard let text, let json = try? JSON.parse(text) else { return [] }
        let value = { (v: JSON) in v.stringValue ?? v.serialized() }
        if let o = json.objectValue { return zip(o.orderedKeys, o.orderedValues).map { OutboxRecord.Header($0, value($1)) } }
        return (json.arrayValue ?? []).compactMap { pair -> OutboxRecord.Header? in
            guard let p = pair.arrayValue, p.count == 2, let name = p[0].stringValue else { return nil }
            return OutboxRecord.Header(name, value(p[1]))
        }
    }

    // MARK: Writing

    public func commit(_ batch: CommitBatch) async throws -> CommitResult {
        if batch.isEmpty { return CommitResult(outboxIDs: []) }
        let known = ids.withLock { $0 }
        let (result, learned) = try await write("committing \(batch.steps.count) steps") { db in
            var ids: [[Int64]] = []
            var learned: [ExecutionARN: Int64] = [:]
            ids.reserveCapacity(batch.steps.count)
            for step in batch.steps { ids.append(try Self.write(step, db, known: known, learned: &learned)) }
            if !batch.outboxSent.isEmpty {
                // A row without a task is done once sent: it goes, so the outbox stays as
                // small as what is in flight. A task's row stays, marked sent, until its task
                // closes (it is sent again if the broker lost it).
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                let remove = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ? AND token IS NULL")
                let sent = try db.cachedStatement(sql: "UPDATE outbox SET status = 'SENT', sent_at = ? WHERE id = ? AND status = 'PENDING'")
                for id in batch.outboxSent {
                    var r = BoundStatement(remove)
                    r.bind(id)
                    if try r.run(db) == 1 { continue }
                    var s = BoundStatement(sent)
                    s.bind(now)
                    s.bind(id)
                    try s.run(db)
                }
            }
            return (CommitResult(outboxIDs: ids), learned)
        }
        // Only ids of a transaction that committed are remembered.
        if !learned.isEmpty {
            ids.withLock { m in
                if m.count + learned.count > Self.idCacheLimit { m.removeAll(keepingCapacity: true) }
                m.merge(learned) { _, new in new }
            }
        }
        return result
    }

    private static func write(_ step: StepRecord, _ db: Database, known: [ExecutionARN: Int64],
                              learned: inout [ExecutionARN: Int64]) throws -> [Int64]
    {
        let stopped = step.status.isTerminal
        let nextDue = stopped ? nil : step.nextDue
        let executionID: Int64
        switch step.kind {
        case .start(let r):
            guard step.chunk.firstSequence == 0 else { throw StoreError.conflict("\(r.arn): a start step must begin the history") }
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM executions WHERE arn = ?"), arguments: [r.arn.rawValue]) != nil {
                throw StoreError.alreadyExists(r.arn.rawValue)
            }
            var s = BoundStatement(try db.cachedStatement(sql: """
                INSERT INTO executions (arn, state_machine_arn, name, type, revision_id, status, input, output, error, cause,
                    start_date, stop_date, next_due, last_event_id, event_count, role_arn, trace_header, version_arn, alias_arn,
                    redrive_count, redrive_date)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """))
            s.bind(r.arn)
            s.bind(r.stateMachineArn)
            s.bind(r.name)
            s.bind(r.type)
            s.bind(r.revisionId)
            s.bind(step.status.rawValue)
            s.bind(step.inputText)  // set for every start step
            s.bind(step.outputText)
            s.bind(step.error)
            s.bind(step.cause)
            s.bind(r.startDate)
            s.bind(step.stopDate)
            s.bind(nextDue)
            s.bind(step.lastEventID)
            s.bind(step.chunk.count)
            s.bind(r.roleArn)
            s.bind(r.traceHeader)
            s.bind(r.stateMachineVersionArn)
            s.bind(r.stateMachineAliasArn)
            s.bind(r.redriveCount)
            s.bind(r.redriveDate)
            try s.run(db)
            executionID = db.lastInsertedRowID
            learned[r.arn] = executionID
        case .update:
            if let id = learned[step.executionArn] ?? known[step.executionArn] {
                executionID = id
            } else {
                let find = try db.cachedStatement(sql: "SELECT id FROM executions WHERE arn = ?")
                guard let id = try Int64.fetchOne(find, arguments: [step.executionArn.rawValue]) else {
                    throw StoreError.conflict("\(step.executionArn) is not stored")
                }
                executionID = id
                learned[step.executionArn] = id
            }
            // The event count fences the update: a step that does not follow the stored
            // history changes nothing and fails the commit.
            var s = BoundStatement(try db.cachedStatement(sql: """
                UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_date = ?, next_due = ?,
                    last_event_id = ?, event_count = ? WHERE id = ? AND event_count = ? AND arn = ?
                """))
            s.bind(step.status.rawValue)
            s.bind(step.outputText)
            s.bind(step.error)
            s.bind(step.cause)
            s.bind(step.stopDate)
            s.bind(nextDue)
            s.bind(step.lastEventID)
            s.bind(step.chunk.firstSequence + step.chunk.count)
            s.bind(executionID)
            s.bind(step.chunk.firstSequence)
            s.bind(step.executionArn)
            guard try s.run(db) == 1 else {
                throw StoreError.conflict("\(step.executionArn): the step starts at event \(step.chunk.firstSequence), which does not follow the stored history")
            }
            if let r = step.redrive {
                let u = try db.cachedStatement(sql: "UPDATE executions SET redrive_count = ?, redrive_date = ? WHERE id = ?")
                try u.execute(arguments: [r.count, r.date, executionID])
            }
        }
        if step.chunk.count > 0 {
            var s = BoundStatement(try db.cachedStatement(sql: "INSERT INTO history (key, count, last_event_id, data) VALUES (?, ?, ?, ?)"))
            s.bind(SQLiteSchema.historyKey(execution: executionID, sequence: step.chunk.firstSequence))
            s.bind(step.chunk.count)
            s.bind(step.chunk.lastEventID)
            s.bind(step.chunk.encoded)
            try s.run(db)
        }
        if !step.tasksOpened.isEmpty {
            let insert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO tasks (token, execution_id, thread, state_name, resource, activity_arn, status,
                    timeout_seconds, heartbeat_seconds, scheduled_event_id, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for t in step.tasksOpened {
                var s = BoundStatement(insert)
                s.bind(t.token)
                s.bind(executionID)
                s.bind(Int64(t.thread))
                s.bind(t.stateName)
                s.bind(t.resource)
                s.bind(t.activityArn)
                s.bind(t.status.rawValue)
                s.bind(t.timeoutSeconds)
                s.bind(t.heartbeatSeconds)
                s.bind(t.scheduledEventID)
                s.bind(t.createdAt)
                try s.run(db)
            }
        }
        if !step.tasksClosed.isEmpty {
            // A closed task's rows, sent or not, have nothing left to do.
            let close = try db.cachedStatement(sql: "UPDATE tasks SET status = 'CLOSED' WHERE token = ?")
            let remove = try db.cachedStatement(sql: "DELETE FROM outbox WHERE token = ?")
            for token in step.tasksClosed {
                for statement in [close, remove] {
                    var s = BoundStatement(statement)
                    s.bind(token)
                    try s.run(db)
                }
            }
        }
        if !step.outboxDelivered.isEmpty {
            let s = try db.cachedStatement(sql: "UPDATE outbox SET status = 'SENT', sent_at = ? WHERE token = ? AND status = 'PENDING'")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for token in step.outboxDelivered { try s.execute(arguments: [now, token.rawValue]) }
        }
        var ids: [Int64] = []
        if !step.outbox.isEmpty {
            let insert = try db.cachedStatement(sql: """
                INSERT INTO outbox (execution_id, token, kind, destination, key, payload, headers, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for o in step.outbox {
                var s = BoundStatement(insert)
                s.bind(executionID)
                s.bind(o.token)
                s.bind(o.kind.rawValue)
                s.bind(o.destination)
                s.bind(o.key)
                s.bind(o.payload)
                s.bind(encodeHeaders(o.headers))
                s.bind(o.status.rawValue)
                s.bind(o.createdAt)
                try s.run(db)
                ids.append(db.lastInsertedRowID)
            }
        }
        return ids
    }

    public func purgeExecutions(stoppedBefore: Int64) async throws -> Int {
        ids.withLock { $0.removeAll() }
        return try await write("purging executions") { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM executions WHERE stop_date IS NOT NULL AND stop_date < ?",
                                         arguments: [stoppedBefore])
            for id in ids {
                try db.execute(sql: "DELETE FROM history WHERE key >= ? AND key < ?", arguments: [
                    SQLiteSchema.historyKey(execution: id, sequence: 0), SQLiteSchema.historyKey(execution: id + 1, sequence: 0),
                ])
                try db.execute(sql: "DELETE FROM tasks WHERE execution_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM outbox WHERE execution_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM executions WHERE id = ?", arguments: [id])
            }
            return ids.count
        }
    }

    public func close() async throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        do {
            try pool.close()
        } catch {
            throw Self.map(error, context: "closing")
        }
    }
}
