import ControlPlane
import StatesEngine
import StatesLanguage

/// Versions, aliases and tags.
extension StepFunctionsAPI {
    static func routes(_ value: [JSON]?) -> [AliasRoute] {
        (value ?? []).compactMap { r in
            guard let arn = r["stateMachineVersionArn"]?.stringValue, let w = r["weight"]?.integerValue else { return nil }
            return AliasRoute(stateMachineVersionArn: StateMachineARN(arn), weight: Int(w))
        }
    }

    static func routesShape(_ routes: [AliasRoute]) -> JSON {
        .array(routes.map { ["stateMachineVersionArn": .string($0.stateMachineVersionArn.rawValue), "weight": .int(Int64($0.weight))] })
    }

    static func registerVersionActions(_ h: inout [String: Handler]) {
        h["PublishStateMachineVersion"] = { req, control in
            let v = try await control.publishStateMachineVersion(
                StateMachineARN(try req.requiredString("stateMachineArn")), description: req.string("description"),
                revisionId: req.string("revisionId"))
            return ["creationDate": Shapes.date(v.creationDate), "stateMachineVersionArn": .string(v.stateMachineVersionArn.rawValue)]
        }
        h["ListStateMachineVersions"] = { req, control in
            let page = try await control.listStateMachineVersions(StateMachineARN(try req.requiredString("stateMachineArn")), req.page)
            return Shapes.page("stateMachineVersions", page.items.map { v in
                ["stateMachineVersionArn": .string(v.stateMachineVersionArn.rawValue), "creationDate": Shapes.date(v.creationDate)]
            }, next: page.nextToken)
        }
        h["DeleteStateMachineVersion"] = { req, control in
            try await control.deleteStateMachineVersion(StateMachineARN(try req.requiredString("stateMachineVersionArn")))
            return [:]
        }
        h["CreateStateMachineAlias"] = { req, control in
            let a = try await control.createStateMachineAlias(.init(
                name: try req.requiredString("name"), description: req.string("description"),
                routes: routes(req.array("routingConfiguration"))))
            return ["stateMachineAliasArn": .string(a.stateMachineAliasArn.rawValue), "creationDate": Shapes.date(a.creationDate)]
        }
        h["DescribeStateMachineAlias"] = { req, control in
            let a = try await control.describeStateMachineAlias(StateMachineARN(try req.requiredString("stateMachineAliasArn")))
            var o = JSONObject(minimumCapacity: 6)
            o.append("stateMachineAliasArn", .string(a.stateMachineAliasArn.rawValue))
            o.append("name", .string(a.name))
            if let d = a.description { o.append("description", .string(d)) }
            o.append("routingConfiguration", routesShape(a.routes))
            o.append("creationDate", Shapes.date(a.creationDate))
            if let u = a.updateDate { o.append("updateDate", Shapes.date(u)) }
            return .object(o)
        }
        h["UpdateStateMachineAlias"] = { req, control in
            let date = try await control.updateStateMachineAlias(
                StateMachineARN(try req.requiredString("stateMachineAliasArn")), description: req.string("description"),
                routes: req.array("routingConfiguration").map { routes($0) })
            return ["updateDate": Shapes.date(date)]
        }
        h["DeleteStateMachineAlias"] = { req, control in
            try await control.deleteStateMachineAlias(StateMachineARN(try req.requiredString("stateMachineAliasArn")))
            return [:]
        }
        h["ListStateMachineAliases"] = { req, control in
            let page = try await control.listStateMachineAliases(StateMachineARN(try req.requiredString("stateMachineArn")), req.page)
            return Shapes.page("stateMachineAliases", page.items.map { a in
                ["stateMachineAliasArn": .string(a.stateMachineAliasArn.rawValue), "creationDate": Shapes.date(a.creationDate)]
            }, next: page.nextToken)
        }
    }

    static func registerTagActions(_ h: inout [String: Handler]) {
        h["TagResource"] = { req, control in
            try await control.tagResource(ResourceARN(try req.requiredString("resourceArn")), tags: req.tags())
            return [:]
        }
        h["UntagResource"] = { req, control in
            try await control.untagResource(
                ResourceARN(try req.requiredString("resourceArn")), keys: (req.array("tagKeys") ?? []).compactMap(\.stringValue))
            return [:]
        }
        h["ListTagsForResource"] = { req, control in
            let tags = try await control.listTagsForResource(ResourceARN(try req.requiredString("resourceArn")))
            return ["tags": .array(tags.map { ["key": .string($0.key), "value": .string($0.value)] })]
        }
    }
}
