import JSONata
import StatesLanguage

/// States whose query language is JSONata: `Arguments`, `Output`, `Assign`, `Condition`,
/// `Items`, and `{% %}` in number and text fields; `$states.input`, `$states.result`,
/// `$states.errorOutput`, `$states.context`.
extension ExecutionState {
    func jsonataOptions(_ d: Decider) -> JSONataOptions {
        .stepFunctions(random: d.context.random)
    }

    /// The bindings of one evaluation: the workflow variables as the state sees them (before
    /// its own assignments) and `$states`.
    func jsonataBindings(_ t: StateFrame, _ state: State, input: JSON, _ d: Decider, result: JSON? = nil,
                         errorOutput: JSON? = nil, enteredTime: Int64? = nil, taskToken: String? = nil,
                         mapItem: (index: Int, value: JSON)? = nil) -> [String: JSON]
    {
        var states = JSONObject(minimumCapacity: 4)
        states.append("input", input)
        states.append("context", contextObject(t, state, enteredTime: enteredTime ?? t.enteredTime, taskToken: taskToken, mapItem: mapItem))
        if let result { states.append("result", result) }
        if let errorOutput { states.append("errorOutput", errorOutput) }
        var bindings = t.variables.flattened
        bindings["states"] = .object(states)
        return bindings
    }

    /// Evaluates a JSONata template; failures become `States.QueryEvaluationError` with the
    /// state prefix and the field location.
    func evaluate(_ template: JSONataTemplate, field: String, _ t: StateFrame, input: JSON, bindings: [String: JSON],
                  _ d: Decider, enteredEventID: Int64? = nil) throws(StatesError) -> JSON
    {
        do {
            return try template.evaluate(field: field, input: input, bindings: bindings, options: jsonataOptions(d))
        } catch {
            var e = runtimeError(t, error.message, name: StatesError.Name.queryEvaluationError, enteredEventID: enteredEventID)
            e.location = error.location
            throw e
        }
    }

    /// A JSONata `Assign`: every value evaluated against the state's starting variables.
    func evaluateJSONataAssign(_ assign: Assignment?, _ t: StateFrame, input: JSON, bindings: [String: JSON],
                               _ d: Decider) throws(StatesError) -> [(String, JSON)]?
    {
        guard case .jsonata(let template, _)? = assign else {
            if case .jsonPath? = assign {
                return try evaluateAssign(assign, t, EvaluationEnvironment(
                    input: input, context: bindings["states"]?["context"] ?? .null, variables: t.variables,
                    random: d.context.random))
            }
            return nil
        }
        let value = try evaluate(template, field: "Assign", t, input: input, bindings: bindings, d)
        guard case .object(let o) = value, !o.isEmpty else { return nil }
        return o.map { ($0.key, $0.value) }
    }

    /// A number field given as a JSONata expression (or literal).
    func jsonataNumber(_ n: DynamicNumber?, field: String, _ t: StateFrame, input: JSON, bindings: [String: JSON],
                       _ d: Decider, integer: Bool = true) throws(StatesError) -> Double?
    {
        guard let n else { return nil }
        switch n {
        case .literal(let v): return v
        case .path: return nil
        case .jsonata(let template):
            let value = try evaluate(template, field: field, t, input: input, bindings: bindings, d)
            guard let v = value.doubleValue, !integer || value.integerValue != nil else {
                throw unexpectedType(template, field: field, expected: integer ? "integer" : "number", value: value, t)
            }
            return v
        }
    }

    /// AWS's `States.QueryEvaluationError` for a typed field whose expression returned a
    /// value of another type, located at the field (EvaluationFailed's `location`):
    /// `The JSONata expression '$x' specified for the field 'Items' returned an unexpected
    /// result type. Expected 'array', but was 'object' for value: {"foo":"bar"}` (cases
    /// `scenarios.*test_map_state_items_eval_jsonata_fail.*`).
    func unexpectedType(_ template: JSONataTemplate, field: String, expected: String, value: JSON, _ t: StateFrame) -> StatesError {
        unexpectedType(source: template.expressionText ?? template.json.serialized(), field: field, expected: expected, value: value, t)
    }

    func unexpectedType(source: String, field: String, expected: String, value: JSON, _ t: StateFrame) -> StatesError {
        var e = runtimeError(t,
            "The JSONata expression '\(source)' specified for the field '\(field)' returned an unexpected result type. Expected '\(expected)', but was '\(Self.typeName(value))' for value: \(value.serialized())",
            name: StatesError.Name.queryEvaluationError)
        e.location = field
        return e
    }

    static func typeName(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double, .decimal: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    // MARK: States

    mutating func executeJSONata(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State) throws(StatesError) {
        let raw = t.stateInput
        switch state.kind {
        case .pass:
            let b = jsonataBindings(t, state, input: raw, d)
            let out = try state.io.output.map { o throws(StatesError) in try evaluate(o, field: "Output", t, input: raw, bindings: b, d) } ?? raw
            let assigned = try evaluateJSONataAssign(state.io.assign, t, input: raw, bindings: b, d)
            try exitState(&d, id, state, out, assigned: assigned)
        case .succeed:
            let b = jsonataBindings(t, state, input: raw, d)
            let out = try state.io.output.map { o throws(StatesError) in try evaluate(o, field: "Output", t, input: raw, bindings: b, d) } ?? raw
            try exitState(&d, id, state, out, assigned: nil)
        case .choice(let c):
            let b = jsonataBindings(t, state, input: raw, d)
            var chosen: ChoiceBranch? = nil
            for branch in c.choices {
                guard case .jsonata(let condition) = branch.condition else { continue }
                let value = try evaluate(condition, field: "Condition", t, input: raw, bindings: b, d)
                guard case .bool(let matched) = value else {
                    throw unexpectedType(condition, field: "Condition", expected: "boolean", value: value, t)
                }
                if matched {
                    chosen = branch
                    break
                }
            }
            guard let target = chosen?.next ?? c.defaultState else {
                throw StatesError(StatesError.Name.noChoiceMatched, cause: "No Matches!")
            }
            var assigned = try evaluateJSONataAssign(state.io.assign, t, input: raw, bindings: b, d) ?? []
            if let branchAssign = try evaluateJSONataAssign(chosen?.assign, t, input: raw, bindings: b, d) {
                for (k, v) in branchAssign {
                    if let i = assigned.firstIndex(where: { $0.0 == k }) { assigned[i].1 = v } else { assigned.append((k, v)) }
                }
            }
            let outputTemplate = chosen?.output ?? state.io.output
            let out = try outputTemplate.map { o throws(StatesError) in try evaluate(o, field: "Output", t, input: raw, bindings: b, d) } ?? raw
            try exitState(&d, id, state, out, assigned: assigned.isEmpty ? nil : assigned, next: target)
        case .task(let task):
            try scheduleJSONataTask(&d, id, t, state, task)
        case .parallel:
            let b = jsonataBindings(t, state, input: raw, d)
            let branchInput = try state.io.arguments.map { a throws(StatesError) in try evaluate(a, field: "Arguments", t, input: raw, bindings: b, d) } ?? raw
            emit(&d, .parallelStateStarted, id, note: EngineNote(effectiveInput: branchInput))
        case .map(let m):
            try startMap(&d, id, t, state, m)
        case .wait, .fail:
            preconditionFailure("\(state.typeName) state \(state.name) runs at entry")
        }
    }

    mutating func scheduleJSONataTask(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State, _ task: TaskState) throws(StatesError) {
        let raw = t.stateInput
        let token = TaskTokens.make(d.context.random, now: d.context.now)
        let b = jsonataBindings(t, state, input: raw, d, taskToken: token)
        let arguments = try state.io.arguments.map { a throws(StatesError) in try evaluate(a, field: "Arguments", t, input: raw, bindings: b, d) } ?? raw
        let timeout = try jsonataNumber(task.timeoutSeconds, field: "TimeoutSeconds", t, input: raw, bindings: b, d).map { Int64($0) }
        let heartbeat = try jsonataNumber(task.heartbeatSeconds, field: "HeartbeatSeconds", t, input: raw, bindings: b, d).map { Int64($0) }
        var credentials: JSON? = nil
        if case .jsonata(let c)? = task.credentials {
            // The definition holds `{"RoleArn": ...}` (checked at creation); the role is a string.
            let value = try evaluate(c, field: "Credentials", t, input: raw, bindings: b, d)
            let role = value["RoleArn"] ?? .null
            guard case .string = role else {
                let written = c.json["RoleArn"] ?? .null
                let source = written.stringValue.flatMap(JSONataTemplate.expressionSource) ?? written.serialized()
                throw unexpectedType(source: source, field: "Credentials/RoleArn", expected: "string", value: role, t)
            }
            credentials = ["roleArn": role]
        }
        try dispatchTask(&d, id, t, state, task, token: token, parameters: arguments, timeout: timeout, heartbeat: heartbeat,
                         credentials: credentials)
    }

    /// Output and Assign over a Task, Parallel or Map result (`$states.result`).
    mutating func finishJSONataState(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State, result: JSON) throws(StatesError) {
        let raw = t.stateInput
        let b = jsonataBindings(t, state, input: raw, d, result: result)
        let out = try state.io.output.map { o throws(StatesError) in try evaluate(o, field: "Output", t, input: raw, bindings: b, d) } ?? result
        let assigned = try evaluateJSONataAssign(state.io.assign, t, input: raw, bindings: b, d)
        try exitState(&d, id, state, out, assigned: assigned)
    }

    mutating func finishJSONataWait(_ d: inout Decider, _ id: ThreadID, _ t: StateFrame, _ state: State) throws(StatesError) {
        let raw = t.stateInput
        let b = jsonataBindings(t, state, input: raw, d)
        let out = try state.io.output.map { o throws(StatesError) in try evaluate(o, field: "Output", t, input: raw, bindings: b, d) } ?? raw
        let assigned = try evaluateJSONataAssign(state.io.assign, t, input: raw, bindings: b, d)
        try exitState(&d, id, state, out, assigned: assigned)
    }

    /// A JSONata catcher: its Output (default `$states.errorOutput`) and Assign.
    func jsonataCatchOutput(_ catcher: Catcher, _ t: StateFrame, _ state: State, errorOutput: JSON,
                            _ d: Decider) throws(StatesError) -> (JSON, [(String, JSON)]?)
    {
        let raw = t.stateInput
        let b = jsonataBindings(t, state, input: raw, d, errorOutput: errorOutput)
        let out = try catcher.output.map { o throws(StatesError) in try evaluate(o, field: "Output", t, input: raw, bindings: b, d) } ?? errorOutput
        let assigned = try evaluateJSONataAssign(catcher.assign, t, input: raw, bindings: b, d)
        return (out, assigned)
    }

    /// The due time of a JSONata Wait.
    func jsonataWaitDue(_ w: WaitState, _ t: StateFrame, _ state: State, input: JSON, _ d: Decider) throws(StatesError) -> Int64 {
        let b = jsonataBindings(t, state, input: input, d, enteredTime: d.now)
        switch w.duration {
        case .seconds(let s): return d.now + s * 1000
        case .timestamp(let ts, _): return ts.millisecondsSinceEpoch
        case .secondsExpression(let template):
            let value = try evaluate(template, field: "Seconds", t, input: input, bindings: b, d)
            guard let s = value.integerValue, value.isNumber, s >= 0 else {
                throw unexpectedType(template, field: "Seconds", expected: "integer", value: value, t)
            }
            return d.now + s * 1000
        case .timestampExpression(let template):
            let value = try evaluate(template, field: "Timestamp", t, input: input, bindings: b, d)
            guard let s = value.stringValue else {
                throw unexpectedType(template, field: "Timestamp", expected: "string", value: value, t)
            }
            guard let ts = Timestamp(s) else {
                var e = runtimeError(t,
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: \(s)",
                    name: StatesError.Name.queryEvaluationError)
                e.location = "Timestamp"
                throw e
            }
            return ts.millisecondsSinceEpoch
        case .secondsPath, .timestampPath:
            return try waitDue(w, t, state, input: input, d)
        }
    }
}
