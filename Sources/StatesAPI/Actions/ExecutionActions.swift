import ControlPlane
import StatesEngine
import StatesLanguage

/// Executions: start (async and sync), stop, describe, history, list, redrive.
extension StepFunctionsAPI {
    static func executionShape(_ r: ExecutionDescription) -> JSON {
        var o = JSONObject(minimumCapacity: 20)
        o.append("executionArn", .string(r.executionArn.rawValue))
        o.append("stateMachineArn", .string(r.stateMachineArn.rawValue))
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
        if let v = r.stateMachineVersionArn { o.append("stateMachineVersionArn", .string(v.rawValue)) }
        if let a = r.stateMachineAliasArn { o.append("stateMachineAliasArn", .string(a.rawValue)) }
        o.append("redriveCount", .int(Int64(r.redriveCount)))
        if let d = r.redriveDate { o.append("redriveDate", Shapes.date(d)) }
        o.append("redriveStatus", .string(r.redriveStatus))
        if let reason = r.redriveStatusReason { o.append("redriveStatusReason", .string(reason)) }
        return .object(o)
    }

    static func startInput(_ req: AWSRequest) throws -> StartExecutionInput {
        .init(stateMachineArn: StateMachineARN(try req.requiredString("stateMachineArn")), name: req.string("name"),
              input: req.string("input"), traceHeader: req.string("traceHeader"))
    }

    static func registerExecutionActions(_ h: inout [String: Handler]) {
        h["StartExecution"] = { req, control in
            let started = try await control.startExecution(try startInput(req))
            return ["executionArn": .string(started.executionArn.rawValue), "startDate": Shapes.date(started.startDate)]
        }
        h["StartSyncExecution"] = { req, control in
            let r = try await control.startSyncExecution(try startInput(req))
            let includeData = req.string("includedData") != "METADATA_ONLY"
            var o = JSONObject(minimumCapacity: 16)
            o.append("executionArn", .string(r.executionArn.rawValue))
            o.append("stateMachineArn", .string(r.stateMachineArn.rawValue))
            o.append("name", .string(r.name))
            o.append("startDate", Shapes.date(r.startDate))
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
            let ms = max(0, r.stopDate - r.startDate)
            o.append("billingDetails", ["billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": .int(max(100, (ms + 99) / 100 * 100))])
            return .object(o)
        }
        h["StopExecution"] = { req, control in
            let stop = try await control.stopExecution(
                ExecutionARN(try req.requiredString("executionArn")), error: req.string("error"), cause: req.string("cause"))
            return ["stopDate": Shapes.date(stop)]
        }
        h["DescribeExecution"] = { req, control in
            executionShape(try await control.describeExecution(ExecutionARN(try req.requiredString("executionArn"))))
        }
        h["RedriveExecution"] = { req, control in
            let date = try await control.redriveExecution(ExecutionARN(try req.requiredString("executionArn")))
            return ["redriveDate": Shapes.date(date)]
        }
        h["GetExecutionHistory"] = { req, control in
            let includeData = req.bool("includeExecutionData") ?? true
            let page = try await control.getExecutionHistory(.init(
                executionArn: ExecutionARN(try req.requiredString("executionArn")), reverseOrder: req.bool("reverseOrder") ?? false,
                page: req.page))
            return Shapes.page("events", page.items.map { $0.awsJSON(includeExecutionData: includeData) }, next: page.nextToken)
        }
        h["ListExecutions"] = { req, control in
            let redriven: Bool?
            switch req.string("redriveFilter") {
            case "REDRIVEN": redriven = true
            case "NOT_REDRIVEN": redriven = false
            default: redriven = nil
            }
            let page = try await control.listExecutions(.init(
                stateMachineArn: req.string("stateMachineArn").map(StateMachineARN.init), mapRunArn: req.string("mapRunArn").map(MapRunARN.init),
                statusFilter: req.string("statusFilter").flatMap(ExecutionStatus.init(rawValue:)), redriven: redriven, page: req.page))
            return Shapes.page("executions", page.items.map { r in
                var e = JSONObject(minimumCapacity: 10)
                e.append("executionArn", .string(r.executionArn.rawValue))
                e.append("stateMachineArn", .string(r.stateMachineArn.rawValue))
                e.append("name", .string(r.name))
                e.append("status", .string(r.status.rawValue))
                e.append("startDate", Shapes.date(r.startDate))
                if let d = r.stopDate { e.append("stopDate", Shapes.date(d)) }
                if let v = r.stateMachineVersionArn { e.append("stateMachineVersionArn", .string(v.rawValue)) }
                if let a = r.stateMachineAliasArn { e.append("stateMachineAliasArn", .string(a.rawValue)) }
                if r.redriveCount > 0 { e.append("redriveCount", .int(Int64(r.redriveCount))) }
                if let d = r.redriveDate { e.append("redriveDate", Shapes.date(d)) }
                return .object(e)
            }, next: page.nextToken)
        }
    }
}
