import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import ControlPlane

/// Executions: start (async and sync), stop, describe, history, list, redrive.
extension StepFunctionsAPI {
    /// AWS behaviour: RUNNING and SUCCEEDED executions are NOT_REDRIVABLE with a reason;
    /// FAILED, TIMED_OUT and ABORTED ones are REDRIVABLE for 14 days.
    static func redriveStatus(_ r: ExecutionRecord, now: Int64) -> (String, String?) {
        switch r.status {
        case .running, .succeeded, .pendingRedrive:
            return ("NOT_REDRIVABLE", "Execution is \(r.status.rawValue) and cannot be redriven")
        default:
            if let stop = r.stopDate, now - stop > 14 * 86_400_000 {
                return ("NOT_REDRIVABLE", "Execution can no longer be redriven: it stopped more than 14 days ago")
            }
            return ("REDRIVABLE", nil)
        }
    }

    static func executionShape(_ r: ExecutionRecord, now: Int64) -> JSON {
        var o = JSONObject(minimumCapacity: 20)
        o.append("executionArn", .string(r.arn))
        o.append("stateMachineArn", .string(r.stateMachineArn))
        o.append("name", .string(r.name))
        o.append("status", .string(r.status.rawValue))
        o.append("startDate", Shapes.date(r.startDate))
        if let d = r.stopDate { o.append("stopDate", Shapes.date(d)) }
        o.append("input", .string(r.input.serialized()))
        o.append("inputDetails", ["included": true])
        if let out = r.output {
            o.append("output", .string(out.serialized()))
            o.append("outputDetails", ["included": true])
        }
        if let e = r.error { o.append("error", .string(e)) }
        if let c = r.cause { o.append("cause", .string(c)) }
        if let t = r.traceHeader { o.append("traceHeader", .string(t)) }
        if let v = r.stateMachineVersionArn { o.append("stateMachineVersionArn", .string(v)) }
        if let a = r.stateMachineAliasArn { o.append("stateMachineAliasArn", .string(a)) }
        o.append("redriveCount", .int(Int64(r.redriveCount)))
        if let d = r.redriveDate { o.append("redriveDate", Shapes.date(d)) }
        let (status, reason) = redriveStatus(r, now: now)
        o.append("redriveStatus", .string(status))
        if let reason { o.append("redriveStatusReason", .string(reason)) }
        return .object(o)
    }

    static func startRequest(_ req: AWSRequest) throws -> ExecutionService.StartRequest {
        .init(stateMachineArn: try req.requiredString("stateMachineArn"), name: req.string("name"), input: req.string("input"),
              traceHeader: req.string("traceHeader"))
    }

    /// The machine an execution filter names: plain, version or alias ARN.
    static func executionFilter(_ arn: String, _ s: APIServices) async throws -> ExecutionFilter {
        let ref = try s.resources.reference(arn)
        var filter = ExecutionFilter(stateMachineArn: ref.machineArn)
        let type: String
        switch ref.qualifier {
        case .none: type = try await s.resources.describeStateMachine(arn: arn).type
        case .version:
            type = try await s.resources.describeStateMachineVersion(arn: arn).type
            filter.versionArn = arn
        case .alias:
            _ = try await s.resources.describeStateMachineAlias(arn: arn)
            type = try await s.resources.describeStateMachine(arn: ref.machineArn).type
            filter.aliasArn = arn
        }
        if type == "EXPRESS" {
            throw ServiceError(.stateMachineTypeNotSupported, "This operation is not supported by this type of state machine")
        }
        return filter
    }

    static func registerExecutionActions(_ h: inout [String: Handler]) {
        h["StartExecution"] = { req, s in
            let started = try await s.executions.startExecution(try startRequest(req))
            return ["executionArn": .string(started.executionArn), "startDate": Shapes.date(started.startDate)]
        }
        h["StartSyncExecution"] = { req, s in
            let r = try await s.executions.startSyncExecution(try startRequest(req))
            let includeData = req.string("includedData") != "METADATA_ONLY"
            var o = JSONObject(minimumCapacity: 16)
            o.append("executionArn", .string(r.started.executionArn))
            o.append("stateMachineArn", .string(r.stateMachineArn))
            o.append("name", .string(r.name))
            o.append("startDate", Shapes.date(r.started.startDate))
            o.append("stopDate", Shapes.date(r.stopDate))
            o.append("status", .string(r.status.rawValue))
            if let e = r.error { o.append("error", .string(e)) }
            if let c = r.cause { o.append("cause", .string(c)) }
            o.append("input", .string(includeData ? r.input.serialized() : ""))
            o.append("inputDetails", ["included": .bool(includeData)])
            if let out = r.output {
                o.append("output", .string(includeData ? out.serialized() : ""))
                o.append("outputDetails", ["included": .bool(includeData)])
            }
            if let t = req.string("traceHeader") { o.append("traceHeader", .string(t)) }
            // AWS behaviour: Express billing rounds the duration up to 100 ms, memory to 64 MB.
            let ms = max(0, r.stopDate - r.started.startDate)
            o.append("billingDetails", ["billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": .int(max(100, (ms + 99) / 100 * 100))])
            return .object(o)
        }
        h["StopExecution"] = { req, s in
            let stop = try await s.executions.stopExecution(
                executionArn: try req.requiredString("executionArn"), error: req.string("error"), cause: req.string("cause"))
            return ["stopDate": Shapes.date(stop)]
        }
        h["DescribeExecution"] = { req, s in
            let r = try await s.executions.describeExecution(executionArn: try req.requiredString("executionArn"))
            return executionShape(r, now: s.runtime.now())
        }
        h["RedriveExecution"] = { req, s in
            let date = try await s.executions.redriveExecution(executionArn: try req.requiredString("executionArn"))
            return ["redriveDate": Shapes.date(date)]
        }
        h["GetExecutionHistory"] = { req, s in
            let includeData = req.bool("includeExecutionData") ?? true
            let page = try await s.executions.getExecutionHistory(
                executionArn: try req.requiredString("executionArn"), maxResults: req.maxResults,
                nextToken: req.nextToken, reverseOrder: req.bool("reverseOrder") ?? false)
            return Shapes.page("events", page.events.map { $0.awsJSON(includeExecutionData: includeData) }, next: page.nextToken)
        }
        h["ListExecutions"] = { req, s in
            let machine = req.string("stateMachineArn")
            let mapRun = req.string("mapRunArn")
            guard (machine == nil) != (mapRun == nil) else {
                throw ServiceError.validation("Must provide exactly one of stateMachineArn or mapRunArn")
            }
            var filter: ExecutionFilter
            if let machine {
                filter = try await executionFilter(machine, s)
            } else {
                // Distributed Map iterations run inside their parent execution here: a map
                // run has no child executions to list (docs/api.md).
                _ = try await MapRuns.find(mapRun!, s)
                return ["executions": []]
            }
            filter.status = req.string("statusFilter").flatMap(ExecutionStatus.init(rawValue:))
            switch req.string("redriveFilter") {
            case "REDRIVEN": filter.redriven = true
            case "NOT_REDRIVEN": filter.redriven = false
            default: break
            }
            let page = try await s.executions.listExecutions(filter: filter, maxResults: req.maxResults, nextToken: req.nextToken)
            return Shapes.page("executions", page.items.map { r in
                var e = JSONObject(minimumCapacity: 10)
                e.append("executionArn", .string(r.arn))
                e.append("stateMachineArn", .string(r.stateMachineArn))
                e.append("name", .string(r.name))
                e.append("status", .string(r.status.rawValue))
                e.append("startDate", Shapes.date(r.startDate))
                if let d = r.stopDate { e.append("stopDate", Shapes.date(d)) }
                if let v = r.stateMachineVersionArn { e.append("stateMachineVersionArn", .string(v)) }
                if let a = r.stateMachineAliasArn { e.append("stateMachineAliasArn", .string(a)) }
                if r.redriveCount > 0 { e.append("redriveCount", .int(Int64(r.redriveCount))) }
                if let d = r.redriveDate { e.append("redriveDate", Shapes.date(d)) }
                return .object(e)
            }, next: page.next)
        }
    }
}
