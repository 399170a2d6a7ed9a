import StatesLanguage
import ControlPlane

/// A shape of the service model (see `ServiceModel`, generated from botocore's model).
indirect enum ModelShape: Sendable {
    case string(min: Int?, max: Int?, pattern: ModelPattern?, enumValues: [String]?, sensitive: Bool)
    case integer(min: Int64?, max: Int64?)
    case float(min: Double?, max: Double?)
    case boolean
    case timestamp
    case blob
    case structure(members: [(String, String)], required: [String])
    case list(member: String, min: Int?, max: Int?)
    case map(key: String, value: String)
}

/// The three patterns the model's input shapes use, checked without a regex engine.
enum ModelPattern: Sendable {
    /// `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$` (alias names)
    case characterRestrictedName
    /// `[!-~]+` (client tokens)
    case printableASCII
    /// `\p{ASCII}*` (trace headers)
    case ascii

    var text: String {
        switch self {
        case .characterRestrictedName: #"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$"#
        case .printableASCII: "[!-~]+"
        case .ascii: #"\p{ASCII}*"#
        }
    }

    func matches(_ s: String) -> Bool {
        switch self {
        case .characterRestrictedName:
            var letter = false
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"),
                    UInt8(ascii: "-"), UInt8(ascii: "."):
                    letter = true
                case UInt8(ascii: "0")...UInt8(ascii: "9"): break
                default: return false
                }
            }
            return letter
        case .printableASCII:
            return !s.isEmpty && s.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        case .ascii:
            return s.utf8.allSatisfy { $0 < 0x80 }
        }
    }
}

/// Validates a request body against its operation's input shape, as AWS does before an
/// action runs.
///
/// AWS behaviour: constraint violations are collected and reported together as one
/// `ValidationException` ("2 validation errors detected: Value 'x' at 'name' failed to
/// satisfy constraint: Member must have length less than or equal to 80; Value ...");
/// a missing required member reads "Value null at 'x' failed to satisfy constraint: Member
/// must not be null". A member of the wrong JSON type is a `SerializationException`.
/// Unknown members are ignored. Nested paths are written `parent.member` and list items
/// `list.N.member` (1-based), as Coral writes them.
enum RequestValidator {
    static func validate(operation: String, body: JSONObject) throws {
        guard let input = ServiceModel.operations[operation], let shape = ServiceModel.shapes[input] else { return }
        var errors: [String] = []
        try check(.object(body), shape, path: "", errors: &errors)
        guard !errors.isEmpty else { return }
        let count = errors.count
        throw ServiceError.validation(
            "\(count) validation error\(count == 1 ? "" : "s") detected: " + errors.joined(separator: "; "))
    }

    private static func typeError(_ path: String, _ expected: String) -> ServiceError {
        ServiceError(.serializationException, "Unexpected value type for '\(path.isEmpty ? "body" : path)': expected \(expected)")
    }

    private static func quoted(_ s: String, sensitive: Bool) -> String {
        // AWS behaviour: a sensitive member's value is left out ("Value at 'cause' failed ...").
        if sensitive { return "Value" }
        return "Value '\(s.utf16.count > 512 ? String(s.prefix(256)) + "..." : s)'"
    }

    private static func check(_ value: JSON, _ shape: ModelShape, path: String, errors: inout [String]) throws {
        switch shape {
        case .string(let min, let max, let pattern, let enumValues, let sensitive):
            guard case .string(let s) = value else { throw typeError(path, "a string") }
            let length = s.utf16.count
            if let min, length < min {
                errors.append("\(quoted(s, sensitive: sensitive)) at '\(path)' failed to satisfy constraint: Member must have length greater than or equal to \(min)")
            }
            if let max, length > max {
                errors.append("\(quoted(s, sensitive: sensitive)) at '\(path)' failed to satisfy constraint: Member must have length less than or equal to \(max)")
            }
            if let pattern, !pattern.matches(s) {
                errors.append("\(quoted(s, sensitive: sensitive)) at '\(path)' failed to satisfy constraint: Member must satisfy regular expression pattern: \(pattern.text)")
            }
            if let enumValues, !enumValues.contains(s) {
                errors.append("\(quoted(s, sensitive: sensitive)) at '\(path)' failed to satisfy constraint: Member must satisfy enum value set: [\(enumValues.joined(separator: ", "))]")
            }
        case .integer(let min, let max):
            guard let i = value.integerValue, value.isNumber else { throw typeError(path, "an integer") }
            if let min, i < min {
                errors.append("Value '\(i)' at '\(path)' failed to satisfy constraint: Member must have value greater than or equal to \(min)")
            }
            if let max, i > max {
                errors.append("Value '\(i)' at '\(path)' failed to satisfy constraint: Member must have value less than or equal to \(max)")
            }
        case .float(let min, let max):
            guard let d = value.doubleValue else { throw typeError(path, "a number") }
            if let min, d < min {
                errors.append("Value '\(d)' at '\(path)' failed to satisfy constraint: Member must have value greater than or equal to \(min)")
            }
            if let max, d > max {
                errors.append("Value '\(d)' at '\(path)' failed to satisfy constraint: Member must have value less than or equal to \(max)")
            }
        case .boolean:
            guard value.boolValue != nil else { throw typeError(path, "a boolean") }
        case .timestamp:
            guard value.isNumber else { throw typeError(path, "a timestamp") }
        case .blob:
            guard value.stringValue != nil else { throw typeError(path, "a blob") }
        case .structure(let members, let required):
            guard case .object(let o) = value else { throw typeError(path, "a structure") }
            for (name, shapeName) in members {
                let memberPath = path.isEmpty ? name : path + "." + name
                guard let v = o[name], !v.isNull else {
                    if required.contains(name) {
                        errors.append("Value null at '\(memberPath)' failed to satisfy constraint: Member must not be null")
                    }
                    continue
                }
                guard let s = ServiceModel.shapes[shapeName] else { continue }
                try check(v, s, path: memberPath, errors: &errors)
            }
        case .list(let member, let min, let max):
            guard case .array(let items) = value else { throw typeError(path, "a list") }
            if let min, items.count < min {
                errors.append("Value '\(items.count) items' at '\(path)' failed to satisfy constraint: Member must have length greater than or equal to \(min)")
            }
            if let max, items.count > max {
                errors.append("Value '\(items.count) items' at '\(path)' failed to satisfy constraint: Member must have length less than or equal to \(max)")
            }
            guard let s = ServiceModel.shapes[member] else { return }
            for (i, item) in items.enumerated() where !item.isNull {
                try check(item, s, path: "\(path).\(i + 1).member", errors: &errors)
            }
        case .map(let key, let valueShape):
            guard case .object(let o) = value else { throw typeError(path, "a map") }
            let ks = ServiceModel.shapes[key], vs = ServiceModel.shapes[valueShape]
            for (k, v) in o {
                if let ks { try check(.string(k), ks, path: "\(path).key", errors: &errors) }
                if let vs, !v.isNull { try check(v, vs, path: "\(path).value", errors: &errors) }
            }
        }
    }
}
