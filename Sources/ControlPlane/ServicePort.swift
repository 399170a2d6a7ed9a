import Synchronization

/// The way to a part that is built after those who call it, and that answers only while it
/// runs.
///
/// Parts that answer the executor are built before it (the executor needs them to send its
/// tasks): they get a port, made first, and the executor serves it for as long as it runs
/// (`serve(_:while:)`). So every part is built in dependency order, with what it needs in
/// hand, and nothing is wired after construction.
///
/// - Important: A call made before the port is served waits until it is; a call made after
///   serving ended (or after `close()`) throws `ServiceError.shuttingDown`. A waiting caller
///   that is cancelled throws `CancellationError`. While served, a call goes straight to the
///   target: no queue, no task, one lock.
public final class ServicePort<Target: Sendable>: Sendable {
    private enum State {
        case waiting([UInt64: CheckedContinuation<Target, any Error>])
        case serving(Target)
        case closed
    }

    private let state = Mutex<State>(.waiting([:]))
    private let nextWaiter = Atomic<UInt64>(0)

    public init() {}

    /// The target, once it is served.
    ///
    /// - Throws: `ServiceError.shuttingDown` once serving ended; `CancellationError` when the
    ///   caller is cancelled while it waits.
    public func target() async throws -> Target {
        let now: Target? = try state.withLock { s in
            switch s {
            case .serving(let target): return target
            case .closed: throw ServiceError.shuttingDown
            case .waiting: return nil
            }
        }
        if let now { return now }
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Target, any Error>) in
                let answer: Result<Target, any Error>? = state.withLock { s in
                    switch s {
                    case .serving(let target): return .success(target)
                    case .closed: return .failure(ServiceError.shuttingDown)
                    case .waiting(var waiters):
                        // A cancellation before this point found no waiter to end.
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[id] = c
                        s = .waiting(waiters)
                        return nil
                    }
                }
                if let answer { c.resume(with: answer) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Target, any Error>? = state.withLock { s in
                guard case .waiting(var waiters) = s, let c = waiters.removeValue(forKey: id) else { return nil }
                s = .waiting(waiters)
                return c
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Serves `target` while `body` runs, then closes the port. The calls that waited are
    /// let through first.
    ///
    /// - Important: A port is served once: serving a closed port leaves it closed (its
    ///   callers keep getting `ServiceError.shuttingDown`); serving it twice at once is a
    ///   programming error and traps.
    public func serve<T>(_ target: Target, while body: () async throws -> T) async rethrows -> T {
        open(target)
        defer { close() }
        return try await body()
    }

    /// Ends serving: every call from now on, and every call still waiting, throws
    /// `ServiceError.shuttingDown`. Idempotent.
    public func close() {
        let waiters: [CheckedContinuation<Target, any Error>] = state.withLock { s in
            defer { s = .closed }
            guard case .waiting(let waiters) = s else { return [] }
            return Array(waiters.values)
        }
        for w in waiters { w.resume(throwing: ServiceError.shuttingDown) }
    }

    private func open(_ target: Target) {
        let waiters: [CheckedContinuation<Target, any Error>] = state.withLock { s in
            switch s {
            case .waiting(let waiters):
                s = .serving(target)
                return Array(waiters.values)
            case .serving:
                preconditionFailure("ServicePort<\(Target.self)> is already served")
            case .closed:
                return []
            }
        }
        for w in waiters { w.resume(returning: target) }
    }
}
