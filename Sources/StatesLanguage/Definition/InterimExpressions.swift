// Interim declarations of the expression layer (JSONPath, path expressions, payload
// templates, Choice rules, timestamps) so that the definition model compiles while that
// layer is written on its own branch; the branch's merge deletes this file.

public struct JSONPathError: Error, Sendable { public var message: String }

public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) throws(JSONPathError) { self.text = text }
    public var isReferencePath: Bool { true }
    public var isDefinite: Bool { true }
    public var description: String { text }
    public func evaluate(_ root: JSON) -> JSON? { fatalError("interim") }
    public func assigning(_ value: JSON, into root: JSON) throws(JSONPathError) -> JSON { fatalError("interim") }
}

public struct PathExpression: Sendable {
    public let text: String
    public init(_ text: String, allowIntrinsics: Bool) throws(JSONPathError) { self.text = text }
    public var referencesContext: Bool { false }
    public var variableNames: Set<String> { [] }
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> JSON { fatalError("interim") }
}

public struct PayloadTemplate: Sendable {
    public init(_ json: JSON, location: DefinitionLocation) throws(InvalidDefinition) {}
    public var referencesContext: Bool { false }
    public var variableNames: Set<String> { [] }
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> JSON { fatalError("interim") }
}

public indirect enum ChoiceRule: Sendable {
    case interim
    public init(_ json: JSON, location: DefinitionLocation, isTopLevel: Bool) throws(InvalidDefinition) { self = .interim }
    public var referencesContext: Bool { false }
    public var variableNames: Set<String> { [] }
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> Bool { fatalError("interim") }
}

public struct Timestamp: Sendable, Hashable {
    public var nanoseconds: Int64
    public init?(rfc3339 text: String) { return nil }
}
