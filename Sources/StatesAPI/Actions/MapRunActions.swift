import ControlPlane
import StatesEngine
import StatesLanguage

/// Map runs (Distributed Map).
extension StepFunctionsAPI {
    static func counts(_ c: MapRunCounts) -> JSON {
        [
            "pending": .int(Int64(c.pending)), "running": .int(Int64(c.running)), "succeeded": .int(Int64(c.succeeded)),
            "failed": .int(Int64(c.failed)), "timedOut": .int(Int64(c.timedOut)), "aborted": .int(Int64(c.aborted)),
            "total": .int(Int64(c.total)), "resultsWritten": .int(Int64(c.resultsWritten)), "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        ]
    }

    static func registerMapRunActions(_ h: inout [String: Handler]) {
        h["DescribeMapRun"] = { req, control in
            let r = try await control.describeMapRun(MapRunARN(try req.requiredString("mapRunArn")))
            var out = JSONObject(minimumCapacity: 14)
            out.append("mapRunArn", .string(r.mapRunArn.rawValue))
            out.append("executionArn", .string(r.executionArn.rawValue))
            out.append("status", .string(r.status))
            out.append("startDate", Shapes.date(r.startDate))
            if let d = r.stopDate { out.append("stopDate", Shapes.date(d)) }
            out.append("maxConcurrency", .int(Int64(r.maxConcurrency)))
            out.append("toleratedFailurePercentage", .double(r.toleratedFailurePercentage))
            out.append("toleratedFailureCount", .int(Int64(r.toleratedFailureCount)))
            out.append("itemCounts", counts(r.counts))
            out.append("executionCounts", counts(r.counts))
            out.append("redriveCount", .int(Int64(r.redriveCount)))
            if let d = r.redriveDate { out.append("redriveDate", Shapes.date(d)) }
            return .object(out)
        }
        h["ListMapRuns"] = { req, control in
            let page = try await control.listMapRuns(ExecutionARN(try req.requiredString("executionArn")), req.page)
            return Shapes.page("mapRuns", page.items.map { r in
                var o: JSONObject = ["executionArn": .string(r.executionArn.rawValue), "mapRunArn": .string(r.mapRunArn.rawValue),
                                     "stateMachineArn": .string(r.stateMachineArn.rawValue), "startDate": Shapes.date(r.startDate)]
                if let d = r.stopDate { o["stopDate"] = Shapes.date(d) }
                return .object(o)
            }, next: page.nextToken)
        }
        h["UpdateMapRun"] = { req, control in
            try await control.updateMapRun(.init(
                mapRunArn: MapRunARN(try req.requiredString("mapRunArn")), maxConcurrency: req.int("maxConcurrency"),
                toleratedFailurePercentage: req.double("toleratedFailurePercentage"),
                toleratedFailureCount: req.int("toleratedFailureCount")))
            return [:]
        }
    }
}
