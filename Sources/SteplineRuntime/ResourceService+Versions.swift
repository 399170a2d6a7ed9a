import StatesEngine
import StatesLanguage
import StatesStore
import ControlPlane

/// State machine updates, versions, aliases and tags, with AWS's errors.
extension ResourceService {
    /// AWS quotas (SFN-REFERENCE §1.14).
    public static let maxVersionsPerMachine = 1000
    public static let maxAliasesPerMachine = 100
    public static let maxTagsPerResource = 50

    /// A state machine ARN, split: the unqualified ARN and the qualifier (a version
    /// number or an alias name), if any.
    public struct MachineReference: Sendable, Equatable {
        public enum Qualifier: Sendable, Equatable {
            case none
            case version(Int)
            case alias(String)
        }

        public var machineArn: StateMachineARN
        public var name: String
        public var qualifier: Qualifier
    }

    /// Parses a state machine ARN, plain or qualified.
    /// - Throws: InvalidArn.
    public func reference(_ arn: StateMachineARN) throws -> MachineReference {
        guard let p = ARNs.parse(arn.rawValue), p.type == "stateMachine", p.names.count == 1 || p.names.count == 2,
            p.names.allSatisfy({ !$0.isEmpty })
        else { throw ServiceError.invalidArn(arn) }
        guard p.names.count == 2 else { return MachineReference(machineArn: arn, name: p.names[0], qualifier: .none) }
        let machineArn = StateMachineARN("arn:aws:states:\(p.region):\(p.account):stateMachine:\(p.names[0])")
        let q = p.names[1]
        if q.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            guard let n = Int(q), n > 0 else { throw ServiceError.invalidArn(arn) }
            return MachineReference(machineArn: machineArn, name: p.names[0], qualifier: .version(n))
        }
        return MachineReference(machineArn: machineArn, name: p.names[0], qualifier: .alias(q))
    }

    // MARK: Starting

    /// What an execution runs: the machine (through a version or an alias, if given).
    public struct StartTarget: Sendable {
        public var machine: StateMachineRecord
        public var definition: StateMachineDefinition
        public var versionArn: StateMachineARN?
        public var aliasArn: StateMachineARN?
    }

    /// Resolves StartExecution's `stateMachineArn`. An alias picks one of its versions by
    /// weight, with `draw` in 0..<100.
    func startTarget(_ arn: StateMachineARN, draw: @autoclosure () -> Int) async throws -> StartTarget {
        // A plain machine ARN enters the cache only after `reference` parsed it: a hit
        // needs no parse (StartExecution's common case).
        if let cached = machines.withLock({ $0[arn] }) {
            let (r, d) = try await startable(cached, arn)
            return StartTarget(machine: r, definition: d)
        }
        let ref = try reference(arn)
        var versionArn: StateMachineARN? = nil
        var aliasArn: StateMachineARN? = nil
        switch ref.qualifier {
        case .none:
            let (r, d) = try await stateMachineForStart(arn)
            return StartTarget(machine: r, definition: d)
        case .version:
            versionArn = arn
        case .alias:
            let alias = try await describeStateMachineAlias(arn: arn)
            aliasArn = arn
            let pick = draw()
            var acc = 0
            for route in alias.routingConfiguration {
                acc += route.weight
                if pick < acc {
                    versionArn = route.stateMachineVersionArn
                    break
                }
            }
            if versionArn == nil { versionArn = alias.routingConfiguration.last?.stateMachineVersionArn }
        }
        guard let versionArn else { throw ServiceError.stateMachineDoesNotExist(arn) }
        let v: StateMachineVersionRecord?
        do { v = try await store.stateMachineVersion(arn: versionArn) } catch { throw map(error) }
        guard let v else { throw ServiceError.stateMachineDoesNotExist(versionArn) }
        let d = try await definitions.definition(revisionId: v.revisionId, type: v.type)
        let record = StateMachineRecord(
            arn: v.stateMachineArn, name: ref.name, type: v.type, definition: v.definition, roleArn: v.roleArn,
            creationDate: v.creationDate, revisionId: v.revisionId, loggingConfiguration: v.loggingConfiguration,
            tracingConfiguration: v.tracingConfiguration, encryptionConfiguration: v.encryptionConfiguration)
        return StartTarget(machine: record, definition: d, versionArn: versionArn, aliasArn: aliasArn)
    }

    // MARK: Create with options, update

    /// CreateStateMachine's options beyond the machine itself.
    public struct CreateOptions: Sendable {
        public var publish = false
        public var versionDescription: String?
        public var tags: [(key: String, value: String)] = []
        public init(publish: Bool = false, versionDescription: String? = nil, tags: [(key: String, value: String)] = []) {
            self.publish = publish
            self.versionDescription = versionDescription
            self.tags = tags
        }
    }

    /// CreateStateMachine with `publish`, `versionDescription` and `tags`.
    /// - Returns: the machine and the version published, if any.
    public func createStateMachine(_ r: CreateStateMachine, options: CreateOptions) async throws
        -> (StateMachineRecord, StateMachineVersionRecord?)
    {
        if options.versionDescription != nil, !options.publish {
            throw ServiceError.validation("Version description can only be set when publish is true")
        }
        try Self.checkLogging(r.loggingConfiguration)
        guard options.tags.count <= Self.maxTagsPerResource else {
            throw ServiceError(.tooManyTags, "Too many tags: at most \(Self.maxTagsPerResource) tags per resource")
        }
        let machine = try await createStateMachine(r)
        if !options.tags.isEmpty {
            do {
                try await store.tagResource(resourceArn: ResourceARN(machine.arn), tags: options.tags, maxTags: Self.maxTagsPerResource)
            } catch { throw map(error) }
        }
        guard options.publish else { return (machine, nil) }
        let v = try await publishVersion(stateMachineArn: machine.arn, description: options.versionDescription, revisionId: nil)
        return (machine, v)
    }

    /// AWS behaviour: a logging level other than OFF needs exactly one destination.
    static func checkLogging(_ text: String?) throws {
        guard let text, let o = try? JSON.parse(text) else { return }
        let level = o["level"]?.stringValue ?? "OFF"
        let destinations = o["destinations"]?.arrayValue ?? []
        if (level != "OFF" && destinations.count != 1) || destinations.count > 1 {
            throw ServiceError(.invalidLoggingConfiguration, "Invalid Logging Configuration: Must specify exactly one Log Destination.")
        }
        for d in destinations {
            guard let arn = d["cloudWatchLogsLogGroup"]?["logGroupArn"]?.stringValue, arn.hasPrefix("arn:"), arn.contains(":log-group:")
            else {
                throw ServiceError(.invalidLoggingConfiguration, "Invalid Logging Configuration: Log Destination not found.")
            }
        }
    }

    public struct Update: Sendable {
        public var definition: String?
        public var roleArn: String?
        public var loggingConfiguration: String?
        public var tracingConfiguration: String?
        public var encryptionConfiguration: String?
        public var publish = false
        public var versionDescription: String?
        public init(definition: String? = nil, roleArn: String? = nil, loggingConfiguration: String? = nil,
                    tracingConfiguration: String? = nil, encryptionConfiguration: String? = nil, publish: Bool = false,
                    versionDescription: String? = nil)
        {
            self.definition = definition
            self.roleArn = roleArn
            self.loggingConfiguration = loggingConfiguration
            self.tracingConfiguration = tracingConfiguration
            self.encryptionConfiguration = encryptionConfiguration
            self.publish = publish
            self.versionDescription = versionDescription
        }
    }

    /// UpdateStateMachine: a new revision when anything changed; `publish` publishes it.
    /// Running executions keep the revision they started with.
    public func updateStateMachine(arn: StateMachineARN, _ u: Update) async throws -> (StateMachineRecord, StateMachineVersionRecord?) {
        let ref = try reference(arn)
        guard ref.qualifier == .none else { throw ServiceError.invalidArn(arn) }
        if u.versionDescription != nil, !u.publish {
            throw ServiceError.validation("Version description can only be set when publish is true")
        }
        guard u.definition != nil || u.roleArn != nil || u.loggingConfiguration != nil || u.tracingConfiguration != nil
            || u.encryptionConfiguration != nil || u.publish
        else {
            throw ServiceError(.missingRequiredParameter,
                               "Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified")
        }
        try Self.checkLogging(u.loggingConfiguration)
        try checkEncryption(u.encryptionConfiguration)
        var record = try await describeStateMachine(arn: arn)
        if record.status != "ACTIVE" { throw ServiceError(.stateMachineDeleting, "State Machine is being deleted: '\(arn)'") }
        var changed = false
        var parsed: StateMachineDefinition? = nil
        if let d = u.definition, d != record.definition {
            parsed = try parse(d, type: record.type)
            record.definition = d
            changed = true
        }
        if let r = u.roleArn, r != record.roleArn {
            record.roleArn = r
            changed = true
        }
        if let l = u.loggingConfiguration, l != record.loggingConfiguration {
            record.loggingConfiguration = l
            changed = true
        }
        if let t = u.tracingConfiguration, t != record.tracingConfiguration {
            record.tracingConfiguration = t
            changed = true
        }
        if let e = u.encryptionConfiguration, e != record.encryptionConfiguration {
            record.encryptionConfiguration = e
            changed = true
        }
        if changed {
            record.revisionId = RandomSource().uuidString()
            record.updateDate = clock.now()
            let arn = record.arn
            machines.withLock { $0[arn] = nil }
            do { try await store.updateStateMachine(record) } catch { throw map(error) }
            machines.withLock { $0[arn] = nil }
            if let parsed { definitions.put(record.revisionId, parsed) }
        } else if record.updateDate == nil {
            record.updateDate = clock.now()
        }
        guard u.publish else { return (record, nil) }
        let v = try await publishVersion(stateMachineArn: record.arn, description: u.versionDescription, revisionId: nil)
        return (record, v)
    }

    // MARK: Versions

    /// PublishStateMachineVersion.
    /// - Throws: StateMachineDoesNotExist, ConflictException (revision mismatch),
    ///   ServiceQuotaExceededException (1,000 versions).
    public func publishVersion(stateMachineArn arn: StateMachineARN, description: String?, revisionId: String?) async throws
        -> StateMachineVersionRecord
    {
        let ref = try reference(arn)
        guard ref.qualifier == .none else { throw ServiceError.invalidArn(arn) }
        do {
            return try await store.publishStateMachineVersion(
                stateMachineArn: arn, description: description, expectedRevisionId: revisionId, date: clock.now(),
                maxVersions: Self.maxVersionsPerMachine).0
        } catch StoreError.notFound {
            throw ServiceError.stateMachineDoesNotExist(arn)
        } catch StoreError.conflict {
            throw ServiceError(.conflict,
                               "Failed to publish the State Machine version for revision \(revisionId ?? ""). The current State Machine revision is different.")
        } catch StoreError.limitExceeded {
            throw ServiceError(.serviceQuotaExceeded,
                               "Cannot publish more than \(Self.maxVersionsPerMachine) versions for state machine '\(arn)'")
        } catch {
            throw map(error)
        }
    }

    public func describeStateMachineVersion(arn: StateMachineARN) async throws -> StateMachineVersionRecord {
        let ref = try reference(arn)
        guard case .version = ref.qualifier else { throw ServiceError.invalidArn(arn) }
        let v: StateMachineVersionRecord?
        do { v = try await store.stateMachineVersion(arn: arn) } catch { throw map(error) }
        guard let v else { throw ServiceError.stateMachineDoesNotExist(arn) }
        return v
    }

    public func listVersions(stateMachineArn arn: StateMachineARN, maxResults: Int?, nextToken: String?) async throws
        -> Page<StateMachineVersionRecord>
    {
        let ref = try reference(arn)
        guard ref.qualifier == .none else { throw ServiceError.invalidArn(arn) }
        do {
            return try await store.listStateMachineVersions(
                stateMachineArn: arn, limit: min(max(maxResults ?? 100, 1), 1000), after: nextToken)
        } catch { throw map(error) }
    }

    /// DeleteStateMachineVersion. AWS behaviour: deleting a version that does not exist
    /// succeeds; a version an alias routes to cannot be deleted (ConflictException).
    public func deleteVersion(arn: StateMachineARN) async throws {
        let ref = try reference(arn)
        guard case .version = ref.qualifier else { throw ServiceError.invalidArn(arn) }
        let aliases: [StateMachineAliasRecord]
        do {
            aliases = try await store.listStateMachineAliases(stateMachineArn: ref.machineArn, limit: 1000, after: nil).items
        } catch { throw map(error) }
        let using = aliases.filter { $0.routingConfiguration.contains { $0.stateMachineVersionArn == arn } }
        if !using.isEmpty {
            throw ServiceError(.conflict,
                               "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [\(using.map(\.name).joined(separator: ", "))]")
        }
        do { try await store.deleteStateMachineVersion(arn: arn) } catch { throw map(error) }
    }

    // MARK: Aliases

    /// Checks a routing configuration: one or two distinct versions of one machine, that
    /// exist, with weights adding up to 100.
    func checkRouting(_ routes: [StateMachineAliasRecord.Route]) async throws -> MachineReference {
        func invalid(_ m: String) -> ServiceError { ServiceError.validation(m) }
        guard !routes.isEmpty, routes.count <= 2 else {
            throw invalid("Routing configuration must contain one or two state machine versions")
        }
        var machine: MachineReference? = nil
        for r in routes {
            let ref = try reference(r.stateMachineVersionArn)
            guard case .version = ref.qualifier else { throw ServiceError.invalidArn(r.stateMachineVersionArn) }
            if let m = machine, m.machineArn != ref.machineArn {
                throw invalid("Routing configuration must contain state machine versions of the same state machine")
            }
            machine = ref
            let v: StateMachineVersionRecord?
            do { v = try await store.stateMachineVersion(arn: r.stateMachineVersionArn) } catch { throw map(error) }
            guard v != nil else {
                throw ServiceError(.resourceNotFound, "Resource not found: '\(r.stateMachineVersionArn)'")
            }
        }
        if routes.count == 2, routes[0].stateMachineVersionArn == routes[1].stateMachineVersionArn {
            throw invalid("Routing configuration must contain distinct state machine versions")
        }
        guard routes.reduce(0, { $0 + $1.weight }) == 100 else {
            throw invalid("Sum of routing configuration weights must be equal to 100")
        }
        return machine!
    }

    /// CreateStateMachineAlias. AWS behaviour: creating the same alias again with the same
    /// configuration returns it; a different one is ConflictException.
    public func createAlias(name: String, description: String?, routes: [StateMachineAliasRecord.Route]) async throws
        -> StateMachineAliasRecord
    {
        let machine = try await checkRouting(routes)
        let arn = StateMachineARN(machine.machineArn.rawValue + ":" + name)
        do {
            if let existing = try await store.stateMachineAlias(arn: arn) {
                if existing.description == description && existing.routingConfiguration == routes { return existing }
                throw ServiceError(.conflict, "Failed to create alias because an alias with the same name and a different routing configuration already exists.")
            }
            let count = try await store.listStateMachineAliases(stateMachineArn: machine.machineArn, limit: 1000, after: nil).items.count
            guard count < Self.maxAliasesPerMachine else {
                throw ServiceError(.serviceQuotaExceeded,
                                   "Cannot create more than \(Self.maxAliasesPerMachine) aliases for state machine '\(machine.machineArn)'")
            }
            let r = StateMachineAliasRecord(arn: arn, stateMachineArn: machine.machineArn, name: name, description: description,
                                            routingConfiguration: routes, creationDate: clock.now())
            try await store.putStateMachineAlias(r, create: true)
            return r
        } catch let e as ServiceError {
            throw e
        } catch StoreError.alreadyExists {
            throw ServiceError(.conflict, "Failed to create alias because an alias with the same name already exists.")
        } catch {
            throw map(error)
        }
    }

    public func describeStateMachineAlias(arn: StateMachineARN) async throws -> StateMachineAliasRecord {
        let ref = try reference(arn)
        guard case .alias = ref.qualifier else { throw ServiceError.invalidArn(arn) }
        let a: StateMachineAliasRecord?
        do { a = try await store.stateMachineAlias(arn: arn) } catch { throw map(error) }
        guard let a else { throw ServiceError(.resourceNotFound, "Resource not found: '\(arn)'") }
        return a
    }

    public func updateAlias(arn: StateMachineARN, description: String?, routes: [StateMachineAliasRecord.Route]?) async throws
        -> StateMachineAliasRecord
    {
        var a = try await describeStateMachineAlias(arn: arn)
        guard description != nil || routes != nil else {
            throw ServiceError(.missingRequiredParameter, "Either the description or the RoutingConfiguration must be specified")
        }
        if let routes {
            let machine = try await checkRouting(routes)
            guard machine.machineArn == a.stateMachineArn else {
                throw ServiceError.validation("Routing configuration must contain versions of the alias's state machine")
            }
            a.routingConfiguration = routes
        }
        if let description { a.description = description }
        a.updateDate = clock.now()
        do { try await store.putStateMachineAlias(a, create: false) } catch StoreError.notFound {
            throw ServiceError(.resourceNotFound, "Resource not found: '\(arn)'")
        } catch { throw map(error) }
        return a
    }

    public func deleteAlias(arn: StateMachineARN) async throws {
        _ = try await describeStateMachineAlias(arn: arn)
        do { try await store.deleteStateMachineAlias(arn: arn) } catch { throw map(error) }
    }

    public func listAliases(stateMachineArn arn: StateMachineARN, maxResults: Int?, nextToken: String?) async throws
        -> Page<StateMachineAliasRecord>
    {
        let ref = try reference(arn)
        guard ref.qualifier == .none else { throw ServiceError.invalidArn(arn) }
        _ = try await describeStateMachine(arn: arn)
        do {
            return try await store.listStateMachineAliases(
                stateMachineArn: arn, limit: min(max(maxResults ?? 100, 1), 1000), after: nextToken)
        } catch { throw map(error) }
    }

    // MARK: Tags

    /// The tagged resource must exist: a state machine or an activity (what its ARN names).
    private func checkTaggable(_ arn: ResourceARN) async throws {
        guard let p = ARNs.parse(arn.rawValue) else { throw ServiceError.invalidArn(arn) }
        let exists: Bool
        do {
            switch (p.type, p.names.count) {
            case ("stateMachine", 1): exists = try await store.stateMachine(arn: StateMachineARN(arn.rawValue)) != nil
            case ("activity", 1): exists = try await store.activity(arn: ActivityARN(arn.rawValue)) != nil
            default: throw ServiceError.invalidArn(arn)
            }
        } catch let e as ServiceError { throw e } catch { throw map(error) }
        guard exists else { throw ServiceError(.resourceNotFound, "Resource not found: '\(arn)'") }
    }

    public func tags(resourceArn arn: ResourceARN) async throws -> [(key: String, value: String)] {
        try await checkTaggable(arn)
        do { return try await store.tags(resourceArn: arn) } catch { throw map(error) }
    }

    public func tagResource(arn: ResourceARN, tags: [(key: String, value: String)]) async throws {
        try await checkTaggable(arn)
        do {
            try await store.tagResource(resourceArn: arn, tags: tags, maxTags: Self.maxTagsPerResource)
        } catch StoreError.limitExceeded {
            throw ServiceError(.tooManyTags, "Too many tags: '\(arn)' can have at most \(Self.maxTagsPerResource) tags")
        } catch { throw map(error) }
    }

    public func untagResource(arn: ResourceARN, keys: [String]) async throws {
        try await checkTaggable(arn)
        do { try await store.untagResource(resourceArn: arn, keys: keys) } catch { throw map(error) }
    }
}
