import ControlPlane
import StatesEngine
import StatesLanguage


/// How a worker's reply becomes the task's result.
public enum ReplyShape: String, Sendable {
    /// The reply's output is the result (callbacks, activities, Lambda functions called by ARN).
    case raw
    /// Wrapped in Lambda's response (`Payload`, `StatusCode`, `ExecutedVersion`, ...).
    case lambdaInvoke
    /// An activity task: the reply is the output, and the worker first takes the task
    /// (ActivityStarted), which an HTTP worker then cannot.
    case activity
}

/// What carrying out one task request takes, decided from the request alone.
public enum IntegrationPlan: Sendable, Equatable {
    /// Publish; once delivered, the task succeeds with `result` (a request-response publish:
    /// `sqs:sendMessage`, `sns:publish`, `events:putEvents`, Lambda `InvocationType: Event`).
    case publish([OutboundRecord], result: JSON)
    /// Publish; once delivered, report `submitted` (TaskSubmitted) and wait for the callback
    /// that carries the task token (`.waitForTaskToken`).
    case publishAndWait([OutboundRecord], submitted: JSON)
    /// Publish a request and wait for a worker's reply on the reply topic.
    case request(OutboundRecord, reply: ReplyShape)
    /// `states:startExecution` (nested executions run in this daemon).
    case startExecution(NestedStart)
    /// The task fails at once with AWS's error for the integration.
    case fail(error: String, cause: String)
}

/// A nested `states:startExecution`.
public struct NestedStart: Sendable, Equatable {
    public enum Mode: String, Sendable { case requestResponse, sync, sync2, waitForTaskToken }
    public var stateMachineArn: StateMachineARN
    public var input: String
    public var name: String?
    public var mode: Mode
}

/// Turns task requests into integration plans (PRODUCT.md's topic conventions).
public struct IntegrationPlanner: Sendable {
    public var topics: IntegrationTopics
    public var region: String
    public var account: String

    public init(topics: IntegrationTopics = .init(), region: String = "us-east-1", account: String = "123456789012") {
        self.topics = topics
        self.region = region
        self.account = account
    }

    /// The plan for `request`.
    ///
    /// - Parameters:
    ///   - newID: fresh identifiers (message and event ids), injected for determinism.
    ///   - now: epoch milliseconds, for dates in results and events.
    public func plan(_ request: TaskRequest, newID: () -> String, now: Int64) -> IntegrationPlan {
        let r = request.resource
        let p = request.parameters
        let waits = r.pattern == .waitForTaskToken
        switch r.kind {
        case .activity(let name):
            return .request(record(topic: topics.activityPrefix + name, value: p, request), reply: .activity)
        case .lambdaFunction:
            let name = Self.functionName(r.arn)
            return .request(record(topic: topics.lambdaPrefix + name, value: p, request), reply: .raw)
        case .service(let service, let action):
            switch (service, action) {
            case ("sqs", "sendMessage"):
                return sqsSendMessage(request, p, waits: waits, newID: newID, now: now)
            case ("sns", "publish"):
                return snsPublish(request, p, waits: waits, newID: newID, now: now)
            case ("events", "putEvents"):
                return eventsPutEvents(request, p, waits: waits, newID: newID, now: now)
            case ("lambda", "invoke"):
                return lambdaInvoke(request, p, waits: waits, newID: newID, now: now)
            case ("states", "startExecution"):
                return startExecution(p, pattern: r.pattern)
            default:
                return .fail(error: StatesError.Name.taskFailed,
                             cause: "Stepline does not carry out \(r.arn): its integrations are sqs:sendMessage, sns:publish, events:putEvents, lambda:invoke, states:startExecution and activities, over Kafka")
            }
        case .sdk(let service, let action):
            return .fail(error: StatesError.Name.taskFailed,
                         cause: "Stepline does not carry out AWS SDK integrations (aws-sdk:\(service):\(action))")
        }
    }

    // MARK: Integrations

    func sqsSendMessage(_ request: TaskRequest, _ p: JSON, waits: Bool, newID: () -> String, now: Int64) -> IntegrationPlan {
        guard let url = p["QueueUrl"]?.stringValue, let queue = url.split(separator: "/").last.map(String.init), !queue.isEmpty else {
            return .fail(error: "SQS.MissingParameterException", cause: "The request must contain the parameter QueueUrl. (Service: Sqs, Status Code: 400)")
        }
        guard let bodyValue = p["MessageBody"] else {
            return .fail(error: "SQS.MissingParameterException", cause: "The request must contain the parameter MessageBody. (Service: Sqs, Status Code: 400)")
        }
        let body = bodyValue.stringValue ?? bodyValue.serialized()
        var headers = taskHeaders(request)
        let attributes = p["MessageAttributes"]?.objectValue
        if let attributes {
            for (name, value) in attributes {
                if let s = value["StringValue"]?.stringValue { headers.append((name, s)) }
            }
        }
        if let dedup = p["MessageDeduplicationId"]?.stringValue { headers.append(("stepline-deduplication-id", dedup)) }
        let key = p["MessageGroupId"]?.stringValue.map { Array($0.utf8) }
        let out = OutboundRecord(topic: topics.queueTopic(queue), key: key, value: Array(body.utf8), headers: headers)
        let result = SDKResults.sqsSendMessage(body: body, attributes: attributes, messageID: newID(), requestID: newID(),
                                               date: SDKResults.httpDate(milliseconds: now))
        return waits ? .publishAndWait([out], submitted: result) : .publish([out], result: result)
    }

    func snsPublish(_ request: TaskRequest, _ p: JSON, waits: Bool, newID: () -> String, now: Int64) -> IntegrationPlan {
        guard let arn = p["TopicArn"]?.stringValue ?? p["TargetArn"]?.stringValue,
            let name = arn.split(separator: ":").last.map(String.init), !name.isEmpty
        else {
            return .fail(error: "SNS.InvalidParameterException",
                         cause: "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter (Service: Sns, Status Code: 400)")
        }
        guard let messageValue = p["Message"] else {
            return .fail(error: "SNS.InvalidParameterException", cause: "Invalid parameter: Message (Service: Sns, Status Code: 400)")
        }
        let message = messageValue.stringValue ?? messageValue.serialized()
        var headers = taskHeaders(request)
        if let subject = p["Subject"]?.stringValue { headers.append(("Subject", subject)) }
        if let attributes = p["MessageAttributes"]?.objectValue {
            for (name, value) in attributes {
                if let s = value["StringValue"]?.stringValue { headers.append((name, s)) }
            }
        }
        let key = p["MessageGroupId"]?.stringValue.map { Array($0.utf8) }
        let out = OutboundRecord(topic: topics.snsTopic(name), key: key, value: Array(message.utf8), headers: headers)
        let sequence = name.hasSuffix(".fifo") ? String(now) : nil
        let result = SDKResults.snsPublish(messageID: newID(), sequenceNumber: sequence, requestID: newID(),
                                           date: SDKResults.httpDate(milliseconds: now))
        return waits ? .publishAndWait([out], submitted: result) : .publish([out], result: result)
    }

    func eventsPutEvents(_ request: TaskRequest, _ p: JSON, waits: Bool, newID: () -> String, now: Int64) -> IntegrationPlan {
        guard case .array(let entries)? = p["Entries"], !entries.isEmpty else {
            return .fail(error: "EventBridge.ValidationException",
                         cause: "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null")
        }
        var records: [OutboundRecord] = []
        var ids: [String] = []
        for (i, entry) in entries.enumerated() {
            guard let source = entry["Source"]?.stringValue, let detailType = entry["DetailType"]?.stringValue,
                let detailValue = entry["Detail"]
            else {
                return .fail(error: "EventBridge.FailedEntry",
                             cause: "Entry \(i): Source, DetailType and Detail are required (FailedEntryCount: 1)")
            }
            var detail = detailValue
            if let text = detailValue.stringValue {
                guard let parsed = try? JSON.parse(text), case .object = parsed else {
                    return .fail(error: "EventBridge.FailedEntry", cause: "Entry \(i): Detail is malformed (FailedEntryCount: 1)")
                }
                detail = parsed
            }
            let id = newID()
            ids.append(id)
            let bus = entry["EventBusName"]?.stringValue.flatMap { $0.split(separator: "/").last.map(String.init) } ?? "default"
            var event = JSONObject()
            event.append("version", "0")
            event.append("id", .string(id))
            event.append("detail-type", .string(detailType))
            event.append("source", .string(source))
            event.append("account", .string(account))
            event.append("time", .string(String(ISOTime.format(milliseconds: now).prefix(19)) + "Z"))
            event.append("region", .string(region))
            event.append("resources", entry["Resources"] ?? [])
            event.append("detail", detail)
            var value: [UInt8] = []
            JSON.object(event).write(to: &value)
            records.append(OutboundRecord(topic: topics.eventsPrefix + bus, key: Array(source.utf8), value: value,
                                          headers: taskHeaders(request)))
        }
        let result = SDKResults.eventsPutEvents(eventIDs: ids)
        return waits ? .publishAndWait(records, submitted: result) : .publish(records, result: result)
    }

    func lambdaInvoke(_ request: TaskRequest, _ p: JSON, waits: Bool, newID: () -> String, now: Int64) -> IntegrationPlan {
        guard let fn = p["FunctionName"]?.stringValue, !fn.isEmpty else {
            return .fail(error: "Lambda.InvalidParameterValueException",
                         cause: "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null")
        }
        let name = Self.functionName(fn)
        var headers = taskHeaders(request)
        if let q = p["Qualifier"]?.stringValue { headers.append(("stepline-qualifier", q)) }
        let payload = p["Payload"] ?? .null
        let out = OutboundRecord(topic: topics.lambdaPrefix + name, value: jsonBytes(payload), headers: headers)
        let date = SDKResults.httpDate(milliseconds: now)
        if waits {
            return .publishAndWait([out], submitted: SDKResults.lambdaInvoke(payload: "", statusCode: 202, requestID: newID(), date: date))
        }
        switch p["InvocationType"]?.stringValue ?? "RequestResponse" {
        case "Event":
            return .publish([out], result: SDKResults.lambdaInvoke(payload: "", statusCode: 202, requestID: newID(), date: date))
        case "DryRun":
            return .publish([], result: SDKResults.lambdaInvoke(payload: "", statusCode: 204, requestID: newID(), date: date))
        default:
            return .request(out, reply: .lambdaInvoke)
        }
    }

    func startExecution(_ p: JSON, pattern: TaskResource.Pattern) -> IntegrationPlan {
        guard let arn = p["StateMachineArn"]?.stringValue else {
            return .fail(error: "StepFunctions.InvalidArnException", cause: "StateMachineArn is required")
        }
        let input: String
        switch p["Input"] {
        case nil: input = "{}"
        case .string(let s)?: input = s
        case let v?: input = v.serialized()
        }
        let mode: NestedStart.Mode
        switch pattern {
        case .requestResponse: mode = .requestResponse
        case .sync: mode = .sync
        case .sync2: mode = .sync2
        case .waitForTaskToken: mode = .waitForTaskToken
        }
        return .startExecution(NestedStart(stateMachineArn: StateMachineARN(arn), input: input, name: p["Name"]?.stringValue, mode: mode))
    }

    // MARK: Helpers

    func record(topic: String, value: JSON, _ request: TaskRequest) -> OutboundRecord {
        OutboundRecord(topic: topic, value: jsonBytes(value), headers: taskHeaders(request))
    }

    func taskHeaders(_ r: TaskRequest) -> [(String, String)] {
        [(TaskRecordHeaders.taskToken, r.token.rawValue), (TaskRecordHeaders.executionArn, r.executionArn.rawValue),
         (TaskRecordHeaders.stateName, r.stateName), (TaskRecordHeaders.resource, r.resource.arn),
         (TaskRecordHeaders.attempt, String(r.attempt))]
    }

    func jsonBytes(_ v: JSON) -> [UInt8] {
        var out: [UInt8] = []
        v.write(to: &out)
        return out
    }

    /// `name`, `arn:aws:lambda:r:a:function:name[:qualifier]` or `a:function:name` → `name`.
    public static func functionName(_ text: String) -> String {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if let i = parts.firstIndex(of: "function"), i + 1 < parts.count { return String(parts[i + 1]) }
        return text
    }
}
