/// A pure subexpression over scalars, compiled once for direct evaluation.
///
/// Predicates, lambda bodies and path stages are mostly small trees of field paths,
/// literals and operators (`price > 50`, `$v.price * $v.qty`, `(price * qty)`). Walking
/// them with the general evaluator costs a full `evaluate` call per node (depth and step
/// bookkeeping, sequence handling, a copy of every intermediate value). A fast expression
/// walks the same tree in one recursive function over immutable nodes.
///
/// - Important: a fast expression computes exactly what the general evaluator would, or
///   gives up (`run` returns nil) before anything observable happened: it reads, never
///   writes, and it gives up on everything outside the plain case (arrays, functions,
///   non-finite numbers, values that would raise an error). The caller then evaluates the
///   node the general way. The step budget is charged the same number of steps as the
///   general walk, and a tree deeper than the remaining depth budget is left to the general
///   evaluator, so the limits fail at the same expressions.
final class FastExpression {
    enum Kind: UInt8 {
        case literal, path, variable, arithmetic, compare, equal, notEqual, and, or, concat, negate, block
    }

    let kind: Kind
    let op: Node.BinaryOp
    let literal: JValue?
    /// Whether this literal is reached through `evaluate` (a step) rather than `value`.
    let literalCountsStep: Bool
    /// The variable a path starts at (nil: the context value), or the variable read.
    let variable: String?
    let names: ContiguousArray<String>
    let lhs: FastExpression?
    let rhs: FastExpression?
    let items: ContiguousArray<FastExpression>
    /// Levels of `evaluate` nesting the general walk of this tree takes (0 for a literal
    /// read through `value`).
    let height: Int

    private init(_ kind: Kind, op: Node.BinaryOp = .other, literal: JValue? = nil, literalCountsStep: Bool = false,
                 variable: String? = nil, names: ContiguousArray<String> = [], lhs: FastExpression? = nil,
                 rhs: FastExpression? = nil, items: ContiguousArray<FastExpression> = []) {
        self.kind = kind
        self.op = op
        self.literal = literal
        self.literalCountsStep = literalCountsStep
        self.variable = variable
        self.names = names
        self.lhs = lhs
        self.rhs = rhs
        self.items = items
        switch kind {
        case .literal: height = literalCountsStep ? 1 : 0
        case .path, .variable: height = 1
        default:
            var h = Swift.max(lhs?.height ?? 0, rhs?.height ?? 0)
            for i in items { h = Swift.max(h, i.height) }
            height = 1 + h
        }
    }

    /// The fast form of an operator or block node, or nil when its tree holds anything
    /// else. Lone paths and literals get none: the evaluator answers them directly.
    static func compile(_ node: Node) -> FastExpression? {
        switch node.kind {
        case .binary, .negate, .block: return operand(node, viaEvaluate: true)
        default: return nil
        }
    }

    /// The fast form of a simple path (`Node.isSimplePath`) that starts at the context or
    /// at a named variable, for `evaluatePath` to walk objects without counting references.
    static func simplePath(_ node: Node) -> FastExpression? {
        guard node.kind == .path, node.isSimplePath else { return nil }
        return operand(node, viaEvaluate: true)
    }

    /// - Parameter viaEvaluate: whether the general evaluator reaches `node` through
    ///   `evaluate` (which counts a step even for a literal) rather than `value`.
    private static func operand(_ node: Node, viaEvaluate: Bool) -> FastExpression? {
        // the general evaluator applies these after evaluating the node; leave them to it
        if node.hasPostStages || node.keepArray || node.stages != nil || node.focus != nil
            || node.indexVariable != nil || node.isTuple || node.ancestor != nil { return nil }
        switch node.kind {
        case .string, .number, .value:
            return FastExpression(.literal, literal: node.literal, literalCountsStep: viaEvaluate)
        case .variable:
            if node.text.isEmpty { return nil }
            return FastExpression(.variable, variable: node.text)
        case .path:
            guard node.isSimplePath else { return nil }
            var names = ContiguousArray<String>()
            var variable: String?
            for (i, step) in node.steps.enumerated() {
                if i == 0 && step.kind == .variable {
                    if step.text.isEmpty { return nil }
                    variable = step.text
                } else {
                    names.append(step.text)
                }
            }
            if names.isEmpty { return nil }
            return FastExpression(.path, variable: variable, names: names)
        case .negate:
            guard let e = node.expression, let x = operand(e, viaEvaluate: true) else { return nil }
            return FastExpression(.negate, lhs: x)
        case .block:
            if node.blockNeedsFrame || node.expressions.isEmpty { return nil }
            var items = ContiguousArray<FastExpression>()
            for e in node.expressions {
                guard let x = operand(e, viaEvaluate: true) else { return nil }
                items.append(x)
            }
            return FastExpression(.block, items: items)
        case .binary:
            guard let l = node.lhs, let r = node.rhs else { return nil }
            let kind: Kind
            switch node.op {
            case .add, .subtract, .multiply, .divide, .modulo: kind = .arithmetic
            case .less, .lessEqual, .greater, .greaterEqual: kind = .compare
            case .equal: kind = .equal
            case .notEqual: kind = .notEqual
            case .and: kind = .and
            case .or: kind = .or
            case .concat: kind = .concat
            case .range, .includes, .other: return nil
            }
            let shortCircuit = kind == .and || kind == .or
            guard let lhs = operand(l, viaEvaluate: false), let rhs = operand(r, viaEvaluate: shortCircuit) else { return nil }
            return FastExpression(kind, op: node.op, lhs: lhs, rhs: rhs)
        default:
            return nil
        }
    }

    /// Evaluates the tree, adding to `steps` the steps the general walk would count.
    ///
    /// - Parameter input: the context value (`FastValue(input)`; an array gives up only if
    ///   a path reads it).
    func run(_ input: FastValue, _ env: Frame, _ steps: inout Int) -> FastValue {
        switch kind {
        case .literal:
            if literalCountsStep { steps += 1 }
            return FastValue(literal)
        case .variable:
            steps += 1
            return env.lookupFast(variable.unsafelyUnwrapped)
        case .path:
            steps += 1
            var current: FastValue
            if let variable { current = env.lookupFast(variable) } else { current = input }
            var i = 0
            let n = names.count
            while i < n {
                switch current {
                case .object(let o): current = o._withUnsafeGuaranteedRef { $0.fastMember(names[i]) }
                case .undefined: return .undefined
                default: return .giveUp
                }
                i += 1
            }
            return current
        case .negate:
            steps += 1
            switch FastExpression.child(lhs, input, env, &steps) {
            case .undefined: return .undefined
            case .number(let d) where d.isFinite: return .number(-d)
            default: return .giveUp
            }
        case .block:
            steps += 1
            var result = FastValue.undefined
            for item in items {
                result = item.run(input, env, &steps)
                if case .giveUp = result { return .giveUp }
            }
            return result
        case .and, .or:
            steps += 1
            let l = FastExpression.child(lhs, input, env, &steps)
            if case .giveUp = l { return .giveUp }
            let lb = l.boolean ?? false
            if kind == .and ? !lb : lb { return .bool(lb) }
            let r = FastExpression.child(rhs, input, env, &steps)
            if case .giveUp = r { return .giveUp }
            return .bool(r.boolean ?? false)
        default:
            steps += 1
            let l = FastExpression.child(lhs, input, env, &steps)
            if case .giveUp = l { return .giveUp }
            let r = FastExpression.child(rhs, input, env, &steps)
            if case .giveUp = r { return .giveUp }
            return FastExpression.apply(kind, op, l, r)
        }
    }

    /// Runs a child without retaining it (its parent holds it).
    @inline(__always) private static func child(_ node: FastExpression?, _ input: FastValue, _ env: Frame, _ steps: inout Int) -> FastValue {
        Unmanaged.passUnretained(node.unsafelyUnwrapped)._withUnsafeGuaranteedRef { $0.run(input, env, &steps) }
    }

    private static func apply(_ kind: Kind, _ op: Node.BinaryOp, _ l: FastValue, _ r: FastValue) -> FastValue {
        switch kind {
        case .arithmetic:
            switch (l, r) {
            case (.number(let a), .number(let b)):
                guard a.isFinite, b.isFinite else { return .giveUp }
                switch op {
                case .add: return .number(a + b)
                case .subtract: return .number(a - b)
                case .multiply: return .number(a * b)
                case .divide: return .number(a / b)
                default: return .number(a.truncatingRemainder(dividingBy: b))
                }
            case (.undefined, .undefined): return .undefined
            case (.undefined, .number(let d)), (.number(let d), .undefined): return d.isFinite ? .undefined : .giveUp
            default: return .giveUp
            }
        case .compare:
            switch (l, r) {
            case (.number(let a), .number(let b)): return .bool(Builtins.ordered(op, a, b))
            case (.string(let a), .string(let b)): return .bool(Builtins.ordered(op, a, b))
            case (.undefined, .undefined), (.undefined, .number), (.undefined, .string), (.number, .undefined), (.string, .undefined):
                return .undefined
            default: return .giveUp
            }
        case .equal, .notEqual:
            let same: Bool
            switch (l, r) {
            case (.undefined, _), (_, .undefined): return .bool(false)
            case (.number(let a), .number(let b)): same = a == b
            case (.string(let a), .string(let b)): same = a == b
            case (.bool(let a), .bool(let b)): same = a == b
            case (.null, .null): same = true
            case (.object(let a), .object(let b)):
                same = Builtins.deepEqual(.object(a.takeUnretainedValue()), .object(b.takeUnretainedValue()))
            default: same = false
            }
            return .bool(kind == .equal ? same : !same)
        case .concat:
            guard let ls = l.text, let rs = r.text else { return .giveUp }
            return .string(ls + rs)
        default:
            return .giveUp
        }
    }
}

/// A value inside a fast expression, or the decision to give up.
///
/// Objects are borrowed: they come from the input or from a binding, both of which outlive
/// the run, and a fast expression never writes, so no reference is counted on the way.
enum FastValue {
    case giveUp
    case undefined
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case object(Unmanaged<JObject>)

    /// The fast form of a value; arrays and functions give up (sequences and calls are the
    /// general evaluator's business).
    @inline(__always) init(_ v: JValue?) {
        switch v {
        case nil: self = .undefined
        case .null?: self = .null
        case .bool(let b)?: self = .bool(b)
        case .number(let d)?: self = .number(d)
        case .string(let s)?: self = .string(s)
        case .object(let o)?: self = .object(Unmanaged.passUnretained(o))
        case .array?, .function?: self = .giveUp
        }
    }

    /// The evaluator's value: nil to give up, `.some(nil)` for undefined.
    var value: JValue?? {
        switch self {
        case .giveUp: return nil
        case .undefined: return .some(nil)
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .object(let o): return .object(o.takeUnretainedValue())
        }
    }

    /// `Builtins.boolean`.
    var boolean: Bool? {
        switch self {
        case .giveUp, .undefined: return nil
        case .null: return false
        case .bool(let b): return b
        case .number(let d): return d != 0 && !d.isNaN
        case .string(let s): return !s.isEmpty
        case .object(let o): return o._withUnsafeGuaranteedRef { !$0.isEmpty }
        }
    }

    /// `Builtins.string` for the scalars it cannot fail on; nil to give up.
    var text: String? {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        case .number(let d): return d.isFinite ? Builtins.numberString15(d) : nil
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .giveUp, .object: return nil
        }
    }
}

extension JObject {
    /// The member `key` as a fast value (borrowed, see `FastValue`).
    @inline(__always) func fastMember(_ key: String) -> FastValue {
        guard let i = indexOf(key) else { return .undefined }
        return FastValue(values[i])
    }
}
