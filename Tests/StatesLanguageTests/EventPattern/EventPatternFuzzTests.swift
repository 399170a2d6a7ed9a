import Testing
@testable import StatesLanguage

/// Seeded, bounded fuzzing: nothing may crash, and the rule matcher must agree with
/// one-by-one matching on generated patterns and events.
@Suite struct EventPatternFuzzTests {
    /// SplitMix64: deterministic, so a failure reproduces.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    }

    static let fragments: [String] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "*", "-", "0", "1e999", "1E-400", "null", "true", "$or",
        "\"prefix\"", "\"anything-but\"", "\"numeric\"", "\"exists\"", "\"wildcard\"", "\"cidr\"", "\"equals-ignore-case\"",
        "\"a\"", "\"<\"", "\"=\"", "\u{00e9}", "\u{1F600}", " ",
    ]

    @Test(.enabled(if: EventPatternCorpus.isAvailable, "../shared/conformance/event-patterns is absent: corpus skipped"))
    func mutatedCorpusTextsNeverCrash() throws {
        var rng = Rng(state: 0x5EED)
        let texts = EventPatternCorpus.cases.flatMap { [$0.pattern, $0.event].compactMap { $0 } }
        var compiled: [(rule: Int, pattern: EventPattern)] = []
        for round in 0..<3000 {
            var bytes = Array(rng.pick(texts).utf8)
            for _ in 0...rng.below(4) {
                let at = bytes.isEmpty ? 0 : rng.below(bytes.count)
                switch rng.below(3) {
                case 0: bytes.insert(contentsOf: Array(rng.pick(Self.fragments).utf8), at: at)
                case 1: if !bytes.isEmpty { bytes.remove(at: at) }
                default: if !bytes.isEmpty { bytes[at] = Array(rng.pick(Self.fragments).utf8).first ?? 0 }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let p = try? EventPattern(text: text) {
                compiled.append((round, p))
                _ = try? p.matches(eventText: text)
            }
            if let e = try? FlattenedEvent(text: text) {
                for (_, p) in compiled.suffix(20) { _ = p.matches(e) }
            }
            _ = try? TestEventPattern.evaluate(eventPattern: text, event: text, requiresEnvelope: false)
        }
        #expect(compiled.count > 100)
    }

    // MARK: Generated patterns and events

    static let keys = ["a", "b", "c", "d.e"]
    static let strings = ["", "x", "xy", "X", "abc", "ABC", "a*c", "10.0.0.1", "10.0.1.9", "::1", "é"]
    static let numbers = ["0", "-1", "1", "1.0", "2.5", "1e2", "100", "99.999999999999999999", "-0.0"]

    static func scalar(_ rng: inout Rng) -> String {
        switch rng.below(6) {
        case 0, 1: return "\"\(rng.pick(strings))\""
        case 2, 3: return rng.pick(numbers)
        case 4: return rng.pick(["true", "false"])
        default: return "null"
        }
    }

    static func matchExpression(_ rng: inout Rng) -> String {
        let s = "\"\(rng.pick(strings))\""
        switch rng.below(12) {
        case 0: return #"{"prefix": \#(s)}"#
        case 1: return #"{"suffix": {"equals-ignore-case": \#(s)}}"#
        case 2: return #"{"equals-ignore-case": \#(s)}"#
        case 3: return #"{"wildcard": "\#(rng.pick(["*", "a*", "*c", "x*y", "a*b*c", ""]))"}"#
        case 4: return #"{"anything-but": \#(rng.chance(50) ? s : rng.pick(numbers))}"#
        case 5: return #"{"anything-but": {"prefix": "\#(rng.pick(["a", "x", "1"]))"}}"#
        case 6: return #"{"numeric": [">", \#(rng.pick(numbers))]}"#
        case 7: return #"{"numeric": [">=", -1, "<", \#(rng.pick(["1", "2.5", "100"]))]}"#
        case 8: return #"{"exists": \#(rng.chance(50))}"#
        case 9: return #"{"cidr": "\#(rng.pick(["10.0.0.0/24", "10.0.0.0/8", "::/0"]))"}"#
        case 10: return #"{"anything-but": {"equals-ignore-case": ["x", "abc"]}}"#
        default: return #"{"prefix": {"equals-ignore-case": \#(s)}}"#
        }
    }

    static func pattern(_ rng: inout Rng, depth: Int = 0) -> String {
        var members: [String] = []
        for key in keys where rng.chance(45) {
            if depth < 2, rng.chance(25) {
                members.append("\"\(key)\": \(pattern(&rng, depth: depth + 1))")
            } else {
                let values = (0...rng.below(2)).map { _ in rng.chance(50) ? scalar(&rng) : matchExpression(&rng) }
                members.append("\"\(key)\": [\(values.joined(separator: ", "))]")
            }
        }
        if depth < 2, rng.chance(15) {
            members.append(#""$or": [\#(pattern(&rng, depth: depth + 1)), \#(pattern(&rng, depth: depth + 1))]"#)
        }
        if members.isEmpty { members.append("\"\(rng.pick(keys))\": [\(scalar(&rng))]") }
        return "{\(members.joined(separator: ", "))}"
    }

    static func value(_ rng: inout Rng, depth: Int) -> String {
        switch rng.below(depth < 3 ? 8 : 5) {
        case 0...4: return scalar(&rng)
        case 5, 6: return "[\((0..<rng.below(4)).map { _ in value(&rng, depth: depth + 1) }.joined(separator: ", "))]"
        default: return event(&rng, depth: depth + 1)
        }
    }

    static func event(_ rng: inout Rng, depth: Int = 0) -> String {
        let members = keys.filter { _ in rng.chance(60) }.map { "\"\($0)\": \(value(&rng, depth: depth))" }
        return "{\(members.joined(separator: ", "))}"
    }

    @Test func generatedPatternsAgreeAcrossMatchers() throws {
        var rng = Rng(state: 42)
        var patterns: [EventPattern] = []
        var rejected = 0
        for _ in 0..<400 {
            let text = Self.pattern(&rng)
            do {
                patterns.append(try EventPattern(text: text))
            } catch {
                rejected += 1
            }
        }
        #expect(patterns.count > 300)
        let matcher = RuleMatcher(patterns.enumerated().map { (rule: $0.offset, pattern: $0.element) })
        var matches = 0
        for _ in 0..<250 {
            let text = Self.event(&rng)
            let flat = try FlattenedEvent(text: text)
            let expected = patterns.indices.filter { patterns[$0].matches(flat) }
            #expect(expected == patterns.indices.filter { Self.oracle(patterns[$0], flat) }, "event \(text)")
            #expect(matcher.matchingRuleIndices(for: flat) == expected, "event \(text)")
            #expect(try matcher.matchingRules(forEventText: text) == expected, "event \(text)")
            matches += expected.count
        }
        #expect(matches > 50)
    }

    /// The semantics by brute force: every combination of one field (or absence) per
    /// condition, taken in path order; each leaf consistent with the leaves before it, each
    /// absent path without a leaf consistent with the leaves before it.
    static func oracle(_ pattern: EventPattern, _ event: FlattenedEvent) -> Bool {
        typealias Steps = [FlattenedEvent.ArrayStep]
        func consistent(_ a: Steps, _ b: Steps) -> Bool {
            for x in a { for y in b where x.array == y.array && x.index != y.index { return false } }
            return true
        }
        for rule in pattern.subRules {
            var choices: [[Int?]] = [[]]
            for c in rule {
                var options: [Int?] = event.fields.indices.filter { i in
                    var folded: String?
                    return event.fields[i].path == c.path && c.matches(event.fields[i].value, folded: &folded)
                }
                if c.allowsAbsent { options.append(nil) }
                choices = choices.flatMap { prefix in options.map { prefix + [$0] } }
            }
            for choice in choices {
                var before: [Steps] = []
                var ok = true
                for (c, pick) in zip(rule, choice) where ok {
                    if let pick {
                        let m = event.fields[pick].membership
                        ok = before.allSatisfy { consistent($0, m) }
                        before.append(m)
                    } else {
                        ok = !event.fields.contains { f in
                            f.path == c.path && before.allSatisfy { consistent($0, f.membership) }
                        }
                    }
                }
                if ok { return true }
            }
        }
        return false
    }

    @Test func generatedTransformersNeverCrash() throws {
        var rng = Rng(state: 7)
        let event = try JSON.parse(#"{"a": {"b": [1, "x\"y", {"c": null}]}, "d": "é"}"#)
        let input = TransformInput(value: event, topic: "t")
        let pieces = ["{", "}", "[", "]", "\"", "\\\"", ",", ":", " ", "<p>", "<q>", "<aws.events.event>", "<r", "x", "1"]
        for _ in 0..<2000 {
            let template = (0..<rng.below(12)).map { _ in rng.pick(pieces) }.joined()
            let t = try InputTransformer(
                pathsMap: [("p", rng.pick(["$.a", "$.a.b[2]", "$.d", "$.zz", "$$.topic", "$"])), ("q", "$.a.b[1]")],
                template: template)
            _ = try t.apply(to: input)
        }
    }
}

@Suite struct EventPatternLimitTests {
    @Test func deepNestingIsRejectedNotCrashed() throws {
        let deep = String(repeating: #"{"a":"#, count: 600) + "1" + String(repeating: "}", count: 600)
        #expect(throws: JSONParseError.self) { try FlattenedEvent(text: deep) }
        #expect(throws: InvalidEventPatternError.self) { try EventPattern(text: deep) }
        let ok = String(repeating: #"{"a":"#, count: 400) + "[1]" + String(repeating: "}", count: 400)
        let pattern = try EventPattern(text: ok)
        let event = String(repeating: #"{"a":"#, count: 400) + "1" + String(repeating: "}", count: 400)
        #expect(try pattern.matches(eventText: event))
    }

    /// A wide pattern (20,000 fields) against events whose fields sit in array elements:
    /// the consistency search goes one level per condition. On a thread with half the
    /// daemon's stack in a debug build: an answer, no crash.
    @Test(arguments: [100, 5_000, 20_000])
    func widePatternsOverArraysStayBounded(_ n: Int) throws {
        let fields = (0..<n).map { "\"f\($0)\": [1]" }.joined(separator: ",")
        let members = (0..<n).map { "\"f\($0)\": 1" }.joined(separator: ",")
        let pattern = "{\"x\": {\(fields)}}"
        let events = ["{\"x\": [{\(members)}]}", "{\"x\": [{\(members)}, {\(members)}]}", "{\"x\": {\(members)}}"]
        let answers: [Bool?] = onThread {
            guard let p = try? EventPattern(text: pattern) else { return [] }
            return events.map { try? p.matches(eventText: $0) }
        }
        #expect(answers == [true, true, true], "\(answers)")
    }

    /// Five conditions over independent arrays of 20 elements and an absence that always fails:
    /// 20⁵ combinations. The search gives up after its budget and answers quickly.
    @Test func adversarialEventStaysBounded() throws {
        let twenty = "[" + Array(repeating: "1", count: 20).joined(separator: ",") + "]"
        let event = #"{"p": {"a": \#(twenty), "b": \#(twenty), "c": \#(twenty), "d": \#(twenty), "e": \#(twenty), "z": [0]}}"#
        let pattern = try EventPattern(
            text: #"{"p": {"a": [1], "b": [1], "c": [1], "d": [1], "e": [1], "z": [{"exists": false}]}}"#)
        let clock = ContinuousClock()
        let started = clock.now
        #expect(try !pattern.matches(eventText: event))
        #expect(clock.now - started < .seconds(5))
    }
}
