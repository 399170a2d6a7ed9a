// Interim declarations of the expression layer (JSONPath, path expressions, payload
// templates, Choice rules, timestamps) so that the definition model compiles while that
// layer is written on its own branch; the branch's merge deletes this file.

public struct PayloadTemplate: Sendable {
    public init(_ json: JSON, location: DefinitionLocation) throws(InvalidDefinition) {}
    public var referencesContext: Bool { false }
    public var variableNames: Set<String> { [] }
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> JSON { throw StatesError("Interim.NotImplemented") }
}

public indirect enum ChoiceRule: Sendable {
    case interim
    public init(_ json: JSON, location: DefinitionLocation, isTopLevel: Bool) throws(InvalidDefinition) { self = .interim }
    public var referencesContext: Bool { false }
    public var variableNames: Set<String> { [] }
    public func evaluate(in env: EvaluationEnvironment) throws(StatesError) -> Bool { throw StatesError("Interim.NotImplemented") }
}

