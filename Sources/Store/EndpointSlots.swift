import Digest
public import Foundation

/// Requests in flight to one model endpoint, capped across every worker of a store.
///
/// Each request holds a slot — a row with an expiry on the database clock — from just before
/// it is sent until its answer arrives. A slot is taken only while fewer than the cap are
/// held; taking one is one short transaction, serialized per endpoint (an advisory lock on
/// PostgreSQL; SQLite has one writer). A worker killed mid-request leaves a slot that expires
/// on its own.
public struct EndpointSlots: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Takes a slot for `holder` if fewer than `limit` are held; returns whether it did.
    public func acquire(_ endpoint: String, limit: Int, holder: String, lease: Duration) throws -> Bool {
        try take(endpoint, limit: limit, holder: holder, lease: lease) == nil
    }

    /// Takes a slot for `holder` if fewer than `limit` are held: nil when it did, else when the
    /// first held slot expires (a slot nobody gives back makes a sliding window: at most
    /// `limit` takes per `lease`).
    public func take(_ endpoint: String, limit: Int, holder: String, lease: Duration) throws -> Date? {
        let millis = lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000
        return try database.transaction { tx in
            let clock = WorkQueue.clock(tx.engine)
            if tx.engine == .postgres { try tx.execute("SELECT pg_advisory_xact_lock(\(Self.key(endpoint)))") }
            try tx.execute("DELETE FROM endpoint_slots WHERE endpoint = \(endpoint) AND expires_ms <= \(sql: clock)")
            let held = try tx.query(
                "SELECT COUNT(*) AS n, MIN(expires_ms) AS first FROM endpoint_slots WHERE endpoint = \(endpoint)"
            ).first
            if (try held?.int("n")) ?? 0 >= limit {
                return Date(timeIntervalSince1970: Double(try held?.optionalInt("first") ?? 0) / 1000)
            }
            try tx.execute(
                """
                INSERT INTO endpoint_slots (endpoint, holder, expires_ms)
                VALUES (\(endpoint), \(holder), \(sql: clock) + \(millis))
                """)
            return nil
        }
    }

    /// Gives a slot back.
    public func release(_ endpoint: String, holder: String) throws {
        try database.transaction { tx in
            try tx.execute("DELETE FROM endpoint_slots WHERE endpoint = \(endpoint) AND holder = \(holder)")
        }
    }

    /// The advisory-lock key for an endpoint: the first 63 bits of a SHA-256.
    static func key(_ endpoint: String) -> Int64 {
        Int64(bitPattern: UInt64(SHA256.hex("ghillie-run endpoint:" + endpoint).prefix(16), radix: 16) ?? 0) & Int64.max
    }
}
