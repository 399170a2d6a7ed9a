import StatesLanguage
import Synchronization

/// What the decider reads of a definition's states at every step, taken out of them once
/// per definition.
///
/// Reading the payload of `State.Kind` copies the whole enum (a few hundred bytes) and its
/// fields; a loop that runs a Pass or a Choice state thousands of times read it thousands
/// of times. The plan holds those payloads by state id.
final class DefinitionPlan: Sendable {
    struct StatePlan: Sendable {
        /// A Pass state's `Result`.
        var passResult: JSON?
        /// A Choice state's rules (nil for other states).
        var choice: ChoiceState?
        /// The number of the state's retriers.
        var retrierCount = 0
        /// What entering the state emits: its `...StateEntered` type and name, and whether
        /// the event needs a note (Wait, Fail).
        var enteredType: HistoryEventType = .passStateEntered
        var name = ""
        var entryNeedsNote = false
    }

    let states: ContiguousArray<StatePlan>
    /// The definition's states by id (`StateMachineDefinition`'s subscript is a call into
    /// another module, made several times per step).
    private let stateObjects: ContiguousArray<State>

    init(_ definition: StateMachineDefinition) {
        stateObjects = ContiguousArray(definition.states)
        states = ContiguousArray(definition.states.map { state in
            var plan = StatePlan()
            switch state.kind {
            case .pass(let p): plan.passResult = p.result
            case .choice(let c): plan.choice = c
            case .wait, .fail: plan.entryNeedsNote = true
            default: break
            }
            plan.retrierCount = state.retriers.count
            plan.enteredType = .stateEntered(of: state)
            plan.name = state.name
            return plan
        })
    }

    @inline(__always) subscript(id: StateID) -> State { stateObjects[id.rawValue] }
    @inline(__always) func passResult(_ id: StateID) -> JSON? { states[id.rawValue].passResult }
    @inline(__always) func choice(_ id: StateID) -> ChoiceState? { states[id.rawValue].choice }
    @inline(__always) func retrierCount(_ id: StateID) -> Int { states[id.rawValue].retrierCount }
    @inline(__always) func entry(_ id: StateID) -> (type: HistoryEventType, name: String, needsNote: Bool) {
        (states[id.rawValue].enteredType, states[id.rawValue].name, states[id.rawValue].entryNeedsNote)
    }

    /// The plan of `definition`, made the first time an execution of that definition
    /// object starts.
    static func of(_ definition: StateMachineDefinition) -> DefinitionPlan {
        let key = ObjectIdentifier(definition)
        if let plan = cache.withLock({ $0[key]?.plan(for: definition) }) { return plan }
        let plan = DefinitionPlan(definition)
        cache.withLock { entries in
            if entries.count >= 64 { entries = entries.filter { $0.value.definition != nil } }
            entries[key] = CacheEntry(definition: definition, plan: plan)
        }
        return plan
    }

    private struct CacheEntry {
        /// Weak, so that the cache keeps no definition alive; an entry whose definition is
        /// gone is replaced by the next definition that gets the same identifier.
        weak var definition: StateMachineDefinition?
        let plan: DefinitionPlan

        func plan(for d: StateMachineDefinition) -> DefinitionPlan? { definition === d ? plan : nil }
    }

    private static let cache = Mutex<[ObjectIdentifier: CacheEntry]>([:])
}
