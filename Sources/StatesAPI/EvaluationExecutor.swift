import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ControlPlane

/// Where the API's CPU-heavy requests run (TestState, definition parsing and validation,
/// event patterns): a few threads of their own, at a lower scheduling priority, with a
/// bound on the requests admitted at once.
///
/// A JSONata expression or a pattern can take seconds of CPU. Run on Swift's cooperative
/// pool (two threads on two cores), two such requests held every thread that answers the
/// other requests, `/healthz` included. Here they take turns on their own threads, and
/// the kernel prefers the other threads when both want the cores (nice 10), so the rest of
/// the API keeps answering while they run.
///
/// - Note: a handler run with `run(_:)` keeps this executor for its nonisolated code, its
///   synchronous evaluation above all; what it awaits on an actor runs where that actor does.
public final class EvaluationExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched under `condition`'s lock.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private let admitted = Mutex(0)
    /// Requests running or waiting here at once; one more is refused (ThrottlingException).
    public let maxRequests: Int
    public let threads: Int

    /// The executor the daemon's API uses: as many threads as cores (at most 4), 16 requests.
    public static let shared = EvaluationExecutor(threads: min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)), maxRequests: 16)

    public init(threads: Int, maxRequests: Int, nice: Int32 = 10) {
        self.threads = threads
        self.maxRequests = maxRequests
        for i in 0..<threads {
            let thread = Thread { [self] in
                // On Linux the nice value is per thread; `who` 0 is the calling one.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                // As `top -H` shows it (15 bytes at most).
                Thread.current.name = "stepline-eval-\(i)"
                work()
            }
            // The evaluators bound their depth for 8 MiB stacks with a 2x margin in debug
            // builds (docs/jsonata.md, "Limits"); a thread's default may be smaller.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// Runs `body` on this executor's threads.
    ///
    /// - Throws: `ThrottlingException` when `maxRequests` requests are here already (AWS's
    ///   answer to too many calls at once; the SDKs retry it), or what `body` throws.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let admitted = self.admitted.withLock { n in
            guard n < maxRequests else { return false }
            n += 1
            return true
        }
        guard admitted else { throw ServiceError(.throttling, "Rate exceeded") }
        defer { self.admitted.withLock { $0 -= 1 } }
        return try await withTaskExecutorPreference(self) { try await body() }
    }
}
