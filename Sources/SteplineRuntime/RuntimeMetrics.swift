import Metrics
import StatesEngine

/// Execution metrics, named after AWS's CloudWatch metrics (namespace `AWS/States`, SFN-REFERENCE
/// §1.15) as label values: `stepline_executions_total{metric="ExecutionsStarted", type="STANDARD"}`,
/// `stepline_state_transitions_total`, `stepline_tasks_total{metric="ActivitiesScheduled"}`.
enum RuntimeMetrics {
    private struct Counters: Sendable {
        let started, succeeded, failed, aborted, timedOut, redriven: Counter
        init(type: String) {
            func c(_ m: String) -> Counter { Counter(label: "stepline_executions_total", dimensions: [("metric", m), ("type", type)]) }
            started = c("ExecutionsStarted")
            succeeded = c("ExecutionsSucceeded")
            failed = c("ExecutionsFailed")
            aborted = c("ExecutionsAborted")
            timedOut = c("ExecutionsTimedOut")
            redriven = c("ExecutionsRedriven")
        }
    }

    // Created on first use: after the daemon bootstrapped its metrics factory.
    private static let standard = Counters(type: "STANDARD")
    private static let express = Counters(type: "EXPRESS")
    private static let transitions = Counter(label: "stepline_state_transitions_total")
    private static func task(_ m: String) -> Counter { Counter(label: "stepline_tasks_total", dimensions: [("metric", m)]) }
    private static let tasksScheduled = task("TasksScheduled")
    private static let tasksSucceeded = task("TasksSucceeded")
    private static let tasksFailed = task("TasksFailed")
    private static let tasksTimedOut = task("TasksTimedOut")
    private static let activitiesScheduled = task("ActivitiesScheduled")
    private static let activitiesSucceeded = task("ActivitiesSucceeded")
    private static let activitiesFailed = task("ActivitiesFailed")
    private static let activitiesTimedOut = task("ActivitiesTimedOut")

    /// Counts what one step's events say.
    static func record(_ decision: Decision, express: Bool) {
        let c = express ? Self.express : Self.standard
        if decision.transitions > 0 { transitions.increment(by: Int64(decision.transitions)) }
        for e in decision.events where !e.isInternal {
            switch e.type {
            case .executionStarted: c.started.increment()
            case .executionSucceeded: c.succeeded.increment()
            case .executionFailed: c.failed.increment()
            case .executionAborted: c.aborted.increment()
            case .executionTimedOut: c.timedOut.increment()
            case .executionRedriven: c.redriven.increment()
            case .taskScheduled: tasksScheduled.increment()
            case .taskSucceeded: tasksSucceeded.increment()
            case .taskFailed: tasksFailed.increment()
            case .taskTimedOut: tasksTimedOut.increment()
            case .activityScheduled: activitiesScheduled.increment()
            case .activitySucceeded: activitiesSucceeded.increment()
            case .activityFailed: activitiesFailed.increment()
            case .activityTimedOut: activitiesTimedOut.increment()
            default: break
            }
        }
    }

    // MARK: The daemon's own work

    private static let commitDuration = Metrics.Timer(label: "stepline_commit_duration_seconds")
    private static let commitSteps = Recorder(label: "stepline_commit_batch_steps", aggregate: true)
    private static let outboxPending = Gauge(label: "stepline_outbox_pending")
    private static let timersScheduled = Gauge(label: "stepline_timers_scheduled")
    private static let executionsRunning = Gauge(label: "stepline_executions_running")

    /// One group commit: its duration and how many steps it carried.
    static func commit(steps: Int, nanoseconds: Int64) {
        commitDuration.recordNanoseconds(nanoseconds)
        commitSteps.record(steps)
    }

    /// Backlogs, sampled every few seconds.
    static func sample(outboxPending: Int, timers: Int, running: Int) {
        Self.outboxPending.record(outboxPending)
        timersScheduled.record(timers)
        executionsRunning.record(running)
    }
}
