import Testing
@testable import StatesLanguage

@Suite struct EventPatternRuleMatcherTests {
    @Test func returnsEveryMatchingRuleInOrder() throws {
        let rules: [(rule: String, pattern: EventPattern)] = try [
            ("orders", EventPattern(text: #"{"detail-type": ["OrderPlaced"]}"#)),
            ("big", EventPattern(text: #"{"detail": {"total": [{"numeric": [">=", 100]}]}}"#)),
            ("eu", EventPattern(text: #"{"detail": {"country": [{"prefix": "E"}, "FR"]}}"#)),
            ("no-coupon", EventPattern(text: #"{"detail": {"coupon": [{"exists": false}]}}"#)),
            ("other", EventPattern(text: #"{"detail-type": [{"anything-but": "OrderPlaced"}]}"#)),
        ]
        let matcher = RuleMatcher(rules)
        #expect(matcher.count == 5)
        let event = #"{"detail-type": "OrderPlaced", "detail": {"total": 100.00, "country": "ES"}}"#
        #expect(try matcher.matchingRules(forEventText: event) == ["orders", "big", "eu", "no-coupon"])
        let other = #"{"detail-type": "OrderShipped", "detail": {"coupon": "X", "country": "FR"}}"#
        #expect(try matcher.matchingRules(forEventText: other) == ["eu", "other"])
    }

    @Test func emptyMatcher() throws {
        let matcher = RuleMatcher<String>([])
        #expect(try matcher.matchingRules(forEventText: #"{"a": 1}"#).isEmpty)
    }

    @Test func invalidEventTextThrows() throws {
        let matcher = RuleMatcher([("r", try EventPattern(text: #"{"a": [1]}"#))])
        #expect(throws: JSONParseError.self) { try matcher.matchingRules(forEventText: #"{"a": 1"#) }
    }

    /// Property: one matcher over every pattern of the corpus answers, for every event of the
    /// corpus, exactly the patterns that match it one by one.
    @Test(.enabled(if: EventPatternCorpus.isAvailable, "../shared/conformance/event-patterns is absent: corpus skipped"))
    func sameAnswersAsOneByOne() throws {
        var patterns: [EventPattern] = []
        var events: [String] = []
        for c in EventPatternCorpus.cases {
            if let text = c.pattern, let p = try? EventPattern(text: text) { patterns.append(p) }
            if let e = c.event { events.append(e) }
        }
        #expect(patterns.count > 500)
        let matcher = RuleMatcher(patterns.enumerated().map { (rule: $0.offset, pattern: $0.element) })
        var total = 0
        for e in events {
            let flat = try FlattenedEvent(text: e)
            let expected = patterns.indices.filter { patterns[$0].matches(flat) }
            #expect(matcher.matchingRuleIndices(for: flat) == expected, "event \(e.prefix(200))")
            #expect(try matcher.matchingRules(forEventText: e) == expected)
            total += expected.count
        }
        #expect(total > 1000)
    }
}
