/// One `Retry` entry of a Task, Parallel or Map state.
public struct Retrier: Sendable {
    public enum JitterStrategy: String, Sendable { case full = "FULL", none = "NONE" }

    public let errorEquals: [String]
    /// Seconds before the first retry (ASL default 1).
    public let intervalSeconds: Int64
    /// Retries allowed by this retrier (ASL default 3; 0 means never retry).
    public let maxAttempts: Int
    /// Multiplier of the interval per retry (ASL default 2.0).
    public let backoffRate: Double
    /// Cap of one delay in seconds, if given.
    public let maxDelaySeconds: Int64?
    public let jitterStrategy: JitterStrategy
    public let location: DefinitionLocation

    public init(errorEquals: [String], intervalSeconds: Int64 = 1, maxAttempts: Int = 3, backoffRate: Double = 2.0,
                maxDelaySeconds: Int64? = nil, jitterStrategy: JitterStrategy = .none,
                location: DefinitionLocation = DefinitionLocation())
    {
        self.errorEquals = errorEquals
        self.intervalSeconds = intervalSeconds
        self.maxAttempts = maxAttempts
        self.backoffRate = backoffRate
        self.maxDelaySeconds = maxDelaySeconds
        self.jitterStrategy = jitterStrategy
        self.location = location
    }

    public func matches(_ error: String) -> Bool { ErrorMatcher.matches(errorEquals, error) }

    /// The delay before retry number `retryCount + 1`, in milliseconds.
    ///
    /// Counting convention: `retryCount` is the number of retries this retrier already made
    /// (0 before the first retry). The delay is `IntervalSeconds × BackoffRate^retryCount`,
    /// capped by `MaxDelaySeconds`; with `JitterStrategy: FULL` it is scaled by `unitRandom`
    /// drawn from [0, 1).
    public func delayMilliseconds(retryCount: Int, unitRandom: Double) -> Int64 {
        var seconds = Double(intervalSeconds) * pow(backoffRate, retryCount)
        if let maxDelaySeconds { seconds = min(seconds, Double(maxDelaySeconds)) }
        if jitterStrategy == .full { seconds *= unitRandom }
        // Past a year the number only needs to be "later than any execution lives".
        let ms = min(seconds * 1000, 3.2e10)
        return Int64(ms.rounded())
    }
}

/// One `Catch` entry.
public struct Catcher: Sendable {
    public let errorEquals: [String]
    public let next: StateID
    /// JSONPath mode: where the error output goes (absent: `$`).
    public let resultPath: ResultPathField?
    /// JSONata mode: the state output when this catcher matches (absent: `$states.errorOutput`).
    public let output: JSONataTemplate?
    public let assign: Assignment?
    public let location: DefinitionLocation

    public func matches(_ error: String) -> Bool { ErrorMatcher.matches(errorEquals, error) }
}

/// How `ErrorEquals` lists match error names.
public enum ErrorMatcher {
    /// AWS behaviour: `States.ALL` matches every error except `States.DataLimitExceeded` and
    /// `States.Runtime` (terminal: nothing catches it; a catcher or retrier naming
    /// `States.DataLimitExceeded` takes that one); `States.TaskFailed` matches any error except
    /// the timeouts (`States.Timeout`, `States.HeartbeatTimeout`) and the terminal ones.
    public static func matches(_ errorEquals: [String], _ error: String) -> Bool {
        for name in errorEquals {
            if name == error { return true }
            switch name {
            case StatesError.Name.all:
                if !isTerminal(error) { return true }
            case StatesError.Name.taskFailed:
                if !isTerminal(error), error != StatesError.Name.timeout, error != StatesError.Name.heartbeatTimeout {
                    return true
                }
            default:
                continue
            }
        }
        return false
    }

    public static func isTerminal(_ error: String) -> Bool {
        error == StatesError.Name.dataLimitExceeded || error == StatesError.Name.runtime
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) func pow(_ base: Double, _ exponent: Int) -> Double {
    Glibc.pow(base, Double(exponent))
}
