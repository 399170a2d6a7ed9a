import StatesLanguage

extension ExecutionState {
    /// Applies one history event: the only way execution state changes.
    ///
    /// - Important: Events MUST be applied in history order, each exactly once. `apply`
    ///   reads only the event (its AWS details, `thread` and `note`) and the definition.
    public mutating func apply(_ e: HistoryEvent) {
        appliedCount += 1
        if !e.isInternal { lastEventID = e.id }
        switch e.type {
        case .executionStarted:
            guard case .executionStarted(let s) = e.details else { preconditionFailure("ExecutionStarted without details") }
            input = s.input
            startTime = e.timestamp
            status = .running
            if let t = definition.timeoutSeconds { executionDeadline = e.timestamp + t * 1000 }
            // AWS behaviour: the first state's previousEventId is 0, not ExecutionStarted's id.
            threads[.root] = ThreadState(
                id: .root, parent: nil, index: 0, block: .root, state: definition.root.startAt,
                phase: .pending(input: s.input), cursor: 0, variables: Variables())
            return

        case .executionSucceeded:
            if case .output(let o) = e.details { output = o }
            finish(.succeeded, at: e.timestamp)
            return
        case .executionFailed, .executionAborted, .executionTimedOut:
            if case .error(let err, let cause) = e.details { error = StatesError(err ?? "", cause: cause) }
            finish(e.type == .executionFailed ? .failed : e.type == .executionAborted ? .aborted : .timedOut, at: e.timestamp)
            return
        case .executionRedriven:
            applyRedriven(e)
            return

        case .choiceStateEntered, .failStateEntered, .mapStateEntered, .parallelStateEntered, .passStateEntered,
            .succeedStateEntered, .taskStateEntered, .waitStateEntered:
            guard case .stateEntered(let name, let stateInput) = e.details else { preconditionFailure("\(e.type) without details") }
            guard let block = threads.box(e.thread)?.value.block else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
            guard let state = e.stateHint.map({ definition[$0] }) ?? definition.state(named: name, in: block) else {
                preconditionFailure("\(e.type) names '\(name)', not a state of \(block)")
            }
            var phase = ThreadState.Phase.entered
            if let failure = e.note?.failure {
                phase = e.type == .failStateEntered ? .threadFailed(failure) : .failed(failure)
            } else if e.type == .waitStateEntered, let due = e.note?.dueTime {
                phase = .waiting(due: due)
            }
            let retriers = state.retriers.count
            modify(e) { t in
                t.state = state.id
                t.stateInput = stateInput
                t.enteredTime = e.timestamp
                t.enteredEventID = e.id
                t.enteredPreviousEventID = e.previousEventId
                if retriers > 0 || !t.retryCounts.isEmpty { t.retryCounts = Array(repeating: 0, count: retriers) }
                t.phase = phase
            }

        case .choiceStateExited, .mapStateExited, .parallelStateExited, .passStateExited, .succeedStateExited,
            .taskStateExited, .waitStateExited:
            guard case .stateExited(_, let out, let assigned) = e.details else { preconditionFailure("\(e.type) without details") }
            modify(e) { t in
                t.phase = .exited(out)
                if let assigned { for (k, v) in assigned { t.variables.own[k] = v } }
            }

        case .taskScheduled, .activityScheduled, .lambdaFunctionScheduled:
            guard let note = e.note, let token = note.taskToken else { preconditionFailure("\(e.type) without a task token") }
            var t = thread(e)
            guard case .task(let task) = definition[t.state].kind else { preconditionFailure("\(e.type) outside a Task state") }
            t.phase = .task(ThreadState.TaskWait(
                token: token, resource: task.resource, started: false, timeoutDue: note.taskTimeout,
                heartbeatDue: note.heartbeatTimeout,
                heartbeatSeconds: note.heartbeatTimeout.map { ($0 - e.timestamp) / 1000 },
                attempt: t.retryCounts.reduce(0, +)))
            tokens[token] = e.thread
            store(t, e)

        case .taskStarted, .activityStarted, .lambdaFunctionStarted:
            var t = thread(e)
            if case .task(var w) = t.phase {
                w.started = true
                if let hb = e.note?.heartbeatTimeout { w.heartbeatDue = hb }
                t.phase = .task(w)
            }
            store(t, e)

        case .taskSubmitted:
            var t = thread(e)
            if case .task(var w) = t.phase {
                w.submitted = true
                t.phase = .task(w)
            }
            store(t, e)

        case .heartbeatRecorded:
            var t = thread(e)
            if case .task(var w) = t.phase {
                w.heartbeatDue = e.note?.heartbeatTimeout
                t.phase = .task(w)
            }
            store(t, e)

        case .taskSucceeded, .activitySucceeded, .lambdaFunctionSucceeded:
            let out: JSON
            switch e.details {
            case .taskOutput(_, _, let o), .output(let o): out = o
            default: out = .null
            }
            var t = thread(e)
            if case .task(let w) = t.phase { tokens.removeValue(forKey: w.token) }
            t.phase = .result(out)
            store(t, e)

        case .taskFailed, .taskTimedOut, .taskStartFailed, .taskSubmitFailed, .activityFailed, .activityTimedOut,
            .activityScheduleFailed, .lambdaFunctionFailed, .lambdaFunctionTimedOut, .lambdaFunctionScheduleFailed,
            .lambdaFunctionStartFailed:
            let failure: StatesError
            switch e.details {
            case .taskError(_, _, let err, let cause), .error(let err, let cause):
                failure = e.note?.failure ?? StatesError(err ?? "", cause: cause)
            default:
                failure = e.note?.failure ?? StatesError("")
            }
            var t = thread(e)
            if case .task(let w) = t.phase { tokens.removeValue(forKey: w.token) }
            Self.failOrRetry(&t, failure: failure, note: e.note)
            store(t, e)

        case .taskStateAborted, .waitStateAborted:
            var t = thread(e)
            if case .task(let w) = t.phase { tokens.removeValue(forKey: w.token) }
            t.phase = .threadFailed(StatesError("States.Aborted"))
            store(t, e)

        case .evaluationFailed:
            guard case .evaluationFailed(let err, let cause, _, _) = e.details else { preconditionFailure("EvaluationFailed without details") }
            var t = thread(e)
            t.phase = .failed(StatesError(err, cause: cause))
            store(t, e)

        case .parallelStateStarted:
            guard let branchInput = e.note?.effectiveInput else { preconditionFailure("ParallelStateStarted without its input") }
            var t = thread(e)
            guard case .parallel(let p) = definition[t.state].kind else { preconditionFailure("ParallelStateStarted outside a Parallel state") }
            var c = ThreadState.Children(
                kind: .parallel(input: branchInput, branches: p.branches), results: Array(repeating: nil, count: p.branches.count))
            // Branches start at once; each runs its block from the branch's StartAt.
            for (i, b) in p.branches.enumerated() {
                c.running[i] = makeChild(parent: t, index: i, block: b, input: branchInput, cursor: e.id)
            }
            t.phase = .children(c)
            store(t, e)

        case .parallelStateSucceeded:
            var t = thread(e)
            if case .children(let c) = t.phase {
                var results: [JSON] = []
                for i in 0..<c.count {
                    if let id = c.running[i], let child = threads[id], case .exited(let out) = child.phase {
                        results.append(out)
                    } else {
                        results.append(c.results[i] ?? .null)
                    }
                }
                removeChildren(of: c)
                t.phase = .result(.array(results))
            }
            // AWS behaviour: ParallelStateSucceeded does not move the chain.
            t.cursor = e.previousEventId
            threads[e.thread] = t

        case .retryScheduled:
            let failure = e.note?.failure ?? StatesError(StatesError.Name.branchFailed)
            var t = thread(e)
            if case .children(let c) = t.phase { removeChildren(of: c) }
            Self.failOrRetry(&t, failure: failure, note: e.note)
            if let chain = e.note?.chainEventID { t.cursor = chain }
            threads[e.thread] = t

        case .parallelStateFailed, .mapStateFailed:
            let failure = e.note?.failure ?? StatesError(StatesError.Name.branchFailed)
            var t = thread(e)
            if case .children(let c) = t.phase { removeChildren(of: c) }
            Self.failOrRetry(&t, failure: failure, note: e.note)
            store(t, e)

        case .parallelStateAborted, .mapStateAborted:
            var t = thread(e)
            if case .children(let c) = t.phase { removeChildren(of: c) }
            t.phase = .threadFailed(StatesError("States.Aborted"))
            store(t, e)

        case .mapStateStarted:
            guard let note = e.note, let items = note.items, let mapInput = note.effectiveInput else {
                preconditionFailure("MapStateStarted without its items")
            }
            var t = thread(e)
            guard case .map(let m) = definition[t.state].kind else { preconditionFailure("MapStateStarted outside a Map state") }
            t.phase = .children(ThreadState.Children(
                kind: .map(items: items, processor: m.processor, limits: note.mapLimits ?? MapLimits(maxConcurrency: 0), input: mapInput),
                results: Array(repeating: nil, count: items.count)))
            store(t, e)

        case .mapIterationStarted:
            guard case .mapIteration(_, let index) = e.details else { preconditionFailure("MapIterationStarted without details") }
            var parent = thread(e)
            guard case .children(var c) = parent.phase, case .map(let items, let processor, _, _) = c.kind else {
                preconditionFailure("MapIterationStarted outside a running Map")
            }
            let child = makeChild(parent: parent, index: index, block: processor, input: nil, cursor: e.id,
                                  hidden: c.isDistributed)
            threads.update(child) { $0.item = items[index] }
            c.running[index] = child
            c.nextIndex = max(c.nextIndex, index + 1)
            parent.phase = .children(c)
            store(parent, e)

        case .mapIterationSucceeded, .mapIterationFailed, .mapIterationAborted:
            guard case .mapIteration(_, let index) = e.details else { preconditionFailure("\(e.type) without details") }
            var parent = thread(e)
            guard case .children(var c) = parent.phase, let childID = c.running[index] else {
                preconditionFailure("\(e.type) for an iteration that is not running")
            }
            let child = threads[childID]
            switch e.type {
            case .mapIterationSucceeded:
                if let child, case .exited(let out) = child.phase { c.results[index] = out }
                c.succeeded += 1
            case .mapIterationFailed:
                c.failedCount += 1
                if c.failure == nil {
                    c.failure = e.note?.failure
                    if c.failure == nil, let child, case .threadFailed(let err) = child.phase { c.failure = err }
                    c.failureCursor = child?.cursor
                }
            default:
                break
            }
            c.running.removeValue(forKey: index)
            removeThread(childID)
            parent.phase = .children(c)
            store(parent, e)

        case .mapStateSucceeded:
            var t = thread(e)
            if case .children(let c) = t.phase {
                removeChildren(of: c)
                t.phase = .result(.array(c.results.map { $0 ?? .null }))
            }
            // AWS behaviour: MapStateSucceeded does not move the chain: MapStateExited points
            // at the last MapIterationSucceeded (inline) or at MapRunSucceeded (distributed).
            threads[e.thread] = t

        case .mapRunStarted:
            var t = thread(e)
            if case .children(var c) = t.phase, case .map(let items, let processor, _, let input) = c.kind,
                let limits = e.note?.mapLimits
            {
                c.kind = .map(items: items, processor: processor, limits: limits, input: input)
                c.mapRunArn = e.note?.mapRunArn
                c.isDistributed = true
                t.phase = .children(c)
            }
            store(t, e)

        case .mapRunSucceeded, .mapRunFailed, .mapRunAborted, .mapRunRedriven:
            // AWS behaviour: MapStateExited usually points at MapRunSucceeded (13 recorded
            // cases); a few recordings point at MapRunStarted instead (a race on AWS's side).
            store(thread(e), e)
        }
    }

    /// Changes the event's thread in place and moves its cursor to the event.
    private mutating func modify(_ e: HistoryEvent, _ body: (inout ThreadState) -> Void) {
        let moved = !e.isInternal
        let found: Void? = threads.update(e.thread) { t in
            body(&t)
            if moved { t.cursor = e.id }
        }
        guard found != nil else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
    }

    private func thread(_ e: HistoryEvent) -> ThreadState {
        guard let t = threads[e.thread] else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
        return t
    }

    /// Stores the updated thread and moves its cursor to the event.
    private mutating func store(_ t: ThreadState, _ e: HistoryEvent) {
        var t = t
        if !e.isInternal { t.cursor = e.id }
        threads[e.thread] = t
    }

    private static func failOrRetry(_ t: inout ThreadState, failure: StatesError, note: EngineNote?) {
        if let idx = note?.retrierIndex, let due = note?.dueTime {
            if idx < t.retryCounts.count { t.retryCounts[idx] += 1 }
            t.phase = .backoff(due: due)
        } else {
            t.phase = .failed(failure)
        }
    }

    private mutating func makeChild(parent: ThreadState, index: Int, block: BlockID, input: JSON?, cursor: Int64,
                                    hidden: Bool = false) -> ThreadID
    {
        let id: ThreadID
        if let free = freeThreadIDs.popLast() {
            id = ThreadID(rawValue: free)
        } else {
            id = ThreadID(rawValue: nextThreadID)
            nextThreadID += 1
        }
        var child = ThreadState(
            id: id, parent: parent.id, index: index, block: block, state: definition.blocks[block.rawValue].startAt,
            phase: .pending(input: input), cursor: cursor, variables: parent.variables.makeInnerScope())
        child.hidden = hidden || parent.hidden
        threads[id] = child
        return id
    }

    private mutating func removeChildren(of c: ThreadState.Children) {
        // In index order: freed ids are reused, so the order must not depend on the
        // dictionary's (per-instance, per-process) iteration order.
        for index in c.running.keys.sorted() { removeThread(c.running[index]!) }
    }

    /// Removes a thread, its descendants and their open tokens.
    mutating func removeThread(_ id: ThreadID) {
        guard let t = threads.removeValue(forKey: id) else { return }
        if id != .root { freeThreadIDs.append(id.rawValue) }
        switch t.phase {
        case .task(let w): tokens.removeValue(forKey: w.token)
        case .children(let c): removeChildren(of: c)
        default: break
        }
    }

    private mutating func finish(_ s: ExecutionStatus, at time: Int64) {
        redrivePoint = s == .succeeded ? nil : threads[.root]
        status = s
        stopTime = time
        threads.removeAll()
        tokens.removeAll()
    }
}

