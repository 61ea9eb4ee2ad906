import Foundation

/// A failure of the store: connecting, migrating, running a statement, decoding a row.
///
/// Messages name the statement's text but never its bound values or the connection string's
/// password, so an error can be printed and written to the ledger without leaking secrets.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The store could not be opened or reached (exit code 5).
        case unavailable
        /// A statement failed.
        case statement
        /// A uniqueness or check constraint failed.
        case constraint
        /// The schema is newer than this binary, or a shipped migration was altered.
        case migration
        /// A row did not have the expected shape.
        case decoding
        /// Another live process holds the run lock for this manifest name (exit code 4).
        case locked
        /// A worker's write was refused: its lease on the unit expired and another worker took the
        /// unit over (the fencing token no longer matches).
        case fenced
        /// The connection was lost and made again before the statement's transaction could
        /// commit: nothing of it was written, and running it again is safe.
        case connectionReset
    }

    public let code: Code
    public let message: String
    /// The SQL text (never bound values) that failed, when a statement failed.
    public let sql: String?

    public init(_ code: Code, _ message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    public var description: String {
        if let sql {
            let oneLine = sql.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            return "\(message) - while executing `\(oneLine)`"
        }
        return message
    }
}
