import StatesEngine
import StatesLanguage

/// What one call of an integration needs from the task's role: the IAM action AWS
/// authorizes, on the resource it authorizes it on, and the service that answers a denial.
public struct TaskPermission: Sendable, Equatable, CustomStringConvertible {
    public var action: String
    public var resource: String
    public var service: IntegrationService

    public init(_ action: String, on resource: String, _ service: IntegrationService) {
        self.action = action
        self.resource = resource
        self.service = service
    }

    public var description: String { "\(action) on \(resource)" }
}

/// The AWS service behind an integration, as its AccessDenied reaches a Task: the error
/// `<Service>.<exception>` and the cause's trailer, in the shape of AWS's Java SDK v1
/// (`(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID:
/// ...; Proxy: null)`), which Step Functions' optimized integrations report.
public struct IntegrationService: Sendable, Equatable {
    /// The Task's error: the integration's prefix and the SDK's exception for the denial
    /// (the SDK's base exception when it models no AccessDenied of its own).
    public var error: String
    /// The SDK's service name in the cause.
    public var sdkName: String
    public var statusCode: Int
    public var errorCode: String
    /// How the service writes the action in its message.
    public var spelling: ActionSpelling

    public enum ActionSpelling: Sendable, Equatable {
        /// `lambda:InvokeFunction`, as IAM names it.
        case iam
        /// `sqs:sendmessage`: SQS writes the action in lower case.
        case lowercased
        /// `SNS:Publish`: SNS writes its prefix in upper case.
        case uppercasedPrefix
    }

    /// The action as this service writes it in a denial's message.
    public func spell(_ action: String) -> String {
        switch spelling {
        case .iam: return action
        case .lowercased: return action.lowercased()
        case .uppercasedPrefix:
            guard let colon = action.firstIndex(of: ":") else { return action }
            return action[..<colon].uppercased() + action[colon...]
        }
    }

    // AWS behaviour: a denied integration fails the Task with the SDK's exception, e.g.
    // `Lambda.AWSLambdaException` and "User: arn:aws:sts::...:assumed-role/ROLE/SESSION is not
    // authorized to perform: lambda:InvokeFunction on resource: ... because no identity-based
    // policy allows the lambda:InvokeFunction action (Service: AWSLambda; Status Code: 403;
    // Error Code: AccessDeniedException; ...)". SNS models `AuthorizationError`
    // (`SNS.AuthorizationErrorException`, as `NotFound` is `SNS.NotFoundException`); SQS,
    // EventBridge and Step Functions model none, so their base exceptions name it.
    public static let sqs = IntegrationService(error: "SQS.AmazonSQSException", sdkName: "AmazonSQS", statusCode: 403,
                                               errorCode: "AccessDenied", spelling: .lowercased)
    public static let sns = IntegrationService(error: "SNS.AuthorizationErrorException", sdkName: "AmazonSNS", statusCode: 403,
                                               errorCode: "AuthorizationError", spelling: .uppercasedPrefix)
    public static let lambda = IntegrationService(error: "Lambda.AWSLambdaException", sdkName: "AWSLambda", statusCode: 403,
                                                  errorCode: "AccessDeniedException", spelling: .iam)
    public static let eventBridge = IntegrationService(error: "EventBridge.AmazonEventBridgeException", sdkName: "AmazonEventBridge",
                                                       statusCode: 400, errorCode: "AccessDeniedException", spelling: .iam)
    public static let stepFunctions = IntegrationService(error: "StepFunctions.AWSStepFunctionsException", sdkName: "AWSStepFunctions",
                                                         statusCode: 400, errorCode: "AccessDeniedException", spelling: .iam)
}

/// The IAM permissions of each integration Stepline carries out, as AWS authorizes them
/// (the policies Step Functions generates for its integrations, docs/security.md).
public enum TaskPermissions {
    /// The permissions `request` needs from its role, in the order they are asked.
    ///
    /// Empty for what needs nothing from the role: activities (the worker calls with its own
    /// credentials), integrations Stepline does not carry out (`aws-sdk:*`, other services:
    /// they fail anyway), and requests without the parameter that names the resource (their
    /// plan fails first, as the SDK refuses them before they are sent).
    ///
    /// - Parameters:
    ///   - region: the daemon's region, for resources named without one (a queue URL on
    ///     another host, a function or bus name).
    ///   - account: the daemon's account, likewise.
    public static func required(for request: TaskRequest, region: String, account: String) -> [TaskPermission] {
        let r = request.resource
        let p = request.parameters
        let partition = partition(of: r.arn)
        switch r.kind {
        case .activity, .sdk:
            return []
        case .lambdaFunction:
            return [TaskPermission("lambda:InvokeFunction", on: r.arn, .lambda)]
        case .service(let service, let action):
            switch (service, action) {
            case ("sqs", "sendMessage"):
                guard let url = p["QueueUrl"]?.stringValue, let arn = queueArn(url, partition, region, account) else { return [] }
                return [TaskPermission("sqs:SendMessage", on: arn, .sqs)]
            case ("sns", "publish"):
                guard let topic = p["TopicArn"]?.stringValue ?? p["TargetArn"]?.stringValue, !topic.isEmpty else { return [] }
                let arn = topic.hasPrefix("arn:") ? topic : "arn:\(partition):sns:\(region):\(account):\(topic)"
                return [TaskPermission("sns:Publish", on: arn, .sns)]
            case ("lambda", "invoke"):
                guard let name = p["FunctionName"]?.stringValue, !name.isEmpty else { return [] }
                let arn = functionArn(name, qualifier: p["Qualifier"]?.stringValue, partition, region, account)
                return [TaskPermission("lambda:InvokeFunction", on: arn, .lambda)]
            case ("events", "putEvents"):
                guard case .array(let entries)? = p["Entries"] else { return [] }
                var buses: [String] = []
                for entry in entries {
                    let bus = eventBusArn(entry["EventBusName"]?.stringValue, partition, region, account)
                    if !buses.contains(bus) { buses.append(bus) }
                }
                return buses.map { TaskPermission("events:PutEvents", on: $0, .eventBridge) }
            case ("states", "startExecution"):
                guard let machine = p["StateMachineArn"]?.stringValue else { return [] }
                var permissions = [TaskPermission("states:StartExecution", on: machine, .stepFunctions)]
                // `.sync` watches the child: AWS's policy for it adds DescribeExecution (and
                // StopExecution, and the EventBridge rule it watches through, which Stepline
                // does not use) on the machine's executions.
                if r.pattern == .sync || r.pattern == .sync2, let parsed = ARNs.parse(machine), let name = parsed.names.first {
                    let child = p["Name"]?.stringValue ?? NestedExecutions.childName(token: request.token)
                    permissions.append(TaskPermission(
                        "states:DescribeExecution", on: "arn:\(partition):states:\(parsed.region):\(parsed.account):execution:\(name):\(child)",
                        .stepFunctions))
                }
                return permissions
            default:
                return []
            }
        }
    }

    /// `arn:aws:sqs:REGION:ACCOUNT:QUEUE` of a queue URL
    /// (`https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE`, the legacy
    /// `https://REGION.queue.amazonaws.com/ACCOUNT/QUEUE`); what the URL does not say (a local
    /// endpoint, a bare queue name) is the daemon's.
    static func queueArn(_ url: String, _ partition: String, _ region: String, _ account: String) -> String? {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let parts = rest.split(separator: "/")
        guard let queue = parts.last, !queue.isEmpty else { return nil }
        var queueRegion = region, queueAccount = account
        if parts.count >= 2 {
            let host = parts[0].split(separator: ".")
            if host.count >= 3, host[0] == "sqs", isRegion(host[1]) {
                queueRegion = String(host[1])
            } else if host.count >= 3, host[1] == "queue", isRegion(host[0]) {
                queueRegion = String(host[0])
            }
            let owner = parts[parts.count - 2]
            if owner.count == 12, owner.allSatisfy({ $0.isASCII && $0.isNumber }) { queueAccount = String(owner) }
        }
        return "arn:\(partition):sqs:\(queueRegion):\(queueAccount):\(queue)"
    }

    /// The ARN Lambda authorizes an invocation on: the function's, with the qualifier when
    /// the call names one (in `FunctionName`, `name:alias`, or in `Qualifier`), as a policy
    /// on `function:NAME` allows only the unqualified call and `function:NAME:*` the others.
    static func functionArn(_ name: String, qualifier: String?, _ partition: String, _ region: String, _ account: String) -> String {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var arn: String
        let qualified: Bool
        if parts.count >= 7, parts[0] == "arn" {
            // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
            arn = name
            qualified = parts.count >= 8
        } else if parts.count >= 3, parts[1] == "function" {
            // ACCOUNT:function:NAME[:QUALIFIER]
            arn = "arn:\(partition):lambda:\(region):\(name)"
            qualified = parts.count >= 4
        } else {
            // NAME[:QUALIFIER]
            arn = "arn:\(partition):lambda:\(region):\(account):function:\(name)"
            qualified = parts.count >= 2
        }
        if !qualified, let qualifier, !qualifier.isEmpty { arn += ":" + qualifier }
        return arn
    }

    /// `arn:aws:events:REGION:ACCOUNT:event-bus/NAME` of an entry's `EventBusName` (a name
    /// or an ARN; `default` when none).
    static func eventBusArn(_ bus: String?, _ partition: String, _ region: String, _ account: String) -> String {
        guard let bus, !bus.isEmpty else { return "arn:\(partition):events:\(region):\(account):event-bus/default" }
        return bus.hasPrefix("arn:") ? bus : "arn:\(partition):events:\(region):\(account):event-bus/\(bus)"
    }

    static func partition(of arn: String) -> String {
        let parts = arn.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count >= 2 && !parts[1].isEmpty ? String(parts[1]) : "aws"
    }

    static func isRegion(_ s: Substring) -> Bool {
        s.contains("-") && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
