import StatesEngine
import StatesLanguage
import StatesStore
import Synchronization
import ControlPlane

/// State machines and activities: create, describe, list, delete, with AWS's errors.
public final class ResourceService: Sendable {
    let store: any StatesStore
    let definitions: DefinitionCache
    let clock: any RuntimeClock
    let configuration: RuntimeConfiguration
    /// State machines by ARN, for StartExecution (no store read per start). Kept in step
    /// with create/update/delete through this service.
    let machines = Mutex<[StateMachineARN: StateMachineRecord]>([:])
    /// Activities' keys, as the executor uses them: forgotten when an activity changes.
    let activityKeys: ActivityKeys

    init(store: any StatesStore, definitions: DefinitionCache, clock: any RuntimeClock, configuration: RuntimeConfiguration,
         activityKeys: ActivityKeys = ActivityKeys())
    {
        self.store = store
        self.definitions = definitions
        self.clock = clock
        self.configuration = configuration
        self.activityKeys = activityKeys
    }

    /// AWS's checks of an `EncryptionConfiguration` (`EncryptionPolicy.check`).
    func checkEncryption(_ text: String?) throws {
        try configuration.encryption.check(text, region: configuration.region, account: configuration.account)
    }

    public struct CreateStateMachine: Sendable {
        public var name: String
        public var definition: String
        public var roleArn: String
        public var type: String
        public var loggingConfiguration: String?
        public var tracingConfiguration: String?
        public var encryptionConfiguration: String?

        public init(name: String, definition: String, roleArn: String, type: String = "STANDARD",
                    loggingConfiguration: String? = nil, tracingConfiguration: String? = nil,
                    encryptionConfiguration: String? = nil)
        {
            self.name = name
            self.definition = definition
            self.roleArn = roleArn
            self.type = type
            self.loggingConfiguration = loggingConfiguration
            self.tracingConfiguration = tracingConfiguration
            self.encryptionConfiguration = encryptionConfiguration
        }
    }

    func map(_ error: any Error) -> any Error { ExecutionShard.map(error) }

    func parse(_ text: String, type: String) throws -> StateMachineDefinition {
        do {
            return try StateMachineDefinition.parse(
                text, options: DefinitionOptions(machineType: type == "EXPRESS" ? .express : .standard))
        } catch {
            throw ServiceError(.invalidDefinition, error.message)
        }
    }

    /// CreateStateMachine. AWS behaviour: creating the same machine again (same name,
    /// definition, role, type and encryption configuration) returns the existing one;
    /// anything different is StateMachineAlreadyExists.
    public func createStateMachine(_ r: CreateStateMachine) async throws -> StateMachineRecord {
        try Validation.name(r.name)
        guard r.type == "STANDARD" || r.type == "EXPRESS" else {
            throw ServiceError.validation("1 validation error detected: Value '\(r.type)' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
        }
        let definition = try parse(r.definition, type: r.type)
        try checkEncryption(r.encryptionConfiguration)
        let arn = StateMachineARN(ARNs.stateMachine(region: configuration.region, account: configuration.account, name: r.name))
        do {
            if let existing = try await store.stateMachine(arn: arn) {
                if existing.definition == r.definition, existing.roleArn == r.roleArn, existing.type == r.type,
                    EncryptionPolicy.Configuration(existing.encryptionConfiguration) == EncryptionPolicy.Configuration(r.encryptionConfiguration)
                {
                    return existing
                }
                throw ServiceError(.stateMachineAlreadyExists, "State Machine Already Exists: '\(arn)'")
            }
            let record = StateMachineRecord(
                arn: arn, name: r.name, type: r.type, definition: r.definition, roleArn: r.roleArn,
                creationDate: clock.now(), revisionId: RandomSource().uuidString(),
                loggingConfiguration: r.loggingConfiguration, tracingConfiguration: r.tracingConfiguration,
                encryptionConfiguration: r.encryptionConfiguration)
            try await store.createStateMachine(record)
            definitions.put(record.revisionId, definition)
            return record
        } catch StoreError.alreadyExists {
            throw ServiceError(.stateMachineAlreadyExists, "State Machine Already Exists: '\(arn)'")
        } catch {
            throw map(error)
        }
    }

    /// Creates the machine, or updates its definition and role when it exists (the
    /// `stateMachines:` section of the configuration file, loaded at start).
    public func putStateMachine(_ r: CreateStateMachine) async throws -> StateMachineRecord {
        let arn = StateMachineARN(ARNs.stateMachine(region: configuration.region, account: configuration.account, name: r.name))
        let existing: StateMachineRecord?
        do { existing = try await store.stateMachine(arn: arn) } catch { throw map(error) }
        guard var record = existing else { return try await createStateMachine(r) }
        if record.definition == r.definition && record.roleArn == r.roleArn && record.type == r.type { return record }
        guard record.type == r.type else {
            throw ServiceError.validation("State machine \(r.name) is \(record.type); its type cannot change to \(r.type)")
        }
        let definition = try parse(r.definition, type: r.type)
        record.definition = r.definition
        record.roleArn = r.roleArn
        record.revisionId = RandomSource().uuidString()
        record.updateDate = clock.now()
        machines.withLock { $0[arn] = nil }
        do { try await store.updateStateMachine(record) } catch { throw map(error) }
        machines.withLock { $0[arn] = nil }
        definitions.put(record.revisionId, definition)
        return record
    }

    public func describeStateMachine(arn: StateMachineARN) async throws -> StateMachineRecord {
        try Validation.stateMachineArn(arn)
        let r: StateMachineRecord?
        do { r = try await store.stateMachine(arn: arn) } catch { throw map(error) }
        guard let r else { throw ServiceError.stateMachineDoesNotExist(arn) }
        return r
    }

    func stateMachineForStart(_ arn: StateMachineARN) async throws -> (record: StateMachineRecord, definition: StateMachineDefinition) {
        let r: StateMachineRecord
        if let cached = machines.withLock({ $0[arn] }) {
            r = cached
        } else {
            r = try await describeStateMachine(arn: arn)
            machines.withLock { $0[arn] = r }
        }
        return try await startable(r, arn)
    }

    /// A machine record that can start executions, with its parsed definition.
    func startable(_ r: StateMachineRecord, _ arn: StateMachineARN) async throws -> (record: StateMachineRecord, definition: StateMachineDefinition) {
        guard r.status == "ACTIVE" else { throw ServiceError(.stateMachineDeleting, "State Machine is being deleted: '\(arn)'") }
        let d = try await definitions.definition(revisionId: r.revisionId, type: r.type)
        return (r, d)
    }

    public func listStateMachines(maxResults: Int?, nextToken: String?) async throws -> Page<StateMachineRecord> {
        do {
            return try await store.listStateMachines(limit: min(max(maxResults ?? 100, 1), 1000), after: nextToken)
        } catch {
            throw map(error)
        }
    }

    /// DeleteStateMachine. Running executions go on with their definition.
    public func deleteStateMachine(arn: StateMachineARN) async throws {
        try Validation.stateMachineArn(arn)
        machines.withLock { $0[arn] = nil }
        do { try await store.deleteStateMachine(arn: arn) } catch { throw map(error) }
        machines.withLock { $0[arn] = nil }
    }

    // MARK: Activities

    /// CreateActivity; idempotent by name.
    public func createActivity(name: String, encryptionConfiguration: String? = nil) async throws -> ActivityRecord {
        try Validation.name(name)
        try checkEncryption(encryptionConfiguration)
        let arn = ActivityARN(ARNs.activity(region: configuration.region, account: configuration.account, name: name))
        do {
            if let existing = try await store.activity(arn: arn) { return existing }
            let r = ActivityRecord(arn: arn, name: name, creationDate: clock.now(), encryptionConfiguration: encryptionConfiguration)
            try await store.createActivity(r)
            activityKeys.forget(arn)
            return r
        } catch StoreError.alreadyExists {
            guard let existing = try? await store.activity(arn: arn) else { throw ServiceError.activityDoesNotExist(arn) }
            return existing
        } catch {
            throw map(error)
        }
    }

    public func describeActivity(arn: ActivityARN) async throws -> ActivityRecord {
        try Validation.activityArn(arn)
        let r: ActivityRecord?
        do { r = try await store.activity(arn: arn) } catch { throw map(error) }
        guard let r else { throw ServiceError.activityDoesNotExist(arn) }
        return r
    }

    public func listActivities(maxResults: Int?, nextToken: String?) async throws -> Page<ActivityRecord> {
        do {
            return try await store.listActivities(limit: min(max(maxResults ?? 100, 1), 1000), after: nextToken)
        } catch {
            throw map(error)
        }
    }

    public func deleteActivity(arn: ActivityARN) async throws {
        try Validation.activityArn(arn)
        do { try await store.deleteActivity(arn: arn) } catch { throw map(error) }
        activityKeys.forget(arn)
    }
}

/// Input checks shared by the services, with AWS's errors.
public enum Validation {
    /// Names of state machines, executions and activities: 1-80 characters, none of
    /// whitespace, `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /` or control characters.
    public static func name(_ name: String) throws {
        let forbidden: Set<Character> = ["<", ">", "{", "}", "[", "]", "?", "*", "\"", "#", "%", "\\", "^", "|", "~", "`", "$", "&", ",", ";", ":", "/"]
        guard (1...80).contains(name.count),
            !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }),
            !name.contains(where: { forbidden.contains($0) })
        else { throw ServiceError.invalidName(name) }
    }

    static func arn(_ arn: some StatesIdentifier, type: String) throws {
        guard let p = ARNs.parse(arn.rawValue), p.type == type else { throw ServiceError.invalidArn(arn) }
    }

    public static func stateMachineArn(_ arn: StateMachineARN) throws { try Self.arn(arn, type: "stateMachine") }
    public static func activityArn(_ arn: ActivityARN) throws { try Self.arn(arn, type: "activity") }
    public static func executionArn(_ arn: ExecutionARN) throws {
        guard let p = ARNs.parse(arn.rawValue), p.type == "execution" || p.type == "express" else { throw ServiceError.invalidArn(arn) }
    }
}
