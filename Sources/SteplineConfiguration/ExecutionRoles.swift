import SteplineKafka
import SteplineSecurity

/// `security.roles` as the task dispatcher asks them: the policies of the role a task runs as
/// decide what it may call (`RoleAuthorizer`).
///
/// A role that is not listed has no policies, so it may call nothing: otherwise naming an
/// unlisted role in `roleArn` or `Credentials.RoleArn` would escape the roles (AWS stops that
/// with `iam:PassRole` and with roles that must exist; Stepline accepts any role ARN).
public struct ExecutionRoles: RoleAuthorizer {
    let policies: [String: [Policy]]
    let region: String

    /// - Parameter roles: each role's ARN and policies.
    public init(roles: [(arn: String, policies: [Policy])], region: String) {
        var byArn: [String: [Policy]] = [:]
        for r in roles { byArn[r.arn] = r.policies }
        policies = byArn
        self.region = region
    }

    public func authorize(role: String, action: String, resource: String, now: Int64) -> RoleDecision {
        var context = RequestContext()
        context["aws:RequestedRegion"] = [region]
        let evaluation = PolicyEvaluator.evaluate(
            policies[role] ?? [], AuthorizationRequest(action: action, resource: resource, principal: role, context: context),
            now: Double(now) / 1000)
        switch evaluation.decision {
        case .allowed: return .allowed
        case .implicitlyDenied: return .implicitlyDenied
        case .explicitlyDenied: return .explicitlyDenied
        }
    }
}

extension SecuritySettings {
    /// The roles the dispatcher checks tasks against; nil without `security.roles`, when
    /// every task may call what it calls.
    public func executionRoles(region: String) -> ExecutionRoles? {
        guard !roles.isEmpty else { return nil }
        return ExecutionRoles(roles: roles.map { ($0.arn, policies(named: $0.policies)) }, region: region)
    }
}
