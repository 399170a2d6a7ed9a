/// The per-type parts of `DefinitionParser`.
extension DefinitionParser {
    mutating func parsePass(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext) -> State.Kind? {
        parseIO(&r, &io, &ctx, inputOutputPath: true, parameters: true, resultPath: true, assign: true)
        var result: JSON? = nil
        if !ctx.isJSONata { result = r.take("Result") }
        return .pass(PassState(result: result))
    }

    mutating func parseTask(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext) -> State.Kind? {
        parseIO(&r, &io, &ctx, inputOutputPath: true, parameters: true, resultSelector: true, resultPath: true,
                arguments: true, assign: true)
        guard let resourceJSON = r.take("Resource") else {
            report("These fields are required: [Resource]", at: ctx.location)
            return nil
        }
        let at = ctx.location.appending("Resource")
        guard let arn = resourceJSON.stringValue else {
            report("Expected value of type: String", at: at)
            return nil
        }
        guard let resource = TaskResource(arn), ServiceIntegrations.isRecognised(resource) else {
            report("The resource provided \(arn) is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.", at: at)
            return nil
        }
        if options.machineType == .express {
            if case .activity = resource.kind {
                report("Express state machine does not support Activity ARN", at: at)
            }
            switch resource.pattern {
            case .sync, .sync2: report("Express state machine does not support '.sync' service integration", at: at)
            case .waitForTaskToken: report("Express state machine does not support '.waitForTaskToken' service integration ", at: at)
            case .requestResponse: break
            }
        }
        let timeout = dynamicNumber(&r, "TimeoutSeconds", ctx, minimum: 1, maximum: 99_999_999)
        let heartbeat = dynamicNumber(&r, "HeartbeatSeconds", ctx, minimum: 1, maximum: 99_999_999)
        if case .literal(let t)? = timeout, case .literal(let h)? = heartbeat, h >= t {
            report("The value of 'HeartbeatSeconds' must be smaller than the value of 'TimeoutSeconds'", at: ctx.location)
        }
        var credentials: TaskState.Credentials? = nil
        if let c = r.take("Credentials"), checkCredentials(c, ctx) {
            let cat = ctx.location.appending("Credentials")
            if ctx.isJSONata {
                credentials = .jsonata(compileJSONata(c, at: cat))
            } else if let t = payloadTemplate(c, at: cat) {
                credentials = .jsonPath(t)
            }
        }
        let retry = parseRetry(&r, ctx)
        let catchers = parseCatch(&r, ctx)
        return .task(TaskState(resource: resource, timeoutSeconds: timeout, heartbeatSeconds: heartbeat, retry: retry,
                               catch: catchers, credentials: credentials))
    }

    /// A Task's `Credentials`: an object that names the role to assume, `RoleArn` (a string:
    /// an ARN, or a `{% %}` expression in JSONata mode) or, in JSONPath mode, `RoleArn.$` (a
    /// path or intrinsic function, checked as a payload template field).
    ///
    /// AWS behaviour: `{}` and `{"InvalidField": "invalid"}` are both rejected with
    /// `The field 'RoleArn' is required but was missing at /States/State0/Credentials`, and
    /// nothing else (LocalStack's `test_invalid_credentials_field` recordings).
    /// - Returns: whether the field can be compiled.
    mutating func checkCredentials(_ json: JSON, _ ctx: StateContext) -> Bool {
        let at = ctx.location.appending("Credentials")
        guard case .object(let o) = json else {
            report("Expected value of type: Object", at: at)
            return false
        }
        if let role = o["RoleArn"] {
            guard case .string = role else {
                report("Expected value of type: String", at: at.appending("RoleArn"))
                return false
            }
            return true
        }
        if !ctx.isJSONata, o["RoleArn.$"] != nil { return true }
        report("The field 'RoleArn' is required but was missing", at: at)
        return false
    }

    mutating func parseChoice(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext) -> State.Kind? {
        parseIO(&r, &io, &ctx, inputOutputPath: true, assign: true)
        var defaultState: StateID? = nil
        if let d = r.take("Default") { defaultState = resolveNext(d, at: ctx.location.appending("Default"), names: ctx.names) }
        guard let choicesJSON = r.take("Choices") else {
            report("These fields are required: [Choices]", at: ctx.location)
            return nil
        }
        let at = ctx.location.appending("Choices")
        guard case .array(let items) = choicesJSON, !items.isEmpty else {
            report("Value cannot be empty", at: at)
            return nil
        }
        var branches: [ChoiceBranch] = []
        for (i, item) in items.enumerated() {
            let loc = at.appending(i)
            guard case .object(var o) = item else {
                report("Expected value of type: Object", at: loc)
                continue
            }
            guard let nextJSON = o["Next"] else {
                report("These fields are required: [Next]", at: loc)
                continue
            }
            let next = resolveNext(nextJSON, at: loc.appending("Next"), names: ctx.names)
            o.removeValue(forKey: "Next")
            var assign: Assignment? = nil
            if let a = o.removeValue(forKey: "Assign") { assign = assignment(a, language: ctx.language, at: loc.appending("Assign")) }
            var output: JSONataTemplate? = nil
            o.removeValue(forKey: "Comment")
            let condition: ChoiceBranch.Condition?
            if ctx.isJSONata {
                if let out = o.removeValue(forKey: "Output") { output = compileJSONata(out, at: loc.appending("Output")) }
                var fr = FieldReader(o, at: loc)
                if let c = fr.take("Condition") {
                    if let s = c.stringValue, JSONataTemplate.isExpressionString(s) {
                        condition = .jsonata(compileJSONata(c, at: loc.appending("Condition")))
                    } else if case .bool = c {
                        condition = .jsonata(compileJSONata(c, at: loc.appending("Condition")))
                    } else {
                        report("The value for the field 'Condition' must be a JSONata expression", at: loc.appending("Condition"))
                        condition = nil
                    }
                } else {
                    report("These fields are required: [Condition]", at: loc)
                    condition = nil
                }
                reportUnknown(fr)
            } else {
                do {
                    condition = .rule(try ChoiceRule(.object(o), location: loc, isTopLevel: true))
                } catch {
                    diagnostics += error.diagnostics
                    condition = nil
                }
            }
            if let condition, let next {
                branches.append(ChoiceBranch(condition: condition, next: next, assign: assign, output: output, location: loc))
            }
        }
        return .choice(ChoiceState(choices: branches, defaultState: defaultState))
    }

    mutating func parseWait(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext) -> State.Kind? {
        parseIO(&r, &io, &ctx, inputOutputPath: true, assign: true)
        let fields = ctx.isJSONata ? ["Seconds", "Timestamp"] : ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
        let present = fields.filter { r.has($0) }
        guard present.count == 1 else {
            if present.isEmpty {
                report("Exactly one of these fields is required: [\(fields.joined(separator: ", "))]", at: ctx.location)
            } else {
                report("Only one of the following fields can be set: [\(present.joined(separator: ", "))]", at: ctx.location)
            }
            return nil
        }
        let field = present[0]
        let value = r.take(field)!
        let at = ctx.location.appending(field)
        if ctx.isJSONata, let s = value.stringValue, JSONataTemplate.isExpressionString(s) {
            if field == "Seconds" { return .wait(WaitState(duration: .secondsExpression(compileJSONata(value, at: at)))) }
            // AWS behaviour: a JSONata Timestamp must still be a literal RFC 3339 string at
            // validation time unless it is an expression; expressions are checked at run time.
            return .wait(WaitState(duration: .timestampExpression(compileJSONata(value, at: at))))
        }
        switch field {
        case "Seconds":
            guard let n = positiveInteger(value, field: "Seconds", at: at, allowZero: true) else { return nil }
            return .wait(WaitState(duration: .seconds(n)))
        case "Timestamp":
            guard let s = value.stringValue, let t = Timestamp(s) else {
                report("String does not match RFC3339 timestamp", at: at)
                return nil
            }
            return .wait(WaitState(duration: .timestamp(t, text: s)))
        default:
            guard let s = value.stringValue, let p = try? PathExpression(s, allowIntrinsics: false) else {
                report("The value for the field '\(field)' must be a valid JSONPath", at: at)
                return nil
            }
            return .wait(WaitState(duration: field == "SecondsPath" ? .secondsPath(p) : .timestampPath(p)))
        }
    }

    mutating func parseFail(_ r: inout FieldReader, _ ctx: inout StateContext) -> State.Kind? {
        func text(_ r: inout FieldReader, _ field: String) -> FailState.Text? {
            let literal = r.take(field)
            let path = ctx.isJSONata ? nil : r.take(field + "Path")
            if literal != nil, path != nil {
                report("Only one of the following fields can be set: [\(field), \(field)Path]", at: ctx.location)
                return nil
            }
            if let literal {
                guard let s = literal.stringValue else {
                    report("Expected value of type: String", at: ctx.location.appending(field))
                    return nil
                }
                if ctx.isJSONata, JSONataTemplate.isExpressionString(s) { return .jsonata(compileJSONata(literal, at: ctx.location.appending(field))) }
                return .literal(s)
            }
            if let path {
                guard let s = path.stringValue, let p = try? PathExpression(s, allowIntrinsics: true) else {
                    report("The value for the field '\(field)Path' must be a valid JSONPath or a valid intrinsic function call",
                           at: ctx.location.appending(field + "Path"))
                    return nil
                }
                return .path(p)
            }
            return nil
        }
        let error = text(&r, "Error")
        let cause = text(&r, "Cause")
        return .fail(FailState(error: error, cause: cause))
    }

    mutating func parseParallel(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext) -> State.Kind? {
        parseIO(&r, &io, &ctx, inputOutputPath: true, parameters: true, resultSelector: true, resultPath: true,
                arguments: true, assign: true)
        let retry = parseRetry(&r, ctx)
        let catchers = parseCatch(&r, ctx)
        guard let branchesJSON = r.take("Branches") else {
            report("These fields are required: [Branches]", at: ctx.location)
            return nil
        }
        let at = ctx.location.appending("Branches")
        guard case .array(let items) = branchesJSON, !items.isEmpty else {
            report("Value cannot be empty", at: at)
            return nil
        }
        var branches: [BlockID] = []
        for (i, item) in items.enumerated() {
            let loc = at.appending(i)
            guard case .object(let o) = item else {
                report("Expected value of type: Object", at: loc)
                continue
            }
            let missing = ["StartAt", "States"].filter { !o.contains($0) }
            if !missing.isEmpty {
                report("These fields are required: [\(missing.joined(separator: ", "))]", at: loc)
                continue
            }
            var fr = FieldReader(o, at: loc)
            let start = fr.take("StartAt")!, states = fr.take("States")!
            _ = fr.string("Comment", &diagnostics)
            var language = ctx.language
            if let q = fr.take("QueryLanguage"), let l = parseQueryLanguage(q, at: loc.appending("QueryLanguage")) { language = l }
            reportUnknown(fr)
            if let b = parseBlock(startAt: start, states: states, at: loc, owner: ctx.id, inherited: language,
                                  machineLanguage: ctx.machineLanguage)
            {
                branches.append(b)
            }
        }
        return .parallel(ParallelState(branches: branches, retry: retry, catch: catchers))
    }

    mutating func parseMap(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext) -> State.Kind? {
        parseIO(&r, &io, &ctx, inputOutputPath: true, resultSelector: true, resultPath: true, assign: true)
        let retry = parseRetry(&r, ctx)
        let catchers = parseCatch(&r, ctx)
        // Processor: ItemProcessor, or the legacy Iterator.
        let processorJSON: JSON
        let legacy: Bool
        switch (r.take("ItemProcessor"), r.take("Iterator")) {
        case (let p?, nil): processorJSON = p; legacy = false
        case (nil, let p?): processorJSON = p; legacy = true
        case (nil, nil):
            report("These fields are required: [ItemProcessor]", at: ctx.location)
            return nil
        case (_?, _?):
            report("Only one of the following fields can be set: [ItemProcessor, Iterator]", at: ctx.location)
            return nil
        }
        let pat = ctx.location.appending(legacy ? "Iterator" : "ItemProcessor")
        guard case .object(let po) = processorJSON else {
            report("Expected value of type: Object", at: pat)
            return nil
        }
        let missing = ["StartAt", "States"].filter { !po.contains($0) }
        if !missing.isEmpty {
            report("These fields are required: [\(missing.joined(separator: ", "))]", at: pat)
            return nil
        }
        var pr = FieldReader(po, at: pat)
        var mode = MapState.Mode.inline
        var executionType: MapState.ExecutionType? = nil
        if let config = pr.take("ProcessorConfig") {
            let cat = pat.appending("ProcessorConfig")
            if case .object(let co) = config {
                var cr = FieldReader(co, at: cat)
                if let m = cr.take("Mode") {
                    if let s = m.stringValue, let parsed = MapState.Mode(rawValue: s) { mode = parsed } else {
                        report("The field 'Mode' should have one of these values: [INLINE, DISTRIBUTED]", at: cat.appending("Mode"))
                    }
                }
                if let e = cr.take("ExecutionType") {
                    if let s = e.stringValue, let parsed = MapState.ExecutionType(rawValue: s) { executionType = parsed } else {
                        report("The field 'ExecutionType' should have one of these values: [STANDARD, EXPRESS]", at: cat.appending("ExecutionType"))
                    }
                }
                reportUnknown(cr)
            } else {
                report("Expected value of type: Object", at: cat)
            }
        }
        if mode == .distributed, executionType == nil {
            report("These fields are required: [ExecutionType]", at: pat.appending("ProcessorConfig"))
        }
        var language = ctx.language
        if let q = pr.take("QueryLanguage"), let l = parseQueryLanguage(q, at: pat.appending("QueryLanguage")) { language = l }
        _ = pr.string("Comment", &diagnostics)
        let start = pr.take("StartAt")!, statesJSON = pr.take("States")!
        reportUnknown(pr)
        guard let processor = parseBlock(startAt: start, states: statesJSON, at: pat, owner: ctx.id, inherited: language,
                                         machineLanguage: ctx.machineLanguage)
        else { return nil }

        var itemsPath: PathExpression? = nil
        var items: JSONataTemplate? = nil
        var selector: MapState.ItemSelector? = nil
        if ctx.isJSONata {
            if let i = r.take("Items") { items = compileJSONata(i, at: ctx.location.appending("Items")) }
            if let s = r.take("ItemSelector") { selector = .jsonata(compileJSONata(s, at: ctx.location.appending("ItemSelector"))) }
            for f in ["ItemsPath", "Parameters"] where r.has(f) {
                _ = r.take(f)
                report("The field '\(f)' is not supported when QueryLanguage is JSONata", at: ctx.location)
            }
        } else {
            if let p = r.take("ItemsPath") {
                guard let s = p.stringValue, let e = try? PathExpression(s, allowIntrinsics: false) else {
                    report("The value for the field 'ItemsPath' must be a valid JSONPath", at: ctx.location.appending("ItemsPath"))
                    return nil
                }
                itemsPath = e
            }
            switch (r.take("ItemSelector"), r.take("Parameters")) {
            case (let s?, nil):
                if let t = payloadTemplate(s, at: ctx.location.appending("ItemSelector")) { selector = .jsonPath(t) }
            case (nil, let s?):
                if let t = payloadTemplate(s, at: ctx.location.appending("Parameters")) { selector = .jsonPath(t) }
            case (_?, _?):
                report("Only one of the following fields can be set: [ItemSelector, Parameters]", at: ctx.location)
            case (nil, nil): break
            }
            if r.has("Items") {
                _ = r.take("Items")
                report("The field 'Items' is not supported when QueryLanguage is JSONPath", at: ctx.location)
            }
        }
        let maxConcurrency = dynamicNumber(&r, "MaxConcurrency", ctx, minimum: 0)
        let percentage = dynamicNumber(&r, "ToleratedFailurePercentage", ctx, minimum: 0, maximum: 100, integer: false)
        let count = dynamicNumber(&r, "ToleratedFailureCount", ctx, minimum: 0)
        var label: String? = nil
        if let l = r.take("Label") {
            if let s = l.stringValue, s.utf8.count <= 40 { label = s } else {
                report("The value for the field 'Label' must be a string of at most 40 characters", at: ctx.location.appending("Label"))
            }
        }
        let reader = r.take("ItemReader")
        let batcher = r.take("ItemBatcher")
        let writer = r.take("ResultWriter")
        if let reader { validateItemReader(reader, at: ctx.location.appending("ItemReader")) }
        if mode == .inline {
            for (f, v) in [("ItemReader", reader), ("ItemBatcher", batcher), ("ResultWriter", writer)] where v != nil {
                report("The field \"\(f)\" is only supported in DISTRIBUTED mode", at: ctx.location)
            }
        }
        return .map(MapState(
            processor: processor, mode: mode, executionType: executionType, usesLegacyIterator: legacy, itemsPath: itemsPath,
            items: items, itemSelector: selector, maxConcurrency: maxConcurrency, toleratedFailurePercentage: percentage,
            toleratedFailureCount: count, label: label, itemReader: reader, itemBatcher: batcher, resultWriter: writer,
            retry: retry, catch: catchers))
    }

    mutating func validateItemReader(_ json: JSON, at location: DefinitionLocation) {
        guard case .object(let o) = json else {
            report("Expected value of type: Object", at: location)
            return
        }
        guard let resource = o["Resource"]?.stringValue else {
            report("These fields are required: [Resource]", at: location)
            return
        }
        let known = ["arn:aws:states:::s3:getObject", "arn:aws:states:::s3:listObjectsV2"]
        if !known.contains(where: { resource.hasSuffix($0.dropFirst("arn:aws".count)) }) {
            report("The resource provided \(resource) is not recognized. The value is not a valid resource ARN, or the resource is not available in this region.",
                   at: location.appending("Resource"))
        }
        if case .object(let rc)? = o["ReaderConfig"], let t = rc["InputType"] {
            let types = ["CSV", "JSON", "JSONL", "PARQUET", "MANIFEST"]
            if !(t.stringValue.map(types.contains) ?? false) {
                report("The field 'InputType' should have one of these values: [\(types.joined(separator: ", "))]",
                       at: location.appending("ReaderConfig").appending("InputType"))
            }
        }
    }
}

/// The optimized service integrations Step Functions recognises, so that a misspelt or
/// unsupported one fails at creation, as on AWS, while every real one is accepted.
public enum ServiceIntegrations {
    /// Service → actions with the patterns AWS allows for each.
    static let optimized: [String: [String: Set<TaskResource.Pattern>]] = {
        let rr: Set<TaskResource.Pattern> = [.requestResponse]
        let rrWait: Set<TaskResource.Pattern> = [.requestResponse, .waitForTaskToken]
        let all: Set<TaskResource.Pattern> = [.requestResponse, .sync, .waitForTaskToken]
        return [
            "lambda": ["invoke": rrWait],
            "sqs": ["sendMessage": rrWait],
            "sns": ["publish": rrWait],
            "events": ["putEvents": rrWait],
            "states": ["startExecution": [.requestResponse, .sync, .sync2, .waitForTaskToken]],
            "dynamodb": ["getItem": rr, "putItem": rr, "updateItem": rr, "deleteItem": rr],
            "http": ["invoke": rr],
            "apigateway": ["invoke": rrWait],
            "batch": ["submitJob": all],
            "ecs": ["runTask": all],
            "eks": ["runJob": all, "call": rr, "createCluster": [.requestResponse, .sync], "deleteCluster": [.requestResponse, .sync],
                    "createNodegroup": [.requestResponse, .sync], "deleteNodegroup": [.requestResponse, .sync],
                    "createFargateProfile": [.requestResponse, .sync], "deleteFargateProfile": [.requestResponse, .sync]],
            "glue": ["startJobRun": all],
            "athena": ["startQueryExecution": all, "stopQueryExecution": rr, "getQueryExecution": rr,
                       "getQueryResults": rr, "startQueryExecution.sync": rr],
            "codebuild": ["startBuild": all, "stopBuild": rr, "batchDeleteBuilds": rr, "batchGetReports": rr,
                          "startBuildBatch": all, "stopBuildBatch": rr, "retryBuildBatch": all, "deleteBuildBatch": rr],
            "elasticmapreduce": ["createCluster": all, "terminateCluster": all, "addStep": all, "cancelStep": rr,
                                 "setClusterTerminationProtection": rr, "modifyInstanceFleetByName": rr,
                                 "modifyInstanceGroupByName": rr],
            "emr-containers": ["startJobRun": all, "createVirtualCluster": rr, "deleteVirtualCluster": all],
            "emr-serverless": ["createApplication": all, "startApplication": all, "stopApplication": all,
                               "deleteApplication": all, "startJobRun": all, "cancelJobRun": all],
            "sagemaker": ["createTrainingJob": all, "createTransformJob": all, "createProcessingJob": all,
                          "createHyperParameterTuningJob": all, "createLabelingJob": all, "createEndpoint": rr,
                          "createEndpointConfig": rr, "createModel": rr, "updateEndpoint": rr],
            "databrew": ["startJobRun": all],
            "mediaconvert": ["createJob": all],
            "bedrock": ["invokeModel": rr, "createModelCustomizationJob": all],
            "s3": ["getObject": rr, "listObjectsV2": rr, "putObject": rr],
        ]
    }()

    /// Whether AWS recognises the resource with its integration pattern.
    public static func isRecognised(_ resource: TaskResource) -> Bool {
        switch resource.kind {
        case .service(let name, let action):
            guard let actions = optimized[name], let patterns = actions[action] else { return false }
            return patterns.contains(resource.pattern)
        case .sdk:
            // SDK integrations exist for 200+ services; `.sync` is never allowed.
            return resource.pattern == .requestResponse || resource.pattern == .waitForTaskToken
        case .lambdaFunction, .activity:
            return true
        }
    }
}
