/// Where Stepline's Kafka integrations read and write (PRODUCT.md "Kafka conventions"),
/// each overridable under `integrations:` in the configuration file.
public struct IntegrationTopics: Sendable, Equatable {
    /// Replies to tasks: `{"taskToken", "output"}`, `{"taskToken", "error", "cause"}` or
    /// `{"taskToken", "heartbeat": true}`.
    public var taskReplies = "stepline.task-replies"
    /// Execution status events ("Step Functions Execution Status Change").
    public var executionStatus = "stepline.execution-status"
    /// Records that could not be processed, with the reason in headers.
    public var deadLetters = "stepline.dead-letters"
    /// `lambda:invoke` requests go to `<lambdaPrefix><FunctionName>`.
    public var lambdaPrefix = "stepline.lambda."
    /// Activity tasks go to `<activityPrefix><ActivityName>` (besides GetActivityTask).
    public var activityPrefix = "stepline.activity."
    /// `events:putEvents` entries go to `<eventsPrefix><EventBusName or default>`.
    public var eventsPrefix = "stepline.events."
    /// SQS queue name → topic, SNS topic name → topic (default: the same name).
    public var queueTopics: [String: String] = [:]
    public var snsTopics: [String: String] = [:]
    /// Whether activity tasks are also published to Kafka (HTTP workers always get them).
    public var publishActivities = true

    public init() {}

    public func queueTopic(_ queueName: String) -> String { queueTopics[queueName] ?? queueName }
    public func snsTopic(_ topicName: String) -> String { snsTopics[topicName] ?? topicName }
}

/// The headers every task request record carries.
public enum TaskRecordHeaders {
    public static let taskToken = "stepline-task-token"
    public static let executionArn = "stepline-execution-arn"
    public static let stateName = "stepline-state-name"
    public static let resource = "stepline-resource"
    public static let attempt = "stepline-attempt"
}

/// The headers of a dead letter.
public enum DeadLetterHeaders {
    public static let error = "stepline-error"
    public static let cause = "stepline-cause"
    /// `topic/partition/offset` of the original record.
    public static let source = "stepline-source"
    /// The trigger rule, when one applies.
    public static let rule = "stepline-rule"
}
