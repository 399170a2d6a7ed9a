import ControlPlane
import StatesEngine
import StatesLanguage
import StatesStore

/// Turns one engine call (state before, state after, decision) into what the store writes
/// and what the runtime does once it is durable.
struct StepEffects: Sendable {
    var step: StepRecord
    /// Task requests to hand to the relay (their outbox rows are in `step.outbox`, same order).
    var requests: [TaskRequest]
    /// Records to publish: presubmitted requests', then status events (their outbox rows
    /// follow the requests' in `step.outbox`, same order).
    var publications: [Publication] = []
    var cancels: [TaskToken]
    var nextDue: Int64?
}

/// A record to publish once its step is durable: a status event, or a record that carries
/// a presubmitted task request (`TaskDispatcher.presubmission`; `token` names the task).
struct Publication: Sendable {
    var record: OutboundRecord
    var token: TaskToken?
}

enum StepBuilder {
    static func build(kind: StepRecord.Kind, arn: ExecutionARN, before: ExecutionState?, after: ExecutionState,
                      decision: Decision, now: Int64, activityStartedToken: TaskToken?, presubmitted: [TaskToken: [OutboundRecord]] = [:],
                      statusTopic: String? = nil, isDurable: Bool = true, eventID: () -> String = { RandomSource.system.uuidString() }) -> StepEffects
    {
        let events = decision.events
        // An EXPRESS step is never written: its history chunk stays unencoded.
        let chunk = isDurable
            ? HistoryChunk(firstSequence: after.appliedCount - events.count, events: events, lastEventID: after.lastEventID)
            : HistoryChunk(firstSequence: after.appliedCount - events.count, count: events.count, lastEventID: after.lastEventID, encoded: [])
        let openAfter = Set(after.openTaskTokens)
        var requests: [TaskRequest] = []
        var cancels: [TaskToken] = []
        for command in decision.commands {
            switch command {
            case .dispatchTask(let r) where openAfter.contains(r.token): requests.append(r)
            case .dispatchTask: break
            case .cancelTask(let token): cancels.append(token)
            }
        }
        var threads: [String: ThreadID] = [:]
        if !requests.isEmpty {
            for e in events { if let t = e.note?.taskToken { threads[t] = e.thread } }
        }
        var opened: [TaskRecord] = []
        var dispatched: [TaskRequest] = []
        var outbox: [OutboxRecord] = []
        var publications: [Publication] = []
        var publicationRows: [OutboxRecord] = []
        for r in requests {
            let token = r.token
            var activityArn: ActivityARN? = nil
            if case .activity = r.resource.kind { activityArn = ActivityARN(r.resource.arn) }
            opened.append(TaskRecord(
                token: token, executionArn: arn, thread: threads[r.token.rawValue]?.rawValue ?? 0, stateName: r.stateName,
                resource: r.resource.arn, activityArn: activityArn, timeoutSeconds: r.timeoutSeconds,
                heartbeatSeconds: r.heartbeatSeconds, scheduledEventID: r.scheduledEventID, createdAt: now))
            if let records = presubmitted[r.token] {
                for record in records {
                    publications.append(Publication(record: record, token: token))
                    publicationRows.append(OutboxRecord(
                        executionArn: arn, token: token, kind: .publish, destination: record.topic, key: record.key,
                        payload: record.value, headers: record.headers.map { .init($0.0, $0.1) },
                        createdAt: now))
                }
            } else {
                dispatched.append(r)
                outbox.append(OutboxRecord(
                    executionArn: arn, token: token, kind: .task, destination: r.resource.arn,
                    payload: TaskRequestCodec.encode(r),
                    headers: [.init("stepline-task-token", r.token.rawValue), .init("stepline-execution-arn", arn.rawValue)], createdAt: now))
            }
        }
        outbox += publicationRows
        var closed: [TaskToken] = []
        if let before {
            for token in before.openTaskTokens where !openAfter.contains(token) { closed.append(token) }
            closed.sort()
        }
        var step = StepRecord(
            kind: kind, executionArn: arn, status: after.status, output: after.output,
            error: after.error.flatMap { $0.name.isEmpty ? nil : $0.name }, cause: after.error?.cause,
            stopDate: after.stopTime, nextDue: after.nextDueTime, lastEventID: after.lastEventID, chunk: chunk,
            tasksOpened: opened, tasksClosed: closed, outboxDelivered: activityStartedToken.map { [$0] } ?? [],
            outbox: outbox)
        // Execution status change events (STANDARD executions): when it starts and when it
        // ends; the last outbox row. The step record has serialized the start's input and the
        // output already.
        if let statusTopic, before == nil || before!.status != after.status {
            var value: [UInt8] = []
            ExecutionStatusEvent.make(after, id: eventID(), now: now, inputText: step.inputText, outputText: step.outputText)
                .write(to: &value)
            let event = OutboundRecord(topic: statusTopic, key: Array(arn.rawValue.utf8), value: value)
            publications.append(Publication(record: event, token: nil))
            step.outbox.append(OutboxRecord(
                executionArn: arn, token: nil, kind: .status, destination: statusTopic, key: event.key, payload: value,
                createdAt: now))
        }
        return StepEffects(step: step, requests: dispatched, publications: publications, cancels: cancels, nextDue: after.nextDueTime)
    }
}
