import ControlPlane
import Logging
import ServiceLifecycle
import StatesEngine
import StatesStore
import Synchronization

/// Hands the task requests of durable steps to the dispatcher, and marks their outbox rows
/// sent when the dispatcher confirms delivery.
///
/// At start it reads every pending row from the store: requests whose step committed but
/// whose delivery was not confirmed before a crash go out again, with the same token.
public final class OutboxRelay: Service, Sendable {
    struct Item: Sendable {
        /// The outbox row; 0 for EXPRESS executions (not stored).
        var id: Int64
        /// A task request for the dispatcher, or a record to publish (a status event, a
        /// presubmitted request's record).
        var request: TaskRequest?
        var publication: Publication?

        init(id: Int64, request: TaskRequest) {
            self.id = id
            self.request = request
        }

        init(id: Int64, publication: Publication) {
            self.id = id
            self.publication = publication
        }
    }

    private let dispatcher: any TaskDispatcher
    private let committer: GroupCommitter
    private let store: any StatesStore
    private let hooks: RuntimeHooks
    private let concurrency: Int
    private let logger: Logger
    private let queue = Mutex<[Item]>([])
    /// While `relayPending` runs: wakes it when items are queued while it waits for the
    /// requests in flight (it takes them at once rather than after the next answer).
    private let kick = Mutex<AsyncStream<Void>.Continuation?>(nil)
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    init(dispatcher: any TaskDispatcher, committer: GroupCommitter, store: any StatesStore, hooks: RuntimeHooks,
         concurrency: Int, logger: Logger)
    {
        self.dispatcher = dispatcher
        self.committer = committer
        self.store = store
        self.hooks = hooks
        self.concurrency = max(1, concurrency)
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func enqueue(_ items: [Item]) {
        queue.withLock { $0.append(contentsOf: items) }
        wake.yield()
        kick.withLock { $0 }?.yield()
    }

    /// Requests waiting to be handed over.
    public var pendingCount: Int { queue.withLock { $0.count } }

    /// Queues every pending outbox row of the store (recovery); with `resendOpenTasks`, also
    /// the requests already sent whose task is still open (the broker lost its records).
    public func recover(resendOpenTasks: Bool = false) async throws {
        try await queueRows(label: "pending task requests and events queued again") { after in
            try await self.store.pendingOutbox(afterID: after, limit: 10_000)
        }
        if resendOpenTasks {
            // Re-sent rows are already marked sent: their delivery settles nothing (id 0).
            try await queueRows(label: "open tasks sent again (the broker's records did not survive the restart)", settle: false) { after in
                try await self.store.openTaskRequests(afterID: after, limit: 10_000)
            }
        }
        wake.yield()
    }

    private func queueRows(label: String, settle: Bool = true, _ fetch: (Int64) async throws -> [OutboxRecord]) async throws {
        var after: Int64 = 0
        var total = 0
        while true {
            let rows = try await fetch(after)
            guard let last = rows.last else { break }
            after = last.id
            var items: [Item] = []
            for row in rows {
                if let why = row.unreadable {
                    // Stays stored, pending: sent after a restart with its key.
                    logger.error("outbox: a row cannot be decrypted; it is not sent", metadata: ["id": "\(row.id)", "error": "\(why)"])
                    continue
                }
                switch row.kind {
                case .task:
                    guard let r = TaskRequestCodec.decode(row.payload) else {
                        logger.error("outbox: unreadable task request", metadata: ["id": "\(row.id)"])
                        continue
                    }
                    items.append(Item(id: settle ? row.id : 0, request: r))
                case .status, .publish:
                    let record = OutboundRecord(topic: row.destination, key: row.key, value: row.payload,
                                                headers: row.headers.map { ($0.name, $0.value) })
                    items.append(Item(id: settle ? row.id : 0, publication: Publication(record: record, token: row.token)))
                }
            }
            total += items.count
            queue.withLock { $0.append(contentsOf: items) }
        }
        if total > 0 { logger.info("outbox: \(label)", metadata: ["count": "\(total)"]) }
    }

    /// Hands every queued request to the dispatcher; returns when all were answered.
    ///
    /// A pipeline, not rounds: what is queued while others are in flight is taken as soon as
    /// a slot frees (a round that waited for its slowest request held the next status events
    /// and requests back by a commit and a delivery), events go out together (one delivery
    /// wait for many), and rows are acknowledged as their delivery is confirmed. A failed
    /// request is queued again 500 ms after the first failure. Cancelled (shutdown), it
    /// returns once the requests in flight are answered, leaving the rest queued.
    public func relayPending() async {
        let dispatcher = self.dispatcher
        let hooks = self.hooks
        let concurrency = self.concurrency
        let (kicks, kicker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        kick.withLock { $0 = kicker }
        await withTaskGroup(of: [(Item, Result<DispatchOutcome, any Error>)].self) { group in
            // Ends the waiter below, so that the group's closing wait does not wait for it.
            defer {
                kick.withLock { $0 = nil }
                kicker.finish()
            }
            var running = 0
            // A child that returns (empty) when items are queued: waiting for "an answer or
            // new items" is then one `group.next()`.
            var waiting = false
            var sent: [Int64] = []
            var failed: [Item] = []
            var firstFailure: ContinuousClock.Instant?
            var lastError: (any Error)?
            func collect(_ results: [(Item, Result<DispatchOutcome, any Error>)]) {
                for (item, result) in results {
                    switch result {
                    case .success(.sent): if item.id > 0 { sent.append(item.id) }
                    case .success(.queued): break
                    case .failure(let e):
                        if e is CrashInjected { continue }
                        if failed.isEmpty { firstFailure = .now }
                        failed.append(item)
                        lastError = e
                    }
                }
            }
            /// A child's result: the waiter's (empty: items were queued) or answers.
            func take(_ results: [(Item, Result<DispatchOutcome, any Error>)]) {
                if results.isEmpty {
                    waiting = false
                } else {
                    collect(results)
                    running -= 1
                }
            }
            func retryFailed() {
                guard !failed.isEmpty else { return }
                logger.warning("outbox: dispatch failed, retrying", metadata: [
                    "count": "\(failed.count)", "error": "\(lastError.map { "\($0)" } ?? "?")",
                ])
                queue.withLock { $0.append(contentsOf: failed) }
                failed = []
                firstFailure = nil
            }
            while true {
                if Task.isCancelled {
                    // Shutdown: the requests in flight finish (the group waits for them);
                    // what is still queued stays PENDING in the store and goes out at the
                    // next start. Without this a backlog kept the daemon relaying, and
                    // retrying the requests the closed store refused, long after SIGTERM.
                    return
                }
                let items: [Item] = queue.withLock { q in
                    let out = q
                    q.removeAll(keepingCapacity: true)
                    return out
                }
                if items.isEmpty {
                    committer.acknowledge(sent)
                    sent = []
                    if running > 0 {
                        if !waiting {
                            waiting = true
                            group.addTask {
                                var next = kicks.makeAsyncIterator()
                                _ = await next.next()
                                return []
                            }
                        }
                        if let r = await group.next() { take(r) }
                    } else {
                        guard let since = firstFailure else { return }
                        let wait = since + .milliseconds(500) - .now
                        if wait > .zero { try? await Task.sleep(for: wait) }
                        retryFailed()
                    }
                    continue
                }
                var publications: [Item] = []
                var requests: [Item] = []
                for item in items {
                    if item.publication != nil { publications.append(item) } else { requests.append(item) }
                }
                var tasks: [@Sendable () async -> [(Item, Result<DispatchOutcome, any Error>)]] = []
                for start in stride(from: 0, to: publications.count, by: 1000) {
                    let chunk = Array(publications[start..<min(publications.count, start + 1000)])
                    tasks.append {
                        let result: Result<DispatchOutcome, any Error>
                        do {
                            try await dispatcher.publish(chunk.map { $0.publication!.record })
                            for item in chunk {
                                if let token = item.publication!.token { dispatcher.awaitsReply(token: token) }
                            }
                            result = .success(.sent)
                        } catch {
                            result = .failure(error)
                        }
                        return chunk.map { ($0, result) }
                    }
                }
                for item in requests {
                    tasks.append {
                        guard let request = item.request else { return [(item, .success(.sent))] }
                        let result: Result<DispatchOutcome, any Error>
                        do {
                            let outcome = try await dispatcher.dispatch(request)
                            do { try hooks.afterDispatch(request.token.rawValue) } catch { return [(item, .failure(CrashInjected()))] }
                            result = .success(outcome)
                        } catch {
                            result = .failure(error)
                        }
                        return [(item, result)]
                    }
                }
                for task in tasks {
                    while running >= concurrency, let r = await group.next() { take(r) }
                    group.addTask(operation: task)
                    running += 1
                }
                committer.acknowledge(sent)
                sent = []
                if let since = firstFailure, since + .milliseconds(500) <= .now { retryFailed() }
            }
        }
    }

    /// Queues again the requests already sent whose task is still open: the cluster they
    /// went to is gone (a development broker restarted, or another cluster is configured),
    /// and with it the records no worker had read yet. A duplicate carries the same token.
    public func resendOpenTasks() async throws {
        try await queueRows(label: "open tasks sent again (they went to another Kafka cluster)", settle: false) { after in
            try await self.store.openTaskRequests(afterID: after, limit: 10_000)
        }
        wake.yield()
    }

    /// Relays until graceful shutdown. `recover` first (the runtime does it at start).
    public func run() async throws {
        await relayPending()
        for await _ in wakes.cancelOnGracefulShutdown() {
            await relayPending()
        }
    }

    func finish() { wake.finish() }
}

/// Thrown by a test hook to simulate a crash at that point.
public struct CrashInjected: Error, Sendable {
    public init() {}
}
