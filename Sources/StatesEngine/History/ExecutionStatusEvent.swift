import StatesLanguage

/// EventBridge's "Step Functions Execution Status Change" event (`source: aws.states`),
/// which Stepline publishes on the execution status topic when a STANDARD execution starts
/// and when it ends.
public enum ExecutionStatusEvent {
    public static let detailType = "Step Functions Execution Status Change"
    public static let source = "aws.states"

    /// The event for `state` (after its step), with a fresh event id. `inputText` and
    /// `outputText`, when given, are `state`'s input and output already serialized.
    public static func make(_ state: ExecutionState, id: String, now: Int64, inputText: String? = nil,
                            outputText: String? = nil) -> JSON
    {
        let info = state.info
        var detail = JSONObject()
        detail.append("executionArn", .string(info.executionArn))
        detail.append("stateMachineArn", .string(info.stateMachineArn))
        detail.append("name", .string(info.name))
        detail.append("status", .string(state.status.rawValue))
        detail.append("startDate", .int(state.startTime))
        detail.append("stopDate", state.stopTime.map { .int($0) } ?? .null)
        detail.append("input", .string(inputText ?? state.input.serialized()))
        detail.append("inputDetails", ["included": true])
        detail.append("output", state.output.map { .string(outputText ?? $0.serialized()) } ?? .null)
        detail.append("outputDetails", state.output == nil ? .null : ["included": true])
        let error = state.error.flatMap { $0.name.isEmpty ? nil : $0.name }
        detail.append("error", error.map(JSON.string) ?? .null)
        detail.append("cause", state.error?.cause.map(JSON.string) ?? .null)
        detail.append("redriveCount", .int(Int64(info.redriveCount)))
        detail.append("redriveDate", info.redriveTime.map { .int($0) } ?? .null)
        let redrivable = state.status == .failed || state.status == .timedOut || state.status == .aborted
        detail.append("redriveStatus", .string(redrivable ? "REDRIVABLE" : "NOT_REDRIVABLE"))
        if !redrivable {
            detail.append("redriveStatusReason",
                          .string(state.status == .running ? "Execution is RUNNING and cannot be redriven" : "Execution is SUCCEEDED and cannot be redriven"))
        }
        detail.append("stateMachineVersionArn", info.stateMachineVersionArn.map(JSON.string) ?? .null)
        detail.append("stateMachineAliasArn", info.stateMachineAliasArn.map(JSON.string) ?? .null)
        var event = JSONObject()
        event.append("version", "0")
        event.append("id", .string(id))
        event.append("detail-type", .string(detailType))
        event.append("source", .string(source))
        event.append("account", .string(info.account))
        event.append("time", .string(String(ISOTime.format(milliseconds: now).prefix(19)) + "Z"))
        event.append("region", .string(info.region))
        event.append("resources", [.string(info.executionArn)])
        event.append("detail", .object(detail))
        return .object(event)
    }
}
