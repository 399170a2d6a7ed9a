import StatesLanguage
import SteplineRuntime

/// The JSON body of an AWS JSON 1.0 request, with typed, validated access to its members.
///
/// Accessors follow the service model (`botocore/data/stepfunctions/2016-11-23`): a
/// missing required member is `MissingRequiredParameter`, a wrong type or a length outside
/// the model's bounds is `ValidationException`, worded as AWS words them.
public struct AWSRequest: Sendable {
    public let action: String
    public let body: JSONObject

    public init(action: String, body: JSONObject) {
        self.action = action
        self.body = body
    }

    private func constraint(_ name: String, _ value: String, _ rule: String) -> ServiceError {
        ServiceError.validation(
            "1 validation error detected: Value '\(value)' at '\(name)' failed to satisfy constraint: \(rule)")
    }

    /// A string member; `length` is the model's min...max in characters.
    public func string(_ name: String, length: ClosedRange<Int>? = nil) throws -> String? {
        guard let v = body[name], !v.isNull else { return nil }
        guard let s = v.stringValue else {
            throw ServiceError("SerializationException", "Unexpected value type for '\(name)': expected a string")
        }
        if let length, !length.contains(s.count) {
            throw constraint(name, s.count > 256 ? String(s.prefix(64)) + "..." : s,
                             "Member must have length \(s.count < length.lowerBound ? "greater than or equal to \(length.lowerBound)" : "less than or equal to \(length.upperBound)")")
        }
        return s
    }

    public func requiredString(_ name: String, length: ClosedRange<Int>? = nil) throws -> String {
        guard let s = try string(name, length: length) else {
            throw ServiceError("MissingRequiredParameter", "Missing required parameter: '\(name)'")
        }
        return s
    }

    public func int(_ name: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let v = body[name], !v.isNull else { return nil }
        guard let i = v.integerValue.flatMap({ Int(exactly: $0) }) else {
            throw ServiceError("SerializationException", "Unexpected value type for '\(name)': expected an integer")
        }
        if let range, !range.contains(i) {
            throw constraint(name, "\(i)", "Member must have value \(i < range.lowerBound ? "greater than or equal to \(range.lowerBound)" : "less than or equal to \(range.upperBound)")")
        }
        return i
    }

    public func bool(_ name: String) throws -> Bool? {
        guard let v = body[name], !v.isNull else { return nil }
        guard let b = v.boolValue else {
            throw ServiceError("SerializationException", "Unexpected value type for '\(name)': expected a boolean")
        }
        return b
    }

    /// A structure member, kept as JSON text (configurations stored as given).
    public func objectText(_ name: String) throws -> String? {
        guard let v = body[name], !v.isNull else { return nil }
        guard case .object = v else {
            throw ServiceError("SerializationException", "Unexpected value type for '\(name)': expected a structure")
        }
        return v.serialized()
    }

    public func enumValue(_ name: String, _ allowed: [String]) throws -> String? {
        guard let s = try string(name) else { return nil }
        guard allowed.contains(s) else {
            throw constraint(name, s, "Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]")
        }
        return s
    }
}

/// AWS JSON 1.0 shapes of timestamps: epoch seconds.
enum Shapes {
    static func date(_ ms: Int64) -> JSON { .double(Double(ms) / 1000) }
}
