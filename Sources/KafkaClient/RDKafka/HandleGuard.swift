#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Keeps a C handle alive while calls use it: calls `enter()` / `exit()` around their use,
/// and `close()` refuses new calls and waits for those in progress before the caller
/// destroys the handle. Two atomic operations per call, no lock.
final class HandleGuard: Sendable {
    /// The number of calls in progress, plus `closedBit` once closed.
    private let state = Atomic<Int>(0)
    private static let closedBit = 1 << 40

    /// Returns false (and enters nothing) when the handle is closed.
    func enter() -> Bool {
        let after = state.add(1, ordering: .acquiring).newValue
        if after & Self.closedBit != 0 {
            state.subtract(1, ordering: .releasing)
            return false
        }
        return true
    }

    func exit() {
        state.subtract(1, ordering: .releasing)
    }

    var isClosed: Bool { state.load(ordering: .acquiring) & Self.closedBit != 0 }

    /// Refuses new calls and waits for the calls in progress (they are short: non-blocking
    /// C calls). Returns false if it was already closed.
    @discardableResult
    func close() -> Bool {
        let before = state.bitwiseOr(Self.closedBit, ordering: .acquiringAndReleasing).oldValue
        guard before & Self.closedBit == 0 else { return false }
        while state.load(ordering: .acquiring) != Self.closedBit { usleep(100) }
        return true
    }

    /// Runs `body` if the handle is open; otherwise throws `closedError()`.
    @inline(__always)
    func use<R>(_ closedError: () -> KafkaError, _ body: () throws(KafkaError) -> R) throws(KafkaError) -> R {
        guard enter() else { throw closedError() }
        defer { exit() }
        return try body()
    }
}
