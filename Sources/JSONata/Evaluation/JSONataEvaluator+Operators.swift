/// The binary operators: arithmetic, comparison, equality, `and`/`or`, `&`, `..` and `in`.
extension Evaluator {
    func evaluateBinary(_ expr: Node, _ input: JValue?, _ env: Frame) throws -> JValue? {
        if let chain = expr.concatChain, depth + chain.count - 1 <= maxDepth {
            return try evaluateConcatenation(chain, input, env)
        }
        let lhs = try value(expr.lhs!, input, env)
        let op = expr.op
        if op == .and || op == .or {
            let l = Builtins.boolean(lhs) ?? false
            if op == .and {
                if !l { return .bool(false) }
                return .bool(Builtins.boolean(try evaluate(expr.rhs!, input, env)) ?? false)
            }
            if l { return .bool(true) }
            return .bool(Builtins.boolean(try evaluate(expr.rhs!, input, env)) ?? false)
        }
        let rhs = try value(expr.rhs!, input, env)
        do {
            switch op {
            case .add, .subtract, .multiply, .divide, .modulo:
                return try Evaluator.arithmetic(lhs, rhs, op)
            case .equal:
                guard let lhs, let rhs else { return .bool(false) }
                return .bool(Builtins.deepEqual(lhs, rhs))
            case .notEqual:
                guard let lhs, let rhs else { return .bool(false) }
                return .bool(!Builtins.deepEqual(lhs, rhs))
            case .less, .lessEqual, .greater, .greaterEqual:
                return try Evaluator.compare(lhs, rhs, op)
            case .concat:
                let l = try lhs.map { try Builtins.string($0) } ?? ""
                let r = try rhs.map { try Builtins.string($0) } ?? ""
                return .string(l + r)
            case .range:
                return try evaluateRange(lhs, rhs)
            case .includes:
                guard let lhs, let rhs else { return .bool(false) }
                if case .array(let a) = rhs {
                    for item in a.items where Builtins.strictEqual(item, lhs) { return .bool(true) }
                    return .bool(false)
                }
                return .bool(Builtins.strictEqual(rhs, lhs))
            case .and, .or, .other:
                return nil
            }
        } catch var e as JSONataError {
            if e.position == nil { e.position = expr.position }
            if e.token == nil { e.setToken(expr.text) }
            throw e
        }
    }

    /// `a & b & c ...` built into one string, as the nested `&` nodes would build it: each
    /// operand evaluated at the depth its node would evaluate it, the inner nodes' steps
    /// charged, and a conversion error placed at the node that converts the operand.
    ///
    /// - Parameter chain: the `&` nodes, innermost first (`Node.concatChain`).
    private func evaluateConcatenation(_ chain: [Node], _ input: JValue?, _ env: Frame) throws -> JValue? {
        let k = chain.count
        let base = depth
        defer { depth = base }
        try countSteps(k - 1)
        var out = ""
        func append(_ v: JValue?, _ node: Node) throws {
            guard let v else { return }
            do {
                out += try Builtins.string(v)
            } catch var e as JSONataError {
                if e.position == nil { e.position = node.position }
                if e.token == nil { e.setToken(node.text) }
                throw e
            }
        }
        // the innermost node evaluates both its operands before converting them
        depth = base + k - 1
        let first = try value(chain[0].lhs!, input, env)
        let second = try value(chain[0].rhs!, input, env)
        try append(first, chain[0])
        try append(second, chain[0])
        for m in 1..<k {
            depth = base + k - 1 - m
            try append(try value(chain[m].rhs!, input, env), chain[m])
        }
        return .string(out)
    }

    static func arithmetic(_ lhs: JValue?, _ rhs: JValue?, _ op: Node.BinaryOp) throws -> JValue? {
        var l: Double?
        var r: Double?
        if let lhs {
            l = try lhs.numeric()
            if l == nil { throw JSONataError(code: "T2001", value: lhs) }
        }
        if let rhs {
            r = try rhs.numeric()
            if r == nil { throw JSONataError(code: "T2002", value: rhs) }
        }
        guard let l, let r else { return nil }
        switch op {
        case .add: return .number(l + r)
        case .subtract: return .number(l - r)
        case .multiply: return .number(l * r)
        case .divide: return .number(l / r)
        default: return .number(l.truncatingRemainder(dividingBy: r))
        }
    }

    static func compare(_ lhs: JValue?, _ rhs: JValue?, _ op: Node.BinaryOp) throws -> JValue? {
        func comparable(_ v: JValue?) -> Bool {
            switch v {
            case nil, .string?, .number?: return true
            default: return false
            }
        }
        let lc = comparable(lhs), rc = comparable(rhs)
        if !lc || !rc {
            throw JSONataError(code: "T2010", value: !lc ? lhs : rhs)
        }
        guard let lhs, let rhs else { return nil }
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): return .bool(Builtins.ordered(op, a, b))
        case (.string(let a), .string(let b)): return .bool(Builtins.ordered(op, a, b))
        default:
            throw JSONataError(code: "T2009", value: lhs, value2: rhs)
        }
    }

    private func evaluateRange(_ lhs: JValue?, _ rhs: JValue?) throws -> JValue? {
        func integer(_ v: JValue?) -> Double? {
            if case .number(let d)? = v, d.isFinite, d.rounded(.towardZero) == d { return d }
            return nil
        }
        if lhs != nil && integer(lhs) == nil { throw JSONataError(code: "T2003", value: lhs) }
        if rhs != nil && integer(rhs) == nil { throw JSONataError(code: "T2004", value: rhs) }
        guard let l = integer(lhs), let r = integer(rhs) else { return nil }
        if l > r { return nil }
        let size = r - l + 1
        if size > 1e7 { throw JSONataError(code: "D2014", value: .number(size)) }
        try tick(Int(size) / 8)
        var items = ContiguousArray<JValue>()
        items.reserveCapacity(Int(size))
        var v = l
        while v <= r {
            items.append(.number(v))
            v += 1
        }
        return .array(JArray.sequence(items))
    }
}
