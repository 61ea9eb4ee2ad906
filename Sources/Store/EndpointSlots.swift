import Digest
import Foundation

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
        try database.transaction { tx in
            let clock = WorkQueue.clock(tx.engine)
            if tx.engine == .postgres { try tx.execute("SELECT pg_advisory_xact_lock(\(Self.key(endpoint)))") }
            try tx.execute("DELETE FROM endpoint_slots WHERE endpoint = \(endpoint) AND expires_ms <= \(sql: clock)")
            let held =
                try tx.query("SELECT COUNT(*) AS n FROM endpoint_slots WHERE endpoint = \(endpoint)")
                .first?.int("n") ?? 0
            guard held < limit else { return false }
            try tx.execute(
                """
                INSERT INTO endpoint_slots (endpoint, holder, expires_ms)
                VALUES (\(endpoint), \(holder), \(sql: clock) + \(lease.components.seconds * 1000))
                """)
            return true
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
