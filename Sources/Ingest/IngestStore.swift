import Digest
import Foundation
import GitHubNodes
import JSON
import Store

/// Where a stream stands within one run: the page it reached and what it has seen.
struct Checkpoint: Sendable, Equatable {
    var since: Date
    var cursor: String?
    var done = false
    var pages: Int64 = 0
    var nodes: Int64 = 0
    /// GitHub's `totalCount` on the stream's latest page.
    var total: Int64?
    var requests: Int64 = 0
    var points: Int64 = 0
    /// History streams: the commit the read started from (the branch's tip then). Later pages
    /// read that commit's history, so they stay consistent while the branch moves.
    var tip: String?
    /// Ordered streams: the head of the list when the current pass began — its `updatedAt`
    /// (GitHub's clock) and number. An item updated after it may have moved behind the cursor.
    var readStart: Date?
    var headNumber: Int64?
    /// Ordered streams: when the latest look at the head began (set once the first pass found
    /// that items moved; coverage ends there).
    var headStart: Date?
    /// Ordered streams, in a look at the head: items older than this were read by an earlier
    /// pass, unchanged since; the look reads down to it.
    var stopAt: Date?
    /// Ordered streams: an item moved to the head during the current pass (the list's head
    /// became newer than `readStart`).
    var moved = false

    init(since: Date) { self.since = since }

    /// Ordered streams: the pass ended having seen items move, and the next request is a look
    /// at the head, down to `stopAt`.
    var awaitsHeadLook: Bool { !done && pages > 0 && cursor == nil && stopAt != nil }

    /// The same stream from the start, as a failed read leaves it for the rerun.
    func restarted() -> Checkpoint {
        var fresh = Checkpoint(since: since)
        fresh.requests = requests
        fresh.points = points
        return fresh
    }
}

/// What earlier runs covered of a stream: every node in [from, to] is stored (for a history
/// stream, every commit reachable from `tip` with a date in that range).
struct Coverage: Sendable, Equatable {
    let from: Date
    let to: Date
    let tip: String?
}

/// One raw node to store.
struct RawRow {
    let kind: RawKind
    let key: String
    let payload: JSONValue
    let operation: String
    let cursor: String?
    /// A node of an answer the client checked as this kind's node type (``GitHub/Operation/check(_:variables:)``);
    /// rows ingest makes itself are checked before they are stored.
    var checked = false
}

/// What GitHub last said about a pull request or issue: the item states ingest keeps to
/// notice an item that left its repository.
struct ItemState {
    let kind: String
    let key: String
    let nodeId: String
    let number: Int64
    /// `OPEN`, `CLOSED`, `MERGED`, or `GONE` once ingest found it had left.
    let state: String
    let updatedAt: Date
}

/// What one page (or one settled stream) writes, in one transaction.
struct PageWrite {
    var stream: RepositoryStream
    var checkpoint: Checkpoint
    var rows: [RawRow] = []
    var items: [ItemState] = []
    /// Keys of the items the page listed, for the read's completeness check.
    var seen: [String] = []
    /// When the stream ends: up to when its read covers, and for history streams the tip.
    var coverage: (to: Date, tip: String?)?
}

/// Ingest's part of the store for one repository: raw nodes (Bronze, append-only,
/// deduplicated by content), stream checkpoints per run, coverage across runs, the items each
/// read listed, and item states.
///
/// Every write of a page is one transaction, so a killed run resumes at the page it reached
/// and never finds a page's nodes without its checkpoint (or the other way round).
struct IngestStore: Sendable {
    let database: Database
    let runID: Int64
    let slug: String
    /// The run's window start: where a stream's coverage begins.
    let windowStart: Date
    /// Refine set nodes of this repository aside: a node stored again whole takes its refusal back.
    var healing = false

    func checkpoint(_ stream: RepositoryStream) throws -> Checkpoint? {
        guard
            let row = try database.query(
                """
                SELECT since, cursor, done, pages, nodes, total_count, requests, points, tip_oid, read_start, head_number, head_start,
                       stop_at, moved
                FROM ingest_checkpoints WHERE run_id = \(runID) AND repository = \(slug) AND stream = \(stream.name)
                """
            ).first, let since = Timestamp.date(try row.string("since"))
        else { return nil }
        var checkpoint = Checkpoint(since: since)
        checkpoint.cursor = try row.optionalString("cursor")
        checkpoint.done = try row.int("done") != 0
        checkpoint.pages = try row.int("pages")
        checkpoint.nodes = try row.int("nodes")
        checkpoint.total = try row.optionalInt("total_count")
        checkpoint.requests = try row.int("requests")
        checkpoint.points = try row.int("points")
        checkpoint.tip = try row.optionalString("tip_oid")
        checkpoint.readStart = try row.optionalString("read_start").flatMap(Timestamp.date)
        checkpoint.headNumber = try row.optionalInt("head_number")
        checkpoint.headStart = try row.optionalString("head_start").flatMap(Timestamp.date)
        checkpoint.stopAt = try row.optionalString("stop_at").flatMap(Timestamp.date)
        checkpoint.moved = try row.int("moved") != 0
        return checkpoint
    }

    func coverage(_ stream: RepositoryStream) throws -> Coverage? {
        guard
            let row = try database.query(
                """
                SELECT covered_from, covered_to, tip_oid FROM ingest_coverage WHERE repository = \(slug) AND stream = \(stream.name)
                """
            ).first, let from = Timestamp.date(try row.string("covered_from")),
            let to = Timestamp.date(try row.string("covered_to"))
        else { return nil }
        return Coverage(from: from, to: to, tip: try row.optionalString("tip_oid"))
    }

    /// Stores a page: its raw nodes, item states and listed keys, the stream's checkpoint, and
    /// — when the stream ended — its coverage. Returns how many raw nodes were new.
    @discardableResult
    func save(_ write: PageWrite) throws -> Int {
        let runID = runID
        let slug = slug
        let windowStart = windowStart
        let fetchedAt = Timestamp.now()
        let checkpoint = write.checkpoint
        let stream = write.stream
        let healing = healing
        return try database.transaction { tx in
            let inserted = try Self.insert(write.rows, slug: slug, runID: runID, fetchedAt: fetchedAt, healing: healing, in: tx)
            // Newest word wins: an older snapshot (or one landing late) never overwrites it. One
            // statement may not touch a row twice, so a page's own repeats are settled first,
            // as one statement each would have (the later of equal times wins).
            var newest: [String: ItemState] = [:]
            var order: [String] = []
            for item in write.items {
                let key = item.kind + "\n" + item.key
                guard let held = newest[key] else {
                    newest[key] = item
                    order.append(key)
                    continue
                }
                if item.updatedAt >= held.updatedAt { newest[key] = item }
            }
            for chunk in SQL.chunks(order.compactMap { newest[$0] }) {
                try tx.execute(
                    SQL.values(
                        "INSERT INTO item_states (repository, kind, item_key, node_id, number, state, updated_at)",
                        chunk.map { item in
                            [
                                .text(slug), .text(item.kind), .text(item.key), .text(item.nodeId), .integer(item.number),
                                .text(item.state), .text(Timestamp.string(item.updatedAt)),
                            ]
                        },
                        """
                        ON CONFLICT (repository, kind, item_key) DO UPDATE SET
                            node_id = excluded.node_id, number = excluded.number, state = excluded.state,
                            updated_at = excluded.updated_at
                        WHERE excluded.updated_at >= item_states.updated_at
                        """))
            }
            for chunk in SQL.chunks(write.seen) {
                try tx.execute(
                    SQL.values(
                        "INSERT INTO ingest_seen (run_id, repository, stream, item_key)",
                        chunk.map { [.integer(runID), .text(slug), .text(stream.name), .text($0)] },
                        "ON CONFLICT (run_id, repository, stream, item_key) DO NOTHING"))
            }
            try Self.write(checkpoint, stream: stream, runID: runID, slug: slug, in: tx)
            if let coverage = write.coverage {
                let existing = try tx.query(
                    """
                    SELECT covered_from, covered_to, tip_oid FROM ingest_coverage
                    WHERE repository = \(slug) AND stream = \(stream.name)
                    """
                ).first
                var from = windowStart
                var to = coverage.to
                if let existing, let oldFrom = Timestamp.date(try existing.string("covered_from")),
                    let oldTo = Timestamp.date(try existing.string("covered_to")),
                    try !stream.readsHistory || existing.optionalString("tip_oid") == coverage.tip
                {
                    // The fetched range joins the old one (it starts at or before its end), so
                    // they merge. A history read from another tip replaces it: commits that
                    // landed since may carry dates anywhere in the old range.
                    from = min(oldFrom, windowStart)
                    to = max(oldTo, coverage.to)
                }
                try tx.execute(
                    """
                    INSERT INTO ingest_coverage (repository, stream, covered_from, covered_to, updated_at, tip_oid)
                    VALUES (\(slug), \(stream.name), \(Timestamp.string(from)), \(Timestamp.string(to)), \(Timestamp.now()),
                            \(coverage.tip))
                    ON CONFLICT (repository, stream) DO UPDATE SET
                        covered_from = excluded.covered_from, covered_to = excluded.covered_to,
                        updated_at = excluded.updated_at, tip_oid = excluded.tip_oid
                    """)
            }
            return inserted
        }
    }

    /// Stores raw nodes that belong to no stream's page (the repository's facts, an item found
    /// gone). Returns how many were new.
    @discardableResult
    func save(rows: [RawRow]) throws -> Int {
        let slug = slug
        let runID = runID
        let fetchedAt = Timestamp.now()
        let healing = healing
        return try database.transaction { tx in
            try Self.insert(rows, slug: slug, runID: runID, fetchedAt: fetchedAt, healing: healing, in: tx)
        }
    }

    /// Inserts raw nodes; each that ingest made itself (not a node of a checked answer) is
    /// checked first as refine will read it back (``RawKind/check(_:)``), so nothing unreadable
    /// is stored. Returns how many were new.
    static func insert(
        _ rows: [RawRow], slug: String, runID: Int64, fetchedAt: String, healing: Bool = false, in tx: borrowing Transaction
    ) throws -> Int {
        var inserted = 0
        for row in rows where !row.checked {
            do {
                try row.kind.check(row.payload)
            } catch {
                throw IngestFailure(
                    code: "internal",
                    message: "ingest made a \(row.kind.rawValue) node refine could not read (\(row.key)): \(error)")
            }
        }
        var hashes: [String] = []
        for chunk in SQL.chunks(rows) {
            let values: [[SQLValue]] = chunk.map { row in
                let payload = row.payload.canonical
                // The repository is part of the hash: a fork and its upstream (or two mirrors)
                // hold byte-identical commits, and each repository must keep its own row.
                let hash = SHA256.hex(slug + "\n" + row.kind.rawValue + "\n" + payload)
                if healing { hashes.append(hash) }
                return [
                    .text(slug), .text(row.kind.rawValue), .text(row.key), .text(hash), .text(payload), .text(fetchedAt),
                    .integer(runID), .text(row.operation), row.cursor.sqlValue,
                ]
            }
            inserted += try tx.query(
                SQL.values(
                    """
                    INSERT INTO raw_nodes (repository, kind, node_key, content_hash, payload, fetched_at, run_id,
                                           operation, page_cursor)
                    """, values, "ON CONFLICT (content_hash) DO NOTHING RETURNING id")
            ).count
        }
        if healing { try RawHealth.accept(hashes, repository: slug, in: tx) }
        return inserted
    }

    /// Trees among `oids` already stored for the repository, by id (git objects never change).
    func storedTrees(_ oids: [String]) throws -> [String: JSONValue] {
        guard !oids.isEmpty else { return [:] }
        let placeholders = oids.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
        let rows = try database.query(
            SQL(
                unsafeSQL: """
                    SELECT node_key, payload FROM raw_nodes WHERE repository = $1 AND kind = 'tree' AND node_key IN (\(placeholders))
                    """, bindings: [.text(slug)] + oids.map(SQLValue.text)))
        var trees: [String: JSONValue] = [:]
        for row in rows {
            let payload = try row.string("payload")
            trees[try row.string("node_key")] = try? JSONValue(parsing: payload)
        }
        return trees
    }

    /// Forgets what this run and earlier ones read of `stream` (and, for pull requests and
    /// issues, the lists nested in them), so that it is read again from the window's start: what
    /// refine asks for when a stored node of it could not be read (``RawHealth``).
    func forget(_ stream: RepositoryStream) throws {
        let runID = runID
        let slug = slug
        let nested = stream.isOrdered ? "nested:%" : "-"
        try database.transaction { tx in
            try tx.execute(
                """
                DELETE FROM ingest_checkpoints WHERE run_id = \(runID) AND repository = \(slug)
                  AND (stream = \(stream.name) OR stream LIKE \(nested))
                """)
            try tx.execute(
                "DELETE FROM ingest_seen WHERE run_id = \(runID) AND repository = \(slug) AND stream = \(stream.name)")
            try tx.execute("DELETE FROM ingest_coverage WHERE repository = \(slug) AND stream = \(stream.name)")
        }
    }

    /// Starts a stream again from nothing: a read that could not be reconciled is not done,
    /// moves no coverage, and forgets what it listed, so the rerun reads it whole.
    func restart(_ stream: RepositoryStream, _ checkpoint: Checkpoint) throws {
        let runID = runID
        let slug = slug
        try database.transaction { tx in
            try tx.execute(
                """
                DELETE FROM ingest_seen WHERE run_id = \(runID) AND repository = \(slug) AND stream = \(stream.name)
                """)
            try Self.write(checkpoint, stream: stream, runID: runID, slug: slug, in: tx)
        }
    }

    static func write(
        _ checkpoint: Checkpoint, stream: RepositoryStream, runID: Int64, slug: String, in tx: borrowing Transaction
    )
        throws
    {
        try tx.execute(
            """
            INSERT INTO ingest_checkpoints (run_id, repository, stream, since, cursor, done, pages, nodes, total_count,
                                            requests, points, updated_at, tip_oid, read_start, head_number, head_start,
                                            stop_at, moved)
            VALUES (\(runID), \(slug), \(stream.name), \(Timestamp.string(checkpoint.since)), \(checkpoint.cursor),
                    \(checkpoint.done), \(checkpoint.pages), \(checkpoint.nodes), \(checkpoint.total),
                    \(checkpoint.requests), \(checkpoint.points), \(Timestamp.now()), \(checkpoint.tip),
                    \(checkpoint.readStart.map(Timestamp.string)), \(checkpoint.headNumber),
                    \(checkpoint.headStart.map(Timestamp.string)), \(checkpoint.stopAt.map(Timestamp.string)),
                    \(checkpoint.moved))
            ON CONFLICT (run_id, repository, stream) DO UPDATE SET
                since = excluded.since, cursor = excluded.cursor, done = excluded.done, pages = excluded.pages,
                nodes = excluded.nodes, total_count = excluded.total_count, requests = excluded.requests,
                points = excluded.points, updated_at = excluded.updated_at, tip_oid = excluded.tip_oid,
                read_start = excluded.read_start, head_number = excluded.head_number, head_start = excluded.head_start,
                stop_at = excluded.stop_at, moved = excluded.moved
            """)
    }

    /// How many distinct items the stream's read in this run has listed.
    func seen(_ stream: RepositoryStream) throws -> Int64 {
        try database.query(
            """
            SELECT COUNT(*) AS n FROM ingest_seen WHERE run_id = \(runID) AND repository = \(slug) AND stream = \(stream.name)
            """
        ).first?.int("n") ?? 0
    }

    /// How many items of `kind` ingest believes open.
    func believedOpen(_ kind: RepositoryStream.Kind) throws -> Int64 {
        try database.query(
            """
            SELECT COUNT(*) AS n FROM item_states WHERE repository = \(slug) AND kind = \(kind.rawValue) AND state = 'OPEN'
            """
        ).first?.int("n") ?? 0
    }

    /// Items believed open that the complete read of `stream` in this run did not list.
    func unlisted(_ stream: RepositoryStream) throws -> [(key: String, nodeId: String, number: Int64)] {
        try database.query(
            """
            SELECT s.item_key, s.node_id, s.number FROM item_states s
            WHERE s.repository = \(slug) AND s.kind = \(stream.kind.rawValue) AND s.state = 'OPEN'
              AND NOT EXISTS (SELECT 1 FROM ingest_seen e WHERE e.run_id = \(runID) AND e.repository = \(slug)
                              AND e.stream = \(stream.name) AND e.item_key = s.item_key)
            ORDER BY s.number
            """
        ).map { (try $0.string("item_key"), try $0.string("node_id"), try $0.int("number")) }
    }

    /// A hash of every raw node stored for the repository: changes exactly when new data lands.
    func outputHash() throws -> String {
        let rows = try database.query(
            """
            SELECT content_hash FROM raw_nodes WHERE repository = \(slug) ORDER BY content_hash
            """)
        var hasher = SHA256()
        hasher.update(slug)
        for row in rows { hasher.update(try row.string("content_hash")) }
        return hasher.hexDigest()
    }
}
