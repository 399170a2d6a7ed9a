import Synchronization

/// A one-shot signal that `run()` awaits and `triggerGracefulShutdown()` fires.
final class ShutdownSignal: Sendable {
    private let state = Mutex<(isTriggered: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    var isTriggered: Bool { state.withLock { $0.isTriggered } }

    func trigger() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.isTriggered else { return [] }
            s.isTriggered = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.isTriggered { return true }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }
}
