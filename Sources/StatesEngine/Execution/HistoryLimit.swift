import StatesLanguage

/// The history quota of an execution (AWS: 25,000 events per Standard execution).
public enum HistoryLimit {
    public static let defaultLimit: Int64 = 25_000
    /// AWS behaviour (unverified wording): an execution whose history reaches the quota
    /// fails with `States.Runtime`; the failure event is the last one that fits.
    public static let error = StatesError.Name.runtime

    public static func cause(_ limit: Int64) -> String {
        "The execution reached the maximum number of history events (\(limit))."
    }
}

/// What bounds an EXPRESS execution instead of a history quota.
public enum ExpressLimits {
    /// AWS's maximum duration of an Express execution: 5 minutes.
    public static let maxDurationMilliseconds: Int64 = 300_000
    /// Events one engine call produces before it yields (`DecisionContext.yieldAfterEvents`):
    /// a loop of Pass and Choice states that never blocks goes on in later calls, between
    /// which other executions run, until its duration is over.
    public static let eventsPerCall = 10_000
}
