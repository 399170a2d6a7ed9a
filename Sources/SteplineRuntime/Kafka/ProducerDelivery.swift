import KafkaClient
import Synchronization

extension KafkaProducer {
    /// Sends records and returns when every one has its delivery report: one continuation
    /// for the whole batch, resumed by the last report (no task per record).
    ///
    /// Used instead of `send(_: [KafkaProducerRecord])`, whose task group traps in release
    /// builds (Swift 6.3.1: `Array.subscript.modify` in its collecting loop, on the first
    /// status event the daemon published).
    ///
    /// - Throws: the first record's error, after every record has been reported. A record
    ///   the full local queue refused is sent again on its own (`send` waits for room).
    func deliver(_ records: [KafkaProducerRecord]) async throws(KafkaError) {
        switch records.count {
        case 0: return
        case 1:
            try await send(records[0])
            return
        default: break
        }
        let join = DeliveryJoin(count: records.count)
        let results: [KafkaError?] = await withCheckedContinuation { continuation in
            join.start(continuation)
            for (i, record) in records.enumerated() {
                do throws(KafkaError) {
                    try enqueue(record) { result in
                        if case .failure(let e) = result { join.complete(i, e) } else { join.complete(i, nil) }
                    }
                } catch {
                    join.complete(i, error)
                }
            }
        }
        var first: KafkaError?
        for (i, error) in results.enumerated() {
            guard var error else { continue }
            if error.code == .queueFull {
                do throws(KafkaError) {
                    try await send(records[i])
                    continue
                } catch let again {
                    error = again
                }
            }
            if first == nil { first = error }
        }
        if let first { throw first }
    }
}

/// Collects the delivery reports of one batch; the last one resumes the waiter.
private final class DeliveryJoin: Sendable {
    private struct State {
        var remaining: Int
        var errors: [KafkaError?]
        var continuation: CheckedContinuation<[KafkaError?], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count, errors: Array(repeating: nil, count: count)))
    }

    func start(_ continuation: CheckedContinuation<[KafkaError?], Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func complete(_ index: Int, _ error: KafkaError?) {
        let done: (CheckedContinuation<[KafkaError?], Never>, [KafkaError?])? = state.withLock { s in
            s.errors[index] = error
            s.remaining -= 1
            guard s.remaining == 0, let c = s.continuation else { return nil }
            s.continuation = nil
            return (c, s.errors)
        }
        if let (c, errors) = done { c.resume(returning: errors) }
    }
}
