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

enum SharedCorpus {
    static func directory(_ relative: String) -> URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.deletingLastPathComponent().appendingPathComponent("shared").appendingPathComponent(relative)
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) && isDir.boolValue ? dir : nil
    }
}
