import StatesCore

/// An IAM JSON policy document (identity-based), parsed and checked once.
///
/// The grammar is AWS's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html):
/// `Version`, `Id`, `Statement` (one or a list) of `Sid`, `Effect`, `Action`/`NotAction`,
/// `Resource`/`NotResource` and `Condition`. A principal has no place in an identity policy.
public struct Policy: Sendable {
    public enum Version: String, Sendable {
        case v2012 = "2012-10-17"
        /// The default when `Version` is absent: policy variables are plain text.
        case v2008 = "2008-10-17"
    }

    public enum Effect: String, Sendable {
        case allow = "Allow"
        case deny = "Deny"
    }

    /// `Action` or `NotAction`, `Resource` or `NotResource`.
    enum Match<T: Sendable>: Sendable {
        case only(T)
        case allBut(T)
    }

    struct Statement: Sendable {
        var sid: String?
        /// 1-based position in the policy, for messages.
        var position: Int
        var effect: Effect
        var actions: Match<[Wildcard]>
        /// Raw text: policy variables are resolved per request.
        var resources: Match<[String]>
        var conditions: [Condition]

        var label: String { sid.map { "statement '\($0)'" } ?? "statement \(position)" }
    }

    public let name: String
    public let version: Version
    let statements: [Statement]

    /// - Parameter name: how errors and decisions name the policy.
    /// - Throws: `PolicyError` naming the statement and the reason.
    public init(name: String, text: String) throws(PolicyError) {
        let json: JSON
        do {
            json = try JSON.parse(text, maxDepth: 32)
        } catch {
            throw PolicyError(policy: name, statement: nil, reason: "the policy is not valid JSON: \(error)")
        }
        if let key = DuplicateKeys.first(in: text) {
            throw PolicyError(policy: name, statement: nil, reason: "the element '\(key)' is given twice in one object")
        }
        try self.init(name: name, json: json)
    }

    public init(name: String, json: JSON) throws(PolicyError) {
        self.name = name
        func fail(_ reason: String, _ statement: String? = nil) -> PolicyError {
            PolicyError(policy: name, statement: statement, reason: reason)
        }
        guard case .object(let document) = json else { throw fail("a policy document is a JSON object") }
        for key in document.orderedKeys where !["Version", "Id", "Statement"].contains(key) {
            throw fail("unknown element '\(key)' (a policy holds Version, Id and Statement)")
        }
        switch document["Version"] {
        case nil: version = .v2008
        case .string(let v)?:
            guard let known = Version(rawValue: v) else { throw fail("Version '\(v)' is not valid: use 2012-10-17") }
            version = known
        default: throw fail("Version must be a string (2012-10-17)")
        }
        if let id = document["Id"], id.stringValue == nil { throw fail("Id must be a string") }
        let list: [JSON]
        switch document["Statement"] {
        case .object?: list = [document["Statement"]!]
        case .array(let a)?: list = a
        case nil: throw fail("the policy has no Statement")
        default: throw fail("Statement must be an object or a list of objects")
        }
        guard !list.isEmpty else { throw fail("Statement is empty") }
        var statements: [Statement] = []
        var sids: Set<String> = []
        for (i, item) in list.enumerated() {
            let statement = try Self.statement(item, position: i + 1, policy: name)
            if let sid = statement.sid {
                guard sids.insert(sid).inserted else { throw fail("Statement IDs (SID) in a single policy must be unique: '\(sid)' repeats") }
            }
            statements.append(statement)
        }
        self.statements = statements
    }

    private static func statement(_ json: JSON, position: Int, policy: String) throws(PolicyError) -> Statement {
        var label = "statement \(position)"
        func fail(_ reason: String) -> PolicyError { PolicyError(policy: policy, statement: label, reason: reason) }
        guard case .object(let o) = json else { throw fail("a statement is a JSON object") }
        var sid: String?
        if let s = o["Sid"] {
            guard let text = s.stringValue else { throw fail("Sid must be a string") }
            label = "statement '\(text)'"
            guard text.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }) else {
                throw fail("Statement IDs (SID) must be alpha-numeric")
            }
            sid = text
        }
        for key in o.orderedKeys {
            switch key {
            case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition": break
            case "Principal", "NotPrincipal": throw fail("Policy document should not specify a principal (\(key)): this is an identity policy")
            default: throw fail("unknown element '\(key)'")
            }
        }
        guard let effectText = o["Effect"]?.stringValue else { throw fail("Effect is required: Allow or Deny") }
        guard let effect = Effect(rawValue: effectText) else { throw fail("Invalid effect: '\(effectText)' (Allow or Deny)") }

        let actions: Match<[Wildcard]>
        switch (o["Action"], o["NotAction"]) {
        case (let a?, nil): actions = .only(try patterns(a, "Action", label: label, policy: policy).map(action(label: label, policy: policy)))
        case (nil, let a?): actions = .allBut(try patterns(a, "NotAction", label: label, policy: policy).map(action(label: label, policy: policy)))
        case (nil, nil): throw fail("Policy statement must contain actions (Action or NotAction)")
        default: throw fail("a statement has Action or NotAction, not both")
        }
        let resources: Match<[String]>
        switch (o["Resource"], o["NotResource"]) {
        case (let r?, nil): resources = .only(try patterns(r, "Resource", label: label, policy: policy).map(resource(label: label, policy: policy)))
        case (nil, let r?): resources = .allBut(try patterns(r, "NotResource", label: label, policy: policy).map(resource(label: label, policy: policy)))
        case (nil, nil): throw fail("Policy statement must contain resources (Resource or NotResource)")
        default: throw fail("a statement has Resource or NotResource, not both")
        }
        var conditions: [Condition] = []
        if let c = o["Condition"] {
            do {
                conditions = try Condition.parse(c)
            } catch {
                throw fail(error.reason)
            }
        }
        return Statement(sid: sid, position: position, effect: effect, actions: actions, resources: resources, conditions: conditions)
    }

    private static func patterns(_ json: JSON, _ element: String, label: String, policy: String) throws(PolicyError) -> [String] {
        let list: [JSON]
        if case .array(let a) = json { list = a } else { list = [json] }
        var out: [String] = []
        for item in list {
            guard let s = item.stringValue else {
                throw PolicyError(policy: policy, statement: label, reason: "\(element) must be a string or a list of strings")
            }
            out.append(s)
        }
        guard !out.isEmpty else { throw PolicyError(policy: policy, statement: label, reason: "\(element) is empty") }
        return out
    }

    private static func action(label: String, policy: String) -> (String) throws(PolicyError) -> Wildcard {
        { (text: String) throws(PolicyError) -> Wildcard in
            if text == "*" { return Wildcard(text) }
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw PolicyError(policy: policy, statement: label, reason: parts.count < 2
                    ? "Action '\(text)' must be prefaced by a vendor, e.g. states:StartExecution"
                    : "Action '\(text)' can contain only one colon")
            }
            guard !parts[0].isEmpty, parts[0].unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "*" || $0 == "?") })
            else { throw PolicyError(policy: policy, statement: label, reason: "Action '\(text)': vendor '\(parts[0])' is not valid") }
            guard !parts[1].isEmpty else { throw PolicyError(policy: policy, statement: label, reason: "Action '\(text)' names no action") }
            return Wildcard(text)
        }
    }

    private static func resource(label: String, policy: String) -> (String) throws(PolicyError) -> String {
        { (text: String) throws(PolicyError) -> String in
            if text == "*" { return text }
            guard text.hasPrefix("arn:") || text.hasPrefix("${") else {
                throw PolicyError(policy: policy, statement: label, reason: "Resource '\(text)' must be in ARN format or \"*\"")
            }
            let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            if text.hasPrefix("arn:"), parts.count < 6, !(parts.last?.hasSuffix("*") ?? false) {
                throw PolicyError(policy: policy, statement: label, reason: "Resource '\(text)' must be in ARN format (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or \"*\"")
            }
            return text
        }
    }
}

/// A policy that is not valid: which policy, which statement, and why.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var policy: String
    public var statement: String?
    public var reason: String

    public var description: String {
        "policy '\(policy)'" + (statement.map { ", \($0)" } ?? "") + ": " + reason
    }
}

extension Policy {
    /// Some statement tests a condition key starting with `prefix` (`aws:ResourceTag/`), or
    /// names it in a policy variable: callers then fetch what it needs.
    public func mentions(_ prefix: String) -> Bool {
        let p = prefix.lowercased()
        return statements.contains { s in
            if s.conditions.contains(where: { $0.key.lowercased().hasPrefix(p) || $0.values.contains { $0.lowercased().contains("${" + p) } }) {
                return true
            }
            switch s.resources {
            case .only(let r), .allBut(let r): return r.contains { $0.lowercased().contains("${" + p) }
            }
        }
    }
}
