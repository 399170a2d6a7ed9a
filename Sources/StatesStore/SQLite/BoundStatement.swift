import GRDB
import GRDBSQLite
import StatesEngine

/// Runs a cached statement of the commit path through SQLite's C API: binds values in
/// order, steps it to completion, resets it.
///
/// GRDB's `execute(arguments:)` boxes every value into `StatementArguments` and converts
/// it again to bind it: that was about two thirds of the single writer's CPU per step, on
/// the path every execution waits on. Statements run this way are the same cached GRDB
/// statements (GRDB resets and rebinds them when it runs them itself), in the writer's
/// transaction; errors come out as GRDB's `DatabaseError`, so `SQLiteStore.map` reads them.
struct BoundStatement: ~Copyable {
    private let statement: Statement
    private let handle: OpaquePointer
    private var index: Int32 = 0

    init(_ statement: Statement) {
        self.statement = statement
        handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    mutating func bind(_ value: Int64?) {
        index += 1
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    mutating func bind(_ value: String?) {
        index += 1
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        _ = value.withUTF8 { text in
            // An empty buffer may have no address, which SQLite would bind as NULL.
            if let base = text.baseAddress {
                sqlite3_bind_text(handle, index, base, Int32(text.count), transient)
            } else {
                sqlite3_bind_text(handle, index, "", 0, nil)
            }
        }
    }

    /// Binds an identifier as its text: the column holds what untyped versions wrote.
    mutating func bind<ID: StatesIdentifier>(_ value: ID?) { bind(value?.rawValue) }

    mutating func bind(_ value: [UInt8]?) {
        index += 1
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        _ = value.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress {
                sqlite3_bind_blob(handle, index, base, Int32(bytes.count), transient)
            } else {
                sqlite3_bind_zeroblob(handle, index, 0)
            }
        }
    }

    /// Runs the statement; returns the rows it changed.
    @discardableResult
    consuming func run(_ db: Database) throws -> Int {
        let code = sqlite3_step(handle)
        defer { sqlite3_reset(handle) }
        guard code == SQLITE_DONE else {
            let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        return Int(sqlite3_changes(db.sqliteConnection))
    }
}

/// SQLite copies the value before the bind call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
