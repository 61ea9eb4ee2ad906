public import Foundation
import JSON

/// The state of a run as the ledger records it.
public enum RunState: String, Sendable, Codable, CaseIterable {
    case running, succeeded, failed, incomplete, interrupted
}

/// The state of one unit attempt.
public enum UnitState: String, Sendable, Codable, CaseIterable {
    case pending, running, succeeded, failed, skipped, interrupted
}

/// Identifies a unit within a pipeline: its stage name and unit key.
public struct UnitKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let stage: String
    public let unit: String

    public init(stage: String, unit: String) {
        self.stage = stage
        self.unit = unit
    }

    public var description: String { "\(stage):\(unit)" }

    public static func < (lhs: UnitKey, rhs: UnitKey) -> Bool {
        (lhs.stage, lhs.unit) < (rhs.stage, rhs.unit)
    }
}

/// What a new run row holds; the ledger assigns the id and start time.
public struct NewRun: Sendable {
    public var name: String
    public var manifestPath: String
    public var manifestSHA256: String
    public var windowSpec: String
    public var gitCommit: String?
    public var windowStart: Date
    public var windowEnd: Date
    public var host: String
    public var pid: Int
    public var invocation: String

    public init(
        name: String, manifestPath: String, manifestSHA256: String, windowSpec: String,
        gitCommit: String?, windowStart: Date, windowEnd: Date, host: String, pid: Int, invocation: String
    ) {
        self.name = name
        self.manifestPath = manifestPath
        self.manifestSHA256 = manifestSHA256
        self.windowSpec = windowSpec
        self.gitCommit = gitCommit
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.host = host
        self.pid = pid
        self.invocation = invocation
    }
}

/// A run as stored.
public struct RunRecord: Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let manifestPath: String
    public let manifestSHA256: String
    public let windowSpec: String
    public let gitCommit: String?
    public let windowStart: Date
    public let windowEnd: Date
    public let state: RunState
    public let startedAt: Date
    public let finishedAt: Date?
    public let host: String
    public let pid: Int
    public let invocation: String
}

/// What a new unit attempt row holds.
public struct NewAttempt: Sendable {
    public var runID: Int64
    public var unit: UnitKey
    public var state: UnitState
    public var reason: String
    public var fingerprint: String
    public var fingerprintParts: [String: String]
    public var reusedFromRun: Int64?
    public var outputHash: String?
    public var errorCode: String?
    public var errorMessage: String?

    public init(
        runID: Int64, unit: UnitKey, state: UnitState, reason: String, fingerprint: String,
        fingerprintParts: [String: String], reusedFromRun: Int64? = nil, outputHash: String? = nil,
        errorCode: String? = nil, errorMessage: String? = nil
    ) {
        self.runID = runID
        self.unit = unit
        self.state = state
        self.reason = reason
        self.fingerprint = fingerprint
        self.fingerprintParts = fingerprintParts
        self.reusedFromRun = reusedFromRun
        self.outputHash = outputHash
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }
}

/// One unit attempt as stored.
public struct AttemptRecord: Sendable, Equatable {
    public let id: Int64
    public let runID: Int64
    public let unit: UnitKey
    public let attempt: Int
    public let state: UnitState
    public let reason: String
    public let fingerprint: String
    public let fingerprintParts: [String: String]
    public let reusedFromRun: Int64?
    public let startedAt: Date?
    public let finishedAt: Date?
    public let counters: [String: Int64]
    public let outputHash: String?
    public let errorCode: String?
    public let errorMessage: String?
}

/// The latest successful output of a unit across all runs of one manifest name.
public struct UnitOutputRecord: Sendable, Equatable {
    public let unit: UnitKey
    public let runID: Int64
    public let attemptID: Int64
    public let fingerprint: String
    public let fingerprintParts: [String: String]
    public let outputHash: String
    public let finishedAt: Date
}

/// The persisted ledger: runs, unit attempts, latest outputs.
///
/// Every method that changes state is exactly one transaction. ``succeed(attemptID:...)``
/// takes the unit's own persistence as a closure so that the output and the `succeeded` mark
/// become durable together, or not at all.
public struct Ledger: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Runs

    public func createRun(_ new: NewRun) throws -> RunRecord {
        try database.transaction { tx in
            let rows = try tx.query(
                """
                INSERT INTO runs (name, manifest_path, manifest_sha256, window_spec, git_commit,
                                  window_start, window_end, state, started_at, host, pid, invocation)
                VALUES (\(new.name), \(new.manifestPath), \(new.manifestSHA256), \(new.windowSpec),
                        \(new.gitCommit), \(Timestamp.string(new.windowStart)),
                        \(Timestamp.string(new.windowEnd)), 'running', \(Timestamp.now()),
                        \(new.host), \(new.pid), \(new.invocation))
                RETURNING \(sql: Self.runColumns)
                """)
            guard let row = rows.first else { throw StoreError(.statement, "INSERT into runs returned no row") }
            return try Self.decodeRun(row)
        }
    }

    public func run(id: Int64) throws -> RunRecord? {
        try database.query("SELECT \(sql: Self.runColumns) FROM runs WHERE id = \(id)")
            .first.map(Self.decodeRun)
    }

    public func latestRun(name: String) throws -> RunRecord? {
        try database.query(
            """
            SELECT \(sql: Self.runColumns) FROM runs WHERE name = \(name) ORDER BY id DESC LIMIT 1
            """
        ).first.map(Self.decodeRun)
    }

    /// The newest run of a manifest name over one window spec (a window `backfill` or
    /// `--window-end` ran before).
    public func latestRun(name: String, windowSpec: String) throws -> RunRecord? {
        try database.query(
            """
            SELECT \(sql: Self.runColumns) FROM runs WHERE name = \(name) AND window_spec = \(windowSpec) ORDER BY id DESC LIMIT 1
            """
        ).first.map(Self.decodeRun)
    }

    /// The newest succeeded run of a manifest name over exactly this window, whatever spec
    /// made it (`end: now`, `--window-end`, `backfill`).
    public func succeededRun(name: String, windowStart: Date, windowEnd: Date) throws -> RunRecord? {
        try database.query(
            """
            SELECT \(sql: Self.runColumns) FROM runs WHERE name = \(name) AND state = 'succeeded'
              AND window_start = \(Timestamp.string(windowStart)) AND window_end = \(Timestamp.string(windowEnd))
            ORDER BY id DESC LIMIT 1
            """
        ).first.map(Self.decodeRun)
    }

    /// Runs, newest first, optionally of one manifest name.
    public func runs(name: String?, limit: Int) throws -> [RunRecord] {
        let rows: [Row]
        if let name {
            rows = try database.query(
                """
                SELECT \(sql: Self.runColumns) FROM runs WHERE name = \(name)
                ORDER BY id DESC LIMIT \(limit)
                """)
        } else {
            rows = try database.query(
                """
                SELECT \(sql: Self.runColumns) FROM runs ORDER BY id DESC LIMIT \(limit)
                """)
        }
        return try rows.map(Self.decodeRun)
    }

    public func finishRun(id: Int64, state: RunState) throws {
        try database.transaction { tx in
            try tx.execute(
                """
                UPDATE runs SET state = \(state.rawValue), finished_at = \(Timestamp.now()) WHERE id = \(id)
                """)
        }
    }

    /// Ends a run worked in rounds, unless a newer round began or another worker ended it
    /// first; returns whether this call ended it.
    @discardableResult
    public func finishRun(id: Int64, state: RunState, round: Int) throws -> Bool {
        try database.transaction { tx in
            !(try tx.query(
                """
                UPDATE runs SET state = \(state.rawValue), finished_at = \(Timestamp.now())
                WHERE id = \(id) AND state = 'running'
                  AND (SELECT MAX(round) FROM run_rounds WHERE run_id = \(id)) = \(round)
                RETURNING id
                """)).isEmpty
        }
    }

    /// Marks a run as running again when an invocation continues it.
    public func reopenRun(id: Int64, host: String, pid: Int) throws {
        try database.transaction { tx in
            try tx.execute(
                """
                UPDATE runs SET state = 'running', finished_at = NULL, host = \(host), pid = \(pid)
                WHERE id = \(id)
                """)
        }
    }

    // MARK: Attempts

    /// Every attempt of a run, oldest first.
    public func attempts(runID: Int64) throws -> [AttemptRecord] {
        try database.query(
            """
            SELECT \(sql: Self.attemptColumns) FROM unit_attempts WHERE run_id = \(runID) ORDER BY id
            """
        ).map(Self.decodeAttempt)
    }

    /// The latest attempt of each unit in a run whose state is one of `states`.
    public func latestAttempts(runID: Int64, in states: Set<UnitState>) throws -> [AttemptRecord] {
        let rows = try database.query(
            """
            SELECT \(sql: Self.attemptColumns) FROM unit_attempts a
            WHERE run_id = \(runID) AND id = (SELECT MAX(id) FROM unit_attempts b
                                             WHERE b.run_id = a.run_id AND b.stage = a.stage AND b.unit = a.unit)
            ORDER BY stage, unit
            """)
        return try rows.map(Self.decodeAttempt).filter { states.contains($0.state) }
    }

    /// The latest attempt of each unit in a run.
    public func latestAttempts(runID: Int64) throws -> [UnitKey: AttemptRecord] {
        var latest: [UnitKey: AttemptRecord] = [:]
        for attempt in try attempts(runID: runID) { latest[attempt.unit] = attempt }
        return latest
    }

    /// The latest successful output of every unit of a manifest name, across runs.
    public func unitOutputs(name: String) throws -> [UnitKey: UnitOutputRecord] {
        let rows = try database.query(
            """
            SELECT stage, unit, run_id, attempt_id, fingerprint, fingerprint_parts, output_hash, finished_at
            FROM unit_outputs WHERE name = \(name)
            """)
        return try Self.outputRecords(rows)
    }

    /// The latest successful output of every unit of a manifest name for one window, across
    /// runs: what a run of that window may reuse although other windows ran since.
    public func unitOutputs(name: String, windowStart: Date, windowEnd: Date) throws -> [UnitKey: UnitOutputRecord] {
        let rows = try database.query(
            """
            SELECT stage, unit, run_id, attempt_id, fingerprint, fingerprint_parts, output_hash, finished_at
            FROM unit_window_outputs
            WHERE name = \(name) AND window_start = \(Timestamp.string(windowStart)) AND window_end = \(Timestamp.string(windowEnd))
            """)
        return try Self.outputRecords(rows)
    }

    /// Unit outputs by unit, from rows of `unit_outputs` or `unit_window_outputs` (the same columns).
    static func outputRecords(_ rows: [Row]) throws -> [UnitKey: UnitOutputRecord] {
        var outputs: [UnitKey: UnitOutputRecord] = [:]
        outputs.reserveCapacity(rows.count)
        for row in rows {
            let key = UnitKey(stage: try row.string("stage"), unit: try row.string("unit"))
            outputs[key] = UnitOutputRecord(
                unit: key, runID: try row.int("run_id"), attemptID: try row.int("attempt_id"),
                fingerprint: try row.string("fingerprint"),
                fingerprintParts: decodeParts(try row.optionalString("fingerprint_parts")),
                outputHash: try row.string("output_hash"),
                finishedAt: Timestamp.date(try row.string("finished_at")) ?? Date(timeIntervalSince1970: 0))
        }
        return outputs
    }

    /// Marks the run's attempts left `running` or `pending` as `interrupted`; returns how many.
    ///
    /// Called by the lock holder when it continues a run, so those rows can only belong to a
    /// process that is gone.
    @discardableResult
    public func interruptUnfinished(runID: Int64, message: String) throws -> Int {
        try database.transaction { tx in
            let rows = try tx.query(
                """
                UPDATE unit_attempts
                SET state = 'interrupted', finished_at = \(Timestamp.now()),
                    error_code = 'interrupted', error_message = \(message)
                WHERE run_id = \(runID) AND state IN ('running', 'pending')
                RETURNING id
                """)
            return rows.count
        }
    }

    /// Inserts an attempt in state `running` and returns it.
    public func start(_ new: NewAttempt) throws -> AttemptRecord {
        try database.transaction { tx in try Self.insert(new, startedNow: true, in: tx) }
    }

    /// Inserts attempts that are already final (reused, skipped) in one transaction.
    public func record(_ attempts: [NewAttempt]) throws {
        guard !attempts.isEmpty else { return }
        try database.transaction { tx in
            try Self.insertFinals(attempts, in: tx)
        }
    }

    /// Marks an attempt succeeded in the same transaction that runs `persist`, the unit's own writes.
    ///
    /// With a `fence` (a claimed unit of the run's queue) the queue row is ended first, and only
    /// while this worker still holds that attempt: otherwise nothing is written and the call
    /// throws `fenced`.
    public func succeed(
        attemptID: Int64, name: String, outputHash: String, counters: [String: Int64], warnings: [String] = [],
        fence: Fence? = nil, persist: (borrowing Transaction) throws -> Void = { _ in }
    ) throws {
        try database.transaction { tx in
            if let fence { try WorkQueue.settle(fence, state: "succeeded", outputHash: outputHash, in: tx) }
            try persist(tx)
            let now = Timestamp.now()
            let rows = try tx.query(
                """
                UPDATE unit_attempts
                SET state = 'succeeded', finished_at = \(now), output_hash = \(outputHash),
                    counters = \(Self.encodeCounters(counters)), warnings = \(Self.encodeWarnings(warnings))
                WHERE id = \(attemptID) AND state = 'running'
                RETURNING run_id, stage, unit, fingerprint, fingerprint_parts
                """)
            guard let row = rows.first else {
                throw StoreError(.statement, "attempt \(attemptID) is no longer running; another process took it over")
            }
            try tx.execute(
                """
                INSERT INTO unit_outputs (name, stage, unit, run_id, attempt_id, fingerprint, fingerprint_parts,
                                          output_hash, finished_at)
                VALUES (\(name), \(try row.string("stage")), \(try row.string("unit")), \(try row.int("run_id")),
                        \(attemptID), \(try row.string("fingerprint")), \(try row.string("fingerprint_parts")),
                        \(outputHash), \(now))
                ON CONFLICT (name, stage, unit) DO UPDATE SET
                    run_id = excluded.run_id, attempt_id = excluded.attempt_id,
                    fingerprint = excluded.fingerprint, fingerprint_parts = excluded.fingerprint_parts,
                    output_hash = excluded.output_hash, finished_at = excluded.finished_at
                """)
            // And as the latest output of this unit for the run's window.
            try tx.execute(
                """
                INSERT INTO unit_window_outputs (name, stage, unit, window_start, window_end, run_id, attempt_id, fingerprint,
                                                 fingerprint_parts, output_hash, finished_at)
                SELECT \(name), \(try row.string("stage")), \(try row.string("unit")), r.window_start, r.window_end, r.id,
                       \(attemptID), \(try row.string("fingerprint")), \(try row.string("fingerprint_parts")), \(outputHash),
                       \(now)
                FROM runs r WHERE r.id = \(try row.int("run_id"))
                ON CONFLICT (name, window_start, window_end, stage, unit) DO UPDATE SET
                    run_id = excluded.run_id, attempt_id = excluded.attempt_id,
                    fingerprint = excluded.fingerprint, fingerprint_parts = excluded.fingerprint_parts,
                    output_hash = excluded.output_hash, finished_at = excluded.finished_at
                """)
        }
    }

    /// Ends a running attempt as `failed` or `interrupted`, with its error and counters.
    ///
    /// With a `fence` the queue row ends too (fenced as in ``succeed(attemptID:name:outputHash:counters:warnings:fence:persist:)``);
    /// `requeue` puts an interrupted unit back in the queue for any worker, instead of ending
    /// it for the round.
    public func end(
        attemptID: Int64, state: UnitState, errorCode: String, errorMessage: String, counters: [String: Int64],
        fence: Fence? = nil, requeue: Bool = false
    ) throws {
        precondition(state == .failed || state == .interrupted, "end(attemptID:) records failures only")
        try database.transaction { tx in
            if let fence {
                let queueState = requeue ? "queued" : state.rawValue
                try WorkQueue.settle(fence, state: queueState, outputHash: nil, in: tx)
            }
            try tx.execute(
                """
                UPDATE unit_attempts
                SET state = \(state.rawValue), finished_at = \(Timestamp.now()), error_code = \(errorCode),
                    error_message = \(errorMessage), counters = \(Self.encodeCounters(counters))
                WHERE id = \(attemptID) AND state = 'running'
                """)
        }
    }

    // MARK: Encoding

    static let runColumns: StaticString = """
        id, name, manifest_path, manifest_sha256, window_spec, git_commit, window_start, window_end, state, \
        started_at, finished_at, host, pid, invocation
        """

    static let attemptColumns: StaticString = """
        id, run_id, stage, unit, attempt, state, reason, fingerprint, fingerprint_parts, reused_from_run, \
        started_at, finished_at, counters, output_hash, error_code, error_message
        """

    static func insert(_ new: NewAttempt, startedNow: Bool, in tx: borrowing Transaction) throws -> AttemptRecord {
        let now = Timestamp.now()
        let rows = try tx.query(
            """
            INSERT INTO unit_attempts (run_id, stage, unit, attempt, state, reason, fingerprint, fingerprint_parts,
                                       reused_from_run, started_at, finished_at, output_hash, error_code,
                                       error_message)
            VALUES (\(new.runID), \(new.unit.stage), \(new.unit.unit),
                    (SELECT COALESCE(MAX(attempt), 0) + 1 FROM unit_attempts
                     WHERE run_id = \(new.runID) AND stage = \(new.unit.stage) AND unit = \(new.unit.unit)),
                    \(new.state.rawValue), \(new.reason), \(new.fingerprint), \(encodeParts(new.fingerprintParts)),
                    \(new.reusedFromRun), \(startedNow ? now : nil), \(startedNow ? nil : now), \(new.outputHash),
                    \(new.errorCode), \(new.errorMessage))
            RETURNING \(sql: attemptColumns)
            """)
        guard let row = rows.first else { throw StoreError(.statement, "INSERT into unit_attempts returned no row") }
        return try decodeAttempt(row)
    }

    /// Inserts attempts that are already final (reused, skipped), each unit once, in one bulk
    /// insert (`COPY` on PostgreSQL): their numbers follow the run's latest attempt of each
    /// unit, read in one query. Nothing is read back.
    static func insertFinals(_ attempts: [NewAttempt], in tx: borrowing Transaction) throws {
        guard !attempts.isEmpty else { return }
        var latest: [Int64: [UnitKey: Int64]] = [:]
        for runID in Set(attempts.map(\.runID)) {
            var byUnit: [UnitKey: Int64] = [:]
            for row in try tx.query(
                """
                SELECT stage, unit, MAX(attempt) AS attempt FROM unit_attempts WHERE run_id = \(runID) GROUP BY stage, unit
                """)
            {
                byUnit[UnitKey(stage: try row.string("stage"), unit: try row.string("unit"))] = try row.int("attempt")
            }
            latest[runID] = byUnit
        }
        let now = Timestamp.now()
        let rows: [[SQLValue]] = attempts.map { new in
            [
                .integer(new.runID), .text(new.unit.stage), .text(new.unit.unit),
                .integer((latest[new.runID]?[new.unit] ?? 0) + 1), .text(new.state.rawValue), .text(new.reason),
                .text(new.fingerprint), .text(encodeParts(new.fingerprintParts)), new.reusedFromRun.sqlValue, .null,
                .text(now), new.outputHash.sqlValue, new.errorCode.sqlValue, new.errorMessage.sqlValue,
            ]
        }
        try tx.insertMany(
            table: "unit_attempts",
            columns: [
                "run_id", "stage", "unit", "attempt", "state", "reason", "fingerprint", "fingerprint_parts", "reused_from_run",
                "started_at", "finished_at", "output_hash", "error_code", "error_message",
            ], rows: rows)
    }

    static func decodeRun(_ row: Row) throws -> RunRecord {
        guard let state = RunState(rawValue: try row.string("state")) else {
            throw StoreError(.decoding, "unknown run state `\(try row.optionalString("state") ?? "")`")
        }
        return RunRecord(
            id: try row.int("id"), name: try row.string("name"), manifestPath: try row.string("manifest_path"),
            manifestSHA256: try row.string("manifest_sha256"), windowSpec: try row.string("window_spec"),
            gitCommit: try row.optionalString("git_commit"),
            windowStart: try date(row, "window_start"), windowEnd: try date(row, "window_end"),
            state: state, startedAt: try date(row, "started_at"),
            finishedAt: try row.optionalString("finished_at").flatMap(Timestamp.date),
            host: try row.string("host"), pid: Int(try row.int("pid")), invocation: try row.string("invocation"))
    }

    static func decodeAttempt(_ row: Row) throws -> AttemptRecord {
        guard let state = UnitState(rawValue: try row.string("state")) else {
            throw StoreError(.decoding, "unknown unit state `\(try row.optionalString("state") ?? "")`")
        }
        return AttemptRecord(
            id: try row.int("id"), runID: try row.int("run_id"),
            unit: UnitKey(stage: try row.string("stage"), unit: try row.string("unit")),
            attempt: Int(try row.int("attempt")), state: state, reason: try row.string("reason"),
            fingerprint: try row.string("fingerprint"),
            fingerprintParts: decodeParts(try row.optionalString("fingerprint_parts")),
            reusedFromRun: try row.optionalInt("reused_from_run"),
            startedAt: try row.optionalString("started_at").flatMap(Timestamp.date),
            finishedAt: try row.optionalString("finished_at").flatMap(Timestamp.date),
            counters: decodeCounters(try row.optionalString("counters")),
            outputHash: try row.optionalString("output_hash"), errorCode: try row.optionalString("error_code"),
            errorMessage: try row.optionalString("error_message"))
    }

    static func date(_ row: Row, _ column: String) throws -> Date {
        let text = try row.string(column)
        guard let date = Timestamp.date(text) else {
            throw StoreError(.decoding, "column `\(column)` holds `\(text)`, not an RFC 3339 timestamp")
        }
        return date
    }

    static func encodeParts(_ parts: [String: String]) -> String { FlatJSON.encode(parts) }

    static func decodeParts(_ text: String?) -> [String: String] { text.flatMap(FlatJSON.decodeStrings) ?? [:] }

    static func encodeCounters(_ counters: [String: Int64]) -> String { FlatJSON.encode(counters) }

    /// Warnings as a JSON list of strings.
    static func encodeWarnings(_ warnings: [String]) -> String {
        "["
            + warnings.map { warning in
                var quoted = ""
                FlatJSON.quote(warning, into: &quoted)
                return quoted
            }.joined(separator: ",") + "]"
    }

    static func decodeCounters(_ text: String?) -> [String: Int64] { text.flatMap(FlatJSON.decodeIntegers) ?? [:] }
}
