import StatesStore
import Synchronization
import ControlPlane

/// Writes the steps of many executions in one transaction: group commit.
///
/// A step waits in `commit` until its batch is durable. Batching is natural: while one
/// transaction is being written and synced, the steps that arrive wait together and go
/// into the next one (at most `maxBatchSteps`), so under load one fsync serves hundreds
/// of steps, and an idle daemon adds no delay to a lone step.
///
/// - Important: A step's `commit` call returns exactly once: with its outbox ids when the
///   batch holding it is durable, or with the error that kept it from being written (then
///   nothing of the step was written). Steps are written in the order `commit` was called.
///
/// It also keeps the count of STANDARD executions running, exactly: each step's change of
/// it is applied when the step is durable, and `recountRunning` reads the store's count
/// between two batches, so no step is counted twice or missed.
public final class GroupCommitter: Sendable {
    private struct Pending {
        var step: StepRecord
        /// The step's change of the running count: +1, -1 or 0.
        var running: Int
        var continuation: CheckedContinuation<[Int64], any Error>
        var queuedAt: ContinuousClock.Instant
    }

    private struct State {
        var pending: [Pending] = []
        var acks: [Int64] = []
        var draining = false
        var closed = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        /// `recountRunning` calls waiting for the loop.
        var recounts: [CheckedContinuation<Int, any Error>] = []

        /// Marks the loop as running; true when the caller must start it.
        mutating func startDraining() -> Bool {
            if draining { return false }
            draining = true
            return true
        }
    }

    private let store: any StatesStore
    private let maxBatchSteps: Int
    private let state = Mutex(State())

    /// STANDARD executions running (trigger back-pressure, metrics).
    public let running = Atomic<Int>(0)

    /// Counters for the benchmark and metrics.
    public let commits = Atomic<Int>(0)
    public let stepsCommitted = Atomic<Int>(0)
    /// When set, the time each step waited for its commit (queue + write + sync), in
    /// microseconds: the latency durability adds to a step (benchmarks).
    public let latencies = Mutex<[UInt32]?>(nil)

    /// The last storage failure (disk full, read-only), cleared by the next good commit.
    private let failure = Mutex<String?>(nil)

    /// Set while the store refuses writes.
    public var storageFailure: String? { failure.withLock { $0 } }

    public init(store: any StatesStore, maxBatchSteps: Int) {
        self.store = store
        self.maxBatchSteps = max(1, maxBatchSteps)
    }

    /// Queues a step and returns when it is durable.
    /// - Parameter running: what the step changes in the count of running executions (+1
    ///   when it starts one, -1 when it ends one), applied once the step is durable.
    /// - Returns: the ids of the step's outbox rows.
    /// - Throws: the store's error, or `ServiceError.shuttingDown` after `shutdown()`.
    public func commit(_ step: StepRecord, running: Int = 0) async throws -> [Int64] {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<[Int64], any Error>) in
            let start: Bool = state.withLock { s in
                if s.closed {
                    c.resume(throwing: ServiceError.shuttingDown)
                    return false
                }
                s.pending.append(Pending(step: step, running: running, continuation: c, queuedAt: ContinuousClock.now))
                return s.startDraining()
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Sets the count of running executions to the store's, read between two batches, and
    /// returns it (recovery).
    public func recountRunning() async throws -> Int {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int, any Error>) in
            let start: Bool = state.withLock { s in
                if s.closed {
                    c.resume(throwing: ServiceError.shuttingDown)
                    return false
                }
                s.recounts.append(c)
                return s.startDraining()
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Queues outbox acknowledgements; they are written with the next batch.
    public func acknowledge(_ ids: [Int64]) {
        guard !ids.isEmpty else { return }
        let start: Bool = state.withLock { s in
            s.acks.append(contentsOf: ids)
            return s.closed ? false : s.startDraining()
        }
        if start { Task { await self.drain() } }
    }

    /// Refuses new steps and returns when the commit in flight and the steps already
    /// queued are written.
    public func shutdown() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle: Bool = state.withLock { s in
                s.closed = true
                if !s.draining { return true }
                s.idleWaiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
    }

    private func drain() async {
        while true {
            let (batch, acks, recounts): ([Pending], [Int64], [CheckedContinuation<Int, any Error>]) = state.withLock { s in
                let n = min(s.pending.count, maxBatchSteps)
                let batch = Array(s.pending.prefix(n))
                s.pending.removeFirst(n)
                let acks = s.acks
                s.acks = []
                let recounts = s.recounts
                s.recounts = []
                return (batch, acks, recounts)
            }
            // Between two batches: every step written so far is in the store's count and
            // has been applied to `running`, and none is being written.
            if !recounts.isEmpty { await recount(recounts) }
            if batch.isEmpty && acks.isEmpty {
                let waiters: [CheckedContinuation<Void, Never>]? = state.withLock { s in
                    // Re-check under the lock: work may have arrived since.
                    guard s.pending.isEmpty && s.acks.isEmpty && s.recounts.isEmpty else { return nil }
                    s.draining = false
                    let w = s.idleWaiters
                    s.idleWaiters = []
                    return w
                }
                guard let waiters else { continue }
                for w in waiters { w.resume() }
                return
            }
            await write(batch, acks: acks)
        }
    }

    private func recount(_ waiting: [CheckedContinuation<Int, any Error>]) async {
        do {
            let n = try await store.runningExecutionCount()
            running.store(n, ordering: .relaxed)
            for c in waiting { c.resume(returning: n) }
        } catch {
            for c in waiting { c.resume(throwing: error) }
        }
    }

    private func write(_ batch: [Pending], acks: [Int64]) async {
        do {
            let began = ContinuousClock.now
            let result = try await store.commit(CommitBatch(steps: batch.map(\.step), outboxSent: acks))
            let took = ContinuousClock.now - began
            RuntimeMetrics.commit(steps: batch.count, nanoseconds: took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000)
            commits.add(1, ordering: .relaxed)
            stepsCommitted.add(batch.count, ordering: .relaxed)
            failure.withLock { $0 = nil }
            // Before any step of the batch is answered, and before the loop can recount.
            let change = batch.reduce(0) { $0 + $1.running }
            if change != 0 { running.add(change, ordering: .relaxed) }
            let now = ContinuousClock.now
            latencies.withLock { l in
                guard l != nil else { return }
                for p in batch {
                    let d = now - p.queuedAt
                    l!.append(UInt32(min(Int64(UInt32.max), d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000)))
                }
            }
            for (p, ids) in zip(batch, result.outboxIDs) { p.continuation.resume(returning: ids) }
        } catch let error as StoreError where batch.count > 1 && !error.isStorageFailure {
            // One step is at fault (a conflict): write them one by one so the others pass.
            for p in batch { await write([p], acks: []) }
            if !acks.isEmpty { await write([], acks: acks) }
        } catch {
            if let e = error as? StoreError, e.isStorageFailure { failure.withLock { $0 = e.description } }
            for p in batch { p.continuation.resume(throwing: error) }
            if !acks.isEmpty {
                // Acknowledgements are retried with a later batch; a row not marked sent
                // is only sent again after a restart, which is harmless.
                let closed: Bool = state.withLock { s in
                    if !s.closed { s.acks.append(contentsOf: acks) }
                    return s.closed
                }
                if !closed { try? await Task.sleep(for: .milliseconds(200)) }
            }
        }
    }
}
