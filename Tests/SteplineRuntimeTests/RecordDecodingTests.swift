@testable import SteplineKafka
import ControlPlane
import Foundation
import KafkaClient
import StatesEngine
import StatesLanguage
@testable import SteplineRuntime
import Testing

/// Trigger and reply records: numbers pass into executions as written; bytes that are not
/// UTF-8 are refused with the reason (dead-lettered by the consumers), never replaced
/// (issue 14, item 7).
@Suite struct RecordDecodingTests {
    static let numbers = #"{"id":"n-1","big":18446744073709551616,"huge":1e309,"tiny":-1e-400,"long":0.1000000000000000000001,"one":1.0}"#

    static func record(_ value: [UInt8]?, key: [UInt8]? = nil, headers: [KafkaHeader] = []) -> KafkaRecord {
        KafkaRecord(topic: "orders", partition: 0, offset: 7, key: key, value: value, headers: headers)
    }

    static func start(_ rule: TriggerRule, _ record: KafkaRecord) throws -> Result<StartExecutionInput, TriggerConsumer.BuildError> {
        let value = try JSON.parse(bytes: record.value ?? [])
        return TriggerConsumer.startRequest(rule, record: record, value: value, region: "us-east-1", account: "123456789012")
    }

    @Test func triggerInputKeepsNumbersAsWritten() throws {
        let rule = try TriggerRule(name: "r", topic: "orders", pattern: #"{"big": [{"exists": true}]}"#, stateMachine: "m",
                                   executionName: "$.id")
        let record = Self.record(Array(Self.numbers.utf8))
        let event = try Array(Self.numbers.utf8).withUnsafeBufferPointer { try FlattenedEvent(utf8: $0) }
        #expect(rule.pattern?.matches(event) == true)
        let request = try Self.start(rule, record).get()
        #expect(request.input == #"{"id":"n-1","big":18446744073709551616,"huge":1e309,"tiny":-1e-400,"long":0.1000000000000000000001,"one":1.0}"#)
        #expect(request.name == "n-1")

        let mapped = try TriggerRule(name: "m", topic: "orders", pattern: nil, stateMachine: "m",
                                     inputPathsMap: ["n": "$.big", "h": "$.huge"], inputTemplate: #"{"n": <n>, "s": "<h>"}"#)
        #expect(try Self.start(mapped, record).get().input == #"{"n":18446744073709551616,"s":"1e309"}"#)
    }

    @Test func triggerValueNotUTF8IsNotJSON() {
        let value: [UInt8] = Array(#"{"id":"x","s":"a"#.utf8) + [0xFF] + Array(#"b"}"#.utf8)
        #expect {
            try value.withUnsafeBufferPointer { try FlattenedEvent(utf8: $0) }
        } throws: { "\($0)" == "Invalid UTF-8 start byte 0xff at line 1, column 17" }
    }

    @Test func keyAndHeadersNotUTF8FailOnlyTheRulesThatReadThem() throws {
        let value = Array(#"{"id":"k-1"}"#.utf8)
        let record = Self.record(value, key: [0x6B, 0xC3], headers: [KafkaHeader(key: "trace", value: [0xFF])])
        let readsKey = try TriggerRule(name: "a", topic: "orders", pattern: nil, stateMachine: "m",
                                       inputPathsMap: ["k": "$$.key"], inputTemplate: #"{"k": <k>}"#)
        let readsHeaders = try TriggerRule(name: "b", topic: "orders", pattern: nil, stateMachine: "m", executionName: "$$.headers.trace")
        let readsEnvelope = try TriggerRule(name: "c", topic: "orders", pattern: nil, stateMachine: "m",
                                            inputPathsMap: ["all": "$$"], inputTemplate: "<all>")
        let readsNeither = try TriggerRule(name: "d", topic: "orders", pattern: nil, stateMachine: "m",
                                           inputPathsMap: ["t": "$$.topic"], inputTemplate: #"{"t": <t>}"#)
        guard case .failure(let e1) = try Self.start(readsKey, record) else { Issue.record("key read"); return }
        #expect(e1.message == "the record key is not UTF-8 from byte 2, and the rule reads $$.key")
        guard case .failure(let e2) = try Self.start(readsHeaders, record) else { Issue.record("header read"); return }
        #expect(e2.message == "the record header trace is not UTF-8 from byte 0, and the rule reads $$.headers")
        guard case .failure = try Self.start(readsEnvelope, record) else { Issue.record("envelope read"); return }
        #expect(try Self.start(readsNeither, record).get().input == #"{"t":"orders"}"#)
    }

    @Test func replies() throws {
        let ok = ReplyConsumer.parse(Array(#"{"taskToken":"t","output":{"n":18446744073709551617,"x":1e309,"y":1e-400}}"#.utf8))
        guard case .success(.success(let token, let output)) = ok else { Issue.record("\(ok)"); return }
        #expect(token == TaskToken("t") && output.serialized() == #"{"n":18446744073709551617,"x":1e309,"y":1e-400}"#)

        let bad = ReplyConsumer.parse(Array(#"{"taskToken":"t","output":""#.utf8) + [0xE2, 0x28, 0xA1] + Array(#""}"#.utf8))
        guard case .failure(let e) = bad else { Issue.record("accepted: \(bad)"); return }
        #expect(e.name == "Stepline.MalformedReply")
        #expect(e.message == "the reply is not JSON: Invalid UTF-8 middle byte 0x28 at line 1, column 29")

        let long = ReplyConsumer.parse(Array(#"{"taskToken":"t","output":1\#(String(repeating: "0", count: 2000))}"#.utf8))
        guard case .failure(let e3) = long else { Issue.record("accepted: \(long)"); return }
        #expect(e3.message.hasPrefix("the reply is not JSON: Number value length (2001) exceeds the maximum allowed (1000)"))
    }

    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let tokens: [[UInt8]] = [
        [0xFF], [0xC3], [0xE2, 0x28, 0xA1], [0xED, 0xA0, 0x80], Array("1e999999".utf8), Array("-1e-400".utf8),
        Array("18446744073709551616".utf8), Array(String(repeating: "9", count: 1_200).utf8), Array(#""\ud800""#.utf8),
        Array(String(repeating: "[", count: 600).utf8), Array("{\"a\":".utf8), Array("\"".utf8), Array(",".utf8), Array("}".utf8),
    ]

    static func mutate(_ seed: String, _ g: inout Generator) -> [UInt8] {
        var b = Array(seed.utf8)
        for _ in 0..<Int.random(in: 1...4, using: &g) {
            let i = Int.random(in: 0...b.count, using: &g)
            if Bool.random(using: &g) || b.isEmpty {
                b.insert(contentsOf: tokens.randomElement(using: &g)!, at: i)
            } else {
                b.removeSubrange(min(i, b.count - 1)..<min(b.count, i + Int.random(in: 1...8, using: &g)))
            }
        }
        return b
    }

    /// Bounded fuzz of what the trigger and reply consumers do with a record, with huge
    /// numbers, bytes that are not UTF-8, deep nesting and broken syntax: no crash, every
    /// refusal named (the consumers dead-letter it with that name and reason).
    @Test func recordsFuzz() throws {
        let rules = [
            try TriggerRule(name: "n", topic: "orders", pattern: #"{"detail": {"n": [{"numeric": [">", 0]}]}}"#, stateMachine: "m",
                            executionName: "$.id"),
            try TriggerRule(name: "k", topic: "orders", pattern: #"{"detail-type": ["Order"]}"#, stateMachine: "m",
                            inputPathsMap: ["k": "$$.key", "n": "$.detail.n"], inputTemplate: #"{"k": <k>, "n": <n>}"#),
        ]
        let matcher = RuleMatcher(rules.map { (rule: $0, pattern: $0.pattern!) })
        let triggerSeed = #"{"id":"o-1","detail-type":"Order","detail":{"n":18446744073709551617,"s":"é€"},"items":[1,2.5,1e309]}"#
        let replySeed = #"{"taskToken":"t-1","output":{"n":1e-400,"big":18446744073709551616,"s":"ok"}}"#
        var g = Generator(state: 714)
        let deadline = Date().addingTimeInterval(2)
        var started = 0, refused = 0, applied = 0, dead = 0
        while Date() < deadline {
            let value = Self.mutate(triggerSeed, &g)
            let key: [UInt8] = Bool.random(using: &g) ? [0x6B, 0xFF] : Array("k".utf8)
            let record = Self.record(value, key: key)
            do {
                let event = try value.withUnsafeBufferPointer { try FlattenedEvent(utf8: $0) }
                let json = try JSON.parse(bytes: value)  // what TriggerConsumer.process does next
                for rule in matcher.matchingRules(for: event) {
                    switch TriggerConsumer.startRequest(rule, record: record, value: json, region: "us-east-1", account: "1") {
                    case .success(let request):
                        started += 1
                        // The input is the record's JSON, written back: it parses to the same value.
                        if rule.transformer == nil { #expect(try JSON.parse(request.input ?? "{}") == json) }
                    case .failure(let e):
                        refused += 1
                        #expect(!e.message.isEmpty)
                    }
                }
            } catch {
                refused += 1  // Stepline.NotJSON with the parser's message
                let e = try #require(error as? JSONParseError)
                #expect(e.line >= 1 && !e.message.isEmpty)
            }
            switch ReplyConsumer.parse(Self.mutate(replySeed, &g)) {
            case .success: applied += 1
            case .failure(let e):
                dead += 1
                #expect(e.name == "Stepline.MalformedReply" && !e.message.isEmpty)
            }
        }
        #expect(started > 10 && refused > 10 && applied > 10 && dead > 10, "\(started) \(refused) \(applied) \(dead)")
    }
}
