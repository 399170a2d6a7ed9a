import Foundation
import Testing

/// `stepline serve` as a process, driven by boto3 (`Tests/Integration/*.py`).
@Suite(.serialized) struct DaemonProcessTests {
    static var packageDirectory: String {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { dir.deleteLastPathComponent() }
        return dir.path
    }

    static var steplinePath: String {
        get throws {
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            var dir = (exe as NSString).deletingLastPathComponent
            if dir.hasSuffix(".xctest") { dir = (dir as NSString).deletingLastPathComponent }
            let path = dir + "/stepline"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw DaemonTestFailure(message: "no stepline binary at \(path): run `swift build` before `swift test`")
            }
            return path
        }
    }

    /// Runs a script of `Tests/Integration`; returns its exit status and output.
    static func python(_ script: String, _ arguments: [String], timeout: TimeInterval) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageDirectory + "/Tests/Integration/" + script] + arguments
        let log = NSTemporaryDirectory() + "stepline-daemon-test-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning {
            p.interrupt()
            Thread.sleep(forTimeInterval: 1)
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        try? handle.close()
        let data = FileManager.default.contents(atPath: log) ?? Data()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// ≥200 executions with Waits and activity tasks; the daemon is SIGKILLed 4 times while
    /// workers answer; every execution ends exactly once with a valid history.
    @Test(.timeLimit(.minutes(3))) func survivesSigkillWhileWorkersAnswer() throws {
        let (status, output) = try Self.python("crash_test.py", ["--binary", try Self.steplinePath, "--executions", "240", "--kills", "4"],
                                               timeout: 150)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// The AWS Step Functions API with boto3 and the AWS CLI: every action, its error
    /// classes, 1,000+ executions paged, a long-polling activity worker, bad input and a
    /// bounded fuzz of every action (Tests/Integration/api_test.py).
    @Test(.timeLimit(.minutes(5))) func stepFunctionsAPIWithBoto3AndCLI() throws {
        let (status, output) = try Self.python("api_test.py", ["--binary", try Self.steplinePath, "--fuzz-seconds", "20"],
                                               timeout: 280)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// The event-driven loop with real processes: `stepline broker`, `stepline serve`,
    /// confluent-kafka producers and workers (fan-out, callbacks, failures, heartbeats,
    /// duplicate replies, poison records, the trigger API, config reload, SIGKILL under
    /// load, a replayed topic).
    @Test(.timeLimit(.minutes(4))) func eventDrivenLoopOverKafka() throws {
        let (status, output) = try Self.python("kafka_e2e_test.py", ["--binary", try Self.steplinePath, "--load", "300"], timeout: 220)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// A Kafka outage of 90 s (the broker SIGKILLed, then a new one on the same port): the
    /// daemon rides it out, /readyz says why meanwhile, and every execution succeeds once;
    /// SIGTERM with the broker down exits 0 within the grace period, and after a restart
    /// every undelivered request arrives; a second signal exits at once (outage_test.py).
    @Test(.timeLimit(.minutes(5))) func ridesOutAKafkaOutageAndShutsDownInBoundedTime() throws {
        let (status, output) = try Self.python("outage_test.py", ["--binary", try Self.steplinePath, "--outage", "90"], timeout: 280)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// A read-only data directory at start, a full disk while running.
    @Test(.timeLimit(.minutes(2))) func diskErrorsRefuseWorkAndLoseNothing() throws {
        let (status, output) = try Self.python("disk_test.py", ["--binary", try Self.steplinePath], timeout: 90)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// Issue 14, one case of `Tests/Integration/limits_test.py` each (see its docstring).
    static func security(_ name: String) throws {
        let (status, output) = try Self.python("security_test.py", ["--binary", try Self.steplinePath, "--case", name], timeout: 150)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// SigV4 with boto3, botocore's signers and the AWS CLI: good and wrong secrets, unknown
    /// keys, no header, expired and presigned signatures; the health checks stay open.
    @Test(.timeLimit(.minutes(3))) func requestsAreAuthenticatedWithSigV4() throws { try Self.security("authentication") }

    /// IAM policies per action and resource, an explicit Deny over an Allow, tag conditions,
    /// the trigger API's actions.
    @Test(.timeLimit(.minutes(2))) func policiesDecideWhoMayDoWhat() throws { try Self.security("policies") }

    /// An unauthenticated non-loopback listen, an invalid policy, sigv4 without credentials.
    @Test(.timeLimit(.minutes(2))) func unsafeOrInvalidSecurityStopsTheDaemon() throws { try Self.security("startup") }

    /// `api.tls`: HTTPS with a self-signed certificate that boto3 verifies; bad files stop
    /// the daemon naming the key.
    @Test(.timeLimit(.minutes(2))) func theAPIServesHTTPS() throws { try Self.security("tls") }

    /// `security.roles`: a task its execution role does not allow fails with SQS's AccessDenied
    /// and publishes nothing; Retry and Catch on it; a role not listed; an assumption refused;
    /// without roles everything is published.
    @Test(.timeLimit(.minutes(2))) func executionRolesDecideWhatTasksMayCall() throws { try Self.security("roles") }

    /// Encryption at rest (issue 17): no file of the data directory holds an encrypted
    /// execution's marker, running or stopped; after a restart it reads back; without its
    /// key a clear KmsInvalidStateException and no crash; `defaultKey`; AWS's checks; bad
    /// key files refused at start; no key material in any log (Tests/Integration/encryption_test.py).
    @Test(.timeLimit(.minutes(3))) func executionDataIsEncryptedAtRest() throws {
        let (status, output) = try Self.python("encryption_test.py", ["--binary", try Self.steplinePath], timeout: 170)
        print(output)
        #expect(status == 0, "\(output)")
    }

    static func limits(_ name: String) throws {
        let (status, output) = try Self.python("limits_test.py", ["--binary", try Self.steplinePath, "--case", name], timeout: 100)
        print(output)
        #expect(status == 0, "\(output)")
    }

    /// Half-sent heads and bodies, silent, idle and trickling connections are closed after
    /// the header, body and idle timeouts.
    @Test(.timeLimit(.minutes(2))) func slowClientsAreClosedAfterTheTimeouts() throws { try Self.limits("slow-clients") }

    /// Past `api.maxConnections`: /healthz answers, /readyz says not ready, other requests
    /// get 503 ServiceUnavailable, a flood is closed at once.
    @Test(.timeLimit(.minutes(2))) func theConnectionLimitKeepsHealthChecksAnswered() throws { try Self.limits("connection-limit") }

    /// /healthz and other calls answer promptly while two TestState calls burn CPU.
    @Test(.timeLimit(.minutes(2))) func heavyEvaluationsDoNotHoldTheOtherRequests() throws { try Self.limits("heavy-work") }

    /// Trigger rules that would feed themselves are refused, at start and by the trigger API.
    @Test(.timeLimit(.minutes(2))) func feedbackLoopsAreRefused() throws { try Self.limits("feedback-loop") }

    /// A task output over 256 KiB: ValidationException over HTTP and over the reply topic alike.
    @Test(.timeLimit(.minutes(2))) func anOversizedTaskOutputGetsOneAnswer() throws { try Self.limits("task-output") }

    /// No environment or configuration line in the logs; a private data directory.
    @Test(.timeLimit(.minutes(2))) func secretsStaySecretAndFilesPrivate() throws { try Self.limits("secrets") }
}

struct DaemonTestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
