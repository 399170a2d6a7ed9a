@testable import StatesLanguage

/// Just enough of a JSONPath-mode interpreter (Pass, Choice, Succeed and Fail states) to run
/// the corpus definitions that exercise the expression layer, so that their AWS-recorded
/// outputs and causes check this layer end to end. The real engine lives in StatesEngine.
struct MiniInterpreter {
    enum Outcome: Equatable, CustomStringConvertible {
        case succeeded(JSON)
        case failed(error: String, cause: String?)
        case unsupported(String)

        var description: String {
            switch self {
            case .succeeded(let v): "SUCCEEDED \(v.serialized())"
            case .failed(let e, let c): "FAILED \(e): \(c ?? "-")"
            case .unsupported(let why): "unsupported: \(why)"
            }
        }
    }

    static let supportedTypes: Set<String> = ["Pass", "Choice", "Succeed", "Fail"]

    /// Whether `run` can execute the definition.
    static func supports(_ definition: JSON) -> Bool {
        guard case .object(let states) = definition["States"] ?? .null else { return false }
        if definition.serialized().contains("JSONata") { return false }
        return states.orderedValues.allSatisfy { supportedTypes.contains($0["Type"]?.stringValue ?? "") }
    }

    /// Runs `definition` on `input`; `.unsupported` when it uses anything beyond the four states.
    static func run(_ definition: JSON, input: JSON, stateMachineName: String = "<ArnPart_0idx>",
                    startTime: JSON = "date", enteredTime: JSON = "date",
                    random: RandomSource = RandomSource(seed: 1)) -> Outcome {
        guard case .object(let top) = definition, let startAt = top["StartAt"]?.stringValue,
              case .object(let states) = top["States"] ?? .null
        else { return .unsupported("not a definition") }
        if definition.serialized().contains("JSONata") { return .unsupported("JSONata") }
        for (_, state) in states {
            guard let type = state["Type"]?.stringValue, supportedTypes.contains(type) else {
                return .unsupported("state type \(state["Type"]?.stringValue ?? "?")")
            }
        }
        var variables = Variables()
        var current = startAt
        var value = input
        var eventID = 2
        var steps = 0
        let context = { (state: String) -> JSON in
            [
                "Execution": [
                    "Id": .string("arn:<partition>:states:<region>:111111111111:execution:\(stateMachineName):<ExecArnPart_0idx>"),
                    "Input": input, "StartTime": startTime, "Name": "<ExecArnPart_0idx>", "RoleArn": "snf_role_arn",
                    "RedriveCount": 0,
                ],
                "StateMachine": [
                    "Id": .string("arn:<partition>:states:<region>:111111111111:stateMachine:\(stateMachineName)"),
                    "Name": .string(stateMachineName),
                ],
                "State": ["Name": .string(state), "EnteredTime": enteredTime],
            ]
        }
        while true {
            steps += 1
            if steps > 1000 { return .unsupported("loops") }
            guard let state = states[current] else { return .unsupported("missing state \(current)") }
            let entered = eventID
            let env = { (input: JSON) in
                EvaluationEnvironment(input: input, context: context(current), variables: variables, random: random)
            }
            do throws(Failure) {
                let type = state["Type"]!.stringValue!
                // InputPath
                var effective = value
                if let inputPath = state["InputPath"] {
                    if inputPath.isNull {
                        effective = [:]
                    } else {
                        let path = try compilePath(inputPath)
                        effective = try attempt { () throws(StatesError) in try path.evaluate(in: env(value)) }
                    }
                }
                switch type {
                case "Fail":
                    let error = try failField(state, "Error", env(effective))
                    let cause = try failField(state, "Cause", env(effective))
                    return .failed(error: error ?? "", cause: cause)
                case "Succeed":
                    var output = effective
                    if let outputPath = state["OutputPath"] {
                        let path = try compilePath(outputPath)
                        output = outputPath.isNull ? [:] : try attempt { () throws(StatesError) in try path.evaluate(in: env(effective)) }
                    }
                    return .succeeded(output)
                case "Choice":
                    var next: String? = state["Default"]?.stringValue
                    var assign = state["Assign"]
                    for (i, ruleJSON) in (state["Choices"]?.arrayValue ?? []).enumerated() {
                        let location = DefinitionLocation(["States", current, "Choices", String(i)])
                        let rule = try compile { () throws(ExpressionDiagnostics) in
                            try ChoiceRule(ruleJSON, location: location, isTopLevel: true)
                        }
                        if try attempt({ () throws(StatesError) in try rule.evaluate(in: env(effective)) }) {
                            next = ruleJSON["Next"]?.stringValue
                            if let a = ruleJSON["Assign"] { assign = a }
                            break
                        }
                    }
                    if let assign {
                        try applyAssign(assign, env(effective), &variables)
                    }
                    guard let next else { return .failed(error: StatesError.Name.noChoiceMatched, cause: nil) }
                    var output = effective
                    if let outputPath = state["OutputPath"] {
                        let path = try compilePath(outputPath)
                        output = outputPath.isNull ? [:] : try attempt { () throws(StatesError) in try path.evaluate(in: env(effective)) }
                    }
                    value = output
                    current = next
                default:  // Pass
                    var result = effective
                    if let parameters = state["Parameters"] {
                        let location = DefinitionLocation(["States", current, "Parameters"])
                        let template = try compile { () throws(ExpressionDiagnostics) in try PayloadTemplate(parameters, location: location) }
                        result = try attempt { () throws(StatesError) in try template.evaluate(in: env(effective)) }
                    } else if let r = state["Result"] {
                        result = r
                    }
                    if let assign = state["Assign"] {
                        try applyAssign(assign, env(result), &variables)
                    }
                    var output = result
                    if let resultPath = state["ResultPath"] {
                        if resultPath.isNull {
                            output = value
                        } else {
                            let path = try compile { () throws(JSONPathError) in try JSONPath(resultPath.stringValue ?? "") }
                            output = try attempt { () throws(StatesError) in try path.assigning(result, into: value) }
                        }
                    }
                    if let outputPath = state["OutputPath"] {
                        let path = try compilePath(outputPath)
                        output = outputPath.isNull ? [:] : try attempt { () throws(StatesError) in try path.evaluate(in: env(output)) }
                    }
                    value = output
                    if state["End"]?.boolValue == true { return .succeeded(value) }
                    guard let next = state["Next"]?.stringValue else { return .unsupported("no transition") }
                    current = next
                }
                eventID += 2
            } catch {
                switch error {
                case .states(let e):
                    let located = e.inState(current, enteredEventID: entered)
                    return .failed(error: located.name, cause: located.cause)
                case .definition(let d): return .unsupported("invalid definition: \(d)")
                }
            }
        }
    }

    enum Failure: Error {
        case states(StatesError)
        case definition(String)
    }

    static func compilePath(_ json: JSON) throws(Failure) -> PathExpression {
        let json = json.isNull ? "$" : json
        guard let text = json.stringValue, let p = try? PathExpression(text, allowIntrinsics: false) else {
            throw .definition("bad path \(json)")
        }
        return p
    }

    static func failField(_ state: JSON, _ name: String, _ env: EvaluationEnvironment) throws(Failure) -> String? {
        if let literal = state[name]?.stringValue { return literal }
        guard let text = state[name + "Path"]?.stringValue else { return nil }
        guard let p = try? PathExpression(text, allowIntrinsics: true) else { throw .definition("bad \(name)Path") }
        let value = try attempt { () throws(StatesError) in try p.evaluate(in: env, field: name + "Path") }
        return value.stringValue ?? value.serialized()
    }

    static func applyAssign(_ json: JSON, _ env: EvaluationEnvironment, _ variables: inout Variables) throws(Failure) {
        let template = try compile { () throws(ExpressionDiagnostics) in try PayloadTemplate(json, location: DefinitionLocation(["Assign"])) }
        guard case .object(let assigned) = try attempt({ () throws(StatesError) in try template.evaluate(in: env) }) else { return }
        for (k, v) in assigned { variables.own[k] = v }
    }
}

/// Runs `body`, turning a `StatesError` into the interpreter's failure.
private func attempt<T>(_ body: () throws(StatesError) -> T) throws(MiniInterpreter.Failure) -> T {
    do { return try body() } catch { throw .states(error) }
}

/// Compiles with `body`, turning definition errors into the interpreter's failure.
private func compile<T, E: Error>(_ body: () throws(E) -> T) throws(MiniInterpreter.Failure) -> T {
    do { return try body() } catch { throw .definition("\(error)") }
}
