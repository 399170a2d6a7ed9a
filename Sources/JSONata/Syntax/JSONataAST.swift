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

    @exclusivity(unchecked) var kind: Kind
    /// Operator text, name, or variable name without `$`.
    @exclusivity(unchecked) var text: String
    @exclusivity(unchecked) var position: Int
    @exclusivity(unchecked) var op: BinaryOp = .other
    @exclusivity(unchecked) var literal: JValue?
    @exclusivity(unchecked) var regex: JSONataRegex?

    @exclusivity(unchecked) var lhs: Node?
    @exclusivity(unchecked) var rhs: Node?
    @exclusivity(unchecked) var expression: Node?
    @exclusivity(unchecked) var expressions: [Node] = []
    @exclusivity(unchecked) var steps: [Node] = []
    @exclusivity(unchecked) var predicate: [Node]?
    @exclusivity(unchecked) var stages: [Node]?
    @exclusivity(unchecked) var group: Group?
    @exclusivity(unchecked) var objectPairs: [(Node, Node)] = []
    @exclusivity(unchecked) var sortTerms: [(descending: Bool, expression: Node)] = []
    @exclusivity(unchecked) var condition: Node?
    @exclusivity(unchecked) var then: Node?
    @exclusivity(unchecked) var otherwise: Node?
    @exclusivity(unchecked) var procedure: Node?
    @exclusivity(unchecked) var arguments: [Node] = []
    @exclusivity(unchecked) var parameters: [String] = []
    @exclusivity(unchecked) var signature: Signature?
    @exclusivity(unchecked) var body: Node?
    @exclusivity(unchecked) var isThunk = false
    @exclusivity(unchecked) var pattern: Node?
    @exclusivity(unchecked) var update: Node?
    @exclusivity(unchecked) var delete: Node?

    @exclusivity(unchecked) var keepArray = false
    @exclusivity(unchecked) var keepSingletonArray = false
    @exclusivity(unchecked) var isConsArray = false
    @exclusivity(unchecked) var focus: String?
    @exclusivity(unchecked) var indexVariable: String?
    @exclusivity(unchecked) var isTuple = false
    @exclusivity(unchecked) var ancestor: Slot?
    @exclusivity(unchecked) var slot: Slot?
    @exclusivity(unchecked) var seekingParent: [Slot]?
    /// Height of the parser's raw tree under this node (a leaf is 1), kept so that the
    /// parser can refuse a tree deeper than `Parser.maximumDepth` before anything recurses
    /// over it (see `Parser.measure`).
    @exclusivity(unchecked) var height = 1

    /// Set after parsing on paths of plain field steps (`a.b.c`, `$v.price`) that the
    /// evaluator can walk without building sequences while the values are single objects.
    @exclusivity(unchecked) var isSimplePath = false
    /// Set after parsing on blocks that bind variables in their own scope (`:=` not nested
    /// in an inner block or lambda); other blocks evaluate in the enclosing scope.
    @exclusivity(unchecked) var blockNeedsFrame = true
    /// Set after parsing when `evaluate` must apply predicates or a group to the result.
    @exclusivity(unchecked) var hasPostStages = false
    /// Set after parsing on operator and block trees the evaluator can run directly (see
    /// `FastExpression`).
    @exclusivity(unchecked) var fast: FastExpression?
    /// Set after parsing on variables named like a built-in: the function of each table, so
    /// that a lookup reaching the root needs no hashing (see `Frame.lookup(variable:)`).
    @exclusivity(unchecked) var standardBuiltin: JFunction?
    @exclusivity(unchecked) var stepFunctionsBuiltin: JFunction?
    /// Set after parsing on object constructors whose keys are distinct string literals:
    /// the keys, which then need no duplicate check.
    @exclusivity(unchecked) var literalKeys: [String]?
    /// Set after parsing on the outermost `&` of a chain `a & b & c ...`: the `&` nodes,
    /// innermost first, which the evaluator concatenates into one string.
    @exclusivity(unchecked) var concatChain: [Node]?
    /// Set after parsing on simple paths: their fast form, which walks the objects without
    /// counting references (the path answers the general way when it gives up).
    @exclusivity(unchecked) var fastPath: FastExpression?

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

extension Node {
    /// Marks the simple paths of a processed tree (see `isSimplePath`).
    func markSimplePaths() {
        var seen = Set<ObjectIdentifier>()
        func visit(_ n: Node?) {
            guard let n, seen.insert(ObjectIdentifier(n)).inserted else { return }
            n.hasPostStages = n.predicate != nil || (n.kind != .path && n.group != nil)
            if n.kind == .block { n.blockNeedsFrame = n.expressions.contains { $0.bindsInScope() } }
            if n.kind == .variable, !n.text.isEmpty {
                n.standardBuiltin = Library.standard[n.text]
                n.stepFunctionsBuiltin = Library.stepFunctions[n.text]
            }
            if n.kind == .binary, n.op == .concat {
                var chain = [n]
                var inner = n.lhs
                while let i = inner, i.kind == .binary, i.op == .concat, i.predicate == nil, i.group == nil, !i.keepArray {
                    chain.append(i)
                    inner = i.lhs
                }
                if chain.count > 1 { n.concatChain = chain.reversed() }
            }
            if n.kind == .objectConstructor {
                let keys = n.objectPairs.compactMap { $0.0.kind == .string ? $0.0.literal?.asString : nil }
                if keys.count == n.objectPairs.count && Set(keys).count == keys.count { n.literalKeys = keys }
            }
            if n.kind == .path {
                n.isSimplePath = !n.keepSingletonArray && n.group == nil && !n.isTuple && n.predicate == nil
                    && n.steps.enumerated().allSatisfy { i, step in
                        (step.kind == .name || (i == 0 && step.kind == .variable))
                            && step.predicate == nil && step.stages == nil && step.focus == nil && step.indexVariable == nil
                            && !step.isTuple && step.ancestor == nil && step.group == nil && !step.keepArray && !step.isConsArray
                    }
            }
            for c in [n.lhs, n.rhs, n.expression, n.condition, n.then, n.otherwise, n.procedure, n.body, n.pattern, n.update, n.delete] { visit(c) }
            for c in n.expressions { visit(c) }
            for c in n.steps { visit(c) }
            for c in n.arguments { visit(c) }
            for c in n.predicate ?? [] { visit(c) }
            for c in n.stages ?? [] { visit(c) }
            for (k, v) in n.objectPairs { visit(k); visit(v) }
            for (k, v) in n.group?.pairs ?? [] { visit(k); visit(v) }
            for t in n.sortTerms { visit(t.expression) }
            // after the children, whose flags the compilation reads
            n.fast = FastExpression.compile(n)
            n.fastPath = FastExpression.simplePath(n)
        }
        visit(self)
    }
}

extension Node {
    /// Whether evaluating this node can bind a variable in the current scope.
    func bindsInScope() -> Bool {
        switch kind {
        case .bind: return true
        case .block, .lambda: return false
        default: break
        }
        for c in [lhs, rhs, expression, condition, then, otherwise, procedure, pattern, update, delete] {
            if let c, c.bindsInScope() { return true }
        }
        for c in expressions + steps + arguments + (predicate ?? []) + (stages ?? []) where c.bindsInScope() { return true }
        for (k, v) in objectPairs + (group?.pairs ?? []) where k.bindsInScope() || v.bindsInScope() { return true }
        for t in sortTerms where t.expression.bindsInScope() { return true }
        return false
    }
}
