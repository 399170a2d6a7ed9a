import ControlPlane
import StatesLanguage

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
    let triggers: any TriggerControl

    /// The answer to a request under `/triggers`, nil for any other path.
    func answer(_ request: HTTPServerRequest) -> HTTPServerResponse? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard parts.first == "triggers" else { return nil }
        if request.bodyTooLarge { return Self.error(ServiceError.validation("the body exceeds 1 MB")) }
        do {
            switch (request.method, parts.count) {
            case (.GET, 1):
                return APIServer.json(200, ["triggers": .array(triggers.listTriggers())])
            case (.GET, 2):
                return APIServer.json(200, try triggers.describeTrigger(name: parts[1]))
            case (.PUT, 2):
                return APIServer.json(200, try triggers.putTrigger(name: parts[1], body: request.body))
            case (.POST, 3) where parts[2] == "test":
                let q = request.query
                return APIServer.json(200, try triggers.testTrigger(
                    name: parts[1], value: request.body, key: q["key"], topic: q["topic"], partition: q["partition"].flatMap { Int32($0) },
                    offset: q["offset"].flatMap { Int64($0) }))
            case (.DELETE, 2):
                try triggers.deleteTrigger(name: parts[1])
                return APIServer.json(200, [:])
            default:
                return nil
            }
        } catch let e as ServiceError {
            return Self.error(e)
        } catch {
            return Self.error(ServiceError.validation("\(error)"))
        }
    }

    /// `{"__type", "message"}`: 404 for a rule that is not there, 400 otherwise.
    static func error(_ e: ServiceError) -> HTTPServerResponse {
        APIServer.json(e.code == .resourceNotFound ? 404 : 400, ["__type": .string(e.type), "message": .string(e.message)])
    }
}
