import Testing
@testable import StatesLanguage

@Suite struct JSONTests {
    @Test(arguments: [
        ("{}", "{}"), ("[]", "[]"), ("1", "1"), ("1.0", "1.0"), ("-0", "0"), ("1e2", "100.0"),
        ("12345678.9", "1.23456789E7"), ("0.0001", "1.0E-4"), ("0.001", "0.001"), ("1.5e300", "1.5E300"),
        ("\"a/b\\u00e9\\n\"", "\"a/bé\\n\""), ("{\"b\":1,\"a\":[true,false,null]}", "{\"b\":1,\"a\":[true,false,null]}"),
        ("{\"a\":1,\"a\":2}", "{\"a\":2}"), ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"), ("9223372036854775808", "9223372036854775808"),
        ("\"\\ud83d\\ude00\"", "\"😀\""), ("3.3", "3.3"), ("100", "100"), ("1E7", "1.0E7"), ("1234567.0", "1234567.0"),
    ])
    func roundTrip(input: String, expected: String) throws {
        let value = try JSON.parse(input)
        #expect(value.serialized() == expected)
        #expect(value.serializedSize == expected.utf8.count)
    }

    @Test func numbersCompareByValue() throws {
        #expect(JSON.int(1) == JSON.double(1.0))
        #expect(JSON.int(1).hashValue == JSON.double(1.0).hashValue)
        #expect(try JSON.parse("{\"a\":1,\"b\":2}") == JSON.parse("{\"b\":2.0,\"a\":1}"))
        #expect(JSON.bool(true) != JSON.int(1))
    }

    @Test func orderedKeysAndIndex() {
        var o = JSONObject()
        for i in 0..<40 { o["k\(39 - i)"] = .int(Int64(i)) }
        #expect(o.orderedKeys.first == "k39")
        #expect(o["k0"] == .int(39))
        o["k39"] = "x"
        #expect(o.orderedKeys.first == "k39")
        o.removeValue(forKey: "k20")
        #expect(o["k20"] == nil && o["k19"] == .int(20) && o.count == 39)
    }

    @Test(arguments: [
        ("not a definition", "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", 1, 4),
        ("{\"a\" 1}", "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value", 1, 7),
        ("[1,]", "Unexpected character (']' (code 93)): expected a value", 1, 5),
        ("", "No content to map due to end-of-input", 1, 1),
    ])
    func errors(input: String, message: String, line: Int, column: Int) {
        do {
            _ = try JSON.parse(input)
            Issue.record("parsed")
        } catch {
            #expect(error.message == message)
            #expect(error.line == line)
            #expect(error.column == column)
        }
    }

    @Test func depthLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
    }
}

@Suite struct JSONSizeTests {
    @Test func doubleSizeMatchesSerialization() {
        var random = SystemRandomNumberGenerator()
        var values: [Double] = [1.5, -1.5, 0.001, 0.00099, 1e7, 9999999.5, 123.456, 1e-300, 1.7976931348623157e308,
                                Double.leastNonzeroMagnitude, -0.0, 0.1, 100.25, 12345678.9, 1e21, 3.3, 1234567.0]
        for _ in 0..<2000 {
            values.append(Double(bitPattern: random.next()))
            values.append(Double(Int64.random(in: -1_000_000...1_000_000, using: &random)) / 1000)
        }
        for d in values where d.isFinite {
            #expect(JSON.double(d).serializedSize == JSON.double(d).serialized().utf8.count, "\(d)")
        }
    }

    @Test func stringSizeCountsEscapes() {
        var samples = ["plain", "quote\"back\\slash", "ctrl\u{01}\n\t", "é😀", String(repeating: "x", count: 100)]
        for special in ["\"", "\\", "\n", "\u{1F}", "é"] {
            for position in [0, 7, 8, 15, 16, 40] {
                var chars = Array(repeating: "a", count: 48)
                chars[position] = special
                samples.append(chars.joined())
            }
        }
        for s in samples {
            #expect(JSON.string(s).serializedSize == JSON.string(s).serialized().utf8.count, "\(s)")
            #expect(JSON.string(s).serializedSizeExceeds(JSON.string(s).serialized().utf8.count) == false)
            #expect(JSON.string(s).serializedSizeExceeds(JSON.string(s).serialized().utf8.count - 1) == true)
        }
    }
}
