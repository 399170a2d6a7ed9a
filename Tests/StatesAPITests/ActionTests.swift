import ControlPlane
import StatesAPI
import StatesLanguage
import Testing

/// Every action of the Step Functions API, through `StepFunctionsAPI.handle` (the protocol
/// layer: target, media type, validation against botocore's model, decoding, encoding)
/// against an in-memory control plane: no socket, no runtime.
@Suite struct ActionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var action: String
        var body: String
        /// What the control plane must receive, as `RecordingControl` writes it.
        var call: String
        /// The response body, compact JSON.
        var response: String
        var testDescription: String { action }
    }

    static let m = RecordingControl.machine.rawValue
    static let e = RecordingControl.execution.rawValue
    static let a = RecordingControl.activity.rawValue
    static let v = RecordingControl.version.rawValue
    static let al = RecordingControl.alias.rawValue
    static let run = RecordingControl.mapRun.rawValue
    static let role = "arn:aws:iam::123456789012:role/r"
    static let date = "1704067200.0"
    static let pass = #"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"#

    static let cases: [Case] = [
        Case(action: "CreateStateMachine",
             body: #"{"name":"m","definition":"\#(pass)","roleArn":"\#(role)","publish":true,"tags":[{"key":"team","value":"core"}],"loggingConfiguration":{"level":"ALL"}}"#,
             call: #"createStateMachine m STANDARD role=\#(role) publish=true logging={"level":"ALL"} tags=["team=core"]"#,
             response: #"{"stateMachineArn":"\#(m)","creationDate":\#(date),"stateMachineVersionArn":"\#(v)"}"#),
        Case(action: "DescribeStateMachine", body: #"{"stateMachineArn":"\#(m)"}"#, call: "describeStateMachine \(m)",
             response: #"{"stateMachineArn":"\#(m)","name":"m","status":"ACTIVE","definition":"\#(pass)","roleArn":"\#(role)","type":"STANDARD","creationDate":\#(date),"loggingConfiguration":{"level":"OFF","includeExecutionData":false},"tracingConfiguration":{"enabled":false},"encryptionConfiguration":{"type":"AWS_OWNED_KEY"}}"#),
        Case(action: "UpdateStateMachine", body: #"{"stateMachineArn":"\#(m)","roleArn":"\#(role)"}"#,
             call: "updateStateMachine \(m) definition=false role=\(role) publish=false",
             response: #"{"updateDate":\#(date),"revisionId":"rev-2"}"#),
        Case(action: "DeleteStateMachine", body: #"{"stateMachineArn":"\#(m)"}"#, call: "deleteStateMachine \(m)", response: "{}"),
        Case(action: "ListStateMachines", body: #"{"maxResults":5}"#, call: "listStateMachines max=5 next=-",
             response: #"{"stateMachines":[{"stateMachineArn":"\#(m)","name":"m","type":"STANDARD","creationDate":\#(date)}],"nextToken":"n2"}"#),
        Case(action: "DescribeStateMachineForExecution", body: #"{"executionArn":"\#(e)"}"#, call: "describeStateMachineForExecution \(e)",
             response: #"{"stateMachineArn":"\#(m)","name":"m","definition":"{}","roleArn":"r","updateDate":\#(date),"loggingConfiguration":{"level":"OFF","includeExecutionData":false},"tracingConfiguration":{"enabled":false},"revisionId":"rev-1","encryptionConfiguration":{"type":"AWS_OWNED_KEY"}}"#),
        Case(action: "ValidateStateMachineDefinition", body: #"{"definition":"\#(pass)","severity":"WARNING"}"#,
             call: "validateStateMachineDefinition STANDARD WARNING max=100",
             response: #"{"result":"OK","diagnostics":[],"truncated":false}"#),
        Case(action: "PublishStateMachineVersion", body: #"{"stateMachineArn":"\#(m)","description":"first"}"#,
             call: "publishStateMachineVersion \(m) first -", response: #"{"creationDate":\#(date),"stateMachineVersionArn":"\#(v)"}"#),
        Case(action: "ListStateMachineVersions", body: #"{"stateMachineArn":"\#(m)","nextToken":"t"}"#,
             call: "listStateMachineVersions \(m) max=- next=t",
             response: #"{"stateMachineVersions":[{"stateMachineVersionArn":"\#(v)","creationDate":\#(date)}]}"#),
        Case(action: "DeleteStateMachineVersion", body: #"{"stateMachineVersionArn":"\#(v)"}"#, call: "deleteStateMachineVersion \(v)",
             response: "{}"),
        Case(action: "CreateStateMachineAlias",
             body: #"{"name":"live","routingConfiguration":[{"stateMachineVersionArn":"\#(v)","weight":100}]}"#,
             call: #"createStateMachineAlias live ["\#(v)=100"]"#, response: #"{"stateMachineAliasArn":"\#(al)","creationDate":\#(date)}"#),
        Case(action: "DescribeStateMachineAlias", body: #"{"stateMachineAliasArn":"\#(al)"}"#, call: "describeStateMachineAlias \(al)",
             response: #"{"stateMachineAliasArn":"\#(al)","name":"live","description":"d","routingConfiguration":[{"stateMachineVersionArn":"\#(v)","weight":100}],"creationDate":\#(date)}"#),
        Case(action: "UpdateStateMachineAlias", body: #"{"stateMachineAliasArn":"\#(al)","description":"new"}"#,
             call: "updateStateMachineAlias \(al) new routes=-", response: #"{"updateDate":\#(date)}"#),
        Case(action: "DeleteStateMachineAlias", body: #"{"stateMachineAliasArn":"\#(al)"}"#, call: "deleteStateMachineAlias \(al)", response: "{}"),
        Case(action: "ListStateMachineAliases", body: #"{"stateMachineArn":"\#(m)"}"#, call: "listStateMachineAliases \(m) max=- next=-",
             response: #"{"stateMachineAliases":[{"stateMachineAliasArn":"\#(al)","creationDate":\#(date)}]}"#),
        Case(action: "TagResource", body: #"{"resourceArn":"\#(m)","tags":[{"key":"k","value":"v"}]}"#,
             call: #"tagResource \#(m) ["k=v"]"#, response: "{}"),
        Case(action: "UntagResource", body: #"{"resourceArn":"\#(m)","tagKeys":["k"]}"#, call: #"untagResource \#(m) ["k"]"#, response: "{}"),
        Case(action: "ListTagsForResource", body: #"{"resourceArn":"\#(m)"}"#, call: "listTagsForResource \(m)",
             response: #"{"tags":[{"key":"team","value":"core"}]}"#),
        Case(action: "CreateActivity", body: #"{"name":"a"}"#, call: "createActivity a tags=0",
             response: #"{"activityArn":"\#(a)","creationDate":\#(date)}"#),
        Case(action: "DescribeActivity", body: #"{"activityArn":"\#(a)"}"#, call: "describeActivity \(a)",
             response: #"{"activityArn":"\#(a)","name":"a","creationDate":\#(date),"encryptionConfiguration":{"type":"AWS_OWNED_KEY"}}"#),
        Case(action: "DeleteActivity", body: #"{"activityArn":"\#(a)"}"#, call: "deleteActivity \(a)", response: "{}"),
        Case(action: "ListActivities", body: "{}", call: "listActivities max=- next=-", response: #"{"activities":[]}"#),
        Case(action: "GetActivityTask", body: #"{"activityArn":"\#(a)","workerName":"w1"}"#, call: "getActivityTask \(a) w1",
             response: #"{"taskToken":"tok","input":"{\"n\":1}"}"#),
        Case(action: "StartExecution", body: #"{"stateMachineArn":"\#(m)","name":"e","input":"{\"a\":1}"}"#,
             call: #"startExecution \#(m) name=e input={"a":1} trace=-"#, response: #"{"executionArn":"\#(e)","startDate":\#(date)}"#),
        Case(action: "StartSyncExecution", body: #"{"stateMachineArn":"\#(m)"}"#, call: "startSyncExecution \(m) name=-",
             response: #"{"executionArn":"\#(e)","stateMachineArn":"\#(m)","name":"e","startDate":\#(date),"stopDate":1704067200.25,"status":"SUCCEEDED","input":"{\"a\":1}","inputDetails":{"included":true},"output":"{\"b\":2}","outputDetails":{"included":true},"billingDetails":{"billedMemoryUsedInMB":64,"billedDurationInMilliseconds":300}}"#),
        Case(action: "StopExecution", body: #"{"executionArn":"\#(e)","error":"E","cause":"C"}"#, call: "stopExecution \(e) E C",
             response: #"{"stopDate":\#(date)}"#),
        Case(action: "DescribeExecution", body: #"{"executionArn":"\#(e)"}"#, call: "describeExecution \(e)",
             response: #"{"executionArn":"\#(e)","stateMachineArn":"\#(m)","name":"e","status":"FAILED","startDate":\#(date),"stopDate":1704067201.0,"input":"{\"a\":1}","inputDetails":{"included":true},"error":"Oops","cause":"c","redriveCount":0,"redriveStatus":"REDRIVABLE"}"#),
        Case(action: "RedriveExecution", body: #"{"executionArn":"\#(e)"}"#, call: "redriveExecution \(e)", response: #"{"redriveDate":\#(date)}"#),
        Case(action: "GetExecutionHistory", body: #"{"executionArn":"\#(e)","reverseOrder":true,"maxResults":10}"#,
             call: "getExecutionHistory \(e) reverse=true max=10 next=-", response: #"{"events":[]}"#),
        Case(action: "ListExecutions", body: #"{"stateMachineArn":"\#(m)","statusFilter":"RUNNING","redriveFilter":"NOT_REDRIVEN"}"#,
             call: "listExecutions \(m) - status=RUNNING redriven=false max=- next=-",
             response: #"{"executions":[{"executionArn":"\#(e)","stateMachineArn":"\#(m)","name":"e","status":"RUNNING","startDate":\#(date)}]}"#),
        Case(action: "SendTaskSuccess", body: #"{"taskToken":"tok","output":"{}"}"#, call: "sendTaskSuccess tok {}", response: "{}"),
        Case(action: "SendTaskFailure", body: #"{"taskToken":"tok","error":"E"}"#, call: "sendTaskFailure tok E -", response: "{}"),
        Case(action: "SendTaskHeartbeat", body: #"{"taskToken":"tok"}"#, call: "sendTaskHeartbeat tok", response: "{}"),
        Case(action: "DescribeMapRun", body: #"{"mapRunArn":"\#(run)"}"#, call: "describeMapRun \(run)",
             response: #"{"mapRunArn":"\#(run)","executionArn":"\#(e)","status":"RUNNING","startDate":\#(date),"maxConcurrency":5,"toleratedFailurePercentage":0.0,"toleratedFailureCount":0,"itemCounts":{"pending":1,"running":2,"succeeded":3,"failed":0,"timedOut":0,"aborted":0,"total":6,"resultsWritten":3,"failuresNotRedrivable":0,"pendingRedrive":0},"executionCounts":{"pending":1,"running":2,"succeeded":3,"failed":0,"timedOut":0,"aborted":0,"total":6,"resultsWritten":3,"failuresNotRedrivable":0,"pendingRedrive":0},"redriveCount":0}"#),
        Case(action: "ListMapRuns", body: #"{"executionArn":"\#(e)"}"#, call: "listMapRuns \(e) max=- next=-", response: #"{"mapRuns":[]}"#),
        Case(action: "UpdateMapRun", body: #"{"mapRunArn":"\#(run)","maxConcurrency":3}"#, call: "updateMapRun \(run) max=3", response: "{}"),
        Case(action: "TestState", body: #"{"definition":"{\"Type\":\"Pass\",\"End\":true}","roleArn":"\#(role)"}"#,
             call: #"testState {"Type":"Pass","End":true}"#, response: #"{"status":"SUCCEEDED","output":"{}"}"#),
    ]

    static func handle(_ api: StepFunctionsAPI, _ action: String, _ body: String) async -> StepFunctionsAPI.Reply {
        await api.handle(target: "AWSStepFunctions." + action, contentType: "application/x-amz-json-1.0", body: Array(body.utf8))
    }

    @Test(arguments: cases) func action(_ c: Case) async throws {
        let control = RecordingControl()
        let api = StepFunctionsAPI(control: control)
        let reply = await Self.handle(api, c.action, c.body)
        #expect(reply.status == 200, "\(reply.body.serialized())")
        #expect(control.recorded == [c.call])
        #expect(reply.body == (try JSON.parse(c.response)), "\(reply.body.serialized())")
    }

    /// Every action the service model has is answered, and each is in the table above.
    @Test func everyActionIsCovered() {
        let api = StepFunctionsAPI(control: RecordingControl())
        #expect(api.actions.count == 37)
        #expect(Set(api.actions) == Set(Self.cases.map(\.action)))
    }

    /// The control plane's errors render as AWS's: `__type` and the model's status code.
    @Test func errorsRenderAsAWSDoes() async {
        let control = RecordingControl()
        control.failure.withLock { $0 = ServiceError.executionDoesNotExist(RecordingControl.execution) }
        let reply = await Self.handle(StepFunctionsAPI(control: control), "DescribeExecution", #"{"executionArn":"\#(Self.e)"}"#)
        #expect(reply.status == 400)
        #expect(reply.body == ["__type": "ExecutionDoesNotExist", "message": .string("Execution Does Not Exist: '\(Self.e)'")])
        control.failure.withLock { $0 = ServiceError.shuttingDown }
        let unavailable = await Self.handle(StepFunctionsAPI(control: control), "ListActivities", "{}")
        #expect(unavailable.status == 503)
        #expect(unavailable.body["__type"] == "ServiceUnavailable")
    }

    /// A request the model refuses never reaches the control plane.
    @Test func invalidRequestsStopAtTheProtocolLayer() async {
        let control = RecordingControl()
        let api = StepFunctionsAPI(control: control)
        let missing = await Self.handle(api, "StartExecution", "{}")
        #expect(missing.status == 400)
        #expect(missing.body["__type"] == "ValidationException")
        let malformed = await Self.handle(api, "StartExecution", "{")
        #expect(malformed.body["__type"] == "SerializationException")
        let unknown = await api.handle(target: "AWSStepFunctions.Nope", body: [])
        #expect(unknown.body["__type"] == "UnknownOperationException")
        #expect(control.recorded.isEmpty)
    }
}
