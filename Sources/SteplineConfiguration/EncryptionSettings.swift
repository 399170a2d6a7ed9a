import Foundation
import StatesCore
import SteplineRuntime
import SteplineSecurity

/// The `encryption` section: the master keys (KMS-style: 32 random bytes, base64, in a file
/// or an environment variable) and the key that seals every execution's data.
///
/// ```yaml
/// encryption:
///   keys:
///     - id: 0b0d2c3e-1111-2222-3333-444455556666
///       alias: alias/stepline         # optional
///       file: keys/stepline.key       # or env: VARIABLE
///   defaultKey: alias/stepline        # optional
/// ```
///
/// Errors name the key (`encryption.keys[1].file`) and never quote the material.
enum EncryptionSettings {
    typealias Invalid = ServeConfiguration.Invalid

    static let howToMakeOne = "a key is 32 random bytes, base64 (head -c 32 /dev/urandom | base64)"

    static func parse(_ t: [String: Any], baseDirectory: String, environment: [String: String], region: String, account: String) throws
        -> EncryptionPolicy
    {
        try ServeConfiguration.check(t, "encryption", allowed: ["keys", "defaultKey"])
        guard let list = t["keys"] else { throw Invalid(description: "encryption.keys is required: a list of keys (id, file)") }
        guard let items = list as? [Any] else { throw Invalid(description: "encryption.keys: expected a list of keys (id, file)") }
        guard !items.isEmpty else { throw Invalid(description: "encryption.keys: expected at least one key (id, file)") }
        var keys: [MasterKey] = []
        for (i, item) in items.enumerated() {
            let key = "encryption.keys[\(i)]"
            let k = try ServeConfiguration.table(item, key)
            try ServeConfiguration.check(k, key, allowed: ["id", "alias", "file", "env"])
            guard let id = try ServeConfiguration.string(k["id"], "\(key).id"), !id.isEmpty else {
                throw Invalid(description: "\(key).id is required: the key's id, e.g. 0b0d2c3e-1111-2222-3333-444455556666")
            }
            guard Keyring.isKeyID(id) else {
                throw Invalid(description: "\(key).id: '\(id)' is not a key id: letters, digits and dashes, at most 128")
            }
            guard !keys.contains(where: { $0.id == id }) else { throw Invalid(description: "\(key).id: '\(id)' is given twice") }
            let alias = try ServeConfiguration.string(k["alias"], "\(key).alias")
            if let alias {
                guard Keyring.isAlias(alias) else {
                    throw Invalid(description: "\(key).alias: '\(alias)' is not an alias: alias/NAME, NAME of letters, digits, '/', '_' and '-', not under alias/aws/")
                }
                guard !keys.contains(where: { $0.alias == alias }) else { throw Invalid(description: "\(key).alias: '\(alias)' is given twice") }
            }
            let material = try Self.material(k, key: key, baseDirectory: baseDirectory, environment: environment)
            do {
                keys.append(try MasterKey(id: id, alias: alias, material: material))
            } catch {
                throw Invalid(description: "\(key): \(error)")
            }
        }
        let keyring: Keyring
        do { keyring = try Keyring(keys) } catch { throw Invalid(description: "encryption.keys: \(error)") }
        var policy = EncryptionPolicy(keyring: keyring)
        if let reference = try ServeConfiguration.string(t["defaultKey"], "encryption.defaultKey") {
            guard let key = keyring.resolve(reference, region: region, account: account) else {
                throw Invalid(description: "encryption.defaultKey: no key '\(reference)' in encryption.keys (name one by id, alias, or an ARN of region \(region) and account \(account))")
            }
            policy.defaultKey = key
        }
        return policy
    }

    /// The 32 bytes of `file` (relative to the configuration's directory) or `env`.
    private static func material(_ k: [String: Any], key: String, baseDirectory: String, environment: [String: String]) throws -> [UInt8] {
        let given = ["file", "env"].filter { k[$0] != nil }
        guard given.count == 1 else { throw Invalid(description: "\(key): give exactly one of file, env (\(howToMakeOne))") }
        let text: String
        let source: String
        if given[0] == "file" {
            guard let path = k["file"] as? String, !path.isEmpty else { throw Invalid(description: "\(key).file: expected a path") }
            let full = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
            guard let t = try? String(contentsOfFile: full, encoding: .utf8) else {
                throw Invalid(description: "\(key).file: cannot read \(full)")
            }
            text = t
            source = "\(key).file: \(full)"
        } else {
            guard let variable = k["env"] as? String, !variable.isEmpty else { throw Invalid(description: "\(key).env: expected a variable name") }
            guard let v = environment[variable], !v.isEmpty else {
                throw Invalid(description: "\(key).env: the environment variable \(variable) is not set")
            }
            text = v
            source = "\(key).env: \(variable)"
        }
        guard let bytes = Base64.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Invalid(description: "\(source) does not hold base64 text; \(howToMakeOne)")
        }
        guard bytes.count == 32 else { throw Invalid(description: "\(source) holds \(bytes.count) bytes; \(howToMakeOne)") }
        return bytes
    }
}
