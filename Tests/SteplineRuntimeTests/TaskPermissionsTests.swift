@testable import SteplineKafka
import StatesEngine
import StatesLanguage
import SteplineRuntime
import Testing

/// What each integration needs from the task's role, and how a denial reads (issue 17).
@Suite struct TaskPermissionsTests {
    static func request(_ resource: String, _ parameters: JSON, role: String? = "arn:aws:iam::123456789012:role/orders",
                        credentials: JSON? = nil) -> TaskRequest
    {
        TaskRequest(token: TaskToken("tok"), executionArn: ExecutionARN("arn:aws:states:us-east-1:123456789012:execution:m:e"), stateName: "S",
                    resource: TaskResource(resource)!, parameters: parameters, timeoutSeconds: nil, heartbeatSeconds: nil,
                    credentials: credentials, attempt: 0, scheduledEventID: 3, roleArn: role)
    }

    static let childName = NestedExecutions.childName(token: TaskToken("tok"))

    /// Resource, parameters, and the `action on resource` each permission names.
    static let cases: [(String, JSON, [String])] = [
        ("arn:aws:states:::sqs:sendMessage", ["QueueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/orders", "MessageBody": "x"],
         ["sqs:SendMessage on arn:aws:sqs:eu-west-1:111122223333:orders"]),
        ("arn:aws:states:::sqs:sendMessage.waitForTaskToken", ["QueueUrl": "https://eu-west-2.queue.amazonaws.com/111122223333/q.fifo"],
         ["sqs:SendMessage on arn:aws:sqs:eu-west-2:111122223333:q.fifo"]),
        // A local endpoint or a bare name: the daemon's region and account.
        ("arn:aws:states:::sqs:sendMessage", ["QueueUrl": "http://localhost:4566/000000000000/jobs"],
         ["sqs:SendMessage on arn:aws:sqs:us-east-1:000000000000:jobs"]),
        ("arn:aws:states:::sqs:sendMessage", ["QueueUrl": "jobs"], ["sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:jobs"]),
        ("arn:aws:states:::sns:publish", ["TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Message": "x"],
         ["sns:Publish on arn:aws:sns:us-east-1:123456789012:alerts"]),
        ("arn:aws:states:::sns:publish", ["TargetArn": "arn:aws:sns:us-east-1:123456789012:app/GCM/a/b", "Message": "x"],
         ["sns:Publish on arn:aws:sns:us-east-1:123456789012:app/GCM/a/b"]),
        ("arn:aws:states:::lambda:invoke", ["FunctionName": "greet"], ["lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:greet"]),
        ("arn:aws:states:::lambda:invoke", ["FunctionName": "greet:live"],
         ["lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:greet:live"]),
        ("arn:aws:states:::lambda:invoke", ["FunctionName": "greet", "Qualifier": "3"],
         ["lambda:InvokeFunction on arn:aws:lambda:us-east-1:123456789012:function:greet:3"]),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", ["FunctionName": "111122223333:function:greet"],
         ["lambda:InvokeFunction on arn:aws:lambda:us-east-1:111122223333:function:greet"]),
        ("arn:aws:states:::lambda:invoke", ["FunctionName": "arn:aws:lambda:eu-west-1:111122223333:function:greet:$LATEST"],
         ["lambda:InvokeFunction on arn:aws:lambda:eu-west-1:111122223333:function:greet:$LATEST"]),
        ("arn:aws:lambda:eu-west-1:111122223333:function:greet", ["x": 1],
         ["lambda:InvokeFunction on arn:aws:lambda:eu-west-1:111122223333:function:greet"]),
        ("arn:aws:states:::events:putEvents", ["Entries": [
            ["Source": "s", "DetailType": "d", "Detail": [:]],
            ["Source": "s", "DetailType": "d", "Detail": [:], "EventBusName": "orders"],
            ["Source": "s", "DetailType": "d", "Detail": [:], "EventBusName": "arn:aws:events:us-east-1:111122223333:event-bus/x"],
            ["Source": "s", "DetailType": "d", "Detail": [:], "EventBusName": "orders"],
        ]], ["events:PutEvents on arn:aws:events:us-east-1:123456789012:event-bus/default",
             "events:PutEvents on arn:aws:events:us-east-1:123456789012:event-bus/orders",
             "events:PutEvents on arn:aws:events:us-east-1:111122223333:event-bus/x"]),
        ("arn:aws:states:::states:startExecution", ["StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"],
         ["states:StartExecution on arn:aws:states:us-east-1:123456789012:stateMachine:child"]),
        ("arn:aws:states:::states:startExecution.sync:2", ["StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child:live",
                                                          "Name": "run-1"],
         ["states:StartExecution on arn:aws:states:us-east-1:123456789012:stateMachine:child:live",
          "states:DescribeExecution on arn:aws:states:us-east-1:123456789012:execution:child:run-1"]),
        ("arn:aws:states:::states:startExecution.sync", ["StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child"],
         ["states:StartExecution on arn:aws:states:us-east-1:123456789012:stateMachine:child",
          "states:DescribeExecution on arn:aws:states:us-east-1:123456789012:execution:child:\(childName)"]),
        // Nothing from the role: activities (the worker's own credentials), what Stepline does
        // not carry out, and requests the SDK refuses before sending.
        ("arn:aws:states:us-east-1:123456789012:activity:review", ["x": 1], []),
        ("arn:aws:states:::aws-sdk:s3:getObject", ["Bucket": "b", "Key": "k"], []),
        ("arn:aws:states:::dynamodb:getItem", ["TableName": "t"], []),
        ("arn:aws:states:::sqs:sendMessage", ["MessageBody": "x"], []),
        ("arn:aws:states:::lambda:invoke", ["Payload": [:]], []),
    ]

    @Test(arguments: cases) func eachIntegrationNeedsAWSsPermission(_ resource: String, _ parameters: JSON, _ expected: [String]) {
        let permissions = TaskPermissions.required(for: Self.request(resource, parameters), region: "us-east-1", account: "123456789012")
        #expect(permissions.map(\.description) == expected, "\(resource)")
    }

    @Test func theServicesNameTheirDenials() {
        let services = [IntegrationService.sqs, .sns, .lambda, .eventBridge, .stepFunctions]
        #expect(services.map(\.error) == ["SQS.AmazonSQSException", "SNS.AuthorizationErrorException", "Lambda.AWSLambdaException",
                                          "EventBridge.AmazonEventBridgeException", "StepFunctions.AWSStepFunctionsException"])
        #expect(IntegrationService.sqs.spell("sqs:SendMessage") == "sqs:sendmessage")
        #expect(IntegrationService.sns.spell("sns:Publish") == "SNS:Publish")
        #expect(IntegrationService.lambda.spell("lambda:InvokeFunction") == "lambda:InvokeFunction")
    }
}

/// The dispatcher's check: a role that allows, denies implicitly or explicitly.
@Suite struct RoleAuthorizationTests {
    /// Allows what `allowed` lists (`role action resource`), denies explicitly what `denied`
    /// lists, and records what it was asked.
    final class Roles: RoleAuthorizer, @unchecked Sendable {
        // Only the test's task reads and writes `asked`, one call at a time.
        var asked: [String] = []
        let allowed: Set<String>
        let denied: Set<String>

        init(allowed: Set<String>, denied: Set<String> = []) {
            self.allowed = allowed
            self.denied = denied
        }

        func authorize(role: String, action: String, resource: String, now: Int64) -> RoleDecision {
            let key = "\(role.split(separator: "/").last.map(String.init) ?? role) \(action) \(resource)"
            asked.append(key)
            if denied.contains(key) { return .explicitlyDenied }
            return allowed.contains(key) ? .allowed : .implicitlyDenied
        }
    }

    static let queue = "https://sqs.us-east-1.amazonaws.com/123456789012/"
    static let session = RoleAuthorization.sessionArn(role: "arn:aws:iam::123456789012:role/orders", token: TaskToken("tok"))

    func denial(_ roles: Roles, _ request: TaskRequest) -> TaskDenial? {
        RoleAuthorization(authorizer: roles, region: "us-east-1", account: "123456789012").denial(for: request, requestID: "req-1", now: 0)
    }

    @Test func anAllowedCallGoes() {
        let roles = Roles(allowed: ["orders sqs:SendMessage arn:aws:sqs:us-east-1:123456789012:orders"])
        #expect(denial(roles, TaskPermissionsTests.request("arn:aws:states:::sqs:sendMessage", ["QueueUrl": .string(Self.queue + "orders")])) == nil)
        #expect(roles.asked == ["orders sqs:SendMessage arn:aws:sqs:us-east-1:123456789012:orders"])
    }

    @Test func aDeniedCallFailsWithTheServicesError() {
        let roles = Roles(allowed: ["orders sqs:SendMessage arn:aws:sqs:us-east-1:123456789012:orders"])
        let d = denial(roles, TaskPermissionsTests.request("arn:aws:states:::sqs:sendMessage", ["QueueUrl": .string(Self.queue + "billing")]))
        #expect(d?.error == "SQS.AmazonSQSException")
        #expect(d?.cause == "User: \(Self.session) is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:123456789012:billing because no identity-based policy allows the sqs:sendmessage action (Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied; Request ID: req-1; Proxy: null)")
        #expect(Self.session.hasPrefix("arn:aws:sts::123456789012:assumed-role/orders/"))
        #expect(Self.session.split(separator: "/").last?.count == 32)
    }

    @Test func anExplicitDenyIsNamed() {
        let roles = Roles(allowed: ["orders lambda:InvokeFunction arn:aws:lambda:us-east-1:123456789012:function:greet"],
                          denied: ["orders lambda:InvokeFunction arn:aws:lambda:us-east-1:123456789012:function:greet"])
        let d = denial(roles, TaskPermissionsTests.request("arn:aws:states:::lambda:invoke", ["FunctionName": "greet"]))
        #expect(d?.error == "Lambda.AWSLambdaException")
        #expect(d?.cause == "User: \(Self.session) is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:greet with an explicit deny in an identity-based policy (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: req-1; Proxy: null)")
    }

    @Test func eachPermissionIsAskedUntilOneIsDenied() {
        let roles = Roles(allowed: ["orders states:StartExecution arn:aws:states:us-east-1:123456789012:stateMachine:child"])
        let d = denial(roles, TaskPermissionsTests.request("arn:aws:states:::states:startExecution.sync", [
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child", "Name": "c1",
        ]))
        #expect(d?.error == "StepFunctions.AWSStepFunctionsException")
        #expect(d?.cause.contains("perform: states:DescribeExecution on resource: arn:aws:states:us-east-1:123456789012:execution:child:c1 because") == true)
        #expect(d?.cause.contains("(Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException;") == true)
        #expect(roles.asked.count == 2)
    }

    @Test func credentialsRunTheTaskAsTheirRoleWhenTheExecutionsRoleMayAssumeIt() {
        let orders = "arn:aws:iam::123456789012:role/orders", billing = "arn:aws:iam::123456789012:role/billing"
        let request = TaskPermissionsTests.request("arn:aws:states:::sns:publish", ["TopicArn": "arn:aws:sns:us-east-1:123456789012:t"],
                                                   role: orders, credentials: ["roleArn": .string(billing)])
        // The task's role is asked about the call, after the execution's about the assumption.
        let both = Roles(allowed: ["orders sts:AssumeRole \(billing)", "billing sns:Publish arn:aws:sns:us-east-1:123456789012:t"])
        #expect(denial(both, request) == nil)
        #expect(both.asked == ["orders sts:AssumeRole \(billing)", "billing sns:Publish arn:aws:sns:us-east-1:123456789012:t"])
        // The execution's role may not assume the task's: the task fails before any call.
        let noAssume = Roles(allowed: ["billing sns:Publish arn:aws:sns:us-east-1:123456789012:t"])
        let d = denial(noAssume, request)
        #expect(d?.error == "States.TaskFailed")
        #expect(d?.cause == "User: \(Self.session) is not authorized to perform: sts:AssumeRole on resource: \(billing) because no identity-based policy allows the sts:AssumeRole action (Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied; Request ID: req-1; Proxy: null)")
        // The task's role itself may not publish: SNS's refusal, naming the task's session.
        let noPublish = Roles(allowed: ["orders sts:AssumeRole \(billing)", "orders sns:Publish arn:aws:sns:us-east-1:123456789012:t"])
        let p = denial(noPublish, request)
        #expect(p?.error == "SNS.AuthorizationErrorException")
        #expect(p?.cause.hasPrefix("User: arn:aws:sts::123456789012:assumed-role/billing/") == true)
        #expect(p?.cause.contains("perform: SNS:Publish on resource: arn:aws:sns:us-east-1:123456789012:t because no identity-based policy allows the SNS:Publish action (Service: AmazonSNS; Status Code: 403; Error Code: AuthorizationError;") == true)
    }

    @Test func whatNeedsNothingOrHasNoRoleIsNotAsked() {
        let roles = Roles(allowed: [])
        #expect(denial(roles, TaskPermissionsTests.request("arn:aws:states:us-east-1:123456789012:activity:a", [:])) == nil)
        #expect(denial(roles, TaskPermissionsTests.request("arn:aws:states:::lambda:invoke", ["FunctionName": "f"], role: nil)) == nil)
        #expect(roles.asked.isEmpty)
    }

    /// The engine puts the execution's role on each request, the outbox row keeps it, and
    /// `Credentials.RoleArn` names the task's role.
    @Test func requestsCarryTheirRolesThroughTheOutbox() throws {
        let definition = try StateMachineDefinition.parse(#"""
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
             "Credentials": {"RoleArn.$": "$.role"}, "Parameters": {"QueueUrl": "q", "MessageBody": "x"}, "End": true}}}
            """#)
        let info = ExecutionInfo.make(stateMachineName: "m", executionName: "e", roleArn: "arn:aws:iam::123456789012:role/orders")
        let (_, decision) = ExecutionState.start(definition: definition, info: info, input: ["role": "arn:aws:iam::123456789012:role/billing"],
                                                 context: DecisionContext(now: 0, random: RandomSource(seed: 1)))
        let requests = decision.commands.compactMap { c -> TaskRequest? in if case .dispatchTask(let r) = c { return r } else { return nil } }
        let request = try #require(requests.first)
        #expect(request.roleArn == "arn:aws:iam::123456789012:role/orders")
        #expect(request.taskRoleArn == "arn:aws:iam::123456789012:role/billing")
        let decoded = try #require(TaskRequestCodec.decode(TaskRequestCodec.encode(request)))
        #expect(decoded.roleArn == request.roleArn && decoded.taskRoleArn == request.taskRoleArn)
        // A row written before roles were recorded has none.
        var old = request
        old.roleArn = nil
        #expect(TaskRequestCodec.decode(TaskRequestCodec.encode(old))?.roleArn == nil)
    }

    @Test func theSessionIsTheRolesNameAndAStableName() {
        let a = RoleAuthorization.sessionArn(role: "arn:aws:iam::111122223333:role/service-role/sfn", token: TaskToken("t1"))
        #expect(a.hasPrefix("arn:aws:sts::111122223333:assumed-role/sfn/"))
        #expect(a == RoleAuthorization.sessionArn(role: "arn:aws:iam::111122223333:role/service-role/sfn", token: TaskToken("t1")))
        #expect(a != RoleAuthorization.sessionArn(role: "arn:aws:iam::111122223333:role/service-role/sfn", token: TaskToken("t2")))
        #expect(a.split(separator: "/").last!.allSatisfy { $0.isLetter })
    }
}
