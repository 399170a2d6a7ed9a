import ControlPlane
import Foundation
import StatesEngine
import StatesLanguage
import SteplineSecurity

extension ServiceError.Code {
    public static let accessDenied = ServiceError.Code(rawValue: "AccessDeniedException")
}

/// Who asks: the principal of the access key that signed the request, and its policies.
public struct Caller: Sendable {
    public var principal: String
    public var accessKeyID: String
    let policies: [Policy]
    /// The principal's condition keys, to which each request adds its own.
    let context: RequestContext
}

/// `security.authentication: sigv4`: every API request is signed (SigV4) by a configured
/// access key, and its principal's IAM policies must allow the action on the resource.
///
/// The actions and resources are AWS's for Step Functions (the Service Authorization
/// Reference, `states:`), EventBridge's `events:TestEventPattern`, and Stepline's own
/// `stepline:` actions for the trigger API (docs/security.md).
public final class AccessControl: Sendable {
    let verifier: SigV4Verifier
    private let principals: [String: (principal: String, policies: [Policy], context: RequestContext)]
    let region: String
    let account: String
    /// Some policy tests `aws:ResourceTag/...`: only then are a resource's tags read.
    let readsResourceTags: Bool
    /// `aws:SecureTransport`.
    let secureTransport: Bool

    /// - Parameter principals: each access key with its principal's policies.
    public init(principals: [(key: AccessKey, policies: [Policy])], region: String, account: String, secureTransport: Bool = false) {
        verifier = SigV4Verifier(keys: principals.map(\.key), region: region, services: ["states", "events"])
        var byKey: [String: (String, [Policy], RequestContext)] = [:]
        for p in principals {
            // The keys that do not change from one request to the next, made once.
            var context = PolicyEvaluator.principalContext(p.key.principal)
            context["aws:RequestedRegion"] = [region]
            context["aws:SecureTransport"] = [secureTransport ? "true" : "false"]
            byKey[p.key.id] = (p.key.principal, p.policies, context)
        }
        self.principals = byKey
        self.region = region
        self.account = account
        self.secureTransport = secureTransport
        readsResourceTags = principals.contains { $0.policies.contains { $0.mentions("aws:ResourceTag/") } }
    }

    /// The caller of a request, or AWS's authentication error.
    public func authenticate(_ request: HTTPServerRequest, now: Int64 = Int64(Date().timeIntervalSince1970)) -> Result<Caller, AuthenticationError> {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count)
        for h in request.headers { headers.append((h.name, h.value)) }
        let signed = SignedRequest(method: request.method.rawValue, rawPath: request.path, rawQuery: request.rawQuery, headers: headers,
                                   body: request.body)
        do {
            let key = try verifier.verify(signed, now: now)
            let p = principals[key.id]!
            return .success(Caller(principal: p.principal, accessKeyID: key.id, policies: p.policies, context: p.context))
        } catch {
            return .failure(error)
        }
    }

    /// Throws AWS's `AccessDeniedException` unless the caller's policies allow `action` on
    /// `resource`.
    public func authorize(_ caller: Caller, action: String, resource: String, context: RequestContext? = nil) throws(ServiceError) {
        let evaluation = PolicyEvaluator.evaluate(
            caller.policies, AuthorizationRequest(action: action, resource: resource, principal: caller.principal, context: context ?? caller.context),
            now: Date().timeIntervalSince1970, globalKeys: false)
        switch evaluation.decision {
        case .allowed: return
        case .explicitlyDenied:
            throw ServiceError(.accessDenied, "User: \(caller.principal) is not authorized to perform: \(action) on resource: \(resource) with an explicit deny in an identity-based policy")
        case .implicitlyDenied:
            throw ServiceError(.accessDenied, "User: \(caller.principal) is not authorized to perform: \(action) on resource: \(resource) because no identity-based policy allows the \(action) action")
        }
    }

    /// Authorizes a Step Functions action on the resource its request names, with the
    /// condition keys AWS sets for it (tags of the request and of the resource).
    func authorize(_ caller: Caller, stepFunctionsAction action: String, body: JSONObject, control: any StepFunctionsControl) async throws(ServiceError) {
        let target = ActionResources.target(action: action, body: body, region: region, account: account)
        var context = caller.context
        for (k, v) in target.requestTags { context["aws:RequestTag/\(k)"] = [v] }
        if let keys = target.tagKeys { context["aws:TagKeys"] = keys }
        if readsResourceTags, let tagged = target.taggedResource.map(ActionResources.machine),
            let tags = try? await control.listTagsForResource(ResourceARN(tagged))
        {
            for tag in tags { context["aws:ResourceTag/\(tag.key)"] = [tag.value] }
        }
        try authorize(caller, action: "states:" + action, resource: target.resource, context: context)
    }
}

/// The resource of each Step Functions action and the tags its request carries.
enum ActionResources {
    /// A version or alias ARN's state machine (`...:stateMachine:NAME[:QUALIFIER]`).
    static func machine(_ arn: String) -> String {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 7 ? parts.prefix(7).joined(separator: ":") : arn
    }

    struct Target {
        var resource: String
        /// The state machine or activity whose tags are `aws:ResourceTag/...`.
        var taggedResource: String?
        var requestTags: [(String, String)] = []
        var tagKeys: [String]?
    }

    static func target(action: String, body: JSONObject, region: String, account: String) -> Target {
        func field(_ name: String) -> String? { body[name]?.stringValue }
        // Tags are read from the state machine of a version or alias ARN (`machine`), and
        // only when a policy asks for them: `authorize` maps the ARN given here.
        func tags() -> [(String, String)] {
            (body["tags"]?.arrayValue ?? []).compactMap { t in
                guard let k = t["key"]?.stringValue else { return nil }
                return (k, t["value"]?.stringValue ?? "")
            }
        }
        switch action {
        case "CreateStateMachine":
            let t = tags()
            return Target(resource: ARNs.stateMachine(region: region, account: account, name: field("name") ?? ""), requestTags: t,
                          tagKeys: t.map(\.0))
        case "CreateActivity":
            let t = tags()
            return Target(resource: ARNs.activity(region: region, account: account, name: field("name") ?? ""), requestTags: t,
                          tagKeys: t.map(\.0))
        case "TagResource":
            let arn = field("resourceArn") ?? "*"
            let t = tags()
            return Target(resource: arn, taggedResource: arn, requestTags: t, tagKeys: t.map(\.0))
        case "UntagResource":
            let arn = field("resourceArn") ?? "*"
            return Target(resource: arn, taggedResource: arn, tagKeys: body["tagKeys"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        case "ListTagsForResource":
            let arn = field("resourceArn") ?? "*"
            return Target(resource: arn, taggedResource: arn)
        case "ListExecutions":
            if let mapRun = field("mapRunArn") { return Target(resource: mapRun) }
            let arn = field("stateMachineArn") ?? "*"
            return Target(resource: arn, taggedResource: arn)
        case "DescribeStateMachine", "UpdateStateMachine", "DeleteStateMachine", "StartExecution", "StartSyncExecution",
            "PublishStateMachineVersion", "ListStateMachineVersions", "ListStateMachineAliases":
            let arn = field("stateMachineArn") ?? "*"
            return Target(resource: arn, taggedResource: arn)
        case "DeleteStateMachineVersion":
            let arn = field("stateMachineVersionArn") ?? "*"
            return Target(resource: arn, taggedResource: arn)
        case "DescribeStateMachineAlias", "UpdateStateMachineAlias", "DeleteStateMachineAlias":
            let arn = field("stateMachineAliasArn") ?? "*"
            return Target(resource: arn, taggedResource: arn)
        case "CreateStateMachineAlias":
            // The alias's own ARN: its state machine (from the first route's version) and name.
            let version = body["routingConfiguration"]?.arrayValue?.first?["stateMachineVersionArn"]?.stringValue ?? ""
            let base = Self.machine(version)
            return Target(resource: base.isEmpty ? "*" : base + ":" + (field("name") ?? ""), taggedResource: base)
        case "DescribeExecution", "StopExecution", "GetExecutionHistory", "RedriveExecution", "DescribeStateMachineForExecution",
            "ListMapRuns":
            return Target(resource: field("executionArn") ?? "*")
        case "DescribeMapRun", "UpdateMapRun":
            return Target(resource: field("mapRunArn") ?? "*")
        case "DescribeActivity", "DeleteActivity", "GetActivityTask":
            let arn = field("activityArn") ?? "*"
            return Target(resource: arn, taggedResource: arn)
        default:
            // ListStateMachines, ListActivities, SendTask*, TestState, ValidateStateMachineDefinition.
            return Target(resource: "*")
        }
    }
}
