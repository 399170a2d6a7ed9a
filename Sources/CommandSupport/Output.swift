import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes shared by the commands: 0 success, 1 the thing checked failed, 2 bad input.
public enum ExitStatus {
    public static let failed: Int32 = 1
    public static let badInput: Int32 = 2
}

/// Writes one line on stderr.
public func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints one line on stdout and flushes it (stdout is a pipe for tests and scripts).
public func printLine(_ text: String) {
    print(text)
    fflush(nil)  // all output streams: `stdout` itself is not concurrency-safe to name
}

/// Wall time in milliseconds since the Unix epoch.
@Sendable public func wallClockMilliseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
}
