import Foundation
import Synchronization

/// The SQL engine behind a store. Migrations and the few dialect differences key off it.
public enum Engine: String, Sendable {
    case sqlite
    case postgres
}

/// One blocking connection to a SQL engine, implemented by the driver targets.
///
/// A connection is used by one thread at a time; ``Database`` guarantees that by keeping it
/// behind a mutex. Drivers translate `$n` placeholders and map engine errors to ``StoreError``.
public protocol Connection: AnyObject {
    var engine: Engine { get }
    /// Runs one statement with bound parameters, returning its rows (empty for non-queries).
    func query(_ sql: SQL) throws(StoreError) -> [Row]
    /// Runs a script of several statements without parameters (migrations only).
    func executeScript(_ script: String) throws(StoreError)
    /// Bulk-inserts rows into `table`; drivers use COPY (PostgreSQL) or a prepared loop (SQLite).
    func insertMany(table: SQL.Identifier, columns: [SQL.Identifier], rows: [[SQLValue]]) throws(StoreError)
    /// Runs one statement and hands its rows to `body` one at a time, without collecting them.
    func forEachRow(_ sql: SQL, _ body: (any RowCursor) throws -> Void) throws
}

/// The handle stage code and the ledger use to read and write inside one transaction.
///
/// It is only valid inside the closure that received it; it must not escape.
public struct Transaction: ~Copyable {
    let connection: any Connection

    public var engine: Engine { connection.engine }

    @discardableResult
    public func query(_ sql: SQL) throws(StoreError) -> [Row] {
        try connection.query(sql)
    }

    public func execute(_ sql: SQL) throws(StoreError) {
        _ = try connection.query(sql)
    }

    /// Inserts many rows at once (a prepared statement on SQLite, `COPY` on PostgreSQL). The
    /// table and column names are spliced into the statement, so each must be a name.
    public func insertMany(table: String, columns: [String], rows: [[SQLValue]]) throws(StoreError) {
        var names: [SQL.Identifier] = []
        for column in columns { names.append(try SQL.Identifier(column)) }
        try connection.insertMany(table: try SQL.Identifier(table), columns: names, rows: rows)
    }
}

/// A store: one connection behind a mutex, transactions as closures.
///
/// Following GRDB's rule "connect to any database file only once", a process holds one
/// `Database` per store and every write goes through ``transaction(_:)``: one ledger
/// transition is one transaction. The closure is synchronous, so the lock is never held
/// across a suspension point.
public final class Database: Sendable {
    public let engine: Engine
    /// Where the store is, with any password removed; safe to print.
    public let displayName: String
    private let connection: Mutex<any Connection>
    private let openReader: (@Sendable () throws(StoreError) -> any Connection)?

    /// - Parameter reader: opens another connection to the same store, for ``snapshot(_:)``;
    ///   without it, snapshots share the main connection (and hold its lock while they read).
    public init(
        connection: sending any Connection, displayName: String,
        reader: (@Sendable () throws(StoreError) -> any Connection)? = nil
    ) {
        engine = connection.engine
        self.displayName = displayName
        self.connection = Mutex(connection)
        openReader = reader
    }

    /// Runs `body` on a read-only, repeatable-read snapshot of the store.
    ///
    /// With a reader factory the snapshot has a connection of its own (SQLite in WAL mode and
    /// PostgreSQL both let it read while the main connection writes), opened for this call and
    /// closed after it.
    public func snapshot<T: Sendable>(_ body: (borrowing Snapshot) throws -> T) throws -> T {
        let begin: SQL =
            engine == .sqlite
            ? "BEGIN DEFERRED" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        if let openReader {
            let reader = try openReader()
            _ = try reader.query(begin)
            defer { _ = try? reader.query("ROLLBACK") }
            return try body(Snapshot(connection: reader))
        }
        return try connection.withLock { connection in
            _ = try connection.query(begin)
            defer { _ = try? connection.query("ROLLBACK") }
            return try body(Snapshot(connection: connection))
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// A transaction whose connection was lost and made again before it could commit
    /// (``StoreError/Code/connectionReset``, only on connections that reconnect) runs once more.
    public func transaction<T: Sendable>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        do {
            return try once(body)
        } catch let error as StoreError where error.code == .connectionReset {
            return try once(body)
        }
    }

    private func once<T: Sendable>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        try connection.withLock { connection in
            _ = try connection.query("BEGIN")
            let tx = Transaction(connection: connection)
            do {
                let result = try body(tx)
                _ = try connection.query("COMMIT")
                return result
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs one read-only statement outside an explicit transaction.
    public func query(_ sql: SQL) throws(StoreError) -> [Row] {
        do {
            return try connection.withLock { connection in
                do {
                    return try connection.query(sql)
                } catch let error as StoreError where error.code == .connectionReset {
                    return try connection.query(sql)
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.statement, "\(error)")
        }
    }

    /// Runs `body` with the raw connection; for migrations and lock primitives that manage
    /// their own transaction boundaries.
    public func withConnection<T: Sendable>(_ body: (any Connection) throws -> T) throws -> T {
        try connection.withLock { connection in try body(connection) }
    }
}
