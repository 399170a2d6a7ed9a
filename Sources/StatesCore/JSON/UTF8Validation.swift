/// Checks that bytes are UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800 to
/// U+DFFF), nothing beyond U+10FFFF.
package enum UTF8Validation {
    /// Where bytes stop being UTF-8.
    package struct Failure: Equatable {
        /// The offending byte; `count` of the bytes when they end inside a character.
        package var offset: Int
        /// Whether the byte was expected to continue a character (rather than start one).
        package var isMiddleByte: Bool
    }

    /// The first place where `bytes` are not UTF-8, or `nil` when they all are.
    package static func firstInvalid(in bytes: UnsafeBufferPointer<UInt8>) -> Failure? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 {
                i += 1
                continue
            }
            // The length of the sequence and the range of its second byte (which excludes
            // overlong forms, surrogates and code points past U+10FFFF).
            let length: Int
            var secondLow: UInt8 = 0x80
            var secondHigh: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; secondLow = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; secondHigh = 0x9F
            case 0xF0: length = 4; secondLow = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; secondHigh = 0x8F
            default: return Failure(offset: i, isMiddleByte: false)
            }
            for k in 1..<length {
                guard i + k < n else { return Failure(offset: n, isMiddleByte: true) }
                let c = bytes[i + k]
                let (low, high) = k == 1 ? (secondLow, secondHigh) : (UInt8(0x80), UInt8(0xBF))
                guard c >= low, c <= high else { return Failure(offset: i + k, isMiddleByte: true) }
            }
            i += length
        }
        return nil
    }
}

/// Bytes that were to be text but are not UTF-8.
public struct InvalidUTF8Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The first byte that is not UTF-8; the length of the bytes when they end inside a character.
    public var offset: Int
    public var description: String { "not UTF-8 from byte \(offset)" }
}

extension String {
    /// Decodes UTF-8 without repairing it.
    ///
    /// - Throws: `InvalidUTF8Error` naming the first byte that is not UTF-8, where
    ///   `String(decoding:as:)` would put U+FFFD.
    public init(strictlyDecodingUTF8 bytes: [UInt8]) throws(InvalidUTF8Error) {
        let failure = bytes.withUnsafeBufferPointer { UTF8Validation.firstInvalid(in: $0) }
        if let failure { throw InvalidUTF8Error(offset: failure.offset) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
