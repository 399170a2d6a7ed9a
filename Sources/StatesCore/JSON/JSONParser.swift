#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A malformed JSON text, with the place where parsing stopped.
///
/// `message` follows the wording of Jackson, the parser behind AWS's API, because AWS
/// quotes it in `INVALID_JSON_DESCRIPTION` diagnostics.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Byte offset of the failure in the UTF-8 text.
    public var offset: Int
    /// 1-based line and column (in bytes) of the failure, as Jackson counts them.
    public var line: Int
    public var column: Int

    public var description: String { "\(message) at line \(line), column \(column)" }

    /// Jackson's location suffix: `[Source: (String)"..."; line: 1, column: 4]`.
    public func jacksonLocation(source: String) -> String {
        var shown = source
        var suffix = ""
        let limit = 500
        if source.utf8.count > limit {
            shown = String(decoding: source.utf8.prefix(limit), as: UTF8.self)
            suffix = "[truncated \(source.utf8.count - limit) chars]"
        }
        return "[Source: (String)\"\(shown)\"\(suffix); line: \(line), column: \(column)]"
    }

    /// The whole Jackson message: the description, a newline, and ` at <location>`.
    public func jacksonMessage(source: String) -> String {
        "\(message)\n at \(jacksonLocation(source: source))"
    }
}

/// What the JSON parser does with bytes that are not UTF-8 and with `\u` escapes of lone
/// surrogates, which no Unicode string can hold.
public enum JSONInvalidUTF8Handling: Sendable {
    /// Rejects the text with a `JSONParseError` that names the byte and its place.
    case reject
    /// Replaces each with U+FFFD, for callers that explicitly accept the loss.
    case replace
}

extension JSON {
    /// The nesting depth (arrays and objects) the parser accepts by default.
    ///
    /// AWS payloads (256 KiB) do not come near it; it keeps the recursive walks over a
    /// parsed value (parsing, writing, equality, hashing) within a thread's stack, debug
    /// builds included. Jackson, the parser behind AWS's API, stops at 1,000.
    public static let defaultMaxDepth = 512

    /// The longest number literal accepted, in bytes (Jackson's default limit since 2.15).
    public static let maxNumberLength = 1000

    /// Parses one JSON text (RFC 8259). Leading and trailing whitespace is allowed; anything
    /// else after the value is an error.
    ///
    /// - Parameters:
    ///   - maxDepth: nesting limit; deeper texts are rejected rather than risking the stack.
    ///   - invalidUTF8: what to do with a `\u` escape of a lone surrogate (see
    ///     `parse(bytes:maxDepth:invalidUTF8:)`); a `String` holds no other invalid UTF-8.
    /// - Throws: `JSONParseError`.
    public static func parse(
        _ text: String, maxDepth: Int = defaultMaxDepth, invalidUTF8: JSONInvalidUTF8Handling = .reject
    ) throws(JSONParseError) -> JSON {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSON in try parse(utf8: buffer, maxDepth: maxDepth, invalidUTF8: invalidUTF8) }
        }
        return try result.get()
    }

    /// Parses one JSON text from UTF-8 bytes.
    ///
    /// - Parameter invalidUTF8: by default a byte sequence that is not UTF-8 (or an escaped
    ///   lone surrogate) is an error naming its place; `.replace` turns each into U+FFFD.
    public static func parse<C: Collection<UInt8>>(
        bytes: C, maxDepth: Int = defaultMaxDepth, invalidUTF8: JSONInvalidUTF8Handling = .reject
    ) throws(JSONParseError) -> JSON {
        let result: Result<JSON, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSON in try parse(utf8: buffer, maxDepth: maxDepth, invalidUTF8: invalidUTF8) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSON in try parse(utf8: buffer, maxDepth: maxDepth, invalidUTF8: invalidUTF8) }
        }.get()
    }

    public static func parse(
        utf8 buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth, invalidUTF8: JSONInvalidUTF8Handling = .reject
    ) throws(JSONParseError) -> JSON {
        var parser = JSONParser(buffer: buffer, maxDepth: maxDepth, invalidUTF8: invalidUTF8)
        return try parser.parseDocument()
    }
}

/// A byte-level recursive-descent parser; see `JSON.parse`.
///
/// - Note: `@usableFromInline` so that its `@inlinable` members are inlined in the other
///   modules of the package (StatesLanguage's event-pattern walks extend it): the members
///   of a type that is only `package` are never inlined across modules, `@inlinable` or not.
@usableFromInline package struct JSONParser {
    @usableFromInline package let buffer: UnsafeBufferPointer<UInt8>
    package let maxDepth: Int
    package let replacesInvalidUTF8: Bool
    @usableFromInline package var position = 0
    package var depth = 0

    package init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSON.defaultMaxDepth, invalidUTF8: JSONInvalidUTF8Handling = .reject) {
        self.buffer = buffer
        self.maxDepth = maxDepth
        replacesInvalidUTF8 = invalidUTF8 == .replace
    }

    package mutating func parseDocument() throws(JSONParseError) -> JSON {
        skipWhitespace()
        if position >= buffer.count {
            throw error("No content to map due to end-of-input", at: position)
        }
        let value = try parseValue()
        skipWhitespace()
        if position < buffer.count {
            throw unexpectedCharacter(at: position, expecting: "expected end-of-input")
        }
        return value
    }

    // MARK: Values

    package mutating func parseValue() throws(JSONParseError) -> JSON {
        guard position < buffer.count else {
            throw error("Unexpected end-of-input: expected a value", at: position)
        }
        let c = buffer[position]
        switch c {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"):
            try expectKeyword("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectKeyword("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectKeyword("null")
            return .null
        case UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ":"):
            throw unexpectedCharacter(at: position, expecting: "expected a value")
        default:
            throw unrecognizedToken(from: position)
        }
    }

    package mutating func parseObject() throws(JSONParseError) -> JSON {
        let start = position
        try enter(at: start)
        position += 1
        var object = JSONObject()
        skipWhitespace()
        if position < buffer.count, buffer[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
            guard buffer[position] == UInt8(ascii: "\"") else {
                throw unexpectedCharacter(at: position, expecting: "was expecting double-quote to start field name")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
            guard buffer[position] == UInt8(ascii: ":") else {
                throw unexpectedCharacter(at: position, expecting: "was expecting a colon to separate field name and value")
            }
            position += 1
            skipWhitespace()
            guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
            let value = try parseValue()
            // AWS behaviour: a repeated key keeps its first position and its last value (Jackson).
            object[key] = value
            skipWhitespace()
            guard position < buffer.count else { throw endOfInput(closing: "Object", start: start) }
            let c = buffer[position]
            if c == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if c == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return .object(object)
            }
            throw unexpectedCharacter(at: position, expecting: "was expecting comma to separate Object entries")
        }
    }

    package mutating func parseArray() throws(JSONParseError) -> JSON {
        let start = position
        try enter(at: start)
        position += 1
        var array: [JSON] = []
        skipWhitespace()
        if position < buffer.count, buffer[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            guard position < buffer.count else { throw endOfInput(closing: "Array", start: start) }
            array.append(try parseValue())
            skipWhitespace()
            guard position < buffer.count else { throw endOfInput(closing: "Array", start: start) }
            let c = buffer[position]
            if c == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if c == UInt8(ascii: "]") {
                position += 1
                depth -= 1
                return .array(array)
            }
            throw unexpectedCharacter(at: position, expecting: "was expecting comma to separate Array entries")
        }
    }

    package mutating func enter(at offset: Int) throws(JSONParseError) {
        depth += 1
        if depth > maxDepth {
            throw error("Document nesting depth (\(depth)) exceeds the maximum allowed (\(maxDepth))", at: offset)
        }
    }

    // MARK: Strings

    package mutating func parseString() throws(JSONParseError) -> String {
        let quote = position
        position += 1
        let start = position
        // Fast path: no escapes. `high` collects the bytes' top bits: an ASCII string (the
        // common case) needs no UTF-8 check.
        var high: UInt8 = 0
        while position < buffer.count {
            let c = buffer[position]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: buffer[start..<position])
                if high & 0x80 != 0, !replacesInvalidUTF8, let bad = UTF8Validation.firstInvalid(in: raw) {
                    throw invalidUTF8(bad, from: start)
                }
                let s = String(decoding: raw, as: UTF8.self)
                position += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw controlCharacter(c, at: position) }
            high |= c
            position += 1
        }
        guard position < buffer.count else {
            throw error("Unexpected end-of-input: was expecting closing quote for a string value", at: position, from: quote)
        }
        // Slow path: decode escapes into a byte buffer.
        var bytes = [UInt8]()
        bytes.reserveCapacity(position - start + 16)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<position]))
        while position < buffer.count {
            let c = buffer[position]
            if c == UInt8(ascii: "\"") {
                // Escapes decode to whole scalars, so the bytes that are not UTF-8 are raw ones.
                if high & 0x80 != 0, !replacesInvalidUTF8,
                    let bad = UTF8Validation.firstInvalid(in: UnsafeBufferPointer(rebasing: buffer[start..<position]))
                {
                    throw invalidUTF8(bad, from: start)
                }
                position += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 { throw controlCharacter(c, at: position) }
            if c != UInt8(ascii: "\\") {
                bytes.append(c)
                high |= c
                position += 1
                continue
            }
            position += 1
            guard position < buffer.count else { break }
            let e = buffer[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                let escape = position - 2
                var scalar = try parseHex4()
                if scalar >= 0xD800, scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"),
                        buffer[position + 1] == UInt8(ascii: "u")
                    {
                        position += 2
                        let low = try parseHex4()
                        if low >= 0xDC00, low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            try loneSurrogate(scalar, at: escape)
                            appendUTF8(0xFFFD, to: &bytes)
                            scalar = low
                            if low >= 0xD800, low < 0xE000 {
                                try loneSurrogate(low, at: position - 6)
                                scalar = 0xFFFD
                            }
                        }
                    } else {
                        try loneSurrogate(scalar, at: escape)
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00, scalar < 0xE000 {
                    try loneSurrogate(scalar, at: escape)
                    scalar = 0xFFFD
                }
                appendUTF8(scalar, to: &bytes)
            default:
                throw error(
                    "Unrecognized character escape \(Self.describe(e))", at: position - 1)
            }
        }
        throw error("Unexpected end-of-input: was expecting closing quote for a string value", at: position, from: quote)
    }

    /// An escaped surrogate with no partner: no Unicode string can hold it.
    package func loneSurrogate(_ scalar: UInt32, at offset: Int) throws(JSONParseError) {
        guard !replacesInvalidUTF8 else { return }
        let hex = String(scalar, radix: 16, uppercase: true)
        throw error("Invalid character escape \\u\(hex): a lone surrogate is not a Unicode character", at: offset)
    }

    /// The error for the first bytes of a string that are not UTF-8 (the string's content
    /// starts at `start`).
    ///
    /// Jackson's wording: a byte that cannot start a character is an invalid start byte, one
    /// that cannot continue the character begun before it an invalid middle byte (the closing
    /// quote, when the text ends inside a character).
    func invalidUTF8(_ bad: UTF8Validation.Failure, from start: Int) -> JSONParseError {
        let offset = start + bad.offset
        let hex = String(buffer[offset], radix: 16)
        return error("Invalid UTF-8 \(bad.isMiddleByte ? "middle" : "start") byte 0x\(hex)", at: offset)
    }

    package mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < buffer.count else {
                throw error("Unexpected end-of-input in character escape sequence", at: position)
            }
            let c = buffer[position]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default:
                throw error(
                    "Unexpected character (\(Self.describe(c))): expected a hex-digit for character escape sequence",
                    at: position)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    package func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
        let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
        var encoded = UTF8.encode(s)!.makeIterator()
        while let b = encoded.next() { bytes.append(b) }
    }

    // MARK: Numbers

    package mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = position
        let (isInteger, integer) = try scanNumber()
        if isInteger {
            if let integer { return .int(integer) }
            // AWS behaviour: Jackson reads an integer beyond 64 bits as a BigInteger and writes
            // it back digit for digit.
            return .decimal(JSONDecimal(uncheckedLiteral: literal(from: start)))
        }
        let literal = UnsafeBufferPointer(rebasing: buffer[start..<position])
        let d = Self.strtod(literal)
        // A literal of up to 15 significant digits (DBL_DIG) that reads as a normal double
        // is that double's shortest decimal; anything else is checked digit by digit.
        if d.isNormal, Self.significantDigits(literal) <= 15 { return .double(d) }
        if d == 0, Self.significantDigits(literal) == 0 { return .double(d) }
        if d.isFinite, let exact = DecimalNumber(utf8: literal), DecimalNumber(d) == exact { return .double(d) }
        return .decimal(JSONDecimal(uncheckedLiteral: String(decoding: literal, as: UTF8.self)))
    }

    /// Validates the number literal at `position` and moves past it.
    ///
    /// - Returns: whether it is an integer literal (no fraction, no exponent), and its value
    ///   when it fits in an `Int64`.
    package mutating func scanNumber() throws(JSONParseError) -> (isInteger: Bool, integer: Int64?) {
        let start = position
        var negative = false
        if buffer[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let intStart = position
        guard position < buffer.count, isDigit(buffer[position]) else {
            if position < buffer.count {
                throw error(
                    "Unexpected character (\(Self.describe(buffer[position]))) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value",
                    at: position)
            }
            throw error("Unexpected end-of-input in a Number value", at: position)
        }
        if buffer[position] == UInt8(ascii: "0"), position + 1 < buffer.count, isDigit(buffer[position + 1]) {
            throw error("Invalid numeric value: Leading zeroes not allowed", at: position + 1)
        }
        var magnitude: UInt64 = 0
        var overflow = false
        while position < buffer.count, isDigit(buffer[position]) {
            let d = UInt64(buffer[position] - UInt8(ascii: "0"))
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(d)
            if o1 || o2 { overflow = true }
            magnitude = m2
            position += 1
        }
        var isInteger = true
        if position < buffer.count, buffer[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < buffer.count, isDigit(buffer[position]) else {
                throw error("Unexpected character in numeric value: Decimal point not followed by a digit", at: position)
            }
            while position < buffer.count, isDigit(buffer[position]) { position += 1 }
        }
        if position < buffer.count, buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < buffer.count, buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < buffer.count, isDigit(buffer[position]) else {
                throw error("Unexpected character in numeric value: Exponent indicator not followed by a digit", at: position)
            }
            while position < buffer.count, isDigit(buffer[position]) { position += 1 }
        }
        if position - start > JSON.maxNumberLength {
            throw error(
                "Number value length (\(position - start)) exceeds the maximum allowed (\(JSON.maxNumberLength))", at: start)
        }
        guard isInteger, !overflow, position - intStart <= 19 else { return (isInteger, nil) }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return (true, nil) }
            return (true, magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        return (true, magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil)
    }

    package func literal(from start: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self)
    }

    /// The significant digits of a number literal: those of the mantissa without leading
    /// and trailing zeros.
    package static func significantDigits(_ literal: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        var lastNonZero = 0
        for c in literal {
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { continue }
            if count > 0 || c != UInt8(ascii: "0") { count += 1 }
            if c != UInt8(ascii: "0") { lastNonZero = count }
        }
        return lastNonZero
    }

    package static func strtod(_ bytes: UnsafeBufferPointer<UInt8>) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { tmp in
            for i in 0..<bytes.count { tmp[i] = CChar(bitPattern: bytes[i]) }
            tmp[bytes.count] = 0
            return Glibc.strtod(tmp.baseAddress!, nil)
        }
    }

    @inline(__always) package func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    // MARK: Keywords and whitespace

    package mutating func expectKeyword(_ word: StaticString) throws(JSONParseError) {
        let start = position
        let n = word.utf8CodeUnitCount
        var ok = position + n <= buffer.count
        if ok {
            for i in 0..<n where buffer[position + i] != word.utf8Start[i] {
                ok = false
                break
            }
        }
        if ok, position + n < buffer.count, isTokenChar(buffer[position + n]) { ok = false }
        guard ok else { throw unrecognizedToken(from: start) }
        position += n
    }

    // @inlinable: the event-pattern walks call it between every two tokens.
    @inlinable @inline(__always) package mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    package func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case 0x20, 0x0A, 0x0D, 0x09, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
            UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "\""):
            return false
        default:
            return true
        }
    }

    // MARK: Errors

    /// Line and column of `offset`, 1-based; Jackson points just past the offending character.
    package func location(_ offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        var i = 0
        let end = min(offset, buffer.count)
        while i < end {
            if buffer[i] == 0x0A {
                line += 1
                lineStart = i + 1
            }
            i += 1
        }
        return (line, offset - lineStart + 1)
    }

    package func error(_ message: String, at offset: Int, from _: Int? = nil) -> JSONParseError {
        let (line, column) = location(offset)
        return JSONParseError(message: message, offset: offset, line: line, column: column)
    }

    package func unexpectedCharacter(at offset: Int, expecting: String) -> JSONParseError {
        let c = buffer[offset]
        var e = error("Unexpected character (\(Self.describe(c))): \(expecting)", at: offset)
        e.column += 1
        return e
    }

    package func unrecognizedToken(from start: Int) -> JSONParseError {
        var end = start
        while end < buffer.count, isTokenChar(buffer[end]), end - start < 256 { end += 1 }
        if end == start { end = start + 1 }
        let token = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<min(end, buffer.count)]), as: UTF8.self)
        return error(
            "Unrecognized token '\(token)': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
            at: end)
    }

    package func endOfInput(closing kind: String, start: Int) -> JSONParseError {
        let (line, column) = location(start)
        return error(
            "Unexpected end-of-input: expected close marker for \(kind) (start marker at [Source: (String); line: \(line), column: \(column)])",
            at: buffer.count)
    }

    package func controlCharacter(_ c: UInt8, at offset: Int) -> JSONParseError {
        var e = error(
            "Illegal unquoted character ((CTRL-CHAR, code \(c))): has to be escaped using backslash to be included in string value",
            at: offset)
        e.column += 1
        return e
    }

    package static func describe(_ c: UInt8) -> String {
        if c >= 0x20, c < 0x7F { return "'\(Character(Unicode.Scalar(c)))' (code \(c))" }
        if c < 0x20 { return "(CTRL-CHAR, code \(c))" }
        return "(code \(c))"
    }
}
