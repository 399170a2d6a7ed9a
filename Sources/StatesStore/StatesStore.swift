import StatesEngine
import StatesLanguage

/// Why a store call failed.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A record with this key exists (a state machine or activity name, an execution ARN).
    case alreadyExists(String)
    /// No record with this key.
    case notFound(String)
    /// A step does not follow the stored history (its first sequence number is not the
    /// stored event count), or updates an execution that is not stored: another writer
    /// got there first, or the caller's state is stale.
    case conflict(String)
    /// The disk is full (SQLite: SQLITE_FULL).
    case diskFull(String)
    /// The data directory or database file cannot be written (read-only file system,
    /// permissions; SQLite: SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_IOERR).
    case notWritable(String)
    /// A quota would be exceeded (versions per machine, tags per resource).
    case limitExceeded(String)
    /// A listing's `after` is not a `Page.next` this store returned.
    case invalidPageToken
    /// Execution data cannot be sealed or opened: the key is not configured, is not the
    /// key that sealed it, or the stored value is damaged. The message names the key and
    /// the execution, never the data or the key's material.
    case encryption(String)
    /// The store was closed.
    case closed
    /// Anything else: the message names the cause.
    case failed(String)

    public var description: String {
        switch self {
        case .alreadyExists(let k): "already exists: \(k)"
        case .notFound(let k): "not found: \(k)"
        case .conflict(let m): "conflict: \(m)"
        case .diskFull(let m): "disk full: \(m)"
        case .notWritable(let m): "not writable: \(m)"
        case .limitExceeded(let m): "limit exceeded: \(m)"
        case .invalidPageToken: "invalid page key"
        case .encryption(let m): m
        case .closed: "the store is closed"
        case .failed(let m): m
        }
    }

    /// True for errors of the medium (disk full, read-only, I/O): the store refuses writes
    /// until the condition clears, and what was committed before stays.
    public var isStorageFailure: Bool {
        switch self {
        case .diskFull, .notWritable: true
        default: false
        }
    }
}

/// The durable home of state machines, activities and STANDARD executions.
///
/// An execution is stored as its history events (the truth), its row (a summary derived
/// from the events: status, output, next timer), its open tasks (by token) and its outbox
/// (messages that must leave after the step that produced them is durable).
///
/// Identifiers come in and go out typed (`ExecutionARN`, `StateMachineARN`, `TaskToken`, ...);
/// an implementation stores their text (`rawValue`) as given and never parses them.
///
/// - Important: The contract, which every implementation MUST keep (the contract suite in
///   `Tests/StatesStoreTests` checks it):
///   - `commit` is atomic: every step of the batch is written, or none is. A step's
///     events, its row update, its tasks and its outbox rows MUST NOT be visible apart.
///   - `commit` returns only when the batch is durable (on the medium, per the store's
///     durability setting). After a process crash at any moment, a batch is either wholly
///     present or wholly absent.
///   - Steps of one execution within a batch are applied in batch order. A step whose
///     `chunk.firstSequence` is not the stored event count of its execution MUST make the
///     commit fail with `.conflict`, as MUST a `.start` step for an ARN already stored
///     (`.alreadyExists`) or an `.update` step for an ARN not stored (`.conflict`).
///   - History events are returned exactly once each, in sequence order, as written.
///   - Every outbox row of a committed step is returned by `pendingOutbox` until it is
///     marked sent (`CommitBatch.outboxSent`, `StepRecord.outboxDelivered`) or its task
///     closes (`StepRecord.tasksClosed`). A row with a token is returned by
///     `openTaskRequests` once sent, until its task closes. A store may drop a row as soon
///     as neither can return it any more (a sent row without a token, a closed task's rows).
///   - `dueExecutions` returns every RUNNING execution whose `nextDue` is at or before
///     the given time, including those that fell due while no process was running.
///   - A failure of the medium (disk full, read-only) surfaces as `.diskFull` or
///     `.notWritable`, MUST NOT damage what was committed before, and MUST NOT leave a
///     batch half-written.
///   - Reads see every commit that returned before the read began.
///   - An execution started with a `sealingKey` MUST NOT have any of its data (input,
///     output, error, cause, history, outbox rows) stored in plaintext; a store that cannot
///     seal with that key fails the commit (`.encryption`). Data that cannot be opened
///     (the key gone, other material, damage) fails the reads that need it with
///     `.encryption`, naming the key; rows whose data a caller may go without (a listing,
///     an execution's row, an outbox row) come back marked `unreadable` instead. The rows
///     stay stored as they are: with the key back, they read again.
public protocol StatesStore: Sendable {
    // MARK: State machines

    /// Inserts a state machine and its definition revision.
    /// - Throws: `.alreadyExists(name)` when a machine of that name exists.
    func createStateMachine(_ record: StateMachineRecord) async throws
    /// Replaces a state machine's definition, role or configuration (a new revision
    /// when the definition changed). Executions keep the revision they started with.
    /// - Throws: `.notFound(arn)`.
    func updateStateMachine(_ record: StateMachineRecord) async throws
    func stateMachine(arn: StateMachineARN) async throws -> StateMachineRecord?
    /// Machines in name order, `limit` at a time, after `after` (a name).
    func listStateMachines(limit: Int, after: String?) async throws -> Page<StateMachineRecord>
    /// Removes a state machine. Its executions and their definitions stay until purged.
    func deleteStateMachine(arn: StateMachineARN) async throws
    /// The definition text of a revision (for replaying an execution).
    func definition(revisionId: String) async throws -> String?

    // MARK: Activities

    /// - Throws: `.alreadyExists(name)`.
    func createActivity(_ record: ActivityRecord) async throws
    func activity(arn: ActivityARN) async throws -> ActivityRecord?
    func listActivities(limit: Int, after: String?) async throws -> Page<ActivityRecord>
    func deleteActivity(arn: ActivityARN) async throws

    // MARK: Executions

    func execution(arn: ExecutionARN) async throws -> ExecutionRecord?
    /// An execution's row and every stored event, in order: what a replay needs.
    func loadExecution(arn: ExecutionARN) async throws -> (ExecutionRecord, [HistoryEvent])?
    /// Events with sequence number `fromSequence` and after, in order.
    func history(executionArn: ExecutionARN, fromSequence: Int) async throws -> [HistoryEvent]
    /// Executions newest first (by start date), optionally of one machine and one status.
    /// `after` is the `next` of the previous page.
    func listExecutions(stateMachineArn: StateMachineARN?, status: ExecutionStatus?, limit: Int, after: String?) async throws
        -> Page<ExecutionRecord>
    /// Executions newest first (by start date) that match `filter`; `after` is the `next`
    /// of the previous page.
    /// - Throws: `.invalidPageToken` when `after` is not one.
    func listExecutions(filter: ExecutionFilter, limit: Int, after: String?) async throws -> Page<ExecutionRecord>
    /// RUNNING executions whose next timer is due at or before `time`, earliest first.
    func dueExecutions(before time: Int64, limit: Int) async throws -> [(arn: ExecutionARN, due: Int64)]
    /// The number of RUNNING executions.
    func runningExecutionCount() async throws -> Int

    // MARK: Versions and aliases

    /// Publishes the machine's current revision as a new version, numbered one past the
    /// highest number it ever had. Idempotent: when the newest version already has the
    /// current revision, that version is returned (`created` false).
    /// - Throws: `.notFound(arn)` for an unknown machine; `.conflict` when
    ///   `expectedRevisionId` is set and is not the current revision; `.limitExceeded`
    ///   when the machine has `maxVersions` versions.
    func publishStateMachineVersion(stateMachineArn: StateMachineARN, description: String?, expectedRevisionId: String?,
                                    date: Int64, maxVersions: Int) async throws -> (StateMachineVersionRecord, created: Bool)
    func stateMachineVersion(arn: StateMachineARN) async throws -> StateMachineVersionRecord?
    /// Versions newest first, `limit` at a time, after `after` (a version number).
    func listStateMachineVersions(stateMachineArn: StateMachineARN, limit: Int, after: String?) async throws
        -> Page<StateMachineVersionRecord>
    func deleteStateMachineVersion(arn: StateMachineARN) async throws
    /// Inserts (`create`) or replaces an alias.
    /// - Throws: `.alreadyExists(arn)` on create when it exists; `.notFound(arn)` on replace
    ///   when it does not.
    func putStateMachineAlias(_ record: StateMachineAliasRecord, create: Bool) async throws
    func stateMachineAlias(arn: StateMachineARN) async throws -> StateMachineAliasRecord?
    /// Aliases in name order.
    func listStateMachineAliases(stateMachineArn: StateMachineARN, limit: Int, after: String?) async throws
        -> Page<StateMachineAliasRecord>
    func deleteStateMachineAlias(arn: StateMachineARN) async throws

    // MARK: Tags

    /// A resource's tags in key order.
    func tags(resourceArn: ResourceARN) async throws -> [(key: String, value: String)]
    /// Adds or replaces tags.
    /// - Throws: `.limitExceeded` when the resource would have more than `maxTags`.
    func tagResource(resourceArn: ResourceARN, tags: [(key: String, value: String)], maxTags: Int) async throws
    func untagResource(resourceArn: ResourceARN, keys: [String]) async throws

    // MARK: Tasks and outbox

    func task(token: TaskToken) async throws -> TaskRecord?
    /// Pending outbox rows with `id > afterID`, in id order.
    func pendingOutbox(afterID: Int64, limit: Int) async throws -> [OutboxRecord]
    /// Task requests already sent whose task is still open (`id > afterID`, in id order):
    /// what must be handed over again when the broker lost its records (a development
    /// broker that lived in the daemon's process).
    func openTaskRequests(afterID: Int64, limit: Int) async throws -> [OutboxRecord]

    // MARK: Writing

    /// Writes a batch atomically and durably (see the contract above).
    /// - Returns: the outbox ids assigned to each step's rows.
    func commit(_ batch: CommitBatch) async throws -> CommitResult

    /// Deletes closed executions (and their events, tasks and outbox rows) that stopped
    /// before `stoppedBefore`: their names become free again.
    /// - Returns: the number of executions removed.
    func purgeExecutions(stoppedBefore: Int64) async throws -> Int

    /// Flushes and releases resources. Calls after `close` throw `.closed`.
    func close() async throws
}
