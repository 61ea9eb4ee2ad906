import JSON

/// Raw nodes refine could not read, and what ingest reads again because of them.
///
/// A raw node that does not decode (stored by an earlier version, or by a bug) must not stop a
/// repository for good: refine sets it aside (`raw_refused`, by content hash — refine reads
/// around it from then on) and asks for its kind of node to be read again (`raw_rereads`).
/// The next run's ingest unit of the repository runs because of that request, reads those
/// streams again from the window's start, and clears the request in the transaction that
/// marks it succeeded; refine then runs on what it read.
public struct RawHealth: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A kind of node a repository's ingest must read again, and why.
    public struct Reread: Sendable, Equatable {
        public let kind: String
        public let reason: String
    }

    /// Sets a stored node aside and asks for `rereads` kinds to be read again, in one transaction.
    public func refuse(
        contentHash: String, repository: String, kind: String, key: String, reason: String, rereads: [String]
    ) throws {
        let now = Timestamp.now()
        try database.transaction { tx in
            try tx.execute(
                """
                INSERT INTO raw_refused (content_hash, repository, kind, node_key, reason, refused_at)
                VALUES (\(contentHash), \(repository), \(kind), \(key), \(reason), \(now))
                ON CONFLICT (content_hash) DO NOTHING
                """)
            for reread in rereads {
                try tx.execute(
                    """
                    INSERT INTO raw_rereads (repository, kind, reason, requested_at)
                    VALUES (\(repository), \(reread), \("raw \(kind) \(key): \(reason)"), \(now))
                    ON CONFLICT (repository, kind) DO UPDATE SET reason = excluded.reason, requested_at = excluded.requested_at
                    """)
            }
        }
    }

    /// What a repository's ingest has to read again (empty: nothing).
    public func rereads(_ repository: String) throws(StoreError) -> [Reread] {
        var rereads: [Reread] = []
        for row in try database.query("SELECT kind, reason FROM raw_rereads WHERE repository = \(repository) ORDER BY kind") {
            rereads.append(Reread(kind: try row.string("kind"), reason: try row.string("reason")))
        }
        return rereads
    }

    /// Every repository with something to read again, and why (one reason each).
    public func pending() throws(StoreError) -> [String: String] {
        var pending: [String: String] = [:]
        for row in try database.query("SELECT repository, kind, reason FROM raw_rereads ORDER BY repository, kind") {
            let repository = try row.string("repository")
            if pending[repository] == nil { pending[repository] = try row.string("reason") }
        }
        return pending
    }

    /// Clears a repository's requests, in the transaction that marks its ingest unit succeeded.
    public static func clear(_ repository: String, in tx: borrowing Transaction) throws {
        try tx.execute("DELETE FROM raw_rereads WHERE repository = \(repository)")
    }

    /// A node stored again whole takes back its refusal (what refused it was not the data).
    public static func accept(_ contentHashes: [String], repository: String, in tx: borrowing Transaction) throws {
        for chunk in SQL.chunks(contentHashes) {
            let placeholders = chunk.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
            try tx.execute(
                SQL(
                    unsafeSQL: "DELETE FROM raw_refused WHERE repository = $1 AND content_hash IN (\(placeholders))",
                    bindings: [.text(repository)] + chunk.map(SQLValue.text)))
        }
    }
}
