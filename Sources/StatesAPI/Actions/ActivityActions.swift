import ControlPlane
import StatesEngine
import StatesLanguage

/// Activities: create, describe, delete, list (GetActivityTask is in TaskActions).
extension StepFunctionsAPI {
    static func registerActivityActions(_ h: inout [String: Handler]) {
        h["CreateActivity"] = { req, control in
            let r = try await control.createActivity(
                name: try req.requiredString("name"), encryptionConfiguration: req.objectText("encryptionConfiguration"),
                tags: req.tags())
            return ["activityArn": .string(r.activityArn.rawValue), "creationDate": Shapes.date(r.creationDate)]
        }
        h["DescribeActivity"] = { req, control in
            let r = try await control.describeActivity(ActivityARN(try req.requiredString("activityArn")))
            var o: JSONObject = ["activityArn": .string(r.activityArn.rawValue), "name": .string(r.name),
                                 "creationDate": Shapes.date(r.creationDate)]
            o["encryptionConfiguration"] = parsedConfiguration(r.encryptionConfiguration) ?? ["type": "AWS_OWNED_KEY"]
            return .object(o)
        }
        h["DeleteActivity"] = { req, control in
            try await control.deleteActivity(ActivityARN(try req.requiredString("activityArn")))
            return [:]
        }
        h["ListActivities"] = { req, control in
            let page = try await control.listActivities(req.page)
            return Shapes.page("activities", page.items.map { r in
                ["activityArn": .string(r.activityArn.rawValue), "name": .string(r.name), "creationDate": Shapes.date(r.creationDate)]
            }, next: page.nextToken)
        }
    }
}
