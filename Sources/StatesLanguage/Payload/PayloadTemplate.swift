/// A payload template: `Parameters`, `ResultSelector`, `ItemSelector` (and the Map's
/// deprecated `Parameters`), Task `Credentials`, and JSONPath-mode `Assign`.
///
/// Members whose name ends in `.$` take the value of a path expression (input `$...`,
/// context `$$...`, variable `$name...` or intrinsic `States.X(...)`) under the name without
/// the `.$`; other members are copied. Objects nested in objects and in arrays are templates
/// too. The template is compiled once; parts with nothing to evaluate are kept as constants.
///
/// AWS behaviour: in an object of the result, the copied members come first, in the order
/// of the definition, and the evaluated members follow in the iteration order of a Java
/// `HashMap` keyed by their names (without `.$`). Verified on every template output in the
/// corpus (111 objects), e.g. `assign.*BASE_REFERENCE_IN_INTRINSIC_FUNCTION*` gives
/// `{"decoded", "encoded"}` for `{"encoded.$", "decoded.$"}`, and
/// `scenarios.*test_map_item_reader_base_json_with_items_path*` gives
/// `{"from_previous", "Bucket", "Key"}` for `{"Bucket.$", "Key.$", "from_previous"}`.
public struct PayloadTemplate: Sendable {
    let root: Node
    /// Whether evaluating reads the context object (`$$`).
    public let referencesContext: Bool
    /// The workflow variables the template reads, by name.
    public let variableNames: Set<String>

    enum Node: Sendable {
        case constant(JSON)
        case array(ArrayNode)
        case object(ObjectNode)
    }

    /// An array with something to evaluate.
    final class ArrayNode: Sendable {
        let elements: ContiguousArray<Node>
        init(_ elements: ContiguousArray<Node>) { self.elements = elements }
    }

    /// An object with something to evaluate; members in output order.
    final class ObjectNode: Sendable {
        /// Output names (without `.$`), shared by every object the node produces.
        let names: ContiguousArray<String>
        let index: [String: Int]?
        let values: ContiguousArray<MemberValue>
        init(names: ContiguousArray<String>, values: ContiguousArray<MemberValue>) {
            self.names = names
            self.values = values
            index = JSONObject.makeIndex(names)
        }
    }

    enum MemberValue: Sendable {
        case node(Node)
        case expression(ExpressionMember)
    }

    /// A `.$` member: the expression and the field name as written (with `.$`) for causes.
    final class ExpressionMember: Sendable {
        let expression: PathExpression
        let field: String
        init(_ expression: PathExpression, field: String) {
            self.expression = expression
            self.field = field
        }
    }

    struct Member {
        let name: String
        let value: MemberValue
    }

    /// Compiles `json`.
    ///
    /// - Parameters:
    ///   - location: where the template sits in the definition, e.g. `/States/Pass/Parameters`.
    ///   - allowIntrinsics: whether `.$` fields may hold intrinsic function calls.
    /// - Throws: every problem found, as `SCHEMA_VALIDATION_FAILED` diagnostics located at the
    ///   object holding the bad field, e.g.
    ///   `The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call`
    ///   at `/States/IntrinsicEscape/Parameters` (cases
    ///   `validation.*test_illegal_escapes.ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION*`).
    public init(_ json: JSON, location: DefinitionLocation, allowIntrinsics: Bool = true) throws(ExpressionDiagnostics) {
        var compiler = Compiler(allowIntrinsics: allowIntrinsics)
        let root = compiler.compile(json, at: location)
        guard compiler.diagnostics.isEmpty else { throw ExpressionDiagnostics(compiler.diagnostics) }
        self.root = root
        referencesContext = compiler.referencesContext
        variableNames = compiler.variableNames
    }

    /// Whether the template has nothing to evaluate (its result is always the same).
    public var isConstant: Bool {
        if case .constant = root { return true }
        return false
    }

    /// Evaluates the template.
    ///
    /// - Throws: `States.Runtime` when a definite path selects nothing
    ///   (`The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '<input>'`),
    ///   `States.IntrinsicFailure` when an intrinsic function fails. The engine prefixes the
    ///   cause with the state (see `StatesError.inState(_:enteredEventID:)`).
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> JSON {
        try Self.evaluate(root, in: env)
    }

    private static func evaluate(_ node: Node, in env: EvaluationEnvironment) throws(StatesError) -> JSON {
        switch node {
        case .constant(let value):
            return value
        case .array(let array):
            var out: [JSON] = []
            out.reserveCapacity(array.elements.count)
            for element in array.elements { out.append(try evaluate(element, in: env)) }
            return .array(out)
        case .object(let object):
            return .object(try JSONObject(names: object.names, index: object.index) { i throws(StatesError) in
                switch object.values[i] {
                case .node(let child): try evaluate(child, in: env)
                case .expression(let member): try member.expression.evaluate(in: env, field: member.field)
                }
            })
        }
    }

    // MARK: - Compilation

    private struct Compiler {
        let allowIntrinsics: Bool
        var diagnostics: [Diagnostic] = []
        var referencesContext = false
        var variableNames = Set<String>()

        mutating func compile(_ json: JSON, at location: DefinitionLocation) -> Node {
            switch json {
            case .array(let elements):
                let nodes = elements.enumerated().map { compile($1, at: location.appending($0)) }
                if nodes.allSatisfy({ if case .constant = $0 { true } else { false } }) { return .constant(json) }
                return .array(ArrayNode(ContiguousArray(nodes)))
            case .object(let object):
                return compileObject(object, json: json, at: location)
            default:
                return .constant(json)
            }
        }

        private mutating func compileObject(_ object: JSONObject, json: JSON, at location: DefinitionLocation) -> Node {
            var literal: [Member] = []
            var dynamic: [Member] = []
            var isConstant = true
            for (key, value) in object {
                guard key.hasSuffix(".$") else {
                    let node = compile(value, at: location.appending(key))
                    if case .constant = node {} else { isConstant = false }
                    literal.append(Member(name: key, value: .node(node)))
                    continue
                }
                isConstant = false
                let name = String(key.dropLast(2))
                guard case .string(let text) = value,
                      let expression = try? PathExpression(text, allowIntrinsics: allowIntrinsics)
                else {
                    let expected = allowIntrinsics ? "a valid JSONPath or a valid intrinsic function call" : "a valid JSONPath"
                    diagnostics.append(.schema("The value for the field '\(key)' must be \(expected)", at: location.description))
                    continue
                }
                referencesContext = referencesContext || expression.referencesContext
                expression.collectVariableNames(into: &variableNames)
                dynamic.append(Member(name: name, value: .expression(ExpressionMember(expression, field: key))))
            }
            if isConstant { return .constant(json) }
            var members = literal
            for i in Java.hashMapOrder(dynamic.map(\.name)) {
                let member = dynamic[i]
                // A copied member of the same name keeps its place and takes the evaluated value.
                if let slot = members.firstIndex(where: { $0.name == member.name }) {
                    members[slot] = member
                } else {
                    members.append(member)
                }
            }
            return .object(ObjectNode(names: ContiguousArray(members.map(\.name)), values: ContiguousArray(members.map(\.value))))
        }
    }
}
