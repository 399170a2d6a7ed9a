import Foundation
import StatesEngine
import StatesLanguage
import Testing

/// `HistoryCodec` round trips over real executions: the bench workloads, run in-process.
@Suite struct HistoryCodecTests {
    static let workloads = ["pass-chain", "map-fanout", "parallel", "error-retry", "error-catch", "payload-heavy"]

    static let directory = SharedCorpus.directory("bench/workloads")

    @Test(.enabled(if: HistoryCodecTests.directory != nil, "../shared/bench/workloads is absent next to this checkout (or under STEPLINE_SHARED_DIR)"),
          arguments: workloads)
    func roundTrip(_ name: String) throws {
        let dir = try #require(Self.directory)
        let definition = try StateMachineDefinition.parse(
            String(contentsOf: dir.appendingPathComponent("\(name).asl.json"), encoding: .utf8))
        let input = try JSON.parse(String(contentsOf: dir.appendingPathComponent("\(name).input.json"), encoding: .utf8))
        let info = ExecutionInfo.make(stateMachineName: name, executionName: "x")
        var handler = NoTaskHandler()
        let outcome = LocalRunner(random: RandomSource(seed: 7)).run(
            definition: definition, info: info, input: input, startTime: 1_700_000_000_000, handler: &handler)
        try Self.check(outcome.events, definition: definition, info: info, final: outcome.state)
    }

    /// Numbers no Int64 or Double holds pass through states, the history and its codec as
    /// written, and Choice compares them exactly (issue 14, item 7).
    @Test func numbersPassThroughAsWritten() throws {
        let definition = try StateMachineDefinition.parse("""
            {"StartAt":"P","States":{
              "P":{"Type":"Pass","Parameters":{"copy.$":"$","big.$":"$.big","text.$":"States.Format('{} {}', $.big, $.huge)"},"Next":"C"},
              "C":{"Type":"Choice","Choices":[{"Variable":"$.copy.big","NumericGreaterThan":18446744073709551615,"Next":"Yes"}],"Default":"No"},
              "Yes":{"Type":"Pass","End":true},
              "No":{"Type":"Fail","Error":"Rounded"}}}
            """)
        let text = #"{"big":18446744073709551616,"huge":1e309,"tiny":-1e-400,"long":0.1000000000000000000001,"one":1.0}"#
        let info = ExecutionInfo.make(stateMachineName: "n", executionName: "x")
        var handler = NoTaskHandler()
        let outcome = LocalRunner(random: RandomSource(seed: 7)).run(
            definition: definition, info: info, input: try JSON.parse(text), startTime: 1_700_000_000_000, handler: &handler)
        #expect(outcome.state.status == .succeeded)
        #expect(outcome.state.output?.serialized()
            == #"{"big":18446744073709551616,"copy":\#(text),"text":"18446744073709551616 1e309"}"#)
        try Self.check(outcome.events, definition: definition, info: info, final: outcome.state)
        let decoded = try HistoryCodec.decode(HistoryCodec.encode(outcome.events))
        #expect(decoded.map { $0.awsJSON().serialized() } == outcome.events.map { $0.awsJSON().serialized() })
        #expect(decoded.first?.awsJSON().serialized().contains(#"\"huge\":1e309"#) == true)
    }

    /// A workflow with tasks, heartbeats, retries and timeouts: notes with tokens and deadlines.
    @Test func tasksAndTimers() throws {
        let text = """
            {"StartAt":"W","States":{
              "W":{"Type":"Wait","Seconds":5,"Next":"T"},
              "T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                   "Parameters":{"QueueUrl":"q","MessageBody":{"t.$":"$$.Task.Token"}},
                   "TimeoutSeconds":30,"HeartbeatSeconds":10,
                   "Retry":[{"ErrorEquals":["States.Timeout","Boom"],"IntervalSeconds":2,"MaxAttempts":2}],
                   "Catch":[{"ErrorEquals":["States.ALL"],"Next":"F","ResultPath":"$.err"}],"Next":"A"},
              "A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:123456789012:activity:act","End":true},
              "F":{"Type":"Fail","Error":"X","Cause":"y"}}}
            """
        let definition = try StateMachineDefinition.parse(text)
        struct Handler: TaskHandler {
            var n = 0
            mutating func handle(_ request: TaskRequest) -> TaskOutcome {
                n += 1
                if case .activity = request.resource.kind { return TaskOutcome(result: .succeeded(["done": true]), delayMilliseconds: 100) }
                if n == 1 { return TaskOutcome(submitted: ["MessageId": "1"], result: .failed(error: "Boom", cause: "c"), delayMilliseconds: 500, heartbeats: [200]) }
                return TaskOutcome(submitted: ["MessageId": "2"], result: .succeeded(["ok": 1.5]), delayMilliseconds: 3000, heartbeats: [1000, 2000])
            }
        }
        var handler = Handler()
        let info = ExecutionInfo.make(stateMachineName: "m", executionName: "x")
        let outcome = LocalRunner(random: RandomSource(seed: 3)).run(
            definition: definition, info: info, input: ["a": [1, 2.5, "x", nil, true]], startTime: 1_700_000_000_000,
            handler: &handler)
        #expect(outcome.events.contains { $0.type == .heartbeatRecorded })
        #expect(outcome.events.contains { $0.note?.taskToken != nil })
        try Self.check(outcome.events, definition: definition, info: info, final: outcome.state)
    }

    static func check(_ events: [HistoryEvent], definition: StateMachineDefinition, info: ExecutionInfo,
                      final: ExecutionState) throws
    {
        #expect(!events.isEmpty)
        // Chunks of every size: one per event, a few, all at once.
        for size in [1, 7, events.count] {
            var decoded: [HistoryEvent] = []
            var i = 0
            while i < events.count {
                let chunk = Array(events[i..<min(events.count, i + size)])
                let bytes = HistoryCodec.encode(chunk)
                let back = try HistoryCodec.decode(bytes)
                #expect(HistoryCodec.encode(back) == bytes)
                decoded += back
                i += size
            }
            #expect(decoded.count == events.count)
            for (a, b) in zip(events, decoded) {
                #expect(a.awsJSON() == b.awsJSON())
                #expect(a.thread == b.thread && a.hidden == b.hidden && a.isInternal == b.isInternal)
                #expect(describe(a.note) == describe(b.note))
            }
            var replayed = ExecutionState(definition: definition, info: info)
            for e in decoded { replayed.apply(e) }
            #expect(replayed.status == final.status)
            #expect(replayed.output == final.output)
            #expect(replayed.lastEventID == final.lastEventID)
            #expect(replayed.appliedCount == final.appliedCount)
        }
        // The codec is compact: well under the AWS JSON rendering.
        let json = events.awsHistoryJSON().serialized().utf8.count
        #expect(HistoryCodec.encode(events).count < json / 2)
    }

    static func describe(_ n: EngineNote?) -> String {
        guard let n else { return "nil" }
        return Mirror(reflecting: n).children.map { "\($0.label ?? ""):\($0.value)" }.joined(separator: ",")
    }

    /// Fails when the engine adds a field the codec does not write: add it as a new note bit.
    @Test func codecKnowsEveryNoteField() {
        #expect(Mirror(reflecting: EngineNote()).children.count == 11)
        // id, previousEventId, timestamp, type, details, thread, note, hidden are encoded;
        // stateHint is a lookup shortcut the engine documents as not stored.
        let e = HistoryEvent(id: 1, previousEventId: 0, timestamp: 0, type: .passStateEntered)
        #expect(Mirror(reflecting: e).children.map { $0.label ?? "" }.sorted()
            == ["details", "hidden", "id", "note", "previousEventId", "stateHint", "thread", "timestamp", "type"])
    }

    /// A value that several events of a chunk hold (one object, one array) is written once
    /// and referenced after; equal values that are different objects too; the chunk reads
    /// back as it was.
    @Test func sharedPayloadsAreWrittenOnce() throws {
        let object: JSON = ["order": ["id": 7, "items": ["abc", "def", "ghi"]], "note": "a long enough value"]
        let array: JSON = [1, 2, 3, "four", "five", "six"]
        let equal = try JSON.parse(object.serialized())
        func chunk(_ payloads: [JSON]) -> [HistoryEvent] {
            payloads.enumerated().map { i, p in
                HistoryEvent(id: Int64(i + 1), previousEventId: Int64(i), timestamp: 5, type: .passStateEntered,
                             details: .stateEntered(name: "P\(i)", input: p))
            }
        }
        let once = HistoryCodec.encode(chunk([object]))
        for payloads in [[object, object, object], [array, object, array, object], [object, equal]] {
            let events = chunk(payloads)
            let bytes = HistoryCodec.encode(events)
            let decoded = try HistoryCodec.decode(bytes)
            let inputs = decoded.map { e -> JSON? in if case .stateEntered(_, let input) = e.details { input } else { nil } }
            #expect(inputs == payloads.map { Optional($0) })
            // Each payload after the first of its value is a reference of a few bytes.
            #expect(bytes.count < once.count + HistoryCodec.encode(chunk([array])).count + 12 * payloads.count)
        }
    }

    @Test func rejectsDamagedChunks() throws {
        let events = [HistoryEvent(id: 1, previousEventId: 0, timestamp: 5, type: .passStateEntered,
                                   details: .stateEntered(name: "P", input: ["a": "bcdefghijk"]))]
        let bytes = HistoryCodec.encode(events)
        #expect(throws: HistoryCodec.DecodingError.self) { _ = try HistoryCodec.decode(Array(bytes.dropLast())) }
        #expect(throws: HistoryCodec.DecodingError.self) { _ = try HistoryCodec.decode([9] + bytes.dropFirst()) }
    }
}
