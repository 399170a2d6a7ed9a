/// A node of the JSONata syntax tree.
///
/// One class serves the parser's raw tree and the processed tree the evaluator walks, as in
/// jsonata-js (whose `processAST` rewrites `.`, `[`, `{`, `^`, `@`, `#` into paths with
/// steps, stages, groups and tuple flags). After compilation the tree is never mutated.
final class Node: @unchecked Sendable {
    // @unchecked: a compiled tree is immutable; only the parser mutates nodes it owns.
    enum Kind: UInt8 {
        case path, binary, unary, name, string, number, value, wildcard, descendant, parent
        case condition, block, bind, regex, function, partial, variable, lambda, apply, transform
        case sort, filter, index, placeholder, operatorToken, end
        // processed binary operators
        case arrayConstructor, objectConstructor, negate
    }

    enum BinaryOp: UInt8 {
        case add, subtract, multiply, divide, modulo
        case equal, notEqual, less, lessEqual, greater, greaterEqual
        case concat, range, includes, and, or
        case other
    }

    var kind: Kind
    /// Operator text, name, or variable name without `$`.
    var text: String
    var position: Int
    var op: BinaryOp = .other
    var literal: JValue?
    var regex: JSONataRegex?

    var lhs: Node?
    var rhs: Node?
    var expression: Node?
    var expressions: [Node] = []
    var steps: [Node] = []
    var predicate: [Node]?
    var stages: [Node]?
    var group: Group?
    var objectPairs: [(Node, Node)] = []
    var sortTerms: [(descending: Bool, expression: Node)] = []
    var condition: Node?
    var then: Node?
    var otherwise: Node?
    var procedure: Node?
    var arguments: [Node] = []
    var parameters: [String] = []
    var signature: Signature?
    var body: Node?
    var isThunk = false
    var pattern: Node?
    var update: Node?
    var delete: Node?

    var keepArray = false
    var keepSingletonArray = false
    var isConsArray = false
    var focus: String?
    var indexVariable: String?
    var isTuple = false
    var ancestor: Slot?
    var slot: Slot?
    var seekingParent: [Slot]?

    struct Group {
        var pairs: [(Node, Node)]
        var position: Int
    }

    init(_ kind: Kind, _ text: String = "", position: Int) {
        self.kind = kind
        self.text = text
        self.position = position
    }
}

/// A parent (`%`) reference waiting to be bound to the step it refers to.
final class Slot: @unchecked Sendable {
    // @unchecked: mutated only while parsing.
    var label: String
    var level: Int
    var index: Int
    init(label: String, level: Int, index: Int) {
        self.label = label
        self.level = level
        self.index = index
    }
}
