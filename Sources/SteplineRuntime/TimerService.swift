import ControlPlane
import Logging
import ServiceLifecycle
import StatesEngine
import StatesStore
import Synchronization

/// Fires stored timers: Wait states, retry backoff, task and heartbeat timeouts, and the
/// execution timeout.
///
/// Timers are not slept on: each execution's next due time is a column of its row
/// (`next_due`), written with the step that set it. This service keeps in memory only the
/// timers due within a horizon (a min-heap), reloads the horizon from the store as time
/// moves on, and at start loads everything already due, so timers that fell due while
/// the daemon was down fire at once. A fired timer is a step like any other: the executor
/// advances the execution; a timer that is no longer current does nothing.
public final class TimerService: Service, Sendable {
    private struct State {
        var heap = TimerHeap()
        /// The current due time of each timer in the heap (stale heap entries are skipped).
        var scheduled: [ExecutionARN: Int64] = [:]
        /// Timers due at or before this are in memory.
        var horizon: Int64 = .min
    }

    private let store: any StatesStore
    private let clock: any RuntimeClock
    private let horizonMilliseconds: Int64
    private let state = Mutex(State())
    private let handler = Mutex<(@Sendable (ExecutionARN) async -> Void)?>(nil)
    private let logger: Logger
    /// How many timer steps run at once: enough to fill a group commit, since each one
    /// waits for its commit.
    public let concurrency = 1024

    public init(store: any StatesStore, clock: any RuntimeClock, horizonSeconds: Int64, logger: Logger) {
        self.store = store
        self.clock = clock
        self.horizonMilliseconds = max(1, horizonSeconds) * 1000
        self.logger = logger
    }

    /// Sets what firing a timer does (the executor's `fireTimer`).
    public func setHandler(_ h: @escaping @Sendable (ExecutionARN) async -> Void) { handler.withLock { $0 = h } }

    /// Sets (or with nil, clears) the timer of an execution. Called after the step that
    /// changed it is durable.
    ///
    /// - Parameter isStored: the store holds this timer (STANDARD executions), so one past
    ///   the horizon is loaded from there when the horizon reaches it. EXPRESS executions
    ///   are not stored: their timers stay in memory whatever their distance.
    public func schedule(_ arn: ExecutionARN, due: Int64?, isStored: Bool = true) {
        state.withLock { s in
            guard let due, due <= s.horizon || !isStored else {
                s.scheduled[arn] = nil
                return
            }
            if s.scheduled[arn] == due { return }
            s.scheduled[arn] = due
            s.heap.push(due, arn)
        }
    }

    /// Timers in memory (for tests and metrics).
    public var count: Int { state.withLock { $0.scheduled.count } }

    /// The earliest timer in memory.
    public var nextDue: Int64? {
        state.withLock { s in
            while let top = s.heap.top, s.scheduled[top.1] != top.0 { _ = s.heap.pop() }
            return s.heap.top?.0
        }
    }

    /// Moves the horizon to `now` + horizon and loads the stored timers up to it (all the
    /// overdue ones included).
    public func load(now: Int64) async throws {
        let horizon = now + horizonMilliseconds
        // Extend first: a step committed from now on schedules itself; one committed
        // before is visible to the query below.
        state.withLock { $0.horizon = max($0.horizon, horizon) }
        var loaded = 0
        var limitHit = false
        let limit = 100_000
        let due = try await store.dueExecutions(before: horizon, limit: limit)
        loaded = due.count
        limitHit = due.count == limit
        state.withLock { s in
            for (arn, t) in due where s.scheduled[arn] == nil || s.scheduled[arn]! > t {
                s.scheduled[arn] = t
                s.heap.push(t, arn)
            }
            if limitHit, let last = due.last { s.horizon = last.due }
        }
        if loaded > 0 { logger.debug("timers loaded", metadata: ["count": "\(loaded)"]) }
    }

    /// Fires every timer due at the clock's current time; returns when their steps are done.
    public func fireDue() async {
        let now = clock.now()
        let due: [ExecutionARN] = state.withLock { s in
            var out: [ExecutionARN] = []
            while let top = s.heap.top, top.0 <= now {
                _ = s.heap.pop()
                if s.scheduled[top.1] == top.0 {
                    s.scheduled[top.1] = nil
                    out.append(top.1)
                }
            }
            return out
        }
        guard !due.isEmpty, let fire = handler.withLock({ $0 }) else { return }
        let concurrency = self.concurrency
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for arn in due {
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await fire(arn) }
                running += 1
            }
        }
    }

    public func run() async throws {
        var nextLoad = clock.now()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now()
            if now >= nextLoad {
                do {
                    try await load(now: now)
                    nextLoad = now + horizonMilliseconds / 2
                } catch {
                    logger.error("timers: cannot read the store", metadata: ["error": "\(error)"])
                    nextLoad = now + 1000
                }
            }
            await fireDue()
            let wait = min(20, max(1, (nextDue ?? .max) - clock.now()))
            try? await Task.sleep(for: .milliseconds(wait))
        }
    }
}

/// A binary min-heap of (due, ARN).
struct TimerHeap: Sendable {
    private var items: [(Int64, ExecutionARN)] = []

    var top: (Int64, ExecutionARN)? { items.first }
    var count: Int { items.count }

    mutating func push(_ due: Int64, _ arn: ExecutionARN) {
        items.append((due, arn))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[i].0 < items[p].0 else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() -> (Int64, ExecutionARN)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let out = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, items[l].0 < items[m].0 { m = l }
            if r < items.count, items[r].0 < items[m].0 { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return out
    }
}
