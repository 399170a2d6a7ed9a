import StatesLanguage

/// How a task answers, for in-process runs (tests, `stepline run`, benchmarks).
public struct TaskOutcome: Sendable {
    public enum Result: Sendable {
        case succeeded(JSON)
        case failed(error: String?, cause: String?)
    }

    /// For `.waitForTaskToken` and `.sync`: the integration's immediate response
    /// (TaskSubmitted's output); nil for a request-response call.
    public var submitted: JSON?
    /// The task's result; nil when it never answers (its timeout or heartbeat decides).
    public var result: Result?
    /// How long the result takes to arrive, in milliseconds.
    public var delayMilliseconds: Int64
    /// Heartbeats sent before the result, at these offsets in milliseconds.
    public var heartbeats: [Int64]

    public init(submitted: JSON? = nil, result: Result?, delayMilliseconds: Int64 = 0, heartbeats: [Int64] = []) {
        self.submitted = submitted
        self.result = result
        self.delayMilliseconds = delayMilliseconds
        self.heartbeats = heartbeats
    }

    public static func succeeded(_ output: JSON) -> TaskOutcome { TaskOutcome(result: .succeeded(output)) }
    public static func failed(_ error: String?, _ cause: String? = nil) -> TaskOutcome {
        TaskOutcome(result: .failed(error: error, cause: cause))
    }
}

/// The task-handler port of in-process runs: given a task request, how does it end?
public protocol TaskHandler {
    mutating func handle(_ request: TaskRequest) -> TaskOutcome
}

/// A handler that fails every task: for definitions that should not call anything.
public struct NoTaskHandler: TaskHandler {
    public init() {}
    public mutating func handle(_ request: TaskRequest) -> TaskOutcome {
        .failed("States.TaskFailed", "No task handler is configured for resource \(request.resource.arn)")
    }
}

/// Runs one execution to its end in-process, on a virtual clock: Waits, retry backoffs
/// and task delays take no real time. Used by `stepline run`, the conformance tests and
/// the benchmarks.
public struct LocalRunner {
    public struct Outcome: Sendable {
        public var state: ExecutionState
        public var events: [HistoryEvent]
        /// True when the execution stopped without ending: it waits for something that
        /// never comes (a callback with no timeout, for instance).
        public var isStuck: Bool
        /// States entered (the `...StateEntered` events), Map iterations and branches included.
        public var transitions: Int
    }

    public var random: RandomSource
    public var region: String
    /// Stop after this much virtual time, leaving the execution running (ms).
    public var virtualTimeLimit: Int64
    /// Keep the events (false for benchmarks that measure the engine alone).
    public var recordEvents: Bool
    /// The history quota (`DecisionContext.historyEventLimit`); the benchmarks lift it for a
    /// workload that, on AWS, would run as an Express execution.
    public var historyEventLimit: Int64 = HistoryLimit.defaultLimit
    /// Called with the milliseconds to wait in real-time mode; nil for a virtual clock.
    public var sleep: ((Int64) -> Void)?
    /// The wall clock for real-time mode.
    public var clock: (() -> Int64)?

    public init(random: RandomSource = RandomSource(seed: 1), region: String = "us-east-1",
                virtualTimeLimit: Int64 = 366 * 86_400_000, recordEvents: Bool = true)
    {
        self.random = random
        self.region = region
        self.virtualTimeLimit = virtualTimeLimit
        self.recordEvents = recordEvents
    }

    private struct Delivery {
        var at: Int64
        var sequence: Int
        var signal: ExecutionSignal
    }

    public func run<H: TaskHandler>(definition: StateMachineDefinition, info: ExecutionInfo, input: JSON,
                                    startTime: Int64, handler: inout H) -> Outcome
    {
        var now = clock?() ?? startTime
        let deadline = now + virtualTimeLimit
        var events: [HistoryEvent] = []
        var transitions = 0
        var pending: [Delivery] = []
        var sequence = 0
        var (state, decision) = ExecutionState.start(
            definition: definition, info: info, input: input,
            context: DecisionContext(now: now, random: random, region: region, historyEventLimit: historyEventLimit))
        func take(_ decision: Decision) {
            transitions += decision.transitions
            if recordEvents { events.append(contentsOf: decision.events) }
            for command in decision.commands {
                switch command {
                case .dispatchTask(let request):
                    let outcome = handler.handle(request)
                    if let submitted = outcome.submitted {
                        pending.append(Delivery(at: now, sequence: sequence, signal: .taskSubmitted(token: request.token, output: submitted)))
                        sequence += 1
                    }
                    if case .activity = request.resource.kind {
                        pending.append(Delivery(at: now, sequence: sequence, signal: .activityStarted(token: request.token, workerName: nil)))
                        sequence += 1
                    }
                    for offset in outcome.heartbeats {
                        pending.append(Delivery(at: now + offset, sequence: sequence, signal: .taskHeartbeat(token: request.token)))
                        sequence += 1
                    }
                    switch outcome.result {
                    case .succeeded(let output)?:
                        pending.append(Delivery(at: now + outcome.delayMilliseconds, sequence: sequence,
                                                signal: .taskSucceeded(token: request.token, output: output)))
                    case .failed(let error, let cause)?:
                        pending.append(Delivery(at: now + outcome.delayMilliseconds, sequence: sequence,
                                                signal: .taskFailed(token: request.token, error: error, cause: cause)))
                    case nil:
                        break
                    }
                    sequence += 1
                case .cancelTask(let token):
                    pending.removeAll { d in
                        switch d.signal {
                        case .taskSubmitted(let t, _), .taskSucceeded(let t, _), .taskFailed(let t, _, _), .taskHeartbeat(let t),
                            .activityStarted(let t, _):
                            return t == token
                        case .stop:
                            return false
                        }
                    }
                }
            }
        }
        take(decision)
        while state.status == .running {
            pending.sort { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
            let nextDelivery = pending.first?.at
            let nextTimer = state.nextDueTime
            guard let next = [nextDelivery, nextTimer].compactMap({ $0 }).min(), next <= deadline else {
                return Outcome(state: state, events: events, isStuck: true, transitions: transitions)
            }
            if let sleep, let clock {
                let wall = clock()
                if next > wall { sleep(next - wall) }
                now = max(now, clock())
            } else {
                now = max(now, next)
            }
            let context = DecisionContext(now: now, random: random, region: region, historyEventLimit: historyEventLimit)
            if let first = pending.first, first.at <= now {
                pending.removeFirst()
                do {
                    take(try state.deliver(first.signal, context))
                } catch {
                    continue
                }
            } else {
                take(state.advance(context))
            }
        }
        return Outcome(state: state, events: events, isStuck: false, transitions: transitions)
    }
}
