import Testing
@testable import JSONata
import StatesCore

/// The evaluator's fast paths (fast expressions, reused lambda scopes, direct filter and
/// step loops, concatenation chains) give what the general walk gives, including where
/// the fast path has to give up.
@Suite struct JSONataFastPathTests {
    static let items: JSON = try! JSON.parse("""
        {"items": [{"sku": "a", "price": 60, "qty": 2, "tags": ["x"]},
                   {"sku": "b", "price": 40, "qty": 1},
                   {"sku": "c", "price": 70, "qty": 3},
                   {"sku": "d", "qty": 4},
                   [{"sku": "e", "price": 99, "qty": 1}]]}
        """)

    static func eval(_ source: String, _ input: JSON? = items) throws(JSONataError) -> String {
        try JSONataExpression(source).evaluate(input: input)?.serialized() ?? "undefined"
    }

    @Test(arguments: [
        // field arithmetic with a missing field (undefined) and a nested array (gives up)
        ("items.(price * qty)", "[120,40,210,99]"),
        ("$sum(items[price > 50].qty)", "6"),
        // a number predicate is an index; a string compared with a number gives up and errors
        ("items[0].sku", "\"a\""),
        ("items[(sku = 'b')].sku", "\"b\""),
        ("$map(items[[0..2]], function($v) { $v.price * $v.qty })", "[120,40,210]"),
        ("$filter(items, function($v) { $v.qty > 1 and $v.sku != 'd' }).sku", "[\"a\",\"c\"]"),
        ("$map([1, 2, 3], function($v, $i) { $v * 10 + $i })", "[10,21,32]"),
        // a closure made in the body keeps its scope: every call has its own
        ("$map($map([1, 2, 3], function($v) { function() { $v } }), function($f) { $f() })", "[1,2,3]"),
        // a binding made in one call is not seen by the next
        ("$map([1, 2, 3], function($v) { $exists($y) ? 'leak' : ($y := $v) })", "[1,2,3]"),
        // concatenation chains convert every operand as `&` does
        ("'a' & 1.5 & true & null & items[1].sku & $missing & 'z'", "\"a1.5truenullbz\""),
        ("$string(0.1 + 0.2) & '|' & $string(1e21) & '|' & $string(-0) & '|' & $string(123.456789012345678)", "\"0.3|1e+21|0|123.456789012346\""),
        ("$trim('  a \\t\\n b  ') & '|' & $uppercase('straße') & '|' & $substring('hello', -3, 2)", "\"a b|STRASSE|ll\""),
        ("{ 'a': items[0].sku, 'b': items[9].sku, 'c': 1 }", "{\"a\":\"a\",\"c\":1}"),
    ])
    func sameResultsAsTheGeneralWalk(_ source: String, _ expected: String) throws {
        #expect(try Self.eval(source) == expected)
    }

    @Test(arguments: [
        ("items[price > 50 and price < '80'].sku", "T2009"),
        ("items.(price * qty) + 1", "T2001"),
        ("items[0].(price * qty) + 'x'", "T2002"),
        ("'a' & (1 / 0) & 'b'", "D3001"),
        ("$map([1], function($v) { $v.price - 'x' })", "T2002"),
    ])
    func sameErrorsAsTheGeneralWalk(_ source: String, _ code: String) throws {
        do {
            _ = try Self.eval(source)
            Issue.record("\(source) did not fail")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func stepBudgetStillCountsFastSteps() throws {
        let expr = try JSONataExpression("$map([1..2000], function($v) { $v * 2 + 1 })")
        #expect(throws: JSONataError.self) { try expr.evaluate(input: nil, options: JSONataOptions(maxSteps: 5_000)) }
        #expect(try expr.evaluate(input: nil, options: JSONataOptions(maxSteps: 50_000)) != nil)
    }
}
