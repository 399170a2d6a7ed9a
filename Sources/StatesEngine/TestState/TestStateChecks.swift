import StatesLanguage

/// The checks TestState makes on a request before it runs the state, with AWS's exceptions
/// and messages, in AWS's order: the state configuration, the mock against the state type
/// and the request's other fields, the mocked result against the state (Map, Parallel) or the
/// API the Task calls (`MockResultValidator`), the `context`, then the role.
///
/// AWS behaviour (recorded on AWS, LocalStack's TestState snapshots) except where a line says
/// "not recorded": those messages follow the recorded ones.
extension TestStateRunner {
    /// What the checks parsed.
    struct CheckedRequest {
        var mockResult: JSON?
        /// The context object the request gives (`context`), replacing the execution's.
        var context: JSON?
    }

    static func check(_ request: JSONObject, state: JSONObject, type: String) throws(Failure) -> CheckedRequest {
        let mock = request["mock"]?.objectValue
        let config = request["stateConfiguration"]?.objectValue
        let resultText = mock?["result"]?.stringValue
        let resource = state["Resource"]?.stringValue.flatMap(TaskResource.init)
        var checked = CheckedRequest()

        // The state configuration.
        if config?["mapIterationFailureCount"] != nil, mock == nil {
            throw Failure("ValidationException", "TestState does not support MapIterationFailureCount when a mock is not specified.")
        }
        if let n = config?["mapIterationFailureCount"]?.integerValue, let text = resultText,
            case .array(let items)? = try? JSON.parse(text), n > items.count
        {
            throw Failure("ValidationException", "Map iteration failure count must be less than or equal to the number of Map iterations")
        }

        // What can and what must be mocked.
        if mock == nil, type == "Map" || type == "Parallel" {
            throw Failure("InvalidDefinition", "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]")
        }
        if mock == nil, type == "Task", let resource, resource.needsMockInTestState {
            // AWS: "TestState only supports the following when a mock is specified: Activity
            // tasks, .sync or .waitForTaskToken service integration patterns". The message is
            // not recorded.
            throw Failure("InvalidDefinition", "TestState API does not support Activity tasks, .sync or .waitForTaskToken service integration patterns when a mock is not specified.")
        }
        if mock != nil, !["Task", "Map", "Parallel"].contains(type) {
            throw Failure("ValidationException", "State type '\(type)' is not supported when a mock is specified")
        }
        if let mock {
            if request["revealSecrets"]?.boolValue == true {
                throw Failure("ValidationException", "TestState does not support RevealSecrets when a mock is specified.")
            }
            if mock["result"] != nil, mock["errorOutput"] != nil {
                throw Failure("ValidationException", "A test mock should have only one of the following fields: [result, errorOutput].")
            }
        }

        // The mocked result.
        if let resultText {
            guard let result = try? JSON.parse(resultText) else {
                throw Failure("ValidationException", "Mocked result must be valid JSON")
            }
            checked.mockResult = result
            switch type {
            case "Map":
                // A Map with a ResultWriter returns the writer's details (an object); one
                // without returns its iterations' results.
                if state["ResultWriter"] != nil {
                    guard case .object = result else { throw Failure("ValidationException", "Mocked result must be a JSON object.") }
                } else {
                    guard case .array = result else { throw Failure("ValidationException", "Mocked result must be an array.") }
                }
            case "Parallel":
                guard case .array(let items) = result else { throw Failure("ValidationException", "Mocked result must be an array.") }
                if items.count != (state["Branches"]?.arrayValue ?? []).count {
                    throw Failure("ValidationException", "Mocked result must contain the same number of items as number of Parallel branches.")
                }
            case "Task":
                let mode = MockResultValidator.Mode(rawValue: mock?["fieldValidationMode"]?.stringValue ?? "STRICT") ?? .strict
                if let resource, let message = MockResultValidator.violation(of: result, resource: resource, mode: mode) {
                    throw Failure("ValidationException", message)
                }
            default:
                break
            }
        }

        // The context object.
        if let text = request["context"]?.stringValue {
            guard mock != nil else {
                // AWS: "This field may only be specified if a mock is specified in the same
                // request." The message is not recorded.
                throw Failure("ValidationException", "TestState does not support Context when a mock is not specified.")
            }
            let allowsTask = type == "Task" && (resource.map { $0.pattern != .requestResponse } ?? false)
            checked.context = try checkContext(text, allowsTask: allowsTask)
        }

        // The role: a Task that is not mocked calls its service as the role.
        if mock == nil, type == "Task", request["roleArn"]?.stringValue == nil {
            throw Failure("ValidationException", "RoleArn must be specified when testing a Task state")
        }
        return checked
    }

    /// The fields a `context` may give, with their JSON types (nil: any value).
    static let contextFields: [String: [String: JSON.Kind?]] = [
        "Execution": ["Id": .string, "Input": nil, "Name": .string, "RoleArn": .string, "StartTime": .string,
                      "RedriveCount": .number, "RedriveTime": .string],
        "State": ["EnteredTime": .string, "Name": .string, "RetryCount": .number],
        "StateMachine": ["Id": .string, "Name": .string],
        "Task": ["Token": .string],
    ]

    /// Checks a request's `context`: AWS's context object fields, without `Map`, and `Task`
    /// only for a Task that waits (`.sync`, `.waitForTaskToken`).
    static func checkContext(_ text: String, allowsTask: Bool) throws(Failure) -> JSON {
        func invalid(_ message: String) -> Failure { Failure("ValidationException", "Invalid Context object provided: \(message)") }
        // Not recorded: the messages for a context that is not a JSON object, and for a
        // field of the wrong type other than a string.
        guard let context = try? JSON.parse(text), case .object(let object) = context else {
            throw invalid("Context object must be a JSON object")
        }
        for (key, value) in object {
            if key == "Map" { throw invalid("'Map' field is not supported when mocking a Context object") }
            guard let fields = contextFields[key] else { throw invalid("Field '\(key)' is not allowed") }
            if key == "Task", !allowsTask {
                throw invalid("Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern")
            }
            guard case .object(let members) = value else { throw invalid("\(key) must be an object") }
            for (name, member) in members {
                guard let expected = fields[name] else { throw invalid("Field '\(name)' is not allowed") }
                guard let expected, !member.isNull, member.kind != expected else { continue }
                throw invalid("\(key).\(name) must be \(expected == .string ? "a string" : "a number")")
            }
        }
        return context
    }
}

extension TaskResource {
    /// Activities and the patterns that wait (`.sync`, `.waitForTaskToken`): TestState runs
    /// them only with a mock.
    var needsMockInTestState: Bool {
        if case .activity = kind { return true }
        return pattern != .requestResponse
    }
}
