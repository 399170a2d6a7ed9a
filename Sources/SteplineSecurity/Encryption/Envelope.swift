import Crypto
import Foundation

/// Why a value cannot be sealed or opened. The messages name the key by its id, never by
/// its material, and never quote the data.
public enum SealingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key of this id is not in the keyring (`encryption.keys`): to seal with, or that
    /// sealed the value.
    case keyNotConfigured(String)
    /// The key of this id does not open the value's data key: the keyring holds other
    /// material under that id than the key that sealed it (or the wrapped key was altered).
    case keyMismatch(String)
    /// Not a sealed value of a known format, cut short, or its ciphertext does not
    /// authenticate (altered, or moved from the place it was sealed for).
    case damaged(String)

    public var description: String {
        switch self {
        case .keyNotConfigured(let id): "the KMS key \(id) is not configured (encryption.keys)"
        case .keyMismatch(let id):
            "the KMS key \(id) in encryption.keys does not open this data: its material is not the key's that sealed it"
        case .damaged(let why): "the encrypted data is damaged: \(why)"
        }
    }
}

/// A data key: the AES-256 key that seals values, and the same key wrapped (AES-256-GCM)
/// under a master key, as every value it seals carries it.
struct DataKey: Sendable {
    let masterKeyID: String
    let key: SymmetricKey
    /// `Envelope.magic`, the key id, the wrapped key: the head of every value it seals.
    let header: [UInt8]

    /// A fresh random data key, wrapped under `master`.
    static func generate(under master: MasterKey) -> DataKey {
        let key = SymmetricKey(size: .bits256)
        let prefix = Envelope.prefix(keyID: master.id)
        // AES.GCM.seal throws only for nonces of a bad size; the nonce here is its own.
        let box = try! key.withUnsafeBytes { bytes in
            try AES.GCM.seal(Array(bytes), using: master.material, authenticating: prefix)
        }
        var header = prefix
        header.append(contentsOf: box.nonce)
        header.append(contentsOf: box.ciphertext)
        header.append(contentsOf: box.tag)
        return DataKey(masterKeyID: master.id, key: key, header: header)
    }
}

/// The format of a sealed value (version 1): self-describing, so that opening it needs
/// nothing but the master key it names.
///
/// ```
/// "SLE" 0x01            magic and format version (4 bytes)
/// n, key id             the master key's id: its length (1 byte), its UTF-8 (n bytes)
/// wrapped data key      12-byte nonce, 32-byte ciphertext, 16-byte tag: AES-256-GCM under
///                       the master key, authenticating the bytes before it
/// nonce                 12 bytes, random per value
/// ciphertext, tag       AES-256-GCM under the data key, authenticating everything before
///                       the nonce and the value's context (where it is stored: not stored)
/// ```
///
/// 93 bytes plus the key id's length are added to each value (129 with a UUID key id).
enum Envelope {
    static let magic: [UInt8] = [0x53, 0x4C, 0x45, 0x01]
    static let wrappedKeyLength = 12 + 32 + 16

    static func prefix(keyID: String) -> [UInt8] {
        var p = magic
        p.append(UInt8(keyID.utf8.count))
        p.append(contentsOf: keyID.utf8)
        return p
    }

    static func isSealed(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: magic) }

    static func seal(_ plaintext: [UInt8], with dataKey: DataKey, context: String) -> [UInt8] {
        let aad = dataKey.header + Array(context.utf8)
        // AES.GCM.seal throws only for nonces of a bad size; the nonce here is its own.
        let box = try! AES.GCM.seal(plaintext, using: dataKey.key, authenticating: aad)
        var out = dataKey.header
        out.reserveCapacity(dataKey.header.count + 12 + plaintext.count + 16)
        out.append(contentsOf: box.nonce)
        out.append(contentsOf: box.ciphertext)
        out.append(contentsOf: box.tag)
        return out
    }

    /// A sealed value taken apart (slices of it).
    struct Parts {
        var keyID: String
        /// Magic, key id, wrapped key.
        var header: ArraySlice<UInt8>
        var prefix: ArraySlice<UInt8>
        var wrappedKey: ArraySlice<UInt8>
        var nonce: ArraySlice<UInt8>
        var ciphertext: ArraySlice<UInt8>
        var tag: ArraySlice<UInt8>
    }

    static func parts(of blob: [UInt8]) throws(SealingError) -> Parts {
        guard blob.count > magic.count, blob.starts(with: magic) else {
            throw .damaged(blob.starts(with: magic.prefix(3)) ? "format version \(blob.count > 3 ? blob[3] : 0) is not known" : "not an encrypted value")
        }
        let n = Int(blob[4])
        let prefixEnd = 5 + n
        let headerEnd = prefixEnd + wrappedKeyLength
        guard n > 0, blob.count >= headerEnd + 12 + 16 else { throw .damaged("the value is cut short") }
        guard let keyID = String(validating: blob[5..<prefixEnd], as: UTF8.self) else { throw .damaged("the key id is not text") }
        return Parts(
            keyID: keyID, header: blob[0..<headerEnd], prefix: blob[0..<prefixEnd], wrappedKey: blob[prefixEnd..<headerEnd],
            nonce: blob[headerEnd..<headerEnd + 12], ciphertext: blob[(headerEnd + 12)..<(blob.count - 16)],
            tag: blob[(blob.count - 16)...])
    }

    /// The data key of a value, unwrapped with `master`.
    static func unwrap(_ parts: Parts, with master: MasterKey) throws(SealingError) -> SymmetricKey {
        let w = parts.wrappedKey
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: w.prefix(12)), ciphertext: w.dropFirst(12).prefix(32), tag: w.suffix(16))
            return SymmetricKey(data: try AES.GCM.open(box, using: master.material, authenticating: parts.prefix))
        } catch {
            throw .keyMismatch(master.id)
        }
    }

    static func open(_ parts: Parts, with key: SymmetricKey, context: String) throws(SealingError) -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: parts.nonce), ciphertext: parts.ciphertext, tag: parts.tag)
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(parts.header) + Array(context.utf8)))
        } catch {
            throw .damaged("the ciphertext does not authenticate: it was altered, or moved from where it was written")
        }
    }
}
