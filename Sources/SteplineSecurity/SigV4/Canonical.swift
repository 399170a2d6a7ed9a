import Crypto
import Foundation
import StatesCore

/// The pieces of Signature Version 4 that the signer and the verifier share: AWS's
/// percent-encoding, the canonical request, the string to sign and the signing key
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let terminator = "aws4_request"

    /// SigV4's URI encoding: every byte but the unreserved characters (`A-Z a-z 0-9 - . _ ~`)
    /// as `%XY` in upper case; `/` kept when `keepSlash` (paths).
    public static func encode(_ text: some StringProtocol, keepSlash: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-decoding of a URL component (`+` stays `+`: SigV4 clients write a space as
    /// `%20`). Nil for a malformed escape.
    public static func decode(_ text: some StringProtocol) -> String? {
        var out = [UInt8]()
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = hexValue(bytes[bytes.startIndex]), let lo = hexValue(bytes[bytes.startIndex + 1])
                else { return nil }
                out.append(hi << 4 | lo)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The canonical URI of a path as sent (percent-encoded): dot segments removed, then
    /// encoded again, as every AWS SDK does for services other than S3.
    public static func canonicalURI(rawPath: String) -> String {
        if rawPath == "/" { return rawPath }
        var segments: [Substring] = []
        let parts = rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (i, part) in parts.enumerated() {
            switch part {
            case ".": if i == parts.count - 1 { segments.append("") }
            case "..":
                _ = segments.popLast()
                if i == parts.count - 1 { segments.append("") }
            default: segments.append(part)
            }
        }
        return encode("/" + segments.joined(separator: "/"), keepSlash: true)
    }

    /// The canonical query string: every parameter decoded and encoded again, sorted by
    /// name then value, `name=value` joined by `&`. Parameters named in `excluding` are left
    /// out (`X-Amz-Signature` of a presigned request).
    public static func canonicalQuery(rawQuery: String, excluding: Set<String> = []) -> String? {
        guard !rawQuery.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = item.firstIndex(of: "=")
            let rawName = eq.map { item[..<$0] } ?? item
            let rawValue = eq.map { item[item.index(after: $0)...] } ?? ""
            guard let name = decode(rawName), let value = decode(rawValue) else { return nil }
            if excluding.contains(name) { continue }
            pairs.append((encode(name), encode(value)))
        }
        pairs.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// A header's value as signed: surrounding spaces trimmed, runs of spaces made one.
    public static func canonicalHeaderValue(_ values: [String]) -> String {
        // Most values have nothing to trim: they are used as they are.
        if values.count == 1, isCanonicalValue(values[0]) { return values[0] }
        if values.allSatisfy(isCanonicalValue) { return values.joined(separator: ",") }
        return values.map { v in v.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }.joined(separator: ",")
    }

    /// `name` (in any case) is `lowercased` (already lower case), compared on ASCII bytes.
    public static func equalIgnoringASCIICase(_ name: String, lowercased: String) -> Bool {
        guard name.utf8.count == lowercased.utf8.count else { return false }
        return zip(name.utf8, lowercased.utf8).allSatisfy { a, b in (a >= 65 && a <= 90 ? a + 32 : a) == b }
    }

    /// `name` (in any case) is the lower-case bytes `lowercased`.
    static func equalIgnoringASCIICase(_ name: String, lowercasedBytes: Substring.UTF8View) -> Bool {
        guard name.utf8.count == lowercasedBytes.count else { return false }
        return zip(name.utf8, lowercasedBytes).allSatisfy { a, b in (a >= 65 && a <= 90 ? a + 32 : a) == b }
    }

    /// A value that canonical form leaves as it is (no spaces to trim or merge).
    static func isCanonicalValue(_ value: String) -> Bool {
        var previousSpace = true
        for b in value.utf8 {
            let space = b == UInt8(ascii: " ") || b == UInt8(ascii: "\t")
            if space && (previousSpace || b == UInt8(ascii: "\t")) { return false }
            previousSpace = space
        }
        return !previousSpace || value.isEmpty
    }

    /// ASCII lower case (header names, hex digits), without Unicode's tables.
    public static func asciiLowercased(_ text: Substring) -> String {
        guard text.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) else { return String(text) }
        return String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`, appended.
    public static func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0xF)])
        }
    }

    public static func canonicalRequest(method: String, canonicalURI: String, canonicalQuery: String,
                                        headers: [(name: String, value: String)], signedHeaders: String, payloadHash: String) -> String
    {
        var text = method + "\n" + canonicalURI + "\n" + canonicalQuery + "\n"
        for h in headers { text += h.name + ":" + h.value + "\n" }
        text += "\n" + signedHeaders + "\n" + payloadHash
        return text
    }

    public static func stringToSign(timestamp: String, scope: String, canonicalRequest: String) -> String {
        algorithm + "\n" + timestamp + "\n" + scope + "\n" + hexSHA256(Array(canonicalRequest.utf8))
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    public static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [date, region, service, terminator] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    public static func signature(key: SymmetricKey, stringToSign: String) -> String {
        Digest.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)))
    }

    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        appendHex(bytes.withUnsafeBytes { Array(SHA256.hash(data: $0)) }, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares two signatures in time independent of where they differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
