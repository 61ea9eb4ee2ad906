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
    func insertMany(table: String, columns: [String], rows: [[SQLValue]]) throws(StoreError)
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

    public func insertMany(table: String, columns: [String], rows: [[SQLValue]]) throws(StoreError) {
        try connection.insertMany(table: table, columns: columns, rows: rows)
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

    public init(connection: sending any Connection, displayName: String) {
        engine = connection.engine
        self.displayName = displayName
        self.connection = Mutex(connection)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T: Sendable>(_ body: (borrowing Transaction) throws -> T) throws -> T {
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
            return try connection.withLock { connection in try connection.query(sql) }
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
