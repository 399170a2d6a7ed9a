import Testing
@testable import JSONata
import StatesCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The JSONata reference suite (`../shared/conformance/jsonata/cases.jsonl`) run in-process,
/// each case its own test case, reported by its id.
///
/// Cases flagged `uses-$eval` (Step Functions leaves `$eval` out) or `added-after-v2.0.6`
/// (Step Functions implements 2.0.6) are out of scope: one disabled test. The ones we know
/// we fail are listed in `knownFailures` by id, with the reason; a case that fails without
/// being listed, or passes while listed, fails the run. Self-contained (its own lookup of
/// `../shared`, honouring `STEPLINE_SHARED_DIR`) so it can move to another test target.
@Suite struct JSONataConformanceTests {
    /// Eligible cases we fail, with the reason.
    static let knownFailures: [String: String] = [
        "function-encodeUrl/case002":
            "the expression holds a lone surrogate (\"\\ud800\"); a Swift String cannot hold one, so the literal "
            + "becomes U+FFFD and encodes instead of failing with D3140",
    ]

    struct Case: Sendable, Identifiable, CustomTestStringConvertible {
        var id: String
        var line: JSON
        var testDescription: String { id }
    }

    static func corpusPath() -> String? {
        // STEPLINE_SHARED_DIR, else Tests/JSONataTests/<this file> → package root → ../shared
        var root: String
        if let dir = getenv("STEPLINE_SHARED_DIR").map({ String(cString: $0) }), !dir.isEmpty {
            root = dir
        } else {
            var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
            parts.removeLast(3)
            root = parts.joined(separator: "/") + "/../shared"
        }
        let path = root + "/conformance/jsonata/cases.jsonl"
        return access(path, R_OK) == 0 ? path : nil
    }

    static func readFile(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func loadCases() throws -> [Case]? {
        guard let path = corpusPath(), let text = readFile(path) else { return nil }
        var out: [Case] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            // JavaScript strings may hold a lone surrogate (function-encodeUrl/case002).
            let json = try JSON.parse(String(line), invalidUTF8: .replace)
            out.append(Case(id: json["id"]?.stringValue ?? "?", line: json))
        }
        return out
    }

    static func skipReason(_ c: JSON) -> String? {
        let flags = c["flags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if flags.contains("uses-$eval") { return "uses $eval, which Step Functions leaves out" }
        if flags.contains("added-after-v2.0.6") { return "added after JSONata 2.0.6 (Step Functions implements 2.0.6)" }
        return nil
    }

    /// Evaluates one case; nil when it passes, else the reason.
    static func run(_ c: JSON) -> String? {
        let expected = c["expected"] ?? .null
        var options = JSONataOptions(maxDepth: 1000, clock: { wallClock() })
        if let d = c["depth"]?.integerValue { options.maxDepth = Int(d) }
        if let t = c["timelimit"]?.doubleValue { options.timeLimitMilliseconds = t }
        var bindings: [String: JSON] = [:]
        for (k, v) in c["bindings"]?.objectValue ?? JSONObject() { bindings[k] = v }
        let input: JSON? = c.objectValue?.contains("data") == true ? c["data"] : nil
        let result: Result<JSON?, JSONataError>
        do {
            let e = try JSONataExpression(c["expr"]?.stringValue ?? "")
            result = .success(try e.evaluate(input: input, bindings: bindings, options: options))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .failure(let e):
            if let code = expected["error"]?.stringValue, code == e.code { return nil }
            return "expected \(expected), got error \(e.code): \(e.message)"
        case .success(let v):
            if expected["undefined"] != nil { return v == nil ? nil : "expected undefined, got \(v!)" }
            guard let want = expected["result"] else { return "expected \(expected), got \(v.map { "\($0)" } ?? "undefined")" }
            guard let v else { return "expected \(want), got undefined" }
            if c["unordered"]?.boolValue == true, case .array(let a) = v, case .array(let b) = want {
                var rest = b
                for x in a {
                    guard let i = rest.firstIndex(of: x) else { return "expected \(want) (any order), got \(v)" }
                    rest.remove(at: i)
                }
                return rest.isEmpty ? nil : "expected \(want) (any order), got \(v)"
            }
            return v == want ? nil : "expected \(want), got \(v)"
        }
    }

    static let absent: Comment = "../shared/conformance/jsonata/cases.jsonl is absent next to this checkout (or under STEPLINE_SHARED_DIR): corpus skipped"

    /// The cases in scope (none when the corpus is absent).
    static func inScope() throws -> [Case] { try loadCases()?.filter { skipReason($0.line) == nil } ?? [] }

    @Test(.enabled(if: JSONataConformanceTests.corpusPath() != nil, absent), arguments: try JSONataConformanceTests.inScope())
    func referenceSuite(_ c: Case) {
        let failure = Self.run(c.line)
        switch (failure, Self.knownFailures[c.id]) {
        case (nil, nil): break
        case (let failure?, nil): Issue.record(Comment(rawValue: failure))
        case (let failure?, let reason?): withKnownIssue(Comment(rawValue: reason)) { Issue.record(Comment(rawValue: failure)) }
        case (nil, let reason?): Issue.record("unexpectedly passed: remove it from knownFailures (listed because: \(reason))")
        }
    }

    @Test(.disabled("out of scope: uses $eval, which Step Functions leaves out, or added after JSONata 2.0.6, which Step Functions implements"),
          arguments: try JSONataConformanceTests.loadCases()?.filter { JSONataConformanceTests.skipReason($0.line) != nil } ?? [])
    func outOfScope(_ c: Case) {}

    /// Every case listed in `knownFailures` is a case in scope.
    @Test(.enabled(if: JSONataConformanceTests.corpusPath() != nil, absent))
    func knownFailuresAreCasesInScope() throws {
        let ids = Set(try Self.inScope().map(\.id))
        #expect(ids.count >= 1066)
        for id in Self.knownFailures.keys where !ids.contains(id) { Issue.record("\(id) is not a case in scope") }
    }
}

func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1_000_000
}
