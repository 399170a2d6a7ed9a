import Crypto
import Foundation
import StatesCore
import Synchronization

/// An access key that may sign requests, and who it is.
public struct AccessKey: Sendable, CustomStringConvertible {
    public var id: String
    public var secret: String
    /// The IAM principal the key belongs to (`arn:aws:iam::ACCOUNT:user/NAME`, or a role's).
    public var principal: String
    /// Set for session credentials: the requests must carry it as `X-Amz-Security-Token`.
    public var sessionToken: String?

    public init(id: String, secret: String, principal: String, sessionToken: String? = nil) {
        self.id = id
        self.secret = secret
        self.principal = principal
        self.sessionToken = sessionToken
    }

    /// Never the secret: keys end up in logs through string interpolation.
    public var description: String { "AccessKey(\(id), \(principal))" }
}

/// A request as received, for verification: the raw (still percent-encoded) path and query.
public struct SignedRequest: Sendable {
    public var method: String
    public var rawPath: String
    public var rawQuery: String
    /// Header names in any case; a name may repeat.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
    }

    // A request has a dozen headers: a scan compares fewer bytes than an index would hash.

    /// Every value of a header, by its lower-cased name.
    public func values(_ name: String) -> [String] {
        headers.compactMap { SigV4.equalIgnoringASCIICase($0.name, lowercased: name) ? $0.value : nil }
    }

    public func header(_ name: String) -> String? {
        for h in headers where SigV4.equalIgnoringASCIICase(h.name, lowercased: name) { return h.value }
        return nil
    }
}

/// Why a request is not authenticated, with AWS's error name and message.
public struct AuthenticationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case missingAuthenticationToken = "MissingAuthenticationTokenException"
        case incompleteSignature = "IncompleteSignatureException"
        case invalidSignature = "InvalidSignatureException"
        case unrecognizedClient = "UnrecognizedClientException"
    }

    public var code: Code
    public var message: String
    /// AWS answers each of these with 400 on its JSON services.
    public var status: Int { 400 }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static let mismatch = AuthenticationError(
        .invalidSignature,
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
    static let invalidToken = AuthenticationError(.unrecognizedClient, "The security token included in the request is invalid.")
}

/// Verifies Signature Version 4 as AWS does: the `Authorization` header form and the
/// query-string (presigned) form, the credential scope (date, region, service), a clock
/// skew of at most five minutes, and session tokens.
public final class SigV4Verifier: Sendable {
    /// How far a request's time may be from ours.
    public static let maxSkewSeconds: Int64 = 300
    /// The longest life of a presigned request (seven days, as AWS).
    public static let maxExpiresSeconds: Int64 = 604_800

    private let keys: [String: AccessKey]
    public let region: String
    /// The service names a scope may carry (`states`; `events` for TestEventPattern).
    public let services: Set<String>
    /// Signing keys by (key, date, region, service): four HMACs saved per request.
    /// (An HMAC already keyed: copying it skips the key's two blocks; its digests are
    /// copied on write.)
    private let signingKeys = Mutex<[SigningKeyID: HMAC<SHA256>]>([:])

    private struct SigningKeyID: Hashable {
        var key: String
        var date: String
        var region: String
        var service: String
    }

    public init(keys: [AccessKey], region: String, services: Set<String>) {
        self.keys = Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.region = region
        self.services = services
    }

    /// The key that signed the request, once its signature is checked.
    ///
    /// - Parameter now: seconds since the epoch.
    public func verify(_ request: SignedRequest, now: Int64) throws(AuthenticationError) -> AccessKey {
        if let authorization = request.header("authorization") {
            return try verifyHeader(request, authorization: authorization, now: now)
        }
        if request.rawQuery.contains("X-Amz-Algorithm=") || request.rawQuery.contains("X-Amz-Signature=") {
            return try verifyQuery(request, now: now)
        }
        throw AuthenticationError(.missingAuthenticationToken, "Missing Authentication Token")
    }

    // MARK: - The Authorization header

    private func verifyHeader(_ request: SignedRequest, authorization: String, now: Int64) throws(AuthenticationError) -> AccessKey {
        let trimmed = Substring(authorization.utf8.drop(while: { $0 == UInt8(ascii: " ") }))
        guard let space = trimmed.utf8.firstIndex(of: UInt8(ascii: " ")) else {
            throw AuthenticationError(.incompleteSignature, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.")
        }
        let algorithm = trimmed[..<space]
        guard algorithm == SigV4.algorithm else {
            throw AuthenticationError(.incompleteSignature, "Unsupported AWS 'algorithm': '\(algorithm.prefix(64))'")
        }
        // `Credential=..., SignedHeaders=..., Signature=...`, spaces around the commas
        // allowed; read on the bytes (this runs for every request).
        var credential: String?, signedHeaders: String?, signature: String?
        var rest = trimmed.utf8[space...]
        while !rest.isEmpty {
            let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            var item = rest[..<comma]
            rest = comma == rest.endIndex ? rest[comma...] : rest[rest.index(after: comma)...]
            while let b = item.first, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { item = item.dropFirst() }
            while let b = item.last, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { item = item.dropLast() }
            guard let eq = item.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = item[..<eq], value = String(Substring(item[item.index(after: eq)...]))
            if name.elementsEqual("Credential".utf8) {
                credential = value
            } else if name.elementsEqual("SignedHeaders".utf8) {
                signedHeaders = value
            } else if name.elementsEqual("Signature".utf8) {
                signature = value
            }
        }
        var missing: [String] = []
        if credential == nil { missing.append("Authorization header requires 'Credential' parameter.") }
        if signature == nil { missing.append("Authorization header requires 'Signature' parameter.") }
        if signedHeaders == nil { missing.append("Authorization header requires 'SignedHeaders' parameter.") }
        if !missing.isEmpty { throw AuthenticationError(.incompleteSignature, missing.joined(separator: " ")) }
        guard let timestamp = request.header("x-amz-date") else {
            throw AuthenticationError(.incompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        }
        let scope = try parseCredential(credential!)
        let key = try lookUp(scope.keyID, token: request.header("x-amz-security-token"))
        _ = try checkTime(timestamp, scope: scope, now: now, expires: nil)
        let payloadHash = try payloadHash(request, presigned: false)
        try check(request, key: key, scope: scope, timestamp: timestamp, signedHeaders: signedHeaders!,
                  canonicalQuery: SigV4.canonicalQuery(rawQuery: request.rawQuery), payloadHash: payloadHash,
                  signature: signature!)
        return key
    }

    // MARK: - The query string (presigned requests)

    private func verifyQuery(_ request: SignedRequest, now: Int64) throws(AuthenticationError) -> AccessKey {
        var params: [String: String] = [:]
        for item in request.rawQuery.split(separator: "&") {
            let eq = item.firstIndex(of: "=")
            guard let name = SigV4.decode(eq.map { item[..<$0] } ?? item),
                let value = SigV4.decode(eq.map { item[item.index(after: $0)...] } ?? "")
            else { throw AuthenticationError(.incompleteSignature, "The query string is not well formed.") }
            params[name] = value
        }
        var missing: [String] = []
        for name in ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"] where params[name] == nil {
            missing.append("AWS query-string parameters must include '\(name)'.")
        }
        if !missing.isEmpty { throw AuthenticationError(.incompleteSignature, missing.joined(separator: " ") + " Re-examine the query-string parameters.") }
        guard params["X-Amz-Algorithm"] == SigV4.algorithm else {
            throw AuthenticationError(.incompleteSignature, "Unsupported AWS 'algorithm': '\(params["X-Amz-Algorithm"]!.prefix(64))'")
        }
        var expires: Int64?
        if let text = params["X-Amz-Expires"] {
            guard let seconds = Int64(text), seconds >= 0, seconds <= Self.maxExpiresSeconds else {
                throw AuthenticationError(.incompleteSignature, "X-Amz-Expires must be a number of seconds from 0 to \(Self.maxExpiresSeconds).")
            }
            expires = seconds
        }
        let scope = try parseCredential(params["X-Amz-Credential"]!)
        let key = try lookUp(scope.keyID, token: params["X-Amz-Security-Token"] ?? request.header("x-amz-security-token"))
        let timestamp = params["X-Amz-Date"]!
        _ = try checkTime(timestamp, scope: scope, now: now, expires: expires)
        // botocore signs the body's hash; S3-style presigners sign UNSIGNED-PAYLOAD, which
        // is taken only when there is no body to leave unsigned.
        let payloadHash = try payloadHash(request, presigned: false)
        let canonicalQuery = SigV4.canonicalQuery(rawQuery: request.rawQuery, excluding: ["X-Amz-Signature"])
        do {
            try check(request, key: key, scope: scope, timestamp: timestamp, signedHeaders: params["X-Amz-SignedHeaders"]!,
                      canonicalQuery: canonicalQuery, payloadHash: payloadHash, signature: params["X-Amz-Signature"]!)
        } catch let e where e == AuthenticationError.mismatch && request.body.isEmpty && request.header("x-amz-content-sha256") == nil {
            try check(request, key: key, scope: scope, timestamp: timestamp, signedHeaders: params["X-Amz-SignedHeaders"]!,
                      canonicalQuery: canonicalQuery, payloadHash: SigV4.unsignedPayload, signature: params["X-Amz-Signature"]!)
        }
        return key
    }

    // MARK: - Shared steps

    struct Scope {
        var keyID: String
        var date: String
        var region: String
        var service: String
    }

    private func parseCredential(_ credential: String) throws(AuthenticationError) -> Scope {
        let parts = credential.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { String(Substring($0)) }
        guard parts.count == 5, !parts[0].isEmpty else {
            throw AuthenticationError(.incompleteSignature, "Credential should have 5 parts: ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, separated by '/'.")
        }
        guard parts[1].utf8.count == 8, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw AuthenticationError(.invalidSignature, "Credential should be scoped to a valid date, not '\(parts[1].prefix(16))'.")
        }
        guard parts[4] == SigV4.terminator else {
            throw AuthenticationError(.invalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '\(parts[4].prefix(32))'.")
        }
        guard parts[2] == region else {
            throw AuthenticationError(.invalidSignature, "Credential should be scoped to a valid region, not '\(parts[2].prefix(32))'. ")
        }
        guard services.contains(parts[3]) else {
            throw AuthenticationError(.invalidSignature, "Credential should be scoped to correct service: '\(services.sorted().joined(separator: "' or '"))'. ")
        }
        return Scope(keyID: parts[0], date: parts[1], region: parts[2], service: parts[3])
    }

    private func lookUp(_ id: String, token: String?) throws(AuthenticationError) -> AccessKey {
        guard let key = keys[id] else { throw AuthenticationError.invalidToken }
        switch (key.sessionToken, token) {
        case (nil, nil): return key
        case (let expected?, let given?) where SigV4.constantTimeEqual(expected, given): return key
        default: throw AuthenticationError.invalidToken
        }
    }

    /// Checks the request's time against the scope's date and our clock.
    private func checkTime(_ timestamp: String, scope: Scope, now: Int64, expires: Int64?) throws(AuthenticationError) -> Int64 {
        guard let time = Self.parseTimestamp(timestamp) else {
            throw AuthenticationError(.incompleteSignature, "Date must be in ISO-8601 'basic format'. Got '\(timestamp.prefix(32))'. See http://en.wikipedia.org/wiki/ISO_8601")
        }
        guard timestamp.prefix(8) == scope.date else {
            throw AuthenticationError(.invalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(scope.date)' != '\(timestamp.prefix(8))', from '\(timestamp)'.")
        }
        if time > now + Self.maxSkewSeconds {
            throw AuthenticationError(.invalidSignature, "Signature not yet current: \(timestamp) is still later than \(Self.format(now + Self.maxSkewSeconds)) (\(Self.format(now)) + 5 min.)")
        }
        if let expires {
            if time + expires < now {
                throw AuthenticationError(.invalidSignature, "Signature expired: \(Self.format(time + expires)) is now earlier than \(Self.format(now)) (\(timestamp) + \(expires) sec.)")
            }
        } else if time < now - Self.maxSkewSeconds {
            throw AuthenticationError(.invalidSignature, "Signature expired: \(timestamp) is now earlier than \(Self.format(now - Self.maxSkewSeconds)) (\(Self.format(now)) - 5 min.)")
        }
        return time
    }

    /// The payload's hash as signed: the declared `x-amz-content-sha256` (checked against
    /// the body unless it says UNSIGNED-PAYLOAD), else the body's.
    private func payloadHash(_ request: SignedRequest, presigned: Bool) throws(AuthenticationError) -> String {
        if let declared = request.header("x-amz-content-sha256") {
            if declared == SigV4.unsignedPayload { return declared }
            guard SigV4.asciiLowercased(Substring(declared)) == SigV4.hexSHA256(request.body) else {
                throw AuthenticationError(.invalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
            }
            return declared
        }
        return presigned ? SigV4.unsignedPayload : SigV4.hexSHA256(request.body)
    }

    private func check(_ request: SignedRequest, key: AccessKey, scope: Scope, timestamp: String, signedHeaders: String,
                       canonicalQuery: String?, payloadHash: String, signature: String) throws(AuthenticationError)
    {
        // The names as given: a client signs them lower-cased, and anything else (an upper-
        // case letter, an empty name) makes another canonical request, hence a mismatch.
        let names = signedHeaders.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        guard names.contains(where: { $0.elementsEqual("host".utf8) }) else {
            throw AuthenticationError(.invalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        }
        guard let canonicalQuery else { throw AuthenticationError(.incompleteSignature, "The query string is not well formed.") }
        // The canonical request and the string to sign as bytes, hashed without a String.
        var canonical = [UInt8]()
        canonical.reserveCapacity(512 + request.rawPath.utf8.count + canonicalQuery.utf8.count)
        canonical += request.method.utf8
        canonical.append(10)
        canonical += SigV4.canonicalURI(rawPath: request.rawPath).utf8
        canonical.append(10)
        canonical += canonicalQuery.utf8
        canonical.append(10)
        for name in names {
            canonical += name
            canonical.append(UInt8(ascii: ":"))
            // One value with nothing to trim (nearly always): written as it is.
            var single: String?
            var values: [String] = []
            for h in request.headers where SigV4.equalIgnoringASCIICase(h.name, lowercasedBytes: name) {
                if single == nil && values.isEmpty {
                    single = h.value
                } else {
                    if let first = single { values.append(first) }
                    single = nil
                    values.append(h.value)
                }
            }
            if let single, SigV4.isCanonicalValue(single) {
                canonical += single.utf8
            } else {
                canonical += SigV4.canonicalHeaderValue(single.map { [$0] } ?? values).utf8
            }
            canonical.append(10)
        }
        canonical.append(10)
        canonical += signedHeaders.utf8
        canonical.append(10)
        canonical += payloadHash.utf8
        var toSign = [UInt8]()
        toSign.reserveCapacity(160)
        toSign += SigV4.algorithm.utf8
        toSign.append(10)
        toSign += timestamp.utf8
        toSign.append(10)
        toSign += scope.date.utf8
        toSign.append(UInt8(ascii: "/"))
        toSign += scope.region.utf8
        toSign.append(UInt8(ascii: "/"))
        toSign += scope.service.utf8
        toSign.append(UInt8(ascii: "/"))
        toSign += SigV4.terminator.utf8
        toSign.append(10)
        SigV4.appendHex(canonical.withUnsafeBytes { Array(SHA256.hash(data: $0)) }, to: &toSign)
        var hmac = signer(key, scope: scope)
        toSign.withUnsafeBytes { hmac.update(data: $0) }
        let mac = hmac.finalize()
        // The MAC's hex against the signature's bytes, in constant time, without copies.
        let hex: StaticString = "0123456789abcdef"
        var diff: UInt8 = 0
        var given = signature
        let sameLength = given.withUTF8 { sig -> Bool in
            guard sig.count == 64 else { return false }
            var i = 0
            for byte in mac {
                diff |= sig[i] ^ hex.utf8Start[Int(byte >> 4)]
                diff |= sig[i + 1] ^ hex.utf8Start[Int(byte & 0xF)]
                i += 2
            }
            return true
        }
        guard sameLength, diff == 0 else { throw AuthenticationError.mismatch }
    }

    private func signer(_ key: AccessKey, scope: Scope) -> HMAC<SHA256> {
        let cacheKey = SigningKeyID(key: key.id, date: scope.date, region: scope.region, service: scope.service)
        if let cached = signingKeys.withLock({ $0[cacheKey] }) { return cached }
        let derived = HMAC<SHA256>(key: SigV4.signingKey(secret: key.secret, date: scope.date, region: scope.region, service: scope.service))
        signingKeys.withLock { cache in
            // Dates roll over: a day's keys are not needed two days later.
            if cache.count > 4096 { cache.removeAll() }
            cache[cacheKey] = derived
        }
        return derived
    }

    // MARK: - Time

    /// `YYYYMMDD'T'HHMMSS'Z'` to seconds since the epoch.
    public static func parseTimestamp(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseTimestamp(bytes: $0) }
    }

    static func parseTimestamp(bytes b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ r: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in r {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard let y = number(0..<4), let mo = number(4..<6), let d = number(6..<8), let h = number(9..<11), let mi = number(11..<13),
            let s = number(13..<15), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        return Timestamp.daysFromCivil(year: y, month: mo, day: d) * 86_400 + h * 3600 + mi * 60 + s
    }

    public static func format(_ seconds: Int64) -> String {
        let (y, m, d) = Timestamp.civilFromDays(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let r = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)\(two(m))\(two(d))T\(two(r / 3600))\(two(r / 60 % 60))\(two(r % 60))Z"
    }
}

extension SigV4Verifier {
    /// `YYYY-MM-DDTHH:MM:SSZ` (aws:CurrentTime).
    public static func iso8601(_ seconds: Int64) -> String {
        let basic = format(seconds)
        let b = Array(basic)
        return "\(String(b[0..<4]))-\(String(b[4..<6]))-\(String(b[6..<8]))T\(String(b[9..<11])):\(String(b[11..<13])):\(String(b[13..<15]))Z"
    }
}
