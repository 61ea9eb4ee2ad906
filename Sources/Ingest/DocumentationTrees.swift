import Foundation
import GitHub
import GitHubNodes
import JSON
import Manifest

extension IngestSession {
    /// Trees fetched by object id per request, at most (a timeout halves it).
    static let treesPerRequest = 50

    /// The sub-trees below a documentation folder that a page of its commits changed, read by
    /// object id down to the files, so that refine can name every file a commit added, changed
    /// or removed at any depth.
    ///
    /// A commit node holds the folder's entries at the commit and at its parent; an entry that is
    /// a tree whose id differs between the two is a sub-folder the commit changed. Both sides of
    /// every such sub-folder are read — one request per level for the whole page, only into
    /// changed sub-trees (unchanged ones keep their id and are never read) — and stored as raw
    /// `tree` nodes keyed by object id (git objects never change, so each is stored once).
    ///
    /// Each request's trees are stored as soon as they are read, before the page: a walk that
    /// outlasts the rate-limit window (a deep folder, a small budget, a floor) is continued by
    /// the rerun from the trees it already has, instead of starting over and never finishing.
    mutating func subtrees(of nodes: [JSONValue], path: String) async throws {
        var pairs: [(before: String?, after: String?)] = []
        for node in nodes {
            let after = node["file"]
            let before = node["parents"]?["nodes"]?.array?.first?["file"]
            pairs += Self.changedSubtrees(before: Self.entries(before?["object"]), after: Self.entries(after?["object"]))
        }
        var known: [String: JSONValue] = [:]
        while !pairs.isEmpty {
            let wanted = Array(Set(pairs.flatMap { [$0.before, $0.after].compactMap { $0 } }).subtracting(known.keys)).sorted()
            for (oid, tree) in try store.storedTrees(wanted) { known[oid] = tree }
            var missing = wanted.filter { known[$0] == nil }
            while !missing.isEmpty {
                let size = sizes.cap("trees", default: Self.treesPerRequest)
                let batch = Array(missing.prefix(size))
                let data: JSONValue
                do {
                    data = try await call(
                        TreeLookup(owner: repository.owner, name: repository.name, oids: batch), label: "documentation trees",
                        shrinkable: size > 1, alsoAs: ["tree_requests"])
                } catch let error as GitHubError where error.code == .timeout {
                    guard sizes.shrink(key: "trees", from: size) != nil else { throw error }
                    add("page_size_reductions", 1)
                    continue
                }
                var rows: [RawRow] = []
                for (index, oid) in batch.enumerated() {
                    guard let tree = data["repository"]?["t\(index)"], !tree.isNull, tree["entries"]?.array != nil else {
                        throw IngestFailure(
                            code: "incomplete",
                            message: """
                                documentation under `\(path)`: GitHub did not return tree \(oid); the unit fails rather than \
                                leave out the files below it
                                """)
                    }
                    known[oid] = tree
                    rows.append(
                        RawRow(kind: .tree, key: oid, payload: tree, operation: "DocumentationTrees", cursor: nil, checked: true))
                }
                add("new_nodes", Int64(try store.save(rows: rows)))
                missing.removeFirst(batch.count)
            }
            pairs = pairs.flatMap { pair in
                Self.changedSubtrees(
                    before: pair.before.flatMap { Self.entries(known[$0]) },
                    after: pair.after.flatMap { Self.entries(known[$0]) })
            }
        }
    }

    /// A tree object's entries by name: (object id, type).
    static func entries(_ tree: JSONValue?) -> [String: (oid: String, type: String)]? {
        guard let list = tree?["entries"]?.array else { return nil }
        var entries: [String: (oid: String, type: String)] = [:]
        for entry in list {
            if let name = entry["name"]?.string, let oid = entry["oid"]?.string, let type = entry["type"]?.string {
                entries[name] = (oid, type)
            }
        }
        return entries
    }

    /// Sub-folders whose id differs between two listings of a folder (one side may be missing).
    static func changedSubtrees(before: [String: (oid: String, type: String)]?, after: [String: (oid: String, type: String)]?)
        -> [(before: String?, after: String?)]
    {
        var pairs: [(before: String?, after: String?)] = []
        for name in Set((before ?? [:]).keys).union((after ?? [:]).keys).sorted() {
            let old = before?[name]
            let new = after?[name]
            guard old?.oid != new?.oid else { continue }
            let oldTree = old?.type == "tree" ? old?.oid : nil
            let newTree = new?.type == "tree" ? new?.oid : nil
            if oldTree != nil || newTree != nil { pairs.append((oldTree, newTree)) }
        }
        return pairs
    }
}
