import ControlPlane
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineSecurity
import Synchronization

/// Which key seals what the store keeps of an execution, and AWS's checks of an
/// `EncryptionConfiguration`.
///
/// An execution's key is decided once, at its start, from the configuration of the
/// machine (or of the version it runs): `CUSTOMER_MANAGED_KMS_KEY` seals with the key its
/// `kmsKeyId` names (a key id, an alias, a key ARN or an alias ARN of `encryption.keys`);
/// otherwise `encryption.defaultKey` does, when set. The key stays the execution's: a
/// machine pointed at another key, or a daemon with another `defaultKey`, seals its new
/// executions with the new key, and the running ones go on with theirs.
public struct EncryptionPolicy: Sendable {
    /// `encryption.keys`.
    public var keyring: Keyring
    /// `encryption.defaultKey`, resolved: seals the executions of machines that name no key.
    public var defaultKey: MasterKey?
    /// AWS's default `kmsDataKeyReusePeriodSeconds`, also the default key's.
    public static let defaultReusePeriodSeconds = 300

    public init(keyring: Keyring = Keyring(), defaultKey: MasterKey? = nil) {
        self.keyring = keyring
        self.defaultKey = defaultKey
    }

    /// An `EncryptionConfiguration` as given (`type`, `kmsKeyId`, `kmsDataKeyReusePeriodSeconds`).
    public struct Configuration: Sendable, Equatable {
        public var type: String?
        public var kmsKeyId: String?
        public var reusePeriodSeconds: Int?

        public var isCustomerManaged: Bool { type == "CUSTOMER_MANAGED_KMS_KEY" }

        /// The configuration of the text the API stored (JSON); nil for none.
        public init?(_ text: String?) {
            guard let text, let o = try? JSON.parse(text), o.objectValue != nil else { return nil }
            type = o["type"]?.stringValue
            kmsKeyId = o["kmsKeyId"]?.stringValue
            reusePeriodSeconds = o["kmsDataKeyReusePeriodSeconds"].flatMap { $0.integerValue.map(Int.init) }
        }
    }

    /// CreateStateMachine's, UpdateStateMachine's and CreateActivity's checks.
    ///
    /// AWS behaviour: `InvalidEncryptionConfiguration` when the configuration is not valid
    /// in itself (a customer managed key without `kmsKeyId`, a `kmsKeyId` with
    /// `AWS_OWNED_KEY`, a reuse period outside 60-900 s); `KmsAccessDeniedException` when
    /// the key cannot be used: here, a key that is not one of `encryption.keys` (AWS checks
    /// the key with the caller's KMS permissions, and the model lists no other KMS error for
    /// these actions; a key that does not exist and one the caller may not use answer alike).
    public func check(_ text: String?, region: String, account: String) throws(ServiceError) {
        guard let text else { return }
        guard let c = Configuration(text) else { throw Self.invalid("the configuration is not a JSON object") }
        if let p = c.reusePeriodSeconds, !(60...900).contains(p) {
            throw Self.invalid("kmsDataKeyReusePeriodSeconds must be between 60 and 900")
        }
        switch c.type {
        case "AWS_OWNED_KEY":
            if c.kmsKeyId != nil { throw Self.invalid("kmsKeyId must not be set when type is AWS_OWNED_KEY") }
        case "CUSTOMER_MANAGED_KMS_KEY":
            guard let id = c.kmsKeyId, !id.isEmpty else {
                throw Self.invalid("kmsKeyId is required when type is CUSTOMER_MANAGED_KMS_KEY")
            }
            guard keyring.resolve(id, region: region, account: account) != nil else {
                throw ServiceError(
                    .kmsAccessDenied,
                    "Access to the KMS key '\(id)' was denied: it is not one of this daemon's keys (encryption.keys; keys are named by id, alias/NAME, or an ARN of region \(region) and account \(account))")
            }
        default:
            throw Self.invalid("type must be AWS_OWNED_KEY or CUSTOMER_MANAGED_KMS_KEY")
        }
    }

    static func invalid(_ why: String) -> ServiceError {
        ServiceError(.invalidEncryptionConfiguration, "Invalid Encryption Configuration: \(why).")
    }

    /// The key that seals an execution (or an activity's tasks) of this configuration;
    /// nil: stored in plaintext.
    ///
    /// - Throws: `KmsInvalidStateException` when the configuration names a key that is no
    ///   longer configured (removed from `encryption.keys` since): nothing may be stored
    ///   in plaintext instead.
    public func sealingKey(for text: String?, region: String, account: String, useDefault: Bool = true) throws(ServiceError) -> SealingKey? {
        let fallback = useDefault ? defaultKey.map { SealingKey(keyID: $0.id, reusePeriodSeconds: Self.defaultReusePeriodSeconds) } : nil
        guard text != nil, let c = Configuration(text), c.isCustomerManaged else { return fallback }
        guard let reference = c.kmsKeyId, let key = keyring.resolve(reference, region: region, account: account) else {
            throw ServiceError(
                .kmsInvalidState,
                "The KMS key '\(c.kmsKeyId ?? "")' is not available: it is not in this daemon's encryption.keys, so nothing can be encrypted with it")
        }
        return SealingKey(keyID: key.id, reusePeriodSeconds: c.reusePeriodSeconds ?? Self.defaultReusePeriodSeconds)
    }
}

/// The keys of activities (CreateActivity's `EncryptionConfiguration`): the outbox rows of
/// their tasks are sealed with them. Read once per activity from the store; forgotten when
/// the activity is created or deleted through `ResourceService`.
final class ActivityKeys: Sendable {
    private let keys = Mutex<[ActivityARN: SealingKey?]>([:])

    func key(_ arn: ActivityARN, store: any StatesStore, configuration: RuntimeConfiguration) async throws -> SealingKey? {
        if let known = keys.withLock({ $0[arn] }) { return known }
        let record = try await store.activity(arn: arn)
        // An activity's tasks follow its own key only: the execution's seals them otherwise.
        let key = try configuration.encryption.sealingKey(
            for: record?.encryptionConfiguration, region: configuration.region, account: configuration.account, useDefault: false)
        keys.withLock { $0[arn] = .some(key) }
        return key
    }

    func forget(_ arn: ActivityARN) { _ = keys.withLock { $0.removeValue(forKey: arn) } }
}
