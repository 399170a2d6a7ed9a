import StatesLanguage
import StatesStore
import SteplineRuntime

/// Versions and aliases.
extension StepFunctionsAPI {
    static func routes(_ value: [JSON]?) -> [StateMachineAliasRecord.Route] {
        (value ?? []).compactMap { r in
            guard let arn = r["stateMachineVersionArn"]?.stringValue, let w = r["weight"]?.integerValue else { return nil }
            return .init(stateMachineVersionArn: arn, weight: Int(w))
        }
    }

    static func routesShape(_ routes: [StateMachineAliasRecord.Route]) -> JSON {
        .array(routes.map { ["stateMachineVersionArn": .string($0.stateMachineVersionArn), "weight": .int(Int64($0.weight))] })
    }

    static func registerVersionActions(_ h: inout [String: Handler]) {
        h["PublishStateMachineVersion"] = { req, s in
            let v = try await s.resources.publishVersion(
                stateMachineArn: try req.requiredString("stateMachineArn"), description: req.string("description"),
                revisionId: req.string("revisionId"))
            return ["creationDate": Shapes.date(v.creationDate), "stateMachineVersionArn": .string(v.arn)]
        }
        h["ListStateMachineVersions"] = { req, s in
            let page = try await s.resources.listVersions(
                stateMachineArn: try req.requiredString("stateMachineArn"), maxResults: req.maxResults, nextToken: req.nextToken)
            return Shapes.page("stateMachineVersions", page.items.map { v in
                ["stateMachineVersionArn": .string(v.arn), "creationDate": Shapes.date(v.creationDate)]
            }, next: page.next)
        }
        h["DeleteStateMachineVersion"] = { req, s in
            try await s.resources.deleteVersion(arn: try req.requiredString("stateMachineVersionArn"))
            return [:]
        }
        h["CreateStateMachineAlias"] = { req, s in
            let a = try await s.resources.createAlias(
                name: try req.requiredString("name"), description: req.string("description"),
                routes: routes(req.array("routingConfiguration")))
            return ["stateMachineAliasArn": .string(a.arn), "creationDate": Shapes.date(a.creationDate)]
        }
        h["DescribeStateMachineAlias"] = { req, s in
            let a = try await s.resources.describeStateMachineAlias(arn: try req.requiredString("stateMachineAliasArn"))
            var o = JSONObject(minimumCapacity: 6)
            o.append("stateMachineAliasArn", .string(a.arn))
            o.append("name", .string(a.name))
            if let d = a.description { o.append("description", .string(d)) }
            o.append("routingConfiguration", routesShape(a.routingConfiguration))
            o.append("creationDate", Shapes.date(a.creationDate))
            if let u = a.updateDate { o.append("updateDate", Shapes.date(u)) }
            return .object(o)
        }
        h["UpdateStateMachineAlias"] = { req, s in
            let given = req.array("routingConfiguration")
            let a = try await s.resources.updateAlias(
                arn: try req.requiredString("stateMachineAliasArn"), description: req.string("description"),
                routes: given.map { routes($0) })
            return ["updateDate": Shapes.date(a.updateDate ?? a.creationDate)]
        }
        h["DeleteStateMachineAlias"] = { req, s in
            try await s.resources.deleteAlias(arn: try req.requiredString("stateMachineAliasArn"))
            return [:]
        }
        h["ListStateMachineAliases"] = { req, s in
            let page = try await s.resources.listAliases(
                stateMachineArn: try req.requiredString("stateMachineArn"), maxResults: req.maxResults, nextToken: req.nextToken)
            return Shapes.page("stateMachineAliases", page.items.map { a in
                ["stateMachineAliasArn": .string(a.arn), "creationDate": Shapes.date(a.creationDate)]
            }, next: page.next)
        }
    }

    static func registerTagActions(_ h: inout [String: Handler]) {
        h["TagResource"] = { req, s in
            try await s.resources.tagResource(arn: try req.requiredString("resourceArn"), tags: req.tags())
            return [:]
        }
        h["UntagResource"] = { req, s in
            try await s.resources.untagResource(
                arn: try req.requiredString("resourceArn"), keys: (req.array("tagKeys") ?? []).compactMap(\.stringValue))
            return [:]
        }
        h["ListTagsForResource"] = { req, s in
            let tags = try await s.resources.tags(resourceArn: try req.requiredString("resourceArn"))
            return ["tags": .array(tags.map { ["key": .string($0.key), "value": .string($0.value)] })]
        }
    }
}
