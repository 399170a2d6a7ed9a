import StatesLanguage
import ControlPlane

/// The JSON body of an AWS JSON 1.0 request, with typed access to its members.
///
/// The dispatcher validates the body against the operation's input shape first
/// (`RequestValidator`, from botocore's service model): by the time a handler reads a
/// member, its type, length, pattern, enum and range are AWS's.
public struct AWSRequest: Sendable {
    public let action: String
    public let body: JSONObject

    public init(action: String, body: JSONObject) {
        self.action = action
        self.body = body
    }

    public func string(_ name: String) -> String? { body[name]?.stringValue }

    /// A required member (the validator has checked it is there).
    public func requiredString(_ name: String) throws -> String {
        guard let s = string(name) else {
            throw ServiceError.validation("1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null")
        }
        return s
    }

    public func int(_ name: String) -> Int? { body[name]?.integerValue.flatMap { Int(exactly: $0) } }
    public func double(_ name: String) -> Double? { body[name]?.doubleValue }
    public func bool(_ name: String) -> Bool? { body[name]?.boolValue }
    public func object(_ name: String) -> JSONObject? { body[name]?.objectValue }
    public func array(_ name: String) -> [JSON]? { body[name]?.arrayValue }

    /// A structure member, kept as JSON text (configurations stored as given).
    public func objectText(_ name: String) -> String? {
        guard let v = body[name], case .object = v else { return nil }
        return v.serialized()
    }

    /// `maxResults`: 0 means the default.
    public var maxResults: Int? { int("maxResults").flatMap { $0 == 0 ? nil : $0 } }
    public var nextToken: String? { string("nextToken") }

    /// `maxResults` and `nextToken`.
    public var page: PageRequest { PageRequest(maxResults: maxResults, nextToken: nextToken) }

    /// `tags: [{key, value}]`.
    public func tags(_ name: String = "tags") -> [Tag] {
        (array(name) ?? []).compactMap { t in
            guard let k = t["key"]?.stringValue else { return nil }
            return Tag(key: k, value: t["value"]?.stringValue ?? "")
        }
    }
}

/// AWS JSON 1.0 shapes of timestamps: epoch seconds.
enum Shapes {
    static func date(_ ms: Int64) -> JSON { .double(Double(ms) / 1000) }

    /// A page's `nextToken` appended when there is one.
    static func page(_ key: String, _ items: [JSON], next: String?) -> JSON {
        var o = JSONObject(minimumCapacity: 2)
        o.append(key, .array(items))
        if let next { o.append("nextToken", .string(next)) }
        return .object(o)
    }
}
