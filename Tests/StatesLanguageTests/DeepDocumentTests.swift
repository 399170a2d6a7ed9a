import Testing
@testable import StatesLanguage

/// Every language over documents as deep as the JSON parser accepts (512 levels): a value
/// or a named error, never a crash, on a thread with half the daemon's stack in a debug
/// build (issue 14). Definitions, payload templates, JSONPath, intrinsic functions, Choice
/// rules, JSONata templates and event patterns all recurse over the JSON they are given.
@Suite struct DeepDocumentTests {
    /// Deep enough that the wrapping of each case stays within the JSON parser's limit.
    static let depth = 500

    static func deepInput(objects: Bool) -> JSON {
        objects ? ["a": DeepInputs.json(depth: depth, objects: true)] : ["a": DeepInputs.json(depth: depth)]
    }

    static func environment(_ input: JSON) -> EvaluationEnvironment {
        EvaluationEnvironment(input: input, context: ["State": ["Name": "S"]], variables: Variables(["v": input]))
    }

    /// The outcome of `body` on the test thread: "ok", or the error's description.
    static func outcome(_ body: @escaping () throws -> Void) -> String {
        onThread {
            do {
                try body()
                return "ok"
            } catch {
                return "\(error)"
            }
        }
    }

    // MARK: - Definitions

    /// A state machine nesting `levels` Parallel states (4 JSON levels each) or Map states
    /// (3 each), with a Pass state at the bottom.
    static func nestedMachine(_ kind: String, levels: Int) -> JSON {
        var machine: JSON = ["StartAt": "S", "States": ["S": ["Type": "Pass", "End": true]]]
        for _ in 0..<levels {
            let state: JSON = kind == "Parallel"
                ? ["Type": "Parallel", "Branches": [machine], "End": true]
                : ["Type": "Map", "ItemProcessor": machine, "End": true]
            machine = ["StartAt": "S", "States": ["S": state]]
        }
        return machine
    }

    @Test(arguments: ["Parallel", "Map"])
    func nestedParallelAndMapStatesParse(_ kind: String) throws {
        let levels = kind == "Parallel" ? 125 : 165
        let text = Self.nestedMachine(kind, levels: levels).serialized()
        let result = Self.outcome { _ = try StateMachineDefinition.parse(text) }
        #expect(result == "ok", "\(result.prefix(300))")
        // deeper than the JSON parser allows: a diagnostic, not a crash
        let deeper = Self.nestedMachine(kind, levels: levels * 2).serialized()
        let diagnostics = onThread { StateMachineDefinition.validate(deeper) }
        #expect(diagnostics.map(\.code) == ["INVALID_JSON_DESCRIPTION"], "\(diagnostics)")
    }

    /// Deep values in every field that holds one: a Pass state's Result, Parameters (payload
    /// templates), a nested Choice rule, Assign, and JSONata Output/Arguments templates.
    @Test(arguments: ["Result", "Parameters", "Choice Not", "Choice And", "Assign", "JSONata Output", "JSONata Assign"])
    func deepFieldsOfADefinitionParse(_ field: String) throws {
        let n = Self.depth
        let leafPath: JSON = ["x.$": "$.a"]
        let state: JSON
        var machine: [String: JSON] = ["StartAt": "S"]
        switch field {
        case "Result": state = ["Type": "Pass", "Result": DeepInputs.json(depth: n), "Next": "E"]
        case "Parameters": state = ["Type": "Pass", "Parameters": DeepInputs.json(depth: n, objects: true, leaf: leafPath), "Next": "E"]
        case "Choice Not", "Choice And":
            var rule: JSON = ["Variable": "$.a", "IsPresent": true]
            for _ in 0..<(field == "Choice Not" ? n : n / 2) {
                rule = field == "Choice Not" ? ["Not": rule] : ["And": [rule]]
            }
            guard case .object(var top) = rule else { return }
            top["Next"] = "E"
            state = ["Type": "Choice", "Choices": [.object(top)], "Default": "E"]
        case "Assign": state = ["Type": "Pass", "Assign": ["v": DeepInputs.json(depth: n, objects: true, leaf: "{% 1 %}")], "Next": "E"]
        case "JSONata Output":
            machine["QueryLanguage"] = "JSONata"
            state = ["Type": "Pass", "Output": DeepInputs.json(depth: n, objects: true, leaf: "{% $states.input %}"), "Next": "E"]
        default:
            machine["QueryLanguage"] = "JSONata"
            state = ["Type": "Pass", "Assign": ["v": DeepInputs.json(depth: n, objects: true, leaf: "{% $states.input %}")], "Next": "E"]
        }
        machine["States"] = ["S": state, "E": ["Type": "Succeed"]]
        let text = JSON.object(JSONObject(machine.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })).serialized()
        let result = Self.outcome { _ = try StateMachineDefinition.parse(text) }
        #expect(result == "ok", "\(field): \(result.prefix(300))")
    }

    // MARK: - Expressions over deep input

    @Test(arguments: [
        "$..a", "$..*", "$..[0]", "$.a..a", "$..[?(@.a)]", "$.a[*]", "$", "$.a['a']",
    ])
    func jsonPathOverDeepInput(_ path: String) throws {
        for objects in [true, false] {
            let input = Self.deepInput(objects: objects)
            let result = Self.outcome { _ = try JSONPath(path).evaluate(input) }
            #expect(result == "ok", "\(path): \(result.prefix(300))")
        }
    }

    @Test(arguments: [
        "States.JsonToString($)", "States.JsonMerge($, $, true)", "States.JsonMerge($, $, false)",
        "States.ArrayContains(States.Array($, $), $)", "States.ArrayUnique(States.Array($, $))",
        "States.ArrayLength(States.Array($, $))", "States.Array($v, $)", "States.Format('{}', $.b)",
        "States.StringToJson(States.JsonToString($))", "States.ArrayPartition(States.Array($, $, $), 2)",
        "States.Hash(States.JsonToString($), 'SHA-256')", "States.Base64Encode(States.JsonToString($))",
    ])
    func intrinsicsOverDeepInput(_ call: String) throws {
        for objects in [true, false] {
            let env = Self.environment(Self.deepInput(objects: objects))
            let result = Self.outcome { _ = try PathExpression(call, allowIntrinsics: true).evaluate(in: env, field: "f.$") }
            #expect(result == "ok" || result.hasPrefix("States."), "\(call): \(result.prefix(300))")
        }
    }

    @Test func payloadTemplatesOverDeepInput() throws {
        let template = DeepInputs.json(depth: Self.depth, objects: true, leaf: ["all.$": "$", "some.$": "$..a", "v.$": "$v"])
        let input = Self.deepInput(objects: true)
        let result = Self.outcome {
            let t = try PayloadTemplate(template, location: DefinitionLocation(["States", "S", "Parameters"]))
            _ = try t.evaluate(in: Self.environment(input))
        }
        #expect(result == "ok", "\(result.prefix(300))")
    }

    @Test(arguments: ["Not", "And", "Or"])
    func choiceRulesNestedDeep(_ combinator: String) throws {
        var rule: JSON = ["Variable": "$.a", "IsPresent": true]
        for _ in 0..<(combinator == "Not" ? Self.depth : Self.depth / 2) {
            rule = combinator == "Not" ? ["Not": rule] : [combinator: [rule]]
        }
        let input = Self.deepInput(objects: true)
        let result = Self.outcome {
            let r = try ChoiceRule(rule, location: DefinitionLocation(["States", "C", "Choices", "0"]), isTopLevel: false)
            _ = try r.evaluate(in: Self.environment(input))
        }
        #expect(result == "ok", "\(result.prefix(300))")
    }

    @Test(arguments: ["$states.input", "$string($states.input)", "$states.input.**", "$states.input = $states.input"])
    func jsonataTemplatesOverDeepInput(_ expression: String) throws {
        let template = DeepInputs.json(depth: Self.depth, objects: true, leaf: .string("{% \(expression) %}"))
        for objects in [true, false] {
            let input = Self.deepInput(objects: objects)
            let result = Self.outcome {
                let t = try JSONataTemplate(template)
                do {
                    _ = try t.evaluate(field: "Output", input: input, bindings: ["states": ["input": input]], options: .stepFunctions())
                } catch let error as JSONataTemplate.EvaluationError {
                    // the result nests deeper than the output limit: a named error
                    #expect(error.message.contains("U1001"), "\(error.message.prefix(300))")
                }
            }
            #expect(result == "ok", "\(expression): \(result.prefix(300))")
        }
    }

    // MARK: - Long paths

    /// Paths are strings, not JSON: nothing bounds their number of steps but their length.
    @Test(arguments: [
        String(repeating: ".a", count: 20_000), String(repeating: "['a']", count: 20_000), String(repeating: "[0]", count: 20_000),
        String(repeating: "[?(@)]", count: 20_000), String(repeating: "[*]", count: 20_000), String(repeating: "..a", count: 2), String(repeating: "[?(@)]", count: 500),
        String(repeating: ".a", count: 20_000) + ".length()", String(repeating: "['a','b']", count: 20_000),
    ])
    func longJSONPaths(_ steps: String) throws {
        for objects in [true, false] {
            let input = Self.deepInput(objects: objects)
            let result = Self.outcome {
                let path: JSONPath
                do {
                    path = try JSONPath("$" + steps)
                } catch let error as JSONPathError {
                    #expect(error.message.contains("steps"), "\(error)")
                    return
                }
                _ = path.evaluate(input)
                _ = try? path.assigning(1, into: input)
                _ = try? PathExpression("$" + steps, allowIntrinsics: true).evaluate(in: Self.environment(input), field: "f.$")
            }
            #expect(result == "ok", "\(steps.prefix(20)): \(result.prefix(300))")
        }
    }

    @Test func longResultPathAndInputTransformerPaths() throws {
        let steps = String(repeating: ".a", count: 20_000)
        let machine: JSON = ["StartAt": "S", "States": ["S": ["Type": "Pass", "ResultPath": .string("$" + steps), "End": true]]]
        let text = machine.serialized()
        let diagnostics = onThread { StateMachineDefinition.validate(text) }
        #expect(diagnostics.contains { $0.message.contains("ResultPath") }, "\(diagnostics.prefix(3))")
        let result = Self.outcome {
            do {
                let t = try InputTransformer(pathsMap: ["deep": "$" + steps], template: #"{"deep": <deep>}"#)
                _ = try t.apply(to: TransformInput(value: Self.deepInput(objects: true), topic: "t"))
            } catch let error as InputTransformerError {
                #expect(error.reason.contains("steps") || error.reason.contains("path"), "\(error)")
            }
        }
        #expect(result == "ok", "\(result.prefix(300))")
    }

    // MARK: - Event patterns

    @Test func eventPatternsAndEventsNestedDeep() throws {
        let n = Self.depth
        let pattern = DeepInputs.json(depth: n, objects: true, leaf: ["x"]).serialized()
        let prefixPattern = DeepInputs.json(depth: n, objects: true, leaf: [["prefix": "x"]]).serialized()
        var orPattern: JSON = ["a": ["x"]]
        for _ in 0..<(n / 3) { orPattern = ["$or": [orPattern, ["b": ["y"]]]] }
        let events = [
            DeepInputs.json(depth: n, objects: true, leaf: "x").serialized(),
            DeepInputs.json(depth: n, objects: false, leaf: "x").serialized(),
            JSON.object(["a": DeepInputs.json(depth: n - 1, objects: false, leaf: ["a": "x"])]).serialized(),
        ]
        for text in [pattern, prefixPattern, orPattern.serialized()] {
            let result = Self.outcome {
                let p: EventPattern
                do {
                    p = try EventPattern(text: text)
                } catch let error as InvalidEventPatternError {
                    // too complex for EventBridge: a named error
                    #expect(error.reason.contains("complex"), "\(error)")
                    return
                }
                for e in events { _ = try p.matches(eventText: e) }
                let matcher = RuleMatcher([(rule: 1, pattern: p)])
                for e in events { _ = try matcher.matchingRules(forEventText: e) }
            }
            #expect(result == "ok", "\(text.prefix(60)): \(result.prefix(300))")
        }
    }

    @Test func inputTransformerOverDeepEvent() throws {
        let value = DeepInputs.json(depth: Self.depth, objects: true, leaf: "x")
        let result = Self.outcome {
            let t = try InputTransformer(pathsMap: ["all": "$", "deep": "$.a.a.a"], template: #"{"all": <all>, "deep": <deep>}"#)
            _ = try t.apply(to: TransformInput(value: value, topic: "t", partition: 0, offset: 0, ruleName: "r", ruleARN: "arn"))
        }
        #expect(result == "ok", "\(result.prefix(300))")
    }
}
