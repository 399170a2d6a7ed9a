import Testing
@testable import StatesLanguage

@Suite struct ChoiceRuleTests {
    static let location = DefinitionLocation(["States", "Check", "Choices", "0"])

    static func rule(_ text: String, isTopLevel: Bool = true) throws -> ChoiceRule {
        try ChoiceRule(JSON.parse(text), location: location, isTopLevel: isTopLevel)
    }

    static func evaluate(_ text: String, _ input: String, variables: [String: JSON] = [:]) throws -> Bool {
        try rule(text).evaluate(in: EvaluationEnvironment(input: JSON.parse(input), context: ["State": ["Name": "Check"]],
                                                          variables: Variables(variables)))
    }

    static func diagnostics(_ text: String, isTopLevel: Bool = true) throws -> [String] {
        let json = try JSON.parse(text)
        do {
            _ = try ChoiceRule(json, location: location, isTopLevel: isTopLevel)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    // The 357 JSONPath cases of the `choice` category run in CorpusExecutionTests; these add
    // operators and edges the corpus does not cover.
    @Test(arguments: [
        (#"{"Variable":"$.v","StringMatches":"log-*.txt"}"#, #"{"v":"log-2024.txt"}"#, true),
        (#"{"Variable":"$.v","StringMatches":"log-*.txt"}"#, #"{"v":"log-2024.csv"}"#, false),
        (#"{"Variable":"$.v","StringMatches":"*"}"#, #"{"v":""}"#, true),
        (#"{"Variable":"$.v","StringMatches":"a\\*b"}"#, #"{"v":"a*b"}"#, true),
        (#"{"Variable":"$.v","StringMatches":"a\\*b"}"#, #"{"v":"axb"}"#, false),
        (#"{"Variable":"$.v","StringMatches":"a\\\\*"}"#, #"{"v":"a\\bc"}"#, true),
        (#"{"Variable":"$.v","StringMatches":"*.*.*"}"#, #"{"v":"a.b"}"#, false),
        (#"{"Variable":"$.v","StringMatches":"*a*a*"}"#, #"{"v":"banana"}"#, true),
        (#"{"Variable":"$.v","StringMatches":"x"}"#, #"{"v":1}"#, false),
        (#"{"Variable":"$.v","StringLessThan":"\uffff"}"#, #"{"v":"😀"}"#, true),  // Java compares UTF-16 units
        (#"{"Variable":"$.v","NumericEquals":1}"#, #"{"v":1.0}"#, true),
        (#"{"Variable":"$.v","NumericLessThan":9007199254740993}"#, #"{"v":9007199254740992}"#, true),
        (#"{"Variable":"$.v","NumericGreaterThanEquals":-1.5}"#, #"{"v":-1.5}"#, true),
        (#"{"Variable":"$.v","NumericEquals":1}"#, #"{"v":"1"}"#, false),
        (#"{"Variable":"$.v","BooleanEqualsPath":"$.w"}"#, #"{"v":true,"w":true}"#, true),
        (#"{"Variable":"$.v","BooleanEqualsPath":"$.w"}"#, #"{"v":true,"w":"true"}"#, false),
        (#"{"Variable":"$.v","StringEqualsPath":"$.w"}"#, #"{"v":"a","w":"a"}"#, true),
        (#"{"Variable":"$.v","NumericLessThanPath":"$.w"}"#, #"{"v":1,"w":"2"}"#, false),
        (#"{"Variable":"$.v","TimestampEquals":"2012-10-09T19:00:55Z"}"#, #"{"v":"2012-10-09T20:00:55+01:00"}"#, true),
        (#"{"Variable":"$.v","TimestampLessThan":"2012-10-09T19:00:55Z"}"#, #"{"v":"not a time"}"#, false),
        (#"{"Variable":"$.v","TimestampGreaterThanPath":"$.w"}"#, #"{"v":"2012-10-09T19:00:56Z","w":"2012-10-09T19:00:55.999Z"}"#, true),
        (#"{"Variable":"$.v","TimestampLessThanEqualsPath":"$.w"}"#, #"{"v":"2012-10-09T19:00:56Z","w":5}"#, false),
        (#"{"Variable":"$.v","IsTimestamp":true}"#, #"{"v":"2016-03-14T01:59:00Z"}"#, true),
        (#"{"Variable":"$.v","IsTimestamp":true}"#, #"{"v":"2016-03-14T01:59:00"}"#, false),
        (#"{"Variable":"$.v","IsTimestamp":false}"#, #"{"v":7}"#, true),
        (#"{"Variable":"$.v","IsPresent":false}"#, "{}", true),
        (#"{"Variable":"$.v.w","IsPresent":true}"#, #"{"v":1}"#, false),
        (#"{"Variable":"$.v[5]","IsPresent":true}"#, #"{"v":[1]}"#, false),
        (#"{"Variable":"$.v[*]","IsPresent":true}"#, "{}", true),  // an indefinite path always selects (an array)
        (#"{"Variable":"$","IsNull":false}"#, "{}", true),
        (#"{"Variable":"$.v[?(@ > 1)]","IsNumeric":false}"#, #"{"v":[1,2]}"#, true),
        (#"{"Variable":"$.v.length()","NumericEquals":2}"#, #"{"v":[1,2]}"#, true),
        (#"{"And":[{"Variable":"$.a","NumericEquals":1},{"Not":{"Variable":"$.b","StringEquals":"x"}}]}"#, #"{"a":1,"b":"y"}"#, true),
        (#"{"Or":[{"Variable":"$.a","NumericEquals":2},{"Variable":"$.b","IsPresent":true}]}"#, #"{"a":1}"#, false),
        // And and Or stop at the first rule that decides: the missing path is never read.
        (#"{"And":[{"Variable":"$.a","NumericEquals":2},{"Variable":"$.missing","NumericEquals":1}]}"#, #"{"a":1}"#, false),
        (#"{"Or":[{"Variable":"$.a","NumericEquals":1},{"Variable":"$.missing","NumericEquals":1}]}"#, #"{"a":1}"#, true),
    ])
    func evaluates(_ rule: String, _ input: String, _ expected: Bool) throws {
        #expect(try Self.evaluate(rule, input) == expected)
    }

    @Test func variablesAndContext() throws {
        // Case assign...test_reference_assign.BASE_REFERENCE_IN_CHOICE.
        let rule = try Self.rule(#"{"Variable":"$guess","StringEqualsPath":"$answer","Next":"X"}"#)
        #expect(rule.variableNames == ["guess", "answer"])
        #expect(!rule.referencesContext)
        #expect(try Self.evaluate(#"{"Variable":"$guess","StringEqualsPath":"$answer"}"#, "{}",
                                  variables: ["guess": "a", "answer": "a"]))
        let context = try Self.rule(#"{"Not":{"Variable":"$$.State.Name","StringEquals":"Check"}}"#)
        #expect(context.referencesContext)
        #expect(try Self.evaluate(#"{"Variable":"$$.State.Name","StringEquals":"Check"}"#, "{}"))
    }

    @Test(arguments: [
        (#"{"Variable":"$.missing","NumericEquals":1}"#, "$.missing"),
        (#"{"Variable":"$.missing","IsNull":true}"#, "$.missing"),
        (#"{"Variable":"$.a","NumericEqualsPath":"$.missing"}"#, "$.missing"),
        (#"{"Variable":"$nope","IsString":true}"#, "$nope"),
    ])
    func missingPathIsARuntimeError(_ rule: String, _ path: String) throws {
        let error = #expect(throws: StatesError.self) { try Self.evaluate(rule, #"{"a":1}"#) }
        #expect(error?.name == "States.Runtime")
        #expect(error?.cause == "Invalid path '\(path)': The choice state's condition path references an invalid value.")
    }

    @Test(arguments: [
        (#"{"Variable":"$.a","NumericEquals":1,"Next":"X","Comment":"c","Assign":{"x":1}}"#, true, [String]()),
        (#"{"Variable":"$.a","NumericEquals":1,"Comment":"c"}"#, false, []),
        (#"{"Variable":"$.a","Next":"X"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: A Choice Rule must have one comparison operator, or one of And, Or, Not at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","NumericEquals":1,"StringEquals":"x"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: A Choice Rule must have only one comparison operator, or one of And, Or, Not; found [NumericEquals, StringEquals] at /States/Check/Choices/0"]),
        (#"{"NumericEquals":1}"#, true, ["SCHEMA_VALIDATION_FAILED: These fields are required: [Variable] at /States/Check/Choices/0"]),
        (#"{"Variable":"a.b","NumericEquals":1}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'Variable' must be a valid JSONPath at /States/Check/Choices/0"]),
        (#"{"Variable":"States.UUID()","IsNull":true}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'Variable' must be a valid JSONPath at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","NumericEquals":"1"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'NumericEquals' must be a number at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","StringEquals":1}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'StringEquals' must be a string at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","IsNull":"true"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'IsNull' must be a boolean at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","StringEqualsPath":"nope"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'StringEqualsPath' must be a valid JSONPath at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","TimestampEquals":"2016-13-05T21:29:29Z"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/Check/Choices/0/TimestampEquals"]),
        (#"{"And":[]}"#, true, ["SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/Check/Choices/0/And"]),
        (#"{"Or":{"Variable":"$.a","IsNull":true}}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The value for the field 'Or' must be an array of Choice Rules at /States/Check/Choices/0/Or"]),
        (#"{"And":[{"Variable":"$.a","IsNull":true},{"Variable":"$.b","NumericEquals":true,"Next":"X"}]}"#, true, [
            "SCHEMA_VALIDATION_FAILED: Nested Choice Rules must not have the field 'Next' at /States/Check/Choices/0/And/1",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'NumericEquals' must be a number at /States/Check/Choices/0/And/1",
        ]),
        (#"{"Not":{"Variable":"$.a"}}"#, true,
         ["SCHEMA_VALIDATION_FAILED: A Choice Rule must have one comparison operator, or one of And, Or, Not at /States/Check/Choices/0/Not"]),
        (#"{"Variable":"$.a","Not":{"Variable":"$.a","IsNull":true}}"#, true,
         ["SCHEMA_VALIDATION_FAILED: The field 'Variable' is not allowed with 'Not' at /States/Check/Choices/0"]),
        (#"{"Variable":"$.a","IsNull":true,"Extra":1,"Condition":"{% true %}"}"#, true,
         ["SCHEMA_VALIDATION_FAILED: These fields are not supported: [Extra, Condition] at /States/Check/Choices/0"]),
        ("[]", true, ["SCHEMA_VALIDATION_FAILED: A Choice Rule must be a JSON object at /States/Check/Choices/0"]),
    ])
    func definitionChecks(_ rule: String, _ isTopLevel: Bool, _ expected: [String]) throws {
        #expect(try Self.diagnostics(rule, isTopLevel: isTopLevel) == expected)
    }

    @Test func operatorTable() {
        #expect(ChoiceOperator.allCases.count == 39)
        #expect(ChoiceOperator.numericLessThanEqualsPath.relation == .lessThanOrEqual)
        #expect(ChoiceOperator.numericLessThanEqualsPath.takesPath)
        #expect(ChoiceOperator.timestampGreaterThan.relation == .greaterThan)
        #expect(ChoiceOperator.timestampGreaterThan.valueKind == .timestamp)
        #expect(ChoiceOperator.stringMatches.relation == .matches)
        #expect(ChoiceOperator.isPresent.relation == nil)
        #expect(ChoiceOperator.booleanEqualsPath.relation == .equals)
    }
}
