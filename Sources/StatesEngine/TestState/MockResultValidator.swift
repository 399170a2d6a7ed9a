import StatesLanguage

/// TestState's check of a mocked task result against the output shape of the API the Task
/// calls (`mock.fieldValidationMode`), from botocore's models (`IntegrationModels`).
///
/// AWS behaviour (TestState, recorded): STRICT (the default) requires the shape's required
/// members and checks the members present; PRESENT checks only the members present; NONE
/// checks nothing. Member names are the SDK's with their first letter capitalised, as Step
/// Functions returns them (`ExecutionArn` for StartExecution's `executionArn`); a member
/// the API does not know is accepted. The messages are AWS's: `Mock result schema validation
/// error: Field 'X' must be a string` (`a number`, `a boolean`, `an array`, `an object`),
/// `Field 'X' is not an expected value` (enums), `Field 'X' is smaller than the minimum
/// length`, `Field 'X' is less than the minimum value`, `Field 'X' exceeds the maximum
/// value`, `Required field 'X' is missing`; a nested field is named alone (`MemorySize`, not
/// `Configuration.MemorySize`). Not recorded and chosen alike: `exceeds the maximum length`.
///
/// Results of `.sync` and `.waitForTaskToken` tasks are not the API's output (a job's
/// description, a callback's output) and are not checked; nor are HTTP and API Gateway
/// tasks, activities, Lambda function ARNs, or APIs of services not in `IntegrationModels`.
enum MockResultValidator {
    enum Mode: String {
        case strict = "STRICT", present = "PRESENT", none = "NONE"
    }

    /// The message of the first violation, nil when the result conforms (or is not checked).
    static func violation(of result: JSON, resource: TaskResource, mode: Mode) -> String? {
        guard mode != .none, let (model, shape, anyMembers) = outputShape(of: resource) else { return nil }
        let checker = Checker(model: model, strict: mode == .strict, anyMembers: anyMembers)
        do {
            try checker.check(result, shape, field: nil)
        } catch {
            return "Mock result schema validation error: " + error.message
        }
        return nil
    }

    /// The output shape of the API that `resource` calls, and members whose value is any
    /// JSON in Step Functions' result (the optimized Lambda integration's `Payload`).
    static func outputShape(of resource: TaskResource) -> (Model, Int, Set<String>)? {
        guard resource.pattern == .requestResponse, let model = Model.shared else { return nil }
        func capitalised(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
        switch resource.kind {
        case .service(let name, let action):
            let candidates: [(String, String)]
            switch name {
            case "states": candidates = [("stepfunctions", capitalised(action))]
            case "bedrock": candidates = [("bedrock-runtime", capitalised(action)), ("bedrock", capitalised(action))]
            case "elasticmapreduce":
                let emr = ["addStep": "AddJobFlowSteps", "createCluster": "RunJobFlow", "terminateCluster": "TerminateJobFlows",
                           "setClusterTerminationProtection": "SetTerminationProtection",
                           "cancelStep": "CancelSteps"]
                candidates = [("emr", emr[action] ?? capitalised(action))]
            case "apigateway", "http", "eks":
                // API Gateway and HTTP calls answer with the endpoint's response; `eks:call`
                // with the Kubernetes API's.
                candidates = []
            default: candidates = [(name, capitalised(action))]
            }
            for (service, operation) in candidates {
                if let shape = model.services[service]?[operation] {
                    return (model, shape, name == "lambda" && action == "invoke" ? ["Payload"] : [])
                }
            }
            return nil
        case .sdk(let service, let action):
            let botocoreName = sdkServiceNames[service] ?? service
            guard let shape = model.services[botocoreName]?[capitalised(action)] else { return nil }
            return (model, shape, [])
        case .lambdaFunction, .activity:
            return nil
        }
    }

    /// SDK service names (as `aws-sdk:` resources spell them) whose botocore name differs.
    static let sdkServiceNames: [String: String] = [
        "sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs", "elasticloadbalancingv2": "elbv2",
        "cognitoidentityprovider": "cognito-idp", "emrcontainers": "emr-containers", "emrserverless": "emr-serverless",
        "bedrockruntime": "bedrock-runtime", "elasticmapreduce": "emr", "servicediscovery": "servicediscovery",
    ]

    struct Violation: Error {
        var message: String
    }

    struct Checker {
        let model: Model
        let strict: Bool
        let anyMembers: Set<String>

        func check(_ value: JSON, _ index: Int, field: String?) throws(Violation) {
            let shape = model.shapes[index]
            let name = field ?? "Mock result"
            func fail(_ text: String) -> Violation {
                Violation(message: field == nil ? "\(name) \(text)" : "Field '\(name)' \(text)")
            }
            switch shape.type {
            case .document:
                return
            case .structure:
                guard case .object(let object) = value else { throw fail("must be an object") }
                if strict {
                    for required in shape.required where object[required] == nil {
                        throw Violation(message: "Required field '\(required)' is missing")
                    }
                }
                for (key, member) in object {
                    guard let memberShape = shape.members[key], !member.isNull else { continue }
                    if field == nil, anyMembers.contains(key) { continue }
                    try check(member, memberShape, field: key)
                }
            case .list:
                guard case .array(let items) = value else { throw fail("must be an array") }
                for item in items where !item.isNull { try check(item, shape.element, field: field) }
            case .map:
                guard case .object(let object) = value else { throw fail("must be an object") }
                for (_, item) in object where !item.isNull { try check(item, shape.element, field: field) }
            case .string, .blob, .timestamp:
                guard let text = value.stringValue else { throw fail("must be a string") }
                if let allowed = shape.enumeration, !allowed.contains(text) { throw fail("is not an expected value") }
                // AWS (Java) counts UTF-16 code units.
                let length = Double(text.utf16.count)
                if let min = shape.min, length < min { throw fail("is smaller than the minimum length") }
                if let max = shape.max, length > max { throw fail("exceeds the maximum length") }
            case .number:
                guard let number = value.doubleValue else { throw fail("must be a number") }
                if let min = shape.min, number < min { throw fail("is less than the minimum value") }
                if let max = shape.max, number > max { throw fail("exceeds the maximum value") }
            case .boolean:
                guard value.boolValue != nil else { throw fail("must be a boolean") }
            }
        }
    }

    /// The models of `IntegrationModels`, decoded once.
    final class Model: Sendable {
        struct Shape: Sendable {
            enum Kind: Sendable { case structure, list, map, string, blob, timestamp, number, boolean, document }
            var type: Kind
            /// Structure members by Step Functions' name (first letter capitalised).
            var members: [String: Int] = [:]
            var required: [String] = []
            /// List member or map value.
            var element = 0
            var min: Double?
            var max: Double?
            var enumeration: Set<String>?
        }

        let services: [String: [String: Int]]
        let shapes: [Shape]

        init(services: [String: [String: Int]], shapes: [Shape]) {
            self.services = services
            self.shapes = shapes
        }

        static let shared: Model? = decode(IntegrationModels.text)

        static func decode(_ text: String) -> Model? {
            guard let json = try? JSON.parse(text), let servicesJSON = json["services"]?.objectValue,
                let shapesJSON = json["shapes"]?.arrayValue
            else { return nil }
            func sfnName(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
            var services: [String: [String: Int]] = [:]
            for (service, ops) in servicesJSON {
                var table: [String: Int] = [:]
                for (op, shape) in ops.objectValue ?? [:] { table[op] = shape.integerValue.map(Int.init) ?? 0 }
                services[service] = table
            }
            let shapes: [Shape] = shapesJSON.map { s in
                let kind: Shape.Kind
                switch s["t"]?.stringValue ?? "" {
                case "structure": kind = .structure
                case "list": kind = .list
                case "map": kind = .map
                case "string": kind = .string
                case "blob": kind = .blob
                case "timestamp": kind = .timestamp
                case "integer", "long", "float", "double": kind = .number
                case "boolean": kind = .boolean
                default: kind = .document
                }
                var shape = Shape(type: kind)
                for m in s["m"]?.arrayValue ?? [] {
                    if let name = m[0]?.stringValue, let index = m[1]?.integerValue { shape.members[sfnName(name)] = Int(index) }
                }
                shape.required = (s["r"]?.arrayValue ?? []).compactMap(\.stringValue).map(sfnName)
                shape.element = Int(s["l"]?.integerValue ?? s["v"]?.integerValue ?? 0)
                shape.min = s["min"]?.doubleValue
                shape.max = s["max"]?.doubleValue
                if let e = s["e"]?.arrayValue { shape.enumeration = Set(e.compactMap(\.stringValue)) }
                return shape
            }
            return Model(services: services, shapes: shapes)
        }
    }
}
