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
/// succeeded. A raw node that does not decode fails the unit, naming the node.
public struct RefineStage: StageRunner {
    public let stage = Stage.refine
    /// Bump when the entities refine derives from the same raw data change.
    public let version = "refine-3"

    public init() {}

    public func run(_ context: UnitContext) async throws -> UnitResult {
        guard case .repository(let repository) = context.unit.subject else {
            throw UnitError(code: "internal", message: "refine unit \(context.unit.id) is not a repository")
        }
        let rows = try context.database.query(
            """
            SELECT kind, node_key, content_hash, payload FROM raw_nodes WHERE repository = \(repository.slug)
            """)
        var nodes: [RawNode] = []
        nodes.reserveCapacity(rows.count)
        for row in rows {
            let name = try row.string("kind")
            let key = try row.string("node_key")
            let text = try row.string("payload")
            guard let kind = RawKind(rawValue: name) else {
                throw UnitError(code: "undecodable", message: "raw node \(key) is of a kind this version does not know: \(name)")
            }
            guard let payload = try? JSONValue(parsing: text) else {
                throw UnitError(code: "undecodable", message: "raw \(name) \(key) is not valid JSON")
            }
            nodes.append(RawNode(kind: kind, key: key, contentHash: try row.string("content_hash"), payload: payload))
        }
        let refinery = Refinery(
            repository: repository.slug, noise: NoiseRules(manifest: context.manifest, repository: repository),
            branch: repository.defaultBranch)
        let entities: EntitySet
        var notes = Refinery.Notes()
        do {
            entities = try refinery.refine(nodes, notes: &notes)
        } catch {
            throw UnitError(code: "undecodable", message: error.description)
        }
        var counters: [String: Int64] = ["raw_nodes": Int64(nodes.count)]
        if notes.unreadDocumentationFolders > 0 {
            counters["documentation_folders_unread"] = Int64(notes.unreadDocumentationFolders)
        }
        var noise: Int64 = 0
        for table in entities.tables {
            counters[table.name] = Int64(table.rows.count)
            if let column = table.columns.firstIndex(of: "noise") {
                noise += Int64(table.rows.filter { $0[column] != .null }.count)
            }
        }
        counters["noise"] = noise
        let slug = repository.slug
        return UnitResult(outputHash: entities.digest, counters: counters) { tx in
            for table in entities.tables {
                try tx.execute("DELETE FROM \(try SQL.Identifier(table.name)) WHERE repository = \(slug)")
                try tx.insertMany(table: table.name, columns: table.columns, rows: table.rows)
            }
        }
    }
}
