public import Foundation
import JSON

/// One GitHub credential's GraphQL budget as every worker of a store sees it.
public struct CredentialBudget: Sendable, Equatable {
    /// The credential's key: a name and a fingerprint, never the secret.
    public let credential: String
    /// How people know it (`token GHILLIE_GITHUB_TOKEN`, `app 424242 on acme`).
    public let label: String
    public let floor: Int
    /// What GitHub reported last, less nothing: requests in flight are `inFlight`.
    public let remaining: Int?
    public let resetAt: Date?
    /// Points reserved by requests sent and not answered yet.
    public let inFlight: Int
    public let requests: Int
    /// Requests that found the budget at its floor and waited for the reset.
    public let waits: Int
}

/// Why a request of a credential waits, and until when.
public enum CredentialHold: Sendable, Equatable {
    /// The budget is at its floor until GitHub's reset.
    case spent(until: Date)
    /// Every process's requests of the last minute reached `github.max_requests_per_minute`.
    case throttled(until: Date)
}

/// The ledger's `credential_budgets`: each credential's budget, shared by every worker so that
/// together they keep it above its floor.
///
/// A request reserves the points it expects to cost before it is sent, and only if what GitHub
/// last reported, less every reservation in flight, stays at or above the floor; when it ends,
/// it gives the reservation back with what GitHub reported after it. Within one reset window
/// the reported number only goes down (the lowest report wins: answers arrive out of order);
/// a later window replaces it; a window whose reset passed is unknown again, so the next
/// request goes and learns it — and its reservations are forgotten with it, so points a killed
/// worker reserved and never gave back hold the budget down for one window at most.
public struct CredentialBudgets: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Makes the credential known (or updates its label and floor).
    public func register(_ credential: String, label: String, floor: Int) throws {
        try database.transaction { tx in
            try tx.execute(
                """
                INSERT INTO credential_budgets (credential, label, floor) VALUES (\(credential), \(label), \(floor))
                ON CONFLICT (credential) DO UPDATE SET label = excluded.label, floor = excluded.floor
                """)
        }
    }

    /// Reserves `points` for a GraphQL request about to be sent and, with `perMinute`, one of
    /// the credential's requests of the last `window` (a minute): nil when both are granted,
    /// else why not and until when (wait until then and ask again): until the budget resets
    /// when keeping its floor needs it, or until the window has room.
    ///
    /// GitHub's secondary limit counts a credential's points a minute whoever sends them, so
    /// every process using the credential shares `github.max_requests_per_minute`: each
    /// request holds an `endpoint_slots` row (`github-minute:` and the credential) that nobody
    /// gives back and that stops counting after `window` — a sliding window. One transaction:
    /// the budget's row, locked by the reservation until it commits, lets one request of the
    /// credential count the window at a time; a full window rolls the reservation back. Rows
    /// that left the window are cleared by one request in a hundred.
    public func reserve(_ credential: String, points: Int, perMinute: Int? = nil, window: Duration = .seconds(60)) throws
        -> CredentialHold?
    {
        do {
            return try database.transaction { tx in
                let clock = WorkQueue.clock(tx.engine)
                let granted = try tx.query(
                    """
                    UPDATE credential_budgets
                    SET in_flight = (CASE WHEN reset_ms <= \(sql: clock) THEN \(points) ELSE in_flight + \(points) END),
                        requests = requests + 1,
                        remaining = (CASE WHEN reset_ms <= \(sql: clock) THEN NULL ELSE remaining END),
                        reset_ms = (CASE WHEN reset_ms <= \(sql: clock) THEN NULL ELSE reset_ms END)
                    WHERE credential = \(credential)
                      AND (remaining IS NULL OR reset_ms IS NULL OR reset_ms <= \(sql: clock)
                           OR remaining - in_flight - \(points) >= floor)
                    RETURNING requests
                    """)
                guard !granted.isEmpty else {
                    let waiting = try tx.query(
                        """
                        UPDATE credential_budgets SET waits = waits + 1 WHERE credential = \(credential) RETURNING reset_ms
                        """)
                    // A credential nobody registered has no budget to keep: the request goes.
                    guard let reset = try waiting.first?.optionalInt("reset_ms") else { return nil }
                    return .spent(until: Date(timeIntervalSince1970: Double(reset) / 1000))
                }
                guard let perMinute else { return nil }
                let endpoint = "github-minute:" + credential
                let millis = window.components.seconds * 1000 + window.components.attoseconds / 1_000_000_000_000_000
                let taken = try tx.query(
                    """
                    INSERT INTO endpoint_slots (endpoint, holder, expires_ms)
                    SELECT \(endpoint), \(UUID().uuidString), \(sql: clock) + \(millis)
                    WHERE (SELECT COUNT(*) FROM endpoint_slots WHERE endpoint = \(endpoint) AND expires_ms > \(sql: clock))
                          < \(perMinute)
                    RETURNING holder
                    """)
                guard !taken.isEmpty else {
                    let first = try tx.query(
                        """
                        SELECT MIN(expires_ms) AS first FROM endpoint_slots
                        WHERE endpoint = \(endpoint) AND expires_ms > \(sql: clock)
                        """
                    ).first?.optionalInt("first")
                    throw WindowFull(until: Date(timeIntervalSince1970: Double(first ?? 0) / 1000))
                }
                // Rows that left the window count for nothing; one request in a hundred clears them.
                let requests = try granted.first?.int("requests") ?? 0
                if requests % 100 == 0 {
                    try tx.execute("DELETE FROM endpoint_slots WHERE endpoint = \(endpoint) AND expires_ms <= \(sql: clock)")
                }
                return nil
            }
        } catch let full as WindowFull {
            return .throttled(until: full.until)
        }
    }

    /// A full window: thrown to roll the transaction's reservation back.
    private struct WindowFull: Error {
        let until: Date
    }

    /// Gives back a reservation once its request ended, with the budget GitHub reported.
    public func settle(_ credential: String, points: Int, remaining: Int?, resetAt: Date?) throws {
        try database.transaction { tx in
            let clock = WorkQueue.clock(tx.engine)
            guard let remaining, let resetAt else {
                try tx.execute(
                    """
                    UPDATE credential_budgets
                    SET in_flight = (CASE WHEN in_flight < \(points) THEN 0 ELSE in_flight - \(points) END)
                    WHERE credential = \(credential)
                    """)
                return
            }
            let reset = Int64((resetAt.timeIntervalSince1970 * 1000).rounded())
            try tx.execute(
                """
                UPDATE credential_budgets
                SET in_flight = (CASE WHEN in_flight < \(points) THEN 0 ELSE in_flight - \(points) END),
                    remaining = (CASE WHEN reset_ms IS NULL OR remaining IS NULL OR reset_ms < \(reset) THEN \(remaining)
                                      WHEN reset_ms = \(reset) AND \(remaining) < remaining THEN \(remaining)
                                      ELSE remaining END),
                    reset_ms = (CASE WHEN reset_ms IS NULL OR reset_ms < \(reset) THEN \(reset) ELSE reset_ms END),
                    updated_ms = \(sql: clock)
                WHERE credential = \(credential)
                """)
        }
    }

    /// Every credential the store knows, by label.
    public func all() throws -> [CredentialBudget] {
        try database.query(
            """
            SELECT credential, label, floor, remaining, reset_ms, in_flight, requests, waits FROM credential_budgets
            ORDER BY label, credential
            """
        ).map { row in
            CredentialBudget(
                credential: try row.string("credential"), label: try row.string("label"), floor: Int(try row.int("floor")),
                remaining: try row.optionalInt("remaining").map(Int.init),
                resetAt: try row.optionalInt("reset_ms").map { Date(timeIntervalSince1970: Double($0) / 1000) },
                inFlight: Int(try row.int("in_flight")), requests: Int(try row.int("requests")),
                waits: Int(try row.int("waits")))
        }
    }
}
