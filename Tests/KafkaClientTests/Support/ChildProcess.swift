import Foundation
import Synchronization

/// A child process for tests: stdout read line by line, stderr kept, always cleaned up.
final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` and the pipes are set up in init and only read after;
    // the collected output is in Mutexes.
    let process = Process()
    let name: String
    private let stdinPipe = Pipe()
    private let stdoutLines = Locked<(lines: [String], partial: String, isClosed: Bool)>(([], "", false))
    private let stderrText = Locked("")

    init(_ executable: String, _ arguments: [String], name: String? = nil, environment: [String: String]? = nil) throws {
        self.name = name ?? (executable as NSString).lastPathComponent
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdinPipe
        out.fileHandleForReading.readabilityHandler = { [stdoutLines] handle in
            let data = handle.availableData
            stdoutLines.withLock { s in
                if data.isEmpty {
                    s.isClosed = true
                    handle.readabilityHandler = nil
                    return
                }
                s.partial += String(decoding: data, as: UTF8.self)
                while let nl = s.partial.firstIndex(of: "\n") {
                    s.lines.append(String(s.partial[..<nl]))
                    s.partial = String(s.partial[s.partial.index(after: nl)...])
                }
            }
        }
        err.fileHandleForReading.readabilityHandler = { [stderrText] handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            stderrText.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    /// The stdout lines so far.
    var lines: [String] { stdoutLines.withLock { $0.lines } }
    var stderr: String { stderrText.withLock { $0 } }

    /// Waits for stdout line number `index` (0-based).
    func line(_ index: Int, timeout: Duration = .seconds(15)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (lines, closed) = stdoutLines.withLock { ($0.lines, $0.isClosed) }
            if lines.count > index { return lines[index] }
            if closed { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(name): no stdout line \(index) within \(timeout); stdout: \(lines), stderr: \(stderr)")
    }

    /// Waits until a stdout line satisfies `predicate`.
    func waitForLine(timeout: Duration = .seconds(30), where predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: predicate) { return line }
            if !process.isRunning && stdoutLines.withLock({ $0.isClosed }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(name): expected line not seen within \(timeout); last stdout: \(lines.suffix(5)), stderr: \(stderr.suffix(2000))")
    }

    func writeLine(_ text: String) {
        stdinPipe.fileHandleForWriting.write(Data((text + "\n").utf8))
    }

    func closeStdin() { try? stdinPipe.fileHandleForWriting.close() }

    /// Waits for the process to exit; returns its status.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill()
                throw TestFailure("\(name) did not exit within \(timeout); stderr: \(stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Let the readability handlers drain the pipes.
        for _ in 0..<50 where !stdoutLines.withLock({ $0.isClosed }) { try await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    func terminate() { if process.isRunning { process.terminate() } }

    func kill() { if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }

    deinit { kill() }
}

/// A Mutex in a class, so closures can capture it.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R { try mutex.withLock { try body(&$0) } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum TestEnvironment {
    /// The `stepline` binary built next to the test bundle.
    static var steplinePath: String {
        get throws {
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            var dir = (exe as NSString).deletingLastPathComponent
            if dir.hasSuffix(".xctest") { dir = (dir as NSString).deletingLastPathComponent }
            let path = dir + "/stepline"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestFailure("no stepline binary at \(path): run `swift build` before `swift test`")
            }
            return path
        }
    }

    /// A name unique to this run, for topics and groups.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    static let kcat = "/usr/bin/kcat"
    /// python3 as found on PATH (pyenv or Debian), where confluent-kafka is installed.
    static func python(_ arguments: [String], name: String) throws -> ChildProcess {
        try ChildProcess("/usr/bin/env", ["python3", pythonClientPath] + arguments, name: name)
    }

    /// The confluent-kafka helper script, written once to a temp file.
    static let pythonClientPath: String = {
        let path = NSTemporaryDirectory() + "stepline-kafka-client-\(getpid()).py"
        try! pythonClient.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    static let pythonClient = #"""
    # confluent-kafka (PyPI, with its own librdkafka) as an external client for the tests.
    import json, sys, time
    from confluent_kafka import Consumer, Producer, KafkaError

    def out(*a):
        print(*a, flush=True)

    mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "produce":
        count, prefix = int(sys.argv[4]), sys.argv[5]
        p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
        failed = []
        def report(err, msg):
            if err is not None: failed.append(str(err))
        for i in range(count):
            p.produce(topic, key=f"k{i}", value=f"{prefix}-{i}", headers=[("origin", b"python")], on_delivery=report)
            p.poll(0)
        left = p.flush(30)
        out(f"produced {count} failed {len(failed)} left {left} {failed[:3]}")
    elif mode in ("consume", "member"):
        group = sys.argv[4]
        count = int(sys.argv[5]) if mode == "consume" else None
        seconds = float(sys.argv[5]) if mode == "member" else float(sys.argv[6])
        strategy = sys.argv[6] if mode == "member" and len(sys.argv) > 6 else "range,roundrobin"
        session_ms = int(sys.argv[7]) if mode == "member" and len(sys.argv) > 7 else 3000
        # Short session timeouts: the mock cluster completes a rebalance only after it.
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                      "enable.auto.commit": False, "session.timeout.ms": session_ms, "heartbeat.interval.ms": 1000,
                      "fetch.wait.max.ms": 10, "partition.assignment.strategy": strategy})
        started = [None]
        def on_assign(consumer, partitions):
            out("assigned " + ",".join(str(p.partition) for p in partitions))
            # The membership window starts with the first partitions (a cooperative
            # rebalance first assigns nothing).
            if started[0] is None and partitions: started[0] = time.time()
        def on_revoke(consumer, partitions):
            out("revoked " + ",".join(str(p.partition) for p in partitions))
        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        seen = 0
        deadline = time.time() + 60
        while time.time() < deadline:
            if mode == "member" and started[0] is not None and time.time() - started[0] > seconds: break
            if mode == "consume" and seen >= count: break
            m = c.poll(0.1)
            if m is None: continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF: continue
                out("error " + str(m.error())); continue
            headers = dict((k, v.decode() if v else None) for k, v in (m.headers() or []))
            out("record %d %d %.6f %s %s %s" % (m.partition(), m.offset(), time.time(), (m.key() or b"").decode(), m.value().decode(), json.dumps(headers)))
            # Processed, then committed synchronously; the time of each successful commit
            # is printed so the test can tell committed records from uncommitted ones.
            try:
                c.commit(message=m, asynchronous=False)
                out("committed %d %d %.6f" % (m.partition(), m.offset() + 1, time.time()))
            except Exception as e:
                out("commitfailed %d %d %s" % (m.partition(), m.offset() + 1, e))
            seen += 1
        c.close()
        out(f"closed {seen}")
    """#
}

/// A dev broker: a `stepline broker` process or an in-process mock cluster.
enum Backend: String, CustomStringConvertible, CaseIterable, Sendable {
    case process, embedded
    var description: String { rawValue }
}
