import StatesLanguage

/// Parallel branches and Map iterations.
extension ExecutionState {
    mutating func startMap(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State, _ m: MapState) throws(StatesError) {
        let jsonata = state.queryLanguage == .jsonata
        let eff = jsonata ? t.stateInput : try applyInputPath(t, state, t.stateInput, d)
        var itemsValue = eff
        if jsonata {
            if let template = m.items {
                let b = jsonataBindings(t, state, input: eff, d)
                itemsValue = try evaluate(template, field: "Items", t, input: eff, bindings: b, d)
                guard case .array = itemsValue else {
                    throw unexpectedType(template, field: "Items", expected: "array", value: itemsValue, t)
                }
            } else if itemsValue.arrayValue == nil {
                // Without Items a JSONata Map iterates over `$states.input`, which must be an array.
                throw unexpectedType(source: "$states.input", field: "Items", expected: "array", value: itemsValue, t)
            }
        } else if let p = m.itemsPath {
            do {
                itemsValue = try p.evaluate(in: environment(t, state, input: eff, d))
            } catch {
                throw located(pathError(error, p.text), t)
            }
        }
        guard case .array(let items) = itemsValue else {
            throw runtimeError(t, "Item selector did not return an array: \(Self.describeForMessage(itemsValue))")
        }
        if m.mode == .distributed {
            // AWS behaviour: a Distributed Map reports its length before it checks its limits.
            emit(&d, .mapStateStarted, id, .mapStateStarted(length: items.count), note: EngineNote(items: items, effectiveInput: eff))
            let limits = try mapLimits(t, state, m, eff, d)
            if let redriven = children(id)?.value.redrive, let arn = redriven.mapRunArn {
                // AWS behaviour: a redrive redrives the Map Run that failed (same ARN, one more
                // redrive); its child executions that succeeded are not run again.
                emit(&d, .mapRunRedriven, id, .mapRunRedriven(mapRunArn: arn, count: redriven.mapRunRedriveCount + 1),
                     note: EngineNote(mapLimits: limits, mapRunArn: arn))
                return
            }
            let runID = d.context.random.uuidString()
            let arn = "arn:aws:states:\(info.region):\(info.account):mapRun:\(info.stateMachineName)/\(m.label ?? d.context.random.uuidString()):\(runID)"
            emit(&d, .mapRunStarted, id, .mapRunStarted(mapRunArn: arn), note: EngineNote(mapLimits: limits, mapRunArn: arn))
            return
        }
        let limits = try mapLimits(t, state, m, eff, d)
        emit(&d, .mapStateStarted, id, .mapStateStarted(length: items.count),
             note: EngineNote(items: items, mapLimits: limits, effectiveInput: eff))
    }

    func mapLimits(_ t: StateFrame, _ state: State, _ m: MapState, _ eff: JSON, _ d: Decider) throws(StatesError) -> MapLimits {
        if state.queryLanguage == .jsonata {
            let b = jsonataBindings(t, state, input: eff, d)
            let maxConcurrency = try jsonataNumber(m.maxConcurrency, field: "MaxConcurrency", t, input: eff, bindings: b, d) ?? 0
            let count = try jsonataNumber(m.toleratedFailureCount, field: "ToleratedFailureCount", t, input: eff, bindings: b, d)
            let percentage = try jsonataNumber(m.toleratedFailurePercentage, field: "ToleratedFailurePercentage", t, input: eff,
                                               bindings: b, d, integer: false)
            if let count, count < 0 { throw runtimeError(t, "ToleratedFailureCount cannot be negative.") }
            if let percentage, percentage < 0 || percentage > 100 {
                throw runtimeError(t, "ToleratedFailurePercentage must be between 0 and 100.")
            }
            return MapLimits(maxConcurrency: max(0, Int(maxConcurrency)), toleratedFailureCount: count.map { Int($0) },
                             toleratedFailurePercentage: percentage)
        }
        let maxConcurrency = try evaluateNumber(m.maxConcurrency, field: "MaxConcurrency", t, state, input: eff, d) ?? 0
        let count = try evaluateNumber(m.toleratedFailureCount, field: "ToleratedFailureCount", t, state, input: eff, d)
        let percentage = try evaluateNumber(m.toleratedFailurePercentage, field: "ToleratedFailurePercentage", t, state,
                                            input: eff, d, integer: false)
        if let count, count < 0 { throw runtimeError(t, "ToleratedFailureCount cannot be negative.") }
        if let percentage, percentage < 0 || percentage > 100 {
            throw runtimeError(t, "ToleratedFailurePercentage must be between 0 and 100.")
        }
        return MapLimits(maxConcurrency: max(0, Int(maxConcurrency)), toleratedFailureCount: count.map { Int($0) },
                         toleratedFailurePercentage: percentage)
    }

    /// The input of a Map iteration: its item, through ItemSelector when there is one.
    mutating func mapIterationInput(_ d: inout Decider, _ child: StateFrame) -> Result<JSON, StatesError> {
        // Without an ItemSelector the input is the item, which the iteration's thread holds.
        if let parentID = child.parent, children(parentID)?.value.hasItemSelector == false,
            let item = threads.box(child.id)?.value.item
        {
            return .success(item)
        }
        guard let parentID = child.parent, let c = children(parentID)?.value,
            case .map(let items, _, _, let mapInput) = c.kind, let parent = frame(parentID)
        else { return .failure(StatesError(StatesError.Name.runtime, cause: "Map iteration without its Map state")) }
        let state = plan[parent.state]
        let item = items[child.index]
        guard case .map(let m) = state.kind, let selector = m.itemSelector else { return .success(item) }
        switch selector {
        case .jsonPath(let template):
            let env = environment(parent, state, input: mapInput, d, mapItem: (child.index, item))
            do {
                return .success(try evaluate(template, env, parent))
            } catch {
                return .failure(error)
            }
        case .jsonata(let template):
            let b = jsonataBindings(parent, state, input: mapInput, d, mapItem: (child.index, item))
            do {
                return .success(try evaluate(template, field: "ItemSelector", parent, input: mapInput, bindings: b, d))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Runs the children of a Parallel or Map state. Returns true when the state moved on.
    mutating func runChildren(_ d: inout Decider, _ id: ThreadID) -> Bool {
        guard let isParallel = children(id).map({ if case .parallel = $0.value.kind { true } else { false } }) else { return false }
        return isParallel ? runBranches(&d, id) : runIterations(&d, id)
    }

    /// The running children of a Parallel or Map thread, in index order (a copy: running
    /// them changes the thread).
    private func runningChildren(_ id: ThreadID) -> ContiguousArray<(index: Int, thread: ThreadID)> {
        children(id)?.value.running.entries ?? []
    }

    private mutating func runBranches(_ d: inout Decider, _ id: ThreadID) -> Bool {
        var allDone = true
        let branches = runningChildren(id)
        for (_, child) in branches {
            switch run(child, &d) {
            case .completed:
                continue
            case .blocked:
                allDone = false
            case .failed(let error):
                failBranch(&d, id, failed: child, error)
                return true
            }
            if status != .running { return true }
        }
        guard allDone else { return false }
        // AWS behaviour: ParallelStateSucceeded does not move the chain; ParallelStateExited
        // points at the last branch event, as ParallelStateSucceeded does.
        let last = branches.compactMap { cursor($0.thread) }.max() ?? cursor(id)!
        emit(&d, .parallelStateSucceeded, id, prev: last)
        return true
    }

    /// A branch failed: abort the state of the failed branch and of its siblings, then retry
    /// the Parallel state or fail it.
    private mutating func failBranch(_ d: inout Decider, _ id: ThreadID, failed child: ThreadID, _ error: StatesError) {
        guard let t = frame(id), let failureCursor = cursor(child) else { return }
        let branches = runningChildren(id)
        abort(&d, child, failing: true)
        for (_, sibling) in branches where sibling != child { abort(&d, sibling, failing: false) }
        let state = plan[t.state]
        if let retry = retryDecision(t, state, error, d) {
            emit(&d, .retryScheduled, id, note: EngineNote(dueTime: retry.due, failure: error, retrierIndex: retry.index,
                                                          chainEventID: failureCursor))
        } else {
            emit(&d, .parallelStateFailed, id, note: EngineNote(failure: error), prev: failureCursor)
        }
    }

    /// Where a Map stands, read without keeping its children.
    private struct MapProgress {
        var count: Int
        var limits: MapLimits
        var nextIndex: Int
        var running: Int
        var failedCount: Int
        var failure: StatesError?
        var isDistributed: Bool
    }

    private func mapProgress(_ id: ThreadID) -> MapProgress? {
        guard let box = children(id), case .map(_, _, let limits, _) = box.value.kind else { return nil }
        return MapProgress(count: box.value.count, limits: limits, nextIndex: box.value.nextIndex, running: box.value.running.count,
                           failedCount: box.value.failedCount, failure: box.value.failure, isDistributed: box.value.isDistributed)
    }

    /// The running child at `position` (in index order).
    private func runningChild(_ id: ThreadID, at position: Int) -> (index: Int, thread: ThreadID)? {
        guard let box = children(id), position < box.value.running.count else { return nil }
        return box.value.running.entries[position]
    }

    private mutating func runIterations(_ d: inout Decider, _ id: ThreadID) -> Bool {
        var progressed = false
        // The event whose completion freed a slot chains the next iteration's start.
        var freedCursor: Int64? = nil
        guard let stateID = threads.box(id)?.value.state else { return true }
        let state = plan[stateID]
        while status == .running && !d.historyLimitReached {
            guard let m = mapProgress(id) else { return true }
            // Run the iterations that are out, in index order. Running one that blocks
            // changes nothing of the Map, so positions hold until one finishes.
            var changed = false
            var position = 0
            while let (index, child) = runningChild(id, at: position) {
                position += 1
                switch run(child, &d) {
                case .blocked:
                    continue
                case .completed:
                    freedCursor = cursor(child)
                    emit(&d, .mapIterationSucceeded, id, .mapIteration(name: state.name, index: index), prev: freedCursor,
                         hidden: m.isDistributed)
                case .failed(let error):
                    let childCursor = cursor(child)
                    freedCursor = childCursor
                    emit(&d, .mapIterationFailed, id, .mapIteration(name: state.name, index: index),
                         note: EngineNote(failure: error), prev: childCursor, hidden: m.isDistributed)
                    if exceedsTolerance(id) {
                        failMap(&d, id, error, failureCursor: childCursor ?? lastEventID)
                        return true
                    }
                }
                changed = true
                progressed = true
                break
            }
            if changed { continue }
            // Start the next iteration if a slot is free.
            if m.nextIndex < m.count, m.limits.maxConcurrency == 0 || m.running < m.limits.maxConcurrency {
                emit(&d, .mapIterationStarted, id, .mapIteration(name: state.name, index: m.nextIndex), prev: freedCursor,
                     hidden: m.isDistributed)
                freedCursor = nil
                progressed = true
                continue
            }
            if m.running == 0, m.nextIndex >= m.count {
                let mapCursor = cursor(id)!
                if m.failedCount > 0, exceedsTolerance(id) {
                    failMap(&d, id, m.failure ?? StatesError(StatesError.Name.exceedToleratedFailureThreshold), failureCursor: mapCursor)
                    return true
                }
                if m.isDistributed {
                    let runEnd = emit(&d, .mapRunSucceeded, id)
                    emit(&d, .mapStateSucceeded, id, prev: runEnd)
                } else {
                    emit(&d, .mapStateSucceeded, id, prev: mapCursor)
                }
                return true
            }
            return progressed
        }
        return true
    }

    /// Whether the Map's failures exceed what it tolerates (nothing, by default).
    private func exceedsTolerance(_ id: ThreadID) -> Bool {
        guard let m = mapProgress(id) else { return true }
        let limits = m.limits
        if limits.toleratedFailureCount == nil, limits.toleratedFailurePercentage == nil { return m.failedCount > 0 }
        if let n = limits.toleratedFailureCount, m.failedCount > n { return true }
        if let p = limits.toleratedFailurePercentage, m.count > 0, Double(m.failedCount) * 100 / Double(m.count) > p { return true }
        if limits.toleratedFailureCount != nil || limits.toleratedFailurePercentage != nil { return false }
        return m.failedCount > 0
    }

    private mutating func failMap(_ d: inout Decider, _ id: ThreadID, _ error: StatesError, failureCursor: Int64) {
        guard let m = mapProgress(id), let t = frame(id) else { return }
        let state = plan[t.state]
        for (index, child) in runningChildren(id) {
            abort(&d, child, failing: false)
            emit(&d, .mapIterationAborted, id, .mapIteration(name: state.name, index: index), hidden: m.isDistributed)
        }
        var failure = error
        if m.limits.toleratedFailureCount != nil || m.limits.toleratedFailurePercentage != nil {
            failure = StatesError(StatesError.Name.exceedToleratedFailureThreshold,
                                  cause: "The specified tolerated failure threshold was exceeded")
        }
        if let retry = retryDecision(t, state, failure, d) {
            emit(&d, .retryScheduled, id, note: EngineNote(dueTime: retry.due, failure: failure, retrierIndex: retry.index,
                                                          chainEventID: failureCursor))
        } else if m.isDistributed {
            let runEnd = emit(&d, .mapRunFailed, id, .error(error: failure.name, cause: failure.cause))
            emit(&d, .mapStateFailed, id, note: EngineNote(failure: failure), prev: runEnd)
        } else {
            emit(&d, .mapStateFailed, id, note: EngineNote(failure: failure), prev: failureCursor)
        }
    }

    /// Aborts whatever a thread is doing: its task, wait or nested children.
    mutating func abort(_ d: inout Decider, _ id: ThreadID, failing: Bool) {
        guard let phase = self.phase(id), let stateID = threads.box(id)?.value.state else { return }
        switch phase {
        case .task(let w):
            d.decision.commands.append(.cancelTask(token: TaskToken(w.token)))
            emit(&d, .taskStateAborted, id)
        case .backoff:
            if case .task = plan[stateID].kind { emit(&d, .taskStateAborted, id) }
        case .failed:
            // AWS behaviour: the Task state whose failure fails a branch is aborted too.
            if failing, case .task = plan[stateID].kind { emit(&d, .taskStateAborted, id) }
        case .waiting:
            emit(&d, .waitStateAborted, id)
        case .children(let c):
            for child in c.value.running.threads { abort(&d, child, failing: false) }
            switch c.value.kind {
            case .parallel: emit(&d, .parallelStateAborted, id)
            case .map: emit(&d, .mapStateAborted, id)
            }
        default:
            break
        }
    }
}
