import Hummingbird
import StatesLanguage
import SteplineRuntime

/// Stepline's trigger API: trigger rules managed at run time, next to those of the
/// configuration file (which it lists but does not change).
///
/// | request | answer |
/// |---|---|
/// | `GET /triggers` | `{"triggers": [rule...]}` |
/// | `GET /triggers/{name}` | the rule, or 404 |
/// | `PUT /triggers/{name}` with a rule as JSON | 200 and the rule (created or replaced), 400 with the reason |
/// | `DELETE /triggers/{name}` | 200, or 404 |
/// | `POST /triggers/{name}/test` with a record value | `{"matches": bool, "input": ..., "executionName": ...}` |
///
/// A rule: `{"topic", "pattern", "stateMachine", "input": {"pathsMap", "template"},
/// "executionName", "deadLetter", "enabled"}` (the name comes from the path). Errors are
/// `{"__type": "ValidationException" | "ResourceNotFound", "message"}` as the AWS API's are.
enum TriggerRoutes {
    static func register(on router: Router<BasicRequestContext>, registry: TriggerRegistry) {
        router.get("/triggers") { _, _ -> Response in
            APIServer.json(200, ["triggers": .array(registry.snapshot.rules.map(\.json))])
        }
        router.get("/triggers/:name") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard let rule = registry.snapshot.rules.first(where: { $0.name == name }) else { return notFound(name) }
            return APIServer.json(200, rule.json)
        }
        router.put("/triggers/:name") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 1_048_576)
            guard case .object(var o)? = try? JSON.parse(bytes: Array(body.readableBytesView)) else {
                return invalid("the body must be a trigger rule as a JSON object")
            }
            if let given = o["name"]?.stringValue, given != name {
                return invalid("the rule's name '\(given)' differs from the path's '\(name)'")
            }
            o["name"] = .string(name)
            o.removeValue(forKey: "source")
            do {
                let rule = try TriggerRule.from(json: .object(o), source: .api)
                try registry.put(rule)
                return APIServer.json(200, rule.json)
            } catch let e as TriggerRule.Invalid {
                return invalid(e.message)
            }
        }
        router.delete("/triggers/:name") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            do {
                return try registry.delete(name: name) ? APIServer.json(200, [:]) : notFound(name)
            } catch let e as TriggerRule.Invalid {
                return invalid(e.message)
            }
        }
    }

    static func invalid(_ message: String) -> Response {
        APIServer.json(400, ["__type": "ValidationException", "message": .string(message)])
    }

    static func notFound(_ name: String) -> Response {
        APIServer.json(404, ["__type": "ResourceNotFound", "message": .string("Trigger Does Not Exist: '\(name)'")])
    }
}
