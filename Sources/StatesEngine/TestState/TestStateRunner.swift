import StatesLanguage

/// AWS's TestState API: runs one state (a state definition, or a whole machine and
/// `stateName`) once, with an input, variables and an optional mocked task result.
///
/// The state runs on the engine itself, inside a small machine built around it: an
/// initial Pass state assigns the request's `variables`, the tested state (named
/// `StateName`, as AWS names it in the context object) follows, and every state it can go
/// to (`Next`, Choice targets, Catch targets) is a Succeed state whose name is reported as
/// `nextState`. A Task receives the mock (`result` or `errorOutput`); a Parallel or Map
/// with a mock runs as a Task over the same data-flow fields, so the mock is its result.
/// Retriers are decided from `stateConfiguration.retrierRetryCount` (RETRIABLE while one
/// matches and has attempts left), so nothing waits.
public enum TestStateRunner {
    /// A refused request: AWS's exception name and message.
    public struct Failure: Error, Sendable {
        public var type: String
        public var message: String
        public init(_ type: String, _ message: String) {
            self.type = type
            self.message = message
        }
    }

    public static let testedStateName = "StateName"

    /// Runs a TestState request body (already validated against the service model).
    /// - Returns: the response body.
    public static func run(_ request: JSONObject, now: Int64 = 0) throws(Failure) -> JSON {
        let definitionText = request["definition"]?.stringValue ?? ""
        let level = request["inspectionLevel"]?.stringValue ?? "INFO"
        let mock = request["mock"]?.objectValue
        let config = request["stateConfiguration"]?.objectValue
        let roleArn = request["roleArn"]?.stringValue
        let inputText = request["input"]?.stringValue ?? "{}"

        let definitionJSON: JSON
        do {
            definitionJSON = try JSON.parse(definitionText)
        } catch {
            throw Failure("InvalidDefinition", "Invalid State Machine Definition: '\(error.message)'")
        }
        guard case .object(var document) = definitionJSON else {
            throw Failure("InvalidDefinition", "Definition must be a valid JSON object")
        }
        // The tested state, and the machine-wide query language.
        var machineLanguage: JSON? = nil
        var stateJSON: JSONObject
        if let stateName = request["stateName"]?.stringValue {
            // Validate the whole machine first: AWS reports its diagnostics.
            do {
                _ = try StateMachineDefinition.parse(definitionText)
            } catch {
                throw Failure("InvalidDefinition", error.message)
            }
            guard let s = findState(stateName, in: document) else {
                throw Failure("ValidationException", "State not found in definition")
            }
            stateJSON = s
            machineLanguage = document["QueryLanguage"]
        } else {
            guard document["Type"] != nil else {
                if document["States"] != nil {
                    throw Failure("ValidationException", "A stateName must be given when the definition is a state machine")
                }
                throw Failure("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /'")
            }
            stateJSON = document
            document = [:]
        }
        let type = stateJSON["Type"]?.stringValue ?? ""
        if stateJSON["QueryLanguage"] == nil, let machineLanguage { stateJSON["QueryLanguage"] = machineLanguage }
        let isJSONata = stateJSON["QueryLanguage"]?.stringValue == "JSONata"

        if type == "Parallel", (stateJSON["Branches"]?.arrayValue ?? []).isEmpty {
            throw Failure("InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/StateName/Branches'")
        }
        // Request checks, with AWS's messages (TestStateChecks.swift).
        let checked = try check(request, state: stateJSON, type: type)
        let errorOutput = mock?["errorOutput"]?.objectValue
        let mockResult = checked.mockResult

        let input: JSON
        do {
            input = try JSON.parse(inputText)
        } catch {
            throw Failure("InvalidExecutionInput", "Invalid Input: '\(error.message)'")
        }
        var variables = JSONObject()
        if let v = request["variables"]?.stringValue {
            guard case .object(let o)? = try? JSON.parse(v) else {
                throw Failure("ValidationException", "Variables must be a JSON object")
            }
            variables = o
        }

        // The mocked failure of a Map or Parallel (or a Task), if any.
        var failure: StatesError? = nil
        if let e = errorOutput {
            failure = StatesError(e["error"]?.stringValue ?? "", cause: e["cause"]?.stringValue)
        } else if type == "Map", let n = config?["mapIterationFailureCount"]?.integerValue, n > 0 {
            let count = mockResult?.arrayValue?.count ?? 0
            // AWS behaviour: without a tolerated failure count or percentage, TestState
            // reports no threshold failure for mocked iteration failures.
            let tolerated = stateJSON["ToleratedFailureCount"]?.integerValue
            let pct = stateJSON["ToleratedFailurePercentage"]?.doubleValue
            let overCount = tolerated.map { n > $0 } ?? (pct == nil ? false : true)
            let overPct = pct.map { count > 0 && Double(n) * 100 / Double(count) > $0 } ?? true
            if (tolerated != nil || pct != nil) && overCount && overPct {
                failure = StatesError("States.ExceedToleratedFailureThreshold",
                                      cause: "The specified tolerated failure threshold was exceeded")
            }
        }

        // Retry: RETRIABLE while a matching retrier has attempts left.
        let retriers = stateJSON["Retry"]?.arrayValue ?? []
        if let failure {
            let retryCount = config?["retrierRetryCount"]?.integerValue ?? 0
            for r in retriers {
                let names = (r["ErrorEquals"]?.arrayValue ?? []).compactMap(\.stringValue)
                guard ErrorMatcher.matches(names, failure.name) else { continue }
                let maxAttempts = r["MaxAttempts"]?.integerValue ?? 3
                if retryCount < maxAttempts {
                    var o = JSONObject()
                    o.append("status", "RETRIABLE")
                    o.append("error", .string(failure.name))
                    if let c = failure.cause { o.append("cause", .string(c)) }
                    if level != "INFO" { o.append("inspectionData", ["input": .string(input.serialized())]) }
                    return .object(o)
                }
                break
            }
        }

        // The machine around the state.
        var tested = stateJSON
        tested.removeValue(forKey: "Retry")
        var targets: [String] = []
        if let n = tested["Next"]?.stringValue { targets.append(n) }
        for c in tested["Choices"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { targets.append(n) } }
        if let n = tested["Default"]?.stringValue { targets.append(n) }
        for c in tested["Catch"]?.arrayValue ?? [] { if let n = c["Next"]?.stringValue { targets.append(n) } }
        if type == "Map" || type == "Parallel" {
            // A mocked Map or Parallel: a Task over the same data-flow fields.
            tested["Type"] = "Task"
            tested["Resource"] = "arn:aws:states:::lambda:invoke"
            for k in ["Branches", "ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "ItemReader", "ItemBatcher",
                      "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailureCountPath",
                      "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "Label"]
            {
                tested.removeValue(forKey: k)
            }
            if type == "Map" { tested.removeValue(forKey: "Parameters") }
        }
        var states = JSONObject()
        var initial: JSONObject = ["Type": "Pass", "Next": .string(testedStateName)]
        if !variables.isEmpty {
            var assign = JSONObject()
            for (k, v) in variables { assign[k] = v }
            initial["Assign"] = .object(assign)
        }
        if isJSONata {
            initial["QueryLanguage"] = "JSONata"
            if !variables.isEmpty {
                // JSONata Assign evaluates `{% %}` strings: wrap each value as a literal.
                var assign = JSONObject()
                for (k, v) in variables { assign[k] = .string("{% \(v.serialized()) %}") }
                initial["Assign"] = .object(assign)
            }
        }
        let initialName = "__stepline_test_state_input"
        states[initialName] = .object(initial)
        states[testedStateName] = .object(tested)
        for t in targets where t != testedStateName && states[t] == nil { states[t] = ["Type": "Succeed"] }
        let machine: JSON = ["StartAt": .string(initialName), "States": .object(states)]
        let definition: StateMachineDefinition
        do {
            definition = try StateMachineDefinition.parse(machine.serialized())
        } catch {
            throw Failure("InvalidDefinition", error.message)
        }

        // Run it.
        let random = RandomSource()
        let account = roleArn.flatMap { $0.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first }
            .map(String.init).flatMap { $0.isEmpty ? nil : $0 } ?? "123456789012"
        let machineName = random.uuidString(), executionName = random.uuidString()
        // AWS behaviour: unlike an Express execution's, TestState's `$$.Execution.Id` has no id
        // after the name: `express:MACHINE:NAME` (cases test_state.*test_map_state_failure_count.*).
        let info = ExecutionInfo(
            executionArn: "arn:aws:states:us-east-1:\(account):express:\(machineName):\(executionName)", name: executionName,
            stateMachineArn: "arn:aws:states:us-east-1:\(account):stateMachine:\(machineName)", stateMachineName: machineName,
            roleArn: roleArn, type: .express, region: "us-east-1", account: account, contextObject: checked.context)
        let context = DecisionContext(now: now, random: random)
        var (state, decision) = ExecutionState.start(definition: definition, info: info, input: input, context: context)
        var events = decision.events
        for command in decision.commands {
            guard case .dispatchTask(let r) = command else { continue }
            let next: Decision
            if let failure {
                next = (try? state.deliver(.taskFailed(token: r.token, error: failure.name, cause: failure.cause), context)) ?? Decision()
            } else if let mockResult {
                next = (try? state.deliver(.taskSucceeded(token: r.token, output: mockResult), context)) ?? Decision()
            } else {
                // Without a mock the integration would be called: Stepline's TestState
                // does not call services (docs/api.md).
                next = (try? state.deliver(.taskFailed(token: r.token, error: "States.TaskFailed",
                    cause: "TestState without a mock does not call '\(r.resource.arn)' in Stepline: give a mock result"), context)) ?? Decision()
            }
            events += next.events
        }
        return response(events: events, state: state, definition: definition, input: input, level: level,
                        variables: variables, type: type, stateJSON: stateJSON, mockResult: mockResult, isJSONata: isJSONata)
    }

    private static func response(events: [HistoryEvent], state: ExecutionState, definition: StateMachineDefinition, input: JSON,
                                 level: String, variables: JSONObject, type: String, stateJSON: JSONObject, mockResult: JSON?,
                                 isJSONata: Bool) -> JSON
    {
        var o = JSONObject()
        var testedExited: JSON? = nil
        var nextState: String? = nil
        var nextInput: JSON? = nil
        var enteredTested = false
        var failedError: (String?, String?)? = nil
        var assigned: [(String, JSON)]? = nil
        for e in events where !e.isInternal {
            switch e.details {
            case .stateEntered(let name, let stateInput):
                if name == testedStateName {
                    enteredTested = true
                } else if enteredTested, nextState == nil {
                    nextState = name
                    nextInput = stateInput
                }
            case .stateExited(let name, let output, let a) where name == testedStateName:
                testedExited = output
                assigned = a
            case .error(let err, let cause) where e.type == .executionFailed:
                failedError = (err, cause)
            case .evaluationFailed(let err, let cause, _, _):
                failedError = failedError ?? (err, cause)
            default:
                break
            }
        }
        if let (err, cause) = failedError, nextState == nil {
            o.append("status", "FAILED")
            if let err { o.append("error", .string(err)) }
            if let cause { o.append("cause", .string(cause)) }
        } else if let nextState, caughtError(events) != nil {
            // The state failed and a catcher sent it on.
            o.append("output", .string((nextInput ?? testedExited ?? .null).serialized()))
            o.append("nextState", .string(nextState))
            o.append("status", "CAUGHT_ERROR")
            if let err = caughtError(events) {
                o.append("error", .string(err.0))
                if let c = err.1 { o.append("cause", .string(c)) }
            }
        } else {
            o.append("output", .string((testedExited ?? state.output ?? .null).serialized()))
            if let nextState { o.append("nextState", .string(nextState)) }
            o.append("status", "SUCCEEDED")
        }
        if level != "INFO" {
            var data = JSONObject()
            data.append("input", .string(input.serialized()))
            if !isJSONata {
                inspect(&data, type: type, stateJSON: stateJSON, input: input, context: state.info.contextObject ?? .null,
                        variables: variables, mockResult: mockResult,
                        output: testedExited, definition: definition)
            }
            if !variables.isEmpty || assigned != nil {
                var vars = variables
                for (k, v) in assigned ?? [] { vars[k] = v }
                data.append("variables", .string(JSON.object(vars).serialized()))
            }
            o.append("inspectionData", .object(data))
        }
        return .object(o)
    }

    /// A state by name, at the top level or inside a Parallel branch or Map processor.
    static func findState(_ name: String, in block: JSONObject) -> JSONObject? {
        guard let states = block["States"]?.objectValue else { return nil }
        if let s = states[name]?.objectValue { return s }
        for (_, v) in states {
            guard let s = v.objectValue else { continue }
            for b in s["Branches"]?.arrayValue ?? [] {
                if let o = b.objectValue, let found = findState(name, in: o) { return found }
            }
            for key in ["ItemProcessor", "Iterator"] {
                if let o = s[key]?.objectValue, let found = findState(name, in: o) { return found }
            }
        }
        return nil
    }

    private static func caughtError(_ events: [HistoryEvent]) -> (String, String?)? {
        for e in events.reversed() {
            switch e.details {
            case .taskError(_, _, let err?, let cause): return (err, cause)
            case .error(let err?, let cause) where e.type != .executionFailed: return (err, cause)
            case .evaluationFailed(let err, let cause, _, _): return (err, cause)
            default: continue
            }
        }
        return nil
    }

    /// The JSONPath data-flow steps, as DEBUG and TRACE inspection data show them.
    private static func inspect(_ data: inout JSONObject, type: String, stateJSON: JSONObject, input: JSON, context: JSON,
                                variables: JSONObject,
                                mockResult: JSON?, output: JSON?, definition: StateMachineDefinition)
    {
        guard let state = definition.state(named: testedStateName, in: .root) else { return }
        var vars = Variables()
        for (k, v) in variables { vars.own[k] = v }
        let env = { (value: JSON) in
            EvaluationEnvironment(input: value, context: context, variables: vars, random: RandomSource())
        }
        func text(_ v: JSON) -> JSON { .string(v.serialized()) }
        let hasResult = stateJSON["Result"] != nil
        var effective = input
        if type != "Parallel", type != "Map", !hasResult {
            switch state.io.inputPath {
            case .path(let p)?: effective = (try? p.evaluate(in: env(input))) ?? effective
            case .null?: effective = .object(JSONObject())
            case nil: break
            }
            data.append("afterInputPath", text(effective))
        }
        guard ["Pass", "Task", "Parallel", "Map"].contains(type) else { return }
        if type == "Pass" || type == "Task", !hasResult {
            if let params = state.io.parameters { effective = (try? params.evaluate(in: env(effective))) ?? effective }
            data.append("afterParameters", text(effective))
        }
        var result: JSON
        if type == "Pass" {
            if case .pass(let p) = state.kind, let r = p.result {
                result = r
                data.append("result", text(r))
            } else {
                result = effective
            }
        } else {
            result = mockResult ?? .null
            if type == "Task" { data.append("result", text(result)) }
        }
        if let selector = state.io.resultSelector { result = (try? selector.evaluate(in: env(result))) ?? result }
        data.append("afterResultSelector", text(result))
        var afterResultPath = result
        switch state.io.resultPath {
        case .path(let p)?: afterResultPath = (try? p.assigning(result, into: input)) ?? afterResultPath
        case .discard?: afterResultPath = input
        case nil: break
        }
        data.append("afterResultPath", text(afterResultPath))
    }
}
