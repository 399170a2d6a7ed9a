import StatesEngine
import StatesLanguage

/// What the transports (the HTTP API, the Kafka trigger and reply consumers, the CLI) ask
/// of the executor: the Step Functions API's actions, typed, plus batch entry points where
/// a transport has a batch.
///
/// The runtime implements it (`SteplineRuntime.RuntimeControl`); a transport imports this
/// module, never the runtime, so it can be tested against an in-memory implementation, and
/// authorization (who may call what) can sit at one place in front of it.
///
/// - Important: Every method throws `ServiceError` for what AWS answers with an exception
///   (its code is AWS's `__type`); `isServerError` marks the service's own failures
///   (storage, shutdown), which a caller may retry.
public protocol StepFunctionsControl: Sendable {
    // MARK: State machines
    func createStateMachine(_ input: CreateStateMachineInput) async throws -> CreateStateMachineOutput
    /// A state machine or a version (an alias ARN is `InvalidArn`).
    func describeStateMachine(_ arn: StateMachineARN) async throws -> StateMachineDescription
    func updateStateMachine(_ input: UpdateStateMachineInput) async throws -> UpdateStateMachineOutput
    func deleteStateMachine(_ arn: StateMachineARN) async throws
    func listStateMachines(_ page: PageRequest) async throws -> ResultPage<StateMachineListItem>
    func describeStateMachineForExecution(_ arn: ExecutionARN) async throws -> StateMachineForExecution
    func validateStateMachineDefinition(_ input: ValidateDefinitionInput) async throws -> ValidateDefinitionOutput

    // MARK: Versions and aliases
    func publishStateMachineVersion(_ arn: StateMachineARN, description: String?, revisionId: String?) async throws -> VersionListItem
    func listStateMachineVersions(_ arn: StateMachineARN, _ page: PageRequest) async throws -> ResultPage<VersionListItem>
    func deleteStateMachineVersion(_ arn: StateMachineARN) async throws
    func createStateMachineAlias(_ input: CreateAliasInput) async throws -> AliasListItem
    func describeStateMachineAlias(_ arn: StateMachineARN) async throws -> AliasDescription
    /// - Returns: the update date.
    func updateStateMachineAlias(_ arn: StateMachineARN, description: String?, routes: [AliasRoute]?) async throws -> Int64
    func deleteStateMachineAlias(_ arn: StateMachineARN) async throws
    func listStateMachineAliases(_ arn: StateMachineARN, _ page: PageRequest) async throws -> ResultPage<AliasListItem>

    // MARK: Tags
    func tagResource(_ arn: ResourceARN, tags: [Tag]) async throws
    func untagResource(_ arn: ResourceARN, keys: [String]) async throws
    func listTagsForResource(_ arn: ResourceARN) async throws -> [Tag]

    // MARK: Activities
    func createActivity(name: String, encryptionConfiguration: String?, tags: [Tag]) async throws -> ActivityDescription
    func describeActivity(_ arn: ActivityARN) async throws -> ActivityDescription
    func deleteActivity(_ arn: ActivityARN) async throws
    func listActivities(_ page: PageRequest) async throws -> ResultPage<ActivityDescription>
    /// Long-polls for a task of the activity (AWS: up to 60 s); nil when none came.
    func getActivityTask(_ arn: ActivityARN, workerName: String?) async throws -> ActivityTask?

    // MARK: Executions
    func startExecution(_ input: StartExecutionInput) async throws -> StartExecutionOutput
    /// Starts them all at once (their commits group); one result per input, in order.
    func startExecutions(_ inputs: [StartExecutionInput]) async -> [Result<StartExecutionOutput, ServiceError>]
    func startSyncExecution(_ input: StartExecutionInput) async throws -> SyncExecutionResult
    /// - Returns: the stop date.
    func stopExecution(_ arn: ExecutionARN, error: String?, cause: String?) async throws -> Int64
    func describeExecution(_ arn: ExecutionARN) async throws -> ExecutionDescription
    /// - Returns: the redrive date.
    func redriveExecution(_ arn: ExecutionARN) async throws -> Int64
    func getExecutionHistory(_ request: HistoryRequest) async throws -> ResultPage<HistoryEvent>
    func listExecutions(_ input: ListExecutionsInput) async throws -> ResultPage<ExecutionListItem>

    // MARK: Task answers
    /// SendTaskSuccess: `output` as the caller gave it (JSON text, checked here).
    func sendTaskSuccess(_ token: TaskToken, output: String) async throws
    func sendTaskFailure(_ token: TaskToken, error: String?, cause: String?) async throws
    func sendTaskHeartbeat(_ token: TaskToken) async throws
    /// Applies answers at once (answers to different tasks in parallel, to one task in
    /// order); nil where an answer was applied, the error where it was refused.
    func answerTasks(_ answers: [TaskAnswer]) async -> [ServiceError?]
    /// Applies one answer whose output is already parsed (a reply record's).
    func answerTask(_ answer: TaskAnswer) async throws
    /// A worker took an activity task outside GetActivityTask (a Kafka worker): records
    /// ActivityStarted. False when the task was taken already or has ended.
    func activityStarted(_ token: TaskToken, workerName: String?) async throws -> Bool
    /// The integration of the task that holds `token`, if a task of this service does.
    func taskResource(_ token: TaskToken) async -> TaskResource?

    // MARK: Map runs
    func describeMapRun(_ arn: MapRunARN) async throws -> MapRunDescription
    func listMapRuns(_ arn: ExecutionARN, _ page: PageRequest) async throws -> ResultPage<MapRunListItem>
    func updateMapRun(_ input: UpdateMapRunInput) async throws

    // MARK: Testing
    /// TestState: the request as AWS's JSON, checked and run as AWS does (the runner's
    /// checks follow AWS's order of messages), and AWS's response.
    func testState(_ request: JSONObject) async throws -> JSON
}

/// How loaded the executor is, for a transport that holds new work back when it is full
/// (the trigger consumer pauses its partitions, and the backlog waits in Kafka).
public protocol ExecutionLoad: Sendable {
    /// STANDARD executions running now.
    var runningExecutions: Int { get }
    /// At this many running, new starts are held back (0: no limit).
    var maxRunningExecutions: Int { get }
}

/// The trigger rules managed at run time (Stepline's `/triggers` API), next to those of the
/// configuration file. Rules are JSON as that API reads and writes them.
///
/// - Throws: `ServiceError` `.validation` for a rule that is refused (with the reason),
///   `.resourceNotFound` for a name no rule has.
public protocol TriggerControl: Sendable {
    func listTriggers() -> [JSON]
    func describeTrigger(name: String) throws -> JSON
    /// Creates or replaces the rule `name`; `body` is the rule as JSON text (numbers of its
    /// pattern are compared as written).
    func putTrigger(name: String, body: [UInt8]) throws -> JSON
    func deleteTrigger(name: String) throws
    /// What the rule would start for a record with this value (and, where given, key,
    /// topic, partition and offset): `{"matches", "stateMachineArn", "executionName", "input"}`.
    func testTrigger(name: String, value: [UInt8], key: String?, topic: String?, partition: Int32?, offset: Int64?) throws -> JSON
}

/// The daemon's health, as `/healthz` and `/readyz` report it.
public protocol DaemonHealth: Sendable {
    /// Nil while the process does its work; otherwise why not (shutting down, a part
    /// that failed).
    func liveness() -> String?
    func readiness() async -> Readiness
}

/// The health of a Kafka connection, as `/readyz` reports it.
public enum KafkaHealth: Sendable, Equatable {
    /// No Kafka is wired into this process.
    case notConfigured
    case reachable(String)
    case unreachable(String)
}

/// Tells whether Kafka is reachable (`KafkaMonitor`).
public protocol KafkaHealthProbe: Sendable {
    func check() async -> KafkaHealth
}

public struct NoKafka: KafkaHealthProbe {
    public init() {}
    public func check() async -> KafkaHealth { .notConfigured }
}

/// What `/readyz` reports.
public struct Readiness: Sendable {
    public var storeOpen: Bool
    public var recovered: Bool
    public var storeWritable: Bool
    public var kafka: KafkaHealth
    public var shuttingDown: Bool

    public init(storeOpen: Bool, recovered: Bool, storeWritable: Bool, kafka: KafkaHealth, shuttingDown: Bool) {
        self.storeOpen = storeOpen
        self.recovered = recovered
        self.storeWritable = storeWritable
        self.kafka = kafka
        self.shuttingDown = shuttingDown
    }

    public var isReady: Bool {
        guard storeOpen, recovered, storeWritable, !shuttingDown else { return false }
        if case .unreachable = kafka { return false }
        return true
    }
}
