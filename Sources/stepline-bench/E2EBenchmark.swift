import ArgumentParser
import Foundation
import KafkaClient
import StatesEngine
import StatesLanguage
import SteplineRuntime
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `stepline-bench e2e`: end-to-end executions/s and latency of a running daemon, from a
/// trigger record produced to the execution's SUCCEEDED status event received.
///
/// It connects to the daemon's Kafka and plays three parts in this process: the upstream
/// application (produces trigger records at a steady offered rate), the task worker (one
/// reply per task record, token read from the `stepline-task-token` header), and the
/// observer (reads `stepline.execution-status`). The daemon runs in its own process.
///
/// Latency is measured from the record's *intended* send time on the pacing schedule (so
/// a driver that falls behind its schedule counts against the daemon, not for it) to the
/// moment this process received the SUCCEEDED status event. That event leaves the daemon
/// through the outbox after the final step is durable, so the figure includes the commit,
/// the status publish and one consumer fetch; the daemon's `stopDate` (taken when the
/// engine decided, before the commit) is reported beside it, for the breakdown.
struct BenchE2ECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "End-to-end executions/s and latency of a running daemon (trigger record → SUCCEEDED), with an in-process worker.")

    @Option(help: "Bootstrap servers of the daemon's Kafka (default: read <data-dir>/bootstrap.servers).")
    var bootstrap: String?

    @Option(help: "The daemon's data directory (for bootstrap.servers).")
    var dataDir: String = ".stepline"

    @OptionGroup var topics: E2ETopics

    @Option(help: "Offered load: trigger records per second.")
    var rate: Int = 1000

    @Option(help: "Seconds of offered load measured (after the warm-up).")
    var seconds: Double = 20

    @Option(help: "Seconds of offered load before the measurement (excluded from the figures, included in the checks).")
    var warmup: Double = 5

    @Option(help: "After the last record: give up on stragglers once nothing finished for this many seconds.")
    var drain: Double = 20

    @Option(help: "After the last record: give up on stragglers after this many seconds in any case (an overloaded daemon).")
    var maxDrain: Double = 60

    @Option(help: "The brokers are librdkafka's mock cluster (1 ms fetch wait): true or false.")
    var mockBroker: Bool = true

    @Option(help: "linger.ms of the upstream producer of trigger records (librdkafka's default: 5).")
    var producerLinger: Int = 5

    @Option(help: "linger.ms of the worker's reply producer (the daemon's producer uses 1).")
    var workerLinger: Int = 1

    @Option(help: "Write the names of every execution the run should have made to this file, one per line.")
    var names: String?

    @Option(help: "A label for the RESULT line.")
    var label: String?

    @Flag(help: "Print a line per second: offered, started, tasks, finished, backlog.")
    var timeline = false

    @Option(help: "Report the CPU time of these processes (the daemon, a broker) over the measured window: NAME=PID.")
    var watch: [String] = []

    func validate() throws {
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        guard seconds > 0, warmup >= 0 else { throw ValidationError("--seconds must be positive, --warmup not negative") }
    }

    func run() async throws {
        let servers: String
        if let bootstrap {
            servers = bootstrap
        } else {
            let file = (dataDir as NSString).appendingPathComponent("bootstrap.servers")
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("no --bootstrap, and \(file) cannot be read (is stepline serve running with that data dir?)")
            }
            servers = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let run = E2ERun(options: self, bootstrap: servers)
        try await run.execute()
    }
}

/// The e2e workload's topics and names, shared by the driver and `e2e-floor`.
struct E2ETopics: ParsableArguments {
    @Option(help: "The trigger topic.")
    var topic: String = "bench-orders"

    @Option(help: "The trigger rule's name (execution names are <rule>-<topic>-<partition>-<offset>).")
    var rule: String = "bench-orders"

    @Option(help: "The task topic the worker consumes (the queue name of the workflow's QueueUrl).")
    var workTopic: String = "bench-work"

    @Option(help: "The reply topic.")
    var replyTopic: String = "stepline.task-replies"

    @Option(help: "The execution status topic.")
    var statusTopic: String = "stepline.execution-status"
}

/// Monotonic nanoseconds.
private func monotonicNanos() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

func wallMilliseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    return Int64(t.tv_sec) * 1000 + Int64(t.tv_nsec) / 1_000_000
}

/// The name and CPU seconds (utime + stime) in a /proc stat file, a process's or a thread's.
private func statCPUSeconds(_ path: String) -> (name: String, seconds: Double)? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8),
          let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    // After the name: state is field 3, utime field 14, stime field 15.
    guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
    return (String(text[text.index(after: open)..<close]), (u + s) / Double(sysconf(Int32(_SC_CLK_TCK))))
}

/// CPU seconds of a process.
private func processCPUSeconds(_ pid: Int32) -> Double? { statCPUSeconds("/proc/\(pid)/stat")?.seconds }

/// CPU seconds of a process's threads, summed by thread name (the kernel keeps 15
/// characters: Swift's cooperative pool shows as "oot.default-qos", dispatch queues' threads
/// as "-qos.overcommit", librdkafka's as "rdk:…", the mock cluster's as "rdk:mock").
private func threadCPUSeconds(_ pid: Int32) -> [String: Double] {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [:] }
    var byName: [String: Double] = [:]
    for tid in tasks {
        guard let t = statCPUSeconds("/proc/\(pid)/task/\(tid)/stat") else { continue }
        byName[t.name, default: 0] += t.seconds
    }
    return byName
}

/// The machine's CPU: (busy, stolen, total) jiffies over all cores, from /proc/stat. Busy
/// includes stolen time: what the hypervisor gave to other guests while this one wanted to run.
private func machineCPU() -> (busy: Double, steal: Double, total: Double)? {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = text.split(separator: "\n").first else { return nil }
    let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard v.count >= 8 else { return nil }
    let total = v.prefix(8).reduce(0, +)
    return (total - v[3] - v[4], v[7], total)
}

/// A process's write volume: (bytes passed to write calls, bytes sent to storage, write calls), from /proc/PID/io.
private func processWrites(_ pid: Int32) -> (wchar: Double, storage: Double, calls: Double)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return nil }
    var v: [String: Double] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":")
        if parts.count == 2 { v[String(parts[0])] = Double(parts[1].trimmingCharacters(in: .whitespaces)) }
    }
    guard let w = v["wchar"], let b = v["write_bytes"], let c = v["syscw"] else { return nil }
    return (w, b, c)
}

private func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map { $0.split(separator: " ").prefix(3).joined(separator: " ") } ?? "?"
}

private func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

private struct CPUSample: Sendable {
    var at: UInt64
    var machine: (busy: Double, steal: Double, total: Double)?
    var own: Double
    var watched: [Double?]
    /// Per watched process, CPU seconds by thread name.
    var threads: [[String: Double]]
    var writes: [(wchar: Double, storage: Double, calls: Double)?]
    var finished: Int
    var load: String
}

private struct CPUWindow: Sendable {
    var start: CPUSample
    var end: CPUSample
}

/// A record's place: partition and offset packed, the execution's identity.
private func placeKey(partition: Int32, offset: Int64) -> Int64 { Int64(partition) << 44 | offset }

/// What the observer and the worker saw of one execution (by place key).
private struct Seen {
    var started: UInt64 = 0
    var task: UInt64 = 0
    var tasks: Int32 = 0
    var finished: UInt64 = 0
    var succeeded: Int32 = 0
    var otherEnds: Int32 = 0
    var stopDate: Int64 = 0
    var startDate: Int64 = 0
}

/// The state shared by the producer thread, the delivery reports, the worker and the observer.
private final class E2EState: Sendable {
    /// Per record index: its place key once delivered (-1 before, -2 on failure).
    let places: Mutex<[Int64]>
    let seen = Mutex<[Int64: Seen]>([:])
    let deliveryFailures = Atomic<Int>(0)
    let replyFailures = Atomic<Int>(0)
    let tasks = Atomic<Int>(0)
    let duplicateTokens = Atomic<Int>(0)
    let tokens = Mutex<Set<String>>([])
    let foreign = Atomic<Int>(0)
    let produced = Atomic<Int>(0)
    let maxLagNanos = Atomic<UInt64>(0)
    let stopping = Atomic<Bool>(false)
    let finishedCount = Atomic<Int>(0)
    let startedCount = Atomic<Int>(0)
    /// Per SUCCEEDED event (warm-up included), in ms: the daemon's decision to the event's
    /// produce call, and the produce call to the observer's receipt.
    let endHops = Mutex<[(Int64, Int64)]>([])

    init(total: Int) {
        places = Mutex([Int64](repeating: -1, count: total))
    }
}

private struct E2ERun {
    let options: BenchE2ECommand
    let bootstrap: String

    init(options: BenchE2ECommand, bootstrap: String) {
        self.options = options
        self.bootstrap = bootstrap
    }

    func consumerConfiguration(group: String, reset: KafkaOffsetReset) -> KafkaConsumerConfiguration {
        var c = KafkaConsumerConfiguration.lowLatency(bootstrapServers: bootstrap, groupID: group, isMockCluster: options.mockBroker)
        c.clientID = "stepline-bench"
        c.autoOffsetReset = reset
        return c
    }

    func execute() async throws {
        let rate = options.rate
        let warmupCount = Int((Double(rate) * options.warmup).rounded())
        let measuredCount = Int((Double(rate) * options.seconds).rounded())
        let total = warmupCount + measuredCount
        let state = E2EState(total: total)
        let runID = "\(getpid())-\(wallMilliseconds())"
        let executionPrefix = "\(options.topics.rule)-\(options.topics.topic)-"

        var pc = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        pc.clientID = "stepline-bench"
        pc.linger = .milliseconds(options.producerLinger)
        let producer = try KafkaProducer(configuration: pc)
        var wc = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        wc.clientID = "stepline-bench-worker"
        wc.linger = .milliseconds(options.workerLinger)
        let replies = try KafkaProducer(configuration: wc)
        // The worker group is kept between runs (it resumes where the last run stopped);
        // the observer reads only what is published after it joined.
        let worker = try KafkaConsumer(configuration: consumerConfiguration(group: "stepline-bench-worker", reset: .earliest),
                                       topics: [options.topics.workTopic])
        let observer = try KafkaConsumer(configuration: consumerConfiguration(group: "stepline-bench-observer-\(runID)", reset: .latest),
                                         topics: [options.topics.statusTopic])

        let workerTask = Task { await workerLoop(worker, replies: replies, state: state, prefix: executionPrefix) }
        let observerTask = Task { await observerLoop(observer, state: state, prefix: executionPrefix) }

        // Both consumers must own their partitions before the first record is offered.
        let joinStart = monotonicNanos()
        while (try? worker.assignment().isEmpty) ?? true || (try? observer.assignment().isEmpty) ?? true {
            if monotonicNanos() - joinStart > 60_000_000_000 { throw ValidationError("the bench consumers did not join their groups within 60 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
        // The observer's "latest" positions resolve on its first fetches.
        try await Task.sleep(for: .seconds(1))
        let cpuBefore = cpuSeconds()
        print(String(format: "e2e: %d records/s offered for %.0f s (+%.0f s warm-up), bootstrap %@; consumers joined in %.1f s",
                     rate, options.seconds, options.warmup, bootstrap, Double(monotonicNanos() - joinStart) / 1e9))
        fflush(nil)

        // The producer thread: a steady schedule, record i due at t0 + i / rate.
        let t0 = monotonicNanos() + 10_000_000
        let topic = options.topics.topic
        let produceDone = Mutex<Bool>(false)
        let producerThread = Thread {
            var value: [UInt8] = []
            var i = 0
            while i < total, !state.stopping.load(ordering: .relaxed) {
                let due = t0 + UInt64(i) * 1_000_000_000 / UInt64(rate)
                let now = monotonicNanos()
                if now < due {
                    var ts = timespec(tv_sec: Int((due - now) / 1_000_000_000), tv_nsec: Int((due - now) % 1_000_000_000))
                    nanosleep(&ts, nil)
                    continue
                }
                let lag = now - due
                if i >= warmupCount, lag > state.maxLagNanos.load(ordering: .relaxed) { state.maxLagNanos.store(lag, ordering: .relaxed) }
                // Everything due now goes out.
                while i < total, t0 + UInt64(i) * 1_000_000_000 / UInt64(rate) <= now {
                    value.removeAll(keepingCapacity: true)
                    value.append(contentsOf: #"{"detail-type":"OrderPlaced","source":"stepline.bench","detail":{"id":"#.utf8)
                    value.append(contentsOf: String(i).utf8)
                    value.append(contentsOf: #","total":42.5,"run":""#.utf8)
                    value.append(contentsOf: runID.utf8)
                    value.append(contentsOf: #""}}"#.utf8)
                    let index = i
                    let onDelivery: @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void = { result in
                        switch result {
                        case .success(let r): state.places.withLock { $0[index] = placeKey(partition: r.partition, offset: r.offset) }
                        case .failure:
                            state.deliveryFailures.add(1, ordering: .relaxed)
                            state.places.withLock { $0[index] = -2 }
                        }
                    }
                    do {
                        try value.withUnsafeBytes { v in
                            try producer.enqueue(topic: topic, key: nil, value: v, onDelivery: onDelivery)
                        }
                        i += 1
                        state.produced.add(1, ordering: .relaxed)
                    } catch {
                        // Queue full: the schedule slips, which counts against the latency.
                        var ts = timespec(tv_sec: 0, tv_nsec: 200_000)
                        nanosleep(&ts, nil)
                        break
                    }
                }
            }
            produceDone.withLock { $0 = true }
        }
        producerThread.name = "bench-producer"
        producerThread.start()

        // Timeline and the wait for stragglers.
        let measureStart = t0 + UInt64(warmupCount) * 1_000_000_000 / UInt64(rate)
        let produceEnd = t0 + UInt64(total) * 1_000_000_000 / UInt64(rate)
        let watched: [(String, Int32)] = options.watch.compactMap { w in
            let parts = w.split(separator: "=")
            guard parts.count == 2, let pid = Int32(parts[1]) else { return nil }
            return (String(parts[0]), pid)
        }
        // CPU of the machine, this process and the watched ones over the measured window.
        let sampler = Task { () -> CPUWindow in
            func sample() -> CPUSample {
                CPUSample(at: monotonicNanos(), machine: machineCPU(), own: cpuSeconds(),
                          watched: watched.map { processCPUSeconds($0.1) }, threads: watched.map { threadCPUSeconds($0.1) }, writes: watched.map { processWrites($0.1) },
                          finished: state.finishedCount.load(ordering: .relaxed), load: loadAverage())
            }
            while monotonicNanos() < measureStart { try? await Task.sleep(for: .milliseconds(5)) }
            let a = sample()
            while monotonicNanos() < produceEnd { try? await Task.sleep(for: .milliseconds(5)) }
            return CPUWindow(start: a, end: sample())
        }
        var lastFinished = 0
        var lastProgress = monotonicNanos()
        var lastTick = t0
        var previous = (produced: 0, started: 0, tasks: 0, finished: 0)
        while true {
            try await Task.sleep(for: .milliseconds(options.timeline ? 1000 : 200))
            let now = monotonicNanos()
            let finished = state.finishedCount.load(ordering: .relaxed)
            let produced = state.produced.load(ordering: .relaxed)
            if options.timeline, now >= lastTick + 1_000_000_000 || produceDone.withLock({ $0 }) {
                let started = state.startedCount.load(ordering: .relaxed), tasks = state.tasks.load(ordering: .relaxed)
                let dt = Double(now - lastTick) / 1e9
                print(String(format: "  t=%5.1f s  offered %6.0f/s  started %6.0f/s  tasks %6.0f/s  finished %6.0f/s  backlog %d",
                             Double(now - t0) / 1e9, Double(produced - previous.produced) / dt, Double(started - previous.started) / dt,
                             Double(tasks - previous.tasks) / dt, Double(finished - previous.finished) / dt, produced - finished))
                fflush(nil)
                previous = (produced, started, tasks, finished)
                lastTick = now
            }
            if finished != lastFinished {
                lastFinished = finished
                lastProgress = now
            }
            if produceDone.withLock({ $0 }), finished >= produced { break }
            if now > produceEnd, Double(now - lastProgress) / 1e9 > options.drain || Double(now - produceEnd) / 1e9 > options.maxDrain { break }
        }
        state.stopping.store(true, ordering: .relaxed)
        let cpuUsed = cpuSeconds() - cpuBefore
        let wallUsed = Double(monotonicNanos() - t0) / 1e9
        worker.triggerGracefulShutdown()
        observer.triggerGracefulShutdown()
        await workerTask.value
        await observerTask.value
        await worker.close()
        await observer.close()
        try? await producer.flush(timeout: .seconds(10))
        try? await replies.flush(timeout: .seconds(10))
        await producer.close()
        await replies.close()

        let window = await sampler.value
        report(state: state, total: total, warmupCount: warmupCount, t0: t0, measureStart: measureStart, produceEnd: produceEnd,
               cpuUsed: cpuUsed, wallUsed: wallUsed, cpu: window, watched: watched.map(\.0))
    }

    // MARK: The worker

    /// One reply per task record: the token from the header, an output built from the body.
    func workerLoop(_ consumer: KafkaConsumer, replies: KafkaProducer, state: E2EState, prefix: String) async {
        let replyTopic = options.topics.replyTopic
        while !consumer.isShutdownTriggered {
            do {
                try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100)) { views throws(KafkaError) in
                    guard !views.isEmpty else { return }
                    let now = monotonicNanos()
                    var seen: [(Int64, UInt64)] = []
                    seen.reserveCapacity(views.count)
                    var out: [UInt8] = []
                    for view in views {
                        let headers = view.headers
                        guard let token = headers.first(where: { $0.key == "stepline-task-token" })?.stringValue else { continue }
                        let isNew = state.tokens.withLock { $0.insert(token).inserted }
                        if !isNew { state.duplicateTokens.add(1, ordering: .relaxed) }
                        state.tasks.add(1, ordering: .relaxed)
                        if let arn = headers.first(where: { $0.key == "stepline-execution-arn" })?.stringValue,
                            let key = Self.place(name: ARNs.lastComponentView(arn), prefix: prefix)
                        {
                            seen.append((key, now))
                        }
                        // The work: read the order from the body, approve it.
                        let body = view.value.flatMap { v in try? JSON.parse(bytes: Array(v)) }
                        var output = JSONObject()
                        output.append("approved", true)
                        output.append("orderId", body?["order"]?["orderId"] ?? .null)
                        var reply = JSONObject()
                        reply.append("taskToken", .string(token))
                        reply.append("output", .object(output))
                        out.removeAll(keepingCapacity: true)
                        JSON.object(reply).write(to: &out)
                        do {
                            try out.withUnsafeBytes { v in
                                try replies.enqueue(topic: replyTopic, key: nil, value: v, onDelivery: { r in
                                    if case .failure = r { state.replyFailures.add(1, ordering: .relaxed) }
                                })
                            }
                        } catch {
                            state.replyFailures.add(1, ordering: .relaxed)
                        }
                    }
                    try consumer.storeOffsets(KafkaConsumer.nextOffsets(after: views))
                    state.seen.withLock { m in
                        for (key, t) in seen {
                            m[key, default: Seen()].tasks += 1
                            if m[key]!.task == 0 { m[key]!.task = t }
                        }
                    }
                }
            } catch {
                if consumer.isShutdownTriggered { return }
                print("worker: \(error)")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    // MARK: The observer

    func observerLoop(_ consumer: KafkaConsumer, state: E2EState, prefix: String) async {
        while !consumer.isShutdownTriggered {
            do {
                try await consumer.poll(maxRecords: 2000, timeout: .milliseconds(100)) { views throws(KafkaError) in
                    guard !views.isEmpty else { return }
                    let now = monotonicNanos()
                    var events: [(Int64, Substring, Int64)] = []
                    events.reserveCapacity(views.count)
                    var foreign = 0
                    var hops: [(Int64, Int64)] = []
                    for view in views {
                        guard let key = view.key, let value = view.value else { continue }
                        let arn = String(decoding: key, as: UTF8.self)
                        guard let place = Self.place(name: ARNs.lastComponentView(arn), prefix: prefix) else {
                            foreign += 1
                            continue
                        }
                        guard let status = Self.stringField("\"status\":\"", in: value) else { continue }
                        let date = status == "RUNNING" ? Self.integerField("\"startDate\":", in: value) ?? 0
                            : Self.integerField("\"stopDate\":", in: value) ?? 0
                        events.append((place, status, date))
                        if status == "SUCCEEDED", let produced = view.timestampMilliseconds {
                            // The end's last hop in two: the daemon's decision to the event's
                            // produce call (commit, relay), then the Kafka hop to here.
                            hops.append((produced - date, wallMilliseconds() - produced))
                        }
                    }
                    if foreign > 0 { state.foreign.add(foreign, ordering: .relaxed) }
                    if !hops.isEmpty { state.endHops.withLock { $0 += hops } }
                    var started = 0, finished = 0
                    state.seen.withLock { m in
                        for (place, status, stopDate) in events {
                            var s = m[place] ?? Seen()
                            switch status {
                            case "RUNNING":
                                if s.started == 0 {
                                    s.started = now
                                    s.startDate = stopDate
                                    started += 1
                                }
                            case "SUCCEEDED":
                                s.succeeded += 1
                                if s.finished == 0 {
                                    s.finished = now
                                    s.stopDate = stopDate
                                    finished += 1
                                }
                            default:
                                s.otherEnds += 1
                                if s.finished == 0 {
                                    s.finished = now
                                    finished += 1
                                }
                            }
                            m[place] = s
                        }
                    }
                    state.startedCount.add(started, ordering: .relaxed)
                    state.finishedCount.add(finished, ordering: .relaxed)
                }
            } catch {
                if consumer.isShutdownTriggered { return }
                print("observer: \(error)")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// The place key of an execution named `<prefix><partition>-<offset>`.
    static func place(name: Substring, prefix: String) -> Int64? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dash = rest.firstIndex(of: "-"), let p = Int32(rest[..<dash]), let o = Int64(rest[rest.index(after: dash)...]) else {
            return nil
        }
        return placeKey(partition: p, offset: o)
    }

    /// The string after `marker` (up to the next quote). Status events are compact JSON
    /// whose detail carries `"status":"..."` before any escaped text (input, output), so
    /// the first match is the field.
    static func stringField(_ marker: StaticString, in bytes: UnsafeRawBufferPointer) -> Substring? {
        guard let start = find(marker, in: bytes) else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        return Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }

    static func integerField(_ marker: StaticString, in bytes: UnsafeRawBufferPointer) -> Int64? {
        guard var i = find(marker, in: bytes) else { return nil }
        var n: Int64 = 0
        var digits = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            n = n * 10 + Int64(bytes[i] - 0x30)
            i += 1
            digits += 1
        }
        return digits > 0 ? n : nil
    }

    /// The index just past the first occurrence of `marker`.
    static func find(_ marker: StaticString, in bytes: UnsafeRawBufferPointer) -> Int? {
        let m = UnsafeRawBufferPointer(start: marker.utf8Start, count: marker.utf8CodeUnitCount)
        guard m.count > 0, bytes.count >= m.count, let base = bytes.baseAddress else { return nil }
        var i = 0
        let last = bytes.count - m.count
        while i <= last {
            guard let hit = memchr(base + i, Int32(m[0]), last - i + 1) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, m.baseAddress!, m.count) == 0 { return at + m.count }
            i = at + 1
        }
        return nil
    }

    // MARK: Report

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    func report(state: E2EState, total: Int, warmupCount: Int, t0: UInt64, measureStart: UInt64, produceEnd: UInt64,
                cpuUsed: Double, wallUsed: Double, cpu: CPUWindow, watched: [String])
    {
        let rate = options.rate
        let places = state.places.withLock { $0 }
        let seen = state.seen.withLock { $0 }
        // Wall clock minus monotonic clock, to compare the daemon's stopDate with the schedule.
        let wallOffsetMs = Double(wallMilliseconds()) - Double(monotonicNanos()) / 1e6
        var latencies: [Double] = [], taskLatencies: [Double] = [], startLatencies: [Double] = [], stopLatencies: [Double] = []
        var startDateLatencies: [Double] = []
        var notFinished = 0, notFinishedMeasured = 0, undelivered = 0, duplicates = 0, failedEnds = 0, missingTasks = 0, extraTasks = 0
        var completedInWindow = 0
        var names: [String] = []
        let prefix = "\(options.topics.rule)-\(options.topics.topic)-"
        for (i, place) in places.enumerated() {
            guard place >= 0 else {
                undelivered += 1
                continue
            }
            if options.names != nil { names.append("\(prefix)\(place >> 44)-\(place & ((1 << 44) - 1))") }
            let s = seen[place]
            let due = t0 + UInt64(i) * 1_000_000_000 / UInt64(rate)
            if let s, s.succeeded > 1 { duplicates += Int(s.succeeded) - 1 }
            if let s, s.otherEnds > 0 { failedEnds += 1 }
            if let s, s.tasks == 0, s.succeeded > 0 { missingTasks += 1 }
            if let s, s.tasks > 1 { extraTasks += Int(s.tasks) - 1 }
            guard let s, s.succeeded > 0 else {
                notFinished += 1
                if i >= warmupCount { notFinishedMeasured += 1 }
                continue
            }
            if s.finished >= measureStart && s.finished <= produceEnd { completedInWindow += 1 }
            guard i >= warmupCount else { continue }
            latencies.append(Double(s.finished &- due) / 1e6)
            if s.task > 0 { taskLatencies.append(Double(s.task &- due) / 1e6) }
            if s.started > 0 { startLatencies.append(Double(s.started &- due) / 1e6) }
            if s.stopDate > 0 { stopLatencies.append(Double(s.stopDate) - (Double(due) / 1e6 + wallOffsetMs)) }
            if s.startDate > 0 { startDateLatencies.append(Double(s.startDate) - (Double(due) / 1e6 + wallOffsetMs)) }
        }
        latencies.sort()
        taskLatencies.sort()
        startLatencies.sort()
        stopLatencies.sort()
        startDateLatencies.sort()
        let measured = total - warmupCount
        let window = Double(produceEnd - measureStart) / 1e9
        let achieved = Double(completedInWindow) / window
        let p = { (p: Double) in Self.percentile(latencies, p) }
        print(String(format: "offered %d/s; produced %d (%d warm-up), delivery failures %d; producer's max lag behind its schedule (measured part) %.1f ms",
                     rate, state.produced.load(ordering: .relaxed), warmupCount, state.deliveryFailures.load(ordering: .relaxed),
                     Double(state.maxLagNanos.load(ordering: .relaxed)) / 1e6))
        print(String(format: "finished during the measured %.0f s: %.0f executions/s (offered %d/s); unfinished when the driver stopped waiting (%.0f s after the last record at most): %d",
                     window, achieved, rate, options.maxDrain, notFinished))
        print(String(format: "latency record → SUCCEEDED received (%d measured): p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms",
                     latencies.count, p(50), p(90), p(99), p(99.9), latencies.last ?? .nan))
        print(String(format: "  breakdown p50/p99 from the intended send: daemon startDate %.0f/%.0f ms; RUNNING received %.1f/%.1f ms; task at the worker %.1f/%.1f ms; daemon stopDate %.0f/%.0f ms (dates: wall clock, ms)",
                     Self.percentile(startDateLatencies, 50), Self.percentile(startDateLatencies, 99),
                     Self.percentile(startLatencies, 50), Self.percentile(startLatencies, 99), Self.percentile(taskLatencies, 50),
                     Self.percentile(taskLatencies, 99), Self.percentile(stopLatencies, 50), Self.percentile(stopLatencies, 99)))
        // Exactly once: every execution that finished SUCCEEDED once, after exactly one task;
        // unfinished ones (an overloaded daemon) are reported apart.
        let ok = undelivered == 0 && duplicates == 0 && failedEnds == 0 && missingTasks == 0 && extraTasks == 0
            && state.duplicateTokens.load(ordering: .relaxed) == 0 && state.replyFailures.load(ordering: .relaxed) == 0
        print("exactly-once check: \(ok ? "OK" : "FAILED") — records delivered \(total - undelivered)/\(total), SUCCEEDED exactly once \(total - undelivered - notFinished - duplicates)"
              + ", not finished \(notFinished) (\(notFinishedMeasured) measured), duplicate SUCCEEDED \(duplicates), other ends \(failedEnds)"
              + ", tasks \(state.tasks.load(ordering: .relaxed)) (SUCCEEDED without one \(missingTasks), extra \(extraTasks), duplicate tokens \(state.duplicateTokens.load(ordering: .relaxed)))"
              + ", reply failures \(state.replyFailures.load(ordering: .relaxed)), foreign status events \(state.foreign.load(ordering: .relaxed))")
        print(String(format: "driver CPU: %.1f s over %.1f s (%.0f%% of one core: producer, worker, observer)", cpuUsed, wallUsed, 100 * cpuUsed / wallUsed))
        let span = Double(cpu.end.at - cpu.start.at) / 1e9
        var cpuLine = String(format: "CPU over the measured window (%.1f s), in cores:", span)
        var cpuJSON = JSONObject()
        if let a = cpu.start.machine, let b = cpu.end.machine, b.total > a.total {
            let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
            let busy = cores * (b.busy - a.busy) / (b.total - a.total)
            let steal = cores * (b.steal - a.steal) / (b.total - a.total)
            cpuLine += String(format: " machine %.2f of %.0f busy (%.2f of it stolen by the hypervisor)", busy, cores, steal)
            cpuJSON.append("machine", .double((busy * 100).rounded() / 100))
            cpuJSON.append("steal", .double((steal * 100).rounded() / 100))
        }
        let own = (cpu.end.own - cpu.start.own) / span
        cpuLine += String(format: ", driver %.2f", own)
        cpuJSON.append("driver", .double((own * 100).rounded() / 100))
        for (i, name) in watched.enumerated() {
            guard let a = cpu.start.watched[i], let b = cpu.end.watched[i] else { continue }
            cpuLine += String(format: ", %@ %.2f", name, (b - a) / span)
            cpuJSON.append(name, .double(((b - a) / span * 100).rounded() / 100))
        }
        cpuLine += "; load average \(cpu.start.load) → \(cpu.end.load)"
        print(cpuLine)
        // Where a watched process's CPU went, by thread name (threads that ended in the
        // window are missing from the end sample, so the sum can fall short of the total).
        for (i, name) in watched.enumerated() {
            let a = cpu.start.threads[i], b = cpu.end.threads[i]
            let cores = b.map { ($0.key, ($0.value - (a[$0.key] ?? 0)) / span) }.filter { $0.1 >= 0.005 }.sorted { $0.1 > $1.1 }
            guard !cores.isEmpty else { continue }
            print("\(name) CPU by thread name, in cores: " + cores.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
        }
        let finishedInWindow = Double(cpu.end.finished - cpu.start.finished)
        for (i, name) in watched.enumerated() where finishedInWindow > 0 {
            guard let a = cpu.start.writes[i], let b = cpu.end.writes[i], let ca = cpu.start.watched[i], let cb = cpu.end.watched[i] else { continue }
            print(String(format: "per execution finished in the window, %@: %.2f ms CPU, %.1f KB written (%.1f KB to storage), %.1f write calls",
                         name, (cb - ca) * 1000 / finishedInWindow, (b.wchar - a.wchar) / 1024 / finishedInWindow,
                         (b.storage - a.storage) / 1024 / finishedInWindow, (b.calls - a.calls) / finishedInWindow))
            cpuJSON.append(name + "MsPerExecution", .double(((cb - ca) * 1000 / finishedInWindow * 100).rounded() / 100))
        }
        var result = JSONObject()
        result.append("label", .string(options.label ?? "rate-\(rate)"))
        result.append("offered", .int(Int64(rate)))
        result.append("seconds", .double(options.seconds))
        result.append("measured", .int(Int64(measured)))
        result.append("achieved", .double((achieved * 10).rounded() / 10))
        for (name, value) in [("p50", p(50)), ("p90", p(90)), ("p99", p(99)), ("p999", p(99.9)), ("max", latencies.last ?? .nan)] {
            result.append(name, value.isNaN ? .null : .double((value * 100).rounded() / 100))
        }
        result.append("startP50", Self.json(Self.percentile(startLatencies, 50)))
        result.append("startP99", Self.json(Self.percentile(startLatencies, 99)))
        result.append("startDateP50", Self.json(Self.percentile(startDateLatencies, 50)))
        result.append("stopDateP50", Self.json(Self.percentile(stopLatencies, 50)))
        result.append("taskP50", Self.json(Self.percentile(taskLatencies, 50)))
        result.append("taskP99", Self.json(Self.percentile(taskLatencies, 99)))
        result.append("notFinished", .int(Int64(notFinished)))
        result.append("duplicates", .int(Int64(duplicates)))
        result.append("check", .bool(ok))
        result.append("cpu", .object(cpuJSON))
        result.append("load", .string(cpu.end.load))
        let hops = state.endHops.withLock { $0 }
        let decisionToPublish = hops.map { Double($0.0) }.sorted(), publishToReceipt = hops.map { Double($0.1) }.sorted()
        print(String(format: "the end's last hop, p50 / p99 ms: decision → status event produced %.0f / %.0f, produced → received %.0f / %.0f",
                     Self.percentile(decisionToPublish, 50), Self.percentile(decisionToPublish, 99),
                     Self.percentile(publishToReceipt, 50), Self.percentile(publishToReceipt, 99)))
        result.append("endPublishP50", Self.json(Self.percentile(decisionToPublish, 50)))
        result.append("endReceiveP50", Self.json(Self.percentile(publishToReceipt, 50)))
        print("RESULT " + JSON.object(result).serialized())
        if let file = options.names {
            _ = FileManager.default.createFile(atPath: file, contents: Data((names.joined(separator: "\n") + "\n").utf8))
        }
        fflush(nil)
    }

    static func json(_ v: Double) -> JSON { v.isNaN ? .null : .double((v * 100).rounded() / 100) }
}

