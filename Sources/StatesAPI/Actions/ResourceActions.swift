import StatesLanguage
import StatesStore
import SteplineRuntime
import ControlPlane

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

    static func stateMachineShape(_ r: StateMachineRecord) -> JSON {
        var o = JSONObject(minimumCapacity: 14)
        o.append("stateMachineArn", .string(r.arn))
        o.append("name", .string(r.name))
        o.append("status", .string(r.status))
        o.append("definition", .string(r.definition))
        o.append("roleArn", .string(r.roleArn))
        o.append("type", .string(r.type))
        o.append("creationDate", Shapes.date(r.creationDate))
        o.append("loggingConfiguration", loggingShape(r.loggingConfiguration))
        o.append("tracingConfiguration", parsedConfiguration(r.tracingConfiguration) ?? ["enabled": false])
        // AWS behaviour: revisionId is shown once the machine was updated.
        if r.updateDate != nil { o.append("revisionId", .string(r.revisionId)) }
        if let d = r.description { o.append("description", .string(d)) }
        o.append("encryptionConfiguration", parsedConfiguration(r.encryptionConfiguration) ?? ["type": "AWS_OWNED_KEY"])
        if let refs = VariableReferences.of(definitionText: r.definition, type: r.type) { o.append("variableReferences", refs) }
        return .object(o)
    }

    static func versionShape(_ v: StateMachineVersionRecord, name: String) -> JSON {
        var o = JSONObject(minimumCapacity: 14)
        o.append("stateMachineArn", .string(v.arn))
        o.append("name", .string(name))
        o.append("status", "ACTIVE")
        o.append("definition", .string(v.definition))
        o.append("roleArn", .string(v.roleArn))
        o.append("type", .string(v.type))
        o.append("creationDate", Shapes.date(v.creationDate))
        o.append("loggingConfiguration", loggingShape(v.loggingConfiguration))
        o.append("tracingConfiguration", parsedConfiguration(v.tracingConfiguration) ?? ["enabled": false])
        o.append("revisionId", .string(v.revisionId))
        if let d = v.description { o.append("description", .string(d)) }
        o.append("encryptionConfiguration", parsedConfiguration(v.encryptionConfiguration) ?? ["type": "AWS_OWNED_KEY"])
        if let refs = VariableReferences.of(definitionText: v.definition, type: v.type) { o.append("variableReferences", refs) }
        return .object(o)
    }

    static func registerResourceActions(_ h: inout [String: Handler]) {
        h["CreateStateMachine"] = { req, s in
            let (r, version) = try await s.resources.createStateMachine(.init(
                name: try req.requiredString("name"),
                definition: try req.requiredString("definition"),
                roleArn: try req.requiredString("roleArn"),
                type: req.string("type") ?? "STANDARD",
                loggingConfiguration: req.objectText("loggingConfiguration"),
                tracingConfiguration: req.objectText("tracingConfiguration"),
                encryptionConfiguration: req.objectText("encryptionConfiguration")),
                options: .init(publish: req.bool("publish") ?? false, versionDescription: req.string("versionDescription"),
                               tags: req.tags()))
            var o: JSONObject = ["stateMachineArn": .string(r.arn), "creationDate": Shapes.date(r.creationDate)]
            if let version { o["stateMachineVersionArn"] = .string(version.arn) }
            return .object(o)
        }
        h["DescribeStateMachine"] = { req, s in
            let arn = try req.requiredString("stateMachineArn")
            let ref = try s.resources.reference(arn)
            switch ref.qualifier {
            case .none: return stateMachineShape(try await s.resources.describeStateMachine(arn: arn))
            case .version: return versionShape(try await s.resources.describeStateMachineVersion(arn: arn), name: ref.name)
            case .alias: throw ServiceError.invalidArn(arn)
            }
        }
        h["UpdateStateMachine"] = { req, s in
            let (r, version) = try await s.resources.updateStateMachine(arn: try req.requiredString("stateMachineArn"), .init(
                definition: req.string("definition"), roleArn: req.string("roleArn"),
                loggingConfiguration: req.objectText("loggingConfiguration"),
                tracingConfiguration: req.objectText("tracingConfiguration"),
                encryptionConfiguration: req.objectText("encryptionConfiguration"),
                publish: req.bool("publish") ?? false, versionDescription: req.string("versionDescription")))
            var o: JSONObject = ["updateDate": Shapes.date(r.updateDate ?? r.creationDate), "revisionId": .string(r.revisionId)]
            if let version { o["stateMachineVersionArn"] = .string(version.arn) }
            return .object(o)
        }
        h["DeleteStateMachine"] = { req, s in
            let arn = try req.requiredString("stateMachineArn")
            let ref = try s.resources.reference(arn)
            guard ref.qualifier == .none else {
                throw ServiceError.validation("Unsupported operation: DeleteStateMachine takes an unqualified state machine ARN; use DeleteStateMachineVersion or DeleteStateMachineAlias")
            }
            try await s.resources.deleteStateMachine(arn: arn)
            return [:]
        }
        h["ListStateMachines"] = { req, s in
            let page = try await s.resources.listStateMachines(maxResults: req.maxResults, nextToken: req.nextToken)
            return Shapes.page("stateMachines", page.items.map { r in
                ["stateMachineArn": .string(r.arn), "name": .string(r.name), "type": .string(r.type),
                 "creationDate": Shapes.date(r.creationDate)]
            }, next: page.next)
        }
        h["DescribeStateMachineForExecution"] = { req, s in
            let arn = try req.requiredString("executionArn")
            let e = try await s.executions.describeExecution(executionArn: arn)
            guard let text = try await s.executions.store.definition(revisionId: e.revisionId) else {
                throw ServiceError.executionDoesNotExist(arn)
            }
            let machine = try? await s.resources.describeStateMachine(arn: e.stateMachineArn)
            var o = JSONObject(minimumCapacity: 12)
            o.append("stateMachineArn", .string(e.stateMachineArn))
            o.append("name", .string(ARNs.lastComponent(e.stateMachineArn)))
            o.append("definition", .string(text))
            o.append("roleArn", .string(e.roleArn ?? machine?.roleArn ?? ""))
            o.append("updateDate", Shapes.date(machine?.updateDate ?? machine?.creationDate ?? e.startDate))
            o.append("loggingConfiguration", loggingShape(machine?.loggingConfiguration))
            o.append("tracingConfiguration", parsedConfiguration(machine?.tracingConfiguration) ?? ["enabled": false])
            o.append("revisionId", .string(e.revisionId))
            o.append("encryptionConfiguration", parsedConfiguration(machine?.encryptionConfiguration) ?? ["type": "AWS_OWNED_KEY"])
            if let refs = VariableReferences.of(definitionText: text, type: e.type) { o.append("variableReferences", refs) }
            return .object(o)
        }
        h["ValidateStateMachineDefinition"] = { req, _ in
            let text = try req.requiredString("definition")
            let type: DefinitionOptions.MachineType = req.string("type") == "EXPRESS" ? .express : .standard
            let includeWarnings = req.string("severity") == "WARNING"
            let limit = req.maxResults ?? 100
            var diagnostics = StateMachineDefinition.validate(text, options: DefinitionOptions(machineType: type))
            if !includeWarnings { diagnostics = diagnostics.filter { $0.severity == .error } }
            let ok = !diagnostics.contains { $0.severity == .error }
            let truncated = diagnostics.count > limit
            let items: [JSON] = diagnostics.prefix(limit).map { d in
                var o = JSONObject()
                o.append("severity", .string(d.severity.rawValue))
                o.append("code", .string(d.code))
                o.append("message", .string(d.message))
                if let l = d.location { o.append("location", .string(l)) }
                return .object(o)
            }
            return ["result": .string(ok ? "OK" : "FAIL"), "diagnostics": .array(items), "truncated": .bool(truncated)]
        }
    }
}
