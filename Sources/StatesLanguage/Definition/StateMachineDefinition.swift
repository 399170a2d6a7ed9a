/// The query language of a state (ASL `QueryLanguage`).
public enum QueryLanguage: String, Sendable, Hashable {
    case jsonPath = "JSONPath"
    case jsonata = "JSONata"
}

/// A parsed and validated state machine definition.
///
/// States of every block (the top level, each Parallel branch, each Map item processor)
/// live in one flat table, `states`, so that the engine names a state by its index
/// (`StateID`) rather than by its name: names repeat between blocks.
public final class StateMachineDefinition: Sendable {
    /// The definition as given, for DescribeStateMachine.
    public let source: JSON
    public let comment: String?
    public let version: String?
    /// The execution's `TimeoutSeconds`; nil when absent.
    public let timeoutSeconds: Int64?
    public let queryLanguage: QueryLanguage
    /// Every state; `states[i].id == i`.
    public let states: [State]
    /// Every block; `blocks[0]` is the top level.
    public let blocks: [StateBlock]

    public var root: StateBlock { blocks[0] }

    init(source: JSON, comment: String?, version: String?, timeoutSeconds: Int64?, queryLanguage: QueryLanguage,
         states: [State], blocks: [StateBlock])
    {
        self.source = source
        self.comment = comment
        self.version = version
        self.timeoutSeconds = timeoutSeconds
        self.queryLanguage = queryLanguage
        self.states = states
        self.blocks = blocks
    }

    public subscript(id: StateID) -> State { states[id.rawValue] }

    /// The state named `name` in `block`.
    public func state(named name: String, in block: BlockID) -> State? {
        blocks[block.rawValue].stateIDs[name].map { states[$0.rawValue] }
    }
}

/// Index of a state in `StateMachineDefinition.states`.
public struct StateID: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: StateID, b: StateID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// Index of a block in `StateMachineDefinition.blocks`.
public struct BlockID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let root = BlockID(rawValue: 0)
    public var description: String { "block \(rawValue)" }
}

/// A `{StartAt, States}` object: the top level, a Parallel branch, or a Map item processor.
public struct StateBlock: Sendable {
    public let id: BlockID
    public let startAt: StateID
    /// State names in definition order.
    public let stateNames: [String]
    public let stateIDs: [String: StateID]
    /// The Parallel or Map state that owns this block; nil for the top level.
    public let owner: StateID?
    public let location: DefinitionLocation
}
