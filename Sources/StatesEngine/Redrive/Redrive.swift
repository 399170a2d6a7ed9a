import StatesLanguage

/// Redrive: a FAILED, TIMED_OUT or ABORTED execution runs again from the state where it
/// stopped, keeping its history.
///
/// AWS behaviour: RedriveExecution appends `ExecutionRedriven` (`redriveCount`) to the
/// history and re-enters the top-level state that was running when the execution stopped,
/// with the input that state had; the states that succeeded before are not run again.
/// A Parallel or Map state that failed runs again as a whole (AWS reruns only its
/// unsuccessful branches or iterations: see docs/api.md).
///
/// The point to restart from is derived by `apply` (the top-level thread at the terminal
/// event), so a replay of the history rebuilds it: nothing extra is stored.
extension ExecutionState {
    /// True when the execution ended unsuccessfully and knows where to restart.
    public var canRedrive: Bool {
        (status == .failed || status == .timedOut || status == .aborted) && redrivePoint != nil
    }

    /// The name of the state a redrive would re-enter.
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

extension ExecutionState.Core {
    /// `apply` of `ExecutionRedriven`: running again, the top-level thread back at the
    /// stopped state with that state's input and the variables it saw.
    func applyRedriven(_ e: EventHeader) {
        guard let p = redrivePoint else { return }
        status = .running
        stopTime = nil
        error = nil
        output = nil
        if let t = definition.timeoutSeconds { executionDeadline = e.timestamp + t * 1000 }
        let input = p.enteredEventID == 0 ? self.input : p.stateInput
        threads[.root] = ThreadState(
            id: .root, parent: nil, index: 0, block: .root, state: p.state, phase: .pending(input: input), cursor: e.id,
            variables: p.variables)
        redrivePoint = nil
    }
}
