import Foundation
import StatesLanguage
import Testing

/// Bounded fuzzing of the JSON parser and the definition parser: random and mutated inputs
/// end in a value or a diagnosed error, never a crash or a hang; whatever parses writes back
/// to an equal value.
@Suite struct ParserFuzzTests {
    static let seedTexts: [String] = {
        var texts = [
            #"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":[1,2.5,"s",null,true]},"ResultPath":"$.r","Next":"B"},"B":{"Type":"Choice","Choices":[{"Variable":"$.r.x[0]","NumericEquals":1,"Next":"C"}],"Default":"C"},"C":{"Type":"Succeed"}}}"#,
            #"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload.$":"$"},"Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}},"End":true}}}"#,
            #"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.n %}","End":true}}}],"Output":"{% $states.result %}","End":true}}}"#,
        ]
        if let dir = SharedCorpus.directory("conformance/asl/cases"),
            let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().prefix(400)
        {
            for f in files {
                if let t = try? String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8),
                    let c = try? JSON.parse(t), let d = c["definition"]
                {
                    texts.append(d.stringValue ?? d.serialized())
                }
            }
        }
        return texts
    }()

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

    static let tokens: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", "\\", "1e999", "-0", "null", "true", "\"States.ALL\"",
                                    "\"$.x\"", "\"Type\"", "\"Next\"", "\u{0}", "\u{FFFF}", "{%", "%}", "\"$$\"", "99999999999999999999"]
        .map { Array($0.utf8) }

    static func mutate(_ bytes: [UInt8], _ g: inout Generator) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...6, using: &g) {
            guard !b.isEmpty else { break }
            let i = Int.random(in: 0..<b.count, using: &g)
            switch Int.random(in: 0..<5, using: &g) {
            case 0: b[i] = UInt8.random(in: 0...255, using: &g)
            case 1: b.remove(at: i)
            case 2: b.insert(contentsOf: tokens.randomElement(using: &g)!, at: i)
            case 3:
                let j = min(b.count, i + Int.random(in: 1...40, using: &g))
                b.insert(contentsOf: b[i..<j], at: Int.random(in: 0...b.count, using: &g))
            default: b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...20, using: &g)))
            }
        }
        return b
    }

    @Test func jsonParserNeverCrashesAndRoundTrips() {
        var g = Generator(state: 42)
        let deadline = Date().addingTimeInterval(2)
        var parsed = 0, rejected = 0
        while Date() < deadline {
            let seed = Array(Self.seedTexts.randomElement(using: &g)!.utf8)
            let input = Int.random(in: 0..<10, using: &g) == 0
                ? (0..<Int.random(in: 0...64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
                : Self.mutate(seed, &g)
            do {
                let value = try JSON.parse(bytes: input)
                let again = try JSON.parse(value.serialized())
                #expect(again == value)
                #expect(value.serializedSize == value.serialized().utf8.count)
                parsed += 1
            } catch {
                #expect(error.line >= 1 && error.column >= 1)
                rejected += 1
            }
        }
        #expect(parsed + rejected > 1000)
    }

    /// One generated text and what the parser must say about it.
    enum Expectation: Equatable { case valid, invalidUTF8, tooDeep, numberTooLong }

    /// Random JSON with at most one defect: numbers of any size (up to 1,200 digits and
    /// exponents up to ±999999), strings with multi-byte characters, wide arrays, nesting up
    /// to 600, and bytes that are not UTF-8.
    struct TextGenerator {
        var g: Generator
        var out: [UInt8] = []
        var defect: Expectation = .valid
        var wantDefect: Expectation

        mutating func number() {
            if Int.random(in: 0..<3, using: &g) == 0 { out.append(UInt8(ascii: "-")) }
            let digits = [1, 2, 15, 17, 19, 20, 40, 400, 999, 1_200].randomElement(using: &g)!
            let n = (wantDefect == .numberTooLong && defect == .valid) ? digits + 1_000 : min(digits, 960)
            if wantDefect == .numberTooLong, defect == .valid { defect = .numberTooLong }
            out.append(UInt8(ascii: "1") + UInt8.random(in: 0...8, using: &g))
            for _ in 1..<n { out.append(UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &g)) }
            if Bool.random(using: &g) {
                out.append(UInt8(ascii: "e"))
                if Bool.random(using: &g) { out.append(UInt8(ascii: "-")) }
                out += Array(String(Int.random(in: 0...999_999, using: &g)).utf8)
                if Int.random(in: 0..<8, using: &g) == 0 { out += Array("99999999999999999999".utf8) }
            }
        }

        mutating func string() {
            out.append(UInt8(ascii: "\""))
            for _ in 0..<Int.random(in: 0...12, using: &g) {
                switch Int.random(in: 0..<6, using: &g) {
                case 0: out += Array("é€😀".utf8)
                case 1: out += Array(#"\n\u00e9\ud83d\ude00"#.utf8)
                default: out.append(UInt8(ascii: "a") + UInt8.random(in: 0...25, using: &g))
                }
            }
            if wantDefect == .invalidUTF8, defect == .valid, Bool.random(using: &g) {
                out += [[0xFF], [0xC3], [0xE2, 0x28, 0xA1], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]]
                    .randomElement(using: &g)!
                defect = .invalidUTF8
            }
            out.append(UInt8(ascii: "\""))
        }

        mutating func value(depth: Int) {
            // A chain of single-element containers goes past the limit; otherwise containers
            // thin out with depth, and the text stays under about 200 KB.
            let chain = wantDefect == .tooDeep && depth > 0 && depth < 600
            if chain || (out.count < 200_000 && depth < 500 && Int.random(in: 0..<(depth < 4 ? 2 : 6), using: &g) == 0) {
                let isObject = Bool.random(using: &g)
                out.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
                let width = chain ? 1 : depth == 0 ? Int.random(in: 0...(wantDefect == .tooDeep ? 2 : 300), using: &g)
                    : depth < 4 ? Int.random(in: 0...6, using: &g) : Int.random(in: 0...1, using: &g)
                for i in 0..<width {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    if isObject {
                        string()
                        out.append(UInt8(ascii: ":"))
                    }
                    value(depth: depth + 1)
                }
                if depth + 1 > 512, defect == .valid { defect = .tooDeep }
                out.append(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                return
            }
            switch Int.random(in: 0..<4, using: &g) {
            case 0, 1: number()
            case 2: string()
            default: out += Array(["true", "false", "null"].randomElement(using: &g)!.utf8)
            }
        }
    }

    @Test func jsonParserWithHugeNumbersDeepNestingAndInvalidUTF8() throws {
        var g = Generator(state: 14)
        let deadline = Date().addingTimeInterval(3)
        var seen: [Expectation: Int] = [:]
        var decimals = 0
        while Date() < deadline {
            let want = [Expectation.valid, .valid, .invalidUTF8, .tooDeep, .numberTooLong].randomElement(using: &g)!
            var t = TextGenerator(g: g, wantDefect: want)
            t.value(depth: 0)
            g = t.g
            let expected = t.defect
            seen[expected, default: 0] += 1
            do {
                let value = try JSON.parse(bytes: t.out)
                #expect(expected == .valid, "accepted a text with \(expected)")
                let text = value.serialized()
                #expect(value.serializedSize == text.utf8.count)
                let again = try JSON.parse(text)
                #expect(again == value && again.hashValue == value.hashValue)
                #expect(again.serialized() == text)
                var copy = value
                if case .array(var a) = copy { a.append(.null); copy = .array(a) }
                if case .object(var o) = copy { o["fuzz-extra"] = .null; copy = .object(o) }
                #expect(value.serialized() == text)
                if text.contains("e9") || text.utf8.count > 400 { decimals += 1 }
            } catch {
                let message = error.message
                switch expected {
                case .valid: Issue.record("rejected a valid text: \(error)")
                case .invalidUTF8: #expect(message.hasPrefix("Invalid UTF-8 "), "\(message)")
                case .tooDeep: #expect(message.hasPrefix("Document nesting depth (513)"), "\(message)")
                case .numberTooLong: #expect(message.hasPrefix("Number value length ("), "\(message)")
                }
                #expect(error.line >= 1 && error.column >= 1)
            }
        }
        #expect(seen[.valid, default: 0] > 20 && seen[.invalidUTF8, default: 0] > 5 && seen[.tooDeep, default: 0] > 5
            && seen[.numberTooLong, default: 0] > 5, "\(seen)")
        #expect(decimals > 5)
    }

    @Test func definitionParserNeverCrashes() {
        var g = Generator(state: 7)
        let deadline = Date().addingTimeInterval(2)
        var accepted = 0, rejected = 0
        while Date() < deadline {
            let seed = Array(Self.seedTexts.randomElement(using: &g)!.utf8)
            let text = String(decoding: Self.mutate(seed, &g), as: UTF8.self)
            do {
                _ = try StateMachineDefinition.parse(text)
                accepted += 1
            } catch {
                #expect(!error.diagnostics.isEmpty)
                #expect(error.message.hasPrefix("Invalid State Machine Definition: '"))
                rejected += 1
            }
        }
        #expect(accepted + rejected > 200)
    }
}
