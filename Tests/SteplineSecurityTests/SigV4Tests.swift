import Crypto
import Foundation
import StatesCore
import Testing

@testable import SteplineSecurity

/// Signature Version 4 verification: AWS's published examples, then every way a request
/// can be refused, with AWS's error names.
@Suite struct SigV4Tests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    /// 2015-08-30T12:36:00Z, the time of AWS's examples.
    static let exampleTime = SigV4Verifier.parseTimestamp("20150830T123600Z")!

    @Test func theSigningKeyOfAWSsExample() {
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (IAM, us-east-1).
        let key = SigV4.signingKey(secret: Self.secret, date: "20150830", region: "us-east-1", service: "iam")
        #expect(key.withUnsafeBytes { Digest.hex(Array($0)) } == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    }

    @Test func theGetVanillaExampleVerifies() throws {
        // The aws-sig-v4-test-suite's get-vanilla case.
        let verifier = SigV4Verifier(keys: [AccessKey(id: "AKIDEXAMPLE", secret: Self.secret, principal: "arn:aws:iam::123456789012:user/example")],
                                     region: "us-east-1", services: ["service"])
        let request = SignedRequest(method: "GET", rawPath: "/", rawQuery: "", headers: [
            ("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ], body: [])
        let key = try verifier.verify(request, now: Self.exampleTime)
        #expect(key.principal == "arn:aws:iam::123456789012:user/example")
    }

    @Test func canonicalPartsFollowTheSpecification() {
        #expect(SigV4.encode("a b/c~d*e") == "a%20b%2Fc~d%2Ae")
        #expect(SigV4.canonicalURI(rawPath: "/triggers/my%20rule") == "/triggers/my%2520rule")
        #expect(SigV4.canonicalURI(rawPath: "/a/./b/../c/") == "/a/c/")
        #expect(SigV4.canonicalURI(rawPath: "/") == "/")
        #expect(SigV4.canonicalQuery(rawQuery: "b=2&a=1&a=0&c") == "a=0&a=1&b=2&c=")
        #expect(SigV4.canonicalQuery(rawQuery: "x=%zz") == nil)
        #expect(SigV4.canonicalHeaderValue(["  a   b  ", "c"]) == "a b,c")
    }

    // MARK: - Round trips and refusals

    static let admin = AccessKey(id: "AKIDADMIN0000000001", secret: "admin-secret", principal: "arn:aws:iam::123456789012:user/admin")
    static let session = AccessKey(id: "ASIASESSION00000001", secret: "session-secret", principal: "arn:aws:iam::123456789012:role/r",
                                   sessionToken: "the-session-token")
    let verifier = SigV4Verifier(keys: [Self.admin, Self.session], region: "us-east-1", services: ["states"])
    let now: Int64 = 1_796_700_000
    let body = Array(#"{"maxResults": 5}"#.utf8)

    func signed(key: AccessKey = admin, secret: String? = nil, at time: Int64? = nil, region: String = "us-east-1",
                service: String = "states", body: [UInt8]? = nil, path: String = "/", query: String = "") -> SignedRequest
    {
        let signer = SigV4Signer(accessKeyID: key.id, secret: secret ?? key.secret, sessionToken: key.sessionToken, region: region, service: service)
        let headers: [(name: String, value: String)] = [
            ("host", "127.0.0.1:8083"), ("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSStepFunctions.ListStateMachines"),
        ]
        let b = body ?? self.body
        let added = signer.sign(method: "POST", rawPath: path, rawQuery: query, headers: headers, body: b, now: time ?? now)
        return SignedRequest(method: "POST", rawPath: path, rawQuery: query, headers: headers + added, body: b)
    }

    func refusal(_ request: SignedRequest, at time: Int64? = nil) -> AuthenticationError? {
        do {
            _ = try verifier.verify(request, now: time ?? now)
            return nil
        } catch {
            return error
        }
    }

    @Test func aSignedRequestVerifies() throws {
        #expect(try verifier.verify(signed(), now: now).id == Self.admin.id)
        #expect(try verifier.verify(signed(path: "/triggers/a%20b", query: "x=1&y=a%2Fb"), now: now).id == Self.admin.id)
        #expect(try verifier.verify(signed(key: Self.session), now: now).id == Self.session.id)
    }

    @Test func noAuthorizationIsAMissingToken() {
        let request = SignedRequest(method: "POST", rawPath: "/", rawQuery: "", headers: [("host", "h")], body: body)
        #expect(refusal(request)?.code == .missingAuthenticationToken)
    }

    @Test func aWrongSecretIsAnInvalidSignature() {
        let e = refusal(signed(secret: "not-the-secret"))
        #expect(e?.code == .invalidSignature)
        #expect(e?.message.hasPrefix("The request signature we calculated does not match") == true)
    }

    @Test func anUnknownKeyIsAnUnrecognizedClient() {
        let e = refusal(signed(key: AccessKey(id: "AKIDUNKNOWN", secret: "x", principal: "p")))
        #expect(e == AuthenticationError(.unrecognizedClient, "The security token included in the request is invalid."))
    }

    @Test func aChangedBodyOrHeaderBreaksTheSignature() {
        var r = signed()
        r.body = Array(#"{"maxResults": 6}"#.utf8)
        #expect(refusal(r)?.code == .invalidSignature)
        r = signed()
        r.headers = r.headers.map { $0.name == "x-amz-target" ? ($0.name, "AWSStepFunctions.DeleteStateMachine") : $0 }
        #expect(refusal(r)?.code == .invalidSignature)
        r = signed()
        r.rawPath = "/other"
        #expect(refusal(r)?.code == .invalidSignature)
    }

    @Test func theClockSkewIsFiveMinutes() {
        #expect(refusal(signed(at: now - 299)) == nil)
        #expect(refusal(signed(at: now + 299)) == nil)
        let old = refusal(signed(at: now - 301))
        #expect(old?.code == .invalidSignature)
        #expect(old?.message.hasPrefix("Signature expired: ") == true)
        let future = refusal(signed(at: now + 301))
        #expect(future?.code == .invalidSignature)
        #expect(future?.message.hasPrefix("Signature not yet current: ") == true)
    }

    @Test func theScopeMustBeOurs() {
        #expect(refusal(signed(region: "eu-west-1"))?.message.hasPrefix("Credential should be scoped to a valid region") == true)
        #expect(refusal(signed(service: "lambda"))?.message.hasPrefix("Credential should be scoped to correct service: 'states'") == true)
        var r = signed()
        r.headers = r.headers.map { $0.name == "X-Amz-Date" ? ($0.name, SigV4Verifier.format(now + 86_400)) : $0 }
        #expect(refusal(r, at: now + 86_400)?.message.hasPrefix("Date in Credential scope does not match") == true)
    }

    @Test func sessionTokensAreCheckedBothWays() {
        // A token for a key without session credentials.
        var r = signed()
        r.headers.append(("X-Amz-Security-Token", "anything"))
        #expect(refusal(r)?.code == .unrecognizedClient)
        // Session credentials without their token, or with another.
        r = signed(key: Self.session)
        r.headers.removeAll { $0.name == "X-Amz-Security-Token" }
        #expect(refusal(r)?.code == .unrecognizedClient)
        r = signed(key: AccessKey(id: Self.session.id, secret: Self.session.secret, principal: "", sessionToken: "another"))
        #expect(refusal(r)?.code == .unrecognizedClient)
    }

    @Test func hostMustBeSigned() {
        let signer = SigV4Signer(accessKeyID: Self.admin.id, secret: Self.admin.secret, region: "us-east-1", service: "states")
        let added = signer.sign(method: "POST", rawPath: "/", headers: [("content-type", "x")], body: body, now: now)
        let r = SignedRequest(method: "POST", rawPath: "/", rawQuery: "", headers: [("host", "h"), ("content-type", "x")] + added, body: body)
        #expect(refusal(r)?.message == "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    }

    @Test func presignedRequestsVerifyUntilTheyExpire() throws {
        let signer = SigV4Signer(accessKeyID: Self.admin.id, secret: Self.admin.secret, region: "us-east-1", service: "states")
        let query = signer.presign(method: "GET", rawPath: "/console/events", rawQuery: "execution=a%3Ab", host: "127.0.0.1:8083", expires: 60, now: now)
        let r = SignedRequest(method: "GET", rawPath: "/console/events", rawQuery: query, headers: [("Host", "127.0.0.1:8083")], body: [])
        #expect(try verifier.verify(r, now: now + 30).id == Self.admin.id)
        #expect(refusal(r, at: now + 61)?.message.hasPrefix("Signature expired") == true)
        var tampered = r
        tampered.rawQuery = query.replacingOccurrences(of: "execution=a%3Ab", with: "execution=c")
        #expect(refusal(tampered, at: now)?.code == .invalidSignature)
        let tooLong = signer.presign(method: "GET", rawPath: "/", host: "h", expires: 700_000, now: now)
        #expect(refusal(SignedRequest(method: "GET", rawPath: "/", rawQuery: tooLong, headers: [("Host", "h")], body: []))?.code == .incompleteSignature)
    }

    @Test func malformedAuthorizationHeadersGetClearErrors() {
        let cases: [(String, AuthenticationError.Code)] = [
            ("", .incompleteSignature),
            ("AWS4-HMAC-SHA256", .incompleteSignature),
            ("AWS4-HMAC-SHA256 Credential=AKIDADMIN0000000001/20261208/us-east-1/states/aws4_request", .incompleteSignature),
            ("AWS3 Credential=a, SignedHeaders=host, Signature=00", .incompleteSignature),
            ("AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00", .incompleteSignature),
            ("AWS4-HMAC-SHA256 Credential=AKIDADMIN0000000001/2026120/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00", .invalidSignature),
            ("AWS4-HMAC-SHA256 Credential=AKIDADMIN0000000001/20261208/us-east-1/states/aws5_request, SignedHeaders=host, Signature=00", .invalidSignature),
        ]
        for (value, code) in cases {
            let r = SignedRequest(method: "POST", rawPath: "/", rawQuery: "", headers: [("host", "h"), ("x-amz-date", SigV4Verifier.format(now)), ("Authorization", value)], body: [])
            #expect(refusal(r)?.code == code, "\(value)")
        }
    }

    /// Random and mutated headers: always an `AuthenticationError`, never a crash or a pass.
    @Test func fuzzedAuthorizationHeadersAreRefused() {
        var rng = SystemRandomNumberGenerator()
        let good = signed().headers.first { $0.name == "Authorization" }!.value
        let alphabet = Array("AWS4-HMAC-SHA256 Credential=/,;= SignedHeaders Signature abcdef0123456789%\u{0}\u{7f}é🙂".unicodeScalars)
        for i in 0..<2_000 {
            var value: String
            if i % 2 == 0 {
                var scalars = Array(good.unicodeScalars)
                for _ in 0..<(1 + Int.random(in: 0..<4, using: &rng)) {
                    let at = Int.random(in: 0..<scalars.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: scalars[at] = alphabet.randomElement(using: &rng)!
                    case 1: scalars.remove(at: at)
                    default: scalars.insert(alphabet.randomElement(using: &rng)!, at: at)
                    }
                }
                value = String(String.UnicodeScalarView(scalars))
                // Spaces and empty fields are not part of the header's meaning: a mutation
                // that only changes them may be accepted.
                func fields(_ v: String) -> [String] { v.replacingOccurrences(of: " ", with: "").split(separator: ",").map(String.init) }
                if fields(value) == fields(good) { continue }
            } else {
                value = String(String.UnicodeScalarView((0..<Int.random(in: 0..<200, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }))
            }
            var r = signed()
            r.headers = r.headers.map { $0.name == "Authorization" ? ($0.name, value) : $0 }
            #expect(refusal(r) != nil, "\(value)")
        }
    }
}
