import StatesEngine
import StatesLanguage
import Testing

/// TestState's request checks and mock validation, with AWS's exceptions and messages.
struct TestStateTests {
    static let role = "arn:aws:iam::111111111111:role/r"

    static func task(_ resource: String, extra: String = "") -> String {
        #"{"Type": "Task", "Resource": "\#(resource)", \#(extra) "End": true}"#
    }

    /// The exception of a request (`Type: message`), or nil when it ran.
    static func failure(_ request: JSONObject) -> String? {
        do {
            _ = try TestStateRunner.run(request)
            return nil
        } catch {
            return "\(error.type): \(error.message)"
        }
    }

    static func request(_ definition: String, mock: JSON? = nil, role: Bool = true, extra: JSONObject = [:]) -> JSONObject {
        var r: JSONObject = ["definition": .string(definition)]
        if role { r["roleArn"] = .string(Self.role) }
        if let mock { r["mock"] = mock }
        for (k, v) in extra { r[k] = v }
        return r
    }

    static func validation(_ resource: String, _ result: String, mode: String? = nil) -> String? {
        var mock: JSONObject = ["result": .string(result)]
        if let mode { mock["fieldValidationMode"] = .string(mode) }
        return failure(request(task(resource), mock: .object(mock)))
    }

    static func schema(_ message: String) -> String {
        "ValidationException: Mock result schema validation error: " + message
    }

    /// `fieldValidationMode` STRICT (the default) and PRESENT against botocore's output shapes,
    /// optimized and `aws-sdk` integrations.
    @Test func mockedResultsAreCheckedAgainstTheAPIModel() {
        let startExecution = "arn:aws:states:::states:startExecution"
        #expect(Self.validation(startExecution, "{}") == Self.schema("Required field 'ExecutionArn' is missing"))
        #expect(Self.validation(startExecution, #"{"executionArn": "a", "startDate": "d"}"#) == Self.schema("Required field 'ExecutionArn' is missing"))
        #expect(Self.validation(startExecution, "{}", mode: "PRESENT") == nil)
        #expect(Self.validation(startExecution, #"{"ExecutionArn": "a", "StartDate": true}"#) == Self.schema("Field 'StartDate' must be a string"))
        #expect(Self.validation(startExecution, #"{"ExecutionArn": 1}"#, mode: "PRESENT") == Self.schema("Field 'ExecutionArn' must be a string"))
        #expect(Self.validation(startExecution, #"{"ExecutionArn": 1}"#, mode: "NONE") == nil)
        #expect(Self.validation("arn:aws:states:::lambda:invoke", #"{"StatusCode": "200"}"#) == Self.schema("Field 'StatusCode' must be a number"))
        // The optimized Lambda integration's Payload is the function's JSON output.
        #expect(Self.validation("arn:aws:states:::lambda:invoke", #"{"StatusCode": 200, "Payload": {"a": 1}}"#) == nil)
        #expect(Self.validation("arn:aws:states:::dynamodb:putItem", #"{"ConsumedCapacity": {"CapacityUnits": "1.5"}}"#)
                == Self.schema("Field 'CapacityUnits' must be a number"))
        #expect(Self.validation("arn:aws:states:::events:putEvents", #"{"Entries": {}}"#) == Self.schema("Field 'Entries' must be an array"))
        #expect(Self.validation("arn:aws:states:::events:putEvents", #"{"Entries": [{"EventId": "a"}, {"EventId": 2}]}"#)
                == Self.schema("Field 'EventId' must be a string"))
        #expect(Self.validation("arn:aws:states:::events:putEvents", #"{"random": "json"}"#) == nil)
        #expect(Self.validation("arn:aws:states:::aws-sdk:s3:getObject", #"{"StorageClass": "Papyrus"}"#)
                == Self.schema("Field 'StorageClass' is not an expected value"))
        #expect(Self.validation("arn:aws:states:::aws-sdk:kms:encrypt", #"{"CiphertextBlob": ""}"#)
                == Self.schema("Field 'CiphertextBlob' is smaller than the minimum length"))
        #expect(Self.validation("arn:aws:states:::aws-sdk:lambda:getFunction", #"{"Configuration": {"MemorySize": 127}}"#)
                == Self.schema("Field 'MemorySize' is less than the minimum value"))
        #expect(Self.validation("arn:aws:states:::aws-sdk:lambda:getFunction", #"{"Configuration": {"MemorySize": 32769}}"#)
                == Self.schema("Field 'MemorySize' exceeds the maximum value"))
        #expect(Self.validation("arn:aws:states:::aws-sdk:sfn:describeExecution", #"{"Status": "RUNNING"}"#)
                == Self.schema("Required field 'ExecutionArn' is missing"))
        // A callback's result is not the API's output.
        #expect(Self.validation("arn:aws:states:::sqs:sendMessage.waitForTaskToken", #"{"MessageId": 1}"#) == nil)
    }

    /// The request checks.
    @Test func requestChecks() {
        let lambda = Self.task("arn:aws:states:::lambda:invoke")
        let machine = #"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#
        #expect(Self.failure(Self.request(machine, extra: ["stateName": "B"])) == "ValidationException: " + "State not found in definition")
        #expect(Self.failure(Self.request(lambda, role: false)) == "ValidationException: " + "RoleArn must be specified when testing a Task state")
        #expect(Self.failure(Self.request(lambda, mock: ["result": "{\"a\": 1}"], role: false)) == nil)
        #expect(Self.failure(Self.request(lambda, mock: ["result": "{nope"])) == "ValidationException: " + "Mocked result must be valid JSON")
        let waiting = Self.task("arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                                extra: #""Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}},"#)
        #expect(Self.failure(Self.request(waiting))?.hasPrefix("InvalidDefinition: ") == true)
        #expect(Self.failure(Self.request(Self.task("arn:aws:states:us-east-1:111111111111:activity:a")))?.hasPrefix("InvalidDefinition: ") == true)
        #expect(Self.failure(Self.request(waiting, mock: ["result": "{}"])) == nil)
        let writer = #"{"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}}, "End": true}"#
        #expect(Self.failure(Self.request(writer, mock: ["result": "[1]"])) == "ValidationException: " + "Mocked result must be a JSON object.")
        #expect(Self.failure(Self.request(writer, mock: ["result": #"{"MapRunArn": "a"}"#])) == nil)
        #expect(Self.failure(Self.request(#"{"Type": "Wait", "Seconds": 1, "End": true}"#, mock: ["result": "{}"]))
                == "ValidationException: " + "State type 'Wait' is not supported when a mock is specified")
    }

    /// `context`: only with a mock; AWS's fields, no `Map`, `Task` only for a Task that waits;
    /// the given object is the context object.
    @Test func contextChecksAndOverride() throws {
        let start = Self.task("arn:aws:states:::states:startExecution", extra: #""ResultSelector": {"c.$": "$$"},"#)
        let result = #"{"ExecutionArn": "a", "StartDate": "d"}"#
        func context(_ c: String, definition: String = start, mock: Bool = true) -> String? {
            Self.failure(Self.request(definition, mock: mock ? ["result": .string(result)] : nil, extra: ["context": .string(c)]))
        }
        let invalid = "Invalid Context object provided: "
        #expect(context(#"{"Execution": {"Id": 1}}"#) == "ValidationException: " + invalid + "Execution.Id must be a string")
        #expect(context(#"{"Map": {}}"#) == "ValidationException: " + invalid + "'Map' field is not supported when mocking a Context object")
        #expect(context(#"{"Execution": {"pokemon": "squirtle"}}"#) == "ValidationException: " + invalid + "Field 'pokemon' is not allowed")
        #expect(context(#"{"Pokedex": {}}"#) == "ValidationException: " + invalid + "Field 'Pokedex' is not allowed")
        #expect(context(#"{"Task": {"Token": "t"}}"#) == "ValidationException: " + invalid
            + "Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern")
        #expect(context("{}", mock: false)?.hasPrefix("ValidationException: ") == true)
        #expect(context(#"{"Execution": {}}"#, definition: #"{"Type": "Pass", "End": true}"#)
                == "ValidationException: " + "State type 'Pass' is not supported when a mock is specified")

        let given = #"{"Execution": {"Id": "arn:aws:states:::execution:M:e", "Name": "e"}, "State": {}}"#
        let out = try TestStateRunner.run(Self.request(start, mock: ["result": .string(result)], extra: ["context": .string(given)]))
        #expect(try JSON.parse(out["output"]?.stringValue ?? "") == ["c": try JSON.parse(given)])
        // The inspection data sees it too.
        let debug = try TestStateRunner.run(Self.request(start, mock: ["result": .string(result)],
                                                         extra: ["context": .string(given), "inspectionLevel": "DEBUG"]))
        #expect(try JSON.parse(debug["inspectionData"]?["afterResultSelector"]?.stringValue ?? "") == ["c": try JSON.parse(given)])
    }
}
