/// The request context: condition keys and their values, looked up without regard to the
/// case of the key (IAM's rule); a key may hold several values (`aws:TagKeys`).
public struct RequestContext: Sendable {
    private var entries: [String: [String]] = [:]
    /// Seconds since the epoch: `aws:CurrentTime` and `aws:EpochTime` when they are not
    /// given, made only when a policy asks.
    public var now: Double?

    public init(_ values: [String: [String]] = [:]) {
        for (k, v) in values { entries[k.lowercased()] = v }
    }

    public subscript(key: String) -> [String]? {
        get { values(key) }
        set { entries[key.lowercased()] = newValue }
    }

    public func values(_ key: String) -> [String]? { values(lowercasedKey: key.lowercased()) }

    func values(lowercasedKey key: String) -> [String]? {
        if let v = entries[key] { return v }
        guard let now else { return nil }
        switch key {
        case "aws:epochtime": return [String(Int64(now))]
        case "aws:currenttime": return [SigV4Verifier.iso8601(Int64(now))]
        default: return nil
        }
    }

    /// Sets `key` unless the caller gave it.
    public mutating func setDefault(_ key: String, _ value: [String]) {
        let k = key.lowercased()
        if entries[k] == nil { entries[k] = value }
    }
}

/// Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${aws:username, 'anonymous'}`,
/// and the literals `${*}`, `${?}`, `${$}`), resolved from the request context.
struct PolicyVariables {
    let context: RequestContext

    /// The text with its variables replaced; nil when one has no value and no default
    /// (the element then matches nothing). `literal`: wildcards from `${*}`/`${?}` are plain
    /// characters (conditions compare strings); otherwise see `pattern`.
    func resolve(_ text: String, literal: Bool) -> String? {
        guard text.contains("${") else { return text }
        var out = ""
        for piece in pieces(text) {
            switch piece {
            case .text(let s): out += s
            case .literal(let c): out.append(c)
            case .missing: return nil
            }
        }
        return out
    }

    /// A wildcard pattern with the variables replaced, their values and `${*}` matched
    /// literally.
    func pattern(_ text: String) -> Wildcard? {
        guard text.contains("${") else { return Wildcard(text) }
        var tokens: [Wildcard.Token] = []
        for piece in pieces(text) {
            switch piece {
            case .text(let s): tokens += Wildcard(s).tokens
            case .literal(let c): tokens += c.unicodeScalars.map { .scalar($0) }
            case .missing: return nil
            }
        }
        return Wildcard(tokens: tokens)
    }

    private enum Piece {
        case text(String)
        case literal(String)
        case missing
    }

    private func pieces(_ text: String) -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            pieces.append(.text(String(rest[..<start.lowerBound])))
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                pieces.append(.text(String(rest[start.lowerBound...])))
                return pieces
            }
            let body = rest[start.upperBound..<end]
            rest = rest[rest.index(after: end)...]
            switch body {
            case "*", "?", "$":
                pieces.append(.literal(String(body)))
                continue
            default: break
            }
            var name = body
            var fallback: String?
            if let comma = body.firstIndex(of: ",") {
                name = body[..<comma]
                let d = body[body.index(after: comma)...].trimmingCharacters(in: .whitespaces)
                if d.count >= 2, d.hasPrefix("'"), d.hasSuffix("'") { fallback = String(d.dropFirst().dropLast()) }
            }
            let key = name.trimmingCharacters(in: .whitespaces)
            if let values = context.values(key), values.count == 1 {
                pieces.append(.literal(values[0]))
            } else if let fallback {
                pieces.append(.literal(fallback))
            } else {
                pieces.append(.missing)
            }
        }
        pieces.append(.text(String(rest)))
        return pieces
    }
}

/// What IAM decides for a request (the names of `simulate-custom-policy`).
public enum PolicyDecision: String, Sendable {
    case allowed = "Allowed"
    case explicitlyDenied = "ExplicitlyDenied"
    case implicitlyDenied = "ImplicitlyDenied"
}

/// A request to authorize: the action (`states:StartExecution`), the resource's ARN (or
/// `*` for actions without one), who asks, and the condition keys.
public struct AuthorizationRequest: Sendable {
    public var action: String
    public var resource: String
    public var principal: String?
    /// The account that owns the resource, when it differs from the ARN's (rare).
    public var resourceAccount: String?
    public var context: RequestContext

    public init(action: String, resource: String, principal: String? = nil, resourceAccount: String? = nil,
                context: RequestContext = RequestContext())
    {
        self.action = action
        self.resource = resource
        self.principal = principal
        self.resourceAccount = resourceAccount
        self.context = context
    }
}

/// The decision and the statements that made it.
public struct PolicyEvaluation: Sendable {
    public var decision: PolicyDecision
    /// The statements that matched with the deciding effect, named when asked (the API
    /// only needs the decision).
    let deciding: [(policy: Policy, statement: Int)]

    /// `policy: statement` of each statement that matched with the deciding effect.
    public var statements: [String] {
        deciding.map { "\($0.policy.name): \($0.policy.statements[$0.statement].label)" }
    }
}

/// Evaluates identity-based policies as AWS does
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
/// an explicit Deny in any statement wins; otherwise an Allow allows; otherwise the request
/// is implicitly denied. A request for a resource of another account than the principal's
/// needs that account's resource policy, which Stepline does not have: it is implicitly
/// denied (an explicit Deny still says so).
public enum PolicyEvaluator {
    /// - Parameters:
    ///   - now: seconds since the epoch, for `aws:CurrentTime` and `aws:EpochTime`.
    ///   - globalKeys: add the principal's keys to the context (false when the caller's
    ///     context already has them: `principalContext`).
    public static func evaluate(_ policies: [Policy], _ request: AuthorizationRequest, now: Double? = nil,
                                globalKeys: Bool = true) -> PolicyEvaluation
    {
        var context = request.context
        if globalKeys { Self.addGlobalKeys(&context, principal: request.principal, now: now) } else if let now { context.now = now }
        var allows: [(policy: Policy, statement: Int)] = []
        var denies: [(policy: Policy, statement: Int)] = []
        for policy in policies {
            let variables = policy.version == .v2012 ? PolicyVariables(context: context) : nil
            for (i, statement) in policy.statements.enumerated() where applies(statement, request, context, variables) {
                if statement.effect == .deny { denies.append((policy, i)) } else { allows.append((policy, i)) }
            }
        }
        if !denies.isEmpty { return PolicyEvaluation(decision: .explicitlyDenied, deciding: denies) }
        if let owner = request.resourceAccount, let principal = request.principal,
            let mine = account(ofPrincipal: principal), owner != mine
        {
            return PolicyEvaluation(decision: .implicitlyDenied, deciding: [])
        }
        if !allows.isEmpty { return PolicyEvaluation(decision: .allowed, deciding: allows) }
        return PolicyEvaluation(decision: .implicitlyDenied, deciding: [])
    }

    static func applies(_ s: Policy.Statement, _ request: AuthorizationRequest, _ context: RequestContext, _ variables: PolicyVariables?) -> Bool {
        switch s.actions {
        case .only(let patterns): guard patterns.contains(where: { $0.matches(request.action, ignoringCase: true) }) else { return false }
        case .allBut(let patterns): guard !patterns.contains(where: { $0.matches(request.action, ignoringCase: true) }) else { return false }
        }
        switch s.resources {
        case .only(let patterns): guard patterns.contains(where: { resource($0, matches: request.resource, variables) }) else { return false }
        case .allBut(let patterns): guard !patterns.contains(where: { resource($0, matches: request.resource, variables) }) else { return false }
        }
        return s.conditions.allSatisfy { $0.holds(in: context, variables: variables) }
    }

    private static func resource(_ pattern: String, matches arn: String, _ variables: PolicyVariables?) -> Bool {
        if pattern == "*" { return true }
        guard let wildcard = variables.map({ $0.pattern(pattern) }) ?? Wildcard(pattern) else { return false }
        if arn == "*" { return wildcard.tokens == [.any] }
        return ARNMatch.matches(wildcard, arn)
    }

    /// The keys AWS adds to every request: who asks and when.
    static func addGlobalKeys(_ context: inout RequestContext, principal: String?, now: Double?) {
        if let principal {
            context.setDefault("aws:PrincipalArn", [principal])
            if let account = account(ofPrincipal: principal) { context.setDefault("aws:PrincipalAccount", [account]) }
            let parts = principal.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            if parts.count == 6 {
                let resource = parts[5]
                if resource.hasPrefix("user/") {
                    context.setDefault("aws:username", [String(resource.split(separator: "/").last!)])
                    context.setDefault("aws:PrincipalType", ["User"])
                } else if resource.hasPrefix("role/") || resource.hasPrefix("assumed-role/") {
                    context.setDefault("aws:PrincipalType", ["AssumedRole"])
                } else if resource == "root" {
                    context.setDefault("aws:PrincipalType", ["Account"])
                }
            }
        }
        if let now { context.now = now }
    }

    /// The keys of a principal (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:username`,
    /// `aws:PrincipalType`), made once per principal and reused for its requests.
    public static func principalContext(_ principal: String) -> RequestContext {
        var context = RequestContext()
        addGlobalKeys(&context, principal: principal, now: nil)
        return context
    }

    static func account(ofPrincipal arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[4].isEmpty else { return nil }
        return String(parts[4])
    }
}
