import ControlPlane
import Logging
import StatesEngine
import StatesLanguage
import StatesStore
import Synchronization

/// What the shards share: the store, the committer, the clock, and the services that act
/// on a step once it is durable (timers, outbox relay, dispatcher).
final class RuntimeCore: Sendable {
    let store: any StatesStore
    let committer: GroupCommitter
    let definitions: DefinitionCache
    let clock: any RuntimeClock
    let configuration: RuntimeConfiguration
    let hooks: RuntimeHooks
    let timers: TimerService
    let relay: OutboxRelay
    let dispatcher: any TaskDispatcher
    let logger: Logger
    /// Waiters for EXPRESS executions to end (StartSyncExecution).
    let completions = ExpressCompletions()
    /// Activities' own keys, for their tasks' outbox rows.
    let activityKeys = ActivityKeys()
    /// Open tasks of EXPRESS executions (never stored): token → execution ARN.
    private let expressTokens = Mutex<[TaskToken: ExecutionARN]>([:])
    /// Open tasks of STANDARD executions that steps of this process opened: token →
    /// execution ARN, so that a task answer finds its execution without a store read.
    /// Entered once the step that opened the task is durable, removed when a durable step
    /// closes it. The store stays the truth: a token not here (another process opened it,
    /// the daemon restarted, the index was full) is looked up there, and a token here whose
    /// task has ended meanwhile is refused by the engine as on the store path (TaskTimedOut).
    private let standardTokens = Mutex<[TaskToken: ExecutionARN]>([:])
    /// At most this many entries in `standardTokens` (about 250 bytes each); tasks opened
    /// beyond are looked up in the store.
    static let standardTokenLimit = 65_536

    init(store: any StatesStore, committer: GroupCommitter, definitions: DefinitionCache, clock: any RuntimeClock,
         configuration: RuntimeConfiguration, hooks: RuntimeHooks, timers: TimerService, relay: OutboxRelay,
         dispatcher: any TaskDispatcher, logger: Logger)
    {
        self.store = store
        self.committer = committer
        self.definitions = definitions
        self.clock = clock
        self.configuration = configuration
        self.hooks = hooks
        self.timers = timers
        self.relay = relay
        self.dispatcher = dispatcher
        self.logger = logger
    }

    /// The clock and randomness of one engine call. With a configured seed the randomness
    /// depends only on the execution and its event count, so a resumed execution draws the
    /// same task tokens as an uninterrupted one. `eventCount` is the last AWS event id:
    /// internal events (a heartbeat sent again after a crash) do not shift it.
    func context(_ arn: ExecutionARN, eventCount: Int, now: Int64, express: Bool = false) -> DecisionContext {
        let random: RandomSource
        if let seed = configuration.seed {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in arn.rawValue.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            random = RandomSource(seed: seed ^ h ^ (UInt64(eventCount) &* 0x9E37_79B9_7F4A_7C15))
        } else {
            random = .system
        }
        // The quota also ends a loop of states that never blocks. AWS has no history quota for
        // EXPRESS, whose 5-minute limit ends such a loop instead: its calls yield every so
        // many events (due again at once), so that other executions run in between.
        var context = DecisionContext(now: now, random: random, region: configuration.region,
                                      historyEventLimit: express ? .max : configuration.historyEventLimit)
        if express { context.yieldAfterEvents = ExpressLimits.eventsPerCall }
        return context
    }

    /// The engine's view of a stored execution (the engine keeps identifiers as the text of
    /// the context object and the history).
    func info(_ r: ExecutionRecord) -> ExecutionInfo {
        ExecutionInfo(
            executionArn: r.arn.rawValue, name: r.name, stateMachineArn: r.stateMachineArn.rawValue,
            stateMachineName: ARNs.lastComponent(r.stateMachineArn.rawValue), roleArn: r.roleArn,
            type: r.type == "EXPRESS" ? .express : .standard, region: configuration.region, account: configuration.account,
            stateMachineVersionArn: r.stateMachineVersionArn?.rawValue, stateMachineAliasArn: r.stateMachineAliasArn?.rawValue,
            redriveCount: r.redriveCount, redriveTime: r.redriveDate)
    }

    func expressTasks(opened: [TaskToken], closed: [TaskToken], arn: ExecutionARN) {
        guard !opened.isEmpty || !closed.isEmpty else { return }
        expressTokens.withLock { m in
            for t in opened { m[t] = arn }
            for t in closed { m[t] = nil }
        }
    }

    /// The execution of an open task, when this process knows it without the store.
    func openTaskExecution(token: TaskToken) -> ExecutionARN? {
        expressTokens.withLock { $0[token] } ?? standardTokens.withLock { $0[token] }
    }

    private func standardTasks(opened: [TaskRecord], closed: [TaskToken], arn: ExecutionARN) {
        guard !opened.isEmpty || !closed.isEmpty else { return }
        standardTokens.withLock { m in
            for t in closed { m[t] = nil }
            for t in opened where m.count < Self.standardTokenLimit { m[t.token] = arn }
        }
    }

    /// What a step that takes a STANDARD execution from `before` (nil: it did not exist) to
    /// `after` changes in the count of running executions (`GroupCommitter.running`).
    static func runningChange(from before: ExecutionStatus?, to after: ExecutionStatus) -> Int {
        let was = before == .running, now = after == .running
        return was == now ? 0 : now ? 1 : -1
    }

    /// Names, on the outbox rows of a step's activity tasks, the activity's own key
    /// (CreateActivity's `EncryptionConfiguration`), which seals them in the store.
    /// - Throws: `KmsInvalidStateException` when that key is no longer configured.
    func keyActivityTasks(_ step: inout StepRecord) async throws {
        for task in step.tasksOpened {
            guard let activity = task.activityArn,
                let key = try await activityKeys.key(activity, store: store, configuration: configuration) else { continue }
            for i in step.outbox.indices where step.outbox[i].token == task.token && step.outbox[i].kind == .task {
                step.outbox[i].sealingKey = key
            }
        }
    }

    /// What follows a durable step: its timer, its task requests, its cancellations.
    func afterStep(_ arn: ExecutionARN, effects: StepEffects, outboxIDs: [Int64], express: Bool) {
        if !express { standardTasks(opened: effects.step.tasksOpened, closed: effects.step.tasksClosed, arn: arn) }
        timers.schedule(arn, due: effects.nextDue, isStored: !express)
        if !effects.requests.isEmpty || !effects.publications.isEmpty {
            // EXPRESS steps are not stored: their items have no outbox row (id 0).
            let ids = express ? Array(repeating: 0, count: effects.requests.count + effects.publications.count) : outboxIDs
            var items = zip(ids, effects.requests).map { OutboxRelay.Item(id: $0, request: $1) }
            items += zip(ids.dropFirst(effects.requests.count), effects.publications).map { OutboxRelay.Item(id: $0, publication: $1) }
            relay.enqueue(items)
        }
        if !effects.cancels.isEmpty {
            let dispatcher = self.dispatcher
            let cancels = effects.cancels
            Task { for t in cancels { await dispatcher.cancel(token: t) } }
        }
    }
}
