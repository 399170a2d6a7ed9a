/// The JSONata parser: jsonata-js's Pratt parser and its `processAST` pass.
struct Parser {
    private var lexer: Lexer
    private var node: Token
    private let sourceLength: Int
    private var ancestorLabel = 0
    private var ancestorIndex = 0
    private var ancestry: [Node] = []
    /// Calls of `expression` in progress.
    private var nesting = 0

    /// How deep an expression's syntax tree may nest (operands of operators, arguments,
    /// parentheses, predicates, ...; a long chain `a + b + c + ...` nests once per operator).
    /// Deeper expressions fail with `U1001` when compiled: the passes over the tree and the
    /// evaluator recurse once per level.
    static let maximumDepth = 200

    init(_ source: String) {
        lexer = Lexer(source)
        sourceLength = lexer.chars.count
        node = Token(kind: .end, text: "(end)", position: 0)
    }

    /// Parses and processes a whole expression.
    static func parse(_ source: String) throws(JSONataError) -> Node {
        var p = Parser(source)
        try p.advance()
        let raw = try p.expression(0)
        if p.node.kind != .end {
            throw JSONataError(code: "S0201", position: p.node.position, token: p.node.text)
        }
        let ast = try p.processAST(raw)
        if ast.kind == .parent || ast.seekingParent != nil {
            throw JSONataError(code: "S0217", position: ast.position, token: "\(ast.kind)")
        }
        ast.markSimplePaths()
        return ast
    }

    // MARK: - Pratt machinery

    private static let infixPowers: [String: Int] = [
        ".": 75, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40, ">": 40,
        "!=": 40, "<=": 40, ">=": 40, "&": 50, "and": 30, "or": 25, "in": 40, "~>": 40,
        "(": 80, "[": 80, "^": 40, "{": 70, ":=": 10, "@": 80, "#": 80, "?": 20,
    ]
    private static let knownOperators: Set<String> = [
        ".", "+", "-", "*", "/", "%", "=", "<", ">", "!=", "<=", ">=", "&", "and", "or", "in",
        "~>", "(", "[", "^", "{", ":=", "@", "#", "?", ":", ";", ",", ")", "]", "}", "..", "**", "|",
    ]

    private func lbp(_ t: Token) -> Int {
        guard t.kind == .op else { return 0 }
        return Parser.infixPowers[t.text] ?? 0
    }

    private func isNode(_ id: String) -> Bool { node.kind == .op && node.text == id }

    @discardableResult
    private mutating func advance(_ id: String? = nil, infix: Bool = false) throws(JSONataError) -> Token {
        if let id {
            let matches: Bool
            if id == "(end)" { matches = node.kind == .end } else { matches = isNode(id) }
            if !matches {
                let code = node.kind == .end ? "S0203" : "S0202"
                throw JSONataError(code: code, position: node.position, token: node.text, value: .string(id))
            }
        }
        guard let next = try lexer.next(prefix: infix) else {
            node = Token(kind: .end, text: "(end)", position: sourceLength)
            return node
        }
        if next.kind == .op && !Parser.knownOperators.contains(next.text) {
            throw JSONataError(code: "S0204", position: next.position, token: next.text)
        }
        node = next
        return node
    }

    private mutating func expression(_ rbp: Int) throws(JSONataError) -> Node {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > Parser.maximumDepth { throw Parser.tooDeep(at: node.position) }
        var t = node
        try advance(nil, infix: true)
        var left = try nud(t)
        try measure(left)
        while rbp < lbp(node) {
            t = node
            try advance()
            left = try led(t, left)
            try measure(left)
        }
        return left
    }

    /// Sets the raw tree height of a node whose children are measured, and refuses a tree
    /// deeper than `maximumDepth`.
    ///
    /// The Pratt loop builds a chain of left-associative operators (`1+1+...`, `a.b.c...`)
    /// without recursing, so the nesting of `expression` alone does not bound the tree;
    /// every later pass (`processAST`, the evaluator, the release of the nodes) recurses
    /// over it.
    private func measure(_ n: Node) throws(JSONataError) {
        var h = 0
        @inline(__always) func take(_ c: Node?) { if let c, c.height > h { h = c.height } }
        take(n.lhs); take(n.rhs); take(n.expression); take(n.procedure); take(n.body)
        take(n.condition); take(n.then); take(n.otherwise)
        take(n.pattern); take(n.update); take(n.delete)
        for c in n.expressions { take(c) }
        for c in n.arguments { take(c) }
        for (k, v) in n.objectPairs { take(k); take(v) }
        for t in n.sortTerms { take(t.expression) }
        n.height = h + 1
        if n.height > Parser.maximumDepth { throw Parser.tooDeep(at: n.position) }
    }

    static func tooDeep(at position: Int) -> JSONataError {
        JSONataError(code: "U1001", message: "Stack overflow error: the expression nests deeper than \(maximumDepth) levels",
                     position: position)
    }

    private mutating func nud(_ t: Token) throws(JSONataError) -> Node {
        switch t.kind {
        case .name: return Node(.name, t.text, position: t.position)
        case .variable: return Node(.variable, t.text, position: t.position)
        case .string:
            let n = Node(.string, t.text, position: t.position)
            n.literal = .string(t.text)
            return n
        case .number:
            let n = Node(.number, t.text, position: t.position)
            n.literal = .number(t.number)
            return n
        case .value:
            let n = Node(.value, t.text, position: t.position)
            n.literal = t.literal
            return n
        case .regex:
            let n = Node(.regex, t.text, position: t.position)
            n.regex = t.regex
            return n
        case .end:
            return Node(.end, "(end)", position: t.position)
        case .op:
            break
        }
        switch t.text {
        case "-":
            let n = Node(.unary, "-", position: t.position)
            n.expression = try expression(70)
            return n
        case "*": return Node(.wildcard, "*", position: t.position)
        case "**": return Node(.descendant, "**", position: t.position)
        case "%": return Node(.parent, "%", position: t.position)
        case "and", "or", "in": return Node(.operatorToken, t.text, position: t.position)
        case "(": return try nudBlock(t)
        case "[": return try nudArray(t)
        case "{":
            let n = Node(.unary, "{", position: t.position)
            n.objectPairs = try objectPairs()
            return n
        case "|": return try nudTransform(t)
        default:
            throw JSONataError(code: "S0211", position: t.position, token: t.text)
        }
    }

    // The larger cases of `nud` and `led` have their own functions, so that the frames the
    // parser's recursion stacks up stay small in debug builds too.

    private mutating func nudBlock(_ t: Token) throws(JSONataError) -> Node {
        var expressions: [Node] = []
        while !isNode(")") {
            expressions.append(try expression(0))
            if !isNode(";") { break }
            try advance(";")
        }
        try advance(")", infix: true)
        let n = Node(.block, "(", position: t.position)
        n.expressions = expressions
        return n
    }

    private mutating func nudArray(_ t: Token) throws(JSONataError) -> Node {
        var items: [Node] = []
        if !isNode("]") {
            while true {
                var item = try expression(0)
                if isNode("..") {
                    let range = Node(.binary, "..", position: node.position)
                    range.lhs = item
                    try advance("..")
                    range.rhs = try expression(0)
                    try measure(range)
                    item = range
                }
                items.append(item)
                if !isNode(",") { break }
                try advance(",")
            }
        }
        try advance("]", infix: true)
        let n = Node(.unary, "[", position: t.position)
        n.expressions = items
        return n
    }

    private mutating func nudTransform(_ t: Token) throws(JSONataError) -> Node {
        let n = Node(.transform, "|", position: t.position)
        n.pattern = try expression(0)
        try advance("|")
        n.update = try expression(0)
        if isNode(",") {
            try advance(",")
            n.delete = try expression(0)
        }
        try advance("|")
        return n
    }

    private mutating func objectPairs() throws(JSONataError) -> [(Node, Node)] {
        var pairs: [(Node, Node)] = []
        if !isNode("}") {
            while true {
                let k = try expression(0)
                try advance(":")
                let v = try expression(0)
                pairs.append((k, v))
                if !isNode(",") { break }
                try advance(",")
            }
        }
        try advance("}", infix: true)
        return pairs
    }

    private mutating func led(_ t: Token, _ left: Node) throws(JSONataError) -> Node {
        let bp = Parser.infixPowers[t.text] ?? 0
        switch t.text {
        case "(":
            return try ledCall(t, left)
        case "[":
            if isNode("]") {
                var step: Node? = left
                while let s = step, s.kind == .binary, s.text == "[" { step = s.lhs }
                step?.keepArray = true
                try advance("]")
                return left
            }
            let n = Node(.binary, "[", position: t.position)
            n.lhs = left
            n.rhs = try expression(0)  // operators[']'] is 0
            try advance("]", infix: true)
            return n
        case "^": return try ledSort(t, left)
        case "{":
            let n = Node(.binary, "{", position: t.position)
            n.lhs = left
            n.objectPairs = try objectPairs()
            return n
        case ":=":
            if left.kind != .variable {
                throw JSONataError(code: "S0212", position: left.position, token: left.text)
            }
            let n = Node(.binary, ":=", position: t.position)
            n.lhs = left
            n.rhs = try expression(bp - 1)
            return n
        case "@", "#":
            let n = Node(.binary, t.text, position: t.position)
            n.lhs = left
            n.rhs = try expression(bp)
            if n.rhs?.kind != .variable {
                throw JSONataError(code: "S0214", position: n.rhs?.position, token: t.text)
            }
            return n
        case "?":
            let n = Node(.condition, "?", position: t.position)
            n.condition = left
            n.then = try expression(0)
            if isNode(":") {
                try advance(":")
                n.otherwise = try expression(0)
            }
            return n
        default:
            let n = Node(.binary, t.text, position: t.position)
            n.lhs = left
            n.rhs = try expression(bp)
            return n
        }
    }

    private mutating func ledCall(_ t: Token, _ left: Node) throws(JSONataError) -> Node {
        let n = Node(.function, "(", position: t.position)
        n.procedure = left
        if !isNode(")") {
            while true {
                if node.kind == .op && node.text == "?" {
                    n.kind = .partial
                    n.arguments.append(Node(.placeholder, "?", position: node.position))
                    try advance("?")
                } else {
                    n.arguments.append(try expression(0))
                }
                if !isNode(",") { break }
                try advance(",")
            }
        }
        try advance(")", infix: true)
        if left.kind == .name && (left.text == "function" || left.text == "\u{03BB}") {
            for (i, arg) in n.arguments.enumerated() where arg.kind != .variable {
                throw JSONataError(code: "S0208", position: arg.position, token: arg.text, value: .number(Double(i + 1)))
            }
            n.kind = .lambda
            n.parameters = n.arguments.map(\.text)
            n.arguments = []
            if isNode("<") {
                let sigPos = node.position
                var depth = 1
                var sig = "<"
                while depth > 0 && !isNode("{") && node.kind != .end {
                    let tok = try advance()
                    if tok.kind == .op && tok.text == ">" {
                        depth -= 1
                    } else if tok.kind == .op && tok.text == "<" {
                        depth += 1
                    }
                    sig += tok.text
                }
                try advance(">")
                do {
                    n.signature = try Signature(sig)
                } catch {
                    var e = error
                    e.position = sigPos
                    throw e
                }
            }
            try advance("{")
            n.body = try expression(0)
            try advance("}")
        }
        return n
    }

    private mutating func ledSort(_ t: Token, _ left: Node) throws(JSONataError) -> Node {
        try advance("(")
        var terms: [(Bool, Node)] = []
        while true {
            var descending = false
            if isNode("<") {
                try advance("<")
            } else if isNode(">") {
                descending = true
                try advance(">")
            }
            terms.append((descending, try expression(0)))
            if !isNode(",") { break }
            try advance(",")
        }
        try advance(")")
        let n = Node(.binary, "^", position: t.position)
        n.lhs = left
        n.sortTerms = terms.map { (descending: $0.0, expression: $0.1) }
        return n
    }

    // MARK: - processAST

    private static let binaryOps: [String: Node.BinaryOp] = [
        "+": .add, "-": .subtract, "*": .multiply, "/": .divide, "%": .modulo,
        "=": .equal, "!=": .notEqual, "<": .less, "<=": .lessEqual, ">": .greater, ">=": .greaterEqual,
        "&": .concat, "..": .range, "in": .includes, "and": .and, "or": .or,
    ]

    // Each case has its own function: in a debug build a function's frame holds every
    // temporary of every branch, and the recursion passes through here once per level.
    private mutating func processAST(_ expr: Node) throws(JSONataError) -> Node {
        var result: Node
        switch expr.kind {
        case .binary: result = try processBinary(expr)
        case .unary: result = try processUnary(expr)
        case .function, .partial: result = try processCall(expr)
        case .lambda: result = try processLambda(expr)
        case .condition: result = try processCondition(expr)
        case .transform: result = try processTransform(expr)
        case .block: result = try processBlock(expr)
        case .name:
            result = Node(.path, position: expr.position)
            result.steps = [expr]
            if expr.keepArray { result.keepSingletonArray = true }
        case .parent:
            result = Node(.parent, position: expr.position)
            result.slot = Slot(label: "!\(ancestorLabel)", level: 1, index: ancestorIndex)
            ancestorLabel += 1
            ancestorIndex += 1
            ancestry.append(result)
        case .string, .number, .value, .wildcard, .descendant, .variable, .regex, .placeholder:
            result = expr
        case .operatorToken:
            expr.kind = .name
            result = try processAST(expr)
        case .end:
            throw JSONataError(code: "S0207", position: expr.position, token: "(end)")
        default:
            throw JSONataError(code: "S0206", position: expr.position, token: expr.text)
        }
        if expr.keepArray { result.keepArray = true }
        return result
    }

    private mutating func processBinary(_ expr: Node) throws(JSONataError) -> Node {
        switch expr.text {
        case ".": return try processPath(expr)
        case "[": return try processPredicate(expr)
        case "{": return try processGroup(expr)
        case "^": return try processSort(expr)
        case ":=":
            let result = Node(.bind, ":=", position: expr.position)
            result.lhs = try processAST(expr.lhs!)
            result.rhs = try processAST(expr.rhs!)
            pushAncestry(result, result.rhs!)
            return result
        case "@": return try processFocus(expr)
        case "#": return try processIndex(expr)
        case "~>":
            let result = Node(.apply, "~>", position: expr.position)
            result.lhs = try processAST(expr.lhs!)
            result.rhs = try processAST(expr.rhs!)
            result.keepArray = result.lhs!.keepArray || result.rhs!.keepArray
            return result
        default:
            let result = Node(.binary, expr.text, position: expr.position)
            result.op = Parser.binaryOps[expr.text] ?? .other
            result.lhs = try processAST(expr.lhs!)
            result.rhs = try processAST(expr.rhs!)
            pushAncestry(result, result.lhs!)
            pushAncestry(result, result.rhs!)
            return result
        }
    }

    private mutating func processPath(_ expr: Node) throws(JSONataError) -> Node {
        let lstep = try processAST(expr.lhs!)
        let result: Node
        if lstep.kind == .path {
            result = lstep
        } else {
            result = Node(.path, position: lstep.position)
            result.steps = [lstep]
        }
        if lstep.kind == .parent { result.seekingParent = [lstep.slot!] }
        let rest = try processAST(expr.rhs!)
        if rest.kind == .path {
            result.steps.append(contentsOf: rest.steps)
        } else {
            if let p = rest.predicate {
                rest.stages = p
                rest.predicate = nil
            }
            result.steps.append(rest)
        }
        for step in result.steps {
            if step.kind == .number || step.kind == .value {
                throw JSONataError(code: "S0213", position: step.position, value: step.literal)
            }
            if step.kind == .string { step.kind = .name }
        }
        if result.steps.contains(where: { $0.keepArray }) { result.keepSingletonArray = true }
        let first = result.steps[0]
        if first.kind == .arrayConstructor { first.isConsArray = true }
        let last = result.steps[result.steps.count - 1]
        if last.kind == .arrayConstructor { last.isConsArray = true }
        try resolveAncestry(result)
        return result
    }

    private mutating func processPredicate(_ expr: Node) throws(JSONataError) -> Node {
        let result = try processAST(expr.lhs!)
        var step = result
        var isStages = false
        if result.kind == .path {
            step = result.steps[result.steps.count - 1]
            isStages = true
        }
        if step.group != nil {
            throw JSONataError(code: "S0209", position: expr.position)
        }
        let predicate = try processAST(expr.rhs!)
        if let seeking = predicate.seekingParent {
            for slot in seeking {
                if slot.level == 1 {
                    _ = try seekParent(step, slot)
                } else {
                    slot.level -= 1
                }
            }
            pushAncestry(step, predicate)
        }
        let filter = Node(.filter, position: expr.position)
        filter.expression = predicate
        if isStages {
            step.stages = (step.stages ?? []) + [filter]
        } else {
            step.predicate = (step.predicate ?? []) + [filter]
        }
        return result
    }

    private mutating func processGroup(_ expr: Node) throws(JSONataError) -> Node {
        let result = try processAST(expr.lhs!)
        if result.group != nil {
            throw JSONataError(code: "S0210", position: expr.position)
        }
        var pairs: [(Node, Node)] = []
        for (k, v) in expr.objectPairs { pairs.append((try processAST(k), try processAST(v))) }
        result.group = Node.Group(pairs: pairs, position: expr.position)
        return result
    }

    private mutating func processSort(_ expr: Node) throws(JSONataError) -> Node {
        var result = try processAST(expr.lhs!)
        if result.kind != .path {
            let p = Node(.path, position: result.position)
            p.steps = [result]
            result = p
        }
        let sortStep = Node(.sort, position: expr.position)
        for term in expr.sortTerms {
            let e = try processAST(term.expression)
            pushAncestry(sortStep, e)
            sortStep.sortTerms.append((descending: term.descending, expression: e))
        }
        result.steps.append(sortStep)
        try resolveAncestry(result)
        return result
    }

    private mutating func processFocus(_ expr: Node) throws(JSONataError) -> Node {
        let result = try processAST(expr.lhs!)
        var step = result
        if result.kind == .path { step = result.steps[result.steps.count - 1] }
        if step.stages != nil || step.predicate != nil {
            throw JSONataError(code: "S0215", position: expr.position)
        }
        if step.kind == .sort {
            throw JSONataError(code: "S0216", position: expr.position)
        }
        if expr.keepArray { step.keepArray = true }
        step.focus = expr.rhs!.text
        step.isTuple = true
        return result
    }

    private mutating func processIndex(_ expr: Node) throws(JSONataError) -> Node {
        var result = try processAST(expr.lhs!)
        var step = result
        if result.kind == .path {
            step = result.steps[result.steps.count - 1]
        } else {
            let p = Node(.path, position: result.position)
            p.steps = [result]
            result = p
            if let pred = step.predicate {
                step.stages = pred
                step.predicate = nil
            }
        }
        if step.stages == nil {
            step.indexVariable = expr.rhs!.text
        } else {
            let idx = Node(.index, expr.rhs!.text, position: expr.position)
            step.stages!.append(idx)
        }
        step.isTuple = true
        return result
    }

    private mutating func processUnary(_ expr: Node) throws(JSONataError) -> Node {
        switch expr.text {
        case "[":
            let result = Node(.arrayConstructor, "[", position: expr.position)
            for item in expr.expressions {
                let v = try processAST(item)
                pushAncestry(result, v)
                result.expressions.append(v)
            }
            return result
        case "{":
            let result = Node(.objectConstructor, "{", position: expr.position)
            var pairs: [(Node, Node)] = []
            for (k, v) in expr.objectPairs {
                let key = try processAST(k)
                pushAncestry(result, key)
                let value = try processAST(v)
                pushAncestry(result, value)
                pairs.append((key, value))
            }
            result.objectPairs = pairs
            return result
        default:
            let operand = try processAST(expr.expression!)
            if operand.kind == .number, case .number(let d) = operand.literal {
                operand.literal = .number(-d)
                return operand
            }
            let result = Node(.negate, "-", position: expr.position)
            result.expression = operand
            pushAncestry(result, operand)
            return result
        }
    }

    private mutating func processCall(_ expr: Node) throws(JSONataError) -> Node {
        let result = Node(expr.kind, expr.text, position: expr.position)
        for arg in expr.arguments {
            let a = try processAST(arg)
            pushAncestry(result, a)
            result.arguments.append(a)
        }
        result.procedure = try processAST(expr.procedure!)
        return result
    }

    private mutating func processLambda(_ expr: Node) throws(JSONataError) -> Node {
        let result = Node(.lambda, position: expr.position)
        result.parameters = expr.parameters
        result.signature = expr.signature
        let body = try processAST(expr.body!)
        result.body = tailCallOptimize(body)
        return result
    }

    private mutating func processCondition(_ expr: Node) throws(JSONataError) -> Node {
        let result = Node(.condition, position: expr.position)
        result.condition = try processAST(expr.condition!)
        pushAncestry(result, result.condition!)
        result.then = try processAST(expr.then!)
        pushAncestry(result, result.then!)
        if let e = expr.otherwise {
            result.otherwise = try processAST(e)
            pushAncestry(result, result.otherwise!)
        }
        return result
    }

    private mutating func processTransform(_ expr: Node) throws(JSONataError) -> Node {
        let result = Node(.transform, position: expr.position)
        result.pattern = try processAST(expr.pattern!)
        result.update = try processAST(expr.update!)
        if let d = expr.delete { result.delete = try processAST(d) }
        return result
    }

    private mutating func processBlock(_ expr: Node) throws(JSONataError) -> Node {
        let result = Node(.block, position: expr.position)
        for e in expr.expressions {
            let part = try processAST(e)
            pushAncestry(result, part)
            if part.isConsArray || (part.kind == .path && part.steps[0].isConsArray) {
                result.isConsArray = true
            }
            result.expressions.append(part)
        }
        return result
    }

    private func tailCallOptimize(_ expr: Node) -> Node {
        if expr.kind == .function && expr.predicate == nil {
            let thunk = Node(.lambda, position: expr.position)
            thunk.isThunk = true
            thunk.body = expr
            return thunk
        }
        if expr.kind == .condition {
            expr.then = tailCallOptimize(expr.then!)
            if let e = expr.otherwise { expr.otherwise = tailCallOptimize(e) }
            return expr
        }
        if expr.kind == .block, !expr.expressions.isEmpty {
            expr.expressions[expr.expressions.count - 1] = tailCallOptimize(expr.expressions[expr.expressions.count - 1])
            return expr
        }
        return expr
    }

    private mutating func seekParent(_ node: Node, _ slotIn: Slot) throws(JSONataError) -> Slot {
        var slot = slotIn
        switch node.kind {
        case .name, .wildcard:
            slot.level -= 1
            if slot.level == 0 {
                if let anc = node.ancestor {
                    ancestry[slot.index].slot!.label = anc.label
                    node.ancestor = slot
                } else {
                    node.ancestor = slot
                }
                node.isTuple = true
            }
        case .parent:
            slot.level += 1
        case .block:
            if let last = node.expressions.last {
                node.isTuple = true
                slot = try seekParent(last, slot)
            }
        case .path:
            node.isTuple = true
            var index = node.steps.count - 1
            slot = try seekParent(node.steps[index], slot)
            index -= 1
            while slot.level > 0 && index >= 0 {
                slot = try seekParent(node.steps[index], slot)
                index -= 1
            }
        default:
            throw JSONataError(code: "S0217", position: node.position, token: "\(node.kind)")
        }
        return slot
    }

    private func pushAncestry(_ result: Node, _ value: Node) {
        guard value.seekingParent != nil || value.kind == .parent else { return }
        var slots = value.seekingParent ?? []
        if value.kind == .parent { slots.append(value.slot!) }
        if result.seekingParent == nil {
            result.seekingParent = slots
        } else {
            result.seekingParent!.append(contentsOf: slots)
        }
    }

    private mutating func resolveAncestry(_ path: Node) throws(JSONataError) {
        var index = path.steps.count - 1
        let laststep = path.steps[index]
        var slots = laststep.seekingParent ?? []
        if laststep.kind == .parent { slots.append(laststep.slot!) }
        for s in slots {
            var slot = s
            index = path.steps.count - 2
            while slot.level > 0 {
                if index < 0 {
                    if path.seekingParent == nil {
                        path.seekingParent = [slot]
                    } else {
                        path.seekingParent!.append(slot)
                    }
                    break
                }
                var step = path.steps[index]
                index -= 1
                while index >= 0 && step.focus != nil && path.steps[index].focus != nil {
                    step = path.steps[index]
                    index -= 1
                }
                slot = try seekParent(step, slot)
            }
        }
    }
}
