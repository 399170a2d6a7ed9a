import Testing
@testable import StatesLanguage

/// The peer corpus, through the same code path as `stepline conformance event-pattern`:
/// each case its own test case, reported by its id.
@Suite struct EventPatternConformanceTests {
    static let absent: Comment = "../shared/conformance/event-patterns is absent next to this checkout (or under STEPLINE_SHARED_DIR): corpus skipped"

    /// Cases we knowingly answer differently from the reference, by id, with the reason. A
    /// case that fails without being listed, or passes while listed, fails the run. None
    /// today: all 648 cases of the corpus pass.
    static let expectedFailures: [String: String] = [:]

    @Test(.enabled(if: EventPatternCorpus.isAvailable, absent), arguments: EventPatternCorpus.cases)
    func matchesReference(_ c: EventPatternCorpus.Case) {
        let answer = EventPatternConformance.answerValue(caseLine: c.line)
        let ok: Bool
        if let expected = c.expectedMatch {
            ok = answer["matches"]?.boolValue == expected
        } else if let expected = c.expectedValid {
            ok = (answer["valid"]?.boolValue ?? (answer["error"] == nil ? nil : false)) == expected
        } else {
            ok = false
        }
        let expected = c.expectedMatch.map { "matches: \($0)" } ?? c.expectedValid.map { "valid: \($0)" } ?? "no verdict in the case"
        expectCase(c.id, failure: ok ? nil : "expected \(expected), answered \(answer)", expectedFailures: Self.expectedFailures)
    }

    /// Every line of the corpus is a case, and every listed failure is one of them.
    @Test(.enabled(if: EventPatternCorpus.isAvailable, absent))
    func everyLineIsACase() {
        #expect(EventPatternCorpus.cases.count == EventPatternCorpus.lines.count)
        #expect(EventPatternCorpus.cases.count >= 648)
        let ids = Set(EventPatternCorpus.cases.map(\.id))
        for id in Self.expectedFailures.keys where !ids.contains(id) { Issue.record("\(id) is not a case of the corpus") }
    }
}
