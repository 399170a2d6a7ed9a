import Testing
@testable import StatesLanguage

@Suite struct EventPatternValidationTests {
    @Test(arguments: [
        (#"[1]"#, "Filter is not an object"),
        (#"{}"#, "Empty objects are not allowed"),
        (#"{"foo": {}}"#, "Empty objects are not allowed"),
        (#"{"foo": []}"#, "Empty arrays are not allowed"),
        (#"{"foo": "x"}"#, "Match value must be an array or an object, not string"),
        (#"{"foo": [["x"]]}"#, "Match value must be String, number, true, false, or null"),
        (#"{"a": [{"x": 2}]}"#, "Unrecognized match type x"),
        (#"{"a": [{"prefix": "a", "suffix": "b"}]}"#, "Only one key allowed in match expression"),
        (#"{"a": [{"prefix": 3}]}"#, "prefix match pattern must be a string"),
        (#"{"a": [{"suffix": 3}]}"#, "suffix match pattern must be a string"),
        (#"{"a": [{"suffix": {"invalid-expression": ["abc"]}}]}"#, "Unsupported suffix pattern: invalid-expression"),
        (#"{"a": [{"prefix": {"equals-ignore-case": 5}}]}"#, "equals-ignore-case match pattern must be a string"),
        (#"{"a": [{"equals-ignore-case": ["abc"]}]}"#, "equals-ignore-case match pattern must be a string"),
        (#"{"a": [{"wildcard": 5}]}"#, "wildcard match pattern must be a string"),
        (#"{"a": [{"wildcard": "abc**def"}]}"#, "Consecutive wildcard characters at pos 4"),
        (#"{"a": [{"wildcard": "a\\bc"}]}"#, "Invalid escape character at pos 1"),
        (#"{"a": [{"exists": "yes"}]}"#, "exists match pattern must be either true or false."),
        (#"{"a": [{"anything-but": {"prefix": ""}}]}"#, "Null prefix/suffix not allowed"),
        (#"{"a": [{"anything-but": {"prefix": 27}}]}"#, "prefix/suffix match pattern must be a string"),
        (#"{"a": [{"anything-but": {"prefix": ["1", ""]}}]}"#, "prefix/suffix match pattern must be a string"),
        (#"{"a": [{"anything-but": {"wildcard": 27}}]}"#, "wildcard match pattern must be a string"),
        (#"{"a": [{"anything-but": {"wildcard": "foo**bar"}}]}"#, "Consecutive wildcard characters at pos 4"),
        (#"{"a": [{"anything-but": {"equals-ignore-case": [1, 2]}}]}"#,
         "Inside anything-but/ignore-case list, number|start|null|boolean is not supported."),
        (#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#, "Unsupported anything-but pattern: numeric"),
        (#"{"a": [{"anything-but": ["child0", 111]}]}"#,
         "Inside anything but list, either all values are number or string, mixed type is not supported"),
        (#"{"a": [{"anything-but": [null]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (#"{"a": [{"anything-but": true}]}"#, "Value of anything-but must be an array or single string/number value."),
        (#"{"x": [{"numeric": ["<", true]}]}"#, "Value of < must be numeric"),
        (#"{"x": [{"numeric": ["=", true]}]}"#, "Value of equals must be numeric"),
        (#"{"x": [{"numeric": [">="]}]}"#, "Value of >= must be numeric"),
        (#"{"x": [{"numeric": ["=", 1E-325]}]}"#, "Cannot compare number : 1E-325"),
        (#"{"x": [{"numeric": ["<", 2.0e422]}]}"#, "Cannot compare number : 2.0e422"),
        // AWS behaviour: a bound must be exactly a double, digit for digit (event-ruler's ComparableNumber).
        (#"{"x": [{"numeric": [">", 0.30000000000000001]}]}"#, "Cannot compare number : 0.30000000000000001"),
        (#"{"x": [{"numeric": [">", 18446744073709551616]}]}"#, "Cannot compare number : 18446744073709551616"),
        (#"{"x": [{"anything-but": [1e400]}]}"#, "Cannot compare number : 1e400"),
        (#"{"x": [{"anything-but": 9007199254740993}]}"#, "Cannot compare number : 9007199254740993"),
        (#"{"x": [{"numeric": ["<", 1, ">", 0]}]}"#, "Too many elements in numeric expression"),
        (#"{"x": [{"numeric": ["=", 1, "<", 2]}]}"#, "Too many elements in numeric expression"),
        (#"{"x": [{"numeric": ["==", 1, ">", 0]}]}"#, "Unrecognized numeric range operator: =="),
        (#"{"x": [{"numeric": [">", 5, "<", 5]}]}"#, "Bottom must be less than top"),
        (#"{"x": [{"numeric": [">", 1, ">", 0]}]}"#, "Bad value in numeric range: >"),
        (#"{"x": [{"numeric": []}]}"#, "Value of numeric must be an array."),
        (#"{"a": [{"cidr": "10.0.0.0"}]}"#, "Malformed CIDR, one '/' required"),
        (#"{"a": [{"cidr": "10.0.0.0/33"}]}"#, "Malformed CIDR, mask bits must be <= 32"),
        (#"{"a": [{"cidr": "10.0.0/8"}]}"#, "Nonstandard IP address: 10.0.0"),
        (#"{"$or": [{"a": ["x"]}]}"#, "There must have at least 2 Objects in $or Array."),
        (#"{"$or": [{"a": ["x"]}, "b"]}"#, "Only JSON objects are allowed in a $or array"),
        (#"{"a": [{"exactly": 1}]}"#, "exactly match pattern must be a string"),
        (#"{"a": [{"suffix": {"foo": "x"}}]}"#, "Unsupported suffix pattern: foo"),
        (#"{"a": [{"wildcard": "a**b"}]}"#, "Consecutive wildcard characters at pos 2"),
        (#"{"a": [{"numeric": ["==", 1]}]}"#, "Unrecognized numeric range operator: =="),
        (#"{"a": [{"anything-but": []}]}"#, "Empty arrays are not allowed"),
        (#"{"a": [{"cidr": "10.0.0.0/x"}]}"#, "Malformed CIDR, mask bits must be an integer"),
        (#"{"a": [{"cidr": "2001:db8::/129"}]}"#, "Malformed CIDR, mask bits must be <= 128"),
        (#"{"$or": [{"a": ["x"]}, {}]}"#, "Empty objects are not allowed"),
    ])
    func rejected(pattern: String, reason: String) {
        do {
            _ = try EventPattern(text: pattern)
            Issue.record("accepted \(pattern)")
        } catch {
            #expect(error.reason == reason)
            #expect(error.message == "Event pattern is not valid. Reason: \(reason)")
        }
    }

    @Test func syntaxErrorsQuoteTheParser() {
        let text = #"{"a": [1, 2 3]}"#
        do {
            _ = try EventPattern(text: text)
            Issue.record("accepted")
        } catch {
            #expect(error.reason.hasPrefix("Unexpected character ('3' (code 51)): was expecting comma to separate Array entries"))
            #expect(error.reason.contains("[Source: (String)"))
        }
    }

    @Test func fieldPathIsReported() {
        do {
            _ = try EventPattern(text: #"{"detail": {"state": [{"prefix": 1}]}}"#)
            Issue.record("accepted")
        } catch {
            #expect(error.fieldPath == "detail.state")
        }
    }

    @Test(arguments: [
        #"{"a": [{"anything-but": {"wildcard": ""}}]}"#,
        #"{"a": [{"anything-but": {"prefix": ["abc", "123"]}}]}"#,
        #"{"x": [{"numeric": [">", 1E-320]}]}"#,
        #"{"x": [{"numeric": [">=", 0, "<=", 1]}]}"#,
        #"{"a": [{"exactly": "child"}]}"#,
        #"{"x": ["y"], "x": ["z"]}"#,
        #"{"a": [{"cidr": "2001:db8::/128"}]}"#,
        #"{"a": [{"prefix": ""}]}"#,
    ])
    func accepted(pattern: String) throws {
        _ = try EventPattern(text: pattern)
    }

    @Test func laterDuplicateKeyWins() throws {
        let p = try EventPattern(text: #"{"x": ["y"], "x": ["z"]}"#)
        #expect(try p.matches(eventText: #"{"x": "z"}"#))
        #expect(try !p.matches(eventText: #"{"x": "y"}"#))
    }

    /// AWS behaviour: a field constrained outside and inside a `$or` alternative takes the
    /// alternative's constraint (event-ruler sets fields, it does not add them).
    @Test func orAlternativeReplacesOuterField() throws {
        let p = try EventPattern(text: #"{"name": ["a", "b"], "$or": [{"name": [{"anything-but": "a"}]}, {"c": ["x"]}]}"#)
        #expect(try p.matches(eventText: #"{"name": "c"}"#))
        #expect(try p.matches(eventText: #"{"name": "a", "c": "x"}"#))
        #expect(try !p.matches(eventText: #"{"name": "a"}"#))
    }

    @Test func orExpansionIsBounded() {
        // 5 nested levels of 10 alternatives each: 100,000 combinations.
        var alternatives: [String] = []
        for i in 0..<10 { alternatives.append(#"{"f\#(i)": ["v"]}"#) }
        let or = #"[\#(alternatives.joined(separator: ","))]"#
        var text = ""
        for level in 0..<5 { text += #""l\#(level)": {"$or": \#(or)}"# + (level < 4 ? "," : "") }
        #expect(throws: InvalidEventPatternError.self) { try EventPattern(text: "{\(text)}") }
    }
}
