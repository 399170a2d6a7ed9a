import Foundation
import StatesCore

/// The `stepline conformance iam-policy` protocol: one case per line,
/// `{"policies": [...], "action", "resource", "resourceAccount"?, "principal"?, "context"?}`,
/// answered `{"decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"}`, or
/// `{"error": "..."}` for an invalid policy or case.
public enum PolicyConformance {
    public static func answer(caseLine: String) -> String {
        var out: JSONObject = [:]
        let json: JSON
        do {
            json = try JSON.parse(caseLine)
        } catch {
            out["error"] = .string("the case is not valid JSON: \(error)")
            return JSON.object(out).serialized()
        }
        if let id = json["id"] { out["id"] = id }
        do {
            out["decision"] = .string(try evaluate(json).decision.rawValue)
        } catch {
            out["error"] = .string("\(error)")
        }
        return JSON.object(out).serialized()
    }

    struct BadCase: Error, CustomStringConvertible {
        var description: String
    }

    /// The evaluation of one case (a `PolicyError` for an invalid policy).
    public static func evaluate(_ json: JSON) throws -> PolicyEvaluation {
        guard case .object(let o) = json else { throw BadCase(description: "a case is a JSON object") }
        guard case .array(let documents)? = o["policies"] else { throw BadCase(description: "policies must be a list of policy documents") }
        var policies: [Policy] = []
        for (i, document) in documents.enumerated() {
            let name = "policy\(i + 1)"
            switch document {
            case .string(let text): policies.append(try Policy(name: name, text: text))
            default: policies.append(try Policy(name: name, json: document))
            }
        }
        guard let action = o["action"]?.stringValue, let resource = o["resource"]?.stringValue else {
            throw BadCase(description: "action and resource are required strings")
        }
        var context = RequestContext()
        if case .object(let c)? = o["context"] {
            for (key, value) in c {
                switch value {
                case .array(let items): context[key] = items.map { $0.stringValue ?? $0.serialized() }
                case .string(let s): context[key] = [s]
                case .null: break
                default: context[key] = [value.serialized()]
                }
            }
        }
        let request = AuthorizationRequest(action: action, resource: resource, principal: o["principal"]?.stringValue,
                                           resourceAccount: o["resourceAccount"]?.stringValue, context: context)
        return PolicyEvaluator.evaluate(policies, request, now: Date().timeIntervalSince1970)
    }
}
