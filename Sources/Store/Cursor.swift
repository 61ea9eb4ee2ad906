/// One row of a streamed result, valid only during the callback that received it.
///
/// Streaming reads (exports) must not turn every value into a `String`: a cursor hands out
/// the engine's own bytes, so a writer can escape them straight into its output buffer.
public protocol RowCursor {
    var columnCount: Int { get }
    func isNull(_ column: Int) -> Bool
    func int(_ column: Int) -> Int64
    /// The column's text as UTF-8 bytes (empty for NULL); the buffer lives for the call only.
    func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension RowCursor {
    public func string(_ column: Int) -> String? {
        isNull(column) ? nil : withBytes(column) { String(decoding: $0, as: UTF8.self) }
    }
}

/// A consistent read-only view of the store, for long reads such as exports.
///
/// It runs on its own connection where the store can open one, so a read that takes seconds
/// never holds up the ledger's transitions on the main connection.
public struct Snapshot: ~Copyable {
    let connection: any Connection

    public var engine: Engine { connection.engine }

    public func query(_ sql: SQL) throws(StoreError) -> [Row] {
        try connection.query(sql)
    }

    /// Streams the rows of `sql` to `body` one at a time; memory does not grow with the result.
    public func forEachRow(_ sql: SQL, _ body: (any RowCursor) throws -> Void) throws {
        try connection.forEachRow(sql, body)
    }
}
