import Entities
import Foundation
import GitHubNodes
import JSON
import Manifest
public import Pipeline
import Store

/// The refine stage: one unit per repository, raw nodes → entities.
///
/// It rebuilds the repository's entities from all of its raw nodes (so a filter change needs
/// no API call), and replaces the stored ones in the same transaction that marks the unit
/// succeeded. A raw node that does not decode fails the unit, naming the node — and heals: the
/// node is set aside and its kind of node read again by the next run's ingest (``RawHealth``).
public struct RefineStage: StageRunner {
    public let stage = Stage.refine
    /// Bump when the entities refine derives from the same raw data change.
    public let version = "refine-4"

    public init() {}

    public func run(_ context: UnitContext) async throws -> UnitResult {
        guard case .repository(let repository) = context.unit.subject else {
            throw UnitError(code: "internal", message: "refine unit \(context.unit.id) is not a repository")
        }
        let health = RawHealth(database: context.database)
        let rows = try context.database.query(
            """
            SELECT kind, node_key, content_hash, payload FROM raw_nodes n WHERE repository = \(repository.slug)
              AND NOT EXISTS (SELECT 1 FROM raw_refused r WHERE r.content_hash = n.content_hash)
            """)
        var nodes: [RawNode] = []
        nodes.reserveCapacity(rows.count)
        for row in rows {
            let name = try row.string("kind")
            let key = try row.string("node_key")
            let text = try row.string("payload")
            let hash = try row.string("content_hash")
            guard let kind = RawKind(rawValue: name) else {
                throw UnitError(code: "undecodable", message: "raw node \(key) is of a kind this version does not know: \(name)")
            }
            guard let payload = try? JSONValue(parsing: text) else {
                throw try Self.refuse(
                    RefineError(kind: name, key: key, reason: "not valid JSON", contentHash: hash), repository: repository.slug,
                    health: health)
            }
            nodes.append(RawNode(kind: kind, key: key, contentHash: hash, payload: payload))
        }
        let refinery = Refinery(
            repository: repository.slug, noise: NoiseRules(manifest: context.manifest, repository: repository),
            branch: repository.defaultBranch, responders: Responders(ignoring: context.manifest.estate.noise.ignoreResponders))
        let entities: EntitySet
        var notes = Refinery.Notes()
        do {
            entities = try refinery.refine(nodes, notes: &notes)
        } catch {
            throw try Self.refuse(error, repository: repository.slug, health: health)
        }
        var counters: [String: Int64] = ["raw_nodes": Int64(nodes.count)]
        if notes.unreadDocumentationFolders > 0 {
            counters["documentation_folders_unread"] = Int64(notes.unreadDocumentationFolders)
        }
        let tables = entities.tables
        var noise: Int64 = 0
        for table in tables {
            counters[table.name] = Int64(table.rows.count)
            noise += Int64(table.noise)
        }
        counters["noise"] = noise
        let slug = repository.slug
        return UnitResult(outputHash: EntitySet.digest(tables), counters: counters) { tx in
            for table in tables {
                try tx.execute("DELETE FROM \(try SQL.Identifier(table.name)) WHERE repository = \(slug)")
                try tx.insertMany(table: table.name, columns: table.columns, rows: table.rows)
            }
        }
    }

    /// Sets an unreadable node aside and asks for its kind of node to be read again: the unit's
    /// failure, which says so.
    static func refuse(_ error: RefineError, repository: String, health: RawHealth) throws -> UnitError {
        guard let hash = error.contentHash else { return UnitError(code: "undecodable", message: error.description) }
        let kinds = rereads(for: error)
        try health.refuse(
            contentHash: hash, repository: repository, kind: error.kind, key: error.key, reason: error.reason, rereads: kinds)
        return UnitError(
            code: "undecodable",
            message: "\(error.description); the node is set aside and the next run reads its \(kinds.joined(separator: ", ")) "
                + "nodes again")
    }

    /// The kinds of node whose streams hold a node of `error`'s kind: what is read again for it.
    static func rereads(for error: RefineError) -> [String] {
        switch RawKind(rawValue: error.kind) {
        case .pullRequest, .pullRequestReview, .pullRequestComment, .pullRequestFile, .pullRequestDraftEvent:
            return [RawKind.pullRequest.rawValue]
        case .issue, .issueComment: return [RawKind.issue.rawValue]
        case .documentationCommit, .tree: return [RawKind.documentationCommit.rawValue]
        case .reviewComment: return [RawKind.reviewComment.rawValue]
        case .gone: return [error.key.split(separator: ":").first.map(String.init) ?? RawKind.pullRequest.rawValue]
        case .commit, .repository, nil: return [RawKind.commit.rawValue]
        }
    }
}
