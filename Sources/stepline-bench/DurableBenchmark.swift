import ControlPlane
import ArgumentParser
import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import SteplineSecurity
import Synchronization

/// `stepline-bench durable`: durable transitions/s and executions/s on the SQLite store,
/// next to the machine's fsync rate measured in the same run, the latency durability adds
/// to a step, and the memory of parked executions. Use a release build.
struct BenchDurableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "durable",
        abstract: "Durable transitions/s and executions/s (SQLite store, group commit), fsync rate, p99 step latency, memory per parked execution.")

    @Option(help: "Directory for the benchmark databases (removed after).")
    var directory: String = NSTemporaryDirectory()

    @Option(help: "The pass-chain workload (100 Pass states).")
    var passChain: String = "../shared/bench/workloads/pass-chain.asl.json"

    @Option(help: "Seconds per throughput measurement.")
    var seconds: Double = 5

    @Option(help: "Executions started concurrently.")
    var concurrency: Int = 256

    @Option(help: "Parked executions for the memory measurement (0: skip).")
    var parked: Int = 100_000

    @Option(help: "SQLite synchronous mode: FULL (fsync per commit) or NORMAL.")
    var synchronous: String = "FULL"

    @Option(help: "Executions kept decoded in memory (RuntimeConfiguration.cacheCapacity).")
    var cache: Int = 10_000

    @Option(help: "Steps per second offered in the latency measurement.")
    var rate: Int = 500

    @Option(help: "Only these parts (fsync, engine, seal, pass-chain, wait-callback, latency, parked); default: all.")
    var only: [String] = []

    @Flag(help: "Encrypt every execution's data at rest (a random key as encryption.defaultKey).")
    var encrypt = false

    /// `--encrypt`'s key, random per run.
    static let benchKey = try! MasterKey(id: "bench", material: (0..<32).map { _ in UInt8.random(in: 0...255) })

    var storeOptions: SQLiteStore.Options {
        .init(synchronous: synchronous == "NORMAL" ? .normal : .full,
              sealer: encrypt ? DataSealer(keyring: try! Keyring([Self.benchKey])) : nil)
    }

    var runtimeConfiguration: RuntimeConfiguration {
        var cfg = RuntimeConfiguration()
        if encrypt { cfg.encryption = EncryptionPolicy(keyring: try! Keyring([Self.benchKey]), defaultKey: Self.benchKey) }
        return cfg
    }

    func wants(_ part: String) -> Bool { only.isEmpty || only.contains(part) }

    func run() async throws {
        let root = (directory as NSString).appendingPathComponent("stepline-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        print("stepline-bench durable — \(ProcessInfo.processInfo.activeProcessorCount) cores, synchronous=\(synchronous), encryption \(encrypt ? "on" : "off")")
        // Memory first, in a fresh process heap (later parts would leave freed memory behind).
        if wants("parked"), parked > 0 { try await parkedRun(root: root + "/parked") }
        if wants("fsync") {
            let rate = fsyncRate(path: root + "/fsync.bin", seconds: 2, data: false)
            print(String(format: "fsync loop (write 4 KiB + fsync):      %8.0f fsyncs/s  (%.0f µs each)", rate, 1e6 / rate))
            let dataRate = fsyncRate(path: root + "/fsync.bin", seconds: 2, data: true)
            print(String(format: "fdatasync loop (write 4 KiB + fdatasync, as SQLite syncs): %8.0f/s  (%.0f µs each)", dataRate, 1e6 / dataRate))
        }
        let passChainText = try String(contentsOfFile: passChain, encoding: .utf8)
        if wants("engine") {
            let definition = try StateMachineDefinition.parse(passChainText)
            let input = try JSON.parse(Self.passChainInput)
            let start = Date()
            var n = 0
            while Date().timeIntervalSince(start) < 2 {
                let info = ExecutionInfo.make(stateMachineName: "pc", executionName: "e\(n)")
                _ = ExecutionState.start(definition: definition, info: info, input: input,
                                         context: DecisionContext(now: 0, random: RandomSource(seed: UInt64(n))))
                n += 1
            }
            let dt = Date().timeIntervalSince(start)
            print(String(format: "pass-chain, engine only (1 thread): %8.0f transitions/s  %7.0f executions/s",
                         Double(n * 100) / dt, Double(n) / dt))
        }
        if wants("seal") { try sealRun() }
        if wants("pass-chain") { try await passChainRun(root: root + "/pc", text: passChainText) }
        if wants("wait-callback") { try await waitCallbackRun(root: root + "/wc") }
        if wants("latency") { try await latencyRun(root: root + "/lat") }
    }

    static let passChainInput = """
        {"id":"order-000001","customer":{"name":"Ada Lovelace","tier":"gold"},"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":42.5,"last":{"step":0,"prevStep":0,"customer":"","firstSku":"","total":0}}
        """

    func makeRuntime(_ path: String, ports: SteplineRuntime.Ports = .init(), dispatcher: (any TaskDispatcher)? = nil)
        throws -> SteplineRuntime
    {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: path + "/db.sqlite", options: storeOptions)
        var cfg = runtimeConfiguration
        cfg.cacheCapacity = cache
        return SteplineRuntime(store: store, configuration: cfg, ports: ports, dispatcher: dispatcher)
    }

    // MARK: seal

    /// What encryption at rest costs one value: sealing (a data key reused) and opening.
    func sealRun() throws {
        let sealer = DataSealer(keyring: try Keyring([Self.benchKey]))
        for size in [200, 10_000] {
            let value = [UInt8](repeating: 0x61, count: size)
            let context = "history/0\narn:aws:states:us-east-1:123456789012:execution:m:e"
            var sealed: [UInt8] = []
            var start = Date()
            var n = 0
            while Date().timeIntervalSince(start) < 1 {
                sealed = try sealer.seal(value, keyID: "bench", reusePeriodSeconds: 300, context: context)
                n += 1
            }
            let sealing = Date().timeIntervalSince(start) / Double(n)
            start = Date()
            n = 0
            while Date().timeIntervalSince(start) < 1 {
                _ = try sealer.open(sealed, context: context)
                n += 1
            }
            let opening = Date().timeIntervalSince(start) / Double(n)
            print(String(format: "seal/open a %6d-byte value: %6.2f µs / %6.2f µs (+%d bytes)", size, sealing * 1e6, opening * 1e6,
                         sealed.count - size))
        }
    }

    // MARK: fsync

    func fsyncRate(path: String, seconds: Double, data: Bool) -> Double {
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard fd >= 0 else { return 0 }
        defer { close(fd); unlink(path) }
        let block = [UInt8](repeating: 7, count: 4096)
        let start = Date()
        var n = 0
        while Date().timeIntervalSince(start) < seconds {
            _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t((n % 256) * 4096)) }
            if data { fdatasync(fd) } else { fsync(fd) }
            n += 1
        }
        return Double(n) / Date().timeIntervalSince(start)
    }

    // MARK: Throughput

    /// Starts executions from `concurrency` tasks for `seconds`; returns the count.
    func drive(_ runtime: SteplineRuntime, machine: StateMachineARN, input: String, prefix: String) async throws -> (Int, Double) {
        final class Counters: Sendable {
            let stop = Atomic<Bool>(false)
            let count = Atomic<Int>(0)
        }
        let counters = Counters()
        let start = ContinuousClock.now
        let service = runtime.executions
        let concurrency = self.concurrency
        let seconds = self.seconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    var i = 0
                    while !counters.stop.load(ordering: .relaxed) {
                        _ = try await service.startExecution(.init(stateMachineArn: machine, name: "\(prefix)-\(w)-\(i)", input: input))
                        counters.count.add(1, ordering: .relaxed)
                        i += 1
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                counters.stop.store(true, ordering: .relaxed)
            }
            try await group.waitForAll()
        }
        let d = ContinuousClock.now - start
        return (counters.count.load(ordering: .relaxed), Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    func latencyReport(_ runtime: SteplineRuntime) -> String {
        let c = runtime.executions.committer
        var l = c.latencies.withLock { $0 ?? [] }
        guard !l.isEmpty else { return "" }
        l.sort()
        let p50 = Double(l[l.count / 2]) / 1000, p99 = Double(l[min(l.count - 1, l.count * 99 / 100)]) / 1000
        let commits = c.commits.load(ordering: .relaxed), steps = c.stepsCommitted.load(ordering: .relaxed)
        return String(format: "commit wait per step p50 %.2f ms, p99 %.2f ms; %d commits, %.1f steps/commit",
                      p50, p99, commits, Double(steps) / Double(max(1, commits)))
    }

    func passChainRun(root: String, text: String) async throws {
        let runtime = try makeRuntime(root)
        try await runtime.recover()
        runtime.executions.committer.latencies.withLock { $0 = [] }
        let m = try await runtime.executions.resources.createStateMachine(.init(
            name: "pass-chain", definition: text, roleArn: "arn:aws:iam::123456789012:role/bench"))
        let (n, dt) = try await drive(runtime, machine: m.arn, input: Self.passChainInput, prefix: "pc")
        print(String(format: "pass-chain, durable:                %8.0f transitions/s  %7.0f executions/s  (%d executions in %.1f s)",
                     Double(n * 100) / dt, Double(n) / dt, n, dt))
        print("  " + latencyReport(runtime))
        await runtime.shutdown()
    }

    /// Answers every callback task at once (a worker with no latency).
    struct AnsweringDispatcher: TaskDispatcher {
        let replies: any TaskReplySink
        func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
            let replies = self.replies, token = request.token
            Task { try? await replies.taskSucceeded(token: token, output: ["ok": true]) }
            return .sent
        }
        func cancel(token: TaskToken) async {}
    }

    /// Parks every callback task (never answers).
    struct SilentDispatcher: TaskDispatcher {
        func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome { .sent }
        func cancel(token: TaskToken) async {}
    }

    static let waitCallback = """
        {"StartAt":"Wait","States":{
          "Wait":{"Type":"Wait","Seconds":1,"Next":"Callback"},
          "Callback":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                      "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/work","MessageBody":{"token.$":"$$.Task.Token","order.$":"$.order"}},
                      "Next":"Done"},
          "Done":{"Type":"Succeed"}}}
        """

    func waitCallbackRun(root: String) async throws {
        let ports = SteplineRuntime.Ports()
        let runtime = try makeRuntime(root, ports: ports, dispatcher: AnsweringDispatcher(replies: ports.replies))
        runtime.executions.committer.latencies.withLock { $0 = [] }
        let service = runtime.executions
        // The runtime runs (timers, relay), and serves the dispatcher's answers meanwhile.
        let running = Task { try await runtime.run() }
        while !(await runtime.readiness().recovered) { try await Task.sleep(for: .milliseconds(1)) }
        let m = try await service.resources.createStateMachine(.init(
            name: "wait-callback", definition: Self.waitCallback, roleArn: "arn:aws:iam::123456789012:role/bench"))
        let begin = ContinuousClock.now
        let (n, _) = try await drive(runtime, machine: m.arn, input: #"{"order":{"id":42,"items":3}}"#, prefix: "wc")
        // Wait until every execution has finished.
        while try await runtime.store.runningExecutionCount() > 0 { try await Task.sleep(for: .milliseconds(50)) }
        let d = ContinuousClock.now - begin
        let dt = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        // States entered per execution: Wait, Callback, Done.
        print(String(format: "wait+callback, durable:             %8.0f transitions/s  %7.0f executions/s  (%d executions in %.1f s, 3 steps each)",
                     Double(n * 3) / dt, Double(n) / dt, n, dt))
        print("  " + latencyReport(runtime))
        running.cancel()  // shuts the runtime down
        try? await running.value
    }

    /// The latency durability adds to a step at a moderate load: one-step executions
    /// started at a fixed rate, each step's wait for its commit measured.
    func latencyRun(root: String) async throws {
        let runtime = try makeRuntime(root)
        try await runtime.recover()
        let service = runtime.executions
        let m = try await service.resources.createStateMachine(.init(
            name: "one-step", definition: #"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
            roleArn: "arn:aws:iam::123456789012:role/bench"))
        for i in 0..<200 { _ = try await service.startExecution(.init(stateMachineArn: m.arn, name: "warm-\(i)")) }
        service.committer.latencies.withLock { $0 = [] }
        let rate = self.rate
        let total = Int(Double(rate) * seconds)
        let clock = ContinuousClock()
        let begin = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<total {
                let at = begin + .microseconds(Int64(i) * 1_000_000 / Int64(rate))
                if at > clock.now { try await clock.sleep(until: at) }
                group.addTask { _ = try await service.startExecution(.init(stateMachineArn: m.arn, name: "l-\(i)")) }
            }
            try await group.waitForAll()
        }
        print(String(format: "added latency per step at %d steps/s offered:", rate))
        print("  " + latencyReport(runtime))
        await runtime.shutdown()
    }

    // MARK: Parked memory

    static func residentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let f = s.split(separator: " ")
        return (Int(f.count > 1 ? f[1] : "0") ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func parkedRun(root: String) async throws {
        let runtime = try makeRuntime(root, dispatcher: SilentDispatcher())
        try await runtime.recover()
        let service = runtime.executions
        let callback = try await service.resources.createStateMachine(.init(
            name: "parked-callback", definition: """
                {"StartAt":"Callback","States":{"Callback":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                 "Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}
                """, roleArn: "arn:aws:iam::123456789012:role/bench"))
        let wait = try await service.resources.createStateMachine(.init(
            name: "parked-wait", definition: #"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}"#,
            roleArn: "arn:aws:iam::123456789012:role/bench"))
        // Warm up (allocator, caches), then measure from a baseline.
        for i in 0..<2_000 {
            _ = try await service.startExecution(.init(stateMachineArn: wait.arn, name: "warm-\(i)", input: #"{"n":1}"#))
        }
        let before = Self.residentBytes()
        let concurrency = self.concurrency
        let per = parked / concurrency
        let total = per * concurrency
        let start = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<concurrency {
                group.addTask {
                    for i in 0..<per {
                        let machine = (w + i) % 2 == 0 ? callback.arn : wait.arn
                        _ = try await service.startExecution(.init(stateMachineArn: machine, name: "p-\(w)-\(i)", input: #"{"order":{"id":42}}"#))
                    }
                }
            }
            try await group.waitForAll()
        }
        await service.relay.relayPending()
        let after = Self.residentBytes()
        let running = try await runtime.store.runningExecutionCount()
        let cached = await service.cachedExecutionCount()
        print(String(format: "parked executions: %d (half on a callback, half on a Wait), started in %.1f s; RSS +%.1f MiB = %.0f bytes per parked execution (%d decoded in the cache)",
                     running - 2_000, Date().timeIntervalSince(start), Double(after - before) / 1_048_576,
                     Double(after - before) / Double(total), cached.standard))
        await runtime.shutdown()
    }
}
