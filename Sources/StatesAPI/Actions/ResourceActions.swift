import StatesLanguage
import StatesStore
import SteplineRuntime

/// State machines and activities.
extension StepFunctionsAPI {
    static func stateMachineShape(_ r: StateMachineRecord) -> JSON {
        var o = JSONObject(minimumCapacity: 12)
        o.append("stateMachineArn", .string(r.arn))
        o.append("name", .string(r.name))
        o.append("status", .string(r.status))
        o.append("definition", .string(r.definition))
        o.append("roleArn", .string(r.roleArn))
        o.append("type", .string(r.type))
        o.append("creationDate", Shapes.date(r.creationDate))
        o.append("loggingConfiguration", r.loggingConfiguration.flatMap { try? JSON.parse($0) }
            ?? ["level": "OFF", "includeExecutionData": false])
        o.append("tracingConfiguration", r.tracingConfiguration.flatMap { try? JSON.parse($0) } ?? ["enabled": false])
        o.append("revisionId", .string(r.revisionId))
        if let d = r.description { o.append("description", .string(d)) }
        o.append("encryptionConfiguration", r.encryptionConfiguration.flatMap { try? JSON.parse($0) } ?? ["type": "AWS_OWNED_KEY"])
        return .object(o)
    }

    static func registerResourceActions(_ h: inout [String: Handler]) {
        h["CreateStateMachine"] = { req, s in
            let r = try await s.resources.createStateMachine(.init(
                name: try req.requiredString("name", length: 1...80),
                definition: try req.requiredString("definition", length: 1...1_048_576),
                roleArn: try req.requiredString("roleArn", length: 1...256),
                type: try req.enumValue("type", ["STANDARD", "EXPRESS"]) ?? "STANDARD",
                loggingConfiguration: try req.objectText("loggingConfiguration"),
                tracingConfiguration: try req.objectText("tracingConfiguration"),
                encryptionConfiguration: try req.objectText("encryptionConfiguration")))
            return ["stateMachineArn": .string(r.arn), "creationDate": Shapes.date(r.creationDate)]
        }
        h["DescribeStateMachine"] = { req, s in
            stateMachineShape(try await s.resources.describeStateMachine(arn: try req.requiredString("stateMachineArn", length: 1...256)))
        }
        h["DeleteStateMachine"] = { req, s in
            try await s.resources.deleteStateMachine(arn: try req.requiredString("stateMachineArn", length: 1...256))
            return [:]
        }
        h["ListStateMachines"] = { req, s in
            let page = try await s.resources.listStateMachines(
                maxResults: try req.int("maxResults", range: 0...1000).flatMap { $0 == 0 ? nil : $0 },
                nextToken: try req.string("nextToken", length: 1...1024))
            var o: JSONObject = ["stateMachines": .array(page.items.map { r in
                ["stateMachineArn": .string(r.arn), "name": .string(r.name), "type": .string(r.type),
                 "creationDate": Shapes.date(r.creationDate)]
            })]
            if let n = page.next { o["nextToken"] = .string(n) }
            return .object(o)
        }
        h["CreateActivity"] = { req, s in
            let r = try await s.resources.createActivity(
                name: try req.requiredString("name", length: 1...80),
                encryptionConfiguration: try req.objectText("encryptionConfiguration"))
            return ["activityArn": .string(r.arn), "creationDate": Shapes.date(r.creationDate)]
        }
        h["DescribeActivity"] = { req, s in
            let r = try await s.resources.describeActivity(arn: try req.requiredString("activityArn", length: 1...256))
            var o: JSONObject = ["activityArn": .string(r.arn), "name": .string(r.name), "creationDate": Shapes.date(r.creationDate)]
            if let e = r.encryptionConfiguration.flatMap({ try? JSON.parse($0) }) { o["encryptionConfiguration"] = e }
            return .object(o)
        }
        h["DeleteActivity"] = { req, s in
            try await s.resources.deleteActivity(arn: try req.requiredString("activityArn", length: 1...256))
            return [:]
        }
        h["ListActivities"] = { req, s in
            let page = try await s.resources.listActivities(
                maxResults: try req.int("maxResults", range: 0...1000).flatMap { $0 == 0 ? nil : $0 },
                nextToken: try req.string("nextToken", length: 1...1024))
            var o: JSONObject = ["activities": .array(page.items.map { r in
                ["activityArn": .string(r.arn), "name": .string(r.name), "creationDate": Shapes.date(r.creationDate)]
            })]
            if let n = page.next { o["nextToken"] = .string(n) }
            return .object(o)
        }
    }
}
