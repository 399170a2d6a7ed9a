import Foundation
import StatesEngine
import Synchronization

/// Settings of the runtime services. Defaults suit the embedded single-node daemon.
public struct RuntimeConfiguration: Sendable {
    /// Region and account of the ARNs this daemon makes.
    public var region: String = "us-east-1"
    public var account: String = "123456789012"
    /// Executions are owned by this many shards (actors), by hash of their ARN: steps of
    /// different shards decide in parallel. Steps of one execution never overlap.
    public var shards: Int = 4
    /// Executions kept decoded in memory (all shards together). Parked executions beyond
    /// this are evicted and reloaded by replaying their stored events when needed.
    public var cacheCapacity: Int = 10_000
    /// Trigger consumption pauses while this many STANDARD executions are running (0: no
    /// limit), and goes on once a tenth of them (at most 500) have finished: past the
    /// daemon's capacity, the backlog waits in Kafka rather than in memory. A batch of
    /// records can start up to one record's fan-out beyond it. The default is AWS's quota of
    /// open executions: executions parked for days (a Wait, a human approval) count too, so
    /// a low default would stop triggers for good; set it lower where executions are short
    /// and a burst should wait in Kafka.
    public var maxRunningExecutions: Int = 1_000_000
    /// AWS's quota of events in a STANDARD execution's history.
    public var historyEventLimit: Int64 = 25_000
    /// At most this many steps per group commit.
    public var maxBatchSteps: Int = 4_096
    /// The timer service keeps in memory the timers due within this horizon (seconds).
    public var timerHorizonSeconds: Int64 = 60
    /// How many task requests the outbox relay has in flight at once.
    public var relayConcurrency: Int = 256
    /// Closed executions (and their names) are kept this long.
    public var retentionDays: Int64 = 90
    /// Deterministic task tokens and randomness, derived from this seed, the execution ARN
    /// and the event count (tests only: tokens become guessable). Nil: system randomness.
    public var seed: UInt64?
    /// Where STANDARD executions' status change events go (nil: nowhere).
    public var statusEventsTopic: String?
    /// At start, hand over again the task requests already sent whose task is still open:
    /// set when the broker does not keep records across the daemon's restarts (the
    /// embedded development broker).
    public var resendOpenTasksAtStart = false
    /// Encryption at rest: the keys, and which executions they seal (`encryption`).
    public var encryption = EncryptionPolicy()

    public init() {}
}

/// Test hooks: a thrown error at a hook simulates a crash at that point (the runtime
/// instance is then abandoned and a new one recovers from the store).
public struct RuntimeHooks: Sendable {
    /// The kinds of step, for crash injection.
    public enum StepKind: String, Sendable, CaseIterable {
        case start, timer, taskSubmitted, taskSucceeded, taskFailed, taskHeartbeat, activityStarted, stop, redrive
    }

    /// Called after a step's commit is durable, before anything else follows from it
    /// (the caller's answer, timers, outbox relay).
    public var afterCommit: @Sendable (StepKind, ExecutionARN) throws -> Void = { _, _ in }
    /// Called after the dispatcher confirmed a task request, before the outbox row is marked sent.
    public var afterDispatch: @Sendable (String) throws -> Void = { _ in }

    public init() {}
}
