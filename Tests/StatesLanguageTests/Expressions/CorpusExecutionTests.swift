import Testing
@testable import StatesLanguage

/// Every corpus execution made only of Pass, Choice, Succeed and Fail states in JSONPath mode
/// (the choice operators, the intrinsic functions, paths, templates, variables, the context
/// object), run through `MiniInterpreter` and compared with what AWS recorded: status, output
/// (values and member order) or error and cause.
@Suite struct CorpusExecutionTests {
    static let cases: [Corpus.Case] = Corpus.all.filter { c in
        guard c.kind == "execution", c.json["time_dependent"]?.boolValue != true,
              c.json["definition_is_text"]?.boolValue != true, c.json["input_is_text"]?.boolValue != true,
              let definition = c.definition, MiniInterpreter.supports(definition)
        else { return false }
        // Random numbers are replaced in the recording; States.MathRandom is tested on its own.
        // Payload size limits belong to the engine.
        return !c.expected.serialized().contains("RandomNumberGenerated") && !c.id.hasSuffix("test_start_large_input")
    }

    @Test(.enabled(if: Corpus.isAvailable, "../shared/conformance/asl is absent next to this checkout (or under STEPLINE_SHARED_DIR)"))
    func corpusIsRead() {
        #expect(Corpus.all.count > 1000, "corpus not read from \(Corpus.directory)")
        #expect(Self.cases.count > 450)
    }

    @Test(.enabled(if: Corpus.isAvailable, "../shared/conformance/asl is absent next to this checkout (or under STEPLINE_SHARED_DIR)"),
          arguments: cases)
    func matchesAWS(_ c: Corpus.Case) throws {
        // The recording's placeholders for the context object's times.
        let times: (JSON, JSON) = c.expected.serialized().contains("start-time") ? ("start-time", "entered-time") : ("date", "date")
        let outcome = MiniInterpreter.run(c.definition!, input: c.input, startTime: times.0, enteredTime: times.1)
        let expected = c.expected
        switch expected["status"]?.stringValue {
        case "SUCCEEDED":
            guard case .succeeded(var output) = outcome else {
                Issue.record("expected success, got \(outcome)")
                return
            }
            output = Self.normalizingUUIDs(output)
            let want = try #require(expected["output"])
            #expect(output == want)
            // Member order too, where AWS's text kept it.
            #expect(output.serialized() == want.serialized())
        case "FAILED":
            guard case .failed(let error, let cause) = outcome else {
                Issue.record("expected failure, got \(outcome)")
                return
            }
            #expect(error == expected["error"]?.stringValue)
            var actualCause = cause
            if let wanted = expected["cause"]?.stringValue, wanted.contains("<json-input:1>"), let c = cause,
               let start = c.firstRange(of: "in the input '") {
                actualCause = String(c[..<start.upperBound]) + "<json-input:1>'"
            }
            #expect(actualCause == expected["cause"]?.stringValue)
        default:
            Issue.record("unexpected status \(expected["status"]?.stringValue ?? "nil")")
        }
    }

    /// UUIDs become `<uuid:1>`, `<uuid:2>`, ... by first appearance, as the recording has them.
    static func normalizingUUIDs(_ value: JSON) -> JSON {
        var seen: [String: Int] = [:]
        func walk(_ v: JSON) -> JSON {
            switch v {
            case .string(let s) where isUUID(s):
                let n = seen[s] ?? (seen.count + 1)
                seen[s] = n
                return .string("<uuid:\(n)>")
            case .array(let a): return .array(a.map(walk))
            case .object(let o): return .object(JSONObject(o.map { ($0.key, walk($0.value)) }))
            default: return v
            }
        }
        return walk(value)
    }

    static func isUUID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 36 else { return false }
        for (i, c) in u.enumerated() {
            if [8, 13, 18, 23].contains(i) { if c != UInt8(ascii: "-") { return false } } else if !(c >= 48 && c <= 57) && !(c >= 97 && c <= 102) { return false }
        }
        return true
    }
}
