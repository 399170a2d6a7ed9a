import Foundation
import Synchronization
import Testing

@testable import SteplineSecurity

/// Envelope encryption of stored values: the keyring, the format, data key reuse, rotation,
/// and every way opening fails.
@Suite struct EncryptionTests {
    static let material = [UInt8](repeating: 7, count: 32)
    static let other = [UInt8](repeating: 9, count: 32)
    static let keyID = "0b0d2c3e-1111-2222-3333-444455556666"

    static func keyring(_ keys: (String, String?, [UInt8])...) throws -> Keyring {
        try Keyring(keys.map { try MasterKey(id: $0.0, alias: $0.1, material: $0.2) })
    }

    static var one: Keyring { get throws { try keyring((keyID, "alias/stepline", material)) } }

    @Test func aValueRoundTrips() throws {
        let sealer = DataSealer(keyring: try Self.one)
        let text = Array(#"{"card":"4111-1111-1111-1111"}"#.utf8)
        let sealed = try sealer.seal(text, keyID: Self.keyID, reusePeriodSeconds: 300, context: "input:arn:x")
        #expect(DataSealer.isSealed(sealed))
        #expect(try DataSealer.keyID(of: sealed) == Self.keyID)
        #expect(sealed.count == text.count + 93 + Self.keyID.utf8.count)
        // No run of the plaintext survives in the sealed bytes.
        #expect(sealed.firstRange(of: Array("4111".utf8)) == nil)
        #expect(try sealer.open(sealed, context: "input:arn:x") == text)
        // Another sealer over the same keys (a restart) opens it too.
        #expect(try DataSealer(keyring: try Self.one).open(sealed, context: "input:arn:x") == text)
        // The empty value as well.
        let empty = try sealer.seal([], keyID: Self.keyID, reusePeriodSeconds: 300, context: "c")
        #expect(try DataSealer(keyring: try Self.one).open(empty, context: "c") == [])
    }

    @Test func tamperingIsAnErrorNeverGarbage() throws {
        let sealer = DataSealer(keyring: try Self.one)
        let sealed = try sealer.seal(Array("secret value".utf8), keyID: Self.keyID, reusePeriodSeconds: 300, context: "c")
        // Every single byte flipped: an error each time (no flip goes unnoticed).
        for i in sealed.indices {
            var bad = sealed
            bad[i] ^= 0x01
            #expect(throws: SealingError.self) { try DataSealer(keyring: try Self.one).open(bad, context: "c") }
        }
        // Cut short, or not sealed at all.
        #expect(throws: SealingError.damaged("the value is cut short")) { try sealer.open(Array(sealed.prefix(50)), context: "c") }
        #expect(throws: SealingError.damaged("not an encrypted value")) { try sealer.open(Array("{}".utf8), context: "c") }
        // Moved to another place: its context does not match.
        #expect {
            try sealer.open(sealed, context: "other")
        } throws: { e in
            "\(e)".contains("does not authenticate")
        }
    }

    @Test func aMissingOrWrongKeyIsAClearError() throws {
        let sealed = try DataSealer(keyring: try Self.one).seal(Array("x".utf8), keyID: Self.keyID, reusePeriodSeconds: 300, context: "c")
        // The key is no longer configured.
        let without = DataSealer(keyring: try Self.keyring(("another", nil, Self.other)))
        #expect(throws: SealingError.keyNotConfigured(Self.keyID)) { try without.open(sealed, context: "c") }
        // Same id, other material (a replaced key file).
        let replaced = DataSealer(keyring: try Self.keyring((Self.keyID, nil, Self.other)))
        #expect(throws: SealingError.keyMismatch(Self.keyID)) { try replaced.open(sealed, context: "c") }
        // Sealing with a key that is not there.
        #expect(throws: SealingError.keyNotConfigured("nope")) {
            try without.seal([1], keyID: "nope", reusePeriodSeconds: 300, context: "c")
        }
        // The messages name the key, never its material.
        let message = "\(SealingError.keyMismatch(Self.keyID)) \(SealingError.keyNotConfigured(Self.keyID))"
        #expect(message.contains(Self.keyID) && message.contains("encryption.keys"))
    }

    @Test func rotationKeepsOldDataReadable() throws {
        let old = try Self.keyring(("k1", "alias/app", Self.material))
        let sealedByOld = try DataSealer(keyring: old).seal(Array("old".utf8), keyID: "k1", reusePeriodSeconds: 300, context: "c")
        // A new key for new data; the old one stays listed.
        let rotated = try Self.keyring(("k1", nil, Self.material), ("k2", "alias/app", Self.other))
        let sealer = DataSealer(keyring: rotated)
        let sealedByNew = try sealer.seal(Array("new".utf8), keyID: rotated.resolve("alias/app", region: "r", account: "a")!.id,
                                          reusePeriodSeconds: 300, context: "c")
        #expect(try DataSealer.keyID(of: sealedByNew) == "k2")
        #expect(try sealer.open(sealedByOld, context: "c") == Array("old".utf8))
        #expect(try sealer.open(sealedByNew, context: "c") == Array("new".utf8))
        // Once the old key is gone, its data names it.
        let onlyNew = DataSealer(keyring: try Self.keyring(("k2", "alias/app", Self.other)))
        #expect(throws: SealingError.keyNotConfigured("k1")) { try onlyNew.open(sealedByOld, context: "c") }
    }

    @Test func dataKeysAreReusedForTheirPeriod() throws {
        let clock = Mutex(ContinuousClock.now)
        let sealer = DataSealer(keyring: try Self.one, now: { clock.withLock { $0 } })
        func headerOf(_ period: Int) throws -> [UInt8] {
            let s = try sealer.seal([1, 2, 3], keyID: Self.keyID, reusePeriodSeconds: period, context: "c")
            return Array(s.prefix(5 + Self.keyID.utf8.count + 60))
        }
        let first = try headerOf(60)
        #expect(try headerOf(60) == first)
        #expect(sealer.dataKeysMade == 1)
        // Another period is another data key.
        let other = try headerOf(900)
        #expect(other != first)
        clock.withLock { $0 += .seconds(59) }
        #expect(try headerOf(60) == first)
        clock.withLock { $0 += .seconds(1) }
        let next = try headerOf(60)
        #expect(next != first)
        #expect(try headerOf(900) == other)
        #expect(sealer.dataKeysMade == 3)
        // A use limit makes a new one too.
        let limited = DataSealer(keyring: try Self.one, maxUses: 2)
        for _ in 0..<5 { _ = try limited.seal([0], keyID: Self.keyID, reusePeriodSeconds: 300, context: "c") }
        #expect(limited.dataKeysMade == 3)
    }

    @Test func keysAreNamedByIdAliasOrARN() throws {
        let ring = try Self.one
        let r = "us-east-1", a = "123456789012"
        for reference in [Self.keyID, "alias/stepline", "arn:aws:kms:\(r):\(a):key/\(Self.keyID)", "arn:aws:kms:\(r):\(a):alias/stepline"] {
            #expect(ring.resolve(reference, region: r, account: a)?.id == Self.keyID, "\(reference)")
        }
        for reference in ["alias/other", "other", "arn:aws:kms:eu-west-1:\(a):key/\(Self.keyID)", "arn:aws:kms:\(r):999999999999:alias/stepline",
                          "arn:aws:kms:\(r):\(a):other/x", "arn:aws:s3:::bucket"] {
            #expect(ring.resolve(reference, region: r, account: a) == nil, "\(reference)")
        }
    }

    @Test func keyringsRefuseDuplicatesAndBadNames() throws {
        #expect(throws: KeyringError.duplicateID("a")) { try Self.keyring(("a", nil, Self.material), ("a", nil, Self.other)) }
        #expect(throws: KeyringError.duplicateAlias("alias/x")) {
            try Self.keyring(("a", "alias/x", Self.material), ("b", "alias/x", Self.other))
        }
        #expect(throws: KeyringError.invalidID("a b")) { try Self.keyring(("a b", nil, Self.material)) }
        #expect(throws: KeyringError.invalidAlias("x")) { try Self.keyring(("a", "x", Self.material)) }
        #expect(throws: KeyringError.invalidAlias("alias/aws/states")) { try Self.keyring(("a", "alias/aws/states", Self.material)) }
        #expect(throws: KeyringError.badMaterial(id: "a", byteCount: 16)) { try MasterKey(id: "a", material: [UInt8](repeating: 1, count: 16)) }
    }

    @Test func keyMaterialNeverShowsInText() throws {
        let secret = [UInt8](repeating: 0xAB, count: 32)
        let key = try MasterKey(id: "k", alias: "alias/a", material: secret)
        let ring = try Keyring([key])
        let sealer = DataSealer(keyring: ring)
        var dumped = ""
        dump(ring, to: &dumped)
        dump(sealer, to: &dumped)
        let texts = ["\(key)", String(describing: key), String(reflecting: key), "\(ring)", "\(sealer)", dumped]
        for t in texts {
            #expect(!t.lowercased().contains("abab") && !t.contains("171, 171") && !t.contains("q6ur"), "\(t)")
        }
        #expect("\(key)" == "key k (alias/a)")
    }
}
