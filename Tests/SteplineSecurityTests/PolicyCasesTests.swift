import Foundation
import StatesCore
import Testing

@testable import SteplineSecurity

/// The policy-evaluation corpus (`policy-cases.jsonl`): cases built from AWS's documented
/// evaluation logic and examples, each with the page it comes from and AWS's answer.
/// Each case is its own test; `scripts/policy-cases.py` runs the same corpus through
/// `stepline conformance iam-policy`.
@Suite struct PolicyCasesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var id: String
        var line: String
        var testDescription: String { id }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("policy-cases.jsonl")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let id = (try? JSON.parse(String(line)))?["id"]?.stringValue else { return nil }
            return Case(id: id, line: String(line))
        }
    }()

    @Test func theCorpusIsThere() {
        #expect(Self.cases.count >= 100)
        #expect(Set(Self.cases.map(\.id)).count == Self.cases.count, "case ids are unique")
    }

    @Test(arguments: cases) func awsAnswersTheSame(_ c: Case) throws {
        let json = try JSON.parse(c.line)
        let expect = json["expect"]
        let answer = try JSON.parse(PolicyConformance.answer(caseLine: c.line))
        if expect?["error"] == .bool(true) {
            #expect(answer["error"] != nil, "\(c.id): expected an invalid policy, got \(answer)")
        } else {
            #expect(answer["decision"] == expect?["decision"], "\(c.id): \(json["doc"]?.stringValue ?? "")")
        }
    }

    /// Random policy documents: an error or a decision, never a crash.
    @Test func fuzzedPoliciesGetAnAnswer() {
        var rng = SystemRandomNumberGenerator()
        let pieces = [#"{"#, #"}"#, #"["#, #"]"#, #","#, #":"#, #""Version""#, #""2012-10-17""#, #""Statement""#, #""Effect""#,
                      #""Allow""#, #""Deny""#, #""Action""#, #""states:*""#, #""Resource""#, #""*""#, #""arn:aws:states:*""#,
                      #""Condition""#, #""StringLike""#, #""ForAllValues:StringEquals""#, #""aws:TagKeys""#, #""${aws:username}""#,
                      #""NotAction""#, #""Sid""#, #""IpAddress""#, #""10.0.0.0/33""#, "1", "true", "null"]
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 1..<40, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let line = #"{"policies": ["# + JSON.string(text).serialized() + #"], "action": "states:StartExecution", "resource": "*", "context": {"aws:TagKeys": ["a"]}}"#
            let answer = (try? JSON.parse(PolicyConformance.answer(caseLine: line))) ?? .null
            #expect(answer["error"] != nil || answer["decision"] != nil, "\(text)")
        }
    }
}
