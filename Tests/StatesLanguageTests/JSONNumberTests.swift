import Testing
@testable import StatesLanguage

/// Numbers that neither `Int64` nor `Double` holds pass through unchanged, compare exactly,
/// and never become `null`, an infinity or a zero (issue 14, item 7).
@Suite struct JSONNumberTests {
    static let twoTo64 = "18446744073709551616"
    static let longLiteral = "9" + String(repeating: "8", count: 998) + "7"  // 1,000 digits

    @Test(arguments: [
        twoTo64, "-18446744073709551616", "-9223372036854775809", "9223372036854775808", "1e309", "-1e400",
        "1E+309", "1e-400", "-1e-400", "4e-325", "0.1000000000000000000001", "3.141592653589793238",
        "2.4703282292062328e-324", "123456789012345678901234567890.5", longLiteral,
        // Exponents past an Int64 once trapped (arithmetic overflow) in DecimalNumber.
        "1e99999999999999999999", "-1.00000000000000000001e-99999999999999999999",
    ])
    func keptAsWritten(_ literal: String) throws {
        let value = try JSON.parse(literal)
        guard case .decimal(let n) = value else {
            Issue.record("\(literal) is \(value)")
            return
        }
        #expect(n.literal == literal)
        #expect(value.serialized() == literal)
        #expect(value.serializedSize == literal.utf8.count)
        #expect(!value.serializedSizeExceeds(literal.utf8.count))
        #expect(value.serializedSizeExceeds(literal.utf8.count - 1))
        let nested = try JSON.parse(#"{"a":[1,\#(literal),{"b":\#(literal)}]}"#)
        #expect(nested.serialized() == #"{"a":[1,\#(literal),{"b":\#(literal)}]}"#)
        #expect(try JSON.parse(nested.serialized()) == nested)
    }

    @Test(arguments: [
        // What a double holds keeps AWS's (Java's) spelling: the value is unchanged.
        ("1e19", "1.0E19"), ("1.10", "1.1"), ("2.5e-5", "2.5E-5"), ("0.30000000000000004", "0.30000000000000004"),
        ("1e-320", "1.0E-320"), ("-0.0", "-0.0"), ("0e400", "0.0"), ("9007199254740993", "9007199254740993"),
        ("1.7976931348623157e308", "1.7976931348623157E308"),
    ])
    func doublesKeepAWSSpelling(_ literal: String, _ written: String) throws {
        let value = try JSON.parse(literal)
        #expect(value.serialized() == written)
        if case .decimal = value { Issue.record("\(literal) should be an int or a double") }
    }

    @Test func literalLengthIsBounded() throws {
        #expect(try JSON.parse(Self.longLiteral).serialized() == Self.longLiteral)
        let tooLong = String(repeating: "1", count: 200_000)
        #expect {
            try JSON.parse("[" + tooLong + "]")
        } throws: { error in
            (error as? JSONParseError)?.message == "Number value length (200000) exceeds the maximum allowed (1000)"
                && (error as? JSONParseError)?.offset == 1
        }
        #expect(throws: JSONParseError.self) { try JSON.parse("-0." + String(repeating: "0", count: 998) + "1") }
    }

    @Test func equalityAndHashingAreExact() throws {
        let a = try JSON.parse(Self.twoTo64)
        #expect(a == (try JSON.parse("1.8446744073709551616e19")))
        #expect(a.hashValue == (try JSON.parse("1.8446744073709551616e19")).hashValue)
        #expect(a != .double(1.8446744073709552e19))  // the double prints 18446744073709552000
        #expect(a != (try JSON.parse("18446744073709551617")))
        #expect(try JSON.parse("1e309") == JSON.parse("10E308"))
        #expect(try JSON.parse("1e309") != JSON.parse("1e310"))
        #expect(try JSON.parse("1e-400") != .int(0))
        #expect(try JSON.parse("10000000000000000000") == .double(1e19))
        #expect(try JSON.parse("10000000000000000000").hashValue == JSON.double(1e19).hashValue)
        #expect(JSONDecimal("42").map(JSON.decimal) == .int(42))
        let set: Set<JSON> = [a, try JSON.parse("1e309"), try JSON.parse("1E309")]
        #expect(set.count == 2)
    }

    @Test func arithmeticGetsNearestDoubleOrNothing() throws {
        #expect(try JSON.parse(Self.twoTo64).doubleValue == 1.8446744073709552e19)
        #expect(try JSON.parse("0.1000000000000000000001").doubleValue == 0.1)
        #expect(try JSON.parse("1e309").doubleValue == nil)
        #expect(try JSON.parse("-1e400").doubleValue == nil)
        #expect(try JSON.parse("1e-400").doubleValue == nil)
        #expect(try JSON.parse(Self.twoTo64).integerValue == nil)
        #expect(try JSON.parse(Self.twoTo64).isNumber)
        #expect(try JSON.parse("1e309").kind == .number)
        #expect(try JSON.parse("-9223372036854775808").integerValue == Int64.min)
        #expect(JSONDecimal("-9223372036854775808").map(JSON.decimal)?.integerValue == Int64.min)
        #expect(JSONDecimal("1.5e") == nil && JSONDecimal("01") == nil)
    }

    @Test(arguments: [
        // Before, both sides became the same double, infinity or zero.
        (#"{"Variable":"$.v","NumericGreaterThan":18446744073709551616}"#, #"{"v":18446744073709551617}"#, true),
        (#"{"Variable":"$.v","NumericEquals":18446744073709551616}"#, #"{"v":18446744073709551617}"#, false),
        (#"{"Variable":"$.v","NumericGreaterThan":0}"#, #"{"v":1e-400}"#, true),
        (#"{"Variable":"$.v","NumericLessThan":0}"#, #"{"v":-1e-400}"#, true),
        (#"{"Variable":"$.v","NumericLessThan":-1e399}"#, #"{"v":-1e400}"#, true),
        (#"{"Variable":"$.v","NumericEquals":1e309}"#, #"{"v":10e308}"#, true),
        (#"{"Variable":"$.v","NumericGreaterThan":1.7976931348623157e308}"#, #"{"v":1e309}"#, true),
        (#"{"Variable":"$.v","NumericLessThanPath":"$.w"}"#, #"{"v":1e309,"w":1e310}"#, true),
        (#"{"Variable":"$.v","NumericEquals":0.1}"#, #"{"v":0.1000000000000000000001}"#, false),
    ])
    func choiceRulesCompareExactly(_ rule: String, _ input: String, _ expected: Bool) throws {
        #expect(try ChoiceRuleTests.evaluate(rule, input) == expected)
    }

    @Test func jsonPathFiltersCompareExactly() throws {
        let doc = try JSON.parse(#"{"items":[{"n":18446744073709551617},{"n":18446744073709551616},{"n":1e-400},{"n":1e309}]}"#)
        #expect(try JSONPath("$.items[?(@.n > 18446744073709551616)].n").evaluate(doc)?.serialized() == "[18446744073709551617,1e309]")
        #expect(try JSONPath("$.items[?(@.n > 0)].n").evaluate(doc)?.serialized()
            == "[18446744073709551617,18446744073709551616,1e-400,1e309]")
        #expect(try JSONPath("$.items[?(@.n == 18446744073709551616)].n").evaluate(doc)?.serialized() == "[18446744073709551616]")
    }

    @Test func intrinsicsRenderTheLiteral() throws {
        let env = IntrinsicTests.env(try JSON.parse(#"{"big":18446744073709551616,"huge":1e309,"small":-2.5}"#))
        #expect(try IntrinsicTests.evaluate("States.Format('{} {}', $.big, $.huge)", env) == "18446744073709551616 1e309")
        #expect(try IntrinsicTests.evaluate("States.JsonToString($)", env)
            == #"{"big":18446744073709551616,"huge":1e309,"small":-2.5}"#)
        #expect(try IntrinsicTests.evaluate("States.Array($.big)", env).serialized() == "[18446744073709551616]")
        #expect(throws: StatesError.self) { try IntrinsicTests.evaluate("States.MathAdd($.big, 1)", env) }
        #expect(throws: StatesError.self) { try IntrinsicTests.evaluate("States.MathAdd($.huge, 1)", env) }
    }
}
