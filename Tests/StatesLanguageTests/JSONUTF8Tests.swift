import Testing
@testable import StatesLanguage

/// Bytes that are not UTF-8 are an error that names the byte and its place, not U+FFFD
/// (issue 14, item 7), unless the caller asks for the replacement.
@Suite struct JSONUTF8Tests {
    static func bytes(_ parts: [UInt8]...) -> [UInt8] { parts.flatMap { $0 } }
    static let q = UInt8(ascii: "\"")

    @Test(arguments: [
        // (text, message, byte offset)
        (bytes([q, 0x61, 0xFF, q]), "Invalid UTF-8 start byte 0xff", 2),
        (bytes([q, 0xC3, 0x28, q]), "Invalid UTF-8 middle byte 0x28", 2),
        (bytes([q, 0x61, 0xC3, q]), "Invalid UTF-8 middle byte 0x22", 3),  // the text ends inside a character
        (bytes([q, 0xC0, 0xAF, q]), "Invalid UTF-8 start byte 0xc0", 1),  // overlong "/"
        (bytes([q, 0xE0, 0x80, 0xAF, q]), "Invalid UTF-8 middle byte 0x80", 2),  // overlong
        (bytes([q, 0xED, 0xA0, 0x80, q]), "Invalid UTF-8 middle byte 0xa0", 2),  // U+D800
        (bytes([q, 0xF4, 0x90, 0x80, 0x80, q]), "Invalid UTF-8 middle byte 0x90", 2),  // beyond U+10FFFF
        (bytes([q, 0xF5, 0x80, 0x80, 0x80, q]), "Invalid UTF-8 start byte 0xf5", 1),
        (bytes([q, 0x80, q]), "Invalid UTF-8 start byte 0x80", 1),
        (bytes(Array(#"{"k"#.utf8), [0xFE], Array(#"":1}"#.utf8)), "Invalid UTF-8 start byte 0xfe", 3),
        (bytes(Array(#"["\n"#.utf8), [0xFF], [q, UInt8(ascii: "]")]), "Invalid UTF-8 start byte 0xff", 4),  // after an escape
        (bytes(Array(#"{"a":1,"b":"é"#.utf8), [0xE2, 0x82], Array(#""}"#.utf8)), "Invalid UTF-8 middle byte 0x22", 16),
        (Array(#""\ud800""#.utf8), #"Invalid character escape \uD800: a lone surrogate is not a Unicode character"#, 1),
        (Array(#""\udc00x""#.utf8), #"Invalid character escape \uDC00: a lone surrogate is not a Unicode character"#, 1),
        (Array(#""ab\ud800\u0041""#.utf8), #"Invalid character escape \uD800: a lone surrogate is not a Unicode character"#, 3),
    ])
    func rejected(_ text: [UInt8], _ message: String, _ offset: Int) {
        #expect {
            try JSON.parse(bytes: text)
        } throws: { error in
            let e = error as! JSONParseError
            return e.message == message && e.offset == offset && e.line == 1 && e.column == offset + 1
        }
    }

    @Test func validTextIsUnchanged() throws {
        let text = #"{"é":"€ 😀 \u00e9 \ud83d\ude00","ascii":"plain"}"#
        let value = try JSON.parse(bytes: Array(text.utf8))
        #expect(value["é"] == "€ 😀 é 😀")
        #expect(value.serialized() == #"{"é":"€ 😀 é 😀","ascii":"plain"}"#)
    }

    @Test func replacementWhenAskedFor() throws {
        let text = Self.bytes([Self.q, 0x61, 0xFF, 0x62, Self.q])
        #expect(try JSON.parse(bytes: text, invalidUTF8: .replace) == "a\u{FFFD}b")
        #expect(try JSON.parse(#""\ud800x""#, invalidUTF8: .replace) == "\u{FFFD}x")
    }

    @Test func eventsAndPatternsRejectToo() throws {
        // The invalid byte sits in a subtree no pattern looks at, which the matcher skips.
        let event = Self.bytes(Array(#"{"a":"x","skipped":{"b":""#.utf8), [0xFF], Array(#""}}"#.utf8))
        let matcher = RuleMatcher([(rule: "r", pattern: try EventPattern(text: #"{"a":["x"]}"#))])
        #expect {
            try event.withUnsafeBufferPointer { try matcher.matchingRules(forEventBytes: $0) }
        } throws: { ($0 as? JSONParseError)?.message == "Invalid UTF-8 start byte 0xff" }
        #expect(throws: JSONParseError.self) {
            try event.withUnsafeBufferPointer { try FlattenedEvent(utf8: $0) }
        }
    }
}
