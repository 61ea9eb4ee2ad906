import CLibPQ
import Foundation
public import Store
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A connection to PostgreSQL over the system libpq.
///
/// Blocking, one per process, kept behind ``Store/Database``'s mutex. Parameters are sent as
/// text with server-inferred types; bulk inserts use `COPY ... FROM STDIN`. Server notices are
/// swallowed so they never interleave with the command's own output.
public final class PostgresConnection: Connection {
    public let engine = Engine.postgres
    private let handle: OpaquePointer

    /// Connects with a `postgres://` URL or a `key=value` connection string.
    public init(url: String) throws(StoreError) {
        guard let connection = PQconnectdb(url) else {
            throw StoreError(.unavailable, "cannot connect to PostgreSQL at \(Self.redact(url)): out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connection)
            throw StoreError(.unavailable, "cannot connect to PostgreSQL at \(Self.redact(url)): \(message)")
        }
        handle = connection
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        _ = try? query("SET client_min_messages = warning")
    }

    /// Statements that set up the session, run again after a reconnection.
    private var session: [String] = []
    /// Whether a lost connection is made again (see ``reconnecting(idleInTransaction:)``).
    private var reconnects = false

    /// Makes this connection one a worker of a pool can lose and get back: a session idle
    /// inside a transaction for longer than `idleInTransaction` is ended by the server (a worker
    /// paused mid-transaction — a stopped container, a long pause — would otherwise hold its
    /// row locks, and every other worker with them, until its TCP connection died), and a
    /// connection found lost is made again at once, its session set up again. A statement that
    /// failed that way reports ``StoreError/Code/connectionReset`` — its transaction did not
    /// commit — unless it was the `COMMIT` itself, which may have: that stays `unavailable`.
    /// Not for a connection holding a session advisory lock: a new session would not hold it.
    public func reconnecting(idleInTransaction: Duration) throws(StoreError) {
        let setup = "SET idle_in_transaction_session_timeout = \(max(1, idleInTransaction.components.seconds) * 1000)"
        _ = try query(SQL(unsafeSQL: setup))
        session.append(setup)
        reconnects = true
    }
    deinit { PQfinish(handle) }

    /// The URL with any password replaced by `***`; safe to print.
    public static func redact(_ url: String) -> String {
        if let scheme = url.range(of: "://"), let at = url.range(of: "@", range: scheme.upperBound..<url.endIndex) {
            let userInfo = url[scheme.upperBound..<at.lowerBound]
            if let colon = userInfo.firstIndex(of: ":") {
                return String(url[..<colon]) + ":***" + String(url[at.lowerBound...])
            }
            return url
        }
        // key=value form: hide password=...
        return url.split(separator: " ").map { part in
            part.lowercased().hasPrefix("password=") ? "password=***" : String(part)
        }.joined(separator: " ")
    }

    public func query(_ sql: SQL) throws(StoreError) -> [Row] {
        let params = Self.parameters(sql.bindings)
        let result = withCStrings(params) { pointers in
            PQexecParams(handle, sql.text, Int32(pointers.count), nil, pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        return try rows(result, sql: sql.text)
    }

    /// Streams rows in libpq's single-row mode: one small result per row, never the whole set.
    public func forEachRow(_ sql: SQL, _ body: (any RowCursor) throws -> Void) throws {
        let params = Self.parameters(sql.bindings)
        let sent = withCStrings(params) { pointers in
            PQsendQueryParams(handle, sql.text, Int32(pointers.count), nil, pointers, nil, nil, 0)
        }
        guard sent == 1 else { throw failure(sql: sql.text) }
        PQsetSingleRowMode(handle)
        var failed: (any Error)?
        // Every result must be drained, even after a failure, before the connection is reusable.
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            guard failed == nil else { continue }
            switch PQresultStatus(result) {
            case PGRES_SINGLE_TUPLE:
                do { try body(Cursor(result: result, columnCount: Int(PQnfields(result)))) } catch { failed = error }
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK: break
            default: failed = failure(result, sql: sql.text)
            }
        }
        if let failed { throw failed }
    }

    /// The one row of a single-row-mode result, in text format.
    struct Cursor: RowCursor {
        let result: OpaquePointer
        let columnCount: Int

        func isNull(_ column: Int) -> Bool {
            PQgetisnull(result, 0, Int32(column)) == 1
        }

        func int(_ column: Int) -> Int64 {
            guard let value = PQgetvalue(result, 0, Int32(column)) else { return 0 }
            switch value.pointee {
            case CChar(UInt8(ascii: "t")): return 1 // boolean columns
            case CChar(UInt8(ascii: "f")): return 0
            default: return Int64(strtoll(value, nil, 10))
            }
        }

        func withBytes<R>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            let value = PQgetvalue(result, 0, Int32(column))
            let count = Int(PQgetlength(result, 0, Int32(column)))
            return try body(UnsafeRawBufferPointer(start: value.map(UnsafeRawPointer.init), count: value == nil ? 0 : count))
        }
    }

    static func parameters(_ bindings: [SQLValue]) -> [String?] {
        bindings.map { value in
            switch value {
            case .null: return nil
            case .integer(let int): return String(int)
            case .real(let double): return String(double)
            case .text(let text): return text
            }
        }
    }

    public func executeScript(_ script: String) throws(StoreError) {
        let result = PQexec(handle, script)
        defer { PQclear(result) }
        _ = try rows(result, sql: script)
    }

    public func insertMany(table: SQL.Identifier, columns: [SQL.Identifier], rows: [[SQLValue]]) throws(StoreError) {
        guard !rows.isEmpty else { return }
        let copy = "COPY \(table.name) (\(columns.map(\.name).joined(separator: ", "))) FROM STDIN"
        let start = PQexec(handle, copy)
        let status = PQresultStatus(start)
        PQclear(start)
        guard status == PGRES_COPY_IN else { throw failure(sql: copy) }
        // COPY's text format, built as bytes: escaping a string scalar by scalar cost more than
        // the server's whole insert (200 ledger rows: 7–18 ms against ~3 ms).
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 19)
        func flush() throws(StoreError) {
            guard !buffer.isEmpty else { return }
            let sent = buffer.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
            }
            buffer.removeAll(keepingCapacity: true)
            guard sent == 1 else { throw failure(sql: copy) }
        }
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: "\t")) }
                Self.appendCopyText(value, to: &buffer)
            }
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= 1 << 19 { try flush() }
        }
        try flush()
        guard PQputCopyEnd(handle, nil) == 1 else { throw failure(sql: copy) }
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK { throw failure(result, sql: copy) }
        }
    }

    /// One value in COPY's text format: `\N` for NULL; a backslash, tab, newline or carriage
    /// return in text escaped with a backslash (every other byte, UTF-8 included, as it is).
    static func appendCopyText(_ value: SQLValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += [UInt8(ascii: "\\"), UInt8(ascii: "N")]
        case .integer(let int): out += String(int).utf8
        case .real(let double): out += String(double).utf8
        case .text(var text):
            text.withUTF8 { bytes in
                for byte in bytes {
                    switch byte {
                    case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                    case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                    case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                    case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                    default: out.append(byte)
                    }
                }
            }
        }
    }

    private func rows(_ result: OpaquePointer?, sql: String) throws(StoreError) -> [Row] {
        guard let result else { throw failure(sql: sql) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY: return []
        case PGRES_TUPLES_OK: break
        default: throw failure(result, sql: sql)
        }
        let count = Int(PQnfields(result))
        let names = (0..<count).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<count).map { PQftype(result, Int32($0)) }
        var rows: [Row] = []
        let tuples = PQntuples(result)
        rows.reserveCapacity(Int(tuples))
        for tuple in 0..<tuples {
            var values: [SQLValue] = []
            values.reserveCapacity(count)
            for field in 0..<Int32(count) {
                if PQgetisnull(result, tuple, field) == 1 {
                    values.append(.null)
                    continue
                }
                let text = String(cString: PQgetvalue(result, tuple, field))
                switch types[Int(field)] {
                case 20, 21, 23: values.append(Int64(text).map(SQLValue.integer) ?? .text(text))
                case 700, 701, 1700: values.append(Double(text).map(SQLValue.real) ?? .text(text))
                case 16: values.append(.integer(text == "t" ? 1 : 0))
                default: values.append(.text(text))
                }
            }
            rows.append(Row(columns: names, values: values))
        }
        return rows
    }

    private func failure(_ result: OpaquePointer? = nil, sql: String) -> StoreError {
        var message = String(cString: PQerrorMessage(handle))
        var state = ""
        if let result {
            message = String(cString: PQresultErrorMessage(result))
            if let field = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) { state = String(cString: field) }
        }
        message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        var code: StoreError.Code
        if state.hasPrefix("23") {
            code = .constraint
        } else if state.hasPrefix("08") || state == "25P03" || PQstatus(handle) != CONNECTION_OK {
            code = .unavailable
        } else {
            code = .statement
        }
        if code == .unavailable && reconnects && PQstatus(handle) != CONNECTION_OK {
            PQreset(handle)
            if PQstatus(handle) == CONNECTION_OK {
                PQsetNoticeProcessor(handle, { _, _ in }, nil)
                for statement in ["SET client_min_messages = warning"] + session {
                    PQclear(PQexec(handle, statement))
                }
                if sql.trimmingCharacters(in: .whitespaces).uppercased() != "COMMIT" {
                    code = .connectionReset
                    message += " (the connection was made again; the transaction did not commit)"
                }
            }
        }
        let prefix = state.isEmpty ? "PostgreSQL error" : "PostgreSQL error \(state)"
        return StoreError(code, "\(prefix): \(message)", sql: sql)
    }
}

/// Calls `body` with a C array of C strings (NULL for nil) that lives for the call.
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for pointer in owned { free(pointer) } }
    return owned.withUnsafeMutableBufferPointer { buffer in
        body(buffer.map { $0.map { UnsafePointer($0) } })
    }
}

extension PostgresConnection {
    /// Blocks until a notification arrives on a channel this connection listens on, or
    /// `timeoutMillis` passes; consumes every notification that arrived. Returns whether one did.
    func awaitNotification(timeoutMillis: Int32) -> Bool {
        var got = drainNotifications()
        if got { return true }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0, poll(&descriptor, 1, timeoutMillis) > 0 else { return false }
        guard PQconsumeInput(handle) == 1 else { return false }
        got = drainNotifications()
        return got
    }

    private func drainNotifications() -> Bool {
        var got = false
        while let notification = PQnotifies(handle) {
            PQfreemem(notification)
            got = true
        }
        return got
    }
}

/// Wakes an idle worker when its run's queue changes: a connection of its own that `LISTEN`s
/// on the run's channel (the queue's transactions `pg_notify` it).
///
/// The connection is opened by the first wait, which then returns at once: a change made
/// before the `LISTEN` was in place is not announced to it, so the worker looks at the queue
/// once more before it waits. A worker that never waits (nothing to claim) never connects; one
/// whose connection fails polls (the wait sleeps its timeout) and tries again next time.
public final class PostgresListener: QueueListener {
    private let url: String
    private let channel: String
    private let connection = Mutex<PostgresConnection?>(nil)

    public init(url: String, channel: String) {
        self.url = url
        self.channel = channel
    }

    public func wait(timeout: Duration) async {
        let millis = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [self] in
                connection.withLock { connection in
                    if let connection {
                        _ = connection.awaitNotification(timeoutMillis: millis)
                    } else if let opened = try? listening() {
                        connection = opened
                    } else {
                        usleep(UInt32(clamping: Int(millis) * 1000))
                    }
                }
                continuation.resume()
            }
        }
    }

    private func listening() throws(StoreError) -> PostgresConnection {
        let opened = try PostgresConnection(url: url)
        let name = try SQL.Identifier(channel)
        _ = try opened.query("LISTEN \(name)")
        return opened
    }
}
