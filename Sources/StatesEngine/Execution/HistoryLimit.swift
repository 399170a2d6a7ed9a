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
