import StatesLanguage

/// What each state type does when the decider runs it.
extension ExecutionState {
    // MARK: Entering

    /// Emits the state's `...StateEntered`. Wait and Fail states compute their timer or
    /// error first and carry it in the event's note, since AWS shows it nowhere else.
    mutating func enter(_ d: inout Decider, _ id: ThreadID, _ stateID: StateID, input: JSON, prev: Int64? = nil) {
        // From the plan: the state object only for a Wait or a Fail (a retain and a release
        // per transition otherwise).
        let (type, name, needsNote) = plan.entry(stateID)
        let note = needsNote ? entryNote(d, id, plan[stateID], input: input) : nil
        emit(&d, type, id, .stateEntered(name: name, input: input), note: note, prev: prev, stateHint: stateID)
    }

    /// The timer of a Wait state, or the error of a Fail state, computed as the state is
    /// entered. (A function of its own, like the other readers of a kind's payload: reading
    /// one copies the whole kind, a few hundred bytes.)
    @inline(never)
    private func entryNote(_ d: Decider, _ id: ThreadID, _ state: State, input: JSON) -> EngineNote? {
        guard var t = frame(id) else { return nil }
        t.state = state.id
        t.enteredTime = d.now
        t.enteredEventID = lastEventID + 1
        t.retryCounts = Array(repeating: 0, count: state.retriers.count)
        switch state.kind {
        case .wait(let w):
            do {
                let due = state.queryLanguage == .jsonata
                    ? try jsonataWaitDue(w, t, state, input: input, d) : try waitDue(w, t, state, input: input, d)
                return EngineNote(dueTime: due)
            } catch {
                return EngineNote(failure: error)
            }
        case .fail(let f):
            return EngineNote(failure: failError(f, t, state, input: input, d))
        default:
            return nil
        }
    }

    func waitDue(_ w: WaitState, _ t: StateFrame, _ state: State, input: JSON, _ d: Decider) throws(StatesError) -> Int64 {
        let eff = try applyInputPath(t, state, input, d)
        switch w.duration {
        case .seconds(let s):
            return d.now + s * 1000
        case .timestamp(let ts, _):
            return ts.millisecondsSinceEpoch
        case .secondsPath(let p):
            let value: JSON
            do { value = try p.evaluate(in: environment(t, state, input: eff, d)) } catch {
                throw runtimeError(t, "The SecondsPath parameter does not reference an input value: \(p.text)")
            }
            guard case .int(let seconds) = value else {
                if value.isNumber {
                    throw runtimeError(t, "The SecondsPath parameter cannot be parsed as a long value: \(p.text) == \(value.serialized())")
                }
                throw runtimeError(t, "The SecondsPath parameter does not reference an input value: \(p.text)")
            }
            guard seconds >= 0 else {
                throw runtimeError(t, "The SecondsPath parameter references a negative value: \(p.text) == \(seconds)")
            }
            guard seconds <= 31_622_400 * 100 else { throw runtimeError(t, "Wait state delay is too long.") }
            return d.now + seconds * 1000
        case .timestampPath(let p):
            let value: JSON
            do { value = try p.evaluate(in: environment(t, state, input: eff, d)) } catch {
                throw runtimeError(t, "The TimestampPath parameter does not reference an input value: \(p.text)")
            }
            guard let s = value.stringValue, let ts = Timestamp(s) else {
                throw runtimeError(t,
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: \(p.text) == \(Self.describeForMessage(value))")
            }
            return ts.millisecondsSinceEpoch
        case .secondsExpression, .timestampExpression:
            throw runtimeError(t, "JSONata is not available in this build", name: StatesError.Name.queryEvaluationError)
        }
    }

    func failError(_ f: FailState, _ t: StateFrame, _ state: State, input: JSON, _ d: Decider) -> StatesError {
        func text(_ x: FailState.Text?, field: String) throws(StatesError) -> String? {
            guard let x else { return nil }
            switch x {
            case .literal(let s): return s
            case .path(let p):
                let env = environment(t, state, input: input, d, enteredTime: d.now)
                let value: JSON
                do { value = try p.evaluate(in: env) } catch {
                    if error.name == StatesError.Name.intrinsicFailure { throw located(error, t) }
                    throw runtimeError(t,
                        "The JSONPath '\(p.text)' specified for the field '\(field)' could not be found in the input '\(input.serialized())'")
                }
                return value.javaText
            case .jsonata(let template):
                let name = field == "ErrorPath" ? "Error" : "Cause"
                let b = jsonataBindings(t, state, input: input, d, enteredTime: d.now)
                let value = try evaluate(template, field: name, t, input: input, bindings: b, d)
                guard let text = value.stringValue else {
                    throw unexpectedType(template, field: name, expected: "string", value: value, t)
                }
                return text
            }
        }
        var t = t
        t.enteredEventID = lastEventID + 1
        do {
            let error = try text(f.error, field: "ErrorPath")
            let cause = try text(f.cause, field: "CausePath")
            return StatesError(error ?? "", cause: cause)
        } catch {
            return error
        }
    }

    // MARK: Running an entered state

    /// Runs an entered state as far as it goes without waiting. Returns a failure that no
    /// event records (the caller catches or propagates it).
    mutating func execute(_ d: inout Decider, _ id: ThreadID) -> StatesError? {
        guard let t = frame(id) else { return nil }
        let state = plan[t.state]
        if state.queryLanguage == .jsonata {
            do {
                try executeJSONata(&d, id, t, state)
            } catch {
                return error
            }
            return nil
        }
        do {
            // The case only: the payloads are read by the functions that need them (reading
            // one copies the whole kind).
            switch state.kind {
            case .pass:
                try executePass(&d, id, t, state)
            case .choice:
                try executeChoice(&d, id, t, state)
            case .succeed:
                let eff = try applyInputPath(t, state, t.stateInput, d)
                let out = try applyOutputPath(t, state, eff, d)
                try exitState(&d, id, state, out, assigned: nil)
            case .wait:
                // A Wait with a due time is `.waiting`; one that failed is `.failed`.
                preconditionFailure("Wait state \(state.name) entered without a timer")
            case .fail:
                preconditionFailure("Fail state \(state.name) entered without its error")
            case .task:
                guard case .task(let task) = state.kind else { return nil }
                try scheduleTask(&d, id, t, state, task)
            case .parallel:
                let eff = try applyInputPath(t, state, t.stateInput, d)
                var branchInput = eff
                if let params = state.io.parameters {
                    branchInput = try evaluate(params, environment(t, state, input: eff, d), t)
                }
                emit(&d, .parallelStateStarted, id, note: EngineNote(effectiveInput: branchInput))
            case .map:
                guard case .map(let m) = state.kind else { return nil }
                try startMap(&d, id, t, state, m)
            }
        } catch {
            return error
        }
        return nil
    }

    mutating func executePass(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State) throws(StatesError) {
        let eff = try applyInputPath(t, state, t.stateInput, d)
        var result = eff
        if let params = state.io.parameters { result = try evaluate(params, environment(t, state, input: eff, d), t) }
        if let r = plan.passResult(state.id) { result = r }
        // The environment only when there is an Assign (building it costs more than most steps).
        let assigned = state.io.assign == nil ? nil : try evaluateAssign(state.io.assign, t, environment(t, state, input: result, d))
        let combined = try applyResultPath(t, state.io.resultPath, raw: t.stateInput, result: result)
        let out = try applyOutputPath(t, state, combined, d)
        try exitState(&d, id, state, out, assigned: assigned)
    }

    mutating func executeChoice(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State) throws(StatesError) {
        guard let c = plan.choice(state.id) else { preconditionFailure("executeChoice: \(state.name) is not a Choice state") }
        let eff = try applyInputPath(t, state, t.stateInput, d)
        let env = environment(t, state, input: eff, d)
        var next: StateID? = nil
        // By index, switching on each condition in place: a `for branch in` copied each
        // branch (a retain and a release).
        for i in c.choices.indices {
            switch c.choices[i].condition {
            case .rule(let rule):
                let matched: Bool
                do { matched = try rule.evaluate(in: env) } catch { throw located(error, t) }
                if matched { next = c.choices[i].next }
            case .jsonata:
                throw runtimeError(t, "JSONata is not available in this build", name: StatesError.Name.queryEvaluationError)
            }
            if next != nil { break }
        }
        guard let target = next ?? c.defaultState else {
            throw StatesError(StatesError.Name.noChoiceMatched,
                cause: "No Matches!")
        }
        let assigned = try evaluateAssign(state.io.assign, t, env)
        let out = try applyOutputPath(t, state, eff, d)
        try exitState(&d, id, state, out, assigned: assigned, next: target)
    }

    /// Emits `...StateExited` and enters the next state (unless the state ends its block).
    ///
    /// - Parameter state: the thread's current state (the caller has it at hand).
    mutating func exitState(_ d: inout Decider, _ id: ThreadID, _ state: State, _ output: JSON, assigned: [(String, JSON)]?,
                            next: StateID? = nil) throws(StatesError)
    {
        try checkPayload(output, of: state.name, &d)
        emit(&d, .stateExited(of: state), id, .stateExited(name: state.name, output: output, assigned: assigned))
        if let next {
            enter(&d, id, next, input: output)
        } else if case .next(let n) = state.transition, !isTerminalExit(state) {
            enter(&d, id, n, input: output)
        }
    }

    /// AWS's payload quota (256 KiB), and the nesting the store reads back (512 levels: the
    /// JSON parser's, which the API applies to inputs too). A loop of states that wraps its
    /// input one level deeper each time would otherwise build an output no one can read.
    func checkPayload(_ value: JSON, of name: String, _ d: inout Decider) throws(StatesError) {
        switch value.payloadProblem(sizeLimit: payloadSizeLimit, memo: &d.sizes) {
        case nil: return
        case .tooLarge:
            throw StatesError(StatesError.Name.dataLimitExceeded,
                cause: "The state/task '\(name)' returned a result with a size exceeding the maximum number of bytes service limit.")
        case .tooDeep(let depth):
            throw StatesError(StatesError.Name.runtime,
                cause: "The state/task '\(name)' returned a result whose nesting depth (\(depth)) exceeds the maximum allowed (\(JSON.defaultMaxDepth)).")
        }
    }

    // MARK: Wait

    mutating func finishWait(_ d: inout Decider, _ id: ThreadID) -> StatesError? {
        guard let t = frame(id) else { return nil }
        let state = plan[t.state]
        do {
            if state.queryLanguage == .jsonata {
                try finishJSONataWait(&d, id, t, state)
                return nil
            }
            let eff = try applyInputPath(t, state, t.stateInput, d)
            let assigned = state.io.assign == nil ? nil : try evaluateAssign(state.io.assign, t, environment(t, state, input: eff, d))
            let out = try applyOutputPath(t, state, eff, d)
            try exitState(&d, id, state, out, assigned: assigned)
        } catch {
            return error
        }
        return nil
    }

    // MARK: Results of Task, Parallel and Map

    /// ResultSelector, ResultPath, OutputPath and Assign over a raw result, then the exit.
    mutating func finishState(_ d: inout Decider, _ id: ThreadID, result raw: JSON) -> StatesError? {
        guard let t = frame(id) else { return nil }
        let state = plan[t.state]
        do {
            if state.queryLanguage == .jsonata {
                try finishJSONataState(&d, id, t, state, result: raw)
                return nil
            }
            var selected = raw
            if let selector = state.io.resultSelector {
                selected = try evaluate(selector, environment(t, state, input: raw, d), t)
            }
            let assigned = state.io.assign == nil ? nil : try evaluateAssign(state.io.assign, t, environment(t, state, input: selected, d))
            let combined = try applyResultPath(t, state.io.resultPath, raw: t.stateInput, result: selected)
            let out = try applyOutputPath(t, state, combined, d)
            try exitState(&d, id, state, out, assigned: assigned)
        } catch {
            return error
        }
        return nil
    }

    // MARK: Catch

    /// Looks for a catcher of the current state; when one matches, exits the state with the
    /// error output and enters the catcher's `Next`.
    ///
    /// - Returns: nil when caught; else the error to propagate (the original one, or the
    ///   one raised while building the catcher's output).
    mutating func handleCatch(_ d: inout Decider, _ id: ThreadID, _ error: StatesError) -> StatesError? {
        // AWS behaviour: States.Runtime fails the execution even when a catcher names it.
        guard error.name != StatesError.Name.runtime, let t = frame(id) else { return error }
        let state = plan[t.state]
        guard let catcher = state.catchers.first(where: { $0.matches(error.name) }) else { return error }
        var errorOutput = JSONObject(minimumCapacity: 2)
        errorOutput.append("Error", error.name.isEmpty ? .null : .string(error.name))
        // AWS behaviour: a timeout without a cause shows `"Cause": ""`; other errors without
        // one show null.
        let isTimeout = error.name == StatesError.Name.timeout || error.name == StatesError.Name.heartbeatTimeout
        errorOutput.append("Cause", error.cause.map(JSON.string) ?? (isTimeout ? .string("") : .null))
        do {
            if state.queryLanguage == .jsonata {
                let (output, assigned) = try jsonataCatchOutput(catcher, t, state, errorOutput: .object(errorOutput), d)
                try exitState(&d, id, state, output, assigned: assigned, next: catcher.next)
                return nil
            }
            let output = try applyResultPath(t, catcher.resultPath, raw: t.stateInput, result: .object(errorOutput))
            let assigned = catcher.assign == nil ? nil : try evaluateAssign(catcher.assign, t, environment(t, state, input: .object(errorOutput), d))
            try exitState(&d, id, state, output, assigned: assigned, next: catcher.next)
        } catch {
            return error
        }
        return nil
    }

    /// The retrier that takes `error`, and when the next attempt is due; nil when the
    /// error goes to Catch (no retrier matches, or the matching one is exhausted).
    func retryDecision(_ t: StateFrame, _ state: State, _ error: StatesError, _ d: Decider) -> (index: Int, due: Int64)? {
        guard error.name != StatesError.Name.runtime else { return nil }
        for (i, r) in state.retriers.enumerated() where r.matches(error.name) {
            let count = i < t.retryCounts.count ? t.retryCounts[i] : 0
            guard count < r.maxAttempts else { return nil }
            let delay = r.delayMilliseconds(retryCount: count, unitRandom: d.context.random.nextUnitDouble())
            return (i, d.now + delay)
        }
        return nil
    }

    /// A retry is due: run the state again from its effective input.
    mutating func retryState(_ d: inout Decider, _ id: ThreadID) -> StatesError? {
        execute(&d, id)
    }
}
