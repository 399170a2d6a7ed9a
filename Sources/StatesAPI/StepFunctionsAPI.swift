import Logging
import StatesLanguage
import StatesStore
import SteplineRuntime

/// What action handlers reach: the runtime's services.
public struct APIServices: Sendable {
    public let runtime: SteplineRuntime
    public var executions: ExecutionService { runtime.executions }
    public var resources: ResourceService { runtime.executions.resources }
    public var activities: ActivityDispatcher { runtime.activities }

    public init(runtime: SteplineRuntime) { self.runtime = runtime }
}

/// The AWS Step Functions API (JSON 1.0): one handler per action, chosen by the
/// `X-Amz-Target: AWSStepFunctions.<Action>` header.
///
/// To add an action, register a handler (see `Actions/`): it receives the validated
/// request and the services, and returns the response body or throws `ServiceError`.
///
///     api.register("ListStateMachines") { request, services in ... }
public final class StepFunctionsAPI: Sendable {
    public typealias Handler = @Sendable (AWSRequest, APIServices) async throws -> JSON

    public static let targetPrefix = "AWSStepFunctions."

    private let handlers: [String: Handler]
    public let services: APIServices
    private let logger: Logger

    public init(services: APIServices, logger: Logger = Logger(label: "stepline.api"),
                extraActions: [String: Handler] = [:])
    {
        var h: [String: Handler] = [:]
        StepFunctionsAPI.registerResourceActions(&h)
        StepFunctionsAPI.registerExecutionActions(&h)
        StepFunctionsAPI.registerTaskActions(&h)
        for (k, v) in extraActions { h[k] = v }
        handlers = h
        self.services = services
        self.logger = logger
    }

    /// The actions this API answers.
    public var actions: [String] { handlers.keys.sorted() }

    /// A response: HTTP status and JSON body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: JSON
    }

    /// Handles one request: `target` is the X-Amz-Target header, `body` the raw body.
    public func handle(target: String?, body: [UInt8]) async -> Reply {
        guard let target, target.hasPrefix(Self.targetPrefix) else {
            return Self.error(ServiceError("UnknownOperationException", "Missing or unknown X-Amz-Target: \(target ?? "none")"))
        }
        let action = String(target.dropFirst(Self.targetPrefix.count))
        guard let handler = handlers[action] else {
            return Self.error(ServiceError("UnknownOperationException", "Unknown operation \(action)"))
        }
        let object: JSONObject
        do {
            let parsed = body.isEmpty ? JSON.object(JSONObject()) : try JSON.parse(bytes: body)
            guard case .object(let o) = parsed else {
                throw ServiceError("SerializationException", "The request body must be a JSON object")
            }
            object = o
            let result = try await handler(AWSRequest(action: action, body: object), services)
            return Reply(status: 200, body: result)
        } catch let e as ServiceError {
            if e.isServerError { logger.warning("\(action) failed", metadata: ["error": "\(e)"]) }
            return Self.error(e)
        } catch let e as JSONParseError {
            return Self.error(ServiceError("SerializationException", "Malformed JSON: \(e)"))
        } catch {
            logger.error("\(action) failed", metadata: ["error": "\(error)"])
            return Self.error(ServiceError.internalError("\(error)"))
        }
    }

    /// AWS's error body: `{"__type": "<ExceptionName>", "message": "..."}`; 400 for client
    /// errors (the service model gives no other code), 500/503 for the service's own.
    public static func error(_ e: ServiceError) -> Reply {
        let status = e.isServerError ? (e.type == "ServiceUnavailable" ? 503 : 500) : 400
        return Reply(status: status, body: ["__type": .string(e.type), "message": .string(e.message)])
    }
}
