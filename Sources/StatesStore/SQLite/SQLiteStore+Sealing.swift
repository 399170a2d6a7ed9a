import Foundation
import GRDB
import StatesEngine
import SteplineSecurity

/// Encryption at rest at the store's edge: the values of a sealed execution are sealed just
/// before they are bound, and opened just after they are read.
///
/// Which values: every column that holds execution data: `executions.input`, `output`,
/// `error`, `cause`; `history.data` (the events: inputs, outputs, variables, Map results,
/// errors); `outbox.key`, `payload`, `headers` (task requests, activity tasks, status events,
/// records to publish). A row says whether it is sealed: `executions.key_id` (the key fixed
/// at the execution's start; its history follows it) and `outbox.key_id`; an unsealed row
/// is read as before, with nothing added to its path.
///
/// A sealed value is bound as a BLOB (`DataSealer`'s format, which names its master key),
/// authenticated with where it lives (the field and the execution's ARN), so that a value
/// copied into another row or column does not open.
extension SQLiteStore {
    /// Where a sealed value lives: part of what its ciphertext authenticates.
    enum SealedField {
        case input, output, error, cause
        /// A history chunk, by its first sequence number.
        case history(Int)
        case outboxKey, outboxPayload, outboxHeaders

        func context(_ arn: ExecutionARN) -> String {
            switch self {
            case .input: "input\n\(arn.rawValue)"
            case .output: "output\n\(arn.rawValue)"
            case .error: "error\n\(arn.rawValue)"
            case .cause: "cause\n\(arn.rawValue)"
            case .history(let first): "history/\(first)\n\(arn.rawValue)"
            case .outboxKey: "outbox-key\n\(arn.rawValue)"
            case .outboxPayload: "outbox-payload\n\(arn.rawValue)"
            case .outboxHeaders: "outbox-headers\n\(arn.rawValue)"
            }
        }
    }

    /// Seals the values of one execution (or of one outbox row) with one key.
    struct Sealing {
        let sealer: DataSealer
        let key: SealingKey
        let arn: ExecutionARN

        /// - Returns: nil for an execution without a key.
        /// - Throws: `.encryption` when it has a key and the store has no keys.
        static func make(_ key: SealingKey?, _ arn: ExecutionARN, _ sealer: DataSealer?) throws -> Sealing? {
            guard let key else { return nil }
            guard let sealer else {
                throw StoreError.encryption(
                    "cannot encrypt the data of execution \(arn): the KMS key \(key.keyID) is not configured (no encryption.keys)")
            }
            return Sealing(sealer: sealer, key: key, arn: arn)
        }

        func seal(_ bytes: [UInt8], _ field: SealedField) throws -> [UInt8] {
            do {
                return try sealer.seal(bytes, keyID: key.keyID, reusePeriodSeconds: key.reusePeriodSeconds, context: field.context(arn))
            } catch {
                throw StoreError.encryption("cannot encrypt the data of execution \(arn): \(error)")
            }
        }
    }

    /// A value as stored: plaintext (text or bytes) when `sealed` is false, else opened.
    /// - Returns: nil for NULL.
    /// - Throws: `.encryption`, naming the execution and the key.
    static func opened(_ value: DatabaseValue, sealed: Bool, _ field: SealedField, _ arn: ExecutionARN, _ sealer: DataSealer?) throws
        -> [UInt8]?
    {
        let bytes: [UInt8]
        switch value.storage {
        case .null: return nil
        case .blob(let d): bytes = [UInt8](d)
        case .string(let s): bytes = Array(s.utf8)
        case .int64(let i): bytes = Array(String(i).utf8)
        case .double(let d): bytes = Array(String(d).utf8)
        }
        guard sealed else { return bytes }
        guard let sealer else {
            let key = (try? DataSealer.keyID(of: bytes)) ?? "?"
            throw StoreError.encryption(
                "cannot decrypt the data of execution \(arn): the KMS key \(key) is not configured (no encryption.keys)")
        }
        do {
            return try sealer.open(bytes, context: field.context(arn))
        } catch {
            throw StoreError.encryption("cannot decrypt the data of execution \(arn): \(error)")
        }
    }

    static func openedText(_ value: DatabaseValue, sealed: Bool, _ field: SealedField, _ arn: ExecutionARN, _ sealer: DataSealer?) throws
        -> String?
    {
        if !sealed, case .string(let s) = value.storage { return s }
        return try opened(value, sealed: sealed, field, arn, sealer).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The message of an `.encryption` error, or the error again.
    static func encryptionMessage(_ error: any Error) throws -> String {
        guard case StoreError.encryption(let m) = error else { throw error }
        return m
    }
}

extension BoundStatement {
    /// Binds text, sealed (a BLOB) when `sealing` is set.
    mutating func bind(_ text: String?, _ sealing: SQLiteStore.Sealing?, _ field: SQLiteStore.SealedField) throws {
        guard let sealing, let text else { return bind(text) }
        bind(try sealing.seal(Array(text.utf8), field))
    }

    /// Binds bytes, sealed when `sealing` is set.
    mutating func bind(_ bytes: [UInt8]?, _ sealing: SQLiteStore.Sealing?, _ field: SQLiteStore.SealedField) throws {
        guard let sealing, let bytes else { return bind(bytes) }
        bind(try sealing.seal(bytes, field))
    }
}
