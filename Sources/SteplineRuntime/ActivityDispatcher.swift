import StatesEngine
import StatesLanguage
import Synchronization
import ControlPlane

/// Serves activity tasks to workers that poll with GetActivityTask.
///
/// Each activity has a queue of task requests (in outbox order) and a queue of waiting
/// pollers. A request stays queued, and its outbox row pending, until a worker takes it:
/// taking it records `ActivityStarted` durably first, so after a crash a task already
/// taken is not handed out again, and a task not yet taken is queued again by the relay.
public final class ActivityDispatcher: TaskDispatcher {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<TaskRequest?, Never>
    }

    private struct Queue {
        var requests: [TaskRequest] = []
        var head = 0
        var waiters: [Waiter] = []

        var pending: Int { requests.count - head }

        mutating func pop() -> TaskRequest? {
            guard head < requests.count else { return nil }
            let r = requests[head]
            head += 1
            if head > 64, head * 2 > requests.count {
                requests.removeFirst(head)
                head = 0
            }
            return r
        }
    }

    private struct State {
        var queues: [String: Queue] = [:]
        /// Tokens queued, to drop duplicates handed over again after a restart.
        var queued: Set<TaskToken> = []
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())
    /// AWS's limit of concurrent pollers per activity.
    public let maxPollers = 1_000

    public init() {}

    public func dispatch(_ request: TaskRequest) async throws -> DispatchOutcome {
        guard case .activity = request.resource.kind else { return .sent }
        let arn = request.resource.arn
        let waiter: Waiter? = state.withLock { s in
            guard !s.queued.contains(request.token) else { return nil }
            if !s.queues[arn, default: Queue()].waiters.isEmpty {
                return s.queues[arn]!.waiters.removeFirst()
            }
            s.queued.insert(request.token)
            s.queues[arn, default: Queue()].requests.append(request)
            return nil
        }
        if let waiter {
            state.withLock { _ = $0.queued.insert(request.token) }
            waiter.continuation.resume(returning: request)
        }
        return .queued
    }

    public func cancel(token: TaskToken) async {
        state.withLock { s in
            guard s.queued.remove(token) != nil else { return }
            for (arn, var q) in s.queues {
                if let i = q.requests[q.head...].firstIndex(where: { $0.token == token }) {
                    q.requests.remove(at: i)
                    s.queues[arn] = q
                    return
                }
            }
        }
    }

    /// Takes the oldest queued task of an activity without waiting and without recording
    /// `ActivityStarted` (the caller does, through `TaskReplySink.activityStarted`).
    public func takeQueued(activityArn: ActivityARN) -> TaskRequest? {
        state.withLock { s in
            guard let r = s.queues[activityArn.rawValue]?.pop() else { return nil }
            s.queued.remove(r.token)
            return r
        }
    }

    /// Tasks waiting for a worker, by activity ARN.
    public func pendingCount(activityArn: ActivityARN) -> Int {
        state.withLock { $0.queues[activityArn.rawValue]?.pending ?? 0 }
    }

    /// GetActivityTask: waits up to `timeout` for a task of the activity and hands it to
    /// the worker, after `ActivityStarted` is durable.
    ///
    /// - Parameters:
    ///   - executor: records `ActivityStarted`; a task it refuses (ended, or taken by a Kafka
    ///     worker meanwhile) is passed over for the next one. The caller hands it in (the
    ///     executor is built after this dispatcher, which it sends its tasks to).
    /// - Returns: the request (token and input), or nil when none came in time.
    /// - Throws: `ServiceError` ActivityWorkerLimitExceeded past `maxPollers`.
    public func poll(activityArn: ActivityARN, workerName: String?, timeout: Duration, executor: any TaskReplySink) async throws
        -> TaskRequest?
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, let request = try await next(activityArn.rawValue, timeout: remaining) else { return nil }
            state.withLock { _ = $0.queued.remove(request.token) }
            if try await executor.activityStarted(token: request.token, workerName: workerName) { return request }
        }
    }

    private func next(_ arn: String, timeout: Duration) async throws -> TaskRequest? {
        enum Step { case got(TaskRequest), wait(UInt64), full, closed }
        let step: Step = state.withLock { s in
            if s.closed { return .closed }
            if let r = s.queues[arn]?.pop() { return .got(r) }
            if (s.queues[arn]?.waiters.count ?? 0) >= maxPollers { return .full }
            s.nextWaiter += 1
            return .wait(s.nextWaiter)
        }
        switch step {
        case .got(let r): return r
        case .full: throw ServiceError(.activityWorkerLimitExceeded, "Activity Worker Limit Exceeded: '\(arn)'")
        case .closed: return nil
        case .wait(let id):
            return await withCheckedContinuation { (c: CheckedContinuation<TaskRequest?, Never>) in
                let registered = state.withLock { s in
                    // A request may have arrived between the two locks.
                    if let r = s.queues[arn]?.pop() {
                        c.resume(returning: r)
                        return false
                    }
                    if s.closed {
                        c.resume(returning: nil)
                        return false
                    }
                    s.queues[arn, default: Queue()].waiters.append(Waiter(id: id, continuation: c))
                    return true
                }
                guard registered else { return }
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.expire(arn, id)
                }
            }
        }
    }

    private func expire(_ arn: String, _ id: UInt64) {
        let waiter: Waiter? = state.withLock { s in
            guard let i = s.queues[arn]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.queues[arn]!.waiters.remove(at: i)
        }
        waiter?.continuation.resume(returning: nil)
    }

    /// Answers every waiting poller with no task and refuses new polls (shutdown).
    public func close() {
        let waiters: [Waiter] = state.withLock { s in
            s.closed = true
            var all: [Waiter] = []
            for (arn, q) in s.queues {
                all.append(contentsOf: q.waiters)
                s.queues[arn]!.waiters = []
            }
            return all
        }
        for w in waiters { w.continuation.resume(returning: nil) }
    }
}
