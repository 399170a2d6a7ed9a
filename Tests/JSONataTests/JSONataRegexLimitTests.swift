import Testing
@testable import JSONata
import StatesCore

/// Regular expressions on long strings, catastrophic patterns and deeply nested groups: an
/// answer or a named error, never a crash or a long stall (issue 14).
@Suite struct JSONataRegexLimitTests {
    static func evaluate(_ source: String, _ input: JSON? = nil, stackSize: Int = DeepInputs.stackSize) -> Result<JSON?, JSONataError> {
        onThread(stackSize: stackSize) {
            Result { () throws(JSONataError) in try JSONataExpression(source).evaluate(input: input, options: .stepFunctions()) }
        }
    }

    /// The matcher kept the native frames of every iteration of a repeated group until the
    /// match ended: `/(ab)*/` on 1,222 characters overflowed 8 MiB in a debug build. It now
    /// backtracks on its own stack; these run on a 512 KiB thread.
    @Test(arguments: [
        ("$length($match($, /(ab)*/).match)", 40_000),
        ("$length($match($, /^(?:a|b)+$/).match)", 40_000),
        ("$length($match($, /((a)(b))+?$/).match)", 40_000),
        ("$length($replace($, /(a)(b)/, '$2$1'))", 40_000),
        ("$count($split($, /b(?=a)/))", 20_000),
        ("$contains($, /^(ab|cd)*$/) ? 1 : 0", 1),
        ("$count($match($, /(?<=a)b(?!$)/))", 19_999),
    ])
    func longStringsMatchWithoutDeepRecursion(_ source: String, _ expected: Int) {
        let input = JSON.string(String(repeating: "ab", count: 20_000))
        let result = Self.evaluate(source, input, stackSize: 512 << 10)
        #expect(result == .success(.int(Int64(expected))), "\(source): \(result)")
    }

    /// `/^(a+)+$/` on 24 characters took 8 s (two such TestState calls froze the daemon's
    /// health check). The search now stops after `maximumSteps` backtracking steps.
    @Test(arguments: [
        "$match('aaaaaaaaaaaaaaaaaaaaaaaa!', /^(a+)+$/)",
        "$contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /^(a|aa)+$/)",
        "$replace('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', /(x+x+)+y/, 'z')",
        "$split('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', /(a*)*b/)",
        "$match('" + String(repeating: "a", count: 5_000) + "', /a*a*a*a*a*b/)",
    ])
    func catastrophicBacktrackingStopsWithU1001(_ source: String) {
        let start = wallClock()
        let result = Self.evaluate(source)
        let took = wallClock() - start
        guard case .failure(let error) = result else {
            Issue.record("\(source): \(result)")
            return
        }
        #expect(error.code == "U1001", "\(error)")
        #expect(error.message.contains("budget of \(JSONataRegex.maximumSteps) steps"), "\(error)")
        #expect(took < 5_000, "\(source) took \(took) ms")
    }

    /// The same patterns on strings they match answer at once: the budget is per search.
    @Test func theBudgetLeavesLinearMatchesAlone() {
        #expect(Self.evaluate("$match('aaaaaaaaaaaaaaaaaaaaaaaa', /^(a+)+$/).match") == .success("aaaaaaaaaaaaaaaaaaaaaaaa"))
        let long = JSON.string(String(repeating: "a", count: 200_000))
        #expect(Self.evaluate("$length($replace($, /a/, 'b'))", long) == .success(200_000))
    }

    /// Groups nested deeper than `maximumNesting` are refused when the expression compiles.
    @Test func deeplyNestedGroupsFailWithU1001() {
        let n = JSONataRegex.maximumNesting
        let accepted = "$match('a', /" + DeepInputs.nested("(", "a", ")", n - 1) + "/).match"
        #expect(Self.evaluate(accepted) == .success("a"))
        for depth in [n + 1, 5_000, 50_000] {
            for (open, close) in [("(", ")"), ("(?:", ")"), ("(?=", ")"), ("(?<!", ")"), ("(a|", ")")] {
                let source = "$match('a', /" + DeepInputs.nested(open, "a", close, depth) + "/)"
                guard case .failure(let error) = Self.evaluate(source) else {
                    Issue.record("\(open)... \(depth) deep compiled")
                    continue
                }
                #expect(error.code == "U1001", "\(error)")
            }
        }
    }
}
