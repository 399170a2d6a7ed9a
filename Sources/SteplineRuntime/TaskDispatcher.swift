import StatesEngine
import StatesLanguage
import ControlPlane

/// Routes task requests by resource: activities to the activity queues, everything else
/// to `fallback` (the Kafka dispatcher; without one, `UnconfiguredDispatcher`).
public struct RoutingDispatcher: TaskDispatcher {
    public let activities: ActivityDispatcher
    public let fallback: any TaskDispatcher
    /// Also hand activity tasks to `fallback` (Kafka workers of activities).
    public let mirrorsActivities: Bool

    public init(activities: ActivityDispatcher, fallback: any TaskDispatcher, mirrorsActivities: Bool = false) {
        self.activities = activities
        self.fallback = fallback
        self.mirrorsActivities = mirrorsActivities
    }

    public func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        if case .activity = request.resource.kind {
            let outcome = try await activities.dispatch(request)
            // Kafka workers get activity tasks too; the first worker to answer takes it.
            if mirrorsActivities { _ = try await fallback.dispatch(request) }
            return outcome
        }
        return try await fallback.dispatch(request)
    }

    public func cancel(token: TaskToken) async {
        await activities.cancel(token: token)
        await fallback.cancel(token: token)
    }

    public func publish(_ record: OutboundRecord) async throws { try await fallback.publish(record) }

    public func publish(_ records: [OutboundRecord]) async throws { try await fallback.publish(records) }

    public func presubmission(for request: TaskRequest, now: Int64) -> Presubmission? {
        if case .activity = request.resource.kind { return nil }
        return fallback.presubmission(for: request, now: now)
    }

    public func awaitsReply(token: TaskToken) { fallback.awaitsReply(token: token) }
}

/// Fails every task it gets with `States.TaskFailed`, naming the resource: the daemon has
/// no way to carry it out (no Kafka dispatcher configured).
public struct UnconfiguredDispatcher: TaskDispatcher {
    let replies: any TaskReplySink

    /// - Parameter replies: where the failures go (the runtime's `ports.replies`).
    public init(replies: any TaskReplySink) { self.replies = replies }

    public func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        let replies = self.replies
        let token = request.token
        let cause = "no dispatcher for \(request.resource.arn): this daemon carries out activity tasks only (Kafka integrations are not configured)"
        // Answer after the request is marked sent, outside the relay's path.
        Task { try? await replies.taskFailed(token: token, error: StatesError.Name.taskFailed, cause: cause) }
        return .sent
    }

    public func cancel(token: TaskToken) async {}
}

/// The outbox payload of a task request: a JSON object, so that any consumer can read it.
public enum TaskRequestCodec {
    public static func encode(_ r: TaskRequest) -> [UInt8] {
        var o = JSONObject(minimumCapacity: 10)
        o.append("token", .string(r.token.rawValue))
        o.append("executionArn", .string(r.executionArn.rawValue))
        o.append("stateName", .string(r.stateName))
        o.append("resource", .string(r.resource.arn))
        o.append("parameters", r.parameters)
        if let t = r.timeoutSeconds { o.append("timeoutSeconds", .int(t)) }
        if let h = r.heartbeatSeconds { o.append("heartbeatSeconds", .int(h)) }
        if let c = r.credentials { o.append("credentials", c) }
        if let role = r.roleArn { o.append("roleArn", .string(role)) }
        o.append("attempt", .int(Int64(r.attempt)))
        o.append("scheduledEventId", .int(r.scheduledEventID))
        var out: [UInt8] = []
        JSON.object(o).write(to: &out)
        return out
    }

    public static func decode(_ bytes: [UInt8]) -> TaskRequest? {
        guard let j = try? JSON.parse(bytes: bytes), let token = j["token"]?.stringValue,
            let arn = j["executionArn"]?.stringValue, let stateName = j["stateName"]?.stringValue,
            let resourceArn = j["resource"]?.stringValue, let resource = TaskResource(resourceArn)
        else { return nil }
        return TaskRequest(
            token: TaskToken(token), executionArn: ExecutionARN(arn), stateName: stateName, resource: resource, parameters: j["parameters"] ?? .null,
            timeoutSeconds: j["timeoutSeconds"]?.integerValue, heartbeatSeconds: j["heartbeatSeconds"]?.integerValue,
            credentials: j["credentials"], attempt: Int(j["attempt"]?.integerValue ?? 0),
            scheduledEventID: j["scheduledEventId"]?.integerValue ?? 0, roleArn: j["roleArn"]?.stringValue)
    }
}
