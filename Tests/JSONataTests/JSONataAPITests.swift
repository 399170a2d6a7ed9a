import Testing
@testable import JSONata
import StatesCore

/// The API the engine uses and the Step Functions functions (not in the reference suite).
@Suite struct JSONataAPITests {
    static let sfn = JSONataOptions(random: RandomSource(seed: 42), stepFunctionsFunctions: true)

    static func eval(_ source: String, _ input: JSON? = nil, options: JSONataOptions = sfn) throws(JSONataError) -> JSON? {
        try JSONataExpression(source).evaluate(input: input, options: options)
    }

    @Test(arguments: [
        ("$partition([1,2,3,4,5], 2)", "[[1,2],[3,4],[5]]"),
        ("$partition([], 3)", "[]"),
        ("$range(0, 10, 3)", "[0,3,6,9]"),
        ("$range(5, 1, -2)", "[5,3,1]"),
        ("$range(1, 3)", "[1,2,3]"),
        ("$hash('abc', 'MD5')", "\"900150983cd24fb0d6963f7d28e17f72\""),
        ("$hash('abc', 'SHA-1')", "\"a9993e364706816aba3e25717850c26c9cd0d89d\""),
        ("$hash('abc', 'SHA-256')", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""),
        ("$hash('abc', 'SHA-384')", "\"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7\""),
        ("$parse('{\"a\": [1, 2.5]}')", "{\"a\":[1,2.5]}"),
        ("$random(7) = $random(7)", "true"),
        ("$uuid() ~> $length()", "36"),
        ("$substring($uuid(), 14, 1)", "\"4\""),
    ])
    func stepFunctionsFunctions(_ source: String, _ expected: String) throws {
        #expect(try Self.eval(source) == JSON.parse(expected))
    }

    @Test func stepFunctionsFunctionsAreOptIn() throws {
        #expect(throws: JSONataError.self) { try Self.eval("$partition([1], 1)", options: JSONataOptions()) }
    }

    @Test func randomComesFromTheInjectedSource() throws {
        let a = try Self.eval("$random()", options: JSONataOptions(random: RandomSource(seed: 9), stepFunctionsFunctions: true))
        let b = try Self.eval("$random()", options: JSONataOptions(random: RandomSource(seed: 9), stepFunctionsFunctions: true))
        #expect(a == b)
        #expect(try Self.eval("$uuid()") != nil)
    }

    @Test func bindingsAndPreparedInput() throws {
        let e = try JSONataExpression("$states.input.a + $x")
        let states: JSON = ["input": ["a": 1]]
        #expect(try e.evaluate(input: nil, bindings: ["states": states, "x": 41]) == 42)
        let prepared = JSONataValue(["items": [1, 2, 3]])
        let sum = try JSONataExpression("$sum(items)")
        for _ in 0..<3 { #expect(try sum.evaluate(prepared: prepared) == 6) }
    }

    @Test func resultsConvertAtTheEdge() throws {
        #expect(try Self.eval("1 + 2") == .int(3))
        #expect(try Self.eval("1.5 * 2") == .int(3))
        #expect(try Self.eval("0.1 + 0.2") == .double(0.30000000000000004))
        #expect(try Self.eval("nothing") == nil)
        #expect(try Self.eval("{'f': function(){1}, 'a': [1, function(){2}]}") == JSON.parse("{\"a\":[1,null]}"))
        #expect(throws: JSONataError.self) { try Self.eval("1/0") }
    }

    @Test func errorsCarryReferenceCodes() throws {
        do {
            _ = try JSONataExpression("1 +")
            Issue.record("expected a syntax error")
        } catch {
            #expect(error.code == "S0207")
        }
        do {
            _ = try Self.eval("'a' + 1")
            Issue.record("expected T2001")
        } catch {
            #expect(error.code == "T2001")
            #expect(error.message.contains("+"))
        }
    }

    @Test func referencedVariables() throws {
        let e = try JSONataExpression("$states.input.x + $count($orders) + $map($xs, function($v) { $v })")
        #expect(e.referencedVariables.isSuperset(of: ["states", "orders", "xs"]))
        #expect(!e.referencedVariables.contains("count"))
        #expect(!e.referencedVariables.contains("map"))
    }

    @Test func depthLimitStopsDeepRecursion() throws {
        let e = try JSONataExpression("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))")
        do {
            _ = try e.evaluate(input: nil)
            Issue.record("expected U1001")
        } catch {
            #expect(error.code == "U1001")
        }
    }

    @Test func jsonataSeesDoubles() throws {
        // JSONata's numbers are JavaScript's: the nearest double; beyond the range, an
        // infinity, which is error D1001 where it is used.
        let input = try JSON.parse(#"{"big":18446744073709551616,"huge":1e309}"#)
        #expect(try JSONataExpression("big").evaluate(input: input) == .double(1.8446744073709552e19))
        #expect(throws: JSONataError.self) { try JSONataExpression("huge + 1").evaluate(input: input) }
    }
}
