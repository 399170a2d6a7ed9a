import Testing
@testable import StatesLanguage

@Suite struct PayloadTemplateTests {
    static let location = DefinitionLocation(["States", "Pass", "Parameters"])

    static func template(_ text: String, allowIntrinsics: Bool = true) throws -> PayloadTemplate {
        try PayloadTemplate(JSON.parse(text), location: location, allowIntrinsics: allowIntrinsics)
    }

    static func diagnostics(_ text: String, allowIntrinsics: Bool = true) throws -> [Diagnostic] {
        let json = try JSON.parse(text)
        do {
            _ = try PayloadTemplate(json, location: location, allowIntrinsics: allowIntrinsics)
            return []
        } catch {
            return error.diagnostics
        }
    }

    @Test(arguments: [
        // AWS behaviour: copied members first in definition order, then evaluated ones in Java
        // HashMap order (see PayloadTemplate). Cases assign...BASE_REFERENCE_IN_INTRINSIC_FUNCTION,
        // scenarios...test_map_item_reader_base_json_with_items_path, ...test_map_state_config_distributed_reentrant.
        (#"{"encoded.$":"$.a","decoded.$":"$.b"}"#, #"{"decoded":2,"encoded":1}"#),
        (#"{"Bucket.$":"$.a","Key.$":"$.b","from_previous":["x"]}"#, #"{"from_previous":["x"],"Bucket":1,"Key":2}"#),
        (#"{"Iterations":3,"Values.$":"$.b"}"#, #"{"Iterations":3,"Values":2}"#),
        (#"{"Iterations.$":"$.a","Values.$":"$.b"}"#, #"{"Values":2,"Iterations":1}"#),
        (#"{"z":1,"y":{"k.$":"$.a","j":0},"x":2}"#, #"{"z":1,"y":{"j":0,"k":1},"x":2}"#),
        // A copied member of the same name keeps its place and takes the evaluated value.
        (#"{"a":0,"b":1,"a.$":"$.b"}"#, #"{"a":2,"b":1}"#),
        // Objects inside arrays are templates too; plain strings that look like paths are not.
        (#"{"list":[{"v.$":"$.a"},"$.a",[{"w.$":"$.b"}]]}"#, #"{"list":[{"v":1},"$.a",[{"w":2}]]}"#),
        (#"{"all.$":"$","ctx.$":"$$.State.Name","var.$":"$v.k","fn.$":"States.MathAdd($.a, $v.k)"}"#,
         #"{"all":{"a":1,"b":2},"ctx":"Pass","var":10,"fn":11}"#),  // Java HashMap order, checked with String.hashCode
        (#"{"items.$":"$.list[*].x"}"#, #"{"items":[]}"#),
        ("{}", "{}"),
        ("[1,{\"a\":2}]", "[1,{\"a\":2}]"),
        ("\"text\"", "\"text\""),
    ])
    func evaluates(_ text: String, _ expected: String) throws {
        let env = EvaluationEnvironment(input: ["a": 1, "b": 2], context: ["State": ["Name": "Pass"]],
                                        variables: Variables(["v": ["k": 10]]))
        #expect(try Self.template(text).evaluate(in: env).serialized() == expected)
    }

    @Test func constantTemplatesAreRecognized() throws {
        #expect(try Self.template(#"{"a":[1,{"b":"$.x"}],"c":"$.y"}"#).isConstant)
        #expect(try !Self.template(#"{"a":[1,{"b.$":"$.x"}]}"#).isConstant)
    }

    @Test func reportsWhatItReads() throws {
        let t = try Self.template(#"{"a.$":"$x","b":{"c.$":"States.Format('{}', $y.z, $$.Execution.Id)"},"d.$":"$.e"}"#)
        #expect(t.variableNames == ["x", "y"])
        #expect(t.referencesContext)
        let plain = try Self.template(#"{"a.$":"$.x","b":"$$.y"}"#)
        #expect(plain.variableNames.isEmpty)
        #expect(!plain.referencesContext)
    }

    // Case scenarios...test_invalid_jsonpath.INVALID_JSONPATH_IN_STRING_EXPR_JSONPATH (prefix added by the engine).
    @Test func pathThatSelectsNothing() throws {
        let env = EvaluationEnvironment(input: ["int-literal": 0])
        let error = #expect(throws: StatesError.self) { try Self.template(#"{"value.$":"$.no_such_jsonpath"}"#).evaluate(in: env) }
        #expect(error?.name == "States.Runtime")
        #expect(error?.cause == #"The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"int-literal":0}'"#)
        #expect(error?.inState("pass", enteredEventID: 2).cause
            == #"An error occurred while executing the state 'pass' (entered at the event id #2). The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{"int-literal":0}'"#)
        let nested = #expect(throws: StatesError.self) { try Self.template(#"{"a":{"b.$":"$.x.y"}}"#).evaluate(in: env) }
        #expect(nested?.cause == #"The JSONPath '$.x.y' specified for the field 'b.$' could not be found in the input '{"int-literal":0}'"#)
        let context = #expect(throws: StatesError.self) {
            try Self.template(#"{"t.$":"$$.Task.Token"}"#).evaluate(in: EvaluationEnvironment(input: [:], context: ["State": [:]]))
        }
        #expect(context?.cause == #"The JSONPath '$$.Task.Token' specified for the field 't.$' could not be found in the input '{"State":{}}'"#)
        let variable = #expect(throws: StatesError.self) { try Self.template(#"{"v.$":"$nope"}"#).evaluate(in: env) }
        #expect(variable?.name == "States.Runtime")
    }

    @Test func intrinsicFailuresPassThrough() throws {
        let error = #expect(throws: StatesError.self) {
            try Self.template(#"{"v.$":"States.ArrayGetItem($.a, 3)"}"#).evaluate(in: EvaluationEnvironment(input: ["a": [1]]))
        }
        #expect(error?.name == "States.IntrinsicFailure")
    }

    // Cases validation...test_illegal_escapes.ESCAPE_SEQUENCES_ILLEGAL_INTRINSIC_FUNCTION(_2).
    @Test func invalidFieldsAreReportedAtTheirObject() throws {
        let top = try Self.diagnostics(#"{"parsed.$":"States.Format('He said, \\\"Hello, {}!\\\"', 'Test \\\"Name\\\" Here')"}"#)
        #expect(top.map(\.description) == [
            "SCHEMA_VALIDATION_FAILED: The value for the field 'parsed.$' must be a valid JSONPath or a valid intrinsic function call at /States/Pass/Parameters",
        ])
        let many = try Self.diagnostics(#"{"a.$":1,"b":{"c.$":"nope"},"d":[{"e.$":"$."}],"ok.$":"$.x"}"#)
        #expect(many.map(\.description) == [
            "SCHEMA_VALIDATION_FAILED: The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call at /States/Pass/Parameters",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'c.$' must be a valid JSONPath or a valid intrinsic function call at /States/Pass/Parameters/b",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'e.$' must be a valid JSONPath or a valid intrinsic function call at /States/Pass/Parameters/d/0",
        ])
        let noIntrinsics = try Self.diagnostics(#"{"a.$":"States.UUID()"}"#, allowIntrinsics: false)
        #expect(noIntrinsics.map(\.message) == ["The value for the field 'a.$' must be a valid JSONPath"])
    }
}
