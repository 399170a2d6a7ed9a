import Foundation
import Synchronization

/// The executor's clock, in epoch milliseconds: the runtime's, and the transports' that plan
/// work at the same instant as a step (a request's ids).
public protocol RuntimeClock: Sendable {
    func now() -> Int64
}

/// The system clock.
public struct SystemClock: RuntimeClock {
    public init() {}
    public func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// A clock that moves only when told (deterministic tests).
public final class ManualClock: RuntimeClock {
    private let time: Atomic<Int64>
    public init(_ start: Int64) { time = Atomic(start) }
    public func now() -> Int64 { time.load(ordering: .acquiring) }
    public func set(_ t: Int64) { time.store(t, ordering: .releasing) }
    public func advance(by ms: Int64) { _ = time.add(ms, ordering: .acquiringAndReleasing) }
}

