import CSQLite
import Foundation
public import Store

/// A connection to an SQLite file over the system libsqlite3.
///
/// WAL mode with `synchronous=NORMAL`, foreign keys on, and a busy timeout so that a second
/// process waits for a short write instead of failing. Every `BEGIN` is `BEGIN IMMEDIATE`:
/// a deferred transaction that reads and then writes could otherwise fail with
/// `SQLITE_BUSY_SNAPSHOT` under a concurrent writer. Prepared statements are cached by text.
public final class SQLiteConnection: Connection {
    public let engine = Engine.sqlite
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Opens (creating if needed) the database file at `path`, and its parent folder.
    public init(path: String) throws(StoreError) {
        if path != ":memory:" {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError(
                    .unavailable, "cannot create folder `\(folder.path)` for the SQLite store: \(error.localizedDescription)")
            }
        }
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(.unavailable, "cannot open SQLite store `\(path)`: \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
        do {
            try executeScript(
                """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                PRAGMA foreign_keys = ON;
                """)
        } catch {
            throw StoreError(.unavailable, "cannot open SQLite store `\(path)`: \(error.message)")
        }
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    public func query(_ sql: SQL) throws(StoreError) -> [Row] {
        let text = sql.text == "BEGIN" ? "BEGIN IMMEDIATE" : sql.text
        let statement = try prepare(text)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(sql.bindings, to: statement, sql: text)
        var rows: [Row] = []
        var columns: [String]?
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status, sql: text) }
            let count = Int(sqlite3_column_count(statement))
            let names = columns ?? (0..<count).map { String(cString: sqlite3_column_name(statement, Int32($0))) }
            columns = names
            var values: [SQLValue] = []
            values.reserveCapacity(count)
            for index in 0..<Int32(count) {
                switch sqlite3_column_type(statement, index) {
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, index)))
                case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, index)))
                case SQLITE_NULL: values.append(.null)
                default:
                    if let text = sqlite3_column_text(statement, index) {
                        values.append(.text(String(cString: text)))
                    } else {
                        values.append(.null)
                    }
                }
            }
            rows.append(Row(columns: names, values: values))
        }
        return rows
    }

    public func forEachRow(_ sql: SQL, _ body: (any RowCursor) throws -> Void) throws {
        let statement = try prepare(sql.text)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try bind(sql.bindings, to: statement, sql: sql.text)
        let cursor = Cursor(statement: statement, columnCount: Int(sqlite3_column_count(statement)))
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status, sql: sql.text) }
            try body(cursor)
        }
    }

    /// The current row of a stepping statement.
    struct Cursor: RowCursor {
        let statement: OpaquePointer
        let columnCount: Int

        func isNull(_ column: Int) -> Bool {
            sqlite3_column_type(statement, Int32(column)) == SQLITE_NULL
        }

        func int(_ column: Int) -> Int64 {
            sqlite3_column_int64(statement, Int32(column))
        }

        func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            // Text first, then its length: the documented order that avoids a conversion.
            let text = sqlite3_column_text(statement, Int32(column))
            let count = Int(sqlite3_column_bytes(statement, Int32(column)))
            return try body(UnsafeRawBufferPointer(start: text.map(UnsafeRawPointer.init), count: text == nil ? 0 : count))
        }
    }

    public func executeScript(_ script: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, script, nil, nil, &message)
        guard status == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StoreError(
                status == SQLITE_CONSTRAINT ? .constraint : .statement, "SQLite error \(status): \(text)", sql: script)
        }
    }

    public func insertMany(table: SQL.Identifier, columns: [SQL.Identifier], rows: [[SQLValue]]) throws(StoreError) {
        guard !rows.isEmpty else { return }
        let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        let text = "INSERT INTO \(table.name) (\(columns.map(\.name).joined(separator: ", "))) VALUES (\(placeholders))"
        let statement = try prepare(text)
        for row in rows {
            defer { sqlite3_reset(statement) }
            try bind(row, to: statement, sql: text)
            let status = sqlite3_step(statement)
            guard status == SQLITE_DONE else { throw error(status, sql: text) }
        }
        sqlite3_clear_bindings(statement)
    }

    private func prepare(_ text: String) throws(StoreError) -> OpaquePointer {
        if let cached = statements[text] { return cached }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(
            handle, Self.numbered(text), -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(status, sql: text) }
        statements[text] = statement
        return statement
    }

    /// The statement with each `$n` placeholder written `?n`: SQLite takes `$n` for a named
    /// parameter, found by a name search per use — quadratic in a statement of many rows — while
    /// `?n` is parameter number n. Quoted text and quoted names are left as they are.
    static func numbered(_ text: String) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var quote: Character?
        var previous: Character?
        for character in text {
            if let open = quote {
                if character == open { quote = nil }
                out.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                out.append(character)
            } else if character == "$", !(previous.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false) {
                out.append("?")
            } else {
                out.append(character)
            }
            previous = character
        }
        return out
    }

    private func bind(_ values: [SQLValue], to statement: OpaquePointer, sql: String) throws(StoreError) {
        let count = sqlite3_bind_parameter_count(statement)
        for (offset, value) in values.enumerated() {
            // `$n` became `?n` (``numbered(_:)``): parameter n is at index n.
            let index = Int32(offset + 1)
            guard index <= count else { continue }
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, index)
            case .integer(let int): status = sqlite3_bind_int64(statement, index, int)
            case .real(let double): status = sqlite3_bind_double(statement, index, double)
            case .text(let text): status = sqlite3_bind_text(statement, index, text, -1, Self.transient)
            }
            guard status == SQLITE_OK else { throw error(status, sql: sql) }
        }
    }

    private func error(_ status: Int32, sql: String) -> StoreError {
        let message = String(cString: sqlite3_errmsg(handle))
        let primary = status & 0xff
        let code: StoreError.Code =
            primary == SQLITE_CONSTRAINT
            ? .constraint
            : (primary == SQLITE_BUSY || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
                ? .unavailable
                : .statement
        return StoreError(code, "SQLite error \(status): \(message)", sql: sql)
    }
}
