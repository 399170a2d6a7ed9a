import ArgumentParser
import Foundation
import MallocCounter
import StatesEngine
import StatesLanguage

/// `stepline-bench engine`: the ASL workloads of `../shared/bench/workloads`, in-process,
/// no persistence, on a virtual clock (retry waits take no time).
struct EngineBenchmark {
    var workloadsDirectory: URL
    var seconds: Double
    var only: [String]
    var threads: Int
    /// Run exactly this many executions per thread instead of for `seconds` (for profiling).
    var fixedExecutions: Int? = nil
    /// The history quota. Off by default: choice-loop's 40,006 events are past the 25,000 of
    /// a Standard execution (on AWS it would run as an Express one), and the workload is
    /// there to measure a tight loop, not the quota.
    var historyEventLimit: Int64 = .max

    /// A runner for one workload execution.
    func makeRunner(recordEvents: Bool) -> LocalRunner {
        var runner = LocalRunner(random: RandomSource(seed: 42), recordEvents: recordEvents)
        runner.historyEventLimit = historyEventLimit
        return runner
    }

    struct Row {
        var name: String
        var executions: Int
        var transitions: Int
        var elapsed: Double
        var allocationsPerExecution: Double
        var inputBytes: Int
        var status: String
        /// The 1-minute load average when the measurement ended ("?" where unknown).
        var load: String
    }

    /// The machine's 1-minute load average, from /proc/loadavg.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }

    /// A workload of the directory: `<name>.asl.json` and `<name>.input.json`.
    struct Workload {
        let name: String
        let definition: StateMachineDefinition
        let input: JSON
        let inputBytes: Int
    }

    /// The workloads selected by `--only` (all without it), in name order.
    func workloads() throws -> [Workload] {
        let files = try FileManager.default.contentsOfDirectory(atPath: workloadsDirectory.path)
            .filter { $0.hasSuffix(".asl.json") }.sorted()
        return try files.compactMap { file in
            let name = String(file.dropLast(".asl.json".count))
            if !only.isEmpty, !only.contains(name) { return nil }
            let definitionText = try String(contentsOf: workloadsDirectory.appendingPathComponent(file), encoding: .utf8)
            let inputText = try String(contentsOf: workloadsDirectory.appendingPathComponent(name + ".input.json"), encoding: .utf8)
            return Workload(name: name, definition: try StateMachineDefinition.parse(definitionText),
                            input: try JSON.parse(inputText), inputBytes: inputText.utf8.count)
        }
    }

    /// The names every benchmark execution runs under.
    static let info = ExecutionInfo.make(stateMachineName: "bench", executionName: "bench")

    /// One execution from the same start time and names every time.
    func execute(_ definition: StateMachineDefinition, _ input: JSON, recordEvents: Bool) -> LocalRunner.Outcome {
        let runner = makeRunner(recordEvents: recordEvents)
        var handler = NoTaskHandler()
        return runner.run(definition: definition, info: Self.info, input: input, startTime: 1_700_000_000_000, handler: &handler)
    }

    func run() throws {
        let rows = try workloads().map { measure(name: $0.name, definition: $0.definition, input: $0.input, inputBytes: $0.inputBytes) }
        print("history quota: \(historyEventLimit == .max ? "off" : "\(historyEventLimit) events")")
        print("workload        threads  executions  transitions/s  executions/s  allocs/execution  load  extra")
        for r in rows {
            let tps = Double(r.transitions) / r.elapsed
            let eps = Double(r.executions) / r.elapsed
            var extra = r.status == "SUCCEEDED" ? "" : "status \(r.status)"
            if r.name == "payload-heavy" {
                let perExecution = Double(r.transitions) / Double(max(1, r.executions))
                extra += String(format: "%.0f MB/s of state data", Double(r.inputBytes) * perExecution * eps / 1_000_000)
            }
            if r.name == "map-fanout" { extra += String(format: "%.0f items/s", eps * 1000) }
            // Padded by hand: `%-15@` does not pad on Linux.
            let name = r.name.count < 15 ? r.name + String(repeating: " ", count: 15 - r.name.count) : r.name
            print(name + String(format: " %7d  %10d  %13.0f  %12.1f  %16.0f  %4@  %@", threads, r.executions, tps, eps,
                                       r.allocationsPerExecution, r.load as NSString, extra as NSString))
        }
    }

    func measure(name: String, definition: StateMachineDefinition, input: JSON, inputBytes: Int) -> Row {
        // One warm-up execution, then as many as fit in the time budget.
        var status = "?"
        _ = runOne(definition, input, &status)
        let start = Date()
        let deadline = start.addingTimeInterval(seconds)
        let allocationsBefore = malloc_counter_allocations()
        let totals = Totals()
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread { [definition, input, fixedExecutions] in
                var localExecutions = 0, localTransitions = 0
                var localStatus = "?"
                while fixedExecutions.map({ localExecutions < $0 }) ?? (Date() < deadline) {
                    localTransitions += runOne(definition, input, &localStatus)
                    localExecutions += 1
                }
                totals.add(localExecutions, localTransitions, localStatus)
                group.leave()
            }
        }
        group.wait()
        let (executions, transitions) = (totals.executions, totals.transitions)
        status = totals.status
        let elapsed = Date().timeIntervalSince(start)
        let allocations = malloc_counter_allocations() - allocationsBefore
        return Row(name: name, executions: executions, transitions: transitions, elapsed: elapsed,
                   allocationsPerExecution: Double(allocations) / Double(max(1, executions)), inputBytes: inputBytes,
                   status: status, load: Self.loadAverage())
    }

    /// Sums over the benchmark threads.
    final class Totals: @unchecked Sendable {
        // @unchecked: every field is read and written under `lock`.
        private let lock = NSLock()
        private(set) var executions = 0
        private(set) var transitions = 0
        private(set) var status = "?"
        func add(_ e: Int, _ t: Int, _ s: String) {
            lock.lock()
            executions += e
            transitions += t
            status = s
            lock.unlock()
        }
    }

    /// Replays each workload's history into a new state, without the decider's state hints,
    /// and checks that it gives the live state (status, output, last event id, applied count,
    /// next due time). Returns false on any difference. To compare rendered histories across
    /// builds, use `--dump-histories DIR` and diff the files.
    func verifyReplay() throws -> Bool {
        var ok = true
        for workload in try workloads() {
            let name = workload.name, definition = workload.definition
            let live = execute(definition, workload.input, recordEvents: true)
            var replayed = ExecutionState(definition: definition, info: Self.info)
            for var e in live.events {
                e.stateHint = nil  // not stored: replay finds states by name
                replayed.apply(e)
            }
            var problems: [String] = []
            if replayed.status != live.state.status { problems.append("status \(replayed.status) != \(live.state.status)") }
            if replayed.output != live.state.output { problems.append("output differs") }
            if replayed.lastEventID != live.state.lastEventID { problems.append("lastEventID \(replayed.lastEventID) != \(live.state.lastEventID)") }
            if replayed.appliedCount != live.state.appliedCount { problems.append("appliedCount differs") }
            if replayed.nextDueTime != live.state.nextDueTime { problems.append("nextDueTime differs") }
            print("\(name): \(live.events.count) events, \(live.state.status.rawValue)\(problems.isEmpty ? ", replay matches" : ": " + problems.joined(separator: "; "))")
            ok = ok && problems.isEmpty
        }
        return ok
    }

    /// Writes each workload's rendered history (`GetExecutionHistory`'s events, one JSON per
    /// line) to `directory/<workload>.history.jsonl`, to compare builds.
    func dumpHistories(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for workload in try workloads() {
            let name = workload.name
            let outcome = execute(workload.definition, workload.input, recordEvents: true)
            let lines = outcome.events.filter { !$0.isInternal }.map { $0.awsJSON().serialized() }
            try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent(name + ".history.jsonl"),
                                                             atomically: true, encoding: .utf8)
        }
    }

    func runOne(_ definition: StateMachineDefinition, _ input: JSON, _ status: inout String) -> Int {
        let outcome = execute(definition, input, recordEvents: false)
        status = outcome.state.status.rawValue
        return outcome.transitions
    }
}

/// `stepline-bench engine`.
struct EngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Transitions/s and allocations per execution of the ASL workloads, in process, on a virtual clock.")

    @Option(help: "The workloads directory: <name>.asl.json and <name>.input.json (default: ../shared/bench/workloads beside the package).")
    var workloads: String?

    @Option(help: "Seconds per workload.")
    var seconds: Double = 3

    @Option(help: "Threads running executions at once.")
    var threads: Int = 1

    @Option(help: "Run exactly this many executions per thread instead of for --seconds (for profiling).")
    var executions: Int?

    @Option(help: "Only this workload (repeatable); default: all.")
    var only: [String] = []

    @Option(help: "The history quota in events (default: off).")
    var historyLimit: Int64?

    @Flag(help: "Check that replaying each workload's history gives the live state; exit 1 if not.")
    var verify = false

    @Option(help: "Write each workload's rendered history to DIR/<workload>.history.jsonl, to compare builds.")
    var dumpHistories: String?

    func run() throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = workloads.map { URL(fileURLWithPath: $0) }
            ?? here.deletingLastPathComponent().appendingPathComponent("shared/bench/workloads")
        let benchmark = EngineBenchmark(workloadsDirectory: directory, seconds: seconds, only: only, threads: threads,
                                        fixedExecutions: executions, historyEventLimit: historyLimit ?? .max)
        if let dumpHistories {
            try benchmark.dumpHistories(to: URL(fileURLWithPath: dumpHistories))
            return
        }
        if verify {
            if !(try benchmark.verifyReplay()) { throw ExitCode(1) }
            return
        }
        // Only this benchmark counts allocations: the others run with the counter off.
        malloc_counter_enable()
        try benchmark.run()
    }
}
