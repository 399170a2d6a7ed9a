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
struct TriggerRoutes: Sendable {
    let registry: TriggerRegistry
    let region: String
    let account: String

    /// The answer to a request under `/triggers`, nil for any other path.
    func answer(_ request: HTTPServerRequest) -> HTTPServerResponse? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard parts.first == "triggers" else { return nil }
        if request.bodyTooLarge { return Self.invalid("the body exceeds 1 MB") }
        switch (request.method, parts.count) {
        case (.GET, 1):
            return APIServer.json(200, ["triggers": .array(registry.snapshot.rules.map(\.json))])
        case (.GET, 2):
            guard let rule = registry.snapshot.rules.first(where: { $0.name == parts[1] }) else { return Self.notFound(parts[1]) }
            return APIServer.json(200, rule.json)
        case (.PUT, 2):
            return put(name: parts[1], body: request.body)
        case (.POST, 3) where parts[2] == "test":
            return test(name: parts[1], body: request.body, query: request.query)
        case (.DELETE, 2):
            do {
                return try registry.delete(name: parts[1]) ? APIServer.json(200, [:]) : Self.notFound(parts[1])
            } catch let e as TriggerRule.Invalid {
                return Self.invalid(e.message)
            } catch {
                return Self.invalid("\(error)")
            }
        default:
            return nil
        }
    }

    private func put(name: String, body: [UInt8]) -> HTTPServerResponse {
        let parsed: JSON
        do { parsed = try JSON.parse(bytes: body) } catch { return Self.invalid("the body is not JSON: \(error)") }
        guard case .object(var o) = parsed else {
            return Self.invalid("the body must be a trigger rule as a JSON object")
        }
        let text = String(decoding: body, as: UTF8.self)  // UTF-8: the parser checked it
        // The pattern as written, so that its numbers are compared exactly.
        if case .object? = o["pattern"], let raw = try? JSON.rawMembers(ofObject: text).last(where: { $0.key == "pattern" }) {
            o["pattern"] = .string(raw.text)
        }
        if let given = o["name"]?.stringValue, given != name {
            return Self.invalid("the rule's name '\(given)' differs from the path's '\(name)'")
        }
        o["name"] = .string(name)
        o.removeValue(forKey: "source")
        do {
            let rule = try TriggerRule.from(json: .object(o), source: .api)
            try registry.put(rule)
            return APIServer.json(200, rule.json)
        } catch let e as TriggerRule.Invalid {
            return Self.invalid(e.message)
        } catch {
            return Self.invalid("\(error)")
        }
    }

    private func test(name: String, body: [UInt8], query q: [String: String]) -> HTTPServerResponse {
        guard let rule = registry.snapshot.rules.first(where: { $0.name == name }) else { return Self.notFound(name) }
        let record = KafkaRecord(
            topic: q["topic"] ?? rule.topic, partition: Int32(q["partition"] ?? "") ?? 0, offset: Int64(q["offset"] ?? "") ?? 0,
            key: q["key"].map { Array($0.utf8) }, value: body, timestampMilliseconds: nil)
        guard let event = try? body.withUnsafeBufferPointer({ try FlattenedEvent(utf8: $0) }), let value = try? JSON.parse(bytes: body) else {
            return Self.invalid("the body must be the record value as JSON")
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

    static func invalid(_ message: String) -> HTTPServerResponse {
        APIServer.json(400, ["__type": "ValidationException", "message": .string(message)])
    }

    static func notFound(_ name: String) -> HTTPServerResponse {
        APIServer.json(404, ["__type": "ResourceNotFound", "message": .string("Trigger Does Not Exist: '\(name)'")])
    }
}
