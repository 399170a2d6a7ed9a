import StatesLanguage

/// The decider's working set for one call: the clock, randomness and what was decided so far.
struct Decider {
    let context: DecisionContext
    var decision = Decision()
    /// Sizes of the large parts of payloads checked in this call: state data flows from
    /// state to state mostly unchanged, so each large part is measured once.
    var sizes = JSONSizeMemo()
    /// An event would have taken the history past its quota: from then on events are
    /// dropped (not applied), threads stop, and the call ends with `ExecutionFailed`.
    var historyLimitReached = false
    var endingForHistoryLimit = false

    /// The call produced its share of events (`DecisionContext.yieldAfterEvents`): threads
    /// stop before their next state.
    var mustYield: Bool {
        guard let n = context.yieldAfterEvents else { return false }
        return decision.events.count >= n
    }

    var now: Int64 { context.now }
}

/// How a thread stands after the decider ran it as far as it could.
enum ThreadOutcome {
    /// Waiting for time, a task or its children.
    case blocked
    /// The thread's last state exited with this output.
    case completed(JSON)
    /// The thread failed with no catcher left.
    case failed(StatesError)
}

extension ExecutionState {
    /// Starts an execution: `ExecutionStarted`, then every step until it blocks or ends.
    ///
    /// - Parameters:
    ///   - definition: the validated definition.
    ///   - info: names and ARNs (the context object's `Execution` and `StateMachine`).
    ///   - input: the execution input.
    ///   - context: the clock and randomness of this call.
    public static func start(definition: StateMachineDefinition, info: ExecutionInfo, input: JSON,
                             context: DecisionContext) -> (ExecutionState, Decision)
    {
        var state = ExecutionState(definition: definition, info: info)
        var d = Decider(context: context)
        state.emit(&d, .executionStarted, .root, .executionStarted(ExecutionStartedDetails(
            input: input, roleArn: info.roleArn, stateMachineAliasArn: info.stateMachineAliasArn,
            stateMachineVersionArn: info.stateMachineVersionArn)), prev: 0)
        state.drive(&d)
        state.endIfHistoryLimitReached(&d)
        return (state, d.decision)
    }

    /// Runs every step that is due at `context.now`: fired timers, timeouts, and anything
    /// left runnable (after a replay, for instance).
    public mutating func advance(_ context: DecisionContext) -> Decision {
        var d = Decider(context: context)
        drive(&d)
        endIfHistoryLimitReached(&d)
        return d.decision
    }

    /// Applies an outside signal (a task result, a heartbeat, a stop) and runs what follows.
    ///
    /// - Throws: `SignalError.taskDoesNotExist` for a token that no open task holds,
    ///   `.executionClosed` when the execution has ended.
    public mutating func deliver(_ signal: ExecutionSignal, _ context: DecisionContext) throws(SignalError) -> Decision {
        guard status == .running else { throw .executionClosed }
        var d = Decider(context: context)
        switch signal {
        case .stop(let error, let cause):
            // AWS behaviour: a stopped execution gets ExecutionAborted alone, chained to 0.
            for token in tokens.keys.sorted() { d.decision.commands.append(.cancelTask(token: TaskToken(token))) }
            emit(&d, .executionAborted, .root, .error(error: error, cause: cause), prev: 0)
            return d.decision
        case .taskSubmitted(let token, let output):
            let (thread, wait) = try openTask(token)
            // At-least-once delivery: a second report of the same submission changes nothing.
            guard !wait.submitted else { return d.decision }
            emit(&d, .taskSubmitted, thread, .taskOutput(
                resourceType: wait.resource.resourceType, resource: wait.resource.resourceName, output: output))
        case .taskSucceeded(let token, let output):
            let (thread, wait) = try openTask(token)
            if output.serializedSizeExceeds(payloadSizeLimit, memo: &d.sizes) {
                // AWS behaviour: the cause names the function ARN (Lambda resources) or the
                // integration ('lambda'), and the error is catchable by name.
                let subject = wait.resource.kind == .lambdaFunction ? wait.resource.arn : wait.resource.resourceType
                taskFailure(&d, thread, wait, StatesError(StatesError.Name.dataLimitExceeded,
                    cause: "The state/task '\(subject)' returned a result with a size exceeding the maximum number of bytes service limit."))
            } else {
                emitTaskSucceeded(&d, thread, wait, output)
            }
        case .taskFailed(let token, let error, let cause):
            let (thread, wait) = try openTask(token)
            taskFailure(&d, thread, wait, StatesError(error ?? "", cause: cause))
        case .taskHeartbeat(let token):
            let (thread, wait) = try openTask(token)
            if let hb = wait.heartbeatSeconds {
                emit(&d, .heartbeatRecorded, thread, note: EngineNote(heartbeatTimeout: d.now + hb * 1000))
            }
        case .activityStarted(let token, let worker):
            let (thread, wait) = try openTask(token)
            guard !wait.started else { return d.decision }
            let hb = wait.heartbeatSeconds.map { d.now + $0 * 1000 }
            emit(&d, .activityStarted, thread, .activityStarted(workerName: worker), note: hb.map { EngineNote(heartbeatTimeout: $0) })
        }
        drive(&d)
        endIfHistoryLimitReached(&d)
        return d.decision
    }

    /// Fails the execution whose history reached its quota in this call: the events that
    /// fit stay, `ExecutionFailed` takes the last id, open tasks are cancelled.
    mutating func endIfHistoryLimitReached(_ d: inout Decider) {
        guard d.historyLimitReached, status == .running else { return }
        for token in tokens.keys.sorted() { d.decision.commands.append(.cancelTask(token: TaskToken(token))) }
        d.endingForHistoryLimit = true
        emit(&d, .executionFailed, .root, .error(error: HistoryLimit.error, cause: HistoryLimit.cause(d.context.historyEventLimit)),
             prev: lastEventID)
    }

    private func openTask(_ token: TaskToken) throws(SignalError) -> (ThreadID, ThreadState.TaskWait) {
        guard let thread = tokens[token.rawValue], case .task(let w)? = phase(thread), w.token == token.rawValue else {
            throw .taskDoesNotExist
        }
        return (thread, w)
    }

    // MARK: Emitting

    /// Appends an event: assigns its id and chain, applies it, records it.
    ///
    /// The event is applied from its parts, then built once and moved into the decision: an
    /// event is a large value whose copies cost more than applying it.
    @discardableResult
    mutating func emit(_ d: inout Decider, _ type: HistoryEventType, _ thread: ThreadID, _ details: EventDetails = .none,
                       note: EngineNote? = nil, prev: Int64? = nil, hidden: Bool = false, stateHint: StateID? = nil) -> Int64
    {
        let facts = chainFacts(thread)
        let hidden = hidden || facts.hidden
        let id = type.isInternal || hidden ? lastEventID : lastEventID + 1
        if !d.endingForHistoryLimit {
            if d.historyLimitReached { return id }
            // The second bound is a safety net for events that take no id (the hidden child
            // executions of a Distributed Map), which the quota does not count.
            if (!type.isInternal && !hidden && id >= d.context.historyEventLimit) || d.decision.events.count >= d.context.maxEventsPerCall {
                d.historyLimitReached = true
                return id
            }
        }
        let previous = prev ?? facts.cursor ?? lastEventID
        let header = EventHeader(id: id, previousEventId: previous, timestamp: d.now, type: type, thread: thread, hidden: hidden,
                                 stateHint: stateHint)
        apply(header, details, note)
        if type.isStateEntered { d.decision.transitions += 1 }
        d.decision.events.append(HistoryEvent(id: id, previousEventId: previous, timestamp: d.now, details: details, type: type,
                                              hidden: hidden, thread: thread, note: note, stateHint: stateHint))
        return id
    }

    /// A thread's cursor and visibility, read without holding its box (a box held across
    /// `apply` would be copied on write).
    @inline(__always) func chainFacts(_ id: ThreadID) -> (hidden: Bool, cursor: Int64?) {
        guard let box = threads.box(id) else { return (false, nil) }
        return (box.value.hidden, box.value.cursor)
    }

    // MARK: Driving

    /// Runs the execution from the top until every thread is blocked or it ends.
    mutating func drive(_ d: inout Decider) {
        guard status == .running else { return }
        if core.resumeDue != nil {
            makeUnique()
            core.resumeDue = nil
        }
        if let deadline = executionDeadline, d.now >= deadline {
            timeOut(&d)
            return
        }
        _ = run(.root, &d)
        if d.mustYield && status == .running {
            makeUnique()
            core.resumeDue = d.now
        }
    }

    private mutating func timeOut(_ d: inout Decider) {
        for token in tokens.keys.sorted() { d.decision.commands.append(.cancelTask(token: TaskToken(token))) }
        // AWS behaviour: ExecutionTimedOut carries neither error nor cause.
        emit(&d, .executionTimedOut, .root, .error(error: nil, cause: nil),
             prev: cursor(.root) ?? lastEventID)
    }

    /// Runs one thread until it blocks, completes or fails.
    mutating func run(_ id: ThreadID, _ d: inout Decider) -> ThreadOutcome {
        while status == .running && !d.historyLimitReached {
            if d.mustYield { return .blocked }
            // A Map or Parallel runs its children without holding them: a copy held here
            // would make every change of the children copy their arrays.
            guard let isRunningChildren = threads.box(id)?.value.phase.isRunningChildren else { return .blocked }
            if isRunningChildren {
                if !runChildren(&d, id) { return .blocked }
                continue
            }
            // The phase alone: a copy of the thread would cost more than most steps.
            guard let phase = self.phase(id) else { return .blocked }
            var failure: StatesError? = nil
            switch phase {
            case .pending(let input):
                let stateID = threads.box(id)!.value.state
                if let input {
                    enter(&d, id, stateID, input: input)
                } else {
                    switch mapIterationInput(&d, frame(id)!) {
                    case .success(let v): enter(&d, id, stateID, input: v)
                    case .failure(let e): failure = e
                    }
                }

            case .entered:
                failure = execute(&d, id)

            case .exited(let output):
                let state = plan[threads.box(id)!.value.state]
                if case .next(let n) = state.transition, !isTerminalExit(state) {
                    enter(&d, id, n, input: output)
                    continue
                }
                if id == .root { emit(&d, .executionSucceeded, .root, .output(output)) }
                return .completed(output)

            case .threadFailed(let error):
                if id == .root { failExecution(&d, error) }
                return .failed(error)

            case .failed(let error):
                if error.location != nil {
                    recordEvaluationFailure(&d, id, error)
                    continue
                }
                failure = error

            case .waiting(let due):
                guard d.now >= due else { return .blocked }
                failure = finishWait(&d, id)

            case .backoff(let due):
                guard d.now >= due else { return .blocked }
                failure = retryState(&d, id)

            case .task(let w):
                if let due = w.timeoutDue, d.now >= due {
                    taskFailure(&d, id, w, StatesError(StatesError.Name.timeout), timedOut: true)
                } else if let due = w.heartbeatDue, d.now >= due {
                    taskFailure(&d, id, w, StatesError(StatesError.Name.heartbeatTimeout), timedOut: true)
                } else {
                    return .blocked
                }

            case .result(let raw):
                failure = finishState(&d, id, result: raw)

            case .children:
                preconditionFailure("Children run above")
            }
            if let error = failure, error.location != nil {
                // Record the evaluation failure first; the `.failed` phase handles it next.
                recordEvaluationFailure(&d, id, error)
                continue
            }
            if let failure, let remaining = handleCatch(&d, id, failure) {
                if id == .root { failExecution(&d, remaining) }
                return .failed(remaining)
            }
        }
        return .blocked
    }

    /// AWS behaviour: a JSONata failure is recorded by `EvaluationFailed` before it is
    /// caught or fails the execution. It chains to what the state's entry chained to (to
    /// the entry itself for a Wait, which evaluates after entering); a Map whose `Items`
    /// or limits fail also records `MapStateFailed`.
    mutating func recordEvaluationFailure(_ d: inout Decider, _ id: ThreadID, _ error: StatesError) {
        guard let t = frame(id) else { return }
        let state = plan[t.state]
        var prev = t.enteredPreviousEventID
        if case .wait = state.kind { prev = t.enteredEventID }
        let evaluationID = emit(&d, .evaluationFailed, id, .evaluationFailed(
            error: error.name, cause: error.cause, location: error.location, state: state.name), prev: prev)
        var plain = error
        plain.location = nil
        if case .map = state.kind, ["Items", "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"].contains(error.location ?? "") {
            emit(&d, .mapStateFailed, id, note: EngineNote(failure: plain), prev: evaluationID)
        }
    }

    func isTerminalExit(_ state: State) -> Bool {
        if case .succeed = state.kind { return true }
        return state.isEnd
    }

    mutating func failExecution(_ d: inout Decider, _ error: StatesError) {
        emit(&d, .executionFailed, .root, .error(error: error.name.isEmpty ? nil : error.name, cause: error.cause))
    }
}
