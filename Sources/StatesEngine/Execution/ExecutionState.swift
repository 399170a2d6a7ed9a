import StatesLanguage

/// An execution's state, derived from its history events by `apply(_:)`.
///
/// The same `apply` serves a live run (the decider applies each event it emits) and a
/// replay (a resumed execution applies its stored events): nothing here evaluates an
/// expression or reads a clock; everything comes from the events and their notes.
///
/// The fields live in one `Core` object, copied by `apply` when another value still shares
/// it, so the state keeps value semantics. A value of a few hundred bytes was copied
/// (bitwise) at every call of a decider helper; the reference is passed instead.
public struct ExecutionState: Sendable {
    /// The execution's fields.
    final class Core: @unchecked Sendable {
        // @unchecked: a core is changed only by `ExecutionState.apply`, after making it
        // unique to the value being changed; a core that two values (or threads) can see is
        // never written.
        //
        // @exclusivity(unchecked) on the fields: each access is a read in one expression or
        // a write inside `apply`, and the writes never overlap a read of the same field (the
        // thread table's `update` body never reads the table), so the dynamic checks are not
        // needed.
        let definition: StateMachineDefinition
        let plan: DefinitionPlan
        let info: ExecutionInfo
        @exclusivity(unchecked) var status: ExecutionStatus = .running
        @exclusivity(unchecked) var input: JSON = .null
        @exclusivity(unchecked) var output: JSON?
        @exclusivity(unchecked) var error: StatesError?
        @exclusivity(unchecked) var startTime: Int64 = 0
        @exclusivity(unchecked) var stopTime: Int64?
        @exclusivity(unchecked) var lastEventID: Int64 = 0
        @exclusivity(unchecked) var appliedCount: Int = 0
        @exclusivity(unchecked) var executionDeadline: Int64?
        @exclusivity(unchecked) var threads = ThreadTable()
        @exclusivity(unchecked) var nextThreadID: UInt32 = 1
        /// Ids of ended threads, reused (last freed first) so the thread table stays small.
        @exclusivity(unchecked) var freeThreadIDs: [UInt32] = []
        /// Open task tokens and the threads that wait on them.
        @exclusivity(unchecked) var tokens: [String: ThreadID] = [:]
        /// Where the top-level thread stood when the execution stopped unsuccessfully, with
        /// its unsuccessful branches and iterations: what a redrive restarts
        /// (`Redrive/Redrive.swift`).
        @exclusivity(unchecked) var redrivePoint: RedriveNode?
        /// When the last call stopped with threads still runnable (`DecisionContext
        /// .yieldAfterEvents`): due at once. Not derived from events: EXPRESS only.
        @exclusivity(unchecked) var resumeDue: Int64?

        init(definition: StateMachineDefinition, plan: DefinitionPlan, info: ExecutionInfo) {
            self.definition = definition
            self.plan = plan
            self.info = info
        }

        /// A core with the same fields (the threads' boxes are shared until changed).
        func copy() -> Core {
            let c = Core(definition: definition, plan: plan, info: info)
            c.status = status
            c.input = input
            c.output = output
            c.error = error
            c.startTime = startTime
            c.stopTime = stopTime
            c.lastEventID = lastEventID
            c.appliedCount = appliedCount
            c.executionDeadline = executionDeadline
            c.threads = threads
            c.nextThreadID = nextThreadID
            c.freeThreadIDs = freeThreadIDs
            c.tokens = tokens
            c.redrivePoint = redrivePoint
            c.resumeDue = resumeDue
            return c
        }
    }

    private(set) var core: Core

    public var definition: StateMachineDefinition { core.definition }
    var plan: DefinitionPlan { core.plan }
    public var info: ExecutionInfo { core.info }
    public var status: ExecutionStatus { core.status }
    public var input: JSON { core.input }
    public var output: JSON? { core.output }
    public var error: StatesError? { core.error }
    public var startTime: Int64 { core.startTime }
    public var stopTime: Int64? { core.stopTime }
    /// Id of the last AWS event (internal events do not count).
    public var lastEventID: Int64 { core.lastEventID }
    /// Count of events applied, internal ones included.
    public var appliedCount: Int { core.appliedCount }
    /// The execution's deadline (definition `TimeoutSeconds`; for EXPRESS at most AWS's
    /// 5 minutes), in epoch milliseconds.
    public var executionDeadline: Int64? { core.executionDeadline }

    var threads: ThreadTable { _read { yield core.threads } }
    /// Open task tokens and the threads that wait on them.
    var tokens: [String: ThreadID] { _read { yield core.tokens } }
    /// Where a redrive restarts (`Redrive/Redrive.swift`).
    var redrivePoint: RedriveNode? { core.redrivePoint }

    public init(definition: StateMachineDefinition, info: ExecutionInfo) {
        core = Core(definition: definition, plan: DefinitionPlan.of(definition), info: info)
    }

    /// Makes the core unique to this value before a change.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&core) { core = core.copy() }
    }

    /// Open task tokens (tasks scheduled and not finished).
    public var openTaskTokens: [TaskToken] { tokens.keys.map(TaskToken.init) }

    public func isOpenTask(_ token: TaskToken) -> Bool { tokens[token.rawValue] != nil }

    /// The earliest time at which `advance` has something to do without outside input:
    /// a Wait, a retry backoff, a task or heartbeat timeout, or the execution timeout.
    public var nextDueTime: Int64? {
        guard status == .running else { return nil }
        var due = executionDeadline
        if let r = core.resumeDue { due = due.map { min($0, r) } ?? r }
        func consider(_ t: Int64?) {
            guard let t else { return }
            due = due.map { min($0, t) } ?? t
        }
        for thread in threads.values {
            switch thread.phase {
            case .waiting(let t), .backoff(let t): consider(t)
            case .task(let task):
                consider(task.timeoutDue)
                consider(task.heartbeatDue)
            default: break
            }
        }
        return due
    }
}

/// One branch of execution: the top level, a Parallel branch or a Map iteration.
struct ThreadState: Sendable {
    let id: ThreadID
    /// The thread that runs the Parallel or Map state owning this thread's block.
    let parent: ThreadID?
    /// Branch index (Parallel) or item index (Map).
    let index: Int
    let block: BlockID
    var state: StateID
    var phase: Phase
    /// Id of this thread's latest event; the default `previousEventId` of its next one.
    var cursor: Int64
    /// When the current state was entered (epoch ms), and the id of its StateEntered event.
    var enteredTime: Int64 = 0
    var enteredEventID: Int64 = 0
    /// The `previousEventId` of that StateEntered event.
    var enteredPreviousEventID: Int64 = 0
    /// The current state's raw input (its StateEntered input).
    var stateInput: JSON = .null
    /// Retries made per retrier of the current state.
    var retryCounts: [Int] = []
    var variables: Variables
    /// Map iterations: the item (for `$$.Map.Item.Value`).
    var item: JSON?
    /// Distributed Map children (and their descendants): their events are hidden.
    var hidden = false
    /// The children of the current Parallel or Map state when it failed or was aborted:
    /// what a redrive of this thread reruns (`Redrive/Redrive.swift`).
    var stoppedChildren: RedriveChildren?
    /// Set by a redrive: the children that the current Parallel or Map state restores when
    /// it starts, instead of starting all of them.
    var restoredChildren: RedriveChildren?

    enum Phase: Sendable {
        /// Created; the first state is not entered yet. Root and Parallel branches know
        /// their input; Map iterations compute it from their item.
        case pending(input: JSON?)
        /// The current state was entered; the decider runs it.
        case entered
        /// A Wait state until the due time.
        case waiting(due: Int64)
        /// A task is out.
        indirect case task(TaskWait)
        /// A Task, Parallel or Map produced its raw result.
        case result(JSON)
        /// A retrier delays the next attempt until the due time.
        case backoff(due: Int64)
        /// A Parallel or Map state runs its children.
        case children(ChildrenBox)
        /// The current state failed; catchers or propagation decide what follows.
        indirect case failed(StatesError)
        /// The current state exited with this output.
        case exited(JSON)
        /// The thread failed (no catcher); its parent handles it.
        indirect case threadFailed(StatesError)
    }
    // The large payloads are boxed, so that a phase (read at every step of the run loop and
    // written by most events) is a small value.

    struct TaskWait: Sendable {
        var token: String
        var resource: TaskResource
        var started: Bool
        /// TaskSubmitted was recorded (a duplicate delivery report records nothing).
        var submitted = false
        var timeoutDue: Int64?
        var heartbeatDue: Int64?
        var heartbeatSeconds: Int64?
        /// The state's effective input (after InputPath/Parameters), for ResultPath.
        var attempt: Int
    }

    struct Children: Sendable {
        enum Kind: Sendable {
            case parallel(input: JSON, branches: [BlockID])
            case map(items: [JSON], processor: BlockID, limits: MapLimits, input: JSON)
        }
        var kind: Kind
        var results: [JSON?]
        /// Children not finished, by index.
        var running = RunningChildren()
        /// Map: the next item index to start.
        var nextIndex = 0
        var succeeded = 0
        var failedCount = 0
        /// The first uncaught failure of a child, with that child's last event id.
        var failure: StatesError?
        var failureCursor: Int64?
        /// Distributed Map: the map run, once MapRunStarted; its iterations are child executions.
        var mapRunArn: String?
        var isDistributed = false
        /// Map: whether iterations build their input with an ItemSelector (else the input is
        /// the item).
        var hasItemSelector = false
        /// Distributed Map: times the map run was redriven.
        var mapRunRedriveCount = 0
        /// Map: where the iterations that failed or were aborted stood, by index (for a
        /// redrive).
        var stoppedIterations: [Int: RedriveNode] = [:]
        /// A redriven Map: the results kept and the iterations to rerun.
        var redrive: RedriveChildren?

        var count: Int { results.count }
    }

    /// The children of a thread, in a box that `modifyChildren` changes in place.
    final class ChildrenBox: @unchecked Sendable {
        // @unchecked: changed only by `modifyChildren`, which first makes the box unique to
        // the thread being changed; a shared box is never written.
        var value: Children
        init(_ value: Children) { self.value = value }
    }

    var isComplete: Bool {
        switch phase {
        case .threadFailed: return true
        default: return false
        }
    }

    /// Changes the children of a Parallel or Map thread in place; nil when it runs none.
    ///
    /// The children's box leaves `phase` while `body` runs, so that (unless another value
    /// still shares it) it is unique and changes without being copied.
    @inline(__always)
    mutating func modifyChildren<R>(_ body: (inout Children) -> R) -> R? {
        guard case .children(var box) = phase else { return nil }
        phase = .entered
        if !isKnownUniquelyReferenced(&box) { box = ChildrenBox(box.value) }
        defer { phase = .children(box) }
        return body(&box.value)
    }
}

/// The unfinished children of a Parallel or Map state, in index order.
///
/// Map iterations start in index order, so inserting is an append; a finished child is
/// removed from a short array of plain values.
struct RunningChildren: Sendable {
    private(set) var entries: ContiguousArray<(index: Int, thread: ThreadID)> = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// The child at `index`, if it is running.
    subscript(index: Int) -> ThreadID? {
        guard let p = position(of: index) else { return nil }
        return entries[p].thread
    }

    mutating func insert(_ thread: ThreadID, at index: Int) {
        var p = entries.count
        while p > 0, entries[p - 1].index >= index { p -= 1 }
        if p < entries.count, entries[p].index == index {
            entries[p].thread = thread
        } else {
            entries.insert((index, thread), at: p)
        }
    }

    mutating func remove(at index: Int) {
        if let p = position(of: index) { entries.remove(at: p) }
    }

    /// The child threads, in index order.
    var threads: [ThreadID] { entries.map(\.thread) }

    private func position(of index: Int) -> Int? {
        // Binary search: the entries are sorted by index.
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].index < index { lo = mid + 1 } else { hi = mid }
        }
        return lo < entries.count && entries[lo].index == index ? lo : nil
    }
}

extension ThreadState.Phase {
    var isRunningChildren: Bool {
        if case .children = self { return true }
        return false
    }

    var isBlocked: Bool {
        switch self {
        case .waiting, .task, .backoff, .children: true
        default: false
        }
    }
}

/// The threads of an execution, indexed by `ThreadID` without hashing. Ids are handed out
/// by `apply` (deterministic in replay) and reused, so the table stays dense.
///
/// Each thread lives in a box so that reading one field (`box(id)?.value.cursor`) costs
/// no copy of the thread; `update` copies a box that another `ExecutionState` value still
/// shares, so the state keeps value semantics.
///
/// - Important: Don't keep a box in a variable across a mutation of the table: the mutation
///   would find the box shared and copy the whole thread. Read fields in one expression
///   (`threads.box(id)?.value.phase`), or take a `StateFrame`.
struct ThreadTable: Sendable {
    final class Box: @unchecked Sendable {
        // @unchecked: a box is mutated only through `update`, which first makes it unique
        // to the mutating table; a shared box is never written.
        //
        // @exclusivity(unchecked): every access is either a read of a field in one
        // expression or the write inside `update`, whose body receives the thread inout
        // and never reads the table; no two accesses overlap, so the dynamic check (a
        // quarter of the cost of reading a field) is not needed.
        @exclusivity(unchecked) var value: ThreadState
        init(_ value: ThreadState) { self.value = value }
    }

    private var slots: ContiguousArray<Box?> = []

    /// The thread's box, for reading fields without copying the thread.
    @inline(__always) func box(_ id: ThreadID) -> Box? {
        let i = Int(id.rawValue)
        return i < slots.count ? slots[i] : nil
    }

    subscript(id: ThreadID) -> ThreadState? {
        get { box(id)?.value }
        set {
            let i = Int(id.rawValue)
            while i >= slots.count { slots.append(nil) }
            if let newValue {
                if slots[i] != nil, isKnownUniquelyReferenced(&slots[i]!) {
                    slots[i]!.value = newValue
                } else {
                    slots[i] = Box(newValue)
                }
            } else {
                slots[i] = nil
            }
        }
    }

    /// Changes a thread in place; nil when there is no such thread.
    ///
    /// - Important: `body` MUST NOT read the table (the thread's box is being written).
    @discardableResult
    @inline(__always)
    mutating func update<R>(_ id: ThreadID, _ body: (inout ThreadState) -> R) -> R? {
        let i = Int(id.rawValue)
        guard i < slots.count, slots[i] != nil else { return nil }
        if !isKnownUniquelyReferenced(&slots[i]!) { slots[i] = Box(slots[i]!.value) }
        return body(&slots[i]!.value)
    }

    /// Removes a thread; returns its last phase, nil when there is no such thread.
    mutating func remove(_ id: ThreadID) -> ThreadState.Phase? {
        let i = Int(id.rawValue)
        guard i < slots.count, let phase = slots[i]?.value.phase else { return nil }
        slots[i] = nil
        while let last = slots.last, last == nil { slots.removeLast() }
        return phase
    }

    mutating func removeAll() { slots.removeAll() }

    var values: [ThreadState] { slots.compactMap { $0?.value } }
}

/// What running a state reads of its thread: the state, its input, its variables and when
/// it was entered. Taken from the thread table when the state runs (a few retains, where a
/// copy of the whole `ThreadState` costs a dozen), so that no thread box is held while the
/// events the state emits are applied.
struct StateFrame {
    let id: ThreadID
    var state: StateID
    let parent: ThreadID?
    /// Branch index (Parallel) or item index (Map).
    let index: Int
    /// The current state's raw input (its StateEntered input).
    let stateInput: JSON
    let variables: Variables
    var enteredTime: Int64
    var enteredEventID: Int64
    let enteredPreviousEventID: Int64
    /// Retries made per retrier of the current state.
    var retryCounts: [Int]

    /// Reads the fields in place (a `ThreadState` argument would be copied out of the box).
    @inline(__always) init(_ box: ThreadTable.Box) {
        id = box.value.id
        state = box.value.state
        parent = box.value.parent
        index = box.value.index
        stateInput = box.value.stateInput
        variables = box.value.variables
        enteredTime = box.value.enteredTime
        enteredEventID = box.value.enteredEventID
        enteredPreviousEventID = box.value.enteredPreviousEventID
        retryCounts = box.value.retryCounts
    }
}

extension ExecutionState.Core {
    /// The frame of a thread's current state; nil when there is no such thread.
    @inline(__always) func frame(_ id: ThreadID) -> StateFrame? {
        guard let box = threads.box(id) else { return nil }
        return StateFrame(box)
    }

    /// A thread's phase, read without copying the thread.
    @inline(__always) func phase(_ id: ThreadID) -> ThreadState.Phase? {
        threads.box(id)?.value.phase
    }

    /// A thread's cursor (the id of its latest event).
    @inline(__always) func cursor(_ id: ThreadID) -> Int64? {
        threads.box(id)?.value.cursor
    }

    /// The children of a Parallel or Map thread, to read in place (don't keep the box across
    /// a change of the thread: the change would find it shared and copy it).
    @inline(__always) func children(_ id: ThreadID) -> ThreadState.ChildrenBox? {
        if case .children(let c)? = phase(id) { return c }
        return nil
    }
}

extension ExecutionState {
    @inline(__always) func frame(_ id: ThreadID) -> StateFrame? { core.frame(id) }
    @inline(__always) func phase(_ id: ThreadID) -> ThreadState.Phase? { core.phase(id) }
    @inline(__always) func cursor(_ id: ThreadID) -> Int64? { core.cursor(id) }
    @inline(__always) func children(_ id: ThreadID) -> ThreadState.ChildrenBox? { core.children(id) }
}
