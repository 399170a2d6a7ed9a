import StatesEngine
import StatesLanguage
import Synchronization

/// Waiters for EXPRESS executions to end: StartSyncExecution answers with the output.
///
/// A waiter is registered before the execution starts, so an execution that ends during
/// its first step is not missed; `finish` for an ARN nobody waits for does nothing.
final class ExpressCompletions: Sendable {
    struct Outcome: Sendable {
        var status: ExecutionStatus
        var output: JSON?
        var error: StatesError?
        var stopDate: Int64?
    }

    private enum Slot {
        case waiting(CheckedContinuation<Outcome, Never>?)
        case done(Outcome)
    }

    private let slots = Mutex<[ExecutionARN: Slot]>([:])

    /// Announces a caller that will `wait` for `arn`.
    func expect(_ arn: ExecutionARN) { slots.withLock { $0[arn] = .waiting(nil) } }

    /// Forgets `arn` (the start failed).
    func cancel(_ arn: ExecutionARN) { slots.withLock { _ = $0.removeValue(forKey: arn) } }

    func finish(_ arn: ExecutionARN, _ state: ExecutionState) {
        let outcome = Outcome(status: state.status, output: state.output, error: state.error, stopDate: state.stopTime)
        let waiter: CheckedContinuation<Outcome, Never>? = slots.withLock { m in
            guard let slot = m[arn] else { return nil }
            switch slot {
            case .waiting(let c?):
                m[arn] = nil
                return c
            case .waiting(nil):
                m[arn] = .done(outcome)
                return nil
            case .done:
                return nil
            }
        }
        waiter?.resume(returning: outcome)
    }

    /// Waits until `arn` ends (`expect` first).
    func wait(_ arn: ExecutionARN) async -> Outcome {
        await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
            let done: Outcome? = slots.withLock { m in
                if case .done(let o)? = m[arn] {
                    m[arn] = nil
                    return o
                }
                m[arn] = .waiting(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }
}
