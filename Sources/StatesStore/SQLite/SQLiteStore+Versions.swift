import GRDB
import StatesEngine
import StatesLanguage

/// Versions, aliases and tags (migration `v2-versions-aliases`).
extension SQLiteStore {
    private static let versionColumns = """
        v.arn, v.machine_arn, v.version, v.revision_id, d.definition, v.role_arn, v.type, v.description,
        v.logging_configuration, v.tracing_configuration, v.encryption_configuration, v.created_at
        """

    private static func version(_ row: Row) -> StateMachineVersionRecord {
        StateMachineVersionRecord(
            arn: StateMachineARN(row[0]), stateMachineArn: StateMachineARN(row[1]), version: row[2], revisionId: row[3],
            definition: row[4] ?? "", roleArn: row[5], type: row[6], description: row[7], loggingConfiguration: row[8],
            tracingConfiguration: row[9], encryptionConfiguration: row[10], creationDate: row[11])
    }

    private static func fetchVersion(_ db: Database, arn: StateMachineARN) throws -> StateMachineVersionRecord? {
        try Row.fetchOne(db, sql: """
            SELECT \(versionColumns) FROM state_machine_versions v LEFT JOIN definitions d ON d.revision_id = v.revision_id
            WHERE v.arn = ?
            """, arguments: [arn.rawValue]).map(version)
    }

    public func publishStateMachineVersion(stateMachineArn: StateMachineARN, description: String?, expectedRevisionId: String?,
                                           date: Int64, maxVersions: Int) async throws
        -> (StateMachineVersionRecord, created: Bool)
    {
        try await write("publishing a version of \(stateMachineArn)") { db in
            guard let m = try Row.fetchOne(db, sql: """
                SELECT revision_id, role_arn, type, logging_configuration, tracing_configuration, encryption_configuration,
                    version_counter FROM state_machines WHERE arn = ?
                """, arguments: [stateMachineArn.rawValue])
            else { throw StoreError.notFound(stateMachineArn.rawValue) }
            let revision: String = m[0]
            if let expectedRevisionId, expectedRevisionId != revision {
                throw StoreError.conflict("revision \(expectedRevisionId) is not the current revision \(revision)")
            }
            if let latestArn = try String.fetchOne(db, sql: """
                SELECT arn FROM state_machine_versions WHERE machine_arn = ? ORDER BY version DESC LIMIT 1
                """, arguments: [stateMachineArn.rawValue]),
                let latest = try Self.fetchVersion(db, arn: StateMachineARN(latestArn)),
                latest.revisionId == revision
            {
                return (latest, false)
            }
            let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM state_machine_versions WHERE machine_arn = ?",
                                         arguments: [stateMachineArn.rawValue]) ?? 0
            guard count < maxVersions else { throw StoreError.limitExceeded("\(maxVersions) versions") }
            let counter: Int = m[6]
            let number = counter + 1
            let arn = StateMachineARN("\(stateMachineArn):\(number)")
            try db.execute(sql: "UPDATE state_machines SET version_counter = ? WHERE arn = ?",
                           arguments: [number, stateMachineArn.rawValue])
            try db.execute(sql: """
                INSERT INTO state_machine_versions (arn, machine_arn, version, revision_id, role_arn, type, description,
                    logging_configuration, tracing_configuration, encryption_configuration, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [arn.rawValue, stateMachineArn.rawValue, number, revision, m[1] as String, m[2] as String, description,
                                 m[3] as String?, m[4] as String?, m[5] as String?, date])
            guard let v = try Self.fetchVersion(db, arn: arn) else { throw StoreError.failed("version \(arn) not written") }
            return (v, true)
        }
    }

    public func stateMachineVersion(arn: StateMachineARN) async throws -> StateMachineVersionRecord? {
        try await read("reading version") { db in try Self.fetchVersion(db, arn: arn) }
    }

    public func listStateMachineVersions(stateMachineArn: StateMachineARN, limit: Int, after: String?) async throws
        -> Page<StateMachineVersionRecord>
    {
        try await read("listing versions") { db in
            let below = after.flatMap(Int.init) ?? Int.max
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.versionColumns) FROM state_machine_versions v LEFT JOIN definitions d ON d.revision_id = v.revision_id
                WHERE v.machine_arn = ? AND v.version < ? ORDER BY v.version DESC LIMIT ?
                """, arguments: [stateMachineArn.rawValue, below, limit + 1])
            let items = rows.prefix(limit).map(Self.version)
            return Page(items: Array(items), next: rows.count > limit ? items.last.map { String($0.version) } : nil)
        }
    }

    public func deleteStateMachineVersion(arn: StateMachineARN) async throws {
        try await write("deleting version") { db in
            try db.execute(sql: "DELETE FROM state_machine_versions WHERE arn = ?", arguments: [arn.rawValue])
        }
    }

    // MARK: Aliases

    static func encodeRoutes(_ routes: [StateMachineAliasRecord.Route]) -> String {
        JSON.array(routes.map { ["stateMachineVersionArn": .string($0.stateMachineVersionArn.rawValue), "weight": .int(Int64($0.weight))] })
            .serialized()
    }

    static func decodeRoutes(_ text: String) -> [StateMachineAliasRecord.Route] {
        guard let items = (try? JSON.parse(text))?.arrayValue else { return [] }
        return items.compactMap { item in
            guard let arn = item["stateMachineVersionArn"]?.stringValue, let w = item["weight"]?.integerValue else { return nil }
            return .init(stateMachineVersionArn: StateMachineARN(arn), weight: Int(w))
        }
    }

    private static func alias(_ row: Row) -> StateMachineAliasRecord {
        StateMachineAliasRecord(
            arn: StateMachineARN(row[0]), stateMachineArn: StateMachineARN(row[1]), name: row[2], description: row[3],
            routingConfiguration: decodeRoutes(row[4]),
            creationDate: row[5], updateDate: row[6])
    }

    private static let aliasColumns = "arn, machine_arn, name, description, routing, created_at, updated_at"

    public func putStateMachineAlias(_ r: StateMachineAliasRecord, create: Bool) async throws {
        try await write("writing alias \(r.arn)") { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM state_machine_aliases WHERE arn = ?",
                                           arguments: [r.arn.rawValue]) != nil
            if create, exists { throw StoreError.alreadyExists(r.arn.rawValue) }
            if !create, !exists { throw StoreError.notFound(r.arn.rawValue) }
            try db.execute(sql: """
                INSERT OR REPLACE INTO state_machine_aliases (arn, machine_arn, name, description, routing, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [r.arn.rawValue, r.stateMachineArn.rawValue, r.name, r.description, Self.encodeRoutes(r.routingConfiguration),
                                 r.creationDate, r.updateDate])
        }
    }

    public func stateMachineAlias(arn: StateMachineARN) async throws -> StateMachineAliasRecord? {
        try await read("reading alias") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.aliasColumns) FROM state_machine_aliases WHERE arn = ?", arguments: [arn.rawValue])
                .map(Self.alias)
        }
    }

    public func listStateMachineAliases(stateMachineArn: StateMachineARN, limit: Int, after: String?) async throws
        -> Page<StateMachineAliasRecord>
    {
        try await read("listing aliases") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT \(Self.aliasColumns) FROM state_machine_aliases WHERE machine_arn = ? AND name > ? ORDER BY name LIMIT ?
                """, arguments: [stateMachineArn.rawValue, after ?? "", limit + 1])
            let items = rows.prefix(limit).map(Self.alias)
            return Page(items: Array(items), next: rows.count > limit ? items.last?.name : nil)
        }
    }

    public func deleteStateMachineAlias(arn: StateMachineARN) async throws {
        try await write("deleting alias") { db in
            try db.execute(sql: "DELETE FROM state_machine_aliases WHERE arn = ?", arguments: [arn.rawValue])
        }
    }

    // MARK: Tags

    public func tags(resourceArn: ResourceARN) async throws -> [(key: String, value: String)] {
        try await read("reading tags") { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key", arguments: [resourceArn.rawValue])
                .map { (key: $0[0] as String, value: $0[1] as String) }
        }
    }

    public func tagResource(resourceArn: ResourceARN, tags: [(key: String, value: String)], maxTags: Int) async throws {
        try await write("tagging") { db in
            let existing = Set(try String.fetchAll(db, sql: "SELECT key FROM tags WHERE resource_arn = ?", arguments: [resourceArn.rawValue]))
            let total = existing.union(tags.map(\.key)).count
            guard total <= maxTags else { throw StoreError.limitExceeded("\(maxTags) tags") }
            for t in tags {
                try db.execute(sql: "INSERT OR REPLACE INTO tags (resource_arn, key, value) VALUES (?, ?, ?)",
                               arguments: [resourceArn.rawValue, t.key, t.value])
            }
        }
    }

    public func untagResource(resourceArn: ResourceARN, keys: [String]) async throws {
        try await write("untagging") { db in
            for k in keys {
                try db.execute(sql: "DELETE FROM tags WHERE resource_arn = ? AND key = ?", arguments: [resourceArn.rawValue, k])
            }
        }
    }
}
