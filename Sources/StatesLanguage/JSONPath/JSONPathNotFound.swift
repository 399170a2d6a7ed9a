/// A definite JSONPath that selected nothing, with Jayway's explanation.
public struct JSONPathNotFound: Error, Sendable, CustomStringConvertible {
    public let path: JSONPath
    let miss: JSONPath.Miss

    /// Jayway's message, e.g. `No results for path: $['x']` or `Missing property in path $['a']`.
    ///
    /// AWS behaviour: AWS quotes it after `Invalid path '<path>' : ` for `InputPath`,
    /// `OutputPath`, `TimeoutSecondsPath`, ... (cases
    /// `scenarios.*test_invalid_jsonpath.ST.INVALID_JSONPATH_IN_INPUTPATH*`,
    /// `scenarios.*test_catch_states_runtime`).
    public var jaywayMessage: String {
        let prefix = (path.isRelative ? "@" : "$") + path.steps[..<miss.stepIndex].map(\.normalizedText).joined()
        let step = path.steps[miss.stepIndex]
        switch miss.reason {
        case .missingLeaf, .noResult:
            return "No results for path: " + path.normalizedText
        case .missingProperty:
            return "Missing property in path " + prefix + step.normalizedText
        case .notAnObject(let found):
            // Jayway with Jackson's JsonNode provider, which unwraps scalars to Java values.
            let fragment: String
            if case .property(let name) = step { fragment = "['\(name)']" } else { fragment = step.normalizedText }
            return "Expected to find an object with property \(fragment) in path \(prefix) but found '\(Self.javaClassName(found))'. "
                + "This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."
        case .notAnArray(let found):
            if case .null = found { return "The path \(prefix) is null" }
            return "Filter: \(step.normalizedText) can only be applied to arrays. Current context is: \(Self.javaToString(found))"
        case .functionFailed(let message):
            return message
        }
    }

    /// AWS's wording for a `*Path` field that selects nothing:
    /// `Invalid path '<path>' : <Jayway message>`.
    public var invalidPathMessage: String { "Invalid path '\(path.text)' : \(jaywayMessage)" }

    public var description: String { jaywayMessage }

    static func javaClassName(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "java.lang.Boolean"
        case .int(let i): (i >= Int64(Int32.min) && i <= Int64(Int32.max)) ? "java.lang.Integer" : "java.lang.Long"
        case .double: "java.lang.Double"
        // Jackson reads an integer beyond 64 bits as a BigInteger, any other literal as a double.
        case .decimal(let n): n.literal.contains(where: { ".eE".contains($0) }) ? "java.lang.Double" : "java.math.BigInteger"
        case .string: "java.lang.String"
        case .array: "com.fasterxml.jackson.databind.node.ArrayNode"
        case .object: "com.fasterxml.jackson.databind.node.ObjectNode"
        }
    }

    static func javaToString(_ value: JSON) -> String {
        switch value {
        case .string(let s): s
        default: value.serialized()
        }
    }
}
