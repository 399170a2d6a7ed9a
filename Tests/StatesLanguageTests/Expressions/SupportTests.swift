import Testing
@testable import StatesCore
@testable import StatesLanguage

@Suite struct TimestampTests {
    // Accepted: cases base.test_wait.TestSfnWait.test_wait_timestamppath.{Z,.00Z,.000000Z},
    // scenarios...test_wait_timestamp_path.{SECONDS,NANOSECONDS}; the rest are RFC 3339 shapes.
    @Test(arguments: [
        ("2016-03-14T01:59:00Z", 1_457_920_740, 0),
        ("2025-01-01T00:00:00.00Z", 1_735_689_600, 0),
        ("2025-01-01T00:00:00.000000Z", 1_735_689_600, 0),
        ("2016-03-05T21:29:29.243167252Z", 1_457_213_369, 243_167_252),
        ("2012-10-09T19:00:55+01:00", 1_349_805_655, 0),
        ("2016-02-29T12:00:00-05:30", 1_456_767_000, 0),
        ("2093-01-20T00:00:00.000Z", 3_883_248_000, 0),
        ("0001-01-01T00:00:00Z", -62_135_596_800, 0),
        ("9999-12-31T23:59:59.5Z", 253_402_300_799, 500_000_000),
        ("1969-12-31T23:59:59.999Z", -1, 999_000_000),
        ("2016-03-14T01:59:00+18:00", 1_457_920_740 - 18 * 3600, 0),
    ] as [(String, Int64, Int32)])
    func accepted(_ text: String, _ seconds: Int64, _ nanos: Int32) {
        let t = Timestamp(text)
        #expect(t?.secondsSinceEpoch == seconds)
        #expect(t?.nanosecondOfSecond == nanos)
    }

    // Rejected: cases validation...test_wait_timestamp_invalid.{INVALID_DATE,INVALID_ISO,INVALID_TIME,NO_T,NO_Z},
    // base.test_wait...test_wait_timestamppath.{_, .000000}; the rest are calendar and format edges.
    @Test(arguments: [
        "2016-13-05T21:29:29Z", "05-12-2016T21:29:29Z", "2016-12-05T25:29:29Z", "2016-12-05 21:29:29Z",
        "2016-12-05T21:29:29", "2025-01-01T00:00:00", "2025-01-01T00:00:00.000000", "{% '2016-03-14T01:59:00Z' %}",
        "2015-02-29T00:00:00Z", "2016-02-30T00:00:00Z", "2016-04-31T00:00:00Z", "2016-01-01T24:00:00Z",
        "2016-01-01T23:60:00Z", "2016-01-01T23:59:60Z", "2016-01-01t00:00:00Z", "2016-01-01T00:00:00z",
        "2016-01-01T00:00Z", "2016-01-01T00:00:00.Z", "2016-01-01T00:00:00.0123456789Z", "2016-01-01T00:00:00+1:00",
        "2016-01-01T00:00:00+19:00", "2016-01-01T00:00:00+0100", " 2016-01-01T00:00:00Z", "2016-01-01T00:00:00Z ",
        "", "2016-1-01T00:00:00Z", "+2016-01-01T00:00:00Z", "2016-00-10T00:00:00Z", "2016-01-00T00:00:00Z",
    ])
    func rejected(_ text: String) {
        #expect(Timestamp(text) == nil)
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func javaISOOffsetDateTimeIsMoreLenient() throws {
        for text in ["2016-03-14t01:59:00z", "2016-03-14T01:59Z", "2016-03-14T01:59:00+01:00:30", "2016-03-14T01:59:00.5Z"] {
            #expect(Timestamp(isoOffsetDateTime: text) != nil, "\(text)")
        }
        #expect(Timestamp("2016-03-14T01:59Z") == nil)
        #expect(Timestamp(isoOffsetDateTime: "2016-03-14T01:59Z") == Timestamp("2016-03-14T01:59:00Z"))
        #expect(Timestamp(isoOffsetDateTime: "2016-03-14T01:59:00+01:00:30")?.secondsSinceEpoch == Int64(1_457_920_740 - 3630))
        // Still rejected at run time: cases base.test_wait...test_wait_timestamppath._ and .000000 (no offset),
        // scenarios...test_wait_timestamp_path.{INVALID_DATE,INVALID_TIME,NO_T,NO_Z}.
        for text in ["2025-01-01T00:00:00", "2025-01-01T00:00:00.000000", "2016-13-05T21:29:29Z", "2016-12-05T25:29:29Z",
                     "2016-12-05 21:29:29Z", "2016-12-05T21:29:29", "2016-03-14T01Z", "2016-03-14T01:59.5Z"] {
            #expect(Timestamp(isoOffsetDateTime: text) == nil, "\(text)")
        }
    }

    @Test func ordersByInstantAcrossOffsets() throws {
        let a = try #require(Timestamp("2012-10-09T19:00:55+01:00"))
        let b = try #require(Timestamp("2012-10-09T18:00:55Z"))
        let c = try #require(Timestamp("2012-10-09T18:00:55.000000001Z"))
        #expect(a == b)
        #expect(b < c && !(c < b))
    }

    @Test func formatsAsAWSPrintsTimes() {
        #expect(Timestamp(millisecondsSinceEpoch: 1_553_631_253_192).formatted() == "2019-03-26T20:14:13.192Z")
        #expect(Timestamp(millisecondsSinceEpoch: 0).formatted() == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSinceEpoch: -1).formatted() == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: 1_553_631_253_000).javaInstantString == "2019-03-26T20:14:13Z")
        #expect(Timestamp(secondsSinceEpoch: 0, nanosecondOfSecond: 120_000).javaInstantString == "1970-01-01T00:00:00.000120Z")
        #expect(Timestamp("2016-03-05T21:29:29.243167252Z")?.formatted(fractionDigits: 9) == "2016-03-05T21:29:29.243167252Z")
        #expect(Timestamp("0001-01-01T00:00:00Z")?.formatted(fractionDigits: 0) == "0001-01-01T00:00:00Z")
    }

    @Test func epochConversions() {
        let t = Timestamp(nanosecondsSinceEpoch: -1)
        #expect(t.secondsSinceEpoch == -1 && t.nanosecondOfSecond == 999_999_999)
        #expect(t.nanoseconds == -1)
        #expect(Timestamp(millisecondsSinceEpoch: 1_553_631_253_192).nanoseconds == 1_553_631_253_192_000_000)
        #expect(Timestamp(millisecondsSinceEpoch: -1).millisecondsSinceEpoch == -1)
        #expect(Timestamp("9999-12-31T23:59:59Z")?.nanoseconds == Int64.max)  // saturates
    }

    @Test func calendarRoundTripsEveryDayOverFourCenturies() {
        var days: Int64 = Timestamp.daysFromCivil(year: 1900, month: 1, day: 1)
        for year: Int64 in 1900..<2300 {
            for month: Int64 in 1...12 {
                for day: Int64 in 1...Timestamp.daysInMonth(year: year, month: month) {
                    #expect(Timestamp.daysFromCivil(year: year, month: month, day: day) == days)
                    let civil = Timestamp.civilFromDays(days)
                    if civil != (year, month, day) { Issue.record("civilFromDays(\(days)) = \(civil)") }
                    days += 1
                }
            }
        }
    }
}

@Suite struct JavaCompatibilityTests {
    @Test(arguments: [("", 0), ("hello", 99_162_322), ("Aa", 2112), ("BB", 2112),
                      ("constant_in_literal", -960_535_792), ("😀", 1_772_899)] as [(String, Int32)])
    func stringHashCode(_ s: String, _ expected: Int32) {
        #expect(Java.hashCode(s) == expected)
    }

    // Orders observed on AWS: intrinsics...test_json_merge_escaped_argument,
    // scenarios...test_map_state_config_distributed_reentrant, assign...BASE_REFERENCE_IN_INTRINSIC_FUNCTION.
    @Test(arguments: [
        (["constant_in_literal", "constant_input_field"], ["constant_input_field", "constant_in_literal"]),
        (["Iterations", "Values"], ["Values", "Iterations"]),
        (["encoded", "decoded"], ["decoded", "encoded"]),
        (["mergedJson", "parsedJson", "stringifiedJson"], ["parsedJson", "mergedJson", "stringifiedJson"]),
        (["a", "b", "d", "c"], ["a", "b", "c", "d"]),
        (["Bucket", "Key"], ["Bucket", "Key"]),
    ])
    func hashMapOrder(_ keys: [String], _ expected: [String]) {
        #expect(Java.hashMapOrder(keys).map { keys[$0] } == expected)
    }

    @Test func hashMapOrderGrowsTheTable() {
        // 13 keys exceed 16 * 0.75, so the table has 32 buckets: "k0"..."k12" then sort by bucket.
        let keys = (0..<13).map { "k\($0)" }
        let order = Java.hashMapOrder(keys).map { keys[$0] }
        let expected = keys.enumerated().sorted {
            let a = Java.hashCode($0.element), b = Java.hashCode($1.element)
            let ba = (a ^ Int32(bitPattern: UInt32(bitPattern: a) >> 16)) & 31
            let bb = (b ^ Int32(bitPattern: UInt32(bitPattern: b) >> 16)) & 31
            return ba != bb ? ba < bb : $0.offset < $1.offset
        }.map(\.element)
        #expect(order == expected)
        #expect(Java.hashMapOrder(["x", "y", "x"]) == [0, 1])
    }

    @Test(arguments: [(0.5, 1), (-0.5, 0), (1.5, 2), (-1.5, -1), (2.5, 3), (-2.5, -2), (1.49, 1), (-1.51, -2),
                      (0.49999999999999994, 0), (1e20, Int64.max), (-1e20, Int64.min), (Double.nan, 0)] as [(Double, Int64)])
    func mathRound(_ x: Double, _ expected: Int64) {
        #expect(Java.round(x) == expected)
    }

    @Test func stringCompareUsesUTF16() {
        #expect(Java.compare("a", "b") < 0)
        #expect(Java.compare("ab", "a") > 0)
        #expect(Java.compare("", "") == 0)
        // U+1F600 is D83D DE00 in UTF-16, below U+FFFF; Swift's own order says the opposite.
        #expect(Java.compare("😀", "\u{FFFF}") < 0)
        #expect("😀" > "\u{FFFF}")
    }

    @Test func javaUtilRandom() {
        var r = Java.Random(seed: 42)
        #expect(r.next(bits: 32) == -1_170_105_035)  // new Random(42).nextInt()
        var r10 = Java.Random(seed: 42)
        #expect(r10.nextInt(bound: 10) == 0)  // new Random(42).nextInt(10)
        var r100 = Java.Random(seed: 42)
        #expect(r100.nextInt(bound: 100) == 30)
        var p = Java.Random(seed: 7)
        for _ in 0..<1000 {
            let v = p.nextInt(bound: 999)
            #expect(v >= 0 && v < 999)
        }
    }
}
