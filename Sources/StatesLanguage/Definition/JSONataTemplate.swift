import JSONata

/// A JSONata-mode field value: a JSON value whose strings of the form `{% expr %}` are
/// expressions, in any member or element. Compiled once when the definition is parsed.
public struct JSONataTemplate: Sendable {
    /// The value as written in the definition.
    public let json: JSON
    let root: Node

    indirect enum Node: Sendable {
        case literal(JSON)
        case expression(JSONataExpression)
        case object([(String, Node)])
        case array([Node])
    }

    /// A template that failed to compile: the path inside the field and the JSONata error.
    public struct CompileError: Error, Sendable {
        public var path: [String]
        public var expression: String
        public var error: JSONataError
    }

    /// Compiles every `{% %}` string of `json`.
    public init(_ json: JSON) throws(CompileError) {
        self.json = json
        root = try Self.compile(json, path: [])
    }

    /// An uncompiled literal (used for values known to hold no expressions).
    public init(literal json: JSON) {
        self.json = json
        root = .literal(json)
    }

    private static func compile(_ json: JSON, path: [String]) throws(CompileError) -> Node {
        switch json {
        case .string(let s):
            guard let source = expressionSource(s) else { return .literal(json) }
            do {
                return .expression(try JSONataExpression(source))
            } catch {
                throw CompileError(path: path, expression: source, error: error)
            }
        case .object(let o):
            var members: [(String, Node)] = []
            members.reserveCapacity(o.count)
            var allLiteral = true
            for (k, v) in o {
                let node = try compile(v, path: path + [k])
                if case .literal = node {} else { allLiteral = false }
                members.append((k, node))
            }
            return allLiteral ? .literal(json) : .object(members)
        case .array(let a):
            var nodes: [Node] = []
            nodes.reserveCapacity(a.count)
            var allLiteral = true
            for (i, v) in a.enumerated() {
                let node = try compile(v, path: path + [String(i)])
                if case .literal = node {} else { allLiteral = false }
                nodes.append(node)
            }
            return allLiteral ? .literal(json) : .array(nodes)
        default:
            return .literal(json)
        }
    }

    /// The expression inside `{% ... %}`, trimmed; nil for other strings.
    public static func expressionSource(_ s: String) -> String? {
        guard isExpressionString(s) else { return nil }
        let inner = s.dropFirst(2).dropLast(2)
        return String(inner.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }

    public static func isExpressionString(_ s: String) -> Bool {
        s.hasPrefix("{%") && s.hasSuffix("%}") && s.utf8.count >= 4
    }

    /// True when the whole value is one `{% %}` string.
    public var isExpression: Bool {
        if case .expression = root { return true }
        return false
    }

    /// Free variables of every expression (for `variableReferences`).
    public var referencedVariables: Set<String> {
        var out = Set<String>()
        func walk(_ n: Node) {
            switch n {
            case .literal: break
            case .expression(let e): out.formUnion(e.referencedVariables)
            case .object(let members): for (_, v) in members { walk(v) }
            case .array(let nodes): for v in nodes { walk(v) }
            }
        }
        walk(root)
        return out
    }

    /// Why an evaluation failed, in Step Functions' words.
    public struct EvaluationError: Error, Sendable {
        /// The field path, e.g. `Output/result`.
        public var location: String
        public var message: String
    }

    /// Evaluates the template.
    ///
    /// - Parameters:
    ///   - field: the field name, e.g. `Output`; member paths are appended (`Output/result`).
    ///   - input: JSONata's `$`.
    ///   - bindings: `states` and the workflow variables.
    /// - Throws: `EvaluationError` with AWS's wording: an expression that returns nothing
    ///   ("returned nothing (undefined)"), one that fails ("threw an error during
    ///   evaluation. T1006: ..."), or one that returns a function ("returned an unsupported
    ///   result type").
    public func evaluate(field: String, input: JSON?, bindings: [String: JSON], options: JSONataOptions) throws(EvaluationError) -> JSON {
        try Self.evaluate(root, location: field, input: input, bindings: bindings, options: options)
    }

    private static func evaluate(_ node: Node, location: String, input: JSON?, bindings: [String: JSON],
                                 options: JSONataOptions) throws(EvaluationError) -> JSON
    {
        switch node {
        case .literal(let v):
            return v
        case .expression(let e):
            let outcome: JSONataExpression.Outcome
            do {
                outcome = try e.evaluateOutcome(input: input, bindings: bindings, options: options)
            } catch {
                throw EvaluationError(location: location, message:
                    "The JSONata expression '\(e.source)' specified for the field '\(location)' threw an error during evaluation. \(error.code): \(error.message)")
            }
            switch outcome {
            case .value(let v):
                return v
            case .undefined:
                throw EvaluationError(location: location, message:
                    "The JSONata expression '\(e.source)' specified for the field '\(location)' returned nothing (undefined).")
            case .function:
                throw EvaluationError(location: location, message:
                    "The JSONata expression '\(e.source)' specified for the field '\(location)' returned an unsupported result type.")
            }
        case .object(let members):
            var o = JSONObject(minimumCapacity: members.count)
            for (k, v) in members {
                o.append(k, try evaluate(v, location: location + "/" + k, input: input, bindings: bindings, options: options))
            }
            return .object(o)
        case .array(let nodes):
            var a: [JSON] = []
            a.reserveCapacity(nodes.count)
            for (i, v) in nodes.enumerated() {
                a.append(try evaluate(v, location: location + "/" + String(i), input: input, bindings: bindings, options: options))
            }
            return .array(a)
        }
    }

    /// The source of the template's single expression, for messages about its result.
    public var expressionText: String? {
        if case .expression(let e) = root { return e.source }
        return nil
    }
}
