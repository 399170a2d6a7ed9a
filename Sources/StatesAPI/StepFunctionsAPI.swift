import ControlPlane
import Logging
import StatesLanguage

/// The AWS Step Functions API (JSON 1.0): one handler per action, chosen by the
/// `X-Amz-Target: AWSStepFunctions.<Action>` header; and EventBridge's
/// `AWSEvents.TestEventPattern` (JSON 1.1).
///
/// Every request body is validated against the operation's input shape from botocore's
/// service model (`Model/`) before its handler runs. To add an action, register a handler
/// (see `Actions/`): it decodes the validated request into the control plane's typed input,
/// calls the control plane (`StepFunctionsControl`, which the runtime implements), and
/// encodes the typed result as AWS's response body, or throws `ServiceError`.
public final class StepFunctionsAPI: Sendable {
    public typealias Handler = @Sendable (AWSRequest, any StepFunctionsControl) async throws -> JSON

    public static let targetPrefix = "AWSStepFunctions."
    public static let eventsTarget = "AWSEvents.TestEventPattern"
    /// AWS's API request size quota.
    public static let maxBodyBytes = 1_048_576

    private let handlers: [String: Handler]
    public let control: any StepFunctionsControl
    /// Where the CPU-heavy actions run, off the threads that answer the others.
    public let evaluations: EvaluationExecutor
    /// The actions that parse definitions or evaluate expressions and patterns.
    static let evaluationActions: Set<String> = [
        "TestState", "ValidateStateMachineDefinition", "CreateStateMachine", "UpdateStateMachine",
    ]
    private let logger: Logger
    let metrics: APIMetrics
    /// Authentication and policies (`security.authentication: sigv4`); nil: anyone may do anything.
    public let access: AccessControl?

    public init(control: any StepFunctionsControl, logger: Logger = Logger(label: "stepline.api"),
                extraActions: [String: Handler] = [:], evaluations: EvaluationExecutor = .shared, access: AccessControl? = nil)
    {
        self.evaluations = evaluations
        self.access = access
        var h: [String: Handler] = [:]
        StepFunctionsAPI.registerResourceActions(&h)
        StepFunctionsAPI.registerActivityActions(&h)
        StepFunctionsAPI.registerVersionActions(&h)
        StepFunctionsAPI.registerTagActions(&h)
        StepFunctionsAPI.registerExecutionActions(&h)
        StepFunctionsAPI.registerMapRunActions(&h)
        StepFunctionsAPI.registerTaskActions(&h)
        StepFunctionsAPI.registerTestStateAction(&h)
        for (k, v) in extraActions { h[k] = v }
        handlers = h
        self.control = control
        self.logger = logger
        metrics = APIMetrics(actions: Array(h.keys) + ["TestEventPattern", "Unknown"])
    }

    /// The actions this API answers.
    public var actions: [String] { handlers.keys.sorted() }

    /// A response: HTTP status and JSON body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: JSON
        /// `application/x-amz-json-1.0` (Step Functions) or `-1.1` (EventBridge).
        public var contentType: String = "application/x-amz-json-1.0"
    }

    /// AWS behaviour: the JSON protocols accept their own media types (any version of
    /// `application/x-amz-json-*`) and plain JSON; anything else is rejected before dispatch.
    ///
    /// The media type is the first non-empty part between `;`s, without surrounding
    /// whitespace, compared case-insensitively. An ASCII header (every real one) is read on
    /// its bytes, as this runs once per request; another takes the Unicode-aware path.
    static func acceptsContentType(_ contentType: String?) -> Bool {
        guard let contentType else { return true }
        guard contentType.utf8.allSatisfy({ $0 < 0x80 }) else {
            let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            } ?? ""
            return mediaType.hasPrefix("application/x-amz-json-") || mediaType == "application/json"
        }
        var media = contentType.utf8[...]
        media = media.drop(while: { $0 == UInt8(ascii: ";") })
        media = media.prefix(while: { $0 != UInt8(ascii: ";") })
        func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        while let b = media.first, isSpace(b) { media = media.dropFirst() }
        while let b = media.last, isSpace(b) { media = media.dropLast() }
        func hasPrefix(_ prefix: StaticString) -> Bool {
            guard media.count >= prefix.utf8CodeUnitCount else { return false }
            for (j, var b) in media.prefix(prefix.utf8CodeUnitCount).enumerated() {
                if b >= UInt8(ascii: "A"), b <= UInt8(ascii: "Z") { b += 32 }
                guard b == prefix.utf8Start[j] else { return false }
            }
            return true
        }
        return hasPrefix("application/x-amz-json-")
            || (media.count == "application/json".utf8.count && hasPrefix("application/json"))
    }

    /// Handles one request: `target` is the X-Amz-Target header, `body` the raw body.
    /// - Parameter caller: the authenticated caller when `access` is set: its policies must
    ///   allow the action.
    public func handle(target: String?, contentType: String? = nil, body: [UInt8], caller: Caller? = nil) async -> Reply {
        let start = ContinuousClock.now
        let (action, reply) = await dispatch(target: target, contentType: contentType, body: body, caller: caller)
        metrics.record(action: action, status: reply.status, since: start)
        return reply
    }

    private func dispatch(target: String?, contentType: String?, body: [UInt8], caller: Caller?) async -> (String, Reply) {
        guard let target else {
            return ("Unknown", Self.error(ServiceError(.unknownOperation, "Missing X-Amz-Target header")))
        }
        if target == Self.eventsTarget {
            var r: Reply
            do {
                if let access {
                    guard let caller else { throw ServiceError(.accessDenied, "The request is not authenticated") }
                    try access.authorize(caller, action: "events:TestEventPattern", resource: "*")
                }
                r = try await evaluations.run { self.testEventPattern(body: body) }
            } catch {
                r = Self.error(error as? ServiceError ?? ServiceError.internalError("\(error)"))
            }
            r.contentType = "application/x-amz-json-1.1"
            return ("TestEventPattern", r)
        }
        guard target.hasPrefix(Self.targetPrefix), case let action = String(target.dropFirst(Self.targetPrefix.count)),
            let handler = handlers[action]
        else {
            return ("Unknown", Self.error(ServiceError(.unknownOperation, "Unknown operation \(target)")))
        }
        guard Self.acceptsContentType(contentType) else {
            return (action, Self.error(ServiceError(.unknownOperation,
                                                    "Unsupported Content-Type '\(contentType ?? "")': use application/x-amz-json-1.0")))
        }
        guard body.count <= Self.maxBodyBytes else {
            return (action, Reply(status: 413, body: [
                "__type": "RequestEntityTooLargeException",
                "message": .string("Request body of \(body.count) bytes exceeds the maximum of \(Self.maxBodyBytes) bytes"),
            ]))
        }
        do {
            let parsed = body.isEmpty ? JSON.object(JSONObject()) : try JSON.parse(bytes: body)
            guard case .object(let object) = parsed else {
                throw ServiceError(.serializationException, "Start of structure or map found where not expected: the request body must be a JSON object")
            }
            try RequestValidator.validate(operation: action, body: object)
            if let access {
                // A request that reaches here without a caller is a programming error: refuse it.
                guard let caller else { throw ServiceError(.accessDenied, "The request is not authenticated") }
                try await access.authorize(caller, stepFunctionsAction: action, body: object, control: control)
            }
            let request = AWSRequest(action: action, body: object), control = self.control
            let result = Self.evaluationActions.contains(action)
                ? try await evaluations.run { try await handler(request, control) }
                : try await handler(request, control)
            return (action, Reply(status: 200, body: result))
        } catch let e as ServiceError {
            if e.isServerError { logger.warning("\(action) failed", metadata: ["error": "\(e)"]) }
            return (action, Self.error(e))
        } catch let e as JSONParseError {
            return (action, Self.error(ServiceError(.serializationException, "Malformed JSON: \(e)")))
        } catch {
            logger.error("\(action) failed", metadata: ["error": "\(error)"])
            return (action, Self.error(ServiceError.internalError("\(error)")))
        }
    }

    /// EventBridge's TestEventPattern (JSON 1.1): `{"EventPattern", "Event"}` → `{"Result"}`.
    private func testEventPattern(body: [UInt8]) -> Reply {
        guard body.count <= Self.maxBodyBytes else {
            return Reply(status: 413, body: ["__type": "RequestEntityTooLargeException", "message": "Request body too large"])
        }
        let object: JSONObject
        do {
            guard case .object(let o) = try JSON.parse(bytes: body) else {
                return Self.error(ServiceError(.serializationException, "The request body must be a JSON object"))
            }
            object = o
        } catch {
            return Self.error(ServiceError(.serializationException, "Malformed JSON: \(error)"))
        }
        guard let pattern = object["EventPattern"]?.stringValue else {
            return Self.error(ServiceError.validation("1 validation error detected: Value null at 'eventPattern' failed to satisfy constraint: Member must not be null"))
        }
        guard let event = object["Event"]?.stringValue else {
            return Self.error(ServiceError.validation("1 validation error detected: Value null at 'event' failed to satisfy constraint: Member must not be null"))
        }
        do {
            let result = try TestEventPattern.evaluate(eventPattern: pattern, event: event)
            return Reply(status: 200, body: ["Result": .bool(result)])
        } catch {
            return Self.error(ServiceError(error.exceptionName, error.message))
        }
    }

    /// AWS's error body: `{"__type": "<ExceptionName>", "message": "..."}`; the status the
    /// service model gives (400 for every Step Functions error), 500/503 for the service's own.
    public static func error(_ e: ServiceError) -> Reply {
        let status = e.isServerError ? (e.code == .serviceUnavailable ? 503 : 500) : (ServiceModel.errors[e.type] ?? 400)
        return Reply(status: status, body: ["__type": .string(e.type), "message": .string(e.message)])
    }
}
