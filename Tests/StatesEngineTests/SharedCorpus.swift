import Foundation
import Testing

/// The shared data next to this checkout: `../shared` relative to the package root (the
/// conformance corpora and the bench workloads), or the directory named by
/// `STEPLINE_SHARED_DIR` (`STEPLINE_SHARED_DIR=/nonexistent` shows the tests that need it
/// reported as skipped). The same file is in StatesEngineTests and StatesLanguageTests (test
/// targets share no code); keep the two equal.
enum SharedCorpus {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `STEPLINE_SHARED_DIR` when set, else `<package root>/../shared`.
    static func root(environment: [String: String], packageRoot: URL) -> URL {
        if let dir = environment["STEPLINE_SHARED_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    static let root = root(environment: ProcessInfo.processInfo.environment, packageRoot: packageRoot)

    /// `<root>/<relative>`, if it is a directory.
    static func directory(_ relative: String, root: URL = root) -> URL? {
        let dir = root.appendingPathComponent(relative)
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) && isDir.boolValue ? dir : nil
    }
}

/// Records the outcome of one corpus case (`failure` is nil when it passed) against the
/// cases listed as expected to fail, with their reason: a failure not listed fails the run;
/// a listed failure is reported as a known issue with its reason; a listed case that passes
/// fails the run, so the list stays exactly today's failures.
func expectCase(_ id: String, failure: String?, expectedFailures: [String: String],
                sourceLocation: SourceLocation = #_sourceLocation)
{
    switch (failure, expectedFailures[id]) {
    case (nil, nil):
        return
    case (let failure?, nil):
        Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation)
    case (let failure?, let reason?):
        withKnownIssue(Comment(rawValue: reason)) {
            Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation)
        }
    case (nil, let reason?):
        Issue.record("unexpectedly passed: remove it from the list of expected failures (listed because: \(reason))",
                     sourceLocation: sourceLocation)
    }
}

/// Where the tests look for `../shared`, and that a missing one is seen as absent (the
/// corpus tests are then skipped: run `STEPLINE_SHARED_DIR=/nonexistent swift test` to see it).
@Suite struct SharedCorpusLookupTests {
    @Test func sharedIsNextToThePackageUnlessTheEnvironmentNamesIt() {
        let package = URL(fileURLWithPath: "/work/wt/feature")
        #expect(SharedCorpus.root(environment: [:], packageRoot: package).path == "/work/wt/shared")
        #expect(SharedCorpus.root(environment: ["STEPLINE_SHARED_DIR": ""], packageRoot: package).path == "/work/wt/shared")
        #expect(SharedCorpus.root(environment: ["STEPLINE_SHARED_DIR": "/data/shared"], packageRoot: package).path == "/data/shared")
    }

    @Test func aMissingDirectoryIsAbsent() {
        #expect(SharedCorpus.directory("conformance/asl/cases", root: URL(fileURLWithPath: "/nonexistent")) == nil)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stepline-shared-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data())
        defer { try? FileManager.default.removeItem(at: file) }
        // A file where the directory should be is absent too.
        #expect(SharedCorpus.directory(file.lastPathComponent, root: file.deletingLastPathComponent()) == nil)
        #expect(SharedCorpus.directory("", root: file.deletingLastPathComponent()) != nil)
    }
}
