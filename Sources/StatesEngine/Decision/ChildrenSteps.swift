import StatesLanguage

/// Parallel branches and Map iterations.
extension ExecutionState {
    mutating func startMap(_ d: inout Decider, _ id: ThreadID, _ t: ThreadState, _ state: State, _ m: MapState) throws(StatesError) {
        let jsonata = state.queryLanguage == .jsonata
        let eff = jsonata ? t.stateInput : try applyInputPath(t, state, t.stateInput, d)
        var itemsValue = eff
        if jsonata, let template = m.items {
            let b = jsonataBindings(t, state, input: eff, d)
            itemsValue = try evaluate(template, field: "Items", t, input: eff, bindings: b, d)
            guard case .array = itemsValue else {
                var e = runtimeError(t,
                    "The JSONata expression '\(template.expressionText ?? template.json.serialized())' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '\(Self.typeName(itemsValue))' for value: \(itemsValue.serialized())",
                    name: StatesError.Name.queryEvaluationError)
                e.location = "Items"
                throw e
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
            let runID = d.context.random.uuidString()
            let arn = "arn:aws:states:\(info.region):\(info.account):mapRun:\(info.stateMachineName)/\(m.label ?? d.context.random.uuidString()):\(runID)"
            emit(&d, .mapRunStarted, id, .mapRunStarted(mapRunArn: arn), note: EngineNote(mapLimits: limits, mapRunArn: arn))
            return
        }
        let limits = try mapLimits(t, state, m, eff, d)
        emit(&d, .mapStateStarted, id, .mapStateStarted(length: items.count),
             note: EngineNote(items: items, mapLimits: limits, effectiveInput: eff))
    }

    func mapLimits(_ t: ThreadState, _ state: State, _ m: MapState, _ eff: JSON, _ d: Decider) throws(StatesError) -> MapLimits {
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
    mutating func mapIterationInput(_ d: inout Decider, _ child: ThreadState) -> Result<JSON, StatesError> {
        guard let parentID = child.parent, let parent = threads[parentID], case .children(let c) = parent.phase,
            case .map(let items, _, _, let mapInput) = c.kind
        else { return .failure(StatesError(StatesError.Name.runtime, cause: "Map iteration without its Map state")) }
        let state = definition[parent.state]
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
        guard let t = threads[id], case .children(let c) = t.phase else { return false }
        switch c.kind {
        case .parallel: return runBranches(&d, id, c)
        case .map: return runIterations(&d, id)
        }
    }

    private mutating func runBranches(_ d: inout Decider, _ id: ThreadID, _ c: ThreadState.Children) -> Bool {
        var allDone = true
        for i in 0..<c.count {
            guard let child = c.running[i] else { continue }
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
        let last = c.running.values.compactMap { threads[$0]?.cursor }.max() ?? threads[id]!.cursor
        emit(&d, .parallelStateSucceeded, id, prev: last)
        return true
    }

    /// A branch failed: abort the state of the failed branch and of its siblings, then retry
    /// the Parallel state or fail it.
    private mutating func failBranch(_ d: inout Decider, _ id: ThreadID, failed child: ThreadID, _ error: StatesError) {
        guard let t = threads[id], case .children(let c) = t.phase, let failedThread = threads[child] else { return }
        let failureCursor = failedThread.cursor
        abort(&d, child, failing: true)
        for i in 0..<c.count {
            if let sibling = c.running[i], sibling != child { abort(&d, sibling, failing: false) }
        }
        let state = definition[t.state]
        if let retry = retryDecision(t, state, error, d) {
            emit(&d, .retryScheduled, id, note: EngineNote(dueTime: retry.due, failure: error, retrierIndex: retry.index,
                                                          chainEventID: failureCursor))
        } else {
            emit(&d, .parallelStateFailed, id, note: EngineNote(failure: error), prev: failureCursor)
        }
    }

    private mutating func runIterations(_ d: inout Decider, _ id: ThreadID) -> Bool {
        var progressed = false
        // The event whose completion freed a slot chains the next iteration's start.
        var freedCursor: Int64? = nil
        while status == .running && !d.historyLimitReached {
            guard let t = threads[id], case .children(let c) = t.phase, case .map(let items, _, let limits, _) = c.kind else {
                return true
            }
            let state = definition[t.state]
            // Run the iterations that are out, in index order.
            var changed = false
            for index in c.running.keys.sorted() {
                guard let child = c.running[index] else { continue }
                switch run(child, &d) {
                case .blocked:
                    continue
                case .completed:
                    freedCursor = threads[child]?.cursor
                    emit(&d, .mapIterationSucceeded, id, .mapIteration(name: state.name, index: index), prev: freedCursor,
                         hidden: c.isDistributed)
                case .failed(let error):
                    let childCursor = threads[child]?.cursor
                    freedCursor = childCursor
                    emit(&d, .mapIterationFailed, id, .mapIteration(name: state.name, index: index),
                         note: EngineNote(failure: error), prev: childCursor, hidden: c.isDistributed)
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
            if c.nextIndex < items.count, limits.maxConcurrency == 0 || c.running.count < limits.maxConcurrency {
                emit(&d, .mapIterationStarted, id, .mapIteration(name: state.name, index: c.nextIndex), prev: freedCursor,
                     hidden: c.isDistributed)
                freedCursor = nil
                progressed = true
                continue
            }
            if c.running.isEmpty, c.nextIndex >= items.count {
                if c.failedCount > 0, exceedsTolerance(id) {
                    failMap(&d, id, c.failure ?? StatesError(StatesError.Name.exceedToleratedFailureThreshold), failureCursor: t.cursor)
                    return true
                }
                if c.isDistributed {
                    let runEnd = emit(&d, .mapRunSucceeded, id)
                    emit(&d, .mapStateSucceeded, id, prev: runEnd)
                } else {
                    emit(&d, .mapStateSucceeded, id, prev: t.cursor)
                }
                return true
            }
            return progressed
        }
        return true
    }

    /// Whether the Map's failures exceed what it tolerates (nothing, by default).
    private func exceedsTolerance(_ id: ThreadID) -> Bool {
        guard let t = threads[id], case .children(let c) = t.phase, case .map(_, _, let limits, _) = c.kind else { return true }
        if limits.toleratedFailureCount == nil, limits.toleratedFailurePercentage == nil { return c.failedCount > 0 }
        if let n = limits.toleratedFailureCount, c.failedCount > n { return true }
        if let p = limits.toleratedFailurePercentage, c.count > 0, Double(c.failedCount) * 100 / Double(c.count) > p { return true }
        if limits.toleratedFailureCount != nil || limits.toleratedFailurePercentage != nil { return false }
        return c.failedCount > 0
    }

    private mutating func failMap(_ d: inout Decider, _ id: ThreadID, _ error: StatesError, failureCursor: Int64) {
        guard let t = threads[id], case .children(let c) = t.phase, case .map(_, _, let limits, _) = c.kind else { return }
        let state = definition[t.state]
        for index in c.running.keys.sorted() {
            guard let child = c.running[index] else { continue }
            abort(&d, child, failing: false)
            emit(&d, .mapIterationAborted, id, .mapIteration(name: state.name, index: index), hidden: c.isDistributed)
        }
        var failure = error
        if limits.toleratedFailureCount != nil || limits.toleratedFailurePercentage != nil {
            failure = StatesError(StatesError.Name.exceedToleratedFailureThreshold,
                                  cause: "The specified tolerated failure threshold was exceeded")
        }
        if let retry = retryDecision(t, state, failure, d) {
            emit(&d, .retryScheduled, id, note: EngineNote(dueTime: retry.due, failure: failure, retrierIndex: retry.index,
                                                          chainEventID: failureCursor))
        } else if c.isDistributed {
            let runEnd = emit(&d, .mapRunFailed, id, .error(error: failure.name, cause: failure.cause))
            emit(&d, .mapStateFailed, id, note: EngineNote(failure: failure), prev: runEnd)
        } else {
            emit(&d, .mapStateFailed, id, note: EngineNote(failure: failure), prev: failureCursor)
        }
    }

    /// Aborts whatever a thread is doing: its task, wait or nested children.
    mutating func abort(_ d: inout Decider, _ id: ThreadID, failing: Bool) {
        guard let t = threads[id] else { return }
        switch t.phase {
        case .task(let w):
            d.decision.commands.append(.cancelTask(token: w.token))
            emit(&d, .taskStateAborted, id)
        case .backoff:
            if case .task = definition[t.state].kind { emit(&d, .taskStateAborted, id) }
        case .failed:
            // AWS behaviour: the Task state whose failure fails a branch is aborted too.
            if failing, case .task = definition[t.state].kind { emit(&d, .taskStateAborted, id) }
        case .waiting:
            emit(&d, .waitStateAborted, id)
        case .children(let c):
            for i in c.running.keys.sorted() { if let child = c.running[i] { abort(&d, child, failing: false) } }
            switch c.kind {
            case .parallel: emit(&d, .parallelStateAborted, id)
            case .map: emit(&d, .mapStateAborted, id)
            }
        default:
            break
        }
    }
}
