/// A function value: a lambda (closure), a built-in, a regular expression matcher, a
/// transform (`| pattern | update |`) or a host closure (the `next` of a regex match).
/// - Note: `@unchecked Sendable` because the built-in tables are shared between threads;
///   their functions are immutable. Other function values never leave their evaluation.
final class JFunction: @unchecked Sendable {
    enum Kind {
        case lambda(Lambda)
        case builtin(Builtin)
        case regex(JSONataRegex)
        case transform(Node, Frame)
        case closure(arity: Int, ([JValue?]) throws -> JValue?)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    var signature: Signature? {
        switch kind {
        case .lambda(let l): l.signature
        case .builtin(let b): b.signature
        case .transform: Signature.transform
        case .regex, .closure: nil
        }
    }

    /// The number of declared parameters, which decides how many arguments the higher-order
    /// functions pass (value, index, array), as jsonata-js's `getFunctionArity` does.
    var arity: Int {
        switch kind {
        case .lambda(let l): l.parameters.count
        case .builtin(let b): b.arity
        case .regex: 2
        case .transform: 1
        case .closure(let arity, _): arity
        }
    }

    var name: String? {
        if case .builtin(let b) = kind { return b.name }
        return nil
    }
}

/// A user-defined function together with the scope it closes over.
///
/// A class rather than a struct: function values are copied around a lot (matching on
/// `JFunction.Kind`), and one reference is cheaper to retain than eight fields.
final class Lambda {
    let input: JValue?
    let environment: Frame
    let parameters: [String]
    let signature: Signature?
    let body: Node?
    /// Set on the lambda made by partially applying a built-in.
    let nativeBody: Builtin?
    let isThunk: Bool

    init(input: JValue?, environment: Frame, parameters: [String], signature: Signature? = nil, body: Node? = nil, nativeBody: Builtin? = nil, isThunk: Bool = false) {
        self.input = input
        self.environment = environment
        self.parameters = parameters
        self.signature = signature
        self.body = body
        self.nativeBody = nativeBody
        self.isThunk = isThunk
    }
}

/// A built-in function: its name, signature, declared parameter count and implementation.
final class Builtin: @unchecked Sendable {
    // @unchecked: the implementation closures capture nothing mutable.
    typealias Implementation = (inout CallContext, [JValue?]) throws -> JValue?
    let name: String
    let signature: Signature?
    let arity: Int
    let implementation: Implementation

    init(_ name: String, _ signature: String?, arity: Int, _ implementation: @escaping Implementation) {
        self.name = name
        self.signature = signature.map { try! Signature($0) }
        self.arity = arity
        self.implementation = implementation
    }

    /// Names under which a partially applied built-in keeps its bound arguments; they cannot
    /// clash with user variables (JSONata names cannot contain a space).
    static let parameterNames: [String] = (0..<8).map { " \($0)" }
}

/// What a built-in sees of its caller: the evaluator, the context value and the scope.
struct CallContext {
    let evaluator: Evaluator
    let input: JValue?
    let environment: Frame
}
