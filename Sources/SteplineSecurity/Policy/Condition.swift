import Foundation
import StatesCore

/// One test of a statement's `Condition` block: an operator, a context key and the values
/// of the policy (any of which may match).
struct Condition: Sendable {
    enum Operator: String, Sendable, CaseIterable {
        case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike", stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
        case dateEquals = "DateEquals", dateNotEquals = "DateNotEquals"
        case dateLessThan = "DateLessThan", dateLessThanEquals = "DateLessThanEquals"
        case dateGreaterThan = "DateGreaterThan", dateGreaterThanEquals = "DateGreaterThanEquals"
        case bool = "Bool"
        case binaryEquals = "BinaryEquals"
        case ipAddress = "IpAddress", notIpAddress = "NotIpAddress"
        case arnEquals = "ArnEquals", arnLike = "ArnLike", arnNotEquals = "ArnNotEquals", arnNotLike = "ArnNotLike"
        case null = "Null"

        /// The operators that hold when no value matches ("not equals", "not like").
        var positive: Operator? {
            switch self {
            case .stringNotEquals: .stringEquals
            case .stringNotEqualsIgnoreCase: .stringEqualsIgnoreCase
            case .stringNotLike: .stringLike
            case .numericNotEquals: .numericEquals
            case .dateNotEquals: .dateEquals
            case .notIpAddress: .ipAddress
            case .arnNotEquals: .arnEquals
            case .arnNotLike: .arnLike
            default: nil
            }
        }
    }

    enum Qualifier: Sendable { case none, forAllValues, forAnyValue }

    var op: Operator
    var qualifier: Qualifier
    var ifExists: Bool
    /// As written; looked up without regard to case.
    var key: String
    /// `key` lower-cased once, for the lookups.
    var lookupKey: String
    var values: [String]

    struct Invalid: Error { var reason: String }

    static func parse(_ json: JSON) throws(Invalid) -> [Condition] {
        guard case .object(let block) = json else { throw Invalid(reason: "Condition must be an object of operators") }
        var out: [Condition] = []
        for (name, body) in block {
            var rest = Substring(name)
            var qualifier = Qualifier.none
            if rest.hasPrefix("ForAllValues:") {
                qualifier = .forAllValues
                rest = rest.dropFirst("ForAllValues:".count)
            } else if rest.hasPrefix("ForAnyValue:") {
                qualifier = .forAnyValue
                rest = rest.dropFirst("ForAnyValue:".count)
            }
            var ifExists = false
            if rest.hasSuffix("IfExists") {
                ifExists = true
                rest = rest.dropLast("IfExists".count)
            }
            guard let op = Operator(rawValue: String(rest)), !(op == .null && ifExists) else {
                throw Invalid(reason: "Invalid Condition type : \(name)")
            }
            guard case .object(let keys) = body, !keys.isEmpty else {
                throw Invalid(reason: "Condition \(name) must map context keys to values")
            }
            for (key, value) in keys {
                let list: [JSON]
                if case .array(let a) = value { list = a } else { list = [value] }
                guard !list.isEmpty else { throw Invalid(reason: "Condition \(name): no value for \(key)") }
                var values: [String] = []
                for item in list {
                    switch item {
                    case .string(let s): values.append(s)
                    case .bool(let b): values.append(b ? "true" : "false")
                    case .int, .double, .decimal: values.append(item.serialized())
                    default: throw Invalid(reason: "Condition \(name): the values of \(key) must be strings, numbers or booleans")
                    }
                }
                let condition = Condition(op: op, qualifier: qualifier, ifExists: ifExists, key: key, lookupKey: key.lowercased(), values: values)
                try condition.checkValues(name)
                out.append(condition)
            }
        }
        return out
    }

    /// Values the operator cannot compare are policy errors, not silent mismatches
    /// (policy variables are resolved later and checked then).
    private func checkValues(_ name: String) throws(Invalid) {
        for v in values where !v.contains("${") {
            switch op.positive ?? op {
            case .numericEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
                guard Double(v) != nil else { throw Invalid(reason: "Condition \(name): '\(v)' is not a number") }
            case .dateEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
                guard Self.date(v) != nil else { throw Invalid(reason: "Condition \(name): '\(v)' is not a date (ISO 8601 or epoch seconds)") }
            case .bool, .null:
                guard ["true", "false"].contains(v.lowercased()) else { throw Invalid(reason: "Condition \(name): '\(v)' is not true or false") }
            case .ipAddress:
                guard CIDR(v) != nil else { throw Invalid(reason: "Condition \(name): '\(v)' is not an IP address or CIDR range") }
            default: break
            }
        }
    }

    // MARK: - Evaluation

    /// Whether the condition holds for the request's context.
    func holds(in context: RequestContext, variables: PolicyVariables?) -> Bool {
        let present = context.values(lowercasedKey: lookupKey)
        if op == .null {
            let absent = present?.isEmpty ?? true
            return values.contains { ($0.lowercased() == "true") == absent }
        }
        guard let present, !present.isEmpty else {
            if ifExists { return true }
            switch qualifier {
            case .forAllValues: return true
            case .forAnyValue: return false
            case .none: return op.positive != nil
            }
        }
        // Values with their variables resolved: as text, and as wildcard patterns for the
        // Like and ARN operators (where `${*}` stays a literal `*`).
        let policyValues: [Value]
        if let variables {
            policyValues = values.compactMap { v in
                variables.resolve(v, literal: true).map { Value(text: $0, pattern: variables.pattern(v) ?? Wildcard($0)) }
            }
            if policyValues.isEmpty { return op.positive != nil && qualifier == .none }
        } else {
            policyValues = values.map { Value(text: $0, pattern: Wildcard($0)) }
        }
        switch qualifier {
        case .forAllValues: return present.allSatisfy { single($0, policyValues) }
        case .forAnyValue: return present.contains { single($0, policyValues) }
        case .none:
            // One value in most requests; with several, a positive operator needs one to
            // match, a negated one that none does.
            if let positive = op.positive {
                return !present.contains { Self.matches(positive, $0, policyValues) }
            }
            return present.contains { Self.matches(op, $0, policyValues) }
        }
    }

    struct Value {
        var text: String
        var pattern: Wildcard
    }

    private func single(_ value: String, _ policyValues: [Value]) -> Bool {
        if let positive = op.positive { return !Self.matches(positive, value, policyValues) }
        return Self.matches(op, value, policyValues)
    }

    /// A positive operator: does `value` match any of the policy's values?
    private static func matches(_ op: Operator, _ value: String, _ policyValues: [Value]) -> Bool {
        switch op {
        case .stringEquals: return policyValues.contains { $0.text == value }
        case .stringEqualsIgnoreCase:
            let v = value.lowercased()
            return policyValues.contains { $0.text.lowercased() == v }
        case .stringLike: return policyValues.contains { $0.pattern.matches(value) }
        case .numericEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
            guard let v = Double(value) else { return false }
            return policyValues.contains { p in
                guard let p = Double(p.text) else { return false }
                return compare(op, v, p)
            }
        case .dateEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard let v = date(value) else { return false }
            return policyValues.contains { p in
                guard let p = date(p.text) else { return false }
                return compare(op, v, p)
            }
        case .bool: return policyValues.contains { $0.text.lowercased() == value.lowercased() }
        case .binaryEquals: return policyValues.contains { $0.text == value }
        case .ipAddress:
            guard let address = CIDR(value) else { return false }
            return policyValues.contains { CIDR($0.text)?.contains(address) ?? false }
        case .arnEquals, .arnLike: return policyValues.contains { ARNMatch.matches($0.pattern, value) }
        default: return false
        }
    }

    private static func compare(_ op: Operator, _ v: Double, _ p: Double) -> Bool {
        switch op {
        case .numericEquals, .dateEquals: v == p
        case .numericLessThan, .dateLessThan: v < p
        case .numericLessThanEquals, .dateLessThanEquals: v <= p
        case .numericGreaterThan, .dateGreaterThan: v > p
        case .numericGreaterThanEquals, .dateGreaterThanEquals: v >= p
        default: false
        }
    }

    /// Seconds since the epoch of an ISO 8601 date or time (`2026-01-01`,
    /// `2026-01-01T12:00:00Z`, with a fraction or an offset) or of epoch seconds.
    static func date(_ text: String) -> Double? {
        if let seconds = Double(text), !text.contains("-") { return seconds }
        if let t = Timestamp(isoOffsetDateTime: text) ?? Timestamp(text) {
            return Double(t.secondsSinceEpoch) + Double(t.nanosecondOfSecond) / 1e9
        }
        let b = Array(text.utf8)
        if b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = Int64(text.prefix(4)), let m = Int64(text.dropFirst(5).prefix(2)), let d = Int64(text.suffix(2)),
            (1...12).contains(m), (1...31).contains(d)
        {
            return Double(Timestamp.daysFromCivil(year: y, month: m, day: d) * 86_400)
        }
        return nil
    }
}

/// An IPv4 or IPv6 address with a prefix length (`/32` or `/128` when none is written).
struct CIDR: Sendable {
    var bytes: [UInt8]
    var prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first else { return nil }
        var address = [UInt8]()
        if first.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, String(first), &a) == 1 else { return nil }
            address = withUnsafeBytes(of: &a) { Array($0) }
        } else {
            var a = in_addr()
            guard inet_pton(AF_INET, String(first), &a) == 1 else { return nil }
            address = withUnsafeBytes(of: &a) { Array($0) }
        }
        var prefix = address.count * 8
        if parts.count == 2 {
            guard let p = Int(parts[1]), p >= 0, p <= prefix else { return nil }
            prefix = p
        }
        self.bytes = address
        self.prefix = prefix
    }

    func contains(_ other: CIDR) -> Bool {
        guard other.bytes.count == bytes.count else { return false }
        var bits = prefix
        for i in 0..<bytes.count where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if bytes[i] & mask != other.bytes[i] & mask { return false }
            bits -= 8
        }
        return true
    }
}
