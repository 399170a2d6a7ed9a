import Logging
import StatesEngine
import StatesLanguage
import Synchronization
import ControlPlane

/// `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`: nested
/// executions run in this daemon.
///
/// The child's name, when the Task gives none, derives from the parent's task token, so a
/// request dispatched again after a crash finds the same child instead of starting a second
/// one. A `.sync` parent waits on its child; that wait is resumed after a restart because
/// the outbox row of a `.sync` request stays pending until the parent's task ends.
public final class NestedExecutions: Sendable {
    private let control: ServicePort<any StepFunctionsControl>
    private let replies: any TaskReplySink
    private let watching = Mutex<[TaskToken: Task<Void, Never>]>([:])
    private let logger: Logger

    /// - Parameters:
    ///   - control: the executor that runs the children, through the port its runtime
    ///     serves (`SteplineRuntime.Ports.control`): the runtime is built after the
    ///     dispatcher that holds this.
    ///   - replies: where the parents' answers go (`SteplineRuntime.Ports.replies`).
    public init(control: ServicePort<any StepFunctionsControl>, replies: any TaskReplySink, logger: Logger) {
        self.control = control
        self.replies = replies
        self.logger = logger
    }

    /// Starts (or finds again) the child and settles or watches the parent's task.
    ///
    /// - Returns: true while the parent waits on the child (`.sync`): the request's outbox
    ///   row stays pending so that a restart resumes the wait.
    /// - Throws: `ServiceError.shuttingDown` when the runtime no longer serves the control
    ///   plane: the request stays pending, and is dispatched again after the restart.
    func start(_ start: NestedStart, token: TaskToken) async throws -> Bool {
        let control = try await self.control.target()
        let replies = self.replies
        let name = start.name ?? Self.childName(token: token)
        let childArn: ExecutionARN
        let startDate: Int64
        do {
            let started = try await control.startExecution(.init(stateMachineArn: start.stateMachineArn, name: name, input: start.input))
            childArn = started.executionArn
            startDate = started.startDate
        } catch let e as ServiceError where e.code == .executionAlreadyExists && start.name == nil && start.mode != .requestResponse {
            // Dispatched again after a restart and the child has ended: it is ours (its name
            // derives from this task's token), so carry on with it.
            guard let parsed = ARNs.parse(start.stateMachineArn.rawValue), let machine = parsed.names.first,
                let record = try? await control.describeExecution(ExecutionARN(ARNs.execution(
                    region: parsed.region, account: parsed.account, machine: machine, name: name)))
            else { return false }
            childArn = record.executionArn
            startDate = record.startDate
        } catch let e as ServiceError {
            Task {
                await KafkaTaskDispatcher.answer {
                    // AWS behaviour: SDK errors of nested executions are named
                    // `StepFunctions.<Code>Exception` (e.g. StepFunctions.ExecutionAlreadyExistsException).
                    let code = e.type.hasSuffix("Exception") ? e.type : e.type + "Exception"
                    try await replies.taskFailed(token: token, error: "StepFunctions.\(code)", cause: e.message)
                }
            }
            return false
        } catch {
            Task { await KafkaTaskDispatcher.answer { try await replies.taskFailed(token: token, error: StatesError.Name.taskFailed, cause: "\(error)") } }
            return false
        }
        let response = Self.startResponse(arn: childArn, startDate: startDate)
        switch start.mode {
        case .requestResponse:
            Task { await KafkaTaskDispatcher.answer { try await replies.taskSucceeded(token: token, output: response) } }
            return false
        case .waitForTaskToken:
            // Before the dispatch returns, so that the child's callback most likely finds it.
            await KafkaTaskDispatcher.answer { try await replies.taskSubmitted(token: token, output: response) }
            return false
        case .sync, .sync2:
            let parsed = start.mode == .sync2
            let task = Task { [weak self] in
                await KafkaTaskDispatcher.answer { try await replies.taskSubmitted(token: token, output: response) }
                guard let self else { return }
                await self.watch(child: childArn, token: token, parsed: parsed)
            }
            watching.withLock { $0[token]?.cancel(); $0[token] = task }
            return true
        }
    }

    func cancel(token: TaskToken) async {
        let task = watching.withLock { $0.removeValue(forKey: token) }
        task?.cancel()
    }

    /// Waits for the child to end, then answers the parent with DescribeExecution's shape.
    private func watch(child: ExecutionARN, token: TaskToken, parsed: Bool) async {
        var delay: UInt64 = 20_000_000
        while !Task.isCancelled {
            guard let control = try? await self.control.target() else { return }
            let replies = self.replies
            if let record = try? await control.describeExecution(child), record.status.isTerminal {
                let output = Self.describeOutput(record, parsed: parsed)
                if record.status == .succeeded {
                    await KafkaTaskDispatcher.answer { try await replies.taskSucceeded(token: token, output: output) }
                } else {
                    // AWS behaviour: a failed child fails the parent's task with
                    // States.TaskFailed and the child's description as the cause.
                    await KafkaTaskDispatcher.answer {
                        try await replies.taskFailed(token: token, error: StatesError.Name.taskFailed, cause: output.serialized())
                    }
                }
                _ = watching.withLock { $0.removeValue(forKey: token) }
                return
            }
            try? await Task.sleep(nanoseconds: delay)
            delay = min(delay * 2, 1_000_000_000)
        }
    }

    static func startResponse(arn: ExecutionARN, startDate: Int64) -> JSON {
        let (http, response) = SDKResults.metadata(
            requestID: RandomSource().uuidString(), contentType: "application/x-amz-json-1.0", contentLength: 161,
            date: SDKResults.httpDate(milliseconds: startDate))
        return ["ExecutionArn": .string(arn.rawValue), "SdkHttpMetadata": http, "SdkResponseMetadata": response,
                "StartDate": .double(Double(startDate) / 1000)]
    }

    /// DescribeExecution as `.sync` (texts) or `.sync:2` (JSON values) returns it.
    static func describeOutput(_ r: ExecutionDescription, parsed: Bool) -> JSON {
        var o = JSONObject()
        o.append("ExecutionArn", .string(r.executionArn.rawValue))
        o.append("Input", parsed ? r.input : .string(r.input.serialized()))
        o.append("InputDetails", ["Included": true])
        o.append("Name", .string(r.name))
        if let out = r.output {
            o.append("Output", parsed ? out : .string(out.serialized()))
            o.append("OutputDetails", ["Included": true])
        }
        if let e = r.error { o.append("Error", .string(e)) }
        if let c = r.cause { o.append("Cause", .string(c)) }
        o.append("StartDate", .double(Double(r.startDate) / 1000))
        o.append("StateMachineArn", .string(r.stateMachineArn.rawValue))
        o.append("Status", .string(r.status.rawValue))
        if let s = r.stopDate { o.append("StopDate", .double(Double(s) / 1000)) }
        return .object(o)
    }

    /// A UUID-shaped name derived from the parent's task token.
    static func childName(token: TaskToken) -> String {
        let h = Digest.hex(Digest.sha256(Array(token.rawValue.utf8)))
        let c = Array(h.prefix(32))
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}
