import Crypto

/// A KMS-style symmetric key of the daemon (`encryption.keys`): 32 bytes, an id, an
/// optional alias. It wraps the data keys that seal stored execution data.
///
/// - Important: The material never leaves this value in text: `description`,
///   `debugDescription` and the mirror name the key, never its bytes (values are logged and
///   printed through string interpolation).
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key id, as in `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    public let id: String
    /// `alias/NAME`, if the key has one.
    public let alias: String?
    let material: SymmetricKey

    /// - Throws: `KeyringError.badMaterial` unless `material` is 32 bytes.
    public init(id: String, alias: String? = nil, material: [UInt8]) throws(KeyringError) {
        guard material.count == 32 else { throw .badMaterial(id: id, byteCount: material.count) }
        self.id = id
        self.alias = alias
        self.material = SymmetricKey(data: material)
    }

    public var description: String { alias.map { "key \(id) (\($0))" } ?? "key \(id)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["id": id, "alias": alias as Any], displayStyle: .struct) }
}

/// Why a keyring cannot be made. The messages name keys by id or alias, never by material.
public enum KeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    case badMaterial(id: String, byteCount: Int)
    case duplicateID(String)
    case duplicateAlias(String)
    case invalidID(String)
    case invalidAlias(String)

    public var description: String {
        switch self {
        case .badMaterial(let id, let n): "key \(id): the material is \(n) bytes; a key is 32 random bytes"
        case .duplicateID(let id): "the key id '\(id)' is given twice"
        case .duplicateAlias(let a): "the alias '\(a)' is given twice"
        case .invalidID(let id): "'\(id)' is not a key id: letters, digits and dashes, at most 128"
        case .invalidAlias(let a): "'\(a)' is not an alias: alias/NAME, NAME of letters, digits, '/', '_' and '-', not under alias/aws/"
        }
    }
}

/// The daemon's master keys, by id and by alias.
///
/// Keys are named as `EncryptionConfiguration.kmsKeyId` names them on AWS: a key id, an
/// alias (`alias/NAME`), a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`) or an alias ARN
/// (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`). ARNs name this daemon's keys only when their
/// region and account are the daemon's.
public struct Keyring: Sendable, CustomStringConvertible {
    public let keys: [MasterKey]
    private let byID: [String: Int]
    private let byAlias: [String: Int]

    /// An empty keyring: nothing is sealed.
    public init() {
        keys = []
        byID = [:]
        byAlias = [:]
    }

    /// - Throws: `KeyringError` for an id or alias that is malformed or given twice.
    public init(_ keys: [MasterKey]) throws(KeyringError) {
        var byID: [String: Int] = [:]
        var byAlias: [String: Int] = [:]
        for (i, k) in keys.enumerated() {
            guard Self.isKeyID(k.id) else { throw .invalidID(k.id) }
            guard byID.updateValue(i, forKey: k.id) == nil else { throw .duplicateID(k.id) }
            if let a = k.alias {
                guard Self.isAlias(a) else { throw .invalidAlias(a) }
                guard byAlias.updateValue(i, forKey: a) == nil else { throw .duplicateAlias(a) }
            }
        }
        self.keys = keys
        self.byID = byID
        self.byAlias = byAlias
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// The key of this id (the id a sealed value names).
    public func key(id: String) -> MasterKey? { byID[id].map { keys[$0] } }

    /// The key that `reference` names (a key id, an alias, a key ARN or an alias ARN), or nil.
    public func resolve(_ reference: String, region: String, account: String) -> MasterKey? {
        if reference.hasPrefix("alias/") { return byAlias[reference].map { keys[$0] } }
        if reference.hasPrefix("arn:") {
            let parts = reference.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[1] == "aws", parts[2] == "kms", parts[3] == region, parts[4] == account else { return nil }
            let resource = parts[5]
            if resource.hasPrefix("key/") { return key(id: String(resource.dropFirst(4))) }
            if resource.hasPrefix("alias/") { return byAlias[String(resource)].map { keys[$0] } }
            return nil
        }
        return key(id: reference)
    }

    public var description: String { "Keyring(\(keys.map(\.description).joined(separator: ", ")))" }

    /// Key ids as KMS writes them (a UUID, or `mrk-` and hex): letters, digits and dashes.
    public static func isKeyID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D }
    }

    /// KMS's alias rule: `alias/` and 1-250 of `a-zA-Z0-9/_-`; `alias/aws/` is AWS's own.
    public static func isAlias(_ alias: String) -> Bool {
        guard alias.hasPrefix("alias/"), !alias.hasPrefix("alias/aws/") else { return false }
        let name = alias.utf8.dropFirst(6)
        return (1...250).contains(name.count)
            && name.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2F }
    }
}
