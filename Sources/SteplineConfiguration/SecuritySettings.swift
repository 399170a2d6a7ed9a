import Foundation
import StatesCore
import SteplineSecurity
import Yams

/// The `security` section: who may call the API (SigV4 access keys and their principals),
/// what they may do (IAM policies by name), and what a state machine's role lets its tasks do.
public struct SecuritySettings: Sendable {
    public enum Authentication: String, Sendable {
        case none
        case sigv4
    }

    /// A principal and the names of its policies, by access key.
    public struct Principal: Sendable {
        public var key: AccessKey
        public var policies: [String]
    }

    /// A role that state machines name in `roleArn`.
    public struct Role: Sendable {
        public var arn: String
        public var policies: [String]
    }

    public var authentication = Authentication.none
    /// `authentication` was written in the file (not the default).
    public var authenticationGiven = false
    /// `allowUnauthenticated: true`: the operator accepts an API without authentication on a
    /// non-loopback address.
    public var allowUnauthenticated = false
    public var principals: [Principal] = []
    public var policies: [String: Policy] = [:]
    public var roles: [Role] = []

    public init() {}

    /// The access keys for the verifier.
    public var keys: [AccessKey] { principals.map(\.key) }

    /// The policies of a list of names (all were checked to exist at load).
    public func policies(named names: [String]) -> [Policy] { names.compactMap { policies[$0] } }

    typealias Invalid = ServeConfiguration.Invalid

    static func parse(_ t: [String: Any], policyNodes: [String: Node], baseDirectory: String, environment: [String: String]) throws -> SecuritySettings {
        var s = SecuritySettings()
        try ServeConfiguration.check(t, "security", allowed: ["authentication", "allowUnauthenticated", "credentials", "policies", "roles"])
        if let a = try ServeConfiguration.string(t["authentication"], "security.authentication") {
            guard let mode = Authentication(rawValue: a.lowercased()) else {
                throw Invalid(description: "security.authentication: expected none or sigv4, got '\(a)'")
            }
            s.authentication = mode
            s.authenticationGiven = true
        }
        if let v = t["allowUnauthenticated"] {
            guard let b = v as? Bool else { throw Invalid(description: "security.allowUnauthenticated: expected true or false") }
            s.allowUnauthenticated = b
        }
        // By name, so that of several invalid policies the same one is reported at every start.
        for (name, value) in try ServeConfiguration.table(t["policies"], "security.policies").sorted(by: { $0.key < $1.key }) {
            s.policies[name] = try policy(name: name, value, node: policyNodes[name], baseDirectory: baseDirectory)
        }
        func checkNames(_ list: Any?, _ key: String) throws -> [String] {
            guard let list else { return [] }
            guard let items = list as? [Any] else { throw Invalid(description: "\(key): expected a list of policy names") }
            return try items.enumerated().map { i, item in
                guard let name = item as? String else { throw Invalid(description: "\(key)[\(i)]: expected a policy name") }
                guard s.policies[name] != nil else {
                    throw Invalid(description: "\(key)[\(i)]: no policy named '\(name)' in security.policies")
                }
                return name
            }
        }
        if let list = t["credentials"] {
            guard let items = list as? [Any] else { throw Invalid(description: "security.credentials: expected a list") }
            for (i, item) in items.enumerated() {
                let key = "security.credentials[\(i)]"
                let c = try ServeConfiguration.table(item, key)
                try ServeConfiguration.check(c, key, allowed: [
                    "accessKeyId", "secretAccessKey", "secretAccessKeyFile", "secretAccessKeyEnv", "sessionToken", "principal", "policies",
                ])
                guard let id = try ServeConfiguration.string(c["accessKeyId"], "\(key).accessKeyId"), !id.isEmpty else {
                    throw Invalid(description: "\(key).accessKeyId is required")
                }
                guard !s.principals.contains(where: { $0.key.id == id }) else {
                    throw Invalid(description: "\(key).accessKeyId: '\(id)' is given twice")
                }
                let secret = try Secret.read(c, name: "secretAccessKey", key: key, baseDirectory: baseDirectory, environment: environment)
                guard let principal = try ServeConfiguration.string(c["principal"], "\(key).principal"),
                    principal.hasPrefix("arn:"), principal.split(separator: ":", omittingEmptySubsequences: false).count >= 6
                else {
                    throw Invalid(description: "\(key).principal: expected the principal's ARN, e.g. arn:aws:iam::123456789012:user/alice")
                }
                let token = try ServeConfiguration.string(c["sessionToken"], "\(key).sessionToken")
                s.principals.append(Principal(key: AccessKey(id: id, secret: secret, principal: principal, sessionToken: token),
                                              policies: try checkNames(c["policies"], "\(key).policies")))
            }
        }
        if let list = t["roles"] {
            guard let items = list as? [Any] else { throw Invalid(description: "security.roles: expected a list") }
            for (i, item) in items.enumerated() {
                let key = "security.roles[\(i)]"
                let r = try ServeConfiguration.table(item, key)
                try ServeConfiguration.check(r, key, allowed: ["arn", "policies"])
                guard let arn = try ServeConfiguration.string(r["arn"], "\(key).arn"), arn.hasPrefix("arn:"), arn.contains(":role/") else {
                    throw Invalid(description: "\(key).arn: expected a role ARN, e.g. arn:aws:iam::123456789012:role/orders")
                }
                guard !s.roles.contains(where: { $0.arn == arn }) else { throw Invalid(description: "\(key).arn: '\(arn)' is given twice") }
                s.roles.append(Role(arn: arn, policies: try checkNames(r["policies"], "\(key).policies")))
            }
        }
        if s.authentication == .sigv4, s.principals.isEmpty {
            throw Invalid(description: "security.authentication: sigv4 needs at least one entry in security.credentials")
        }
        return s
    }

    /// A policy: inline (a mapping, or JSON text), or `{file: PATH}`.
    private static func policy(name: String, _ value: Any, node: Node?, baseDirectory: String) throws -> Policy {
        let key = "security.policies.\(name)"
        func fail(_ error: PolicyError) -> Invalid {
            Invalid(description: "\(key): \(error.statement.map { "\($0): " } ?? "")\(error.reason)")
        }
        do {
            if let text = value as? String { return try Policy(name: name, text: text) }
            if let t = value as? [String: Any], t.count == 1, let path = t["file"] as? String {
                let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
                guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
                    throw Invalid(description: "\(key).file: cannot read \(full)")
                }
                return try Policy(name: name, text: text)
            }
            guard let node, case .mapping = node else {
                throw Invalid(description: "\(key): expected a policy document (a mapping or JSON text) or {file: PATH}")
            }
            return try Policy(name: name, json: try YAMLJSON.json(node, key: key))
        } catch let e as PolicyError {
            throw fail(e)
        }
    }

    /// Why this configuration must not start, if it must not: an API without
    /// authentication on an address other hosts reach, unless the operator said so.
    public func exposureProblem(host: String) -> String? {
        guard authentication == .none, !Self.isLoopback(host), !allowUnauthenticated else { return nil }
        return "api.listen \(host) is reachable from other hosts and security.authentication is none: set security.authentication: sigv4 with credentials, or, to accept an API anyone on the network may use, security.allowUnauthenticated: true"
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// A secret from the file (`NAME`), a file (`NAMEFile`) or an environment variable (`NAMEEnv`):
/// exactly one of them. Never echoed in errors.
enum Secret {
    static func read(_ t: [String: Any], name: String, key: String, baseDirectory: String, environment: [String: String]) throws -> String {
        let given = [name, name + "File", name + "Env"].filter { t[$0] != nil }
        guard given.count == 1 else {
            throw ServeConfiguration.Invalid(description: "\(key): give exactly one of \(name), \(name)File, \(name)Env")
        }
        switch given[0] {
        case name:
            guard let v = t[name] as? String, !v.isEmpty else { throw ServeConfiguration.Invalid(description: "\(key).\(name): expected a string") }
            return v
        case name + "File":
            guard let path = t[name + "File"] as? String else { throw ServeConfiguration.Invalid(description: "\(key).\(name)File: expected a path") }
            let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
            guard let text = try? String(contentsOfFile: full, encoding: .utf8) else {
                throw ServeConfiguration.Invalid(description: "\(key).\(name)File: cannot read \(full)")
            }
            let v = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !v.isEmpty else { throw ServeConfiguration.Invalid(description: "\(key).\(name)File: \(full) is empty") }
            return v
        default:
            guard let variable = t[name + "Env"] as? String else { throw ServeConfiguration.Invalid(description: "\(key).\(name)Env: expected a variable name") }
            guard let v = environment[variable], !v.isEmpty else {
                throw ServeConfiguration.Invalid(description: "\(key).\(name)Env: the environment variable \(variable) is not set")
            }
            return v
        }
    }
}
