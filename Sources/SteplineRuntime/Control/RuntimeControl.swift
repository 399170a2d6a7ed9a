import ControlPlane
import StatesEngine
import StatesLanguage
import StatesStore

/// The runtime's side of the control plane: each action of `StepFunctionsControl` carried
/// out by the executor (`ExecutionService`), the resources (`ResourceService`) and the
/// activity queues, its records turned into the protocol's values. A value: every copy acts
/// on the same runtime (its map-run state included).
public struct RuntimeControl: StepFunctionsControl, ExecutionLoad {
    let runtime: SteplineRuntime

    public init(runtime: SteplineRuntime) {
        self.runtime = runtime
    }

    var mapRuns: MapRuns { runtime.mapRuns }

    var executions: ExecutionService { runtime.executions }

    public var runningExecutions: Int { executions.runningExecutions }
    public var maxRunningExecutions: Int { runtime.configuration.maxRunningExecutions }
    var resources: ResourceService { runtime.executions.resources }

    // MARK: State machines

    public func createStateMachine(_ input: CreateStateMachineInput) async throws -> CreateStateMachineOutput {
        let (r, version) = try await resources.createStateMachine(.init(
            name: input.name, definition: input.definition, roleArn: input.roleArn, type: input.type,
            loggingConfiguration: input.configurations.logging, tracingConfiguration: input.configurations.tracing,
            encryptionConfiguration: input.configurations.encryption),
            options: .init(publish: input.publish, versionDescription: input.versionDescription,
                           tags: input.tags.map { (key: $0.key, value: $0.value) }))
        return CreateStateMachineOutput(stateMachineArn: r.arn, creationDate: r.creationDate,
                                        stateMachineVersionArn: version.map(\.arn))
    }

    public func describeStateMachine(_ arn: StateMachineARN) async throws -> StateMachineDescription {
        let ref = try resources.reference(arn)
        switch ref.qualifier {
        case .none:
            let r = try await resources.describeStateMachine(arn: arn)
            // AWS behaviour: revisionId is shown once the machine was updated.
            return StateMachineDescription(
                stateMachineArn: r.arn, name: r.name, status: r.status, definition: r.definition,
                roleArn: r.roleArn, type: r.type, creationDate: r.creationDate,
                revisionId: r.updateDate != nil ? r.revisionId : nil, description: r.description,
                configurations: .init(logging: r.loggingConfiguration, tracing: r.tracingConfiguration,
                                      encryption: r.encryptionConfiguration))
        case .version:
            let v = try await resources.describeStateMachineVersion(arn: arn)
            return StateMachineDescription(
                stateMachineArn: v.arn, name: ref.name, status: "ACTIVE", definition: v.definition,
                roleArn: v.roleArn, type: v.type, creationDate: v.creationDate, revisionId: v.revisionId,
                description: v.description,
                configurations: .init(logging: v.loggingConfiguration, tracing: v.tracingConfiguration,
                                      encryption: v.encryptionConfiguration))
        case .alias:
            throw ServiceError.invalidArn(arn)
        }
    }

    public func updateStateMachine(_ input: UpdateStateMachineInput) async throws -> UpdateStateMachineOutput {
        let (r, version) = try await resources.updateStateMachine(arn: input.stateMachineArn, .init(
            definition: input.definition, roleArn: input.roleArn, loggingConfiguration: input.configurations.logging,
            tracingConfiguration: input.configurations.tracing, encryptionConfiguration: input.configurations.encryption,
            publish: input.publish, versionDescription: input.versionDescription))
        return UpdateStateMachineOutput(updateDate: r.updateDate ?? r.creationDate, revisionId: r.revisionId,
                                        stateMachineVersionArn: version.map(\.arn))
    }

    public func deleteStateMachine(_ arn: StateMachineARN) async throws {
        guard try resources.reference(arn).qualifier == .none else {
            throw ServiceError.validation("Unsupported operation: DeleteStateMachine takes an unqualified state machine ARN; use DeleteStateMachineVersion or DeleteStateMachineAlias")
        }
        try await resources.deleteStateMachine(arn: arn)
    }

    public func listStateMachines(_ page: PageRequest) async throws -> ResultPage<StateMachineListItem> {
        let p = try await resources.listStateMachines(maxResults: page.maxResults, nextToken: page.nextToken)
        return ResultPage(items: p.items.map {
            StateMachineListItem(stateMachineArn: $0.arn, name: $0.name, type: $0.type, creationDate: $0.creationDate)
        }, nextToken: p.next)
    }

    public func describeStateMachineForExecution(_ arn: ExecutionARN) async throws -> StateMachineForExecution {
        let e = try await executions.describeExecution(executionArn: arn)
        guard let text = try await executions.store.definition(revisionId: e.revisionId) else {
            throw ServiceError.executionDoesNotExist(arn)
        }
        let machine = try? await resources.describeStateMachine(arn: e.stateMachineArn)
        return StateMachineForExecution(
            stateMachineArn: e.stateMachineArn, name: ARNs.lastComponent(e.stateMachineArn.rawValue), definition: text,
            roleArn: e.roleArn ?? machine?.roleArn ?? "", type: e.type,
            updateDate: machine?.updateDate ?? machine?.creationDate ?? e.startDate, revisionId: e.revisionId,
            configurations: .init(logging: machine?.loggingConfiguration, tracing: machine?.tracingConfiguration,
                                  encryption: machine?.encryptionConfiguration))
    }

    public func validateStateMachineDefinition(_ input: ValidateDefinitionInput) async throws -> ValidateDefinitionOutput {
        let type: DefinitionOptions.MachineType = input.type == "EXPRESS" ? .express : .standard
        var diagnostics = StateMachineDefinition.validate(input.definition, options: DefinitionOptions(machineType: type))
        if input.severity != "WARNING" { diagnostics = diagnostics.filter { $0.severity == .error } }
        return ValidateDefinitionOutput(
            isValid: !diagnostics.contains { $0.severity == .error }, diagnostics: Array(diagnostics.prefix(input.maxResults)),
            truncated: diagnostics.count > input.maxResults)
    }

    // MARK: Versions and aliases

    public func publishStateMachineVersion(_ arn: StateMachineARN, description: String?, revisionId: String?) async throws
        -> VersionListItem
    {
        let v = try await resources.publishVersion(stateMachineArn: arn, description: description, revisionId: revisionId)
        return VersionListItem(stateMachineVersionArn: v.arn, creationDate: v.creationDate)
    }

    public func listStateMachineVersions(_ arn: StateMachineARN, _ page: PageRequest) async throws -> ResultPage<VersionListItem> {
        let p = try await resources.listVersions(stateMachineArn: arn, maxResults: page.maxResults, nextToken: page.nextToken)
        return ResultPage(items: p.items.map { VersionListItem(stateMachineVersionArn: $0.arn, creationDate: $0.creationDate) },
                          nextToken: p.next)
    }

    public func deleteStateMachineVersion(_ arn: StateMachineARN) async throws {
        try await resources.deleteVersion(arn: arn)
    }

    public func createStateMachineAlias(_ input: CreateAliasInput) async throws -> AliasListItem {
        let a = try await resources.createAlias(name: input.name, description: input.description, routes: input.routes.map(Self.route))
        return AliasListItem(stateMachineAliasArn: a.arn, creationDate: a.creationDate)
    }

    public func describeStateMachineAlias(_ arn: StateMachineARN) async throws -> AliasDescription {
        let a = try await resources.describeStateMachineAlias(arn: arn)
        return AliasDescription(
            stateMachineAliasArn: a.arn, name: a.name, description: a.description,
            routes: a.routingConfiguration.map { AliasRoute(stateMachineVersionArn: $0.stateMachineVersionArn, weight: $0.weight) },
            creationDate: a.creationDate, updateDate: a.updateDate)
    }

    public func updateStateMachineAlias(_ arn: StateMachineARN, description: String?, routes: [AliasRoute]?) async throws -> Int64 {
        let a = try await resources.updateAlias(arn: arn, description: description, routes: routes.map { $0.map(Self.route) })
        return a.updateDate ?? a.creationDate
    }

    public func deleteStateMachineAlias(_ arn: StateMachineARN) async throws {
        try await resources.deleteAlias(arn: arn)
    }

    public func listStateMachineAliases(_ arn: StateMachineARN, _ page: PageRequest) async throws -> ResultPage<AliasListItem> {
        let p = try await resources.listAliases(stateMachineArn: arn, maxResults: page.maxResults, nextToken: page.nextToken)
        return ResultPage(items: p.items.map { AliasListItem(stateMachineAliasArn: $0.arn, creationDate: $0.creationDate) },
                          nextToken: p.next)
    }

    static func route(_ r: AliasRoute) -> StateMachineAliasRecord.Route {
        .init(stateMachineVersionArn: r.stateMachineVersionArn, weight: r.weight)
    }

    // MARK: Tags

    public func tagResource(_ arn: ResourceARN, tags: [Tag]) async throws {
        try await resources.tagResource(arn: arn, tags: tags.map { (key: $0.key, value: $0.value) })
    }

    public func untagResource(_ arn: ResourceARN, keys: [String]) async throws {
        try await resources.untagResource(arn: arn, keys: keys)
    }

    public func listTagsForResource(_ arn: ResourceARN) async throws -> [Tag] {
        try await resources.tags(resourceArn: arn).map { Tag(key: $0.key, value: $0.value) }
    }

    // MARK: Activities

    public func createActivity(name: String, encryptionConfiguration: String?, tags: [Tag]) async throws -> ActivityDescription {
        guard tags.count <= ResourceService.maxTagsPerResource else {
            throw ServiceError(.tooManyTags, "Too many tags: at most \(ResourceService.maxTagsPerResource) tags per resource")
        }
        let r = try await resources.createActivity(name: name, encryptionConfiguration: encryptionConfiguration)
        if !tags.isEmpty { try await resources.tagResource(arn: ResourceARN(r.arn), tags: tags.map { (key: $0.key, value: $0.value) }) }
        return Self.activity(r)
    }

    public func describeActivity(_ arn: ActivityARN) async throws -> ActivityDescription {
        Self.activity(try await resources.describeActivity(arn: arn))
    }

    public func deleteActivity(_ arn: ActivityARN) async throws {
        try await resources.deleteActivity(arn: arn)
    }

    public func listActivities(_ page: PageRequest) async throws -> ResultPage<ActivityDescription> {
        let p = try await resources.listActivities(maxResults: page.maxResults, nextToken: page.nextToken)
        return ResultPage(items: p.items.map(Self.activity), nextToken: p.next)
    }

    /// GetActivityTask waits at most this long (AWS: 60 s).
    public static let activityPollTimeout: Duration = .seconds(60)

    public func getActivityTask(_ arn: ActivityARN, workerName: String?) async throws -> ActivityTask? {
        _ = try await resources.describeActivity(arn: arn)
        guard let task = try await runtime.activities.poll(activityArn: arn, workerName: workerName, timeout: Self.activityPollTimeout,
                                                           executor: executions)
        else { return nil }
        return ActivityTask(taskToken: task.token, input: task.parameters)
    }

    static func activity(_ r: ActivityRecord) -> ActivityDescription {
        ActivityDescription(activityArn: r.arn, name: r.name, creationDate: r.creationDate,
                            encryptionConfiguration: r.encryptionConfiguration)
    }

    // MARK: Executions

    public func startExecution(_ input: StartExecutionInput) async throws -> StartExecutionOutput {
        let started = try await executions.startExecution(Self.start(input))
        return StartExecutionOutput(executionArn: started.executionArn, startDate: started.startDate)
    }

    /// One start's answer and its place in the batch.
    private struct IndexedStart: Sendable {
        var index: Int
        var result: Result<StartExecutionOutput, ServiceError>
    }

    public func startExecutions(_ inputs: [StartExecutionInput]) async -> [Result<StartExecutionOutput, ServiceError>] {
        // (A child result typed as a tuple of an index and a Result crashed the release build
        // of Swift 6.3.1 in the loop below, an out-of-bounds index: a named struct does not.)
        await withTaskGroup(of: IndexedStart.self) { group in
            for (i, input) in inputs.enumerated() {
                group.addTask {
                    do {
                        return IndexedStart(index: i, result: .success(try await self.startExecution(input)))
                    } catch {
                        return IndexedStart(index: i, result: .failure(Self.serviceError(error)))
                    }
                }
            }
            var out = [Result<StartExecutionOutput, ServiceError>](
                repeating: .failure(ServiceError.internalError("no answer")), count: inputs.count)
            for await answer in group { out[answer.index] = answer.result }
            return out
        }
    }

    public func startSyncExecution(_ input: StartExecutionInput) async throws -> SyncExecutionResult {
        let r = try await executions.startSyncExecution(Self.start(input))
        return SyncExecutionResult(
            executionArn: r.started.executionArn, stateMachineArn: r.stateMachineArn, name: r.name,
            startDate: r.started.startDate, stopDate: r.stopDate, status: r.status, input: r.input, output: r.output,
            error: r.error, cause: r.cause)
    }

    public func stopExecution(_ arn: ExecutionARN, error: String?, cause: String?) async throws -> Int64 {
        try await executions.stopExecution(executionArn: arn, error: error, cause: cause)
    }

    public func describeExecution(_ arn: ExecutionARN) async throws -> ExecutionDescription {
        let r = try await executions.describeExecution(executionArn: arn)
        let (status, reason) = Self.redriveStatus(r, now: runtime.now())
        return ExecutionDescription(
            executionArn: r.arn, stateMachineArn: r.stateMachineArn, name: r.name, status: r.status,
            startDate: r.startDate, stopDate: r.stopDate, input: r.input, output: r.output, error: r.error, cause: r.cause,
            traceHeader: r.traceHeader, stateMachineVersionArn: r.stateMachineVersionArn,
            stateMachineAliasArn: r.stateMachineAliasArn, redriveCount: r.redriveCount,
            redriveDate: r.redriveDate, redriveStatus: status, redriveStatusReason: reason)
    }

    /// AWS behaviour: RUNNING and SUCCEEDED executions are NOT_REDRIVABLE with a reason;
    /// FAILED, TIMED_OUT and ABORTED ones are REDRIVABLE for 14 days.
    static func redriveStatus(_ r: ExecutionRecord, now: Int64) -> (String, String?) {
        switch r.status {
        case .running, .succeeded, .pendingRedrive:
            return ("NOT_REDRIVABLE", "Execution is \(r.status.rawValue) and cannot be redriven")
        default:
            if let stop = r.stopDate, now - stop > 14 * 86_400_000 {
                return ("NOT_REDRIVABLE", "Execution can no longer be redriven: it stopped more than 14 days ago")
            }
            return ("REDRIVABLE", nil)
        }
    }

    public func redriveExecution(_ arn: ExecutionARN) async throws -> Int64 {
        try await executions.redriveExecution(executionArn: arn)
    }

    public func getExecutionHistory(_ request: HistoryRequest) async throws -> ResultPage<HistoryEvent> {
        let page = try await executions.getExecutionHistory(
            executionArn: request.executionArn, maxResults: request.page.maxResults, nextToken: request.page.nextToken,
            reverseOrder: request.reverseOrder)
        return ResultPage(items: page.events, nextToken: page.nextToken)
    }

    public func listExecutions(_ input: ListExecutionsInput) async throws -> ResultPage<ExecutionListItem> {
        guard (input.stateMachineArn == nil) != (input.mapRunArn == nil) else {
            throw ServiceError.validation("Must provide exactly one of stateMachineArn or mapRunArn")
        }
        guard let machine = input.stateMachineArn else {
            // Distributed Map iterations run inside their parent execution here: a map run
            // has no child executions to list (docs/api.md).
            _ = try await mapRuns.find(input.mapRunArn!)
            return ResultPage(items: [], nextToken: nil)
        }
        var filter = try await executionFilter(machine)
        filter.status = input.statusFilter
        filter.redriven = input.redriven
        let page = try await executions.listExecutions(filter: filter, maxResults: input.page.maxResults, nextToken: input.page.nextToken)
        return ResultPage(items: page.items.map { r in
            ExecutionListItem(
                executionArn: r.arn, stateMachineArn: r.stateMachineArn, name: r.name, status: r.status,
                startDate: r.startDate, stopDate: r.stopDate, stateMachineVersionArn: r.stateMachineVersionArn,
                stateMachineAliasArn: r.stateMachineAliasArn, redriveCount: r.redriveCount,
                redriveDate: r.redriveDate)
        }, nextToken: page.next)
    }

    /// The machine an execution filter names: plain, version or alias ARN.
    func executionFilter(_ arn: StateMachineARN) async throws -> ExecutionFilter {
        let ref = try resources.reference(arn)
        var filter = ExecutionFilter(stateMachineArn: ref.machineArn)
        let type: String
        switch ref.qualifier {
        case .none: type = try await resources.describeStateMachine(arn: arn).type
        case .version:
            type = try await resources.describeStateMachineVersion(arn: arn).type
            filter.versionArn = arn
        case .alias:
            _ = try await resources.describeStateMachineAlias(arn: arn)
            type = try await resources.describeStateMachine(arn: ref.machineArn).type
            filter.aliasArn = arn
        }
        if type == "EXPRESS" {
            throw ServiceError(.stateMachineTypeNotSupported, "This operation is not supported by this type of state machine")
        }
        return filter
    }

    static func start(_ input: StartExecutionInput) -> ExecutionService.StartRequest {
        .init(stateMachineArn: input.stateMachineArn, name: input.name, input: input.input, traceHeader: input.traceHeader)
    }

    // MARK: Task answers

    public func sendTaskSuccess(_ token: TaskToken, output: String) async throws {
        try await executions.sendTaskSuccess(taskToken: token, output: output)
    }

    public func sendTaskFailure(_ token: TaskToken, error: String?, cause: String?) async throws {
        try await executions.taskFailed(token: token, error: error, cause: cause)
    }

    public func sendTaskHeartbeat(_ token: TaskToken) async throws {
        try await executions.taskHeartbeat(token: token)
    }

    public func answerTasks(_ answers: [TaskAnswer]) async -> [ServiceError?] {
        var byToken: [TaskToken: [Int]] = [:]
        for (i, a) in answers.enumerated() { byToken[a.token, default: []].append(i) }
        return await withTaskGroup(of: [(Int, ServiceError?)].self) { group in
            for (_, indices) in byToken {
                group.addTask {
                    var out: [(Int, ServiceError?)] = []
                    for i in indices {
                        do {
                            switch answers[i] {
                            case .success(let t, let output): try await self.executions.taskSucceeded(token: t, output: output)
                            case .failure(let t, let error, let cause): try await self.executions.taskFailed(token: t, error: error, cause: cause)
                            case .heartbeat(let t): try await self.executions.taskHeartbeat(token: t)
                            }
                            out.append((i, nil))
                        } catch {
                            out.append((i, Self.serviceError(error)))
                        }
                    }
                    return out
                }
            }
            var results = [ServiceError?](repeating: nil, count: answers.count)
            for await part in group { for (i, e) in part { results[i] = e } }
            return results
        }
    }

    public func answerTask(_ answer: TaskAnswer) async throws {
        switch answer {
        case .success(let t, let output): try await executions.taskSucceeded(token: t, output: output)
        case .failure(let t, let error, let cause): try await executions.taskFailed(token: t, error: error, cause: cause)
        case .heartbeat(let t): try await executions.taskHeartbeat(token: t)
        }
    }

    public func activityStarted(_ token: TaskToken, workerName: String?) async throws -> Bool {
        try await executions.activityStarted(token: token, workerName: workerName)
    }

    public func taskResource(_ token: TaskToken) async -> TaskResource? {
        guard let record = try? await executions.store.task(token: token) else { return nil }
        return TaskResource(record.resource)
    }

    /// An error as the protocol reports it.
    static func serviceError(_ error: any Error) -> ServiceError {
        error as? ServiceError ?? ServiceError.internalError("\(error)")
    }

    // MARK: Map runs

    public func describeMapRun(_ arn: MapRunARN) async throws -> MapRunDescription {
        try await mapRuns.describe(arn)
    }

    public func listMapRuns(_ arn: ExecutionARN, _ page: PageRequest) async throws -> ResultPage<MapRunListItem> {
        try await mapRuns.list(arn, page)
    }

    public func updateMapRun(_ input: UpdateMapRunInput) async throws {
        try await mapRuns.update(input)
    }

    // MARK: Testing

    public func testState(_ request: JSONObject) async throws -> JSON {
        do {
            return try TestStateRunner.run(request, now: runtime.now())
        } catch {
            throw ServiceError(error.type, error.message)
        }
    }
}

extension SteplineRuntime: DaemonHealth {}
