import StatesLanguage

/// Task states: scheduling, results, failures, timeouts.
extension ExecutionState {
    mutating func scheduleTask(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State, _ task: TaskState) throws(StatesError) {
        let eff = try applyInputPath(t, state, t.stateInput, d)
        let token = TaskTokens.make(d.context.random, now: d.context.now)
        var parameters = eff
        if let params = state.io.parameters {
            parameters = try evaluate(params, environment(t, state, input: eff, d, taskToken: token), t)
        }
        let timeout = try evaluateNumber(task.timeoutSeconds, field: "TimeoutSeconds", t, state, input: eff, d).map { Int64($0) }
        let heartbeat = try evaluateNumber(task.heartbeatSeconds, field: "HeartbeatSeconds", t, state, input: eff, d).map { Int64($0) }
        var credentials: JSON? = nil
        if case .jsonPath(let c)? = task.credentials {
            let value = try evaluate(c, environment(t, state, input: eff, d), t)
            if case .object(let o) = value, let role = o["RoleArn"] { credentials = ["roleArn": role] } else { credentials = value }
        }
        try dispatchTask(&d, id, t, state, task, token: token, parameters: parameters, timeout: timeout, heartbeat: heartbeat,
                         credentials: credentials)
    }

    /// Emits the scheduling events of a task and asks the runtime to dispatch it.
    mutating func dispatchTask(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State, _ task: TaskState,
                               token: String, parameters: JSON, timeout: Int64?, heartbeat: Int64?,
                               credentials: JSON?) throws(StatesError)
    {
        try checkPayload(parameters, of: state.name, &d)
        let note = EngineNote(
            taskToken: token, taskTimeout: timeout.map { d.now + $0 * 1000 },
            heartbeatTimeout: heartbeat.map { d.now + $0 * 1000 })
        let resource = task.resource
        let scheduledID: Int64
        switch resource.kind {
        case .lambdaFunction:
            scheduledID = emit(&d, .lambdaFunctionScheduled, id, .scheduled(ScheduledDetails(
                resource: resource.arn, input: parameters, timeoutInSeconds: timeout, taskCredentials: credentials)), note: note)
            emit(&d, .lambdaFunctionStarted, id)
        case .activity:
            scheduledID = emit(&d, .activityScheduled, id, .scheduled(ScheduledDetails(
                resource: resource.arn, input: parameters, timeoutInSeconds: timeout, heartbeatInSeconds: heartbeat)), note: note)
        case .service, .sdk:
            scheduledID = emit(&d, .taskScheduled, id, .taskScheduled(TaskScheduledDetails(
                resourceType: resource.resourceType, resource: resource.resourceName, region: d.context.region,
                parameters: parameters, timeoutInSeconds: timeout, heartbeatInSeconds: heartbeat, taskCredentials: credentials)),
                note: note)
            emit(&d, .taskStarted, id, .taskStarted(resourceType: resource.resourceType, resource: resource.resourceName))
        }
        d.decision.commands.append(.dispatchTask(TaskRequest(
            token: TaskToken(token), executionArn: ExecutionARN(info.executionArn), stateName: state.name, resource: resource, parameters: parameters,
            timeoutSeconds: timeout, heartbeatSeconds: heartbeat, credentials: credentials,
            attempt: t.retryCounts.reduce(0, +), scheduledEventID: scheduledID, roleArn: info.roleArn)))
    }

    mutating func emitTaskSucceeded(_ d: inout Decider, _ id: ThreadID, _ w: ThreadState.TaskWait, _ output: JSON) {
        switch w.resource.kind {
        case .lambdaFunction: emit(&d, .lambdaFunctionSucceeded, id, .output(output))
        case .activity: emit(&d, .activitySucceeded, id, .output(output))
        case .service, .sdk:
            emit(&d, .taskSucceeded, id, .taskOutput(
                resourceType: w.resource.resourceType, resource: w.resource.resourceName, output: output))
        }
    }

    /// A task failed or timed out: the failure event, with the retry decision in its note.
    mutating func taskFailure(_ d: inout Decider, _ id: ThreadID, _ w: ThreadState.TaskWait, _ error: StatesError,
                              timedOut: Bool = false)
    {
        guard let t = frame(id) else { return }
        let state = plan[t.state]
        let retry = retryDecision(t, state, error, d)
        let note = EngineNote(dueTime: retry?.due, failure: error, retrierIndex: retry?.index)
        let name = error.name.isEmpty ? nil : error.name
        if timedOut { d.decision.commands.append(.cancelTask(token: TaskToken(w.token))) }
        switch w.resource.kind {
        case .lambdaFunction:
            emit(&d, timedOut ? .lambdaFunctionTimedOut : .lambdaFunctionFailed, id, .error(error: name, cause: error.cause), note: note)
        case .activity:
            emit(&d, timedOut ? .activityTimedOut : .activityFailed, id, .error(error: name, cause: error.cause), note: note)
        case .service, .sdk:
            emit(&d, timedOut ? .taskTimedOut : .taskFailed, id, .taskError(
                resourceType: w.resource.resourceType, resource: w.resource.resourceName, error: name, cause: error.cause),
                note: note)
        }
    }
}

/// Task tokens: opaque, unguessable, and long like AWS's.
public enum TaskTokens {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    /// The same 64 characters in ASCII order, for the time prefix.
    static let ordered = Array("+/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// An opaque token of 88 base64 characters, AWS-like: "AQB", the time in milliseconds
    /// (8 characters, in an order that sorts as the time does), then 462 random bits.
    ///
    /// The time prefix makes tokens created later sort later, so the store's indexes by
    /// token (tasks, outbox) take new tokens at their right edge, in pages that are hot,
    /// rather than one random page each; the random part keeps a token unguessable.
    public static func make(_ random: RandomSource, now: Int64) -> String {
        var out = [UInt8]()
        out.reserveCapacity(88)
        out.append(contentsOf: "AQB".utf8)
        let time = UInt64(max(0, now))
        for shift in stride(from: 42, through: 0, by: -6) { out.append(ordered[Int((time >> UInt64(shift)) & 63)]) }
        while out.count < 88 {
            var bits = random.next()
            for _ in 0..<10 where out.count < 88 {
                out.append(alphabet[Int(bits & 63)])
                bits >>= 6
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
