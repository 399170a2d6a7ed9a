import StatesEngine
import StatesLanguage
import Testing

/// JSONata fields whose value must have a type after evaluation: a value of the wrong type
/// is `States.QueryEvaluationError` with AWS's "returned an unexpected result type" cause,
/// recorded as EvaluationFailed at the field.
@Suite struct TypedFieldTests {
    static func jsonata(_ state: String) -> String {
        #"{"QueryLanguage":"JSONata","StartAt":"S","States":{"S":"# + state + "}}"
    }

    @Test(arguments: [
        (#"{"Type":"Fail","Error":"{% $states.input.n %}"}"#, "Error", "$states.input.n", "string", "number", "5"),
        (#"{"Type":"Fail","Error":"E","Cause":"{% $states.input.o %}"}"#, "Cause", "$states.input.o", "string", "object", #"{"a":[1]}"#),
        (#"{"Type":"Wait","Timestamp":"{% $states.input.n %}","End":true}"#, "Timestamp", "$states.input.n", "string", "number", "5"),
        (#"{"Type":"Map","Items":"{% $states.input.o %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"#,
         "Items", "$states.input.o", "array", "object", #"{"a":[1]}"#),
        (#"{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"#,
         "Items", "$states.input", "array", "object", #"{"n":5,"o":{"a":[1]},"s":"x"}"#),
        (#"{"Type":"Map","Items":[1],"MaxConcurrency":"{% $states.input.o %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}"#,
         "MaxConcurrency", "$states.input.o", "integer", "object", #"{"a":[1]}"#),
        (#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{},"TimeoutSeconds":"{% $states.input.s %}","End":true}"#,
         "TimeoutSeconds", "$states.input.s", "integer", "string", #""x""#),
        (#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{},"Credentials":{"RoleArn":"{% $states.input.n %}"},"End":true}"#,
         "Credentials/RoleArn", "$states.input.n", "string", "number", "5"),
    ])
    func jsonataWrongTypeIsAQueryEvaluationError(_ state: String, _ field: String, _ expression: String, _ expected: String,
                                                 _ actual: String, _ value: String) throws
    {
        let f = try FailedRun.run(Self.jsonata(state), input: ["n": 5, "o": ["a": [1]], "s": "x"])
        #expect(f.error == "States.QueryEvaluationError")
        #expect(f.cause == FailedRun.prefix + "The JSONata expression '\(expression)' specified for the field '\(field)' returned an unexpected result type. Expected '\(expected)', but was '\(actual)' for value: \(value)")
        #expect(f.location == field)
    }

    @Test func jsonataStringsStillWork() throws {
        let f = try FailedRun.run(Self.jsonata(#"{"Type":"Fail","Error":"{% $states.input.e %}","Cause":"{% 'c' & $string($states.input.n) %}"}"#),
                              input: ["e": "Boom", "n": 5])
        #expect(f.error == "Boom" && f.cause == "c5" && f.location == nil)
    }
}
