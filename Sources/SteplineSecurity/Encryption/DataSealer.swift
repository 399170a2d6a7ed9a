import Crypto
import Synchronization

/// Envelope encryption of stored values: AES-256-GCM under data keys that are wrapped by
/// the keyring's master keys (`Envelope` is the format).
///
/// A data key is made per master key and reuse period, and seals values for that period
/// (`kmsDataKeyReusePeriodSeconds`: AWS's "maximum duration that Step Functions will reuse
/// data keys"), then a new one is made; at most 2^30 values per data key, well under the
/// 2^32 that random 96-bit nonces allow. Data keys live in memory only: a value carries its
/// own, wrapped. Opening unwraps the value's data key with the master key it names, so a
/// keyring that still lists an old key opens what that key sealed (rotation: point the
/// machine, or `encryption.defaultKey`, at a new key, and keep the old one listed until the
/// data it sealed is gone). Unwrapped data keys are cached (by their wrapped form) for the
/// values that follow.
///
/// Randomness (data keys, nonces) comes from swift-crypto's system generator; time comes
/// from `now`.
public final class DataSealer: Sendable, CustomStringConvertible, CustomReflectable {
    public let keyring: Keyring
    private let now: @Sendable () -> ContinuousClock.Instant
    private let maxUses: Int

    private struct Slot: Hashable {
        var keyID: String
        var reusePeriodSeconds: Int
    }

    private struct Current {
        var dataKey: DataKey
        var expires: ContinuousClock.Instant
        var uses: Int
    }

    private let sealing = Mutex<[Slot: Current]>([:])
    private let opened = Mutex<[ArraySlice<UInt8>: SymmetricKey]>([:])
    private static let openedLimit = 4_096

    /// Data keys made so far (tests: reuse).
    public var dataKeysMade: Int { made.load(ordering: .relaxed) }
    private let made = Atomic<Int>(0)

    /// - Parameters:
    ///   - now: the clock of the reuse periods.
    ///   - maxUses: values a data key seals at most.
    public init(keyring: Keyring, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }, maxUses: Int = 1 << 30) {
        self.keyring = keyring
        self.now = now
        self.maxUses = max(1, maxUses)
    }

    public var description: String { "DataSealer(\(keyring))" }
    /// The keyring only: the data keys in memory stay out of dumps.
    public var customMirror: Mirror { Mirror(self, children: ["keyring": keyring], displayStyle: .class) }

    /// Seals `plaintext` under the master key `keyID`, with the current data key of that key
    /// and reuse period (a new one when none is current).
    ///
    /// - Parameters:
    ///   - context: where the value is stored (authenticated, not stored): opening it
    ///     elsewhere fails.
    /// - Throws: `SealingError.keyNotConfigured` when the keyring has no such key.
    public func seal(_ plaintext: [UInt8], keyID: String, reusePeriodSeconds: Int, context: String) throws(SealingError) -> [UInt8] {
        Envelope.seal(plaintext, with: try dataKey(keyID: keyID, reusePeriodSeconds: reusePeriodSeconds), context: context)
    }

    /// Opens a value `seal` made.
    ///
    /// - Throws: `SealingError`: the key it names is not configured, or does not open its
    ///   data key; the value is damaged, or was sealed for another `context`.
    public func open(_ sealed: [UInt8], context: String) throws(SealingError) -> [UInt8] {
        let parts = try Envelope.parts(of: sealed)
        let key: SymmetricKey
        if let k = opened.withLock({ $0[parts.header] }) {
            key = k
        } else {
            guard let master = keyring.key(id: parts.keyID) else { throw .keyNotConfigured(parts.keyID) }
            key = try Envelope.unwrap(parts, with: master)
            remember(ArraySlice(Array(parts.header)), key)
        }
        return try Envelope.open(parts, with: key, context: context)
    }

    /// True when `bytes` begin as a sealed value does.
    public static func isSealed(_ bytes: some Collection<UInt8>) -> Bool { Envelope.isSealed(bytes) }

    /// The id of the master key a sealed value names.
    public static func keyID(of sealed: [UInt8]) throws(SealingError) -> String { try Envelope.parts(of: sealed).keyID }

    private func remember(_ header: ArraySlice<UInt8>, _ key: SymmetricKey) {
        opened.withLock { m in
            if m.count >= Self.openedLimit { m.removeAll(keepingCapacity: true) }
            m[header] = key
        }
    }

    private func dataKey(keyID: String, reusePeriodSeconds: Int) throws(SealingError) -> DataKey {
        let slot = Slot(keyID: keyID, reusePeriodSeconds: reusePeriodSeconds)
        let t = now()
        let current: DataKey? = sealing.withLock { m in
            guard var c = m[slot], t < c.expires, c.uses < maxUses else { return nil }
            c.uses += 1
            m[slot] = c
            return c.dataKey
        }
        if let current { return current }
        guard let master = keyring.key(id: keyID) else { throw .keyNotConfigured(keyID) }
        let fresh = DataKey.generate(under: master)
        made.add(1, ordering: .relaxed)
        sealing.withLock { m in
            m[slot] = Current(dataKey: fresh, expires: t + .seconds(max(0, reusePeriodSeconds)), uses: 1)
        }
        // What it seals is read back soon (a step's values, by the next step): no unwrap then.
        remember(ArraySlice(fresh.header), fresh.key)
        return fresh
    }
}
