/// The value of a `.$` field or of a `*Path` field in a JSONPath-mode state: a path into the
/// state input (`$...`), into the context object (`$$...`), into a workflow variable
/// (`$name...`), or, where the field allows it, an intrinsic function call (`States.X(...)`).
///
/// Compiled once; `referencesContext` and `variableNames` let the engine skip building the
/// context object and report `variableReferences`.
public struct PathExpression: Sendable, Hashable, CustomStringConvertible {
    /// One reference, so that copies are cheap on the evaluation path.
    let storage: Storage

    final class Storage: Sendable {
        let text: String
        let kind: Kind
        init(text: String, kind: Kind) {
            self.text = text
            self.kind = kind
        }
    }

    /// The expression as written.
    public var text: String { storage.text }
    public var kind: Kind { storage.kind }

    public enum Kind: Sendable, Hashable {
        /// `$...`: a JSONPath over the state input.
        case input(JSONPath)
        /// `$$...`: a JSONPath over the context object (stored as `$...`).
        case context(JSONPath)
        /// `$name...`: a JSONPath (stored as `$...`) over the value of variable `name`.
        case variable(name: String, path: JSONPath)
        /// `States.Name(...)`.
        case intrinsic(IntrinsicCall)
    }

    /// Parses a path expression.
    ///
    /// - Parameters:
    ///   - allowIntrinsics: whether `States.X(...)` is accepted (payload templates, Fail
    ///     `ErrorPath`/`CausePath`); plain `*Path` fields say no.
    ///   - allowContext: whether `$$` paths are accepted.
    ///   - allowVariables: whether `$name` paths are accepted.
    /// - Throws: `JSONPathError` describing the first problem.
    public init(_ text: String, allowIntrinsics: Bool, allowContext: Bool = true, allowVariables: Bool = true) throws(JSONPathError) {
        let kind: Kind
        let bytes = Array(text.utf8)
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "$") {
            guard allowContext else { throw JSONPathError("Context object paths are not allowed here") }
            kind = .context(try JSONPath(String(text.dropFirst())))
        } else if bytes.count >= 2, bytes[0] == UInt8(ascii: "$"), Self.isVariableNameStart(bytes[1]) {
            guard allowVariables else { throw JSONPathError("Variables are not allowed here") }
            var end = 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "."), bytes[end] != UInt8(ascii: "[") {
                guard Self.isVariableNameCharacter(bytes[end]) else {
                    throw JSONPathError("Invalid character in variable name at position \(end)")
                }
                end += 1
            }
            let name = String(decoding: bytes[1..<end], as: UTF8.self)
            let rest = String(decoding: bytes[end...], as: UTF8.self)
            kind = .variable(name: name, path: try JSONPath("$" + rest))
        } else if bytes.first == UInt8(ascii: "$") {
            kind = .input(try JSONPath(text))
        } else if allowIntrinsics, text.hasPrefix("States.") {
            kind = .intrinsic(try IntrinsicCall(text))
        } else {
            throw JSONPathError(allowIntrinsics ? "Expected a path or an intrinsic function call" : "Expected a path")
        }
        storage = Storage(text: text, kind: kind)
    }

    init(text: String, kind: Kind) {
        storage = Storage(text: text, kind: kind)
    }

    public static func == (a: PathExpression, b: PathExpression) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    static func isVariableNameStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_") || c >= 0x80
    }

    static func isVariableNameCharacter(_ c: UInt8) -> Bool {
        isVariableNameStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    public var description: String { text }

    /// Whether evaluating reads the context object (`$$`), directly or in an intrinsic argument.
    public var referencesContext: Bool {
        switch kind {
        case .context: true
        case .input, .variable: false
        case .intrinsic(let call): call.referencesContext
        }
    }

    /// The workflow variables read, by name.
    public var variableNames: Set<String> {
        var names = Set<String>()
        collectVariableNames(into: &names)
        return names
    }

    func collectVariableNames(into names: inout Set<String>) {
        switch kind {
        case .variable(let name, _): names.insert(name)
        case .input, .context: break
        case .intrinsic(let call): call.collectVariableNames(into: &names)
        }
    }

    /// Whether the value is always exactly one node (or a miss): false for indefinite paths,
    /// whose value is an array of matches.
    public var isDefinite: Bool {
        switch kind {
        case .input(let p), .context(let p), .variable(_, let p): p.isDefinite
        case .intrinsic: true
        }
    }

    /// The input path this expression is, if it is a plain `$...` path.
    public var inputPath: JSONPath? {
        if case .input(let p) = kind { return p }
        return nil
    }
}

// MARK: - Evaluation

extension PathExpression {
    /// The selected value, or nil when a definite path selects nothing (or the variable is
    /// not bound). Used where a miss is not an error (`IsPresent`) or is worded by the caller
    /// (Wait `SecondsPath`).
    ///
    /// - Throws: `StatesError` only from an intrinsic function (`States.IntrinsicFailure`,
    ///   or `States.Runtime` when one of its path arguments selects nothing).
    public func value(in env: EvaluationEnvironment) throws(StatesError) -> JSON? {
        switch storage.kind {
        case .input(let path): return path.evaluate(env.input)
        case .context(let path): return path.evaluate(env.context)
        case .variable(let name, let path):
            guard let value = env.variables[name] else { return nil }
            return path.isRoot ? value : path.evaluate(value)
        case .intrinsic(let call): return try call.evaluate(in: env, field: nil)
        }
    }

    /// The selected value, for `InputPath`, `OutputPath`, `ItemsPath`, `*SecondsPath` and the
    /// like.
    ///
    /// - Throws: `States.Runtime` when a definite path selects nothing, with AWS's cause
    ///   `Invalid path '<text>' : <Jayway's explanation>`, e.g.
    ///   `Invalid path '$.x' : No results for path: $['x']` (the engine prefixes the state).
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> JSON {
        switch storage.kind {
        case .input(let path):
            if let value = path.evaluate(env.input) { return value }
            throw Self.invalidPath(path, in: env.input, text: text)
        case .context(let path):
            if let value = path.evaluate(env.context) { return value }
            throw Self.invalidPath(path, in: env.context, text: text)
        case .variable(let name, let path):
            guard let variable = env.variables[name] else {
                throw StatesError(StatesError.Name.runtime, cause: "Invalid path '\(text)' : Variable '\(name)' is not defined", framing: .invalidPath)
            }
            if let value = path.evaluate(variable) { return value }
            throw Self.invalidPath(path, in: variable, text: text)
        case .intrinsic(let call):
            return try call.evaluate(in: env, field: nil)
        }
    }

    /// The selected value, for a `.$` field of a payload template.
    ///
    /// - Parameter field: the field name as written, with its `.$` (e.g. `value.$`).
    /// - Throws: `States.Runtime` when a definite path selects nothing, with AWS's cause
    ///   `The JSONPath '<text>' specified for the field '<field>' could not be found in the input '<input JSON>'`
    ///   (case `scenarios.*test_invalid_jsonpath.INVALID_JSONPATH_IN_STRING_EXPR_JSONPATH*`);
    ///   `States.IntrinsicFailure` from an intrinsic function.
    public func evaluate(in env: EvaluationEnvironment, field: String) throws(StatesError) -> JSON {
        switch storage.kind {
        case .input(let path):
            if let value = path.evaluate(env.input) { return value }
        case .context(let path):
            if let value = path.evaluate(env.context) { return value }
        case .variable(let name, let path):
            if let variable = env.variables[name], let value = path.isRoot ? variable : path.evaluate(variable) { return value }
        case .intrinsic(let call):
            return try call.evaluate(in: env, field: field)
        }
        throw notFound(in: env, field: field)
    }

    /// The `States.Runtime` error for this path selecting nothing in a template field.
    func notFound(in env: EvaluationEnvironment, field: String) -> StatesError {
        let document: JSON
        switch kind {
        case .context: document = env.context
        default: document = env.input
        }
        return StatesError(StatesError.Name.runtime,
                           cause: "The JSONPath '\(text)' specified for the field '\(field)' could not be found in the input '\(document.serialized())'")
    }

    /// AWS's cause for a `*Path` field that selects nothing, with Jayway's explanation.
    private static func invalidPath(_ path: JSONPath, in document: JSON, text: String) -> StatesError {
        do {
            _ = try path.resolve(document)
            return StatesError(StatesError.Name.runtime, cause: "Invalid path '\(text)' : No results for path: \(path.normalizedText)", framing: .invalidPath)
        } catch {
            return StatesError(StatesError.Name.runtime, cause: "Invalid path '\(text)' : \(error.jaywayMessage)", framing: .invalidPath)
        }
    }
}
