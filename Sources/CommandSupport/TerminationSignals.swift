import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM, caught from creation on (create it before announcing readiness,
/// so that a signal sent right after the announcement is not fatal).
public final class TerminationSignals: Sendable {
    private let state = Mutex<(name: String?, waiter: CheckedContinuation<String, Never>?)>((nil, nil))
    // Sources must stay alive to deliver; they are only touched in init.
    nonisolated(unsafe) private var sources: [DispatchSourceSignal] = []

    public init() {
        let queue = DispatchQueue(label: "stepline.signals")
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            // Captures self: the sources and this object live for the whole process.
            source.setEventHandler { [self] in
                let waiter = state.withLock { s -> CheckedContinuation<String, Never>? in
                    guard s.name == nil else { return nil }
                    s.name = name
                    defer { s.waiter = nil }
                    return s.waiter
                }
                waiter?.resume(returning: name)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Waits for the first signal and returns its name.
    public func wait() async -> String {
        await withCheckedContinuation { continuation in
            let name = state.withLock { s -> String? in
                if s.name == nil { s.waiter = continuation }
                return s.name
            }
            if let name { continuation.resume(returning: name) }
        }
    }
}
