import StatesLanguage

/// Data flow of one state: the context object, InputPath, templates, ResultPath, OutputPath,
/// Assign; and the runtime errors AWS reports when they fail.
extension ExecutionState {
    /// The context object (`$$`) as one state sees it.
    func contextObject(_ t: StateFrame, _ state: State, enteredTime: Int64, taskToken: String? = nil,
                       mapItem: (index: Int, value: JSON)? = nil) -> JSON
    {
        if let given = info.contextObject {
            // AWS behaviour (TestState's `context`): the given object is the context object,
            // as it is; a task token and a Map item are added to it.
            guard taskToken != nil || mapItem != nil, case .object(var o) = given else { return given }
            if let taskToken, o["Task"] == nil { o["Task"] = ["Token": .string(taskToken)] }
            if let mapItem { o["Map"] = ["Item": ["Index": .int(Int64(mapItem.index)), "Value": mapItem.value]] }
            return .object(o)
        }
        var execution = JSONObject(minimumCapacity: 7)
        execution.append("Id", .string(info.executionArn))
        execution.append("Input", input)
        execution.append("StartTime", .string(ISOTime.format(milliseconds: startTime)))
        execution.append("Name", .string(info.name))
        // AWS behaviour: TestState without a role shows `"RoleArn": null`.
        execution.append("RoleArn", info.roleArn.map { .string($0) } ?? .null)
        // AWS behaviour: Express executions (and TestState) cannot be redriven and show no RedriveCount.
        if info.type == .standard { execution.append("RedriveCount", .int(Int64(info.redriveCount))) }
        if let redriveTime = info.redriveTime { execution.append("RedriveTime", .string(ISOTime.format(milliseconds: redriveTime))) }
        var machine = JSONObject(minimumCapacity: 2)
        machine.append("Id", .string(info.stateMachineArn))
        machine.append("Name", .string(info.stateMachineName))
        var stateObject = JSONObject(minimumCapacity: 3)
        stateObject.append("Name", .string(state.name))
        stateObject.append("EnteredTime", .string(ISOTime.format(milliseconds: enteredTime)))
        switch state.kind {
        case .task, .parallel, .map:
            stateObject.append("RetryCount", .int(Int64(t.retryCounts.reduce(0, +))))
        default: break
        }
        var context = JSONObject(minimumCapacity: 5)
        context.append("Execution", .object(execution))
        context.append("StateMachine", .object(machine))
        context.append("State", .object(stateObject))
        if let taskToken { context.append("Task", ["Token": .string(taskToken)]) }
        if let mapItem {
            context.append("Map", ["Item": ["Index": .int(Int64(mapItem.index)), "Value": mapItem.value]])
        }
        return .object(context)
    }

    func environment(_ t: StateFrame, _ state: State, input: JSON, _ d: Decider, enteredTime: Int64? = nil,
                     taskToken: String? = nil, mapItem: (index: Int, value: JSON)? = nil) -> EvaluationEnvironment
    {
        // Building the context object costs more than most states; build it only for
        // states whose expressions read `$$`.
        let context = state.referencesContext
            ? contextObject(t, state, enteredTime: enteredTime ?? t.enteredTime, taskToken: taskToken, mapItem: mapItem) : .null
        return EvaluationEnvironment(input: input, context: context, variables: t.variables, random: d.context.random)
    }

    /// AWS's prefix of runtime causes: which state failed and where it was entered.
    func runtimeError(_ t: StateFrame, _ message: String, name: String = StatesError.Name.runtime,
                      enteredEventID: Int64? = nil) -> StatesError
    {
        let state = plan[t.state]
        return StatesError(name, cause:
            "An error occurred while executing the state '\(state.name)' (entered at the event id #\(enteredEventID ?? t.enteredEventID)). \(message)",
            framing: .inState)
    }

    /// Puts AWS's state prefix on errors raised by the expression layer.
    func located(_ error: StatesError, _ t: StateFrame, enteredEventID: Int64? = nil) -> StatesError {
        switch error.name {
        case StatesError.Name.runtime, StatesError.Name.intrinsicFailure, StatesError.Name.queryEvaluationError:
            if error.framing.contains(.inState) { return error }
            var located = runtimeError(t, error.cause ?? "", name: error.name, enteredEventID: enteredEventID)
            located.framing.formUnion(error.framing)
            return located
        default:
            return error
        }
    }

    // MARK: JSONPath fields

    func applyInputPath(_ t: StateFrame, _ state: State, _ raw: JSON, _ d: Decider, enteredTime: Int64? = nil,
                        enteredEventID: Int64? = nil) throws(StatesError) -> JSON
    {
        switch state.io.inputPath {
        case nil: return raw
        case .null?: return .object(JSONObject())
        case .path(let p)?:
            do {
                return try p.evaluate(in: environment(t, state, input: raw, d, enteredTime: enteredTime))
            } catch {
                throw located(pathError(error, p.text), t, enteredEventID: enteredEventID)
            }
        }
    }

    func applyOutputPath(_ t: StateFrame, _ state: State, _ value: JSON, _ d: Decider) throws(StatesError) -> JSON {
        switch state.io.outputPath {
        case nil: return value
        case .null?: return .object(JSONObject())
        case .path(let p)?:
            do {
                return try p.evaluate(in: environment(t, state, input: value, d))
            } catch {
                throw located(pathError(error, p.text), t)
            }
        }
    }

    /// Merges `result` into the state's raw input at `path` (ResultPath, or a catcher's).
    func applyResultPath(_ t: StateFrame, _ field: ResultPathField?, raw: JSON, result: JSON) throws(StatesError) -> JSON {
        switch field {
        case nil: return result
        case .discard?: return raw
        case .path(let p)?:
            do {
                return try p.assigning(result, into: raw)
            } catch {
                throw located(error, t)
            }
        }
    }

    /// A path that found nothing becomes AWS's "Invalid path" runtime error.
    func pathError(_ error: StatesError, _ text: String) -> StatesError {
        if error.name == StatesError.Name.runtime, let cause = error.cause, !error.framing.contains(.invalidPath) {
            return StatesError(StatesError.Name.runtime, cause: "Invalid path '\(text)' : \(cause)", framing: error.framing.union(.invalidPath))
        }
        return error
    }

    func evaluate(_ template: PayloadTemplate, _ env: EvaluationEnvironment, _ t: StateFrame) throws(StatesError) -> JSON {
        do {
            return try template.evaluate(in: env)
        } catch {
            throw located(error, t)
        }
    }

    /// Evaluates `Assign` (JSONPath mode); nil when the state has none.
    func evaluateAssign(_ assign: Assignment?, _ t: StateFrame, _ env: EvaluationEnvironment) throws(StatesError) -> [(String, JSON)]? {
        guard let assign else { return nil }
        switch assign {
        case .jsonPath(let template, let names):
            let value = try evaluate(template, env, t)
            guard case .object(let o) = value, !o.isEmpty else { return nil }
            var out: [(String, JSON)] = []
            out.reserveCapacity(names.count)
            for (k, v) in o { out.append((k, v)) }
            return out
        case .jsonata:
            throw runtimeError(t, "JSONata is not available in this build", name: StatesError.Name.queryEvaluationError)
        }
    }

    /// A `...Path` number field: the value must be an integer (or a number for floats).
    func evaluateNumber(_ n: DynamicNumber?, field: String, _ t: StateFrame, _ state: State, input: JSON, _ d: Decider,
                        integer: Bool = true) throws(StatesError) -> Double?
    {
        guard let n else { return nil }
        switch n {
        case .literal(let v): return v
        case .jsonata:
            throw runtimeError(t, "JSONata is not available in this build", name: StatesError.Name.queryEvaluationError)
        case .path(let p):
            let value: JSON
            do {
                value = try p.evaluate(in: environment(t, state, input: input, d))
            } catch {
                throw located(pathError(error, p.text), t)
            }
            // AWS behaviour: a numeric string is accepted ("1" for MaxConcurrencyPath).
            var number = value
            if case .string(let s) = value, let parsed = try? JSON.parse(s), parsed.isNumber { number = parsed }
            if integer {
                guard let i = number.integerValue, number.isNumber else {
                    throw runtimeError(t, "The \(field)Path field refers to value \"\(Self.describeForMessage(value))\" which is not a valid integer: \(p.text)")
                }
                return Double(i)
            }
            _ = value
            guard let v = number.doubleValue else {
                throw runtimeError(t, "The \(field)Path field refers to value \"\(Self.describeForMessage(value))\" which is not a valid float: \(p.text)")
            }
            return v
        }
    }

    /// A value quoted in a JSONPath-mode cause.
    ///
    /// AWS behaviour: such causes show the value as Java prints it (`"NoNumber"` unquoted,
    /// `{}`; cases `scenarios.*test_map_state_tolerated_failure_count_path.*`,
    /// `*test_max_concurrency_path.*`), so objects and arrays read `{a=1}`, `[1, x]`.
    static func describeForMessage(_ value: JSON) -> String {
        value.javaText
    }
}

/// ISO-8601 times as AWS writes them in the context object: `2024-02-07T13:52:02.123Z`.
public enum ISOTime {
    public static func format(milliseconds ms: Int64) -> String {
        Timestamp(millisecondsSinceEpoch: ms).formatted(fractionDigits: 3)
    }
}
