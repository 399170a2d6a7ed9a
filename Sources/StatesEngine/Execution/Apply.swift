import StatesLanguage

extension ExecutionState {
    /// Applies one history event: the only way execution state changes.
    ///
    /// - Important: Events MUST be applied in history order, each exactly once. `apply`
    ///   reads only the event (its AWS details, `thread` and `note`) and the definition.
    public mutating func apply(_ e: HistoryEvent) {
        makeUnique()
        core.apply(e.header, e.details, e.note)
    }

    /// Applies an event given in parts (the decider applies an event before it moves it
    /// into the decision: applying the whole value and then moving it made the compiler copy it).
    mutating func apply(_ e: EventHeader, _ details: EventDetails, _ note: EngineNote?) {
        makeUnique()
        core.apply(e, details, note)
    }
}

extension ExecutionState.Core {
    func apply(_ e: EventHeader, _ details: EventDetails, _ note: EngineNote?) {
        appliedCount += 1
        if !e.isInternal { lastEventID = e.id }
        switch e.type {
        case .executionStarted:
            guard case .executionStarted(let s) = details else { preconditionFailure("ExecutionStarted without details") }
            input = s.input
            startTime = e.timestamp
            status = .running
            if let t = definition.timeoutSeconds { executionDeadline = e.timestamp + t * 1000 }
            if info.type == .express {
                // AWS behaviour: an Express execution runs for 5 minutes at most, and times out then.
                let limit = e.timestamp + ExpressLimits.maxDurationMilliseconds
                executionDeadline = executionDeadline.map { min($0, limit) } ?? limit
            }
            // AWS behaviour: the first state's previousEventId is 0, not ExecutionStarted's id.
            threads[.root] = ThreadState(
                id: .root, parent: nil, index: 0, block: .root, state: definition.root.startAt,
                phase: .pending(input: s.input), cursor: 0, variables: Variables())
            return

        case .executionSucceeded:
            if case .output(let o) = details { output = o }
            finish(.succeeded, at: e.timestamp)
            return
        case .executionFailed, .executionAborted, .executionTimedOut:
            if case .error(let err, let cause) = details { error = StatesError(err ?? "", cause: cause) }
            finish(e.type == .executionFailed ? .failed : e.type == .executionAborted ? .aborted : .timedOut, at: e.timestamp)
            return
        case .executionRedriven:
            applyRedriven(e)
            return

        case .choiceStateEntered, .failStateEntered, .mapStateEntered, .parallelStateEntered, .passStateEntered,
            .succeedStateEntered, .taskStateEntered, .waitStateEntered:
            guard case .stateEntered(let name, let stateInput) = details else { preconditionFailure("\(e.type) without details") }
            // With the decider's hint, the id and retrier count come from the plan without
            // touching the state object (a retain and a release per event otherwise).
            let stateID: StateID, retriers: Int
            if let hint = e.stateHint {
                (stateID, retriers) = (hint, plan.retrierCount(hint))
            } else {
                guard let block = threads.box(e.thread)?.value.block else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
                guard let named = definition.state(named: name, in: block) else {
                    preconditionFailure("\(e.type) names '\(name)', not a state of \(block)")
                }
                (stateID, retriers) = (named.id, named.retriers.count)
            }
            var phase = ThreadState.Phase.entered
            if let note = note {
                if let failure = note.failure {
                    // A Fail state ends its thread with its error; one whose JSONata Error or
                    // Cause failed records EvaluationFailed first, as other states do.
                    phase = e.type == .failStateEntered && failure.location == nil ? .threadFailed(failure) : .failed(failure)
                } else if e.type == .waitStateEntered, let due = note.dueTime {
                    phase = .waiting(due: due)
                }
            }
            let (eventID, timestamp, previous) = (e.id, e.timestamp, e.previousEventId)
            modify(e) { t in
                // A redrive's restored children belong to the state its thread enters first.
                if case .pending = t.phase {} else { t.restoredChildren = nil }
                t.stoppedChildren = nil
                t.state = stateID
                t.stateInput = stateInput
                t.enteredTime = timestamp
                t.enteredEventID = eventID
                t.enteredPreviousEventID = previous
                if retriers > 0 || !t.retryCounts.isEmpty { t.retryCounts = Array(repeating: 0, count: retriers) }
                t.phase = phase
            }

        case .choiceStateExited, .mapStateExited, .parallelStateExited, .passStateExited, .succeedStateExited,
            .taskStateExited, .waitStateExited:
            guard case .stateExited(_, let out, let assigned) = details else { preconditionFailure("\(e.type) without details") }
            modify(e) { t in
                t.phase = .exited(out)
                if let assigned { for (k, v) in assigned { t.variables.own[k] = v } }
            }

        case .taskScheduled, .activityScheduled, .lambdaFunctionScheduled:
            guard let note, let token = note.taskToken else { preconditionFailure("\(e.type) without a task token") }
            guard let stateID = threads.box(e.thread)?.value.state else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
            guard case .task(let task) = plan[stateID].kind else { preconditionFailure("\(e.type) outside a Task state") }
            let timestamp = e.timestamp
            modify(e) { t in
                t.phase = .task(ThreadState.TaskWait(
                    token: token, resource: task.resource, started: false, timeoutDue: note.taskTimeout,
                    heartbeatDue: note.heartbeatTimeout,
                    heartbeatSeconds: note.heartbeatTimeout.map { ($0 - timestamp) / 1000 },
                    attempt: t.retryCounts.reduce(0, +)))
            }
            tokens[token] = e.thread

        case .taskStarted, .activityStarted, .lambdaFunctionStarted:
            let heartbeat = note?.heartbeatTimeout
            modify(e) { t in
                if case .task(var w) = t.phase {
                    w.started = true
                    if let heartbeat { w.heartbeatDue = heartbeat }
                    t.phase = .task(w)
                }
            }

        case .taskSubmitted:
            modify(e) { t in
                if case .task(var w) = t.phase {
                    w.submitted = true
                    t.phase = .task(w)
                }
            }

        case .heartbeatRecorded:
            let heartbeat = note?.heartbeatTimeout
            modify(e) { t in
                if case .task(var w) = t.phase {
                    w.heartbeatDue = heartbeat
                    t.phase = .task(w)
                }
            }

        case .taskSucceeded, .activitySucceeded, .lambdaFunctionSucceeded:
            let out: JSON
            switch details {
            case .taskOutput(_, _, let o), .output(let o): out = o
            default: out = .null
            }
            closeTask(e)
            modify(e) { t in t.phase = .result(out) }

        case .taskFailed, .taskTimedOut, .taskStartFailed, .taskSubmitFailed, .activityFailed, .activityTimedOut,
            .activityScheduleFailed, .lambdaFunctionFailed, .lambdaFunctionTimedOut, .lambdaFunctionScheduleFailed,
            .lambdaFunctionStartFailed:
            let failure: StatesError
            switch details {
            case .taskError(_, _, let err, let cause), .error(let err, let cause):
                failure = note?.failure ?? StatesError(err ?? "", cause: cause)
            default:
                failure = note?.failure ?? StatesError("")
            }
            closeTask(e)
            modify(e) { t in Self.failOrRetry(&t, failure: failure, note: note) }

        case .taskStateAborted, .waitStateAborted:
            closeTask(e)
            modify(e) { t in t.phase = .threadFailed(StatesError("States.Aborted")) }

        case .evaluationFailed:
            guard case .evaluationFailed(let err, let cause, _, _) = details else { preconditionFailure("EvaluationFailed without details") }
            modify(e) { t in t.phase = .failed(StatesError(err, cause: cause)) }

        case .parallelStateStarted:
            guard let branchInput = note?.effectiveInput else { preconditionFailure("ParallelStateStarted without its input") }
            guard let stateID = threads.box(e.thread)?.value.state else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
            guard case .parallel(let p) = plan[stateID].kind else { preconditionFailure("ParallelStateStarted outside a Parallel state") }
            var c = ThreadState.Children(
                kind: .parallel(input: branchInput, branches: p.branches), results: Array(repeating: nil, count: p.branches.count))
            // Branches start at once; each runs its block from the branch's StartAt. A
            // redriven Parallel keeps the results of the branches that succeeded and reruns
            // the others from where they stood.
            let restored = threads.box(e.thread)?.value.restoredChildren
            for (i, b) in p.branches.enumerated() {
                if let restored, restored.keeps(i) {
                    c.results[i] = restored.results[i]
                    continue
                }
                let child = makeChild(parent: e.thread, index: i, block: b, input: branchInput, cursor: e.id,
                                      restoring: restored?.unsuccessful[i])
                c.running.insert(child, at: i)
            }
            modify(e) { t in
                t.phase = .children(ThreadState.ChildrenBox(c))
                t.restoredChildren = nil
            }

        case .parallelStateSucceeded:
            if let c = children(e.thread)?.value {
                var results: [JSON] = []
                results.reserveCapacity(c.count)
                for i in 0..<c.count {
                    if let id = c.running[i], case .exited(let out)? = phase(id) {
                        results.append(out)
                    } else {
                        results.append(c.results[i] ?? .null)
                    }
                }
                removeChildren(of: e.thread)
                threads.update(e.thread) { t in t.phase = .result(.array(results)) }
            }
            // AWS behaviour: ParallelStateSucceeded does not move the chain.
            let previous = e.previousEventId
            threads.update(e.thread) { t in t.cursor = previous }

        case .retryScheduled:
            let failure = note?.failure ?? StatesError(StatesError.Name.branchFailed)
            removeChildren(of: e.thread)
            threads.update(e.thread) { t in
                t.stoppedChildren = nil
                Self.failOrRetry(&t, failure: failure, note: note)
                if let chain = note?.chainEventID { t.cursor = chain }
            }

        case .parallelStateFailed, .mapStateFailed:
            let failure = note?.failure ?? StatesError(StatesError.Name.branchFailed)
            let stopped = children(e.thread).map { redriveChildren($0.value) }
            removeChildren(of: e.thread)
            modify(e) { t in
                Self.failOrRetry(&t, failure: failure, note: note)
                t.stoppedChildren = stopped
            }

        case .parallelStateAborted, .mapStateAborted:
            let stopped = children(e.thread).map { redriveChildren($0.value) }
            removeChildren(of: e.thread)
            modify(e) { t in
                t.phase = .threadFailed(StatesError("States.Aborted"))
                t.stoppedChildren = stopped
            }

        case .mapStateStarted:
            guard let note = note, let items = note.items, let mapInput = note.effectiveInput else {
                preconditionFailure("MapStateStarted without its items")
            }
            guard let stateID = threads.box(e.thread)?.value.state else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
            guard case .map(let m) = plan[stateID].kind else { preconditionFailure("MapStateStarted outside a Map state") }
            var c = ThreadState.Children(
                kind: .map(items: items, processor: m.processor, limits: note.mapLimits ?? MapLimits(maxConcurrency: 0), input: mapInput),
                results: Array(repeating: nil, count: items.count))
            c.hasItemSelector = m.itemSelector != nil
            if let restored = threads.box(e.thread)?.value.restoredChildren {
                // A redriven Map keeps the results of the iterations that succeeded.
                c.redrive = restored
                for i in 0..<items.count where restored.keeps(i) {
                    c.results[i] = restored.results[i]
                    c.succeeded += 1
                }
                while c.nextIndex < items.count, restored.keeps(c.nextIndex) { c.nextIndex += 1 }
            }
            modify(e) { t in
                t.phase = .children(ThreadState.ChildrenBox(c))
                t.restoredChildren = nil
            }

        case .mapIterationStarted:
            guard case .mapIteration(_, let index) = details else { preconditionFailure("MapIterationStarted without details") }
            // Read in a function, so that no copy of the children outlives the read (it would
            // make the change below copy them).
            guard let (item, processor, isDistributed) = mapItem(e.thread, index) else {
                preconditionFailure("MapIterationStarted outside a running Map")
            }
            let redrive = children(e.thread)?.value.redrive
            let child = makeChild(parent: e.thread, index: index, block: processor, input: nil, cursor: e.id, hidden: isDistributed,
                                  restoring: redrive?.unsuccessful[index])
            threads.update(child) { $0.item = item }
            modify(e) { t in
                t.modifyChildren { c in
                    c.running.insert(child, at: index)
                    c.nextIndex = max(c.nextIndex, index + 1)
                    if let redrive { while c.nextIndex < c.count, redrive.keeps(c.nextIndex) { c.nextIndex += 1 } }
                }
            }

        case .mapIterationSucceeded, .mapIterationFailed, .mapIterationAborted:
            guard case .mapIteration(_, let index) = details else { preconditionFailure("\(e.type) without details") }
            guard let childID = children(e.thread)?.value.running[index] else {
                preconditionFailure("\(e.type) for an iteration that is not running")
            }
            let childPhase = phase(childID)
            var output: JSON? = nil
            var failure: StatesError? = nil
            switch e.type {
            case .mapIterationSucceeded:
                if case .exited(let out)? = childPhase { output = out }
            case .mapIterationFailed:
                failure = note?.failure
                if failure == nil, case .threadFailed(let err)? = childPhase { failure = err }
            default:
                break
            }
            let (type, childCursor) = (e.type, cursor(childID))
            // Where an iteration that did not succeed stood: a redrive reruns it from there.
            let stopped = type == .mapIterationSucceeded ? nil : redriveNode(childID)
            removeThread(childID)
            modify(e) { t in
                t.modifyChildren { c in
                    switch type {
                    case .mapIterationSucceeded:
                        if let output { c.results[index] = output }
                        c.succeeded += 1
                    case .mapIterationFailed:
                        c.failedCount += 1
                        if c.failure == nil {
                            c.failure = failure
                            c.failureCursor = childCursor
                        }
                    default:
                        break
                    }
                    if let stopped { c.stoppedIterations[index] = stopped }
                    c.running.remove(at: index)
                }
            }

        case .mapStateSucceeded:
            removeChildren(of: e.thread)
            // AWS behaviour: MapStateSucceeded does not move the chain: MapStateExited points
            // at the last MapIterationSucceeded (inline) or at MapRunStarted (distributed).
            threads.update(e.thread) { t in
                if case .children(let c) = t.phase {
                    t.phase = .result(.array(c.value.results.map { $0 ?? .null }))
                }
            }

        case .mapRunStarted, .mapRunRedriven:
            let (limits, arn) = (note?.mapLimits, note?.mapRunArn)
            var redriveCount = 0
            if case .mapRunRedriven(_, let count) = details { redriveCount = count }
            modify(e) { t in
                t.modifyChildren { c in
                    if case .map(let items, let processor, _, let input) = c.kind, let limits {
                        c.kind = .map(items: items, processor: processor, limits: limits, input: input)
                        c.mapRunArn = arn
                        c.isDistributed = true
                        c.mapRunRedriveCount = redriveCount
                    }
                }
            }

        case .mapRunSucceeded:
            // AWS behaviour: MapRunSucceeded does not move the chain: MapStateExited points at
            // MapRunStarted. Until autumn 2024 it did (MapStateExited pointed at
            // MapRunSucceeded); executions started before the change keep that chain.
            if startTime < DistributedMapChain.changeDate { modify(e) { _ in } }

        case .mapRunFailed, .mapRunAborted:
            modify(e) { _ in }
        }
    }

    /// Changes the event's thread in place and moves its cursor to the event.
    ///
    /// - Important: `body` MUST NOT read `self` (the thread is being written).
    @inline(__always)
    private func modify(_ e: EventHeader, _ body: (inout ThreadState) -> Void) {
        let (moved, id) = (!e.isInternal, e.id)
        let found: Void? = threads.update(e.thread) { t in
            body(&t)
            if moved { t.cursor = id }
        }
        guard found != nil else { preconditionFailure("\(e.type) #\(e.id) for unknown \(e.thread)") }
    }

    /// A task's end: its token is no longer open.
    private func closeTask(_ e: EventHeader) {
        if case .task(let w)? = phase(e.thread) { tokens.removeValue(forKey: w.token) }
    }

    private func mapItem(_ id: ThreadID, _ index: Int) -> (item: JSON, processor: BlockID, isDistributed: Bool)? {
        guard let c = children(id), case .map(let items, let processor, _, _) = c.value.kind else { return nil }
        return (items[index], processor, c.value.isDistributed)
    }

    private static func failOrRetry(_ t: inout ThreadState, failure: StatesError, note: EngineNote?) {
        if let idx = note?.retrierIndex, let due = note?.dueTime {
            if idx < t.retryCounts.count { t.retryCounts[idx] += 1 }
            t.phase = .backoff(due: due)
        } else {
            t.phase = .failed(failure)
        }
    }

    /// A new child thread of a Parallel or Map thread, at its block's first state, or (for a
    /// redrive) where `restoring` stood.
    private func makeChild(parent: ThreadID, index: Int, block: BlockID, input: JSON?, cursor: Int64,
                           hidden: Bool = false, restoring node: RedriveNode? = nil) -> ThreadID
    {
        guard let box = threads.box(parent) else { preconditionFailure("A child of unknown \(parent)") }
        let (variables, parentHidden) = (box.value.variables.makeInnerScope(), box.value.hidden)
        let id: ThreadID
        if let free = freeThreadIDs.popLast() {
            id = ThreadID(rawValue: free)
        } else {
            id = ThreadID(rawValue: nextThreadID)
            nextThreadID += 1
        }
        var child = ThreadState(
            id: id, parent: parent, index: index, block: block, state: definition.blocks[block.rawValue].startAt,
            phase: .pending(input: input), cursor: cursor, variables: variables)
        child.hidden = hidden || parentHidden
        if let node {
            child.state = node.state
            child.phase = .pending(input: node.input ?? input)
            child.variables = node.variables
            child.restoredChildren = node.children
        }
        threads[id] = child
        return id
    }

    /// Removes the children of a Parallel or Map thread (and their descendants).
    private func removeChildren(of id: ThreadID) {
        guard let running = children(id)?.value.running.threads else { return }
        for child in running { removeThread(child) }
    }

    /// Removes a thread, its descendants and their open tokens.
    func removeThread(_ id: ThreadID) {
        guard let phase = threads.remove(id) else { return }
        if id != .root { freeThreadIDs.append(id.rawValue) }
        switch phase {
        case .task(let w): tokens.removeValue(forKey: w.token)
        case .children(let c): for child in c.value.running.threads { removeThread(child) }
        default: break
        }
    }

    private func finish(_ s: ExecutionStatus, at time: Int64) {
        redrivePoint = s == .succeeded ? nil : redriveNode(.root)
        status = s
        stopTime = time
        threads.removeAll()
        tokens.removeAll()
    }
}

/// When AWS changed the chain of a Distributed Map's MapStateExited.
///
/// AWS behaviour: in the Distributed Map executions recorded on AWS (LocalStack's snapshots,
/// 49 of them), MapStateExited chains to MapRunSucceeded in every recording up to 2024-08-19
/// and to MapRunStarted in every recording from 2024-11-13 on. An execution is given the
/// chain of its start time, so that both generations of recordings replay exactly.
enum DistributedMapChain {
    /// 2024-11-01T00:00:00Z, in epoch milliseconds: between the last recording of the old
    /// chain and the first of the new one.
    static let changeDate: Int64 = 1_730_419_200_000
}
