import StatesLanguage

extension HistoryEvent {
    /// The event as AWS's `GetExecutionHistory` returns it: `timestamp` in epoch seconds,
    /// payloads as JSON text with their `*Details: {truncated: false}` companions.
    ///
    /// - Parameter includeExecutionData: false omits inputs, outputs and parameters, as
    ///   `includeExecutionData: false` does on AWS.
    public func awsJSON(includeExecutionData: Bool = true) -> JSON {
        var o = JSONObject(minimumCapacity: 5)
        o.append("timestamp", .double(Double(timestamp) / 1000))
        o.append("type", .string(type.rawValue))
        o.append("id", .int(id))
        o.append("previousEventId", .int(previousEventId))
        if let key = type.detailsKey {
            o.append(key, .object(detailsJSON(includeExecutionData: includeExecutionData)))
        }
        return .object(o)
    }

    func detailsJSON(includeExecutionData data: Bool) -> JSONObject {
        var d = JSONObject(minimumCapacity: 6)
        func payload(_ key: String, _ value: JSON) {
            guard data else { return }
            d.append(key, .string(value.serialized()))
            d.append(key + "Details", ["truncated": false])
        }
        func optional(_ key: String, _ value: String?) { if let value { d.append(key, .string(value)) } }
        func optional(_ key: String, _ value: Int64?) { if let value { d.append(key, .int(value)) } }
        switch details {
        case .none:
            break
        case .stateEntered(let name, let input):
            d.append("name", .string(name))
            payload("input", input)
        case .stateExited(let name, let output, let assigned):
            d.append("name", .string(name))
            payload("output", output)
            if let assigned, data {
                var vars = JSONObject(minimumCapacity: assigned.count)
                for (k, v) in assigned { vars[k] = .string(v.serialized()) }
                d.append("assignedVariables", .object(vars))
                d.append("assignedVariablesDetails", ["truncated": false])
            }
        case .executionStarted(let s):
            payload("input", s.input)
            optional("roleArn", s.roleArn)
            optional("stateMachineAliasArn", s.stateMachineAliasArn)
            optional("stateMachineVersionArn", s.stateMachineVersionArn)
        case .output(let output):
            payload("output", output)
        case .error(let error, let cause):
            optional("error", error)
            optional("cause", cause)
        case .redriven(let count):
            d.append("redriveCount", .int(Int64(count)))
        case .taskScheduled(let t):
            d.append("resourceType", .string(t.resourceType))
            d.append("resource", .string(t.resource))
            d.append("region", .string(t.region))
            d.append("parameters", .string(data ? t.parameters.serialized() : "{}"))
            optional("timeoutInSeconds", t.timeoutInSeconds)
            optional("heartbeatInSeconds", t.heartbeatInSeconds)
            if let c = t.taskCredentials { d.append("taskCredentials", c) }
        case .taskStarted(let resourceType, let resource):
            d.append("resourceType", .string(resourceType))
            d.append("resource", .string(resource))
        case .taskOutput(let resourceType, let resource, let output):
            d.append("resourceType", .string(resourceType))
            d.append("resource", .string(resource))
            payload("output", output)
        case .taskError(let resourceType, let resource, let error, let cause):
            d.append("resourceType", .string(resourceType))
            d.append("resource", .string(resource))
            optional("error", error)
            optional("cause", cause)
        case .scheduled(let s):
            d.append("resource", .string(s.resource))
            payload("input", s.input)
            optional("timeoutInSeconds", s.timeoutInSeconds)
            optional("heartbeatInSeconds", s.heartbeatInSeconds)
            if let c = s.taskCredentials { d.append("taskCredentials", c) }
        case .activityStarted(let worker):
            optional("workerName", worker)
        case .mapStateStarted(let length):
            d.append("length", .int(Int64(length)))
        case .mapIteration(let name, let index):
            d.append("name", .string(name))
            d.append("index", .int(Int64(index)))
        case .mapRunStarted(let arn):
            d.append("mapRunArn", .string(arn))
        case .mapRunRedriven(let arn, let count):
            d.append("mapRunArn", .string(arn))
            d.append("redriveCount", .int(Int64(count)))
        case .evaluationFailed(let error, let cause, let location, let state):
            d.append("error", .string(error))
            optional("cause", cause)
            optional("location", location)
            d.append("state", .string(state))
        }
        return d
    }
}

extension Array where Element == HistoryEvent {
    /// `{"events": [...]}` exactly as GetExecutionHistory returns it (internal events left out).
    public func awsHistoryJSON(includeExecutionData: Bool = true) -> JSON {
        ["events": .array(filter { !$0.isInternal }.map { $0.awsJSON(includeExecutionData: includeExecutionData) })]
    }
}
