import StatesLanguage

/// An execution's state, derived from its history events by `apply(_:)`.
///
/// The same `apply` serves a live run (the decider applies each event it emits) and a
/// replay (a resumed execution applies its stored events): nothing here evaluates an
/// expression or reads a clock; everything comes from the events and their notes.
public struct ExecutionState: Sendable {
    public let definition: StateMachineDefinition
    public let info: ExecutionInfo
    public internal(set) var status: ExecutionStatus = .running
    public internal(set) var input: JSON = .null
    public internal(set) var output: JSON?
    public internal(set) var error: StatesError?
    public internal(set) var startTime: Int64 = 0
    public internal(set) var stopTime: Int64?
    /// Id of the last AWS event (internal events do not count).
    public internal(set) var lastEventID: Int64 = 0
    /// Count of events applied, internal ones included.
    public internal(set) var appliedCount: Int = 0
    /// The execution's deadline (definition `TimeoutSeconds`), in epoch milliseconds.
    public internal(set) var executionDeadline: Int64?

    var threads = ThreadTable()
    var nextThreadID: UInt32 = 1
    /// Ids of ended threads, reused (last freed first) so the thread table stays small.
    var freeThreadIDs: [UInt32] = []
    /// Open task tokens and the threads that wait on them.
    var tokens: [String: ThreadID] = [:]
    /// The top-level thread when the execution stopped unsuccessfully: where a redrive
    /// restarts (`Redrive/Redrive.swift`).
    var redrivePoint: ThreadState?

    public init(definition: StateMachineDefinition, info: ExecutionInfo) {
        self.definition = definition
        self.info = info
    }

    /// Open task tokens (tasks scheduled and not finished).
    public var openTaskTokens: [String] { Array(tokens.keys) }

    public func isOpenTask(_ token: String) -> Bool { tokens[token] != nil }

    /// The earliest time at which `advance` has something to do without outside input:
    /// a Wait, a retry backoff, a task or heartbeat timeout, or the execution timeout.
    public var nextDueTime: Int64? {
        guard status == .running else { return nil }
        var due = executionDeadline
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

    enum Phase: Sendable {
        /// Created; the first state is not entered yet. Root and Parallel branches know
        /// their input; Map iterations compute it from their item.
        case pending(input: JSON?)
        /// The current state was entered; the decider runs it.
        case entered
        /// A Wait state until the due time.
        case waiting(due: Int64)
        /// A task is out.
        case task(TaskWait)
        /// A Task, Parallel or Map produced its raw result.
        case result(JSON)
        /// A retrier delays the next attempt until the due time.
        case backoff(due: Int64)
        /// A Parallel or Map state runs its children.
        case children(Children)
        /// The current state failed; catchers or propagation decide what follows.
        case failed(StatesError)
        /// The current state exited with this output.
        case exited(JSON)
        /// The thread failed (no catcher); its parent handles it.
        case threadFailed(StatesError)
    }

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
        var running: [Int: ThreadID] = [:]
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

        var count: Int { results.count }
    }

    var isComplete: Bool {
        switch phase {
        case .threadFailed: return true
        default: return false
        }
    }
}

extension ThreadState.Phase {
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
/// one retain instead of a copy of the whole thread; `update` copies a box that another
/// `ExecutionState` value still shares, so the state keeps value semantics.
struct ThreadTable: Sendable {
    final class Box: @unchecked Sendable {
        // @unchecked: a box is mutated only through `update`, which first makes it unique
        // to the mutating table; a shared box is never written.
        var value: ThreadState
        init(_ value: ThreadState) { self.value = value }
    }

    private var slots: ContiguousArray<Box?> = []

    /// The thread's box, for reading fields without copying the thread. Don't keep it
    /// across a mutation of the table (it would force a copy).
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
    @discardableResult
    mutating func update<R>(_ id: ThreadID, _ body: (inout ThreadState) -> R) -> R? {
        let i = Int(id.rawValue)
        guard i < slots.count, slots[i] != nil else { return nil }
        if !isKnownUniquelyReferenced(&slots[i]!) { slots[i] = Box(slots[i]!.value) }
        return body(&slots[i]!.value)
    }

    @discardableResult
    mutating func removeValue(forKey id: ThreadID) -> ThreadState? {
        let i = Int(id.rawValue)
        guard i < slots.count, let b = slots[i] else { return nil }
        slots[i] = nil
        while let last = slots.last, last == nil { slots.removeLast() }
        return b.value
    }

    mutating func removeAll() { slots.removeAll() }

    var values: [ThreadState] { slots.compactMap { $0?.value } }
}
