import Foundation
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
    ///
    /// With `access`, the caller's policies must allow the route's action (`stepline:ListTriggers`,
    /// `GetTrigger`, `PutTrigger`, `DeleteTrigger`, `TestTrigger`) on the rule's ARN
    /// (`arn:aws:stepline:REGION:ACCOUNT:trigger/NAME`).
    func answer(_ request: HTTPServerRequest, caller: Caller? = nil, access: AccessControl? = nil) -> HTTPServerResponse? {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard parts.first == "triggers" else { return nil }
        if request.bodyTooLarge { return Self.error(ServiceError.validation("the body exceeds 1 MB")) }
        do {
            if let access {
                guard let caller else { throw ServiceError(.accessDenied, "The request is not authenticated") }
                let action: String? = switch (request.method, parts.count) {
                case (.GET, 1): "ListTriggers"
                case (.GET, 2): "GetTrigger"
                case (.PUT, 2): "PutTrigger"
                case (.DELETE, 2): "DeleteTrigger"
                case (.POST, 3) where parts[2] == "test": "TestTrigger"
                default: nil
                }
                guard let action else { return nil }
                let resource = parts.count == 1 ? "*" : "arn:aws:stepline:\(access.region):\(access.account):trigger/\(parts[1].removingPercentEncoding ?? parts[1])"
                try access.authorize(caller, action: "stepline:" + action, resource: resource)
            }
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

    /// `{"__type", "message"}`: 404 for a rule that is not there, 403 for a denied one, 400 otherwise.
    static func error(_ e: ServiceError) -> HTTPServerResponse {
        APIServer.json(e.code == .resourceNotFound ? 404 : e.code == .accessDenied ? 403 : 400, ["__type": .string(e.type), "message": .string(e.message)])
    }
}
