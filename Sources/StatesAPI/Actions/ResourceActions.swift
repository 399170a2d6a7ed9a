import ControlPlane
import StatesEngine
import StatesLanguage

/// State machines: create, describe, update, delete, list, validate.
extension StepFunctionsAPI {
    static func parsedConfiguration(_ text: String?) -> JSON? { text.flatMap { try? JSON.parse($0) } }

    static func loggingShape(_ text: String?) -> JSON {
        var o = JSONObject()
        let given = parsedConfiguration(text)
        o.append("level", given?["level"] ?? "OFF")
        o.append("includeExecutionData", given?["includeExecutionData"] ?? false)
        if let d = given?["destinations"], !(d.arrayValue ?? []).isEmpty { o.append("destinations", d) }
        return .object(o)
    }

    static func configurations(_ req: AWSRequest) -> ResourceConfigurations {
        .init(logging: req.objectText("loggingConfiguration"), tracing: req.objectText("tracingConfiguration"),
              encryption: req.objectText("encryptionConfiguration"))
    }

    static func stateMachineShape(_ r: StateMachineDescription) -> JSON {
        var o = JSONObject(minimumCapacity: 14)
        o.append("stateMachineArn", .string(r.stateMachineArn.rawValue))
        o.append("name", .string(r.name))
        o.append("status", .string(r.status))
        o.append("definition", .string(r.definition))
        o.append("roleArn", .string(r.roleArn))
        o.append("type", .string(r.type))
        o.append("creationDate", Shapes.date(r.creationDate))
        o.append("loggingConfiguration", loggingShape(r.configurations.logging))
        o.append("tracingConfiguration", parsedConfiguration(r.configurations.tracing) ?? ["enabled": false])
        if let revision = r.revisionId { o.append("revisionId", .string(revision)) }
        if let d = r.description { o.append("description", .string(d)) }
        o.append("encryptionConfiguration", parsedConfiguration(r.configurations.encryption) ?? ["type": "AWS_OWNED_KEY"])
        if let refs = VariableReferences.of(definitionText: r.definition, type: r.type) { o.append("variableReferences", refs) }
        return .object(o)
    }

    static func registerResourceActions(_ h: inout [String: Handler]) {
        h["CreateStateMachine"] = { req, control in
            let r = try await control.createStateMachine(.init(
                name: try req.requiredString("name"), definition: try req.requiredString("definition"),
                roleArn: try req.requiredString("roleArn"), type: req.string("type") ?? "STANDARD",
                configurations: configurations(req), publish: req.bool("publish") ?? false,
                versionDescription: req.string("versionDescription"), tags: req.tags()))
            var o: JSONObject = ["stateMachineArn": .string(r.stateMachineArn.rawValue), "creationDate": Shapes.date(r.creationDate)]
            if let version = r.stateMachineVersionArn { o["stateMachineVersionArn"] = .string(version.rawValue) }
            return .object(o)
        }
        h["DescribeStateMachine"] = { req, control in
            stateMachineShape(try await control.describeStateMachine(StateMachineARN(try req.requiredString("stateMachineArn"))))
        }
        h["UpdateStateMachine"] = { req, control in
            let r = try await control.updateStateMachine(.init(
                stateMachineArn: StateMachineARN(try req.requiredString("stateMachineArn")), definition: req.string("definition"),
                roleArn: req.string("roleArn"), configurations: configurations(req), publish: req.bool("publish") ?? false,
                versionDescription: req.string("versionDescription")))
            var o: JSONObject = ["updateDate": Shapes.date(r.updateDate), "revisionId": .string(r.revisionId)]
            if let version = r.stateMachineVersionArn { o["stateMachineVersionArn"] = .string(version.rawValue) }
            return .object(o)
        }
        h["DeleteStateMachine"] = { req, control in
            try await control.deleteStateMachine(StateMachineARN(try req.requiredString("stateMachineArn")))
            return [:]
        }
        h["ListStateMachines"] = { req, control in
            let page = try await control.listStateMachines(req.page)
            return Shapes.page("stateMachines", page.items.map { r in
                ["stateMachineArn": .string(r.stateMachineArn.rawValue), "name": .string(r.name), "type": .string(r.type),
                 "creationDate": Shapes.date(r.creationDate)]
            }, next: page.nextToken)
        }
        h["DescribeStateMachineForExecution"] = { req, control in
            let r = try await control.describeStateMachineForExecution(ExecutionARN(try req.requiredString("executionArn")))
            var o = JSONObject(minimumCapacity: 12)
            o.append("stateMachineArn", .string(r.stateMachineArn.rawValue))
            o.append("name", .string(r.name))
            o.append("definition", .string(r.definition))
            o.append("roleArn", .string(r.roleArn))
            o.append("updateDate", Shapes.date(r.updateDate))
            o.append("loggingConfiguration", loggingShape(r.configurations.logging))
            o.append("tracingConfiguration", parsedConfiguration(r.configurations.tracing) ?? ["enabled": false])
            o.append("revisionId", .string(r.revisionId))
            o.append("encryptionConfiguration", parsedConfiguration(r.configurations.encryption) ?? ["type": "AWS_OWNED_KEY"])
            if let refs = VariableReferences.of(definitionText: r.definition, type: r.type) { o.append("variableReferences", refs) }
            return .object(o)
        }
        h["ValidateStateMachineDefinition"] = { req, control in
            let r = try await control.validateStateMachineDefinition(.init(
                definition: try req.requiredString("definition"), type: req.string("type") ?? "STANDARD",
                severity: req.string("severity") ?? "ERROR", maxResults: req.maxResults ?? 100))
            let items: [JSON] = r.diagnostics.map { d in
                var o = JSONObject()
                o.append("severity", .string(d.severity.rawValue))
                o.append("code", .string(d.code))
                o.append("message", .string(d.message))
                if let l = d.location { o.append("location", .string(l)) }
                return .object(o)
            }
            return ["result": .string(r.isValid ? "OK" : "FAIL"), "diagnostics": .array(items), "truncated": .bool(r.truncated)]
        }
    }
}
