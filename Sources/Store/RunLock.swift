import Digest
public import Foundation
import JSON

#if canImport(Glibc)
    import Glibc
#endif

/// The process that holds (or asks for) a run lock.
public struct LockHolder: Sendable, Equatable {
    public let host: String
    public let pid: Int
    /// When the process started (from `/proc`), so a reused pid is not mistaken for the holder.
    public let processStart: String
    public let token: String

    public init(host: String, pid: Int, processStart: String, token: String) {
        self.host = host
        self.pid = pid
        self.processStart = processStart
        self.token = token
    }

    /// This process.
    public static func current() -> LockHolder {
        LockHolder(
            host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier),
            processStart: ProcessLiveness.startTime(pid: Int(ProcessInfo.processInfo.processIdentifier)) ?? "",
            token: UUID().uuidString)
    }
}

/// Who holds a lock that could not be taken: the error text for exit code 4.
public struct LockConflict: Sendable, Equatable {
    public let name: String
    public let host: String
    public let pid: Int
    public let since: Date
    public let runID: Int64?
}

/// The outcome of taking a lock.
public struct LockAcquisition: Sendable, Equatable {
    /// The run id recorded by a previous holder that died, whose lock was taken over.
    public let tookOverFrom: LockConflict?
}

/// Is a process alive? Used to detect a lock whose holder died.
public enum ProcessLiveness {
    public static func isAlive(pid: Int, processStart: String) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid_t(pid), 0) != 0 && errno != EPERM { return false }
        guard !processStart.isEmpty, let current = startTime(pid: pid) else { return true }
        return current == processStart
    }

    /// The start time of a process in clock ticks since boot (field 22 of `/proc/PID/stat`).
    public static func startTime(pid: Int) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may itself hold spaces and parentheses.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); starttime is field 22.
        guard fields.count > 19 else { return nil }
        return String(fields[19])
    }
}

/// One live run per manifest name per store.
///
/// PostgreSQL: a session advisory lock keyed by the name, released by the server when the
/// holder's connection dies; a `run_locks` row says who holds it. SQLite: the `run_locks` row
/// alone, taken in an immediate transaction; a holder is dead when its pid is gone from this
/// host (or reused) or, on another host, when its heartbeat is older than `staleAfter`.
public struct RunLock: Sendable {
    public let database: Database
    public let name: String
    public let holder: LockHolder
    public let staleAfter: TimeInterval

    public init(database: Database, name: String, holder: LockHolder, staleAfter: TimeInterval = 600) {
        self.database = database
        self.name = name
        self.holder = holder
        self.staleAfter = staleAfter
    }

    /// The advisory-lock key for a name: the first 63 bits of its SHA-256.
    var advisoryKey: Int64 {
        let hex = SHA256.hex("ghillie-run lock:" + name)
        return Int64(bitPattern: UInt64(hex.prefix(16), radix: 16) ?? 0) & Int64.max
    }

    /// Takes the lock or throws ``StoreError`` with code `.locked` naming the holder.
    public func acquire() throws -> LockAcquisition {
        if database.engine == .postgres {
            let got = try database.query("SELECT pg_try_advisory_lock(\(advisoryKey)) AS got").first?
                .optionalString("got")
            guard got == "t" || got == "true" || got == "1" else {
                let conflict =
                    try current()
                    ?? LockConflict(
                        name: name, host: "unknown host", pid: 0, since: Date(), runID: nil)
                throw Self.lockedError(conflict)
            }
        }
        return try database.transaction { tx in
            let existing = try Self.read(name: name, in: tx)
            if let existing {
                let alive: Bool
                switch database.engine {
                case .postgres:
                    alive = false // The advisory lock was free, so its holder's session is gone.
                case .sqlite:
                    if existing.host == holder.host {
                        alive = ProcessLiveness.isAlive(pid: existing.pid, processStart: existing.processStart)
                    } else {
                        alive = Date().timeIntervalSince(existing.heartbeat) < staleAfter
                    }
                }
                if alive && existing.token != holder.token {
                    throw Self.lockedError(existing.conflict(name: name))
                }
                try tx.execute("DELETE FROM run_locks WHERE name = \(name)")
            }
            let now = Timestamp.now()
            try tx.execute(
                """
                INSERT INTO run_locks (name, host, pid, process_start, token, acquired_at, heartbeat_at, run_id)
                VALUES (\(name), \(holder.host), \(holder.pid), \(holder.processStart), \(holder.token),
                        \(now), \(now), NULL)
                """)
            return LockAcquisition(tookOverFrom: existing.map { $0.conflict(name: name) })
        }
    }

    /// Records which run the holder is working on, so `status` and a later takeover can say.
    public func attach(runID: Int64) throws {
        try database.transaction { tx in
            try tx.execute("UPDATE run_locks SET run_id = \(runID) WHERE name = \(name) AND token = \(holder.token)")
        }
    }

    /// Refreshes the heartbeat; returns false when the lock is no longer ours.
    public func heartbeat() throws -> Bool {
        try database.transaction { tx in
            !(try tx.query(
                """
                UPDATE run_locks SET heartbeat_at = \(Timestamp.now())
                WHERE name = \(name) AND token = \(holder.token) RETURNING name
                """)).isEmpty
        }
    }

    public func release() throws {
        try database.transaction { tx in
            try tx.execute("DELETE FROM run_locks WHERE name = \(name) AND token = \(holder.token)")
        }
        if database.engine == .postgres {
            _ = try database.query("SELECT pg_advisory_unlock(\(advisoryKey))")
        }
    }

    /// The current holder, if any.
    public func current() throws -> LockConflict? {
        try database.transaction { tx in try Self.read(name: name, in: tx)?.conflict(name: name) }
    }

    struct Existing {
        let host: String
        let pid: Int
        let processStart: String
        let token: String
        let acquired: Date
        let heartbeat: Date
        let runID: Int64?

        func conflict(name: String) -> LockConflict {
            LockConflict(name: name, host: host, pid: pid, since: acquired, runID: runID)
        }
    }

    static func read(name: String, in tx: borrowing Transaction) throws -> Existing? {
        guard
            let row = try tx.query(
                """
                SELECT host, pid, process_start, token, acquired_at, heartbeat_at, run_id
                FROM run_locks WHERE name = \(name)
                """
            ).first
        else { return nil }
        return Existing(
            host: try row.string("host"), pid: Int(try row.int("pid")),
            processStart: try row.string("process_start"), token: try row.string("token"),
            acquired: Timestamp.date(try row.string("acquired_at")) ?? Date(timeIntervalSince1970: 0),
            heartbeat: Timestamp.date(try row.string("heartbeat_at")) ?? Date(timeIntervalSince1970: 0),
            runID: try row.optionalInt("run_id"))
    }

    static func lockedError(_ conflict: LockConflict) -> StoreError {
        let run = conflict.runID.map { " (run \($0))" } ?? ""
        return StoreError(
            .locked,
            """
            manifest `\(conflict.name)` is locked by pid \(conflict.pid) on \(conflict.host) \
            since \(Timestamp.string(conflict.since))\(run)
            """)
    }
}
