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
        /// A task request, or an event to publish (execution status).
        var request: TaskRequest?
        var event: OutboundRecord?

        init(id: Int64, request: TaskRequest) {
            self.id = id
            self.request = request
        }

        init(id: Int64, event: OutboundRecord) {
            self.id = id
            self.event = event
        }
    }

    private let dispatcher: any TaskDispatcher
    private let committer: GroupCommitter
    private let store: any StatesStore
    private let hooks: RuntimeHooks
    private let concurrency: Int
    private let logger: Logger
    private let queue = Mutex<[Item]>([])
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
    }

    func enqueueDirect(_ requests: [TaskRequest]) {
        enqueue(requests.map { Item(id: 0, request: $0) })
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
                switch row.kind {
                case .task:
                    guard let r = TaskRequestCodec.decode(row.payload) else {
                        logger.error("outbox: unreadable task request", metadata: ["id": "\(row.id)"])
                        continue
                    }
                    items.append(Item(id: settle ? row.id : 0, request: r))
                case .status:
                    items.append(Item(id: row.id, event: OutboundRecord(topic: row.destination, key: row.key, value: row.payload)))
                }
            }
            total += items.count
            queue.withLock { $0.append(contentsOf: items) }
        }
        if total > 0 { logger.info("outbox: \(label)", metadata: ["count": "\(total)"]) }
    }

    /// Hands every queued request to the dispatcher; returns when all were answered.
    public func relayPending() async {
        while true {
            let items: [Item] = queue.withLock { q in
                let out = q
                q.removeAll(keepingCapacity: true)
                return out
            }
            if items.isEmpty { return }
            let dispatcher = self.dispatcher
            let hooks = self.hooks
            var sent: [Int64] = []
            var failed: [Item] = []
            await withTaskGroup(of: (Item, Result<DispatchOutcome, any Error>).self) { group in
                var running = 0
                func collect(_ r: (Item, Result<DispatchOutcome, any Error>)) {
                    switch r.1 {
                    case .success(.sent): if r.0.id > 0 { sent.append(r.0.id) }
                    case .success(.queued): break
                    case .failure(let e):
                        if e is CrashInjected { return }
                        failed.append(r.0)
                    }
                }
                for item in items {
                    if running >= concurrency, let r = await group.next() {
                        collect(r)
                        running -= 1
                    }
                    group.addTask {
                        do {
                            if let event = item.event {
                                try await dispatcher.publish(event)
                                return (item, .success(.sent))
                            }
                            guard let request = item.request else { return (item, .success(.sent)) }
                            let outcome = try await dispatcher.dispatch(request)
                            do { try hooks.afterDispatch(request.token) } catch { return (item, .failure(CrashInjected())) }
                            return (item, .success(outcome))
                        } catch {
                            return (item, .failure(error))
                        }
                    }
                    running += 1
                }
                for await r in group { collect(r) }
            }
            committer.acknowledge(sent)
            if !failed.isEmpty {
                logger.warning("outbox: dispatch failed, retrying", metadata: ["count": "\(failed.count)"])
                try? await Task.sleep(for: .milliseconds(500))
                queue.withLock { $0.append(contentsOf: failed) }
            }
        }
    }

    public func run() async throws {
        try await recover()
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
