import Synchronization

/// Runs `body` and waits for it at most `timeout`.
///
/// `body` runs in an unstructured task that is left running when the time is up: it is for
/// calls that block in librdkafka and cannot be cancelled (closing a consumer group member
/// or flushing a producer while the brokers are down). What it holds is released when it
/// ends, or with the process.
///
/// - Returns: true when `body` finished within `timeout`.
public func waitAtMost(_ timeout: Duration, _ body: @escaping @Sendable () async -> Void) async -> Bool {
    let outcome = FirstOutcome()
    return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
        outcome.set(c)
        Task {
            await body()
            outcome.finish(true)
        }
        Task {
            try? await Task.sleep(for: timeout)
            outcome.finish(false)
        }
    }
}

/// Resumes a continuation once, with the first of two outcomes.
private final class FirstOutcome: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func set(_ c: CheckedContinuation<Bool, Never>) { continuation.withLock { $0 = c } }

    func finish(_ done: Bool) {
        continuation.withLock { c in
            c?.resume(returning: done)
            c = nil
        }
    }
}
