import Foundation
import SteplineConfiguration
import SteplineRuntime
import SteplineSecurity
import Testing

/// The `encryption` section: keys from files and the environment, the default key, and
/// every bad value's whole message, which names the key and never shows its material.
@Suite struct EncryptionSettingsTests {
    /// 32 bytes, base64 (the material is 0xAB repeated: "q6ur...").
    static let good = String(repeating: "q6ur", count: 10) + "q6s=\n"
    static let goodTwo = Data((0..<32).map { UInt8($0) }).base64EncodedString()

    /// A directory with key files: `a.key`, `b.key` (good), `short.key` (16 bytes),
    /// `text.key` (not base64), `empty.key`.
    struct Keys {
        let dir: String
        init() throws {
            dir = NSTemporaryDirectory() + "stepline-keys-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, text) in [("a.key", EncryptionSettingsTests.good), ("b.key", EncryptionSettingsTests.goodTwo),
                                 ("short.key", Data(repeating: 1, count: 16).base64EncodedString()), ("text.key", "not a key!\n"),
                                 ("empty.key", "")] {
                try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            }
        }
        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }

    static func load(_ yaml: String, _ keys: Keys, environment: [String: String] = [:]) throws -> ServeConfiguration {
        try ServeConfiguration.load(yaml: yaml, baseDirectory: keys.dir, environment: environment)
    }

    @Test func keysFromFilesAndTheEnvironment() throws {
        let keys = try Keys()
        defer { keys.cleanup() }
        let c = try Self.load("""
            encryption:
              keys:
                - id: 0b0d2c3e-1111-2222-3333-444455556666
                  alias: alias/stepline
                  file: a.key
                - {id: second, file: \(keys.dir)/b.key}
                - {id: third, alias: alias/from-env, env: KEY_THREE}
              defaultKey: alias/stepline
            """, keys, environment: ["KEY_THREE": Self.goodTwo])
        let e = c.runtime.encryption
        #expect(e.keyring.keys.map(\.id) == ["0b0d2c3e-1111-2222-3333-444455556666", "second", "third"])
        #expect(e.keyring.keys.map(\.alias) == ["alias/stepline", nil, "alias/from-env"])
        #expect(e.defaultKey?.id == "0b0d2c3e-1111-2222-3333-444455556666")
        // What the runtime resolves from a machine's kmsKeyId.
        #expect(e.keyring.resolve("arn:aws:kms:us-east-1:123456789012:alias/from-env", region: c.region, account: c.account)?.id == "third")
        // Without defaultKey, only machines that name a key are sealed.
        let named = try Self.load("encryption:\n  keys:\n    - {id: k, file: a.key}\n", keys)
        #expect(named.runtime.encryption.defaultKey == nil && named.runtime.encryption.keyring.keys.count == 1)
        // No section: no keys.
        #expect(try Self.load("logLevel: info\n", keys).runtime.encryption.keyring.isEmpty)
    }

    @Test func theDefaultKeyByARNFollowsTheRegionAndAccount() throws {
        let keys = try Keys()
        defer { keys.cleanup() }
        let c = try Self.load("""
            region: eu-west-1
            account: "111122223333"
            encryption:
              keys: [{id: k1, file: a.key}]
              defaultKey: arn:aws:kms:eu-west-1:111122223333:key/k1
            """, keys)
        #expect(c.runtime.encryption.defaultKey?.id == "k1")
    }

    /// Bad values: the whole message.
    @Test(arguments: [
        ("encryption: on\n", "encryption: expected a mapping"),
        ("encryption:\n  defaultKey: k\n", "encryption.keys is required: a list of keys (id, file)"),
        ("encryption:\n  keys: {id: k}\n", "encryption.keys: expected a list of keys (id, file)"),
        ("encryption:\n  keys: []\n", "encryption.keys: expected at least one key (id, file)"),
        ("encryption:\n  keys: [{id: k, file: a.key}]\n  rotate: true\n", "unknown key 'encryption.rotate' in the configuration"),
        ("encryption:\n  keys: [k]\n", "encryption.keys[0]: expected a mapping"),
        ("encryption:\n  keys: [{file: a.key}]\n", "encryption.keys[0].id is required: the key's id, e.g. 0b0d2c3e-1111-2222-3333-444455556666"),
        ("encryption:\n  keys: [{id: 'a b', file: a.key}]\n", "encryption.keys[0].id: 'a b' is not a key id: letters, digits and dashes, at most 128"),
        ("encryption:\n  keys: [{id: k, file: a.key, material: x}]\n", "unknown key 'encryption.keys[0].material' in the configuration"),
        ("encryption:\n  keys: [{id: k, file: a.key}, {id: k, file: b.key}]\n", "encryption.keys[1].id: 'k' is given twice"),
        ("encryption:\n  keys: [{id: k, alias: stepline, file: a.key}]\n",
         "encryption.keys[0].alias: 'stepline' is not an alias: alias/NAME, NAME of letters, digits, '/', '_' and '-', not under alias/aws/"),
        ("encryption:\n  keys: [{id: k, alias: alias/aws/states, file: a.key}]\n",
         "encryption.keys[0].alias: 'alias/aws/states' is not an alias: alias/NAME, NAME of letters, digits, '/', '_' and '-', not under alias/aws/"),
        ("encryption:\n  keys: [{id: k, alias: alias/x, file: a.key}, {id: l, alias: alias/x, file: b.key}]\n",
         "encryption.keys[1].alias: 'alias/x' is given twice"),
        ("encryption:\n  keys: [{id: k}]\n",
         "encryption.keys[0]: give exactly one of file, env (a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64))"),
        ("encryption:\n  keys: [{id: k, file: a.key, env: K}]\n",
         "encryption.keys[0]: give exactly one of file, env (a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64))"),
        ("encryption:\n  keys: [{id: k, file: missing.key}]\n", "encryption.keys[0].file: cannot read DIR/missing.key"),
        ("encryption:\n  keys: [{id: k, file: short.key}]\n",
         "encryption.keys[0].file: DIR/short.key holds 16 bytes; a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64)"),
        ("encryption:\n  keys: [{id: k, file: empty.key}]\n",
         "encryption.keys[0].file: DIR/empty.key holds 0 bytes; a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64)"),
        ("encryption:\n  keys: [{id: k, file: text.key}]\n",
         "encryption.keys[0].file: DIR/text.key does not hold base64 text; a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64)"),
        ("encryption:\n  keys: [{id: k, env: NOT_SET}]\n", "encryption.keys[0].env: the environment variable NOT_SET is not set"),
        ("encryption:\n  keys: [{id: k, env: SHORT}]\n",
         "encryption.keys[0].env: SHORT holds 3 bytes; a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64)"),
        ("encryption:\n  keys: [{id: k, file: a.key}]\n  defaultKey: alias/none\n",
         "encryption.defaultKey: no key 'alias/none' in encryption.keys (name one by id, alias, or an ARN of region us-east-1 and account 123456789012)"),
        ("encryption:\n  keys: [{id: k, file: a.key}]\n  defaultKey: arn:aws:kms:eu-west-1:123456789012:key/k\n",
         "encryption.defaultKey: no key 'arn:aws:kms:eu-west-1:123456789012:key/k' in encryption.keys (name one by id, alias, or an ARN of region us-east-1 and account 123456789012)"),
    ])
    func refused(_ yaml: String, _ message: String) throws {
        let keys = try Keys()
        defer { keys.cleanup() }
        var got: String?
        do {
            _ = try Self.load(yaml, keys, environment: ["SHORT": "YWJj"])
        } catch {
            got = "\(error)"
        }
        #expect(got == message.replacingOccurrences(of: "DIR", with: keys.dir))
    }

    /// No message, description or dump shows a key's material.
    @Test func theMaterialNeverShows() throws {
        let keys = try Keys()
        defer { keys.cleanup() }
        let c = try Self.load("encryption:\n  keys: [{id: k, alias: alias/a, file: a.key}]\n  defaultKey: k\n", keys)
        var dumped = ""
        dump(c.runtime, to: &dumped)
        for text in [dumped, "\(c.runtime)", "\(c.runtime.encryption)", String(reflecting: c.runtime.encryption)] {
            #expect(!text.contains("q6ur") && !text.lowercased().contains("abab") && !text.contains("171, 171"))
        }
        #expect(dumped.contains("alias/a"))
    }
}
