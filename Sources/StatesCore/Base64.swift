/// Base64 (RFC 4648, standard alphabet) as `States.Base64Encode` and `States.Base64Decode` use it.
///
/// AWS behaviour: decoding follows Java's `Base64.getDecoder()`: padding is optional, but
/// when present it must be complete; characters outside the alphabet (whitespace included)
/// and anything after the padding are errors; a final unit of a single character is an error.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// The padded encoding of `bytes`.
    public static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The encoding of a string's UTF-8 bytes.
    public static func encode(_ string: String) -> String { encode(Array(string.utf8)) }

    /// The decoded bytes, or nil when `text` is not valid Base64 by Java's basic decoder.
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(input.count / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var count = 0  // sextets in the current unit
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == UInt8(ascii: "=") {
                // Padding ends the data: "xx==" or "xxx=" exactly, then nothing.
                switch count {
                case 2:
                    guard i + 1 < input.count, input[i + 1] == UInt8(ascii: "="), i + 2 == input.count else { return nil }
                    out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
                case 3:
                    guard i + 1 == input.count else { return nil }
                    out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
                    out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
                default:
                    return nil
                }
                return out
            }
            let v = decodeTable[Int(c)]
            guard v >= 0 else { return nil }
            accumulator = accumulator << 6 | UInt32(v)
            count += 1
            if count == 4 {
                out.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                out.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                count = 0
            }
            i += 1
        }
        switch count {
        case 0: break
        case 2: out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default: return nil
        }
        return out
    }
}

extension Base64 {
    private static let lenientAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Decoding as JSONata's `$base64decode` does it: characters outside the alphabet
    /// (padding included) are skipped rather than rejected.
    package static func decodeLenient(_ s: String) -> [UInt8] {
        var table = [Int](repeating: -1, count: 256)
        for (i, c) in lenientAlphabet.enumerated() { table[Int(c)] = i }
        var out = [UInt8]()
        var acc: UInt32 = 0
        var bits = 0
        for c in s.utf8 {
            let v = table[Int(c)]
            if v < 0 { continue }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
