import GRDB

/// The SQLite schema, as versioned migrations. Append new migrations; never edit one that shipped.
///
/// Keys: executions have an integer `id` (the ARN is unique too); history chunks are keyed
/// by `(execution id << 32) | first sequence number`, one B-tree for all histories, each
/// execution's chunks adjacent and in order.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE state_machines (
                    arn TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    revision_id TEXT NOT NULL,
                    role_arn TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'ACTIVE',
                    description TEXT,
                    logging_configuration TEXT,
                    tracing_configuration TEXT,
                    encryption_configuration TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER
                );
                CREATE TABLE definitions (
                    revision_id TEXT PRIMARY KEY,
                    state_machine_arn TEXT NOT NULL,
                    definition TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE tags (
                    resource_arn TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (resource_arn, key)
                ) WITHOUT ROWID;
                CREATE TABLE activities (
                    arn TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL,
                    encryption_configuration TEXT
                );
                CREATE TABLE executions (
                    id INTEGER PRIMARY KEY,
                    arn TEXT NOT NULL UNIQUE,
                    state_machine_arn TEXT NOT NULL,
                    name TEXT NOT NULL,
                    type TEXT NOT NULL,
                    revision_id TEXT NOT NULL,
                    status TEXT NOT NULL,
                    input TEXT NOT NULL,
                    output TEXT,
                    error TEXT,
                    cause TEXT,
                    start_date INTEGER NOT NULL,
                    stop_date INTEGER,
                    next_due INTEGER,
                    last_event_id INTEGER NOT NULL DEFAULT 0,
                    event_count INTEGER NOT NULL DEFAULT 0,
                    role_arn TEXT,
                    trace_header TEXT,
                    version_arn TEXT,
                    alias_arn TEXT,
                    map_run_arn TEXT,
                    redrive_count INTEGER NOT NULL DEFAULT 0,
                    redrive_date INTEGER,
                    redrive_status TEXT,
                    redrive_status_reason TEXT
                );
                CREATE INDEX executions_by_machine ON executions(state_machine_arn, start_date);
                CREATE INDEX executions_by_start ON executions(start_date);
                CREATE INDEX executions_due ON executions(next_due) WHERE next_due IS NOT NULL;
                CREATE INDEX executions_stopped ON executions(stop_date) WHERE stop_date IS NOT NULL;
                CREATE TABLE history (
                    key INTEGER PRIMARY KEY,
                    count INTEGER NOT NULL,
                    last_event_id INTEGER NOT NULL,
                    data BLOB NOT NULL
                );
                CREATE TABLE tasks (
                    token TEXT PRIMARY KEY,
                    execution_id INTEGER NOT NULL,
                    thread INTEGER NOT NULL,
                    state_name TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    activity_arn TEXT,
                    status TEXT NOT NULL,
                    timeout_seconds INTEGER,
                    heartbeat_seconds INTEGER,
                    scheduled_event_id INTEGER NOT NULL,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX tasks_by_execution ON tasks(execution_id);
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    execution_id INTEGER NOT NULL,
                    token TEXT,
                    kind TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    key BLOB,
                    payload BLOB NOT NULL,
                    headers TEXT,
                    status TEXT NOT NULL DEFAULT 'PENDING',
                    created_at INTEGER NOT NULL,
                    sent_at INTEGER
                );
                CREATE INDEX outbox_pending ON outbox(id) WHERE status = 'PENDING';
                CREATE INDEX outbox_by_token ON outbox(token) WHERE token IS NOT NULL;
                CREATE INDEX outbox_by_execution ON outbox(execution_id);
                """)
        }
        // Versions, aliases; ListExecutions by version or alias.
        m.registerMigration("v2-versions-aliases") { db in
            try db.execute(sql: """
                ALTER TABLE state_machines ADD COLUMN version_counter INTEGER NOT NULL DEFAULT 0;
                CREATE TABLE state_machine_versions (
                    arn TEXT PRIMARY KEY,
                    machine_arn TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    revision_id TEXT NOT NULL,
                    role_arn TEXT NOT NULL,
                    type TEXT NOT NULL,
                    description TEXT,
                    logging_configuration TEXT,
                    tracing_configuration TEXT,
                    encryption_configuration TEXT,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX versions_by_machine ON state_machine_versions(machine_arn, version);
                CREATE TABLE state_machine_aliases (
                    arn TEXT PRIMARY KEY,
                    machine_arn TEXT NOT NULL,
                    name TEXT NOT NULL,
                    description TEXT,
                    routing TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER
                );
                CREATE INDEX aliases_by_machine ON state_machine_aliases(machine_arn, name);
                CREATE INDEX executions_by_version ON executions(version_arn, start_date) WHERE version_arn IS NOT NULL;
                CREATE INDEX executions_by_alias ON executions(alias_arn, start_date) WHERE alias_arn IS NOT NULL;
                """)
        }
        // Encryption at rest: the key an execution's data is sealed with (fixed at its
        // start) and its data key reuse period; the key of a sealed outbox row.
        m.registerMigration("v3-encryption") { db in
            try db.execute(sql: """
                ALTER TABLE executions ADD COLUMN key_id TEXT;
                ALTER TABLE executions ADD COLUMN key_reuse_seconds INTEGER;
                ALTER TABLE outbox ADD COLUMN key_id TEXT;
                """)
        }
        return m
    }

    static func historyKey(execution id: Int64, sequence: Int) -> Int64 { (id << 32) | Int64(sequence) }
}
