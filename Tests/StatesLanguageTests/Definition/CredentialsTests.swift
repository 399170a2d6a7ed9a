import StatesLanguage
import Testing

/// A Task's `Credentials` is checked when the definition is created, as AWS checks it.
@Suite struct CredentialsTests {
    static func definition(_ credentials: String, jsonata: Bool) -> String {
        let language = jsonata ? #""QueryLanguage":"JSONata","# : ""
        let arguments = jsonata ? #""Arguments":"{% $states.input %}""# : #""Parameters":{"x.$":"$"}"#
        return """
            {\(language)"StartAt":"State0","States":{"State0":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
              \(arguments),"Credentials":\(credentials),"End":true}}}
            """
    }

    static func errors(_ credentials: String, jsonata: Bool) -> [String] {
        StateMachineDefinition.validate(definition(credentials, jsonata: jsonata)).filter { $0.severity == .error }.map(\.description)
    }

    /// AWS's recorded answer to CreateStateMachine (LocalStack's `test_invalid_credentials_field`).
    @Test(arguments: ["{}", #"{"InvalidField":"invalid"}"#])
    func roleArnIsRequired(_ credentials: String) {
        #expect(throws: InvalidDefinition.self) { try StateMachineDefinition.parse(Self.definition(credentials, jsonata: true)) }
        do {
            _ = try StateMachineDefinition.parse(Self.definition(credentials, jsonata: true))
        } catch {
            #expect(error.message == "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/State0/Credentials'")
        }
        #expect(Self.errors(credentials, jsonata: false)
            == ["SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/State0/Credentials"])
    }

    @Test(arguments: [
        (#""arn:aws:iam::111111111111:role/r""#, true, ["SCHEMA_VALIDATION_FAILED: Expected value of type: Object at /States/State0/Credentials"]),
        (#"{"RoleArn":5}"#, true, ["SCHEMA_VALIDATION_FAILED: Expected value of type: String at /States/State0/Credentials/RoleArn"]),
        (#"{"RoleArn":{"a":1}}"#, false, ["SCHEMA_VALIDATION_FAILED: Expected value of type: String at /States/State0/Credentials/RoleArn"]),
        (#"{"RoleArn.$":"$.role"}"#, true, ["SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/State0/Credentials"]),
        (#"{"RoleArn":"arn:aws:iam::111111111111:role/r"}"#, true, []),
        (#"{"RoleArn":"{% $states.input.role %}"}"#, true, []),
        (#"{"RoleArn":"arn:aws:iam::111111111111:role/r"}"#, false, []),
        (#"{"RoleArn.$":"$.role"}"#, false, []),
        (#"{"RoleArn.$":"States.Format('{}', $.role)"}"#, false, []),
    ] as [(String, Bool, [String])])
    func shapes(_ credentials: String, _ jsonata: Bool, _ expected: [String]) {
        #expect(Self.errors(credentials, jsonata: jsonata) == expected)
    }
}
