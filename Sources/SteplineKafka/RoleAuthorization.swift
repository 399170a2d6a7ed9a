import StatesEngine
import StatesLanguage

/// Whether a role may call an action on a resource: the port through which the task
/// dispatcher asks the roles' policies (`security.roles`). The daemon implements it over the
/// configuration, so that this module needs neither the configuration nor the policy
/// evaluator.
public protocol RoleAuthorizer: Sendable {
    /// - Parameters:
    ///   - role: the role's ARN (`arn:aws:iam::ACCOUNT:role/NAME`).
    ///   - now: epoch milliseconds (`aws:CurrentTime`).
    func authorize(role: String, action: String, resource: String, now: Int64) -> RoleDecision
}

/// What a role's policies decide for one call (IAM's decisions).
public enum RoleDecision: Sendable, Equatable {
    case allowed
    /// No statement allows it.
    case implicitlyDenied
    /// A `Deny` statement matches.
    case explicitlyDenied
}

/// A task its role does not allow: the Task's error and cause.
public struct TaskDenial: Sendable, Equatable {
    public var error: String
    public var cause: String
}

/// Checks each task request against its role before it leaves the daemon.
///
/// The role is the Task's `Credentials.RoleArn` when it has one, else the execution's
/// (`TaskRequest.taskRoleArn`). A task that runs as another role than the execution's needs
/// `sts:AssumeRole` on that role from the execution's role, as on AWS (Stepline has no trust
/// policies: the target role's side is not checked). A request without a role (written by a
/// version before roles were enforced) is not checked.
public struct RoleAuthorization: Sendable {
    let authorizer: any RoleAuthorizer
    let region: String
    let account: String

    public init(authorizer: any RoleAuthorizer, region: String, account: String) {
        self.authorizer = authorizer
        self.region = region
        self.account = account
    }

    /// The failure of `request` when its role does not allow it; nil when it may go.
    ///
    /// - Parameters:
    ///   - requestID: the request id the cause quotes, as AWS's SDK does.
    ///   - now: epoch milliseconds.
    public func denial(for request: TaskRequest, requestID: String, now: Int64) -> TaskDenial? {
        guard let role = request.taskRoleArn else { return nil }
        let permissions = TaskPermissions.required(for: request, region: region, account: account)
        guard !permissions.isEmpty else { return nil }
        if let executionRole = request.roleArn, executionRole != role {
            let decision = authorizer.authorize(role: executionRole, action: "sts:AssumeRole", resource: role, now: now)
            if decision != .allowed {
                // Step Functions cannot get the task's credentials, so no service is called:
                // the Task fails as a task does (States.TaskFailed), with STS's refusal.
                let message = Self.message(decision, principal: Self.sessionArn(role: executionRole, token: request.token),
                                           action: "sts:AssumeRole", resource: role)
                return TaskDenial(error: StatesError.Name.taskFailed,
                                  cause: "\(message) (Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied; Request ID: \(requestID); Proxy: null)")
            }
        }
        for permission in permissions {
            let decision = authorizer.authorize(role: role, action: permission.action, resource: permission.resource, now: now)
            guard decision != .allowed else { continue }
            let s = permission.service
            let message = Self.message(decision, principal: Self.sessionArn(role: role, token: request.token),
                                       action: s.spell(permission.action), resource: permission.resource)
            return TaskDenial(
                error: s.error,
                cause: "\(message) (Service: \(s.sdkName); Status Code: \(s.statusCode); Error Code: \(s.errorCode); Request ID: \(requestID); Proxy: null)")
        }
        return nil
    }

    /// IAM's denial message, as `AccessControl` writes it for the API.
    static func message(_ decision: RoleDecision, principal: String, action: String, resource: String) -> String {
        let head = "User: \(principal) is not authorized to perform: \(action) on resource: \(resource)"
        return decision == .explicitlyDenied
            ? head + " with an explicit deny in an identity-based policy"
            : head + " because no identity-based policy allows the \(action) action"
    }

    /// The session Step Functions holds the role in: `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    ///
    /// AWS behaviour: the session name is 32 random letters; here they derive from the task
    /// token, so that a request dispatched again names the same session.
    static func sessionArn(role: String, token: TaskToken) -> String {
        let parts = role.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn" else { return role }
        let name = parts[5].split(separator: "/").last.map(String.init) ?? String(parts[5])
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        let session = String(Digest.sha256(Array(token.rawValue.utf8)).map { letters[Int($0) % letters.count] })
        return "arn:\(parts[1]):sts::\(parts[4]):assumed-role/\(name)/\(session)"
    }
}
