public import Foundation
import JSON
import Synchronization

/// How a round of a run is worked: by one process holding the manifest's lock, or by a pool of
/// `ghillie-run worker` processes that joined it.
public enum RoundMode: String, Sendable {
    case process, pool
}

/// One round of a run: every invocation that starts or continues a run begins one, with an
/// empty queue.
public struct RoundRecord: Sendable, Equatable {
    public let runID: Int64
    public let round: Int
    public let mode: RoundMode
    public let startedAt: Date
    public let host: String
    public let pid: Int
}

/// A unit made ready by the scheduler, for the queue.
public struct QueueEntry: Sendable, Equatable {
    public let unit: UnitKey
    /// Higher is claimed first.
    public let priority: Int
    public let reason: String
    public let fingerprint: String
    public let fingerprintParts: [String: String]
    /// The GitHub credential the unit reads with, if any: it is claimed only while that
    /// credential's shared budget is above its floor (``CredentialBudgets``).
    public let credential: String?

    public init(
        unit: UnitKey, priority: Int, reason: String, fingerprint: String, fingerprintParts: [String: String],
        credential: String? = nil
    ) {
        self.unit = unit
        self.priority = priority
        self.reason = reason
        self.fingerprint = fingerprint
        self.fingerprintParts = fingerprintParts
        self.credential = credential
    }
}

/// Who holds a claimed unit and which attempt: a unit's end is written only while both match.
///
/// The attempt number is the fencing token: a worker that lost its lease (paused past it, cut
/// off from the database) and whose unit another worker took over still holds the old number,
/// so its late completion matches no row and is rejected.
public struct Fence: Sendable, Equatable {
    public let runID: Int64
    public let unit: UnitKey
    public let owner: String
    public let attempt: Int

    public init(runID: Int64, unit: UnitKey, owner: String, attempt: Int) {
        self.runID = runID
        self.unit = unit
        self.owner = owner
        self.attempt = attempt
    }
}

/// A unit this worker claimed: its new attempt, and the worker it took the unit over from.
public struct Claim: Sendable, Equatable {
    public let attempt: AttemptRecord
    public let fence: Fence
    /// The worker whose lease had expired, when the unit was taken over.
    public let takenFrom: String?
}

/// How a unit's round ended, as the queue records it.
public enum QueueOutcome: Sendable, Equatable {
    case succeeded(outputHash: String)
    case failed
    case skipped
    case interrupted
}

/// A worker of a run, as `status` shows it.
public struct WorkerRecord: Sendable, Equatable {
    public let id: String
    public let round: Int
    public let host: String
    public let pid: Int
    public let startedAt: Date
    /// Milliseconds since the last heartbeat, on the database clock.
    public let heartbeatAgeMillis: Int64
    public let state: String
    public let unitsHeld: Int
    public let unitsDone: Int
    public let takeovers: Int
    public let lateCompletions: Int
}

/// One worker's view of a run's unit queue in the store.
///
/// Units are queued once (`ON CONFLICT DO NOTHING`) by whichever worker's scheduler makes them
/// ready first; any worker claims them in a short transaction (`FOR UPDATE SKIP LOCKED` on
/// PostgreSQL), each claim a lease on the database clock that the worker's heartbeat renews.
/// A lease that expired is taken over by the next claim, which ends the old attempt and starts
/// one numbered higher. No transaction is held open while a unit runs.
public struct WorkQueue: Sendable {
    public let database: Database
    public let runID: Int64
    public let round: Int
    public let worker: String
    public let host: String
    public let pid: Int
    /// How long a claim lasts without a heartbeat.
    public let lease: Duration
    /// Where heartbeats go: a connection of their own, so that a unit's long transaction on
    /// the main one never delays a heartbeat past the lease. Opened at the first heartbeat: a
    /// worker that finds nothing to claim (a no-op rerun) never pays for it.
    private let heartbeats: HeartbeatStore
    /// How long a unit may wait for its credential's budget to reset: a unit whose credential
    /// is at its floor until a reset nearer than this is not claimed yet; one further away is,
    /// and stops itself as interrupted (`github.max_rate_limit_wait_minutes`).
    public let budgetWait: Duration

    public init(
        database: Database, runID: Int64, round: Int, worker: String, host: String, pid: Int, lease: Duration,
        heartbeats: (@Sendable () throws -> Database)? = nil, budgetWait: Duration = .seconds(3600)
    ) {
        self.database = database
        self.heartbeats = HeartbeatStore(open: heartbeats ?? { database })
        self.budgetWait = budgetWait
        self.runID = runID
        self.round = round
        self.worker = worker
        self.host = host
        self.pid = pid
        self.lease = lease
    }

    var leaseMillis: Int64 { lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000 }

    /// The channel PostgreSQL notifies when the run's queue changes, for idle workers to wake on.
    public static func channel(runID: Int64) -> String { "ghillie_run_\(runID)" }

    // MARK: Rounds

    /// Begins a new round of a run with an empty queue; returns its number.
    ///
    /// Only the holder of the manifest's lock calls this, when it starts or continues a run that
    /// no live round is working.
    public static func startRound(database: Database, runID: Int64, mode: RoundMode, host: String, pid: Int) throws
        -> Int
    {
        try database.transaction { tx in
            try tx.execute("DELETE FROM run_units WHERE run_id = \(runID)")
            try tx.execute(
                "UPDATE run_workers SET state = 'stopped' WHERE run_id = \(runID) AND state = 'working'")
            let rows = try tx.query(
                """
                INSERT INTO run_rounds (run_id, round, mode, started_at, host, pid)
                VALUES (\(runID), (SELECT COALESCE(MAX(round), 0) + 1 FROM run_rounds WHERE run_id = \(runID)),
                        \(mode.rawValue), \(Timestamp.now()), \(host), \(pid))
                RETURNING round
                """)
            guard let row = rows.first else { throw StoreError(.statement, "INSERT into run_rounds returned no row") }
            return Int(try row.int("round"))
        }
    }

    /// The newest round of a run, if any began.
    public static func currentRound(database: Database, runID: Int64) throws -> RoundRecord? {
        guard
            let row = try database.query(
                """
                SELECT run_id, round, mode, started_at, host, pid FROM run_rounds
                WHERE run_id = \(runID) ORDER BY round DESC LIMIT 1
                """
            ).first
        else { return nil }
        return RoundRecord(
            runID: try row.int("run_id"), round: Int(try row.int("round")),
            mode: RoundMode(rawValue: try row.string("mode")) ?? .process,
            startedAt: Timestamp.date(try row.string("started_at")) ?? Date(timeIntervalSince1970: 0),
            host: try row.string("host"), pid: Int(try row.int("pid")))
    }

    /// Workers of a run's round whose heartbeat is younger than `within`.
    public static func liveWorkers(database: Database, runID: Int64, round: Int, within: Duration) throws -> Int {
        let millis = within.components.seconds * 1000
        let rows = try database.query(
            """
            SELECT COUNT(*) AS n FROM run_workers
            WHERE run_id = \(runID) AND round = \(round) AND state = 'working'
              AND heartbeat_ms > \(sql: clock(database.engine)) - \(millis)
            """)
        return Int(try rows.first?.int("n") ?? 0)
    }

    /// Every worker that joined a run, oldest first, with the units each holds now.
    public static func workers(database: Database, runID: Int64) throws -> [WorkerRecord] {
        try database.query(
            """
            SELECT w.id, w.round, w.host, w.pid, w.started_at, \(sql: clock(database.engine)) - w.heartbeat_ms AS age,
                   w.state, w.units_done, w.takeovers, w.late_completions,
                   (SELECT COUNT(*) FROM run_units u WHERE u.run_id = w.run_id AND u.owner = w.id
                                                      AND u.state = 'running') AS held
            FROM run_workers w WHERE w.run_id = \(runID) ORDER BY w.started_at, w.id
            """
        ).map { row in
            WorkerRecord(
                id: try row.string("id"), round: Int(try row.int("round")), host: try row.string("host"),
                pid: Int(try row.int("pid")),
                startedAt: Timestamp.date(try row.string("started_at")) ?? Date(timeIntervalSince1970: 0),
                heartbeatAgeMillis: try row.int("age"), state: try row.string("state"),
                unitsHeld: Int(try row.int("held")), unitsDone: Int(try row.int("units_done")),
                takeovers: Int(try row.int("takeovers")), lateCompletions: Int(try row.int("late_completions")))
        }
    }

    // MARK: Working

    /// Registers this worker with the run.
    public func join() throws {
        try database.transaction { tx in
            try tx.execute(
                """
                INSERT INTO run_workers (id, run_id, round, host, pid, started_at, heartbeat_ms, state)
                VALUES (\(worker), \(runID), \(round), \(host), \(pid), \(Timestamp.now()),
                        \(sql: Self.clock(tx.engine)), 'working')
                """)
        }
    }

    /// Marks this worker as gone: `finished` when the run ended, `stopped` by a signal.
    public func leave(finished: Bool) throws {
        try database.transaction { tx in
            try tx.execute(
                """
                UPDATE run_workers SET state = \(finished ? "finished" : "stopped"), heartbeat_ms = \(sql: Self.clock(tx.engine))
                WHERE id = \(worker)
                """)
        }
    }

    /// Queues units made ready; a unit already in the queue (queued by another worker, or
    /// already ended in this round) is left as it is.
    public func enqueue(_ entries: [QueueEntry]) throws {
        _ = try claim(limit: 0, enqueueing: entries)
    }

    /// Records units that end without running (reused, skipped) exactly once across workers:
    /// returns the units this call recorded; others had been recorded already.
    public func recordFinal(_ attempts: [(entry: QueueEntry, attempt: NewAttempt)]) throws -> Set<UnitKey> {
        guard !attempts.isEmpty else { return [] }
        return try database.transaction { tx in
            var recorded: Set<UnitKey> = []
            var mine: [NewAttempt] = []
            for chunk in SQL.chunks(attempts.sorted { $0.entry.unit < $1.entry.unit }) {
                let rows = chunk.map { entry, attempt in
                    (entry, attempt.state == .skipped ? "skipped" : "succeeded", attempt.outputHash)
                }
                var inserted: Set<UnitKey> = []
                for row in try tx.query(insertRows(rows, returning: true)) {
                    inserted.insert(UnitKey(stage: try row.string("stage"), unit: try row.string("unit")))
                }
                mine += chunk.filter { inserted.contains($0.entry.unit) }.map(\.attempt)
                recorded.formUnion(inserted)
            }
            // The attempts of the units this worker recorded: one numbering query, one bulk insert.
            try Ledger.insertFinals(mine, in: tx)
            return recorded
        }
    }

    /// One `INSERT … ON CONFLICT DO NOTHING` of many queue rows, with every value bound. A final
    /// unit (succeeded or skipped) is never claimed: its fingerprint's parts live in its attempt
    /// alone, and its queue row keeps the fingerprint.
    func insertRows(_ rows: [(QueueEntry, String, String?)], returning: Bool) -> SQL {
        let noParts = Ledger.encodeParts([:])
        let values: [[SQLValue]] = rows.map { entry, state, outputHash in
            [
                runID.sqlValue, .text(entry.unit.stage), .text(entry.unit.unit), .text(state), entry.priority.sqlValue,
                .text(entry.reason), .text(entry.fingerprint),
                .text(state == "queued" ? Ledger.encodeParts(entry.fingerprintParts) : noParts), outputHash.sqlValue,
                entry.credential.sqlValue,
            ]
        }
        let head: StaticString = """
            INSERT INTO run_units (run_id, stage, unit, state, priority, reason, fingerprint, fingerprint_parts, output_hash,
                                   credential)
            """
        return returning
            ? SQL.values(head, values, "ON CONFLICT (run_id, stage, unit) DO NOTHING RETURNING stage, unit")
            : SQL.values(head, values, "ON CONFLICT (run_id, stage, unit) DO NOTHING")
    }

    /// Claims up to `limit` units: queued ones by priority, and running ones whose lease expired
    /// — but none whose GitHub credential is at its floor until a reset within `budgetWait`.
    ///
    /// One short transaction: the queue rows are locked with `SKIP LOCKED` (PostgreSQL) so
    /// concurrent claimers never wait on each other or get the same unit; each claimed unit gets
    /// a new attempt (its number the fencing token), and a taken-over unit's old attempt is
    /// ended as `interrupted` with the reason.
    ///
    /// `enqueueing`: units made ready since the last call, queued first in the same transaction
    /// (one transaction fewer per unit than queueing them on their own).
    public func claim(limit: Int, enqueueing entries: [QueueEntry] = []) throws -> [Claim] {
        guard limit > 0 || !entries.isEmpty else { return [] }
        return try database.transaction { tx in
            if !entries.isEmpty {
                for chunk in SQL.chunks(entries.sorted { $0.unit < $1.unit }) {
                    _ = try tx.query(insertRows(chunk.map { ($0, "queued", nil) }, returning: false))
                }
                try Self.notify(runID: runID, in: tx)
            }
            guard limit > 0 else { return [] }
            let clock = Self.clock(tx.engine)
            let lock: StaticString = tx.engine == .postgres ? "FOR UPDATE SKIP LOCKED" : ""
            let rows = try tx.query(
                """
                UPDATE run_units
                SET state = 'running', owner = \(worker), lease_until = \(sql: clock) + \(leaseMillis),
                    previous_owner = (CASE WHEN state = 'running' THEN owner ELSE NULL END),
                    takeovers = takeovers + (CASE WHEN state = 'running' THEN 1 ELSE 0 END)
                WHERE id IN (SELECT id FROM run_units
                             WHERE run_id = \(runID)
                               AND (state = 'queued'
                                    OR (state = 'running' AND lease_until < \(sql: clock) AND owner <> \(worker)))
                               AND (credential IS NULL
                                    OR credential NOT IN (SELECT credential FROM credential_budgets
                                                          WHERE remaining IS NOT NULL AND reset_ms > \(sql: clock)
                                                            AND reset_ms <= \(sql: clock) + \(budgetWait.components.seconds * 1000)
                                                            AND remaining - in_flight <= floor))
                             ORDER BY priority DESC, id LIMIT \(limit) \(sql: lock))
                RETURNING id, stage, unit, reason, fingerprint, fingerprint_parts, attempt_id, previous_owner
                """)
            var claims: [Claim] = []
            for row in rows.sorted(by: { (try? $0.int("id")) ?? 0 < (try? $1.int("id")) ?? 0 }) {
                let unit = UnitKey(stage: try row.string("stage"), unit: try row.string("unit"))
                let takenFrom = try row.optionalString("previous_owner")
                if takenFrom != nil, let old = try row.optionalInt("attempt_id") {
                    // The row was running under another worker whose lease expired.
                    try tx.execute(
                        """
                        UPDATE unit_attempts
                        SET state = 'interrupted', finished_at = \(Timestamp.now()), error_code = 'lease_expired',
                            error_message = 'its worker stopped renewing its lease; another worker took the unit over'
                        WHERE id = \(old) AND state = 'running'
                        """)
                }
                let attempt = try Ledger.insert(
                    NewAttempt(
                        runID: runID, unit: unit, state: .running, reason: try row.string("reason"),
                        fingerprint: try row.string("fingerprint"),
                        fingerprintParts: Ledger.decodeParts(try row.optionalString("fingerprint_parts"))),
                    startedNow: true, in: tx)
                try tx.execute(
                    """
                    UPDATE run_units SET attempt = \(attempt.attempt), attempt_id = \(attempt.id)
                    WHERE id = \(try row.int("id"))
                    """)
                claims.append(
                    Claim(
                        attempt: attempt,
                        fence: Fence(runID: runID, unit: unit, owner: worker, attempt: attempt.attempt),
                        takenFrom: takenFrom))
            }
            let takeovers = claims.filter { $0.takenFrom != nil }.count
            if takeovers > 0 {
                try tx.execute("UPDATE run_workers SET takeovers = takeovers + \(takeovers) WHERE id = \(worker)")
            }
            return claims
        }
    }

    /// Renews the leases of every unit this worker holds, and its heartbeat; returns how many
    /// leases it renewed (fewer than it holds means some were taken over).
    @discardableResult
    public func heartbeat() throws -> Int {
        // Queue rows before the worker row, the order every queue transaction locks them in, so
        // that a heartbeat (on its own connection) never deadlocks with the worker's own writes.
        try heartbeats.database().transaction { tx in
            let clock = Self.clock(tx.engine)
            let renewed = try tx.query(
                """
                UPDATE run_units SET lease_until = \(sql: clock) + \(leaseMillis)
                WHERE run_id = \(runID) AND owner = \(worker) AND state = 'running'
                RETURNING id
                """
            ).count
            try tx.execute("UPDATE run_workers SET heartbeat_ms = \(sql: clock) WHERE id = \(worker)")
            return renewed
        }
    }

    /// How each unit of the round that has ended ended.
    public func outcomes() throws -> [UnitKey: QueueOutcome] {
        var outcomes: [UnitKey: QueueOutcome] = [:]
        for row in try database.query(
            """
            SELECT stage, unit, state, output_hash FROM run_units
            WHERE run_id = \(runID) AND state IN ('succeeded', 'failed', 'skipped', 'interrupted')
            """)
        {
            let key = UnitKey(stage: try row.string("stage"), unit: try row.string("unit"))
            switch try row.string("state") {
            case "succeeded": outcomes[key] = .succeeded(outputHash: try row.optionalString("output_hash") ?? "")
            case "failed": outcomes[key] = .failed
            case "skipped": outcomes[key] = .skipped
            default: outcomes[key] = .interrupted
            }
        }
        return outcomes
    }

    /// Records that this worker's completion of an attempt came after it lost the unit: the
    /// attempt row says so, and the worker's count of rejected late completions goes up.
    public func recordLateCompletion(attemptID: Int64, outcome: String) throws {
        try database.transaction { tx in
            try tx.execute(
                """
                UPDATE unit_attempts
                SET error_message = COALESCE(error_message, '') || \("; its late completion (" + outcome + ") at "
                    + Timestamp.now() + " was rejected: the lease had been taken over")
                WHERE id = \(attemptID)
                """)
            try tx.execute("UPDATE run_workers SET late_completions = late_completions + 1 WHERE id = \(worker)")
        }
    }

    // MARK: Transitions inside the ledger's transactions

    /// Ends a claimed unit in the queue, inside the transaction that ends its attempt; throws
    /// `fenced` when the unit is no longer this owner's attempt.
    static func settle(_ fence: Fence, state: String, outputHash: String?, in tx: borrowing Transaction) throws {
        let rows = try tx.query(
            """
            UPDATE run_units SET state = \(state), output_hash = \(outputHash), owner = NULL, lease_until = NULL
            WHERE run_id = \(fence.runID) AND stage = \(fence.unit.stage) AND unit = \(fence.unit.unit)
              AND owner = \(fence.owner) AND attempt = \(fence.attempt) AND state = 'running'
            RETURNING id
            """)
        guard !rows.isEmpty else {
            throw StoreError(
                .fenced,
                "\(fence.unit) attempt \(fence.attempt) is no longer held by this worker: its lease expired and another worker took it over"
            )
        }
        if state != "queued" {
            try tx.execute("UPDATE run_workers SET units_done = units_done + 1 WHERE id = \(fence.owner)")
        }
        try notify(runID: fence.runID, in: tx)
    }

    static func notify(runID: Int64, in tx: borrowing Transaction) throws {
        guard tx.engine == .postgres else { return }
        try tx.execute("SELECT pg_notify(\(channel(runID: runID)), '')")
    }

    /// Milliseconds since the epoch on the database's clock (not the transaction's start).
    static func clock(_ engine: Engine) -> StaticString {
        engine == .postgres
            ? "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
            : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    }
}

/// A worker's heartbeat connection, opened when first needed and kept.
final class HeartbeatStore: Sendable {
    private let open: @Sendable () throws -> Database
    private let opened = Mutex<Database?>(nil)

    init(open: @escaping @Sendable () throws -> Database) {
        self.open = open
    }

    func database() throws -> Database {
        try opened.withLock { opened in
            if let opened { return opened }
            let database = try open()
            opened = database
            return database
        }
    }
}

/// Wakes an idle worker when its run's queue changes (PostgreSQL `LISTEN`), or after a timeout.
public protocol QueueListener: Sendable {
    /// Returns when a change was announced, or when `timeout` passed.
    func wait(timeout: Duration) async
}
