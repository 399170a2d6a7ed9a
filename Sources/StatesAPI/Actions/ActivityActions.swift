import StatesLanguage
import StatesStore
import SteplineRuntime
import ControlPlane

/// Activities: create, describe, delete, list (GetActivityTask is in TaskActions).
extension StepFunctionsAPI {
    static func registerActivityActions(_ h: inout [String: Handler]) {
        h["CreateActivity"] = { req, s in
            let tags = req.tags()
            guard tags.count <= ResourceService.maxTagsPerResource else {
                throw ServiceError(.tooManyTags, "Too many tags: at most \(ResourceService.maxTagsPerResource) tags per resource")
            }
            let r = try await s.resources.createActivity(
                name: try req.requiredString("name"), encryptionConfiguration: req.objectText("encryptionConfiguration"))
            if !tags.isEmpty { try await s.resources.tagResource(arn: r.arn, tags: tags) }
            return ["activityArn": .string(r.arn), "creationDate": Shapes.date(r.creationDate)]
        }
        h["DescribeActivity"] = { req, s in
            let r = try await s.resources.describeActivity(arn: try req.requiredString("activityArn"))
            var o: JSONObject = ["activityArn": .string(r.arn), "name": .string(r.name), "creationDate": Shapes.date(r.creationDate)]
            o["encryptionConfiguration"] = parsedConfiguration(r.encryptionConfiguration) ?? ["type": "AWS_OWNED_KEY"]
            return .object(o)
        }
        h["DeleteActivity"] = { req, s in
            try await s.resources.deleteActivity(arn: try req.requiredString("activityArn"))
            return [:]
        }
        h["ListActivities"] = { req, s in
            let page = try await s.resources.listActivities(maxResults: req.maxResults, nextToken: req.nextToken)
            return Shapes.page("activities", page.items.map { r in
                ["activityArn": .string(r.arn), "name": .string(r.name), "creationDate": Shapes.date(r.creationDate)]
            }, next: page.next)
        }
    }
}
