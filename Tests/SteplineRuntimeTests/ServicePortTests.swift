import ControlPlane
import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import Synchronization
import Testing

/// The ports through which parts built before the runtime reach it: waiting before it
/// runs, straight through while it runs, refused after.
@Suite struct ServicePortTests {
    /// Records the answers it gets.
    final class RecordingSink: TaskReplySink {
        let answers = Mutex<[String]>([])

        func taskSucceeded(token: TaskToken, output: JSON) async throws { record("succeeded \(token)") }
        func taskFailed(token: TaskToken, error: String?, cause: String?) async throws { record("failed \(token)") }
        func taskHeartbeat(token: TaskToken) async throws { record("heartbeat \(token)") }
        func taskSubmitted(token: TaskToken, output: JSON) async throws { record("submitted \(token)") }
        func activityStarted(token: TaskToken, workerName: String?) async throws -> Bool {
            record("started \(token)")
            return token.rawValue != "taken"
        }

        func record(_ answer: String) { answers.withLock { $0.append(answer) } }
    }

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func callsBeforeServingWaitAndCallsAfterAreRefused() async throws {
        let port = ServicePort<any TaskReplySink>()
        let sink = RecordingSink()
        let early = Task { try await port.taskSucceeded(token: TaskToken("t1"), output: 1) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(sink.answers.withLock { $0 }.isEmpty)
        try await port.serve(sink) {
            try await early.value
            try await port.taskHeartbeat(token: TaskToken("t2"))
            // Results come back to the caller.
            #expect(try await port.activityStarted(token: TaskToken("taken"), workerName: nil) == false)
        }
        #expect(sink.answers.withLock { $0 } == ["succeeded t1", "heartbeat t2", "started taken"])
        await #expect(throws: ServiceError.shuttingDown) { try await port.taskFailed(token: TaskToken("t3"), error: nil, cause: nil) }
        // Served once: serving again leaves it closed.
        await port.serve(sink) {}
        await #expect(throws: ServiceError.shuttingDown) { try await port.target() }
    }

    @Test func closingRefusesTheCallsThatWait() async throws {
        let port = ServicePort<any TaskReplySink>()
        let waiting = Task { try await port.taskSubmitted(token: TaskToken("t"), output: [:]) }
        try await Task.sleep(for: .milliseconds(20))
        port.close()
        await #expect(throws: ServiceError.shuttingDown) { try await waiting.value }
    }

    @Test func aCancelledCallStopsWaiting() async throws {
        let port = ServicePort<any TaskReplySink>()
        let waiting = Task { try await port.taskHeartbeat(token: TaskToken("t")) }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        // The port itself is unchanged: it still waits to be served.
        let sink = RecordingSink()
        try await port.serve(sink) { try await port.taskHeartbeat(token: TaskToken("u")) }
        #expect(sink.answers.withLock { $0 } == ["heartbeat u"])
    }

    /// Answers every task through the runtime's port, as the Kafka dispatcher answers a publish.
    struct AnsweringDispatcher: TaskDispatcher {
        let replies: any TaskReplySink

        func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
            try await replies.taskSucceeded(token: request.token, output: ["from": "dispatcher"])
            return .sent
        }

        func cancel(token: TaskToken) async {}
    }

    /// The daemon's construction: ports, then the dispatcher that answers through them, then
    /// the runtime, which serves them while it runs and refuses them once shut down.
    @Test func aRuntimeServesItsPortsWhileItRuns() async throws {
        let dir = NSTemporaryDirectory() + "stepline-ports-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ports = SteplineRuntime.Ports()
        let runtime = SteplineRuntime(store: try SQLiteStore(path: dir + "/db.sqlite", options: .init(synchronous: .normal)),
                                      ports: ports, dispatcher: AnsweringDispatcher(replies: ports.replies))
        let running = Task { try await runtime.run() }
        let machine = try await runtime.executions.resources.createStateMachine(.init(
            name: "m", definition: #"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}"#,
            roleArn: "arn:aws:iam::123456789012:role/r")).arn
        // Through the control port, as nested executions start their children.
        let control = try await ports.control.target()
        let started = try await control.startExecution(.init(stateMachineArn: machine, name: "e", input: "{}"))
        #expect(try await Self.eventually { try await control.describeExecution(started.executionArn).status == .succeeded })
        #expect(try await control.describeExecution(started.executionArn).output == ["from": "dispatcher"])
        running.cancel()
        try await running.value
        await #expect(throws: ServiceError.shuttingDown) { try await ports.replies.taskHeartbeat(token: TaskToken("t")) }
        await #expect(throws: ServiceError.shuttingDown) { try await ports.control.target() }
    }
}
