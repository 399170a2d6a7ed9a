import StatesLanguage

/// Redrive: a FAILED, TIMED_OUT or ABORTED execution runs again from the steps that did not
/// succeed, keeping its history.
///
/// AWS behaviour: RedriveExecution appends `ExecutionRedriven` (`redriveCount`) to the
/// history and continues "from the unsuccessful step", with the input that step had; the
/// steps that succeeded are not run again. A Parallel state reruns only its branches that
/// failed or were aborted, an inline Map only its iterations that failed, were aborted or
/// never started, and inside each of those the redrive continues from the step that did not
/// succeed. A Distributed Map redrives its Map Run (`MapRunRedriven` with the run's ARN and
/// redrive count), which reruns only its unsuccessful child executions; a Map Run that never
/// started starts. The states on the way down are entered again (`…StateEntered`,
/// `…StateStarted`); the kept results of the branches and iterations that succeeded make up
/// the state's output with the new ones.
///
/// The point to restart from is derived by `apply` (the threads at the terminal event, and
/// the children of each Parallel or Map when it failed or was aborted), so a replay of the
/// history rebuilds it: nothing extra is stored.
extension ExecutionState {
    /// True when the execution ended unsuccessfully and knows where to restart.
    public var canRedrive: Bool {
        (status == .failed || status == .timedOut || status == .aborted) && redrivePoint != nil
    }

    /// The name of the top-level state a redrive would re-enter.
    public var redriveStateName: String? { redrivePoint.map { definition[$0.state].name } }

    /// Restarts the execution: `ExecutionRedriven` with `info.redriveCount`, then the
    /// stopped state again, until every thread blocks or it ends.
    ///
    /// - Important: build the state with an `ExecutionInfo` whose `redriveCount` and
    ///   `redriveTime` are the new ones (the context object shows them), and call this
    ///   only when `canRedrive`.
    public mutating func redrive(_ context: DecisionContext) -> Decision {
        precondition(canRedrive, "redrive of an execution that is \(status.rawValue)")
        var d = Decider(context: context)
        emit(&d, .executionRedriven, .root, .redriven(count: info.redriveCount), prev: lastEventID)
        drive(&d)
        endIfHistoryLimitReached(&d)
        return d.decision
    }
}

/// Where a thread that did not succeed stood when its execution (or its Parallel or Map
/// state) stopped: the state to enter again, with its input and variables, and for a
/// Parallel or Map state its children.
final class RedriveNode: Sendable {
    let state: StateID
    /// The state's input; nil for a Map iteration that had not entered its first state (its
    /// input comes from its item).
    let input: JSON?
    let variables: Variables
    let children: RedriveChildren?

    init(state: StateID, input: JSON?, variables: Variables, children: RedriveChildren?) {
        self.state = state
        self.input = input
        self.variables = variables
        self.children = children
    }
}

/// The children of a Parallel or Map state that stopped: the results of those that
/// succeeded (kept by a redrive) and where the others stood (rerun by a redrive).
final class RedriveChildren: Sendable {
    /// Outputs of the children that succeeded, by index.
    let results: [JSON?]
    /// Children that failed or were aborted, by index. A Map's iterations that are in
    /// neither table never started: a redrive starts them.
    let unsuccessful: [Int: RedriveNode]
    /// Distributed Map: its map run, and how many times it was redriven.
    let mapRunArn: String?
    let mapRunRedriveCount: Int

    init(results: [JSON?], unsuccessful: [Int: RedriveNode], mapRunArn: String?, mapRunRedriveCount: Int) {
        self.results = results
        self.unsuccessful = unsuccessful
        self.mapRunArn = mapRunArn
        self.mapRunRedriveCount = mapRunRedriveCount
    }

    /// Whether a redrive keeps child `index`'s result instead of running it.
    func keeps(_ index: Int) -> Bool { unsuccessful[index] == nil && index < results.count && results[index] != nil }
}

extension ExecutionState.Core {
    /// `apply` of `ExecutionRedriven`: running again, the top-level thread back at the
    /// stopped state with that state's input, the variables it saw and, for a Parallel or
    /// Map state, the children to restore.
    func applyRedriven(_ e: EventHeader) {
        guard let p = redrivePoint else { return }
        status = .running
        stopTime = nil
        error = nil
        output = nil
        // AWS behaviour: the execution's timeout starts again at the redrive.
        if let t = definition.timeoutSeconds { executionDeadline = e.timestamp + t * 1000 }
        var root = ThreadState(
            id: .root, parent: nil, index: 0, block: .root, state: p.state, phase: .pending(input: p.input ?? input),
            cursor: e.id, variables: p.variables)
        root.restoredChildren = p.children
        threads[.root] = root
        redrivePoint = nil
    }

    /// Where a thread stands, for a redrive: its state, input and variables, and the
    /// children of its Parallel or Map state (running now, or as they were when it stopped).
    func redriveNode(_ id: ThreadID) -> RedriveNode? {
        guard let box = threads.box(id) else { return nil }
        let input: JSON?
        let children: RedriveChildren?
        switch box.value.phase {
        case .pending(let i):
            input = i
            children = box.value.restoredChildren
        case .children(let c):
            input = box.value.stateInput
            children = redriveChildren(c.value)
        default:
            input = box.value.stateInput
            children = box.value.stoppedChildren
        }
        return RedriveNode(state: box.value.state, input: input, variables: box.value.variables, children: children)
    }

    /// The children of a Parallel or Map state, for a redrive: results of the finished ones,
    /// where the others stand.
    func redriveChildren(_ c: ThreadState.Children) -> RedriveChildren {
        var results = c.results
        var unsuccessful = c.stoppedIterations
        for (index, thread) in c.running.entries {
            if case .exited(let out)? = phase(thread) {
                results[index] = out
            } else if let node = redriveNode(thread) {
                unsuccessful[index] = node
            }
        }
        // A redriven Map that stopped again before it reached some of the iterations it was
        // to rerun: they stand where they stood before.
        if let earlier = c.redrive {
            for (index, node) in earlier.unsuccessful where unsuccessful[index] == nil && results[index] == nil {
                unsuccessful[index] = node
            }
        }
        return RedriveChildren(results: results, unsuccessful: unsuccessful, mapRunArn: c.mapRunArn,
                               mapRunRedriveCount: c.mapRunRedriveCount)
    }
}
