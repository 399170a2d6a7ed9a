import Foundation
import GRDB
import Synchronization
import StatesEngine
import StatesLanguage
import SteplineSecurity

/// The embedded store: one SQLite database in WAL mode (GRDB's `DatabasePool`).
///
/// Writes go through GRDB's single writer queue, reads through its reader pool; both run on
/// GRDB's own dispatch queues, never on Swift's cooperative pool: an `await` on this store
/// suspends the caller, it does not block a thread.
///
/// Durability: with `.full` (the default) a commit returns after SQLite has synced the WAL
/// (one fsync per commit; group commit shares it between many steps); with `.normal` a
/// commit survives a process crash but the last commits may be lost in a power failure.
///
/// Encryption: the data of an execution with a `sealingKey` is sealed with `Options.sealer`
/// before it is bound and opened after it is read (`SQLiteStore+Sealing.swift`).
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
        /// Seals and opens the data of executions that have a `sealingKey` (nil: no keys;
        /// such executions can then be neither written nor read).
        public var sealer: DataSealer?

        public init(synchronous: Synchronous = .full, cacheSize: Int = -8_000, maxPageCount: Int? = nil, sealer: DataSealer? = nil) {
            self.synchronous = synchronous
            self.cacheSize = cacheSize
            self.maxPageCount = maxPageCount
            self.sealer = sealer
        }
    }

    public let path: String
    private let pool: DatabasePool
    private let sealer: DataSealer?
    private let isClosed = Atomic<Bool>(false)

    /// What a step's update needs to know of its execution's row.
    struct StoredExecution: Sendable {
        var id: Int64
        var sealingKey: SealingKey?
    }

    /// Execution ids (and keys) by ARN, so that a step's update needs no lookup (bounded;
    /// cleared when full).
    private let ids = Mutex<[ExecutionARN: StoredExecution]>([:])
    private static let idCacheLimit = 50_000

    /// Opens (creating when absent) the database at `path` and migrates its schema.
    ///
    /// - Throws: `StoreError.notWritable` when the file or its directory cannot be
    ///   written, `.diskFull` when there is no room, `.failed` otherwise.
    public init(path: String, options: Options = Options()) throws {
        self.path = path
        sealer = options.sealer
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
        next_due, last_event_id, event_count, role_arn, trace_header, version_arn, alias_arn, redrive_count, redrive_date, id,
        key_id, key_reuse_seconds
        """

    /// A row of `executionColumns`. Data that cannot be opened leaves the record
    /// `unreadable` (the listing shows such executions; what needs their data fails).
    private static func execution(_ row: Row, sealer: DataSealer?) throws -> ExecutionRecord {
        let statusText: String = row[5]
        guard let status = ExecutionStatus(rawValue: statusText) else { throw StoreError.failed("unknown status \(statusText)") }
        let arn = ExecutionARN(row[0])
        var input: JSON = [:]
        var output: JSON? = nil
        var error: String? = nil
        var cause: String? = nil
        var sealingKey: SealingKey? = nil
        var unreadable: String? = nil
        if let keyID = row[22] as String? {
            sealingKey = SealingKey(keyID: keyID, reusePeriodSeconds: row[23] ?? 300)
            do {
                input = try JSON.parse(bytes: try opened((row[6] as DatabaseValue), sealed: true, .input, arn, sealer) ?? [])
                output = try opened((row[7] as DatabaseValue), sealed: true, .output, arn, sealer).map { try JSON.parse(bytes: $0) }
                error = try openedText((row[8] as DatabaseValue), sealed: true, .error, arn, sealer)
                cause = try openedText((row[9] as DatabaseValue), sealed: true, .cause, arn, sealer)
            } catch let e as StoreError {
                unreadable = try encryptionMessage(e)
                (input, output, error, cause) = ([:], nil, nil, nil)
            }
        } else {
            let inputText: String = row[6]
            let outputText: String? = row[7]
            input = try JSON.parse(inputText)
            output = try outputText.map { try JSON.parse($0) }
            error = row[8]
            cause = row[9]
        }
        return ExecutionRecord(
            arn: arn, stateMachineArn: StateMachineARN(row[1]), name: row[2], type: row[3], revisionId: row[4],
            status: status, input: input, output: output, error: error, cause: cause, startDate: row[10], stopDate: row[11],
            nextDue: row[12], lastEventID: row[13], eventCount: row[14], roleArn: row[15], traceHeader: row[16],
            stateMachineVersionArn: (row[17] as String?).map(StateMachineARN.init),
            stateMachineAliasArn: (row[18] as String?).map(StateMachineARN.init), redriveCount: row[19], redriveDate: row[20],
            sealingKey: sealingKey, unreadable: unreadable)
    }

    public func execution(arn: ExecutionARN) async throws -> ExecutionRecord? {
        let sealer = self.sealer
        return try await read("reading execution") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.executionColumns) FROM executions WHERE arn = ?"), arguments: [arn.rawValue])
                .map { try Self.execution($0, sealer: sealer) }
        }
    }

    public func loadExecution(arn: ExecutionARN) async throws -> (ExecutionRecord, [HistoryEvent])? {
        let sealer = self.sealer
        return try await read("loading execution") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.executionColumns) FROM executions WHERE arn = ?"),
                                             arguments: [arn.rawValue]) else { return nil }
            let record = try Self.execution(row, sealer: sealer)
            if let why = record.unreadable { throw StoreError.encryption(why) }
            let id: Int64 = row[21]
            return (record, try Self.events(db, execution: id, arn: arn, sealed: record.sealingKey != nil, sealer: sealer, fromSequence: 0))
        }
    }

    private static func events(_ db: Database, execution id: Int64, arn: ExecutionARN, sealed: Bool, sealer: DataSealer?,
                               fromSequence: Int) throws -> [HistoryEvent]
    {
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
            let events: [HistoryEvent]
            if sealed {
                events = try HistoryCodec.decode(try opened((row[1] as DatabaseValue), sealed: true, .history(first), arn, sealer) ?? [])
            } else {
                let data: Data = row[1]
                events = try HistoryCodec.decode([UInt8](data))
            }
            for (i, e) in events.enumerated() where first + i >= fromSequence { out.append(e) }
        }
        return out
    }

    public func history(executionArn: ExecutionARN, fromSequence: Int) async throws -> [HistoryEvent] {
        let sealer = self.sealer
        return try await read("reading history") { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, key_id FROM executions WHERE arn = ?"),
                                             arguments: [executionArn.rawValue])
            else { throw StoreError.notFound(executionArn.rawValue) }
            let keyID: String? = row[1]
            return try Self.events(db, execution: row[0], arn: executionArn, sealed: keyID != nil, sealer: sealer, fromSequence: fromSequence)
        }
    }

    public func listExecutions(stateMachineArn: StateMachineARN?, status: ExecutionStatus?, limit: Int, after: String?) async throws
        -> Page<ExecutionRecord>
    {
        try await listExecutions(filter: ExecutionFilter(stateMachineArn: stateMachineArn, status: status), limit: limit, after: after)
    }

    public func listExecutions(filter: ExecutionFilter, limit: Int, after: String?) async throws -> Page<ExecutionRecord> {
        let sealer = self.sealer
        return try await read("listing executions") { db in
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
            for row in rows.prefix(limit) { items.append(try Self.execution(row, sealer: sealer)) }
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
        let sealer = self.sealer
        return try await read("reading outbox") { db in
            try Row.fetchAll(db, sql: """
                SELECT o.id, e.arn, o.token, o.kind, o.destination, o.key, o.payload, o.headers, o.status, o.created_at, o.key_id
                FROM outbox o JOIN executions e ON e.id = o.execution_id
                WHERE \(condition) AND o.id > ? ORDER BY o.id LIMIT ?
                """, arguments: [afterID, limit]).map { row in
                let arn = ExecutionARN(row[1])
                var record = OutboxRecord(
                    id: row[0], executionArn: arn, token: (row[2] as String?).map(TaskToken.init), kind: OutboxRecord.Kind(rawValue: row[3]) ?? .task,
                    destination: row[4], payload: [], status: OutboxRecord.Status(rawValue: row[8]) ?? .pending, createdAt: row[9])
                if let keyID = row[10] as String? {
                    record.sealingKey = SealingKey(keyID: keyID)
                    do {
                        record.key = try Self.opened((row[5] as DatabaseValue), sealed: true, .outboxKey, arn, sealer)
                        record.payload = try Self.opened((row[6] as DatabaseValue), sealed: true, .outboxPayload, arn, sealer) ?? []
                        record.headers = Self.decodeHeaders(
                            try Self.openedText((row[7] as DatabaseValue), sealed: true, .outboxHeaders, arn, sealer))
                    } catch {
                        record.unreadable = try Self.encryptionMessage(error)
                        (record.key, record.payload, record.headers) = (nil, [], [])
                    }
                } else {
                    let key: Data? = row[5]
                    let payload: Data = row[6]
                    record.key = key.map { [UInt8]($0) }
                    record.payload = [UInt8](payload)
                    record.headers = Self.decodeHeaders(row[7] as String?)
                }
                return record
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
        let sealer = self.sealer
        let (result, learned) = try await write("committing \(batch.steps.count) steps") { db in
            var ids: [[Int64]] = []
            var learned: [ExecutionARN: StoredExecution] = [:]
            ids.reserveCapacity(batch.steps.count)
            for step in batch.steps { ids.append(try Self.write(step, db, known: known, learned: &learned, sealer: sealer)) }
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

    private static func write(_ step: StepRecord, _ db: Database, known: [ExecutionARN: StoredExecution],
                              learned: inout [ExecutionARN: StoredExecution], sealer: DataSealer?) throws -> [Int64]
    {
        let stopped = step.status.isTerminal
        let nextDue = stopped ? nil : step.nextDue
        let executionID: Int64
        let sealing: Sealing?
        switch step.kind {
        case .start(let r):
            sealing = try Sealing.make(r.sealingKey, r.arn, sealer)
            guard step.chunk.firstSequence == 0 else { throw StoreError.conflict("\(r.arn): a start step must begin the history") }
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM executions WHERE arn = ?"), arguments: [r.arn.rawValue]) != nil {
                throw StoreError.alreadyExists(r.arn.rawValue)
            }
            var s = BoundStatement(try db.cachedStatement(sql: """
                INSERT INTO executions (arn, state_machine_arn, name, type, revision_id, status, input, output, error, cause,
                    start_date, stop_date, next_due, last_event_id, event_count, role_arn, trace_header, version_arn, alias_arn,
                    redrive_count, redrive_date, key_id, key_reuse_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """))
            s.bind(r.arn)
            s.bind(r.stateMachineArn)
            s.bind(r.name)
            s.bind(r.type)
            s.bind(r.revisionId)
            s.bind(step.status.rawValue)
            try s.bind(step.inputText, sealing, .input)  // set for every start step
            try s.bind(step.outputText, sealing, .output)
            try s.bind(step.error, sealing, .error)
            try s.bind(step.cause, sealing, .cause)
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
            s.bind(r.sealingKey?.keyID)
            s.bind(r.sealingKey?.reusePeriodSeconds)
            try s.run(db)
            executionID = db.lastInsertedRowID
            learned[r.arn] = StoredExecution(id: executionID, sealingKey: r.sealingKey)
        case .update:
            let stored: StoredExecution
            if let known = learned[step.executionArn] ?? known[step.executionArn] {
                stored = known
            } else {
                let find = try db.cachedStatement(sql: "SELECT id, key_id, key_reuse_seconds FROM executions WHERE arn = ?")
                guard let row = try Row.fetchOne(find, arguments: [step.executionArn.rawValue]) else {
                    throw StoreError.conflict("\(step.executionArn) is not stored")
                }
                let keyID: String? = row[1]
                stored = StoredExecution(id: row[0], sealingKey: keyID.map { SealingKey(keyID: $0, reusePeriodSeconds: row[2] ?? 300) })
                learned[step.executionArn] = stored
            }
            executionID = stored.id
            sealing = try Sealing.make(stored.sealingKey, step.executionArn, sealer)
            // The event count fences the update: a step that does not follow the stored
            // history changes nothing and fails the commit.
            var s = BoundStatement(try db.cachedStatement(sql: """
                UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop_date = ?, next_due = ?,
                    last_event_id = ?, event_count = ? WHERE id = ? AND event_count = ? AND arn = ?
                """))
            s.bind(step.status.rawValue)
            try s.bind(step.outputText, sealing, .output)
            try s.bind(step.error, sealing, .error)
            try s.bind(step.cause, sealing, .cause)
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
            try s.bind(step.chunk.encoded, sealing, .history(step.chunk.firstSequence))
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
                INSERT INTO outbox (execution_id, token, kind, destination, key, payload, headers, status, created_at, key_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for o in step.outbox {
                // An activity's own key seals its tasks; the execution's seals the rest.
                let rowSealing = o.sealingKey == nil ? sealing : try Sealing.make(o.sealingKey, step.executionArn, sealer)
                var s = BoundStatement(insert)
                s.bind(executionID)
                s.bind(o.token)
                s.bind(o.kind.rawValue)
                s.bind(o.destination)
                try s.bind(o.key, rowSealing, .outboxKey)
                try s.bind(o.payload, rowSealing, .outboxPayload)
                try s.bind(encodeHeaders(o.headers), rowSealing, .outboxHeaders)
                s.bind(o.status.rawValue)
                s.bind(o.createdAt)
                s.bind(rowSealing?.key.keyID)
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
