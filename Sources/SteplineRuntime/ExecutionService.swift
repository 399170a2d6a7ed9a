import Logging
import StatesEngine
import StatesLanguage
import StatesStore
import Synchronization
import ControlPlane

/// The executor: starts, steps, stops and describes executions.
///
/// STANDARD executions are durable: every step (the engine's events, the new row, the
/// task requests) is written in one group commit before anything follows from it: the
/// caller's answer, the timer, the task requests leaving through the outbox. EXPRESS
/// executions run in memory only (at-least-once: they do not survive a restart).
///
/// Executions are spread over shards by ARN; one step of an execution runs at a time,
/// many executions step in parallel.
public final class ExecutionService: TaskReplySink, Sendable {
    public struct StartRequest: Sendable {
        /// A state machine, or one of its versions or aliases.
        public var stateMachineArn: StateMachineARN
        public var name: String?
        /// The input as JSON text (nil: `{}`).
        public var input: String?
        public var traceHeader: String?

        public init(stateMachineArn: StateMachineARN, name: String? = nil, input: String? = nil, traceHeader: String? = nil) {
            self.stateMachineArn = stateMachineArn
            self.name = name
            self.input = input
            self.traceHeader = traceHeader
        }
    }

    public struct Started: Sendable, Equatable {
        public var executionArn: ExecutionARN
        /// Milliseconds since the epoch.
        public var startDate: Int64
        /// For EXPRESS (sync callers) and tests: the status right after the start step.
        public var status: ExecutionStatus
    }

    public struct HistoryPage: Sendable {
        public var events: [HistoryEvent]
        public var nextToken: String?
    }

    let core: RuntimeCore
    private let shards: [ExecutionShard]
    public let resources: ResourceService
    private let accepting: Atomic<Bool>
    /// Names and ARN suffixes.
    private let random = RandomSource.system

    public var committer: GroupCommitter { core.committer }
    public var timers: TimerService { core.timers }
    public var relay: OutboxRelay { core.relay }
    public var store: any StatesStore { core.store }

    /// Builds the executor and its services (not started: see `SteplineRuntime`).
    public init(store: any StatesStore, dispatcher: any TaskDispatcher, configuration: RuntimeConfiguration = .init(),
                clock: any RuntimeClock = SystemClock(), hooks: RuntimeHooks = .init(),
                logger: Logger = Logger(label: "stepline.runtime"))
    {
        let committer = GroupCommitter(store: store, maxBatchSteps: configuration.maxBatchSteps)
        let definitions = DefinitionCache(store: store)
        let timers = TimerService(store: store, clock: clock, horizonSeconds: configuration.timerHorizonSeconds, logger: logger)
        let relay = OutboxRelay(dispatcher: dispatcher, committer: committer, store: store, hooks: hooks,
                                concurrency: configuration.relayConcurrency, logger: logger)
        let core = RuntimeCore(store: store, committer: committer, definitions: definitions, clock: clock,
                               configuration: configuration, hooks: hooks, timers: timers, relay: relay,
                               dispatcher: dispatcher, logger: logger)
        self.core = core
        let n = max(1, configuration.shards)
        shards = (0..<n).map { _ in ExecutionShard(core: core, capacity: configuration.cacheCapacity / n) }
        resources = ResourceService(store: store, definitions: definitions, clock: clock, configuration: configuration,
                                    activityKeys: core.activityKeys)
        accepting = Atomic(true)
        timers.setHandler { [weak self] arn in await self?.fireTimer(arn) }
    }

    func shard(_ arn: ExecutionARN) -> ExecutionShard {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in arn.rawValue.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return shards[Int(h % UInt64(shards.count))]
    }

    /// Stops taking new work (StartExecution, task answers): shutdown.
    public func stopAccepting() { accepting.store(false, ordering: .releasing) }

    private func checkAccepting() throws {
        guard accepting.load(ordering: .acquiring) else { throw ServiceError.shuttingDown }
    }

    // MARK: StartExecution

    /// Starts an execution, idempotent by name.
    ///
    /// - Returns: the execution's ARN and start date; for a name already RUNNING with the
    ///   same input, the running execution's.
    /// - Throws: `ServiceError` (AWS's): StateMachineDoesNotExist, InvalidArn, InvalidName,
    ///   InvalidExecutionInput, ExecutionAlreadyExists, ServiceUnavailable (store cannot write).
    public func startExecution(_ request: StartRequest) async throws -> Started {
        try await start(request, sync: false).started
    }

    /// What StartSyncExecution returns: the execution as it ended.
    public struct SyncResult: Sendable {
        public var started: Started
        public var name: String
        public var stateMachineArn: StateMachineARN
        public var input: JSON
        public var status: ExecutionStatus
        public var output: JSON?
        public var error: String?
        public var cause: String?
        /// Milliseconds since the epoch.
        public var stopDate: Int64
    }

    /// StartSyncExecution: runs an EXPRESS execution and waits for its end.
    /// - Throws: StateMachineTypeNotSupported for a STANDARD machine, and StartExecution's errors.
    public func startSyncExecution(_ request: StartRequest) async throws -> SyncResult {
        let (started, outcome, name, machineArn, input) = try await start(request, sync: true)
        guard let outcome else { throw ServiceError.internalError("sync execution without an outcome") }
        let err = outcome.error
        return SyncResult(started: started, name: name, stateMachineArn: machineArn, input: input, status: outcome.status,
                          output: outcome.output, error: err.flatMap { $0.name.isEmpty ? nil : $0.name }, cause: err?.cause,
                          stopDate: outcome.stopDate ?? core.clock.now())
    }

    private func start(_ request: StartRequest, sync: Bool) async throws
        -> (started: Started, outcome: ExpressCompletions.Outcome?, name: String, machineArn: StateMachineARN, input: JSON)
    {
        try checkAccepting()
        let target = try await resources.startTarget(request.stateMachineArn, draw: Int(self.random.next() % 100))
        let machine = target.machine
        let isExpress = machine.type == "EXPRESS"
        if sync, !isExpress {
            throw ServiceError(.stateMachineTypeNotSupported, "This operation is not supported by this type of state machine")
        }
        let name: String
        if let given = request.name {
            try Validation.name(given)
            name = given
        } else {
            name = random.uuidString()  // valid by construction: hex digits and dashes
        }
        let inputText = request.input ?? "{}"
        guard inputText.utf8.count <= payloadSizeLimit else {
            throw ServiceError(.invalidExecutionInput, "Invalid Input: 'The input exceeds the maximum size of 262144 bytes'")
        }
        let input: JSON
        do {
            input = try JSON.parse(inputText)
        } catch {
            throw ServiceError(.invalidExecutionInput, "Invalid Input: '\(error.message)'")
        }
        let cfg = core.configuration
        let machineName = machine.name
        let arn = ExecutionARN(ARNs.execution(region: cfg.region, account: cfg.account, machine: machineName, name: name,
                                              expressID: isExpress ? random.uuidString() : nil))
        // The key is the execution's from now on (EXPRESS executions are not stored, but a
        // machine whose key is gone starts nothing).
        let sealingKey = try cfg.encryption.sealingKey(for: machine.encryptionConfiguration, region: cfg.region, account: cfg.account)
        let record = ExecutionRecord(
            arn: arn, stateMachineArn: machine.arn, name: name, type: machine.type,
            revisionId: machine.revisionId, input: input, startDate: core.clock.now(), roleArn: machine.roleArn,
            traceHeader: request.traceHeader, stateMachineVersionArn: target.versionArn, stateMachineAliasArn: target.aliasArn,
            sealingKey: isExpress ? nil : sealingKey)
        let info = ExecutionInfo(
            executionArn: arn.rawValue, name: name, stateMachineArn: machine.arn.rawValue, stateMachineName: machineName,
            roleArn: machine.roleArn, type: isExpress ? .express : .standard, region: cfg.region, account: cfg.account,
            stateMachineVersionArn: target.versionArn?.rawValue, stateMachineAliasArn: target.aliasArn?.rawValue)
        if sync { core.completions.expect(arn) }
        let outcome: StepOutcome
        do {
            outcome = try await shard(arn).perform(
                arn, .start(StartPlan(record: record, definition: target.definition, info: info, isExpress: isExpress)))
        } catch {
            if sync { core.completions.cancel(arn) }
            throw error
        }
        let started = Started(executionArn: arn, startDate: outcome.startDate, status: outcome.status)
        guard sync else { return (started, nil, name, machine.arn, input) }
        let ended: ExpressCompletions.Outcome
        if outcome.status.isTerminal {
            core.completions.cancel(arn)
            ended = .init(status: outcome.status, output: outcome.output, error: outcome.error, stopDate: outcome.stopDate)
        } else {
            ended = await core.completions.wait(arn)
        }
        return (started, ended, name, machine.arn, input)
    }

    // MARK: RedriveExecution

    /// Restarts a FAILED, TIMED_OUT or ABORTED STANDARD execution from the state where it
    /// stopped (`ExecutionRedriven`).
    /// - Returns: the redrive date.
    /// - Throws: ExecutionDoesNotExist, ExecutionNotRedrivable, InvalidArn.
    public func redriveExecution(executionArn arn: ExecutionARN) async throws -> Int64 {
        try checkAccepting()
        try Validation.executionArn(arn)
        if ARNs.parse(arn.rawValue)?.type == "express" {
            throw ServiceError.executionNotRedrivable("Express executions cannot be redriven")
        }
        let outcome = try await shard(arn).perform(arn, .redrive)
        return outcome.events.first?.timestamp ?? core.clock.now()
    }

    // MARK: StopExecution

    /// Aborts a running execution (`ExecutionAborted`, tasks cancelled).
    /// - Returns: the stop date.
    /// - Throws: ExecutionDoesNotExist, InvalidArn.
    public func stopExecution(executionArn arn: ExecutionARN, error: String?, cause: String?) async throws -> Int64 {
        try checkAccepting()
        try Validation.executionArn(arn)
        do {
            let outcome = try await shard(arn).perform(arn, .signal(.stop(error: error, cause: cause), .stop))
            return outcome.stopDate ?? core.clock.now()
        } catch let e as ServiceError where e == .taskTimedOut {
            // AWS behaviour: stopping an execution that already ended is not an error.
            guard let r = try await describeRecord(arn) else { throw ServiceError.executionDoesNotExist(arn) }
            return r.stopDate ?? core.clock.now()
        }
    }

    // MARK: Task answers

    /// SendTaskSuccess: `output` is the JSON text the caller sent.
    ///
    /// AWS behaviour: the output's limit is 256 KiB of UTF-8 (the API reference counts this
    /// member in bytes); over it the call fails with a ValidationException and the task
    /// keeps waiting.
    public func sendTaskSuccess(taskToken: TaskToken, output: String) async throws {
        guard output.utf8.count <= payloadSizeLimit else { throw ServiceError.taskOutputTooLarge }
        let value: JSON
        do {
            value = try JSON.parse(output)
        } catch {
            throw ServiceError(.invalidOutput, "Invalid Output: '\(error.message)'")
        }
        try await taskSucceeded(token: taskToken, output: value)
    }

    public func taskSucceeded(token: TaskToken, output: JSON) async throws {
        try await signal(token, .taskSucceeded(token: token, output: output), .taskSucceeded)
    }

    public func taskFailed(token: TaskToken, error: String?, cause: String?) async throws {
        try await signal(token, .taskFailed(token: token, error: error, cause: cause), .taskFailed)
    }

    public func taskHeartbeat(token: TaskToken) async throws {
        try await signal(token, .taskHeartbeat(token: token), .taskHeartbeat)
    }

    /// A `.waitForTaskToken`/`.sync` request was delivered: `TaskSubmitted` with the integration's response.
    public func taskSubmitted(token: TaskToken, output: JSON) async throws {
        try await signal(token, .taskSubmitted(token: token, output: output), .taskSubmitted)
    }

    public func activityStarted(token: TaskToken, workerName: String?) async throws -> Bool {
        do {
            try await signal(token, .activityStarted(token: token, workerName: workerName), .activityStarted)
            return true
        } catch let e as ServiceError where e == .taskTimedOut || e == .taskDoesNotExist {
            return false
        }
    }

    private func signal(_ taskToken: TaskToken, _ signal: ExecutionSignal, _ kind: RuntimeHooks.StepKind) async throws {
        try checkAccepting()
        guard !taskToken.rawValue.isEmpty, taskToken.rawValue.utf8.count <= 2048 else { throw ServiceError.invalidToken }
        let arn: ExecutionARN
        if let a = core.openTaskExecution(token: taskToken) {
            arn = a
        } else {
            let task: TaskRecord?
            do {
                task = try await core.store.task(token: taskToken)
            } catch {
                throw ExecutionShard.map(error)
            }
            guard let task else {
                // AWS behaviour: a token that is not one of ours is InvalidToken; one of
                // ours that no task holds is TaskDoesNotExist.
                throw Self.looksLikeToken(taskToken) ? ServiceError.taskDoesNotExist : ServiceError.invalidToken
            }
            guard task.status == .open else { throw ServiceError.taskTimedOut }
            arn = task.executionArn
        }
        _ = try await shard(arn).perform(arn, .signal(signal, kind))
    }

    static func looksLikeToken(_ token: TaskToken) -> Bool {
        token.rawValue.utf8.count == 88 && token.rawValue.hasPrefix("AQB")
    }

    // MARK: Timers

    /// Fires an execution's timer (the timer service calls this).
    public func fireTimer(_ arn: ExecutionARN) async {
        do {
            _ = try await shard(arn).perform(arn, .advance)
        } catch let e as ServiceError where e.code == .kmsInvalidState {
            // Its key is not configured: nothing changes that before a restart with the key.
            core.logger.error("timer step failed: the execution's data cannot be decrypted; retrying in 60 s",
                              metadata: ["execution": "\(arn)", "error": "\(e.message)"])
            core.timers.schedule(arn, due: core.clock.now() + 60_000)
        } catch {
            core.logger.warning("timer step failed; retrying in 1 s", metadata: ["execution": "\(arn)", "error": "\(error)"])
            core.timers.schedule(arn, due: core.clock.now() + 1000)
        }
    }

    // MARK: Reading

    private func describeRecord(_ arn: ExecutionARN) async throws -> ExecutionRecord? {
        do {
            return try await core.store.execution(arn: arn)
        } catch {
            throw ExecutionShard.map(error)
        }
    }

    /// DescribeExecution.
    /// - Throws: `KmsInvalidStateException` when the execution's data cannot be decrypted.
    public func describeExecution(executionArn arn: ExecutionARN) async throws -> ExecutionRecord {
        try Validation.executionArn(arn)
        guard let r = try await describeRecord(arn) else { throw ServiceError.executionDoesNotExist(arn) }
        if let why = r.unreadable { throw ServiceError(.kmsInvalidState, why) }
        return r
    }

    /// GetExecutionHistory: AWS events only, `maxResults` per page (default 100, at most 1000).
    public func getExecutionHistory(executionArn arn: ExecutionARN, maxResults: Int?, nextToken: String?,
                                    reverseOrder: Bool) async throws -> HistoryPage
    {
        try Validation.executionArn(arn)
        let all: [HistoryEvent]
        do {
            all = try await core.store.history(executionArn: arn, fromSequence: 0).filter { !$0.isInternal }
        } catch StoreError.notFound {
            throw ServiceError.executionDoesNotExist(arn)
        } catch {
            throw ExecutionShard.map(error)
        }
        let events = reverseOrder ? Array(all.reversed()) : all
        let size = min(max(maxResults ?? 100, 1), 1000)
        var offset = 0
        if let nextToken {
            guard let o = PageToken.decode(nextToken, scope: arn.rawValue) else {
                throw ServiceError.invalidToken
            }
            offset = o
        }
        let end = min(events.count, offset + size)
        let page = offset < end ? Array(events[offset..<end]) : []
        return HistoryPage(events: page, nextToken: end < events.count ? PageToken.encode(end, scope: arn.rawValue) : nil)
    }

    /// ListExecutions, newest first.
    public func listExecutions(filter: ExecutionFilter, maxResults: Int?, nextToken: String?) async throws
        -> Page<ExecutionRecord>
    {
        do {
            return try await core.store.listExecutions(
                filter: filter, limit: min(max(maxResults ?? 100, 1), 1000), after: nextToken)
        } catch StoreError.invalidPageToken {
            throw ServiceError.invalidToken
        } catch {
            throw ExecutionShard.map(error)
        }
    }

    public func listExecutions(stateMachineArn: StateMachineARN?, status: ExecutionStatus?, maxResults: Int?,
                               nextToken: String?) async throws -> Page<ExecutionRecord>
    {
        do {
            return try await core.store.listExecutions(
                stateMachineArn: stateMachineArn, status: status, limit: min(max(maxResults ?? 100, 1), 1000),
                after: nextToken)
        } catch {
            throw ExecutionShard.map(error)
        }
    }

    // MARK: Introspection

    /// STANDARD executions running, as this process counts them: the store's count at
    /// recovery, then every durable step's change of status.
    public var runningExecutions: Int { core.committer.running.load(ordering: .relaxed) }

    /// Executions decoded in memory (cache) and EXPRESS executions running.
    public func cachedExecutionCount() async -> (standard: Int, express: Int) {
        var s = 0, e = 0
        for shard in shards {
            s += await shard.cachedCount
            e += await shard.expressCount
        }
        return (s, e)
    }
}

/// Opaque page tokens: an offset bound to what it pages.
enum PageToken {
    static func encode(_ offset: Int, scope: String) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in scope.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return "\(offset).\(String(h, radix: 36))"
    }

    static func decode(_ token: String, scope: String) -> Int? {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let offset = Int(parts[0]), offset >= 0, encode(offset, scope: scope) == token else { return nil }
        return offset
    }
}
