import Foundation
import StatesEngine
import StatesLanguage
import Testing

/// The ASL conformance corpus (`../shared/conformance/asl`): cases recorded on AWS, each its
/// own test case, reported by its id.
///
/// Every `execution` case runs in-process on a virtual clock. Pure cases (no `needs`)
/// answer nothing; cases whose `needs` name services get a test double that answers each
/// Task with the result AWS recorded for it (`TaskSucceeded`/`TaskFailed`/... in recorded
/// order). `create_error` and `validate` cases check the definition, `test_state` cases go
/// through `TestStateRunner`. Results are compared by the corpus's own `run.py`
/// (normalisation and comparison) through `Tests/Conformance/asl_compare.py`, once for the
/// whole corpus (one Python process); each case then checks its own verdict.
///
/// The cases expected to fail are listed below by id, with the reason: a case that fails
/// without being listed, or passes while listed, fails the run.
struct ASLConformanceTests {
    static let absent: Comment = "../shared/conformance/asl is absent next to this checkout (or under STEPLINE_SHARED_DIR): corpus skipped"

    /// JSONPath executions without services: status, output, error and cause, and the
    /// full history.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.jsonPath))
    func jsonPathExecution(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: true, expectedFailures: Self.executionFailures)
    }

    /// JSONata executions without services: status, output, error and cause, and the full
    /// history.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.jsonata))
    func jsonataExecution(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: true, expectedFailures: Self.executionFailures)
    }

    /// Executions calling services, answered from the results AWS recorded: status, output,
    /// error and cause.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.services))
    func executionWithRecordedServices(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: false, expectedFailures: Self.executionFailures)
    }

    /// CreateStateMachine rejects the definition: the error code.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.createError))
    func createError(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: false, expectedFailures: [:])
    }

    /// ValidateStateMachineDefinition: the result.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.validate))
    func validate(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: false, expectedFailures: [:])
    }

    /// TestState requests, in-process: status, output, error and cause (exceptions by code).
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.testState))
    func testState(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: false, expectedFailures: Self.testStateFailures)
    }

    /// TestState requests, in-process: the whole response (inspection data included).
    @Test(.enabled(if: ASLCorpus.isAvailable, absent), arguments: ASLCorpus.cases(.testState))
    func testStateWholeResponse(_ c: ASLCase) async {
        await ASLCorpus.expect(c, strict: true, expectedFailures: Self.testStateWholeResponseFailures)
    }

    /// The cases that do not run in-process; `ASLCase.notRunReason` gives the reason of each.
    @Test(.disabled("not run in-process: API-level cases, time-dependent inputs, asynchronous EXPRESS executions, unrecorded service results (ASLCase.notRunReason)"),
          arguments: ASLCorpus.cases(.notRun))
    func notRunInProcess(_ c: ASLCase) {}

    /// Every case file reads as a JSON case.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent))
    func everyCaseReads() {
        #expect(ASLCorpus.all.count > 1000)
        for c in ASLCorpus.all where c.json["unreadable"] != nil { Issue.record("\(c.id): \(c.notRunReason ?? "")") }
    }

    /// Every case listed as expected to fail is a case of the corpus, in the test that lists it.
    @Test(.enabled(if: ASLCorpus.isAvailable, absent))
    func expectedFailuresAreCorpusCases() {
        let executions = Set([ASLCase.Group.jsonPath, .jsonata, .services].flatMap { ASLCorpus.cases($0) }.map(\.id))
        let testStates = Set(ASLCorpus.cases(.testState).map(\.id))
        for id in Self.executionFailures.keys where !executions.contains(id) { Issue.record("\(id) is not an execution case of the corpus") }
        for id in Self.testStateFailures.keys where !testStates.contains(id) { Issue.record("\(id) is not a TestState case of the corpus") }
        for id in Self.testStateWholeResponseFailures.keys where !testStates.contains(id) {
            Issue.record("\(id) is not a TestState case of the corpus")
        }
    }

    /// Executions expected to fail (for the pure ones, on the full history too), by id, with
    /// the reason. None today.
    static let executionFailures: [String: String] = [:]

    /// TestState cases expected to fail on status, output, error or cause, by id, with the
    /// reason.
    static let testStateFailures: [String: String] = {
        let memorySize = "botocore's Lambda model, which Stepline checks mocks against, now allows a MemorySize up to 32768; "
            + "AWS's TestState checked 10240 when it was recorded (2025-12)"
        let mapItemsPath = "a mocked Map does not evaluate its ItemsPath, which AWS fails when it selects no array"
        let callsLambda = "no mock, so AWS calls Lambda; Stepline's TestState does not call services"
        let noRoleArn = "recorded without a roleArn (the context shows \"RoleArn\": null); the runner always sends one"
        let fieldValidation = "test_state.test_field_validation_mode"
        let context = "test_state.test_state_context_object.TestStateContextObject.test_state_map_context_object"
        let scenarios = "test_state.test_test_state_scenarios.TestStateCaseScenarios"
        return [
            "\(fieldValidation).TestFieldValidationMode.test_strict_mode_aws_sdk_lambda_get_function_task.integer_more_than_maximum_allowed_914d1a31":
                memorySize,
            "\(fieldValidation)_present.TestFieldValidationModePresent.test_present_mode_aws_sdk_lambda_get_function_task.integer_more_than_maximum_allowed_914d1a31":
                memorySize,
            "\(context).ALL_4cfb91e2": mapItemsPath,
            "\(context).EXECUTION_INPUT_813be74b": mapItemsPath,
            "\(scenarios).test_base_lambda_service_task_state.DEBUG_1d4974f5": callsLambda,
            "\(scenarios).test_base_lambda_service_task_state.INFO_07e6c5cc": callsLambda,
            "\(scenarios).test_base_lambda_service_task_state.TRACE_ccc5ea75": callsLambda,
            "\(scenarios).test_base_lambda_task_state.DEBUG_1d4974f5": callsLambda,
            "\(scenarios).test_base_lambda_task_state.INFO_07e6c5cc": callsLambda,
            "\(scenarios).test_base_lambda_task_state.TRACE_ccc5ea75": callsLambda,
            "\(scenarios).test_state_with_variables.base_expressions_9b00ed35": noRoleArn,
        ]
    }()

    /// TestState cases expected to differ in the whole response (inspection data included),
    /// by id, with the reason: the ones above, and these.
    static let testStateWholeResponseFailures: [String: String] = {
        let mapInspection = "the inspection data of a mocked Map: Stepline leaves out fields AWS reports "
            + "(maxConcurrency, toleratedFailureCount/Percentage, afterInputPath, afterItemsPath, errorDetails)"
        let compactText = "a mocked Map or Parallel result as text: AWS writes a space after each comma and colon "
            + "(`[1, 1, 1]`), Stepline compact JSON (`[1,1,1]`); the values are equal"
        let configuration = "test_state.test_state_configuration.TestStateConfiguration"
        let context = "test_state.test_state_context_object.TestStateContextObject.test_state_map_context_object"
        let scenarios = "test_state.test_test_state_scenarios.TestStateCaseScenarios"
        let mockScenarios = "test_state.test_test_state_mock_scenarios.TestStateMockScenarios"
        let more: [String: String] = [
            "\(configuration).test_map_state_error_caused_by_state.DEBUG_1d4974f5": mapInspection,
            "\(configuration).test_map_state_error_caused_by_state.TRACE_ccc5ea75": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-BASE_MAP_STATE_CATCH_6ca1b9d2__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-BASE_MAP_STATE_CATCH_6ca1b9d2__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-BASE_MAP_STATE_RETRY_a5bcf00a__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-BASE_MAP_STATE_RETRY_a5bcf00a__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-BASE_MAP_STATE_ca3d36f9__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-BASE_MAP_STATE_ca3d36f9__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-MAP_TASK_STATE_a4ad175f__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.DEBUG-MAP_TASK_STATE_a4ad175f__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.INFO-BASE_MAP_STATE_CATCH_df911ff3__below_tolerated_failure": compactText,
            "\(configuration).test_map_state_failure_count.INFO-BASE_MAP_STATE_RETRY_d9a09c18__below_tolerated_failure": compactText,
            "\(configuration).test_map_state_failure_count.TRACE-BASE_MAP_STATE_CATCH_5f680e6d__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-BASE_MAP_STATE_CATCH_5f680e6d__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-BASE_MAP_STATE_RETRY_01ca0390__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-BASE_MAP_STATE_RETRY_01ca0390__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-BASE_MAP_STATE_d069d9ec__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-BASE_MAP_STATE_d069d9ec__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-MAP_TASK_STATE_ebcfbf69__below_tolerated_failure": mapInspection,
            "\(configuration).test_map_state_failure_count.TRACE-MAP_TASK_STATE_ebcfbf69__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_state_configuration_map_iteration_failure_count_with_state_error.DEBUG_1d4974f5__below_tolerated_failure": mapInspection,
            "\(configuration).test_state_configuration_map_iteration_failure_count_with_state_error.DEBUG_1d4974f5__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_state_configuration_map_iteration_failure_count_with_state_error.TRACE_ccc5ea75__below_tolerated_failure": mapInspection,
            "\(configuration).test_state_configuration_map_iteration_failure_count_with_state_error.TRACE_ccc5ea75__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_configuration_item_reader_with_error.DEBUG_1d4974f5__below_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_configuration_item_reader_with_error.DEBUG_1d4974f5__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_configuration_item_reader_with_error.TRACE_ccc5ea75__below_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_configuration_item_reader_with_error.TRACE_ccc5ea75__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_configuration_map_iteration_item_reader.DEBUG_1d4974f5": mapInspection,
            "\(configuration).test_state_machine_configuration_map_iteration_item_reader.INFO_07e6c5cc": compactText,
            "\(configuration).test_state_machine_configuration_map_iteration_item_reader.TRACE_ccc5ea75": mapInspection,
            "\(configuration).test_state_machine_with_state_error.DEBUG_1d4974f5__below_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_with_state_error.DEBUG_1d4974f5__exceeds_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_with_state_error.TRACE_ccc5ea75__below_tolerated_failure": mapInspection,
            "\(configuration).test_state_machine_with_state_error.TRACE_ccc5ea75__exceeds_tolerated_failure": mapInspection,
            "\(context).EXECUTION_INPUT_VALUES_adaae532": mapInspection,
            "\(mockScenarios).test_base_parallel_state_mock_success.DEBUG_1d4974f5": compactText,
            "\(mockScenarios).test_base_parallel_state_mock_success.INFO_07e6c5cc": compactText,
            "\(mockScenarios).test_base_parallel_state_mock_success.TRACE_ccc5ea75": compactText,
            "\(scenarios).test_base_map_state_inspect.MAX_CONCURRENCY-DEBUG_cf5931fb": mapInspection,
            "\(scenarios).test_base_map_state_inspect.MAX_CONCURRENCY-TRACE_9c192391": mapInspection,
            "\(scenarios).test_base_map_state_inspect.TOLERATED_FAILURE_COUNT-DEBUG_2c295d62": mapInspection,
            "\(scenarios).test_base_map_state_inspect.TOLERATED_FAILURE_COUNT-TRACE_770fd7bb": mapInspection,
            "\(scenarios).test_base_map_state_inspect.TOLERATED_FAILURE_PERCENTAGE-DEBUG_56ca5fde": mapInspection,
            "\(scenarios).test_base_map_state_inspect.TOLERATED_FAILURE_PERCENTAGE-TRACE_46209985": mapInspection,
        ]
        return testStateFailures.merging(more) { first, _ in first }
    }()
}

/// One case of the corpus, reported by its id.
struct ASLCase: Sendable, Identifiable, CustomTestStringConvertible {
    enum Group: Sendable {
        case jsonPath, jsonata, services, createError, validate, testState, notRun
    }

    let id: String
    let json: JSON
    /// Why the case does not run in-process, if it does not.
    let notRunReason: String?
    let group: Group

    init(id: String, json: JSON) {
        self.id = id
        self.json = json
        let run = ConformanceRun(json)
        let kind = json["kind"]?.stringValue ?? ""
        switch kind {
        case "execution", "create_error", "validate": notRunReason = run.skipReason
        case "test_state": notRunReason = nil
        case "describe_state_machine": notRunReason = "the DescribeStateMachine response: an API-level case (run.py --endpoint)"
        case _ where json["unreadable"] != nil: notRunReason = "unreadable: \(json["unreadable"]?.stringValue ?? "")"
        default: notRunReason = "kind '\(kind)' is not run in-process"
        }
        switch kind {
        case _ where notRunReason != nil: group = .notRun
        case "execution": group = run.needs.isEmpty ? (run.usesJSONata ? .jsonata : .jsonPath) : .services
        case "create_error": group = .createError
        case "validate": group = .validate
        default: group = .testState
        }
    }

    var testDescription: String { id }
    var kind: String { json["kind"]?.stringValue ?? "" }
    var run: ConformanceRun { ConformanceRun(json) }
}

/// The corpus, read once, and its verdicts, computed once for every case.
enum ASLCorpus {
    static let directory = SharedCorpus.directory("conformance/asl/cases")
    static var isAvailable: Bool { directory != nil }

    /// Every case, sorted by id (empty when the corpus is absent).
    static let all: [ASLCase] = {
        guard let dir = directory, let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return files.filter { $0.hasSuffix(".json") }.sorted().map { file in
            do {
                let json = try JSON.parse(String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8))
                return ASLCase(id: json["id"]?.stringValue ?? file, json: json)
            } catch {
                return ASLCase(id: file, json: ["unreadable": .string("\(error)")])
            }
        }
    }()

    static let groups: [ASLCase.Group: [ASLCase]] = Dictionary(grouping: all, by: \.group)

    static func cases(_ group: ASLCase.Group) -> [ASLCase] { groups[group] ?? [] }

    struct Verdict: Sendable {
        /// Status, output, error and cause (or the kind's default fields).
        var pass: Bool
        /// Also the full history, the messages, the whole TestState response.
        var strict: Bool
        var diffs: String
    }

    /// Every case run through the engine, then compared by one `asl_compare.py` process.
    /// A task, so the test cases waiting for it suspend instead of blocking threads.
    static let verdicts = Task<Result<[String: Verdict], ComparisonError>, Never> {
        guard let dir = directory else { return .failure(ComparisonError(message: "corpus absent")) }
        var lines: [String] = []
        for c in all {
            let result: JSON
            switch c.group {
            case .jsonPath, .jsonata, .services: result = c.run.executionResult()
            case .createError: result = c.run.validationResult(kind: "create_error")
            case .validate: result = c.run.validationResult(kind: "validate")
            case .testState: result = c.run.testStateResult()
            case .notRun: continue
            }
            lines.append(JSON.object(["id": .string(c.id), "result": result]).serialized())
        }
        do {
            var out: [String: Verdict] = [:]
            for v in try SharedCorpus.compare(cases: dir, lines: lines) {
                guard let id = v["id"]?.stringValue else { continue }
                let diffs = (v["diffs"]?.objectValue ?? [:]).map { "\($0.key): \($0.value.stringValue ?? $0.value.serialized())" }
                out[id] = Verdict(pass: v["pass"]?.boolValue ?? false, strict: v["strict"]?.boolValue ?? false,
                                  diffs: diffs.joined(separator: "\n"))
            }
            return .success(out)
        } catch let error as ComparisonError {
            return .failure(error)
        } catch {
            return .failure(ComparisonError(message: "\(error)"))
        }
    }

    struct ComparisonError: Error, Sendable {
        var message: String
    }

    /// Checks one case's verdict: `strict` also requires what `run.py --strict` compares.
    static func expect(_ c: ASLCase, strict: Bool, expectedFailures: [String: String],
                       sourceLocation: SourceLocation = #_sourceLocation) async
    {
        let verdict: Verdict
        switch await verdicts.value {
        case .failure(let error):
            Issue.record("no verdicts: \(error.message)", sourceLocation: sourceLocation)
            return
        case .success(let all):
            guard let v = all[c.id] else {
                Issue.record("asl_compare.py gave no verdict for \(c.id)", sourceLocation: sourceLocation)
                return
            }
            verdict = v
        }
        let passed = strict ? verdict.strict : verdict.pass
        expectCase(c.id, failure: passed ? nil : "differs from AWS:\n\(verdict.diffs)", expectedFailures: expectedFailures,
                   sourceLocation: sourceLocation)
    }
}

/// One corpus case run through the engine.
struct ConformanceRun {
    let c: JSON
    init(_ c: JSON) { self.c = c }

    var id: String { c["id"]?.stringValue ?? "" }
    var needs: [String] { c["needs"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    var usesJSONata: Bool {
        guard let d = c["definition"] else { return false }
        return d.serialized().contains("\"QueryLanguage\":\"JSONata\"")
    }

    var group: String { needs.isEmpty ? (usesJSONata ? "jsonata-pure" : "jsonpath-pure") : "recorded" }

    /// Why the case cannot run in-process at all, if it cannot.
    var skipReason: String? {
        if c["time_dependent"]?.boolValue == true { return "time-dependent input (frozen 'now' at recording)" }
        if c["kind"]?.stringValue == "execution", c["state_machine_type"]?.stringValue == "EXPRESS",
            c["execution_mode"]?.stringValue != "sync"
        {
            return "asynchronous EXPRESS execution: no history API on AWS"
        }
        if c["kind"]?.stringValue == "execution", c["definition_is_text"]?.boolValue == true || c["input_is_text"]?.boolValue == true {
            return "definition or input given as raw text (an API-level case)"
        }
        if needs.contains("stop_execution") { return "needs StopExecution during the run (an API-level case)" }
        if !needs.isEmpty, c["expected"]?["history"] == nil {
            return "calls services but AWS recorded no history to answer its tasks from"
        }
        if !needs.isEmpty, c["expected"]?["output"]?.serialized().contains("x-amzn-RequestId") == true {
            return "run.py normalises the request ids inside the output to a placeholder that the expected output does not use: no engine can match it"
        }
        if c["kind"]?.stringValue == "create_error", c["expected"]?["create_error"]?["code"]?.stringValue != "InvalidDefinition" {
            return "an API-level check (\(c["expected"]?["create_error"]?["code"]?.stringValue ?? "")), run by the API conformance tests"
        }
        let definition = c["definition"]?.serialized() ?? ""
        if definition.contains("\"ItemReader\"") || definition.contains("\"ResultWriter\"") {
            return "reads or writes S3 objects (ItemReader/ResultWriter); the recorded history does not hold their contents"
        }
        let history = c["expected"]?["history"]?.serialized() ?? ""
        if !needs.isEmpty, history.contains("\"MapRunStarted\"") {
            return "Distributed Map child executions call services; their results are not in the parent's recorded history"
        }
        return nil
    }

    /// `recorded_date` ("21-09-2023, 14:07:17", UTC) in epoch milliseconds.
    var recordedStartTime: Int64? {
        guard let text = c["recorded_date"]?.stringValue else { return nil }
        let parts = text.split(whereSeparator: { ", -:".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: parts[2], month: parts[1], day: parts[0], hour: parts[3], minute: parts[4],
                                        second: parts[5])
        guard let date = calendar.date(from: components) else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    var definitionText: String {
        if let s = c["definition"]?.stringValue { return s }
        return c["definition"]?.serialized() ?? "{}"
    }

    func executionResult() -> JSON {
        let machineName = "statemachine_" + String(UInt64(bitPattern: Int64(id.hashValue)) % 1_000_000_000_000, radix: 16)
        let executionName = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
        var result = JSONObject()
        result["bindings"] = ["state_machine_name": .string(machineName), "execution_name": .string(executionName)]
        result["account"] = "111111111111"
        result["region"] = "us-east-1"
        result["partition"] = "aws"
        let type: DefinitionOptions.MachineType = c["state_machine_type"]?.stringValue == "EXPRESS" ? .express : .standard
        let definition: StateMachineDefinition
        do {
            definition = try StateMachineDefinition.parse(definitionText, options: DefinitionOptions(machineType: type))
        } catch {
            result["engine_error"] = .string("create_state_machine failed: \(error.message)")
            return .object(result)
        }
        var info = ExecutionInfo.make(
            stateMachineName: machineName, executionName: executionName, account: "111111111111",
            roleArn: c["role_arn"]?.stringValue, type: type == .express ? .express : .standard,
            expressID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
        info.roleArn = c["role_arn"]?.stringValue
        let runner = LocalRunner(random: RandomSource(seed: 7))
        var handler = RecordedTaskHandler(history: c["expected"]?["history"]?.arrayValue ?? [])
        // The execution starts when AWS ran it (the recording date): AWS's histories changed
        // over time (DistributedMapHistoryTests), and the engine follows its start time.
        let start: Int64 = recordedStartTime ?? 1_735_689_600_000
        let outcome = runner.run(definition: definition, info: info, input: c["input"] ?? [:], startTime: start, handler: &handler)
        let state = outcome.state
        result["status"] = .string(state.status.rawValue)
        var describe = JSONObject()
        describe["executionArn"] = .string(info.executionArn)
        describe["stateMachineArn"] = .string(info.stateMachineArn)
        describe["name"] = .string(info.name)
        describe["status"] = .string(state.status.rawValue)
        if let output = state.output { describe["output"] = .string(output.serialized()) }
        if let e = state.error {
            if !e.name.isEmpty { describe["error"] = .string(e.name) }
            if let cause = e.cause { describe["cause"] = .string(cause) }
        }
        if c["execution_mode"]?.stringValue == "sync" {
            result["sync"] = .object(describe)
            result["bindings"] = ["state_machine_name": .string(machineName), "execution_name": .string(executionName),
                                  "execution_id": .string(String(info.executionArn.split(separator: ":").last ?? ""))]
        } else {
            result["describe"] = .object(describe)
            result["history"] = .array(outcome.events.filter { !$0.isInternal }.map { $0.awsJSON() })
        }
        if outcome.isStuck { result["engine_error"] = "execution did not end" }
        return .object(result)
    }

    /// A `test_state` case: the request as `run.py` sends it (the definition as text, a role
    /// ARN when the case has none), answered by `TestStateRunner` as the API would.
    func testStateResult() -> JSON {
        var request = c["request"]?.objectValue ?? [:]
        if let d = request["definition"], d.stringValue == nil { request["definition"] = .string(d.serialized()) }
        request.removeValue(forKey: "definition_is_text")
        if request["roleArn"] == nil { request["roleArn"] = "arn:aws:iam::111111111111:role/asl-conformance" }
        var result = JSONObject()
        result["account"] = "111111111111"
        result["region"] = "us-east-1"
        do {
            result["test_state"] = try TestStateRunner.run(request, now: 1_735_689_600_000)
        } catch {
            result["test_state_error"] = ["code": .string(error.type), "message": .string(error.message)]
        }
        return .object(result)
    }

    func validationResult(kind: String) -> JSON {
        let type: DefinitionOptions.MachineType = c["state_machine_type"]?.stringValue == "EXPRESS" ? .express : .standard
        var result = JSONObject()
        result["bindings"] = ["state_machine_name": "statemachine_conformance"]
        if kind == "validate" {
            let diagnostics = StateMachineDefinition.validate(definitionText, options: DefinitionOptions(machineType: type))
            let items: [JSON] = diagnostics.map { d in
                var o = JSONObject()
                o["code"] = .string(d.code)
                if let l = d.location { o["location"] = .string(l) }
                o["message"] = .string(d.message)
                o["severity"] = .string(d.severity.rawValue)
                return .object(o)
            }
            let ok = !diagnostics.contains { $0.severity == .error }
            result["validate"] = ["result": .string(ok ? "OK" : "FAIL"), "diagnostics": .array(items), "truncated": false]
        } else {
            // create_error cases: CreateStateMachine checks the definition (API-level checks
            // such as logging configuration come with the API).
            do {
                _ = try StateMachineDefinition.parse(definitionText, options: DefinitionOptions(machineType: type))
            } catch {
                result["create_error"] = ["code": "InvalidDefinition", "message": .string(error.message)]
            }
        }
        return .object(result)
    }
}

/// Answers each task with the outcome AWS recorded for it, in recorded order.
struct RecordedTaskHandler: TaskHandler {
    var outcomes: [TaskOutcome] = []
    var next = 0

    init(history: [JSON]) {
        var open: [Int] = []  // indexes of scheduled tasks awaiting a result
        func payload(_ v: JSON?) -> JSON {
            guard let v else { return .null }
            if let s = v.stringValue, let parsed = try? JSON.parse(s) { return parsed }
            return v
        }
        /// Causes that were JSON were parsed by the corpus's normalisation; Lambda functions
        /// called directly report Python's `json.dumps` text (`", "`, `": "`), integrations
        /// report compact JSON.
        func text(_ v: JSON?, pythonStyle: Bool) -> String? {
            guard let v, !v.isNull else { return nil }
            if let s = v.stringValue { return s }
            return pythonStyle ? Self.pythonJSON(v) : v.serialized()
        }
        // Parallel events are sorted by the corpus's normalisation, so a result may come
        // before its TaskScheduled: such results wait for the next scheduled task.
        var early: [TaskOutcome.Result?] = []
        func deliver(_ result: TaskOutcome.Result?) {
            if open.isEmpty {
                early.append(result)
            } else {
                outcomes[open.removeFirst()].result = result
            }
        }
        for e in history {
            guard let type = e["type"]?.stringValue else { continue }
            let details = e.objectValue?.first(where: { $0.key.hasSuffix("EventDetails") })?.value ?? [:]
            switch type {
            case "TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled":
                outcomes.append(TaskOutcome(result: nil))
                if !early.isEmpty {
                    outcomes[outcomes.count - 1].result = early.removeFirst()
                } else {
                    open.append(outcomes.count - 1)
                }
            case "TaskSubmitted":
                if let i = open.first { outcomes[i].submitted = payload(details["output"]) }
            case "TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded":
                deliver(.succeeded(payload(details["output"])))
            case "TaskFailed", "LambdaFunctionFailed", "ActivityFailed", "TaskStartFailed", "TaskSubmitFailed",
                "LambdaFunctionStartFailed", "LambdaFunctionScheduleFailed", "ActivityScheduleFailed":
                let python = type.hasPrefix("LambdaFunction")
                deliver(.failed(error: text(details["error"], pythonStyle: python), cause: text(details["cause"], pythonStyle: python)))
            case "TaskTimedOut", "LambdaFunctionTimedOut", "ActivityTimedOut":
                deliver(nil)
            default:
                continue
            }
        }
    }

    static func pythonJSON(_ v: JSON) -> String {
        switch v {
        case .array(let a): return "[" + a.map(pythonJSON).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.map { JSONStringFormat.quoted($0.key) + ": " + pythonJSON($0.value) }.joined(separator: ", ") + "}"
        default: return v.serialized()
        }
    }

    mutating func handle(_ request: TaskRequest) -> TaskOutcome {
        defer { next += 1 }
        guard next < outcomes.count else { return .failed("Conformance.NoRecordedOutcome", "no recorded outcome left") }
        return outcomes[next]
    }
}

extension SharedCorpus {
    /// Runs `Tests/Conformance/asl_compare.py` over the results; one verdict per line.
    static func compare(cases: URL, lines: [String]) throws -> [JSON] {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("stepline-asl-\(UUID().uuidString).jsonl")
        let errors = tmp.appendingPathExtension("stderr")
        try lines.joined(separator: "\n").write(to: tmp, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: tmp)
            try? FileManager.default.removeItem(at: errors)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/Conformance/asl_compare.py").path, cases.path, tmp.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw ASLCorpus.ComparisonError(
                message: "asl_compare.py exited with \(process.terminationStatus): \(stderr.suffix(2000))")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }
}
