import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime

/// Executions: start, stop, describe, history, list.
extension StepFunctionsAPI {
    static func executionShape(_ r: ExecutionRecord) -> JSON {
        var o = JSONObject(minimumCapacity: 16)
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
        switch r.status {
        case .running, .succeeded:
            o.append("redriveStatus", "NOT_REDRIVABLE")
            o.append("redriveStatusReason", .string("Execution is \(r.status.rawValue) and cannot be redriven"))
        default:
            o.append("redriveStatus", "REDRIVABLE")
        }
        return .object(o)
    }

    static func registerExecutionActions(_ h: inout [String: Handler]) {
        h["StartExecution"] = { req, s in
            let started = try await s.executions.startExecution(.init(
                stateMachineArn: try req.requiredString("stateMachineArn", length: 1...256),
                name: try req.string("name", length: 1...80),
                input: try req.string("input", length: 0...262_144),
                traceHeader: try req.string("traceHeader", length: 0...256)))
            return ["executionArn": .string(started.executionArn), "startDate": Shapes.date(started.startDate)]
        }
        h["StopExecution"] = { req, s in
            let stop = try await s.executions.stopExecution(
                executionArn: try req.requiredString("executionArn", length: 1...256),
                error: try req.string("error", length: 0...256), cause: try req.string("cause", length: 0...32_768))
            return ["stopDate": Shapes.date(stop)]
        }
        h["DescribeExecution"] = { req, s in
            executionShape(try await s.executions.describeExecution(executionArn: try req.requiredString("executionArn", length: 1...256)))
        }
        h["GetExecutionHistory"] = { req, s in
            let includeData = try req.bool("includeExecutionData") ?? true
            let page = try await s.executions.getExecutionHistory(
                executionArn: try req.requiredString("executionArn", length: 1...256),
                maxResults: try req.int("maxResults", range: 0...1000).flatMap { $0 == 0 ? nil : $0 },
                nextToken: try req.string("nextToken", length: 1...3096),
                reverseOrder: try req.bool("reverseOrder") ?? false)
            var o: JSONObject = ["events": .array(page.events.map { $0.awsJSON(includeExecutionData: includeData) })]
            if let n = page.nextToken { o["nextToken"] = .string(n) }
            return .object(o)
        }
        h["ListExecutions"] = { req, s in
            let status = try req.enumValue("statusFilter", ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"])
            let machine = try req.string("stateMachineArn", length: 1...256)
            if let machine { _ = try await s.resources.describeStateMachine(arn: machine) }
            let page = try await s.executions.listExecutions(
                stateMachineArn: machine, status: status.flatMap(ExecutionStatus.init(rawValue:)),
                maxResults: try req.int("maxResults", range: 0...1000).flatMap { $0 == 0 ? nil : $0 },
                nextToken: try req.string("nextToken", length: 1...3096))
            var o: JSONObject = ["executions": .array(page.items.map { r in
                var e: JSONObject = ["executionArn": .string(r.arn), "stateMachineArn": .string(r.stateMachineArn),
                                     "name": .string(r.name), "status": .string(r.status.rawValue),
                                     "startDate": Shapes.date(r.startDate)]
                if let d = r.stopDate { e["stopDate"] = Shapes.date(d) }
                return .object(e)
            })]
            if let n = page.next { o["nextToken"] = .string(n) }
            return .object(o)
        }
    }
}
