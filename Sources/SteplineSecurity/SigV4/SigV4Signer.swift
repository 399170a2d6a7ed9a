import Crypto
import StatesCore

/// Signs requests with Signature Version 4: the daemon's calls to AWS services, and the
/// tests of the verifier.
public struct SigV4Signer: Sendable {
    public var accessKeyID: String
    public var secret: String
    public var sessionToken: String?
    public var region: String
    public var service: String

    public init(accessKeyID: String, secret: String, sessionToken: String? = nil, region: String, service: String) {
        self.accessKeyID = accessKeyID
        self.secret = secret
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// The headers to add to a request (`X-Amz-Date`, `Authorization`, and
    /// `X-Amz-Security-Token` for session credentials). `headers` must hold `host`; every
    /// header given is signed.
    public func sign(method: String, rawPath: String, rawQuery: String = "", headers: [(name: String, value: String)], body: [UInt8],
                     now: Int64) -> [(name: String, value: String)]
    {
        let timestamp = SigV4Verifier.format(now)
        var all = headers + [(name: "x-amz-date", value: timestamp)]
        if let sessionToken { all.append((name: "x-amz-security-token", value: sessionToken)) }
        let (signedHeaders, canonicalHeaders) = Self.canonicalHeaders(all)
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/\(SigV4.terminator)"
        let canonical = SigV4.canonicalRequest(
            method: method, canonicalURI: SigV4.canonicalURI(rawPath: rawPath), canonicalQuery: SigV4.canonicalQuery(rawQuery: rawQuery) ?? "",
            headers: canonicalHeaders, signedHeaders: signedHeaders, payloadHash: SigV4.hexSHA256(body))
        let key = SigV4.signingKey(secret: secret, date: String(timestamp.prefix(8)), region: region, service: service)
        let signature = SigV4.signature(key: key, stringToSign: SigV4.stringToSign(timestamp: timestamp, scope: scope, canonicalRequest: canonical))
        var added = [(name: "X-Amz-Date", value: timestamp)]
        if let sessionToken { added.append((name: "X-Amz-Security-Token", value: sessionToken)) }
        added.append((name: "Authorization",
                      value: "\(SigV4.algorithm) Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    /// The query string of a presigned request (`rawQuery` with the `X-Amz-*` parameters).
    public func presign(method: String, rawPath: String, rawQuery: String = "", host: String, expires: Int64, now: Int64) -> String {
        let timestamp = SigV4Verifier.format(now)
        let scope = "\(timestamp.prefix(8))/\(region)/\(service)/\(SigV4.terminator)"
        var params = [("X-Amz-Algorithm", SigV4.algorithm), ("X-Amz-Credential", "\(accessKeyID)/\(scope)"), ("X-Amz-Date", timestamp),
                      ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host")]
        if let sessionToken { params.append(("X-Amz-Security-Token", sessionToken)) }
        let query = ([rawQuery].filter { !$0.isEmpty } + params.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }).joined(separator: "&")
        let canonical = SigV4.canonicalRequest(
            method: method, canonicalURI: SigV4.canonicalURI(rawPath: rawPath), canonicalQuery: SigV4.canonicalQuery(rawQuery: query) ?? "",
            headers: [(name: "host", value: host)], signedHeaders: "host", payloadHash: SigV4.unsignedPayload)
        let key = SigV4.signingKey(secret: secret, date: String(timestamp.prefix(8)), region: region, service: service)
        let signature = SigV4.signature(key: key, stringToSign: SigV4.stringToSign(timestamp: timestamp, scope: scope, canonicalRequest: canonical))
        return query + "&X-Amz-Signature=" + signature
    }

    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, [(name: String, value: String)]) {
        var grouped: [String: [String]] = [:]
        for h in headers { grouped[h.name.lowercased(), default: []].append(h.value) }
        let names = grouped.keys.sorted()
        return (names.joined(separator: ";"), names.map { (name: $0, value: SigV4.canonicalHeaderValue(grouped[$0]!)) })
    }
}
