import Hummingbird
import KafkaClient
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
/// | `POST /triggers/{name}/test?key=&partition=&offset=` with a record value | `{"matches": bool, "stateMachineArn", "executionName", "input"}` |
///
/// A rule: `{"topic", "pattern", "stateMachine", "input": {"pathsMap", "template"},
/// "executionName", "deadLetter", "enabled"}` (the name comes from the path). Errors are
/// `{"__type": "ValidationException" | "ResourceNotFound", "message"}` as the AWS API's are.
enum TriggerRoutes {
    static func register(on router: Router<BasicRequestContext>, registry: TriggerRegistry, region: String, account: String) {
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
            let text = String(decoding: body.readableBytesView, as: UTF8.self)
            guard case .object(var o)? = try? JSON.parse(text) else {
                return invalid("the body must be a trigger rule as a JSON object")
            }
            // The pattern as written, so that its numbers are compared exactly.
            if case .object? = o["pattern"], let raw = try? JSON.rawMembers(ofObject: text).last(where: { $0.key == "pattern" }) {
                o["pattern"] = .string(raw.text)
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
        router.post("/triggers/:name/test") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard let rule = registry.snapshot.rules.first(where: { $0.name == name }) else { return notFound(name) }
            let body = Array(try await request.body.collect(upTo: 1_048_576).readableBytesView)
            let q = request.uri.queryParameters
            let record = KafkaRecord(
                topic: q.get("topic") ?? rule.topic, partition: Int32(q.get("partition") ?? "") ?? 0, offset: Int64(q.get("offset") ?? "") ?? 0,
                key: q.get("key").map { Array($0.utf8) }, value: body, timestampMilliseconds: nil)
            guard let event = try? body.withUnsafeBufferPointer({ try FlattenedEvent(utf8: $0) }), let value = try? JSON.parse(bytes: body) else {
                return invalid("the body must be the record value as JSON")
            }
            guard rule.pattern?.matches(event) ?? true else {
                return APIServer.json(200, ["matches": false])
            }
            switch TriggerConsumer.startRequest(rule, record: record, value: value, region: region, account: account) {
            case .success(let start):
                return APIServer.json(200, [
                    "matches": true, "stateMachineArn": .string(start.stateMachineArn), "executionName": .string(start.name ?? ""),
                    "input": start.input.flatMap { try? JSON.parse($0) } ?? .object([:]),
                ])
            case .failure(let e):
                return APIServer.json(200, ["matches": true, "error": .string(e.message)])
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
