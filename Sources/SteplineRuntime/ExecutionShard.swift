import StatesEngine
import StatesLanguage
import StatesStore
import ControlPlane

/// What a step of one execution does.
enum StepOperation: Sendable {
    case start(StartPlan)
    case signal(ExecutionSignal, RuntimeHooks.StepKind)
    /// Timers: fire what is due.
    case advance
    /// RedriveExecution: restart a FAILED, TIMED_OUT or ABORTED execution.
    case redrive
}

struct StartPlan: Sendable {
    var record: ExecutionRecord
    var definition: StateMachineDefinition
    var info: ExecutionInfo
    var isExpress: Bool
}

/// The result of one step, for the caller.
struct StepOutcome: Sendable {
    var startDate: Int64
    var status: ExecutionStatus
    var stopDate: Int64?
    /// The step's events (empty when nothing happened).
    var events: [HistoryEvent]
    /// StartExecution found the execution already there (idempotent start).
    var existing = false
    /// The execution's output or error once it ended (StartSyncExecution).
    var output: JSON? = nil
    var error: StatesError? = nil
}

/// Owns a share of the executions: their decoded states (a bounded cache) and the rule
/// that one step of an execution runs at a time, commit included.
///
/// Steps of different executions interleave freely: while one waits for its group commit,
/// the actor decides others. A step's state enters the cache only once its commit is
/// durable, so a failed commit leaves no trace in memory either.
actor ExecutionShard {
    private struct Entry {
        var state: ExecutionState
        var revisionId: String
        var isExpress: Bool
        var startDate: Int64
        var tick: UInt64
    }

    private let core: RuntimeCore
    private let capacity: Int
    private var entries: [ExecutionARN: Entry] = [:]
    private var express: [ExecutionARN: Entry] = [:]
    private var recency: [(ExecutionARN, UInt64)] = []
    private var recencyHead = 0
    private var tick: UInt64 = 0
    private var busy: Set<ExecutionARN> = []
    private var waiters: [ExecutionARN: [CheckedContinuation<Void, Never>]] = [:]

    init(core: RuntimeCore, capacity: Int) {
        self.core = core
        self.capacity = max(16, capacity)
    }

    var cachedCount: Int { entries.count }
    var expressCount: Int { express.count }

    // MARK: Per-execution serialization

    private func acquire(_ arn: ExecutionARN) async {
        if busy.insert(arn).inserted { return }
        await withCheckedContinuation { waiters[arn, default: []].append($0) }
    }

    private func release(_ arn: ExecutionARN) {
        if var w = waiters[arn], !w.isEmpty {
            let next = w.removeFirst()
            waiters[arn] = w.isEmpty ? nil : w
            next.resume()  // ownership passes to the waiter
        } else {
            busy.remove(arn)
        }
    }

    // MARK: Steps

    func perform(_ arn: ExecutionARN, _ operation: StepOperation) async throws -> StepOutcome {
        await acquire(arn)
        defer { release(arn) }
        return try await step(arn, operation)
    }

    private func step(_ arn: ExecutionARN, _ operation: StepOperation) async throws -> StepOutcome {
        let now = core.clock.now()
        var entry: Entry
        var before: ExecutionState?
        var decision: Decision
        var kind: RuntimeHooks.StepKind
        var activityStarted: TaskToken? = nil
        switch operation {
        case .start(let plan):
            if let existing = try existingCached(arn, plan) { return existing }
            let context = core.context(arn, eventCount: 0, now: now, express: plan.isExpress)
            let (state, d) = ExecutionState.start(
                definition: plan.definition, info: plan.info, input: plan.record.input, context: context)
            entry = Entry(state: state, revisionId: plan.record.revisionId, isExpress: plan.isExpress, startDate: now, tick: 0)
            decision = d
            kind = .start
            before = nil
        case .signal(let signal, let k):
            entry = try await load(arn)
            before = entry.state
            let context = core.context(arn, eventCount: Int(entry.state.lastEventID), now: now, express: entry.isExpress)
            do {
                decision = try entry.state.deliver(signal, context)
            } catch {
                throw Self.map(error)
            }
            kind = k
            if case .activityStarted(let token, _) = signal {
                guard decision.events.contains(where: { $0.type == .activityStarted }) else {
                    // Already taken: the worker must not get it.
                    throw ServiceError.taskTimedOut
                }
                activityStarted = token
            }
        case .redrive:
            let old = try await load(arn)
            guard !old.isExpress else { throw ServiceError.executionNotRedrivable("Express executions cannot be redriven") }
            try Self.checkRedrivable(old.state, now: now)
            let info = old.state.info
            var redriven = ExecutionState(definition: old.state.definition, info: ExecutionInfo(
                executionArn: info.executionArn, name: info.name, stateMachineArn: info.stateMachineArn,
                stateMachineName: info.stateMachineName, roleArn: info.roleArn, type: info.type, region: info.region,
                account: info.account, stateMachineVersionArn: info.stateMachineVersionArn,
                stateMachineAliasArn: info.stateMachineAliasArn, redriveCount: info.redriveCount + 1, redriveTime: now))
            let events: [HistoryEvent]
            do {
                events = try await core.store.history(executionArn: arn, fromSequence: 0)
            } catch {
                throw Self.map(error)
            }
            for e in events { redriven.apply(e) }
            before = redriven
            entry = old
            entry.state = redriven
            decision = entry.state.redrive(core.context(arn, eventCount: Int(redriven.lastEventID), now: now))
            kind = .redrive
        case .advance:
            guard let loaded = try await loadIfRunning(arn) else {
                return StepOutcome(startDate: 0, status: .succeeded, events: [])
            }
            entry = loaded
            before = entry.state
            decision = entry.state.advance(core.context(arn, eventCount: Int(entry.state.lastEventID), now: now, express: entry.isExpress))
            kind = .timer
        }
        let presubmitted = presubmit(&entry.state, &decision, arn: arn, now: now)
        if decision.events.isEmpty {
            remember(arn, entry)
            return StepOutcome(startDate: entry.startDate, status: entry.state.status, stopDate: entry.state.stopTime, events: [])
        }
        let stepKind: StepRecord.Kind
        if case .start(let plan) = operation { stepKind = .start(plan.record) } else { stepKind = .update }
        var effects = StepBuilder.build(kind: stepKind, arn: arn, before: before, after: entry.state, decision: decision,
                                        now: now, activityStartedToken: activityStarted, presubmitted: presubmitted,
                                        statusTopic: entry.isExpress ? nil : core.configuration.statusEventsTopic,
                                        isDurable: !entry.isExpress)
        if case .redrive = operation {
            effects.step.redrive = RedriveUpdate(count: entry.state.info.redriveCount, date: now)
        }
        if entry.isExpress {
            remember(arn, entry)
            core.expressTasks(opened: effects.step.tasksOpened.map(\.token), closed: effects.step.tasksClosed, arn: arn)
            core.afterStep(arn, effects: effects, outboxIDs: [], express: true)
        } else {
            let ids: [Int64]
            do {
                if effects.step.tasksOpened.contains(where: { $0.activityArn != nil }) { try await core.keyActivityTasks(&effects.step) }
                ids = try await core.committer.commit(
                    effects.step, running: RuntimeCore.runningChange(from: before?.status, to: entry.state.status))
                try core.hooks.afterCommit(kind, arn)
            } catch StoreError.alreadyExists(_) where kind == .start {
                // The name is taken (the cache did not know it): idempotent start or conflict.
                forget(arn)
                guard case .start(let plan) = operation else { throw ServiceError.executionAlreadyExists(arn) }
                return try await existingStored(arn, plan)
            } catch {
                forget(arn)
                throw Self.map(error)
            }
            effects.step.outbox = []  // not needed past this point
            remember(arn, entry)
            core.afterStep(arn, effects: effects, outboxIDs: ids, express: false)
        }
        RuntimeMetrics.record(decision, express: entry.isExpress)
        return StepOutcome(startDate: entry.startDate, status: entry.state.status, stopDate: entry.state.stopTime,
                           events: decision.events, output: entry.state.output, error: entry.state.error)
    }

    /// Records TaskSubmitted in this step for the tasks whose submission the dispatcher
    /// answers itself (Kafka publishes waiting for a callback), and returns the records that
    /// carry them, by token, for this step's outbox: one step, one commit and one relay round
    /// trip less per callback task than reporting it after the relay; still durable before
    /// the request leaves, as AWS's order (TaskSubmitted, then the callback) needs; and the
    /// ids in TaskSubmitted's output are the ones the records carry (planned once).
    private func presubmit(_ state: inout ExecutionState, _ decision: inout Decision, arn: ExecutionARN, now: Int64) -> [TaskToken: [OutboundRecord]] {
        var records: [TaskToken: [OutboundRecord]] = [:]
        for command in decision.commands {
            guard case .dispatchTask(let request) = command,
                let presubmission = core.dispatcher.presubmission(for: request, now: now) else { continue }
            let context = core.context(arn, eventCount: Int(state.lastEventID), now: now, express: state.info.type == .express)
            // A task that the same decision already closed has nothing to submit.
            guard let submitted = try? state.deliver(.taskSubmitted(token: request.token, output: presubmission.output), context) else {
                continue
            }
            decision.events += submitted.events
            decision.commands += submitted.commands
            records[request.token] = presubmission.records
        }
        return records
    }

    /// AWS behaviour: only FAILED, TIMED_OUT and ABORTED executions are redrivable, for 14
    /// days after they stopped, at most 1,000 times.
    static func checkRedrivable(_ state: ExecutionState, now: Int64) throws {
        switch state.status {
        case .running, .succeeded, .pendingRedrive:
            throw ServiceError.executionNotRedrivable("Execution is \(state.status.rawValue) and cannot be redriven")
        default: break
        }
        if let stop = state.stopTime, now - stop > 14 * 86_400_000 {
            throw ServiceError.executionNotRedrivable("Execution can no longer be redriven: it stopped more than 14 days ago")
        }
        guard state.info.redriveCount < 1000 else {
            throw ServiceError.executionNotRedrivable("Execution has reached the maximum redrive count of 1000")
        }
        guard state.canRedrive else {
            throw ServiceError.executionNotRedrivable("Execution has no state to redrive from")
        }
    }

    /// Idempotent start: the execution exists with the same input and still runs → the
    /// same execution; otherwise ExecutionAlreadyExists. The cache answers for executions
    /// it holds; for the others the store's unique ARN refuses the start step, and
    /// `existingStored` decides (no read on the path of a new start).
    private func existingCached(_ arn: ExecutionARN, _ plan: StartPlan) throws -> StepOutcome? {
        guard !plan.isExpress, let e = entries[arn] else { return nil }
        return try Self.idempotent(arn, e.state.status, e.state.input, e.startDate, plan)
    }

    private func existingStored(_ arn: ExecutionARN, _ plan: StartPlan) async throws -> StepOutcome {
        let found: ExecutionRecord?
        do {
            found = try await core.store.execution(arn: arn)
        } catch {
            throw Self.map(error)
        }
        guard let found else { throw ServiceError.executionAlreadyExists(arn) }
        if let why = found.unreadable { throw ServiceError(.kmsInvalidState, why) }
        return try Self.idempotent(arn, found.status, found.input, found.startDate, plan)
    }

    private static func idempotent(_ arn: ExecutionARN, _ status: ExecutionStatus, _ input: JSON, _ startDate: Int64,
                                   _ plan: StartPlan) throws -> StepOutcome
    {
        // AWS behaviour: same name and input while RUNNING returns the running execution.
        if status == .running, input == plan.record.input {
            return StepOutcome(startDate: startDate, status: status, events: [], existing: true)
        }
        throw ServiceError.executionAlreadyExists(arn)
    }

    private func load(_ arn: ExecutionARN) async throws -> Entry {
        if let e = express[arn] ?? entries[arn] { return e }
        let loaded: (ExecutionRecord, [HistoryEvent])?
        do {
            loaded = try await core.store.loadExecution(arn: arn)
        } catch {
            throw Self.map(error)
        }
        guard let (record, events) = loaded else { throw ServiceError.executionDoesNotExist(arn) }
        let definition = try await core.definitions.definition(revisionId: record.revisionId, type: record.type)
        var state = ExecutionState(definition: definition, info: core.info(record))
        for e in events { state.apply(e) }
        guard state.appliedCount == record.eventCount else {
            throw ServiceError.internalError("\(arn): \(state.appliedCount) events replayed, \(record.eventCount) recorded")
        }
        return Entry(state: state, revisionId: record.revisionId, isExpress: false, startDate: record.startDate, tick: 0)
    }

    private func loadIfRunning(_ arn: ExecutionARN) async throws -> Entry? {
        if let e = express[arn] ?? entries[arn] { return e.state.status == .running ? e : nil }
        do {
            guard let record = try await core.store.execution(arn: arn), record.status == .running else { return nil }
        } catch {
            throw Self.map(error)
        }
        return try await load(arn)
    }

    // MARK: Cache

    private func remember(_ arn: ExecutionARN, _ entry: Entry) {
        if entry.isExpress {
            if entry.state.status.isTerminal {
                express[arn] = nil
                core.completions.finish(arn, entry.state)
            } else {
                express[arn] = entry
            }
            return
        }
        if entry.state.status.isTerminal {
            entries[arn] = nil
            return
        }
        tick += 1
        var e = entry
        e.tick = tick
        entries[arn] = e
        recency.append((arn, tick))
        evict()
    }

    private func forget(_ arn: ExecutionARN) { entries[arn] = nil }

    /// Least recently used first; entries touched since are skipped (their recency record
    /// is stale), busy ones go to the back.
    private func evict() {
        while entries.count > capacity, recencyHead < recency.count {
            let (arn, t) = recency[recencyHead]
            recencyHead += 1
            guard let e = entries[arn], e.tick == t else { continue }
            if busy.contains(arn) {
                recency.append((arn, t))
                continue
            }
            entries[arn] = nil
        }
        if recencyHead > 1024, recencyHead * 2 > recency.count {
            recency.removeFirst(recencyHead)
            recencyHead = 0
        }
        if recency.count > capacity * 4 + 1024 { compactRecency() }
    }

    private func compactRecency() {
        recency = recency[recencyHead...].filter { entries[$0.0]?.tick == $0.1 }
        recencyHead = 0
    }

    static func map(_ error: any Error) -> any Error {
        switch error {
        case let e as ServiceError: return e
        case let e as SignalError:
            switch e {
            case .executionClosed, .taskDoesNotExist: return ServiceError.taskTimedOut
            case .invalidOutput(let m): return ServiceError(.invalidOutput, m)
            }
        case let e as StoreError:
            switch e {
            // A step's key is its execution's ARN.
            case .alreadyExists(let k): return ServiceError.executionAlreadyExists(ExecutionARN(k))
            case .diskFull(let m), .notWritable(let m): return ServiceError.storage(m)
            // AWS behaviour: data whose KMS key is unusable (disabled, deleted) answers
            // KmsInvalidStateException; here the key is not configured, or not the one.
            case .encryption(let m): return ServiceError(.kmsInvalidState, m)
            case .closed: return ServiceError.shuttingDown
            default: return ServiceError.internalError("store: \(e)")
            }
        default:
            return error
        }
    }
}
