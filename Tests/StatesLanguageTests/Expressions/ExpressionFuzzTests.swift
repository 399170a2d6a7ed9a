#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import StatesLanguage

/// Random and mutated expressions never crash the parsers or the evaluators. Each test runs
/// for a bounded time with a fixed seed, so a failure repeats.
@Suite struct ExpressionFuzzTests {
    static let documents: [JSON] = [
        JSONPathTests.store,
        IntrinsicTests.input,
        try! JSON.parse(#"{"a":{"b":[1,{"c":[[2]]},null,"s"],"d":{"e":{"f":true}}},"x":[[],{},"",0,-1.5e300]}"#),
        .null, [], "text", 3,
    ]

    static let seeds: [String] = [
        "$", "$.a.b[0]", "$..c", "$.a.b[*].c", "$['a']['b'][1:3]", "$.a.b[-1:]", "$.a.b[0,1,2]", "$..[?(@.f == true)]",
        "$.store.book[?(@.price < 10 && @.category =~ /fic.*/i)].title", "$.x.length()", "$.a.b[?(@ in [1, 's'])]",
        "$[?(@.a.b size 4 || !@.x)]", "$.d.e['f','g']", "$$.State.Name", "$var.x[0]",
        "States.Format('{} {}', $.a, $$.b)", "States.Array(1, 'x', true, null, States.UUID())",
        "States.MathAdd(States.ArrayLength($.a.b), -1)", "States.JsonMerge($.a.d, $.a, false)",
        "States.StringSplit('a,b', ',')", "States.Hash($.x, 'SHA-256')", "States.ArrayRange(0, 10, 2)",
        "States.ArrayPartition($.a.b, 2)", "States.Base64Decode(States.Base64Encode('x'))", "States.MathRandom(1, 9, 3)",
        "States.ArrayGetItem($.a.b, 1)", "States.StringToJson('{\"k\":1}')", "States.ArrayUnique($..*)",
    ]

    static let alphabet: [Character] = Array("$@.[]()'\"*?,:-+0123456789abcxyzE<>=!~&| \\/{}_States.FormatArrayMathAddUUID")

    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

        mutating func randomText() -> String {
            String((0..<below(40)).map { _ in alphabet[below(alphabet.count)] })
        }

        mutating func mutate(_ text: String) -> String {
            var chars = Array(text)
            for _ in 0...below(4) {
                switch below(4) {
                case 0 where !chars.isEmpty: chars.remove(at: below(chars.count))
                case 1: chars.insert(alphabet[below(alphabet.count)], at: below(chars.count + 1))
                case 2 where !chars.isEmpty: chars[below(chars.count)] = alphabet[below(alphabet.count)]
                default:
                    // Splice part of another seed in.
                    let other = Array(seeds[below(seeds.count)])
                    let start = below(other.count)
                    chars.insert(contentsOf: other[start..<min(other.count, start + below(12))], at: below(chars.count + 1))
                }
            }
            return String(chars)
        }

        mutating func candidate() -> String {
            below(3) == 0 ? randomText() : mutate(seeds[below(seeds.count)])
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Runs `body` on candidates for `seconds`; returns how many were tried.
    static func fuzz(seed: UInt64, seconds: Double, _ body: (String) -> Void) -> Int {
        var generator = Generator(state: seed)
        let deadline = now() + seconds
        var count = 0
        while count % 64 != 0 || now() < deadline {
            body(generator.candidate())
            count += 1
        }
        return count
    }

    @Test func jsonPathParserAndEvaluator() {
        var parsed = 0
        let tried = Self.fuzz(seed: 1, seconds: 2) { text in
            guard let path = try? JSONPath(text) else { return }
            parsed += 1
            for document in Self.documents {
                let value = path.evaluate(document)
                if !path.isDefinite, case .array? = value {} else if !path.isDefinite { Issue.record("indefinite '\(text)' gave \(String(describing: value))") }
                _ = try? path.resolve(document)
                if path.isReferencePath { _ = try? path.assigning(1, into: document) }
                if let miss = Result(catching: { () throws(JSONPathNotFound) in try path.resolve(document) }).failure {
                    _ = miss.invalidPathMessage
                }
            }
            _ = path.normalizedText
        }
        #expect(tried > 1000)
        #expect(parsed > 100)
    }

    /// Deep, wide and long paths, filters and intrinsic calls (seeded) over deep and wide
    /// documents: a value or a named error, never a crash, on a thread with half the
    /// daemon's stack in a debug build.
    @Test func deepWideAndLongPathsAndIntrinsics() {
        let summary: String = onThread {
            var g = Generator(state: 0xDEE9)
            let documents: [JSON] = [
                ["a": DeepInputs.json(depth: 500, objects: true)], ["a": DeepInputs.json(depth: 500)],
                JSON.object(JSONObject((0..<2_000).map { ("k\($0)", JSON.int(Int64($0))) })),
                JSON.array((0..<2_000).map { ["a": JSON.int(Int64($0))] }), .string(String(repeating: "x", count: 100_000)),
            ]
            let steps = [".a", "['a']", "[0]", "[*]", "..a", "[?(@.a)]", "[?(@ == 1)]", "[-1:]", "[0,1]", ".*", "..*", "['a','b']"]
            let start = Self.now()
            var runs = 0, errors = 0
            while Self.now() - start < 3 && runs < 3_000 {
                var text: String
                switch g.below(3) {
                case 0:
                    // a long path: up to 600 steps (more than the 512 allowed)
                    text = "$" + (0..<g.below(600)).map { _ in steps[g.below(steps.count)] }.joined()
                    if text.ranges(of: "..").count > 1 { text = "$.a" }  // deep scans multiply (a known gap): one at most
                case 1:
                    // a filter nested in parentheses and in paths inside filters
                    let parens = g.below(80)
                    text = "$[?(" + String(repeating: "(", count: parens) + "@.a" + String(repeating: ")", count: parens) + ")]"
                    for _ in 0..<g.below(20) { text = "$[?(@.a == \(text.dropFirst()).length())]" }
                default:
                    // intrinsic calls nested up to 12 deep (10 allowed)
                    var call = "$"
                    for _ in 0..<g.below(13) {
                        call = ["States.Array(\(call))", "States.JsonToString(\(call))", "States.ArrayLength(States.Array(\(call)))",
                                "States.JsonMerge(\(call), $, false)", "States.StringToJson(States.JsonToString(\(call)))"][g.below(5)]
                    }
                    text = call
                }
                for document in documents {
                    do {
                        let e = try PathExpression(text, allowIntrinsics: true)
                        _ = try e.evaluate(in: EvaluationEnvironment(input: document), field: "f.$")
                    } catch let error as JSONPathError {
                        #expect(!error.message.isEmpty)
                        errors += 1
                    } catch let error as StatesError {
                        #expect(error.name.hasPrefix("States."), "\(error)")
                        errors += 1
                    } catch {
                        Issue.record("unnamed error \(error)")
                    }
                }
                runs += 1
            }
            return "\(runs) expressions over \(documents.count) documents, \(errors) errors"
        }
        print("JSONPath/intrinsics deep/wide/long fuzz: \(summary), no crash")
    }

    @Test func pathExpressionsAndIntrinsics() {
        var parsed = 0
        let tried = Self.fuzz(seed: 2, seconds: 2) { text in
            guard let expression = try? PathExpression(text, allowIntrinsics: true) else { return }
            parsed += 1
            _ = expression.referencesContext
            _ = expression.variableNames
            for document in Self.documents {
                let env = EvaluationEnvironment(input: document, context: document, variables: Variables(["var": document]),
                                                random: RandomSource(seed: 3))
                _ = try? expression.evaluate(in: env)
                _ = try? expression.evaluate(in: env, field: "f.$")
                _ = try? expression.value(in: env)
            }
        }
        #expect(tried > 1000)
        #expect(parsed > 100)
    }

    @Test func templatesAndChoiceRules() {
        var generator = Generator(state: 4)
        let deadline = Self.now() + 1
        var count = 0
        let operators = ChoiceOperator.allCases.map(\.rawValue) + ["And", "Or", "Not", "Variable", "Next"]
        while Self.now() < deadline || count < 200 {
            count += 1
            let text = generator.candidate()
            let template: JSON = ["a.$": .string(text), "b": ["c.$": .string(text), "d": [["e.$": .string(text)]]]]
            if let t = try? PayloadTemplate(template, location: DefinitionLocation()) {
                for document in Self.documents { _ = try? t.evaluate(in: EvaluationEnvironment(input: document, context: document)) }
            }
            var rule = JSONObject()
            for _ in 0..<(1 + generator.below(3)) {
                let values: [JSON] = [.string(text), 1, true, .null, [["Variable": "$.a", "IsNull": false]], ["Variable": .string(text), "IsPresent": true]]
                rule[operators[generator.below(operators.count)]] = values[generator.below(values.count)]
            }
            if let r = try? ChoiceRule(.object(rule), location: DefinitionLocation(), isTopLevel: generator.below(2) == 0) {
                for document in Self.documents { _ = try? r.evaluate(in: EvaluationEnvironment(input: document, context: document)) }
            }
        }
        #expect(count >= 200)
    }

    @Test func timestampsAndBase64() {
        let tried = Self.fuzz(seed: 5, seconds: 0.5) { text in
            if let t = Timestamp(text) {
                #expect(Timestamp(t.formatted(fractionDigits: 9)) == t)
            }
            if let bytes = Base64.decode(text) {
                #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            }
        }
        var generator = Generator(state: 6)
        for _ in 0..<2000 {
            // Years 0001 to 9999, which RFC 3339 text can hold.
            let ms = -62_135_596_800_000 + Int64(generator.next() % 315_537_897_599_000)
            let t = Timestamp(millisecondsSinceEpoch: ms)
            #expect(Timestamp(t.formatted()) == t, "\(ms)")
        }
        #expect(tried > 100)
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let f) = self { return f }
        return nil
    }
}
