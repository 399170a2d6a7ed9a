import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import Synchronization
import ControlPlane

/// A store that dies: after `kill()`, every call throws, as if the process had stopped.
final class KillableStore: StatesStore {
    let base: SQLiteStore
    private let dead = Atomic<Bool>(false)
    init(_ base: SQLiteStore) { self.base = base }
    func kill() { dead.store(true, ordering: .releasing) }
    private func check() throws { if dead.load(ordering: .acquiring) { throw CrashInjected() } }

    func createStateMachine(_ r: StateMachineRecord) async throws { try check(); try await base.createStateMachine(r) }
    func updateStateMachine(_ r: StateMachineRecord) async throws { try check(); try await base.updateStateMachine(r) }
    func stateMachine(arn: StateMachineARN) async throws -> StateMachineRecord? { try check(); return try await base.stateMachine(arn: arn) }
    func listStateMachines(limit: Int, after: String?) async throws -> Page<StateMachineRecord> {
        try check(); return try await base.listStateMachines(limit: limit, after: after)
    }
    func deleteStateMachine(arn: StateMachineARN) async throws { try check(); try await base.deleteStateMachine(arn: arn) }
    func definition(revisionId: String) async throws -> String? { try check(); return try await base.definition(revisionId: revisionId) }
    func createActivity(_ r: ActivityRecord) async throws { try check(); try await base.createActivity(r) }
    func activity(arn: ActivityARN) async throws -> ActivityRecord? { try check(); return try await base.activity(arn: arn) }
    func listActivities(limit: Int, after: String?) async throws -> Page<ActivityRecord> {
        try check(); return try await base.listActivities(limit: limit, after: after)
    }
    func deleteActivity(arn: ActivityARN) async throws { try check(); try await base.deleteActivity(arn: arn) }
    func execution(arn: ExecutionARN) async throws -> ExecutionRecord? { try check(); return try await base.execution(arn: arn) }
    func loadExecution(arn: ExecutionARN) async throws -> (ExecutionRecord, [HistoryEvent])? {
        try check(); return try await base.loadExecution(arn: arn)
    }
    func history(executionArn: ExecutionARN, fromSequence: Int) async throws -> [HistoryEvent] {
        try check(); return try await base.history(executionArn: executionArn, fromSequence: fromSequence)
    }
    func listExecutions(stateMachineArn: StateMachineARN?, status: ExecutionStatus?, limit: Int, after: String?) async throws
        -> Page<ExecutionRecord>
    {
        try check(); return try await base.listExecutions(stateMachineArn: stateMachineArn, status: status, limit: limit, after: after)
    }
    func listExecutions(filter: ExecutionFilter, limit: Int, after: String?) async throws -> Page<ExecutionRecord> {
        try check(); return try await base.listExecutions(filter: filter, limit: limit, after: after)
    }
    func dueExecutions(before time: Int64, limit: Int) async throws -> [(arn: ExecutionARN, due: Int64)] {
        try check(); return try await base.dueExecutions(before: time, limit: limit)
    }
    func publishStateMachineVersion(stateMachineArn: StateMachineARN, description: String?, expectedRevisionId: String?,
                                    date: Int64, maxVersions: Int) async throws -> (StateMachineVersionRecord, created: Bool) {
        try check()
        return try await base.publishStateMachineVersion(stateMachineArn: stateMachineArn, description: description,
                                                         expectedRevisionId: expectedRevisionId, date: date, maxVersions: maxVersions)
    }
    func stateMachineVersion(arn: StateMachineARN) async throws -> StateMachineVersionRecord? { try check(); return try await base.stateMachineVersion(arn: arn) }
    func listStateMachineVersions(stateMachineArn: StateMachineARN, limit: Int, after: String?) async throws -> Page<StateMachineVersionRecord> {
        try check(); return try await base.listStateMachineVersions(stateMachineArn: stateMachineArn, limit: limit, after: after)
    }
    func deleteStateMachineVersion(arn: StateMachineARN) async throws { try check(); try await base.deleteStateMachineVersion(arn: arn) }
    func putStateMachineAlias(_ record: StateMachineAliasRecord, create: Bool) async throws {
        try check(); try await base.putStateMachineAlias(record, create: create)
    }
    func stateMachineAlias(arn: StateMachineARN) async throws -> StateMachineAliasRecord? { try check(); return try await base.stateMachineAlias(arn: arn) }
    func listStateMachineAliases(stateMachineArn: StateMachineARN, limit: Int, after: String?) async throws -> Page<StateMachineAliasRecord> {
        try check(); return try await base.listStateMachineAliases(stateMachineArn: stateMachineArn, limit: limit, after: after)
    }
    func deleteStateMachineAlias(arn: StateMachineARN) async throws { try check(); try await base.deleteStateMachineAlias(arn: arn) }
    func tags(resourceArn: ResourceARN) async throws -> [(key: String, value: String)] { try check(); return try await base.tags(resourceArn: resourceArn) }
    func tagResource(resourceArn: ResourceARN, tags: [(key: String, value: String)], maxTags: Int) async throws {
        try check(); try await base.tagResource(resourceArn: resourceArn, tags: tags, maxTags: maxTags)
    }
    func untagResource(resourceArn: ResourceARN, keys: [String]) async throws { try check(); try await base.untagResource(resourceArn: resourceArn, keys: keys) }
    func runningExecutionCount() async throws -> Int { try check(); return try await base.runningExecutionCount() }
    func task(token: TaskToken) async throws -> TaskRecord? { try check(); return try await base.task(token: token) }
    func pendingOutbox(afterID: Int64, limit: Int) async throws -> [OutboxRecord] {
        try check(); return try await base.pendingOutbox(afterID: afterID, limit: limit)
    }
    func openTaskRequests(afterID: Int64, limit: Int) async throws -> [OutboxRecord] {
        try check(); return try await base.openTaskRequests(afterID: afterID, limit: limit)
    }
    func commit(_ batch: CommitBatch) async throws -> CommitResult { try check(); return try await base.commit(batch) }
    func purgeExecutions(stoppedBefore: Int64) async throws -> Int { try check(); return try await base.purgeExecutions(stoppedBefore: stoppedBefore) }
    func close() async throws { try await base.close() }
}

/// Where a simulated crash happens: the `n`-th hook call (commits and dispatch confirmations
/// counted together) of the first runtime instance.
final class CrashPlan: Sendable {
    let crashAt: Int?
    let calls = Atomic<Int>(0)
    let crashed = Atomic<Bool>(false)
    let kinds = Mutex<[String]>([])
    let onCrash = Mutex<(@Sendable () -> Void)?>(nil)

    init(crashAt: Int?) { self.crashAt = crashAt }

    func hit(_ what: String) throws {
        if crashed.load(ordering: .acquiring) { throw CrashInjected() }
        let n = calls.add(1, ordering: .acquiringAndReleasing).newValue
        kinds.withLock { $0.append(what) }
        if n == crashAt {
            crashed.store(true, ordering: .releasing)
            onCrash.withLock { $0 }?()
            throw CrashInjected()
        }
    }

    var hooks: RuntimeHooks {
        var h = RuntimeHooks()
        h.afterCommit = { [self] kind, _ in try self.hit("commit:\(kind.rawValue)") }
        h.afterDispatch = { [self] _ in try self.hit("dispatch") }
        return h
    }
}

/// A task worker outside the daemon: it answers task requests on a script, in virtual
/// time, and survives the daemon's crashes (it keeps its schedule and retries answers).
final class ScriptedWorker: TaskDispatcher {
    enum Answer: Sendable {
        case submitted(JSON)
        case heartbeat
        case success(JSON)
        case failure(String, String)
    }

    struct Scheduled: Sendable {
        var at: Int64
        var seq: Int
        var token: TaskToken
        var answer: Answer
    }

    let clock: ManualClock
    /// The script: by state name and attempt, what happens when (ms after dispatch).
    let script: @Sendable (TaskRequest) -> [(Int64, Answer)]
    let state = Mutex<(seen: Set<TaskToken>, queue: [Scheduled], seq: Int)>(([], [], 0))

    init(clock: ManualClock, script: @escaping @Sendable (TaskRequest) -> [(Int64, Answer)]) {
        self.clock = clock
        self.script = script
    }

    func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        accept(request)
        return .sent
    }

    func accept(_ request: TaskRequest) {
        let now = clock.now()
        let plan = script(request)
        state.withLock { s in
            guard s.seen.insert(request.token).inserted else { return }  // a duplicate after a crash
            for (delay, answer) in plan {
                s.queue.append(Scheduled(at: now + delay, seq: s.seq, token: request.token, answer: answer))
                s.seq += 1
            }
        }
    }

    func cancel(token: TaskToken) async {
        state.withLock { s in s.queue.removeAll { $0.token == token } }
    }

    var nextTime: Int64? { state.withLock { $0.queue.map(\.at).min() } }

    func due(_ now: Int64) -> [Scheduled] {
        state.withLock { s in
            let due = s.queue.filter { $0.at <= now }.sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }
            s.queue.removeAll { $0.at <= now }
            return due
        }
    }

    func putBack(_ items: [Scheduled]) { state.withLock { $0.queue.append(contentsOf: items) } }
}

/// A daemon that can crash, its store on disk, a virtual clock and a scripted world around it.
final class SimulatedWorld: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    let path: String
    let clock: ManualClock
    let plan: CrashPlan
    let worker: ScriptedWorker
    var runtime: SteplineRuntime!
    var store: KillableStore!
    var crashes = 0
    let activityArns: [String]
    let activityScript: @Sendable (TaskRequest) -> [(Int64, ScriptedWorker.Answer)]

    init(path: String, start: Int64, crashAt: Int?, activities: [String],
         taskScript: @escaping @Sendable (TaskRequest) -> [(Int64, ScriptedWorker.Answer)],
         activityScript: @escaping @Sendable (TaskRequest) -> [(Int64, ScriptedWorker.Answer)]) throws
    {
        self.path = path
        clock = ManualClock(start)
        plan = CrashPlan(crashAt: crashAt)
        worker = ScriptedWorker(clock: clock, script: taskScript)
        activityArns = activities
        self.activityScript = activityScript
        try boot()
    }

    private func boot() throws {
        let store = KillableStore(try SQLiteStore(path: path, options: .init(synchronous: .normal)))
        self.store = store
        plan.onCrash.withLock { $0 = { store.kill() } }
        var cfg = RuntimeConfiguration()
        cfg.seed = 42
        cfg.cacheCapacity = 64
        cfg.timerHorizonSeconds = 366 * 86_400
        let worker = self.worker
        runtime = SteplineRuntime(store: store, configuration: cfg, clock: clock,
                                  hooks: plan.crashed.load(ordering: .acquiring) ? RuntimeHooks() : plan.hooks,
                                  dispatcher: worker)
    }

    var service: ExecutionService { runtime.executions }

    /// After a crash: a new runtime on the same database, recovered.
    func restartIfCrashed() async throws {
        guard plan.crashed.load(ordering: .acquiring), crashes == 0 else { return }
        crashes += 1
        try? await store.base.close()
        try boot()
        try await runtime.recover()
    }

    /// Runs an action; after a simulated crash, restarts and runs it again (a client retries).
    func retrying<T>(_ action: () async throws -> T) async throws -> T {
        while true {
            do {
                return try await action()
            } catch {
                if plan.crashed.load(ordering: .acquiring) && crashes == 0 {
                    try await restartIfCrashed()
                    continue
                }
                throw error
            }
        }
    }

    /// One round: relay, answers due, activity polls, timers. Returns whether anything ran.
    func round() async throws -> Bool {
        try await restartIfCrashed()
        var acted = false
        if runtime.executions.relay.pendingCount > 0 {
            await runtime.executions.relay.relayPending()
            acted = true
        }
        try await restartIfCrashed()
        let now = clock.now()
        let answers = worker.due(now)
        for (i, a) in answers.enumerated() {
            acted = true
            do {
                switch a.answer {
                case .submitted(let o): try await service.taskSubmitted(token: a.token, output: o)
                case .heartbeat: try await service.taskHeartbeat(token: a.token)
                case .success(let o): try await service.taskSucceeded(token: a.token, output: o)
                case .failure(let e, let c): try await service.taskFailed(token: a.token, error: e, cause: c)
                }
            } catch let e as ServiceError where e.code == .taskTimedOut || e.code == .taskDoesNotExist {
                continue  // already applied before a crash, or the task is gone
            } catch {
                guard plan.crashed.load(ordering: .acquiring) else { throw error }
                // The daemon died while answering: retry this answer and the rest after restart.
                worker.putBack(Array(answers[i...]))
                try await restartIfCrashed()
                return true
            }
        }
        for arn in activityArns {
            while let r = runtime.activities.takeQueued(activityArn: ActivityARN(arn)) {
                acted = true
                let started: Bool
                do {
                    started = try await service.activityStarted(token: r.token, workerName: "w")
                } catch {
                    guard plan.crashed.load(ordering: .acquiring) else { throw error }
                    // The worker got the response before the daemon died.
                    try await restartIfCrashed()
                    started = true
                }
                if started {
                    for (delay, answer) in activityScript(r) {
                        worker.state.withLock { s in
                            s.queue.append(.init(at: now + delay, seq: s.seq, token: r.token, answer: answer))
                            s.seq += 1
                        }
                    }
                }
            }
        }
        try await restartIfCrashed()
        if let due = runtime.executions.timers.nextDue, due <= clock.now() {
            await runtime.executions.timers.fireDue()
            acted = true
        }
        return acted
    }

    /// Runs until nothing is left to do; `actions` run at their virtual times.
    func run(until end: Int64, actions: [(Int64, (SimulatedWorld) async throws -> Void)]) async throws {
        var actions = actions.sorted { $0.0 < $1.0 }
        try await runtime.recover()
        var rounds = 0
        while clock.now() <= end {
            rounds += 1
            if rounds > 10_000 { throw CancellationError() }
            while let first = actions.first, first.0 <= clock.now() {
                actions.removeFirst()
                try await retrying { try await first.1(self) }
            }
            if try await round() { continue }
            let next = [worker.nextTime, runtime.executions.timers.nextDue, actions.first?.0].compactMap { $0 }.min()
            guard let next else { return }
            clock.set(max(clock.now() + 1, next))
        }
    }
}
