import ControlPlane
import StatesEngine
import StatesLanguage
import Synchronization

/// An in-memory `StepFunctionsControl` that records each call as one line (the action and
/// the typed values it received) and answers with fixed values, or with `failure` when set.
final class RecordingControl: StepFunctionsControl {
    let calls = Mutex<[String]>([])
    let failure = Mutex<ServiceError?>(nil)

    static let machine = StateMachineARN("arn:aws:states:us-east-1:123456789012:stateMachine:m")
    static let version = StateMachineARN("arn:aws:states:us-east-1:123456789012:stateMachine:m:1")
    static let alias = StateMachineARN("arn:aws:states:us-east-1:123456789012:stateMachine:m:live")
    static let execution = ExecutionARN("arn:aws:states:us-east-1:123456789012:execution:m:e")
    static let activity = ActivityARN("arn:aws:states:us-east-1:123456789012:activity:a")
    static let mapRun = MapRunARN("arn:aws:states:us-east-1:123456789012:mapRun:m/label:1")
    /// 2024-01-01T00:00:00Z.
    static let date: Int64 = 1_704_067_200_000

    var recorded: [String] { calls.withLock { $0 } }

    private func record(_ line: String) throws {
        calls.withLock { $0.append(line) }
        if let e = failure.withLock({ $0 }) { throw e }
    }

    private static func page(_ p: PageRequest) -> String { "max=\(p.maxResults.map(String.init) ?? "-") next=\(p.nextToken ?? "-")" }

    // MARK: State machines

    func createStateMachine(_ input: CreateStateMachineInput) async throws -> CreateStateMachineOutput {
        try record("createStateMachine \(input.name) \(input.type) role=\(input.roleArn) publish=\(input.publish) logging=\(input.configurations.logging ?? "-") tags=\(input.tags.map { "\($0.key)=\($0.value)" })")
        return CreateStateMachineOutput(stateMachineArn: Self.machine, creationDate: Self.date, stateMachineVersionArn: input.publish ? Self.version : nil)
    }

    func describeStateMachine(_ arn: StateMachineARN) async throws -> StateMachineDescription {
        try record("describeStateMachine \(arn)")
        return StateMachineDescription(
            stateMachineArn: arn, name: "m", status: "ACTIVE", definition: #"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
            roleArn: "arn:aws:iam::123456789012:role/r", type: "STANDARD", creationDate: Self.date, revisionId: nil, description: nil,
            configurations: .init())
    }

    func updateStateMachine(_ input: UpdateStateMachineInput) async throws -> UpdateStateMachineOutput {
        try record("updateStateMachine \(input.stateMachineArn) definition=\(input.definition != nil) role=\(input.roleArn ?? "-") publish=\(input.publish)")
        return UpdateStateMachineOutput(updateDate: Self.date, revisionId: "rev-2", stateMachineVersionArn: nil)
    }

    func deleteStateMachine(_ arn: StateMachineARN) async throws { try record("deleteStateMachine \(arn)") }

    func listStateMachines(_ page: PageRequest) async throws -> ResultPage<StateMachineListItem> {
        try record("listStateMachines \(Self.page(page))")
        return ResultPage(items: [StateMachineListItem(stateMachineArn: Self.machine, name: "m", type: "STANDARD", creationDate: Self.date)],
                          nextToken: "n2")
    }

    func describeStateMachineForExecution(_ arn: ExecutionARN) async throws -> StateMachineForExecution {
        try record("describeStateMachineForExecution \(arn)")
        return StateMachineForExecution(stateMachineArn: Self.machine, name: "m", definition: "{}", roleArn: "r", type: "STANDARD",
                                        updateDate: Self.date, revisionId: "rev-1", configurations: .init())
    }

    func validateStateMachineDefinition(_ input: ValidateDefinitionInput) async throws -> ValidateDefinitionOutput {
        try record("validateStateMachineDefinition \(input.type) \(input.severity) max=\(input.maxResults)")
        return ValidateDefinitionOutput(isValid: true, diagnostics: [], truncated: false)
    }

    // MARK: Versions and aliases

    func publishStateMachineVersion(_ arn: StateMachineARN, description: String?, revisionId: String?) async throws -> VersionListItem {
        try record("publishStateMachineVersion \(arn) \(description ?? "-") \(revisionId ?? "-")")
        return VersionListItem(stateMachineVersionArn: Self.version, creationDate: Self.date)
    }

    func listStateMachineVersions(_ arn: StateMachineARN, _ page: PageRequest) async throws -> ResultPage<VersionListItem> {
        try record("listStateMachineVersions \(arn) \(Self.page(page))")
        return ResultPage(items: [VersionListItem(stateMachineVersionArn: Self.version, creationDate: Self.date)], nextToken: nil)
    }

    func deleteStateMachineVersion(_ arn: StateMachineARN) async throws { try record("deleteStateMachineVersion \(arn)") }

    func createStateMachineAlias(_ input: CreateAliasInput) async throws -> AliasListItem {
        try record("createStateMachineAlias \(input.name) \(input.routes.map { "\($0.stateMachineVersionArn)=\($0.weight)" })")
        return AliasListItem(stateMachineAliasArn: Self.alias, creationDate: Self.date)
    }

    func describeStateMachineAlias(_ arn: StateMachineARN) async throws -> AliasDescription {
        try record("describeStateMachineAlias \(arn)")
        return AliasDescription(stateMachineAliasArn: arn, name: "live", description: "d",
                                routes: [AliasRoute(stateMachineVersionArn: Self.version, weight: 100)], creationDate: Self.date, updateDate: nil)
    }

    func updateStateMachineAlias(_ arn: StateMachineARN, description: String?, routes: [AliasRoute]?) async throws -> Int64 {
        try record("updateStateMachineAlias \(arn) \(description ?? "-") routes=\(routes.map { "\($0.count)" } ?? "-")")
        return Self.date
    }

    func deleteStateMachineAlias(_ arn: StateMachineARN) async throws { try record("deleteStateMachineAlias \(arn)") }

    func listStateMachineAliases(_ arn: StateMachineARN, _ page: PageRequest) async throws -> ResultPage<AliasListItem> {
        try record("listStateMachineAliases \(arn) \(Self.page(page))")
        return ResultPage(items: [AliasListItem(stateMachineAliasArn: Self.alias, creationDate: Self.date)], nextToken: nil)
    }

    // MARK: Tags

    func tagResource(_ arn: ResourceARN, tags: [Tag]) async throws { try record("tagResource \(arn) \(tags.map { "\($0.key)=\($0.value)" })") }
    func untagResource(_ arn: ResourceARN, keys: [String]) async throws { try record("untagResource \(arn) \(keys)") }
    func listTagsForResource(_ arn: ResourceARN) async throws -> [Tag] {
        try record("listTagsForResource \(arn)")
        return [Tag(key: "team", value: "core")]
    }

    // MARK: Activities

    func createActivity(name: String, encryptionConfiguration: String?, tags: [Tag]) async throws -> ActivityDescription {
        try record("createActivity \(name) tags=\(tags.count)")
        return ActivityDescription(activityArn: Self.activity, name: name, creationDate: Self.date, encryptionConfiguration: nil)
    }

    func describeActivity(_ arn: ActivityARN) async throws -> ActivityDescription {
        try record("describeActivity \(arn)")
        return ActivityDescription(activityArn: arn, name: "a", creationDate: Self.date, encryptionConfiguration: nil)
    }

    func deleteActivity(_ arn: ActivityARN) async throws { try record("deleteActivity \(arn)") }

    func listActivities(_ page: PageRequest) async throws -> ResultPage<ActivityDescription> {
        try record("listActivities \(Self.page(page))")
        return ResultPage(items: [], nextToken: nil)
    }

    func getActivityTask(_ arn: ActivityARN, workerName: String?) async throws -> ActivityTask? {
        try record("getActivityTask \(arn) \(workerName ?? "-")")
        return ActivityTask(taskToken: TaskToken("tok"), input: ["n": 1])
    }

    // MARK: Executions

    func startExecution(_ input: StartExecutionInput) async throws -> StartExecutionOutput {
        try record("startExecution \(input.stateMachineArn) name=\(input.name ?? "-") input=\(input.input ?? "-") trace=\(input.traceHeader ?? "-")")
        return StartExecutionOutput(executionArn: Self.execution, startDate: Self.date)
    }

    func startExecutions(_ inputs: [StartExecutionInput]) async -> [Result<StartExecutionOutput, ServiceError>] {
        var out: [Result<StartExecutionOutput, ServiceError>] = []
        for i in inputs {
            do { out.append(.success(try await startExecution(i))) } catch { out.append(.failure(error as! ServiceError)) }
        }
        return out
    }

    func startSyncExecution(_ input: StartExecutionInput) async throws -> SyncExecutionResult {
        try record("startSyncExecution \(input.stateMachineArn) name=\(input.name ?? "-")")
        return SyncExecutionResult(executionArn: Self.execution, stateMachineArn: Self.machine, name: "e", startDate: Self.date,
                                   stopDate: Self.date + 250, status: .succeeded, input: ["a": 1], output: ["b": 2], error: nil, cause: nil)
    }

    func stopExecution(_ arn: ExecutionARN, error: String?, cause: String?) async throws -> Int64 {
        try record("stopExecution \(arn) \(error ?? "-") \(cause ?? "-")")
        return Self.date
    }

    func describeExecution(_ arn: ExecutionARN) async throws -> ExecutionDescription {
        try record("describeExecution \(arn)")
        return ExecutionDescription(
            executionArn: arn, stateMachineArn: Self.machine, name: "e", status: .failed, startDate: Self.date, stopDate: Self.date + 1000,
            input: ["a": 1], output: nil, error: "Oops", cause: "c", traceHeader: nil, stateMachineVersionArn: nil,
            stateMachineAliasArn: nil, redriveCount: 0, redriveDate: nil, redriveStatus: "REDRIVABLE", redriveStatusReason: nil)
    }

    func redriveExecution(_ arn: ExecutionARN) async throws -> Int64 {
        try record("redriveExecution \(arn)")
        return Self.date
    }

    func getExecutionHistory(_ request: HistoryRequest) async throws -> ResultPage<HistoryEvent> {
        try record("getExecutionHistory \(request.executionArn) reverse=\(request.reverseOrder) \(Self.page(request.page))")
        return ResultPage(items: [], nextToken: nil)
    }

    func listExecutions(_ input: ListExecutionsInput) async throws -> ResultPage<ExecutionListItem> {
        try record("listExecutions \(input.stateMachineArn.map(\.rawValue) ?? "-") \(input.mapRunArn.map(\.rawValue) ?? "-") status=\(input.statusFilter?.rawValue ?? "-") redriven=\(input.redriven.map { "\($0)" } ?? "-") \(Self.page(input.page))")
        return ResultPage(items: [ExecutionListItem(
            executionArn: Self.execution, stateMachineArn: Self.machine, name: "e", status: .running, startDate: Self.date, stopDate: nil,
            stateMachineVersionArn: nil, stateMachineAliasArn: nil, redriveCount: 0, redriveDate: nil)], nextToken: nil)
    }

    // MARK: Task answers

    func sendTaskSuccess(_ token: TaskToken, output: String) async throws { try record("sendTaskSuccess \(token) \(output)") }
    func sendTaskFailure(_ token: TaskToken, error: String?, cause: String?) async throws {
        try record("sendTaskFailure \(token) \(error ?? "-") \(cause ?? "-")")
    }
    func sendTaskHeartbeat(_ token: TaskToken) async throws { try record("sendTaskHeartbeat \(token)") }
    func answerTasks(_ answers: [TaskAnswer]) async -> [ServiceError?] { answers.map { _ in nil } }
    func answerTask(_ answer: TaskAnswer) async throws { try record("answerTask \(answer.token)") }
    func activityStarted(_ token: TaskToken, workerName: String?) async throws -> Bool {
        try record("activityStarted \(token) \(workerName ?? "-")")
        return true
    }
    func taskResource(_ token: TaskToken) async -> TaskResource? { nil }

    // MARK: Map runs

    func describeMapRun(_ arn: MapRunARN) async throws -> MapRunDescription {
        try record("describeMapRun \(arn)")
        return MapRunDescription(
            mapRunArn: arn, executionArn: Self.execution, status: "RUNNING", startDate: Self.date, stopDate: nil, maxConcurrency: 5,
            toleratedFailurePercentage: 0, toleratedFailureCount: 0,
            counts: MapRunCounts(pending: 1, running: 2, succeeded: 3, failed: 0, timedOut: 0, aborted: 0, total: 6, resultsWritten: 3),
            redriveCount: 0, redriveDate: nil)
    }

    func listMapRuns(_ arn: ExecutionARN, _ page: PageRequest) async throws -> ResultPage<MapRunListItem> {
        try record("listMapRuns \(arn) \(Self.page(page))")
        return ResultPage(items: [], nextToken: nil)
    }

    func updateMapRun(_ input: UpdateMapRunInput) async throws {
        try record("updateMapRun \(input.mapRunArn) max=\(input.maxConcurrency.map(String.init) ?? "-")")
    }

    // MARK: Testing

    func testState(_ request: JSONObject) async throws -> JSON {
        try record("testState \(request["definition"]?.stringValue ?? "-")")
        return ["status": "SUCCEEDED", "output": "{}"]
    }
}
