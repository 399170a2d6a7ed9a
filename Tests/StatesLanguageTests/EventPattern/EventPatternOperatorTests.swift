import Testing
@testable import StatesLanguage

@Suite struct EventPatternOperatorTests {
    static func check(_ pattern: String, _ event: String) throws -> Bool {
        let p = try EventPattern(text: pattern)
        let viaText = try p.matches(eventText: event)
        // The full flattening (no path filter) gives the same answer.
        #expect(p.matches(try FlattenedEvent(text: event)) == viaText)
        return viaText
    }

    @Test(arguments: [
        // Exact values, types kept apart.
        (#"{"a": ["x"]}"#, #"{"a": "x"}"#, true),
        (#"{"a": ["x"]}"#, #"{"a": "X"}"#, false),
        (#"{"a": [5]}"#, #"{"a": "5"}"#, false),
        (#"{"a": ["5"]}"#, #"{"a": 5}"#, false),
        (#"{"a": [true]}"#, #"{"a": true}"#, true),
        (#"{"a": [true]}"#, #"{"a": "true"}"#, false),
        (#"{"a": [null]}"#, #"{"a": null}"#, true),
        (#"{"a": [null]}"#, #"{"a": ""}"#, false),
        (#"{"a": [""]}"#, #"{"a": ""}"#, true),
        (#"{"a": [null]}"#, #"{"b": 1}"#, false),
        // Byte-exact strings: precomposed é is not e + combining acute.
        (#"{"a": ["\u00e9"]}"#, #"{"a": "e\u0301"}"#, false),
        (#"{"a": [{"exactly": "x"}]}"#, #"{"a": "x"}"#, true),
        // Numbers by exact value.
        (#"{"a": [300]}"#, #"{"a": 3.0e2}"#, true),
        (#"{"a": [37.80780]}"#, #"{"a": 37.8078}"#, true),
        (#"{"a": [37.80780]}"#, #"{"a": 37.80780792169409}"#, false),
        (#"{"a": [12345678901234567890123]}"#, #"{"a": 12345678901234567890124}"#, false),
        (#"{"a": [0]}"#, #"{"a": -0.0}"#, true),
        // AWS behaviour: only numbers that are exactly doubles compare as numbers; any other
        // matches the same literal only, and no `numeric` condition (event-ruler's ComparableNumber).
        (#"{"a": [12345678901234567890123]}"#, #"{"a": 12345678901234567890123}"#, true),
        (#"{"a": [12345678901234567890123]}"#, #"{"a": 12345678901234567890123.0}"#, false),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 1e999999}"#, false),
        (#"{"a": [{"numeric": ["<", 0]}]}"#, #"{"a": -1e400}"#, false),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 1e-400}"#, false),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 18446744073709551617}"#, false),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 0.1000000000000000000001}"#, false),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 1e19}"#, true),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 9007199254740992}"#, true),
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 9007199254740993}"#, false),
        (#"{"a": [1e999999]}"#, #"{"a": 1e999999}"#, true),
        (#"{"a": [1e999999]}"#, #"{"a": 1E999999}"#, false),
        (#"{"a": [{"anything-but": [1]}]}"#, #"{"a": 1e999999}"#, true),
        (#"{"a": [{"exists": true}]}"#, #"{"a": 1e999999}"#, true),
        // An exponent past an Int64 once trapped the matcher (arithmetic overflow).
        (#"{"a": [{"numeric": [">", 0]}]}"#, #"{"a": 1e99999999999999999999}"#, false),
        (#"{"a": [1e99999999999999999999]}"#, #"{"a": 1e99999999999999999999}"#, true),
        // prefix / suffix / equals-ignore-case.
        (#"{"a": [{"prefix": "us-"}]}"#, #"{"a": "us-west-2"}"#, true),
        (#"{"a": [{"prefix": "us-"}]}"#, #"{"a": "eu-west-1"}"#, false),
        (#"{"a": [{"prefix": "1"}]}"#, #"{"a": 123}"#, false),
        (#"{"a": [{"prefix": ""}]}"#, #"{"a": "anything"}"#, true),
        (#"{"a": [{"suffix": ".png"}]}"#, #"{"a": "image.png"}"#, true),
        (#"{"a": [{"suffix": ".png"}]}"#, #"{"a": "image.PNG"}"#, false),
        (#"{"a": [{"equals-ignore-case": "alice"}]}"#, #"{"a": "ALICE"}"#, true),
        (#"{"a": [{"equals-ignore-case": "straße"}]}"#, #"{"a": "STRAßE"}"#, true),
        (#"{"a": [{"equals-ignore-case": "5"}]}"#, #"{"a": 5}"#, false),
        (#"{"a": [{"prefix": {"equals-ignore-case": "eventb"}}]}"#, #"{"a": "EventBridge"}"#, true),
        (#"{"a": [{"suffix": {"equals-ignore-case": "BRIDGE"}}]}"#, #"{"a": "EventBridge"}"#, true),
        (#"{"a": [{"suffix": {"equals-ignore-case": "BRIDGE"}}]}"#, #"{"a": "EventBridgeX"}"#, false),
        // wildcard.
        (#"{"a": [{"wildcard": "*.png"}]}"#, #"{"a": "dir/a.png"}"#, true),
        (#"{"a": [{"wildcard": "a*b*c"}]}"#, #"{"a": "abc"}"#, true),
        (#"{"a": [{"wildcard": "a*b*c"}]}"#, #"{"a": "axxbyyc"}"#, true),
        (#"{"a": [{"wildcard": "a*b*c"}]}"#, #"{"a": "acb"}"#, false),
        (#"{"a": [{"wildcard": "a*aa"}]}"#, #"{"a": "aa"}"#, false),
        (#"{"a": [{"wildcard": "a*aa"}]}"#, #"{"a": "aaa"}"#, true),
        (#"{"a": [{"wildcard": "x\\*y"}]}"#, #"{"a": "x*y"}"#, true),
        (#"{"a": [{"wildcard": "x\\*y"}]}"#, #"{"a": "xzy"}"#, false),
        (#"{"a": [{"wildcard": "x\\\\y"}]}"#, #"{"a": "x\\y"}"#, true),
        (#"{"a": [{"wildcard": "*"}]}"#, #"{"a": 5}"#, false),
        // anything-but.
        (#"{"a": [{"anything-but": "x"}]}"#, #"{"a": "y"}"#, true),
        (#"{"a": [{"anything-but": "x"}]}"#, #"{"a": "x"}"#, false),
        (#"{"a": [{"anything-but": "x"}]}"#, #"{"b": "y"}"#, false),
        (#"{"a": [{"anything-but": "x"}]}"#, #"{"a": 5}"#, true),
        (#"{"a": [{"anything-but": [1, 2]}]}"#, #"{"a": 2.0}"#, false),
        (#"{"a": [{"anything-but": [1, 2]}]}"#, #"{"a": "2"}"#, true),
        (#"{"a": [{"anything-but": ["x", "y"]}]}"#, #"{"a": ["x", "z"]}"#, true),
        (#"{"a": [{"anything-but": ["x", "y"]}]}"#, #"{"a": ["x", "y"]}"#, false),
        (#"{"a": [{"anything-but": {"prefix": "init"}}]}"#, #"{"a": "initializing"}"#, false),
        (#"{"a": [{"anything-but": {"prefix": ["a", "b"]}}]}"#, #"{"a": "cat"}"#, true),
        (#"{"a": [{"anything-but": {"suffix": ".txt"}}]}"#, #"{"a": "a.txt"}"#, false),
        (#"{"a": [{"anything-but": {"equals-ignore-case": ["yes", "no"]}}]}"#, #"{"a": "YES"}"#, false),
        (#"{"a": [{"anything-but": {"equals-ignore-case": ["yes", "no"]}}]}"#, #"{"a": "maybe"}"#, true),
        (#"{"a": [{"anything-but": {"wildcard": "*/lib/*"}}]}"#, #"{"a": "src/lib/x.js"}"#, false),
        (#"{"a": [{"anything-but": {"wildcard": "*/lib/*"}}]}"#, #"{"a": "src/bin/x.sh"}"#, true),
        // numeric.
        (#"{"a": [{"numeric": [">", 10, "<=", 20]}]}"#, #"{"a": 10}"#, false),
        (#"{"a": [{"numeric": [">", 10, "<=", 20]}]}"#, #"{"a": 20}"#, true),
        (#"{"a": [{"numeric": [">", 10, "<=", 20]}]}"#, #"{"a": 20.000000000000000000001}"#, false),
        (#"{"a": [{"numeric": [">=", 0.1]}]}"#, #"{"a": 0.09999999999999999999}"#, false),
        (#"{"a": [{"numeric": ["=", 301.8]}]}"#, #"{"a": 3.018e2}"#, true),
        (#"{"a": [{"numeric": ["<", 0]}]}"#, #"{"a": -1e-300}"#, true),
        (#"{"a": [{"numeric": ["<", 10]}]}"#, #"{"a": "5"}"#, false),
        (#"{"a": [{"numeric": [">", 0]}, {"numeric": ["<", -10]}]}"#, #"{"a": -11}"#, true),
        // exists.
        (#"{"a": [{"exists": true}]}"#, #"{"a": null}"#, true),
        (#"{"a": [{"exists": true}]}"#, #"{"a": {"b": 1}}"#, false),
        (#"{"a": [{"exists": true}]}"#, #"{"a": []}"#, false),
        (#"{"a": [{"exists": false}]}"#, #"{"a": []}"#, true),
        (#"{"a": [{"exists": false}]}"#, #"{"a": {"b": 1}}"#, true),
        (#"{"a": [{"exists": false}]}"#, #"{"a": 0}"#, false),
        (#"{"a": [{"exists": false}, "x"]}"#, #"{"a": "x"}"#, true),
        (#"{"a": [{"exists": false}, "x"]}"#, #"{"a": "y"}"#, false),
        (#"{"a": [{"exists": false}, "x"]}"#, #"{"b": "y"}"#, true),
        // cidr.
        (#"{"a": [{"cidr": "10.0.0.0/24"}]}"#, #"{"a": "10.0.0.255"}"#, true),
        (#"{"a": [{"cidr": "10.0.0.0/24"}]}"#, #"{"a": "10.0.1.1"}"#, false),
        (#"{"a": [{"cidr": "220.160.154.255/24"}]}"#, #"{"a": "220.160.154.0"}"#, true),
        (#"{"a": [{"cidr": "0.0.0.0/0"}]}"#, #"{"a": "1.2.3.4"}"#, true),
        (#"{"a": [{"cidr": "2001:db8::/32"}]}"#, #"{"a": "2001:db8:ffff::1"}"#, true),
        (#"{"a": [{"cidr": "2001:db8::/32"}]}"#, #"{"a": "2001:db9::1"}"#, false),
        (#"{"a": [{"cidr": "::ffff:0:0/96"}]}"#, #"{"a": "::ffff:10.1.2.3"}"#, true),
        (#"{"a": [{"cidr": "10.0.0.0/8"}]}"#, #"{"a": "::ffff:10.1.2.3"}"#, false),
        (#"{"a": [{"cidr": "10.0.0.0/8"}]}"#, #"{"a": "10.0.0.256"}"#, false),
        // $or, nesting, arrays.
        (#"{"$or": [{"a": ["x"]}, {"b": ["y"]}]}"#, #"{"b": "y"}"#, true),
        (#"{"$or": [{"a": ["x"]}, {"b": ["y"]}]}"#, #"{"b": "x"}"#, false),
        (#"{"d": {"$or": [{"a": ["x"]}, {"b": {"$or": [{"c": [1]}, {"e": [2]}]}}]}}"#, #"{"d": {"b": {"e": 2}}}"#, true),
        (#"{"a": {"b": ["x"]}}"#, #"{"a": {"b": "x"}}"#, true),
        (#"{"a.b": ["x"]}"#, #"{"a": {"b": "x"}}"#, true),
        (#"{"a": {"b": ["x"]}}"#, #"{"a.b": "x"}"#, true),
        (#"{"a": ["x"]}"#, #"{"a": [["y"], ["x"]]}"#, true),
        (#"{"a": {"b": ["x"], "c": ["y"]}}"#, #"{"a": [{"b": "x"}, {"c": "y"}]}"#, false),
        (#"{"a": {"b": ["x"], "c": ["y"]}}"#, #"{"a": [{"b": "x"}, {"b": "x", "c": "y"}]}"#, true),
        (#"{"a": {"b": ["x"], "c": [{"exists": false}]}}"#, #"{"a": [{"b": "x", "c": 1}, {"b": "x"}]}"#, true),
        (#"{"a": {"b": ["x"], "c": [{"exists": false}]}}"#, #"{"a": [{"b": "x", "c": 1}, {"b": "z"}]}"#, false),
        (#"{"a": {"b": ["x"]}, "t": ["y"]}"#, #"{"a": [{"b": "x"}], "t": ["z", "y"]}"#, true),
        // AWS behaviour: absence is judged against the fields before it in path order.
        (#"{"d": {"a": [1], "b": [{"exists": false}]}}"#, #"{"d": [{"a": 1}, {"b": 0}]}"#, true),
        (#"{"d": {"a": [{"exists": false}], "b": [1]}}"#, #"{"d": [{"a": 0}, {"b": 1}]}"#, false),
        (#"{"d": {"a": [{"exists": false}], "b": [1]}}"#, #"{"d": [{"c": 0}, {"b": 1}]}"#, true),
    ])
    func matches(pattern: String, event: String, expected: Bool) throws {
        #expect(try Self.check(pattern, event) == expected)
    }

    @Test func patternsFromJSONValues() throws {
        let p = try EventPattern(json: ["a": [["numeric": [">", 1.5]]]])
        #expect(p.matches(["a": 2]))
        #expect(!p.matches(["a": 1.5]))
        #expect(p.matches(["a": .double(1.6)]))
    }

    @Test func decimals() throws {
        let cases: [(String, String, Int)] = [
            ("1", "1.0", 0), ("1e2", "100", 0), ("-0", "0", 0), ("0.1", "0.10000000000000000001", -1),
            ("-5", "-4.999", -1), ("1E-320", "0", 1), ("123456789012345678901234567890", "1.2345678901234567890123456789e29", 0),
            ("9e18", "1e19", -1), ("-1e400", "-1e399", -1),
        ]
        for (a, b, c) in cases {
            let x = try #require(DecimalNumber(a))
            let y = try #require(DecimalNumber(b))
            #expect(DecimalNumber.compare(x, y) == c, "\(a) vs \(b)")
            if c == 0 { #expect(x.hashValue == y.hashValue) }
        }
        #expect(DecimalNumber("01") == nil && DecimalNumber("1.") == nil && DecimalNumber(".5") == nil)
        #expect(DecimalNumber("1e") == nil && DecimalNumber("+1") == nil && DecimalNumber("") == nil)
        #expect(DecimalNumber("301.80")?.description == "301.8")
        #expect(DecimalNumber("1E-320")?.description == "1E-320")
        #expect(DecimalNumber(0.1) == DecimalNumber("0.1"))
        #expect(DecimalNumber(Int64.min).description == "-9223372036854775808")
    }
}

@Suite struct EventPatternEventTests {
    @Test func repeatedEventKeyKeepsLastValue() throws {
        let p = try EventPattern(text: #"{"a": {"b": [1]}}"#)
        #expect(try !p.matches(eventText: #"{"a": {"b": 1}, "a": {"c": 2}}"#))
        #expect(try p.matches(eventText: #"{"a": {"c": 2}, "a": {"b": 1}}"#))
        let event = try FlattenedEvent(text: #"{"x": 1, "x": 2, "y": [1, 2], "y": 3}"#)
        #expect(event.fieldCount == 2)
        var many = "{"
        for i in 0..<40 { many += #""k\#(i)": \#(i), "# }
        many += #""k3": "last"}"#
        #expect(try EventPattern(text: #"{"k3": ["last"]}"#).matches(eventText: many))
        #expect(try !EventPattern(text: #"{"k3": [3]}"#).matches(eventText: many))
    }

    @Test func nonObjectEventsHaveNoFields() throws {
        for text in ["[1, 2]", "\"x\"", "5", "null"] {
            #expect(try FlattenedEvent(text: text).fieldCount == 0)
            #expect(try EventPattern(text: #"{"a": [{"exists": false}]}"#).matches(eventText: text))
        }
    }

    @Test func eventErrorsAreTheParserErrors() {
        #expect(throws: JSONParseError.self) { try FlattenedEvent(text: #"{"a": [1, 2 3]}"#) }
        #expect(throws: JSONParseError.self) { try FlattenedEvent(text: #"{"a": 01}"#) }
        #expect(throws: JSONParseError.self) { try FlattenedEvent(text: "") }
    }

    @Test func testEventPatternAction() throws {
        let event = #"{"id": "1", "account": "123456789012", "source": "app", "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail-type": "X", "detail": {"n": 5}}"#
        #expect(try TestEventPattern.evaluate(eventPattern: #"{"detail": {"n": [{"numeric": [">", 4]}]}}"#, event: event))
        #expect(try !TestEventPattern.evaluate(eventPattern: #"{"source": ["other"]}"#, event: event))
        #expect(throws: TestEventPattern.Failure.self) { try TestEventPattern.evaluate(eventPattern: #"{"a": []}"#, event: event) }
        do {
            _ = try TestEventPattern.evaluate(eventPattern: #"{"a": ["x"]}"#, event: #"{"a": "x"}"#)
            Issue.record("accepted an event without envelope")
        } catch {
            #expect(error.exceptionName == "ValidationException")
            #expect(error.message.contains("mandatory field: id"))
        }
        #expect(try TestEventPattern.evaluate(eventPattern: #"{"a": ["x"]}"#, event: #"{"a": "x"}"#, requiresEnvelope: false))
        do {
            _ = try TestEventPattern.evaluate(eventPattern: #"{"a": 1}"#, event: event)
        } catch {
            #expect(error.exceptionName == "InvalidEventPatternException")
        }
    }
}
