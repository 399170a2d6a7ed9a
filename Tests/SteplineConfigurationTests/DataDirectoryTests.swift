import Foundation
import Logging
import SteplineConfiguration
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The data directory is 0700 and the daemon's files 0600, whatever the umask.
///
/// `makePrivate` sets the process's umask (to 077, which only makes the files of other
/// tests private); each test puts the umask it found back.
@Suite(.serialized) struct DataDirectoryTests {
    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int) ?? -1
    }

    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "stepline-data-directory-\(UUID().uuidString)"
    }

    /// Log messages, to see what is reported.
    final class Captured: Sendable {
        let messages = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "test") { _ in Handler(captured: self) }
        }

        struct Handler: LogHandler {
            let captured: Captured
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                captured.messages.withLock { $0.append("\(event.level): \(event.message)") }
            }
        }
    }

    @Test func createsAPrivateDirectoryWhateverTheUmask() throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let previous = umask(0o022)
        defer { umask(previous) }
        let captured = Captured()
        try DataDirectory.makePrivate(root + "/a/b", logger: captured.logger)
        #expect(Self.mode(root + "/a/b") == 0o700)
        // Files made from here on are private too.
        try #require(FileManager.default.createFile(atPath: root + "/a/b/f", contents: Data("x".utf8)))
        #expect(Self.mode(root + "/a/b/f") == 0o600)
        #expect(captured.messages.withLock { $0 }.isEmpty)
    }

    @Test func leavesAnOpenDirectoryAsItIsAndSaysSo() throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let previous = umask(0o022)
        defer { umask(previous) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let captured = Captured()
        try DataDirectory.makePrivate(root, logger: captured.logger)
        #expect(Self.mode(root) == 0o755)
        #expect(captured.messages.withLock { $0 } == ["warning: the data directory is open to other users; chmod 700 it"])

        // A private one is not reported.
        chmod(root, 0o700)
        let quiet = Captured()
        try DataDirectory.makePrivate(root, logger: quiet.logger)
        #expect(quiet.messages.withLock { $0 }.isEmpty)
    }

    @Test func aDirectoryThatCannotBeMadeIsAnError() throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let previous = umask(0o022)
        defer { umask(previous) }
        try #require(FileManager.default.createFile(atPath: root, contents: Data()))  // a file where the directory should go
        #expect(throws: (any Error).self) { try DataDirectory.makePrivate(root + "/data", logger: Captured().logger) }
    }

    @Test func writePrivateReplacesTheFileMode0600() throws {
        let root = Self.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let previous = umask(0)
        defer { umask(previous) }
        DataDirectory.writePrivate("one\n", to: root + "/kafka-cluster-id")
        DataDirectory.writePrivate("two\n", to: root + "/kafka-cluster-id")
        #expect(try String(contentsOfFile: root + "/kafka-cluster-id", encoding: .utf8) == "two\n")
        #expect(Self.mode(root + "/kafka-cluster-id") == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["kafka-cluster-id"])
        // Best effort: a directory that does not exist writes nothing, and does not throw.
        DataDirectory.writePrivate("x", to: root + "/missing/file")
        #expect(!FileManager.default.fileExists(atPath: root + "/missing/file"))
    }

    @Test func openFileLimitIsRaisedToTheHardLimit() throws {
        var before = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &before) == 0)
        let limit = try #require(OpenFileLimit.raise())
        var after = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &after) == 0)
        #expect(limit == Int(clamping: after.rlim_cur))
        // (An unlimited hard limit is past what the kernel lets a process open: left as it is.)
        if before.rlim_max != rlim_t.max { #expect(after.rlim_cur == before.rlim_max) }
    }
}
