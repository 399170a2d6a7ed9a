@testable import SteplineKafka
import Foundation
import StatesEngine
import StatesLanguage
@testable import SteplineRuntime
import Testing

@Suite struct IntegrationPlanTests {
    func request(_ resource: String, _ parameters: JSON) -> TaskRequest {
        TaskRequest(token: TaskToken("tok"), executionArn: ExecutionARN("arn:aws:states:us-east-1:123456789012:execution:m:e"), stateName: "S",
                    resource: TaskResource(resource)!, parameters: parameters, timeoutSeconds: nil, heartbeatSeconds: nil,
                    credentials: nil, attempt: 0, scheduledEventID: 3)
    }

    var ids: () -> String {
        var n = 0
        return {
            n += 1
            return "id-\(n)"
        }
    }

    let planner = IntegrationPlanner()

    @Test func sqsSendMessagePublishesTheBodyToTheQueueTopic() throws {
        let plan = planner.plan(request("arn:aws:states:::sqs:sendMessage", [
            "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/orders", "MessageBody": "hello",
            "MessageGroupId": "g1", "MessageAttributes": ["kind": ["DataType": "String", "StringValue": "new"]],
        ]), newID: ids, now: 0)
        guard case .publish(let records, let result) = plan else { Issue.record("\(plan)"); return }
        #expect(records.count == 1)
        #expect(records[0].topic == "orders")
        #expect(records[0].value == Array("hello".utf8))
        #expect(records[0].key == Array("g1".utf8))
        #expect(records[0].headers.contains { $0 == ("kind", "new") })
        #expect(records[0].headers.contains { $0 == (TaskRecordHeaders.taskToken, "tok") })
        #expect(result["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592")
        #expect(result["MessageId"] == "id-1")
        #expect(result["MD5OfMessageAttributes"]?.stringValue?.count == 32)
        #expect(result["SdkHttpMetadata"]?["HttpStatusCode"] == 200)
    }

    @Test func waitForTaskTokenSubmitsThenWaits() {
        let plan = planner.plan(request("arn:aws:states:::sqs:sendMessage.waitForTaskToken", [
            "QueueUrl": "https://sqs/q", "MessageBody": ["token": "tok", "n": 1],
        ]), newID: ids, now: 0)
        guard case .publishAndWait(let records, let submitted) = plan else { Issue.record("\(plan)"); return }
        #expect(String(decoding: records[0].value, as: UTF8.self) == #"{"token":"tok","n":1}"#)
        #expect(submitted["MessageId"] != nil)
    }

    @Test func missingParametersFailWithTheServicesErrors() {
        if case .fail(let e, _) = planner.plan(request("arn:aws:states:::sqs:sendMessage", ["MessageBody": "x"]), newID: ids, now: 0) {
            #expect(e == "SQS.MissingParameterException")
        } else { Issue.record("expected a failure") }
        if case .fail(let e, _) = planner.plan(request("arn:aws:states:::sns:publish", ["Message": "x"]), newID: ids, now: 0) {
            #expect(e == "SNS.InvalidParameterException")
        } else { Issue.record("expected a failure") }
        if case .fail(let e, let cause) = planner.plan(request("arn:aws:states:::dynamodb:getItem", [:]), newID: ids, now: 0) {
            #expect(e == "States.TaskFailed")
            #expect(cause.contains("dynamodb"))
        } else { Issue.record("expected a failure") }
    }

    @Test func snsPublishUsesTheTopicNameAndSubject() {
        let plan = planner.plan(request("arn:aws:states:::sns:publish", [
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Message": ["x": 1], "Subject": "Hi",
        ]), newID: ids, now: 0)
        guard case .publish(let records, let result) = plan else { Issue.record("\(plan)"); return }
        #expect(records[0].topic == "alerts")
        #expect(records[0].headers.contains { $0 == ("Subject", "Hi") })
        #expect(result["MessageId"] == "id-1")
    }

    @Test func putEventsWritesEventBridgeEventsPerBus() throws {
        let plan = planner.plan(request("arn:aws:states:::events:putEvents", [
            "Entries": [["Source": "shop", "DetailType": "OrderPlaced", "Detail": ["id": 7]],
                        ["Source": "shop", "DetailType": "Other", "Detail": "{\"a\":1}", "EventBusName": "ops"]],
        ]), newID: ids, now: 1_700_000_000_000)
        guard case .publish(let records, let result) = plan else { Issue.record("\(plan)"); return }
        #expect(records.map(\.topic) == ["stepline.events.default", "stepline.events.ops"])
        let event = try JSON.parse(bytes: records[0].value)
        #expect(event["detail-type"] == "OrderPlaced")
        #expect(event["detail"]?["id"] == 7)
        #expect(event["source"] == "shop")
        #expect(event["time"] == "2023-11-14T22:13:20Z")
        #expect(try JSON.parse(bytes: records[1].value)["detail"]?["a"] == 1)
        #expect(result["FailedEntryCount"] == 0)
        #expect(result["Entries"]?.arrayValue?.count == 2)
        // The result's EventIds are the published events' ids (TaskSubmitted's output, for
        // `.waitForTaskToken`, is written from the same plan as the records).
        let published = try records.map { try JSON.parse(bytes: $0.value)["id"] }
        #expect(result["Entries"]?.arrayValue?.map { $0["EventId"] } == published)
        if case .fail(let e, _) = planner.plan(request("arn:aws:states:::events:putEvents", [
            "Entries": [["Source": "s", "DetailType": "d", "Detail": "not json"]],
        ]), newID: ids, now: 0) {
            #expect(e == "EventBridge.FailedEntry")
        } else { Issue.record("expected a failure") }
    }

    @Test func lambdaInvokeRequestsAndWaitsForTheReply() {
        let plan = planner.plan(request("arn:aws:states:::lambda:invoke", [
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:greet:prod", "Payload": ["name": "Ada"],
        ]), newID: ids, now: 0)
        guard case .request(let record, let shape) = plan else { Issue.record("\(plan)"); return }
        #expect(record.topic == "stepline.lambda.greet")
        #expect(shape == .lambdaInvoke)
        if case .publish(_, let result) = planner.plan(request("arn:aws:states:::lambda:invoke", [
            "FunctionName": "greet", "InvocationType": "Event",
        ]), newID: ids, now: 0) {
            #expect(result["StatusCode"] == 202)
        } else { Issue.record("expected a publish") }
        if case .request(let r, let s) = planner.plan(request("arn:aws:lambda:us-east-1:123456789012:function:greet", ["a": 1]),
                                                      newID: ids, now: 0) {
            #expect(r.topic == "stepline.lambda.greet" && s == .raw)
        } else { Issue.record("expected a request") }
    }

    @Test func activitiesAndNestedExecutions() {
        if case .request(let r, _) = planner.plan(request("arn:aws:states:us-east-1:123456789012:activity:review", ["a": 1]),
                                                  newID: ids, now: 0) {
            #expect(r.topic == "stepline.activity.review")
        } else { Issue.record("expected a request") }
        if case .startExecution(let s) = planner.plan(request("arn:aws:states:::states:startExecution.sync:2", [
            "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child", "Input": ["x": 1],
        ]), newID: ids, now: 0) {
            #expect(s.mode == .sync2 && s.input == #"{"x":1}"# && s.name == nil)
        } else { Issue.record("expected a nested start") }
    }

    @Test func lambdaResultShape() {
        let r = SDKResults.lambdaInvoke(payload: ["ok": true], statusCode: 200, requestID: "r", date: "d")
        #expect(r["Payload"]?["ok"] == true)
        #expect(r["StatusCode"] == 200)
        #expect(r["ExecutedVersion"] == "$LATEST")
    }

    @Test func httpDates() {
        #expect(SDKResults.httpDate(milliseconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(SDKResults.httpDate(milliseconds: 1_700_000_000_000) == "Tue, 14 Nov 2023 22:13:20 GMT")
    }

    @Test func executionNamesAreValidAndDeterministic() {
        #expect(TriggerConsumer.executionName("rule-orders-0-42") == "rule-orders-0-42")
        #expect(TriggerConsumer.executionName("a b/c:d") == "a_b_c_d")
        let long = TriggerConsumer.executionName(String(repeating: "x", count: 200))
        #expect(long.count == 80)
        #expect(long == TriggerConsumer.executionName(String(repeating: "x", count: 200)))
        #expect(NestedExecutions.childName(token: TaskToken("t1")) == NestedExecutions.childName(token: TaskToken("t1")))
        #expect(NestedExecutions.childName(token: TaskToken("t1")).count == 36)
    }

    @Test func triggerRulesValidate() throws {
        let rule = try TriggerRule.from(json: [
            "name": "new-orders", "topic": "orders", "pattern": ["detail-type": ["OrderPlaced"]], "stateMachine": "orders",
            "input": ["pathsMap": ["id": "$.detail.id"], "template": "{\"order\": <id>}"], "deadLetter": true,
        ], source: .config)
        #expect(rule.pattern != nil && rule.transformer != nil && rule.deadLetter)
        #expect(throws: TriggerRule.Invalid.self) { try TriggerRule.from(json: ["name": "x", "topic": "t", "stateMachine": "m", "bogus": 1], source: .api) }
        #expect(throws: TriggerRule.Invalid.self) {
            try TriggerRule.from(json: ["name": "x", "topic": "t", "stateMachine": "m", "pattern": ["a": "not-an-array"]], source: .api)
        }
        #expect(throws: TriggerRule.Invalid.self) { try TriggerRule.from(json: ["name": "bad name", "topic": "t", "stateMachine": "m"], source: .api) }
        let registry = try TriggerRegistry(config: [rule], file: nil)
        let event = try FlattenedEvent(text: #"{"detail-type":"OrderPlaced","detail":{"id":1}}"#)
        #expect(registry.snapshot.rules(matching: event, topic: "orders").map(\.name) == ["new-orders"])
        #expect(registry.snapshot.rules(matching: event, topic: "other").isEmpty)
        #expect(throws: TriggerRule.Invalid.self) { try registry.put(rule) }
    }

    @Test func registryPersistsAPIRules() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("triggers-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let registry = try TriggerRegistry(config: [], file: file)
        try registry.put(TriggerRule(name: "r1", topic: "t", pattern: nil, stateMachine: "m"))
        let reopened = try TriggerRegistry(config: [], file: file)
        #expect(reopened.snapshot.rules.map(\.name) == ["r1"])
        #expect(try reopened.delete(name: "r1"))
        #expect(try TriggerRegistry(config: [], file: file).snapshot.rules.isEmpty)
    }

    @Test func statusEventShape() throws {
        let definition = try StateMachineDefinition.parse(#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#)
        let info = ExecutionInfo.make(stateMachineName: "m", executionName: "e")
        let (state, _) = ExecutionState.start(definition: definition, info: info, input: ["a": 1],
                                              context: DecisionContext(now: 1_700_000_000_000, random: RandomSource(seed: 1)))
        let event = ExecutionStatusEvent.make(state, id: "ev", now: 1_700_000_000_000)
        #expect(event["source"] == "aws.states")
        #expect(event["detail-type"] == "Step Functions Execution Status Change")
        #expect(event["detail"]?["status"] == "SUCCEEDED")
        #expect(event["detail"]?["output"] == #"{"a":1}"#)
        #expect(event["resources"]?[0] == .string(info.executionArn))
    }
}
