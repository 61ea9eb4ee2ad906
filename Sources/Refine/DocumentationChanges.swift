import Foundation
public import GitHubNodes

/// The files a commit changed under a documentation path, from the raw `doc_commit` node and
/// the `tree` nodes ingest stored.
///
/// GitHub's GraphQL `Commit` does not list changed files, so ingest stores the path's entry at
/// the commit and at its first parent, and every sub-folder whose object id differs between
/// the two (a changed folder has a new id; an unchanged one keeps its id and needs no
/// reading). Comparing them level by level gives every file added, changed or removed at any
/// depth, with its real path.
public enum DocumentationChanges {
    public struct Change: Sendable, Hashable, Comparable {
        public enum Kind: String, Sendable { case added, modified, removed }
        public let path: String
        public let kind: Kind

        public init(path: String, kind: Kind) {
            self.path = path
            self.kind = kind
        }

        public static func < (lhs: Change, rhs: Change) -> Bool { lhs.path < rhs.path }
    }

    /// `roadmap` anywhere in the path, case-insensitively.
    public static func isRoadmap(_ path: String) -> Bool {
        path.lowercased().contains("roadmap")
    }

    /// A folder named `adr` (or `adr.*`), or `architecture-decision` in a folder name. Only
    /// folders count: `docs/adr.md` is not a decision record, `docs/adr/0001.md` is.
    public static func isADR(_ path: String) -> Bool {
        let folders = path.lowercased().replacingOccurrences(of: "\\", with: "/").split(separator: "/").dropLast()
        return folders.contains { $0 == "adr" || $0.hasPrefix("adr.") || $0.contains("architecture-decision") }
    }

    /// What `changes(in:path:trees:)` found, and the sub-folders it could not look into (their
    /// trees were not stored: a commit ingested before ingest read sub-folders).
    public struct Result: Sendable {
        public var changes: [Change] = []
        public var unread: [String] = []
    }

    /// The changes of one commit under `path`. `trees`: stored tree nodes by object id.
    public static func changes(in node: DocumentationCommitNode, path: String, trees: [String: TreeNode] = [:]) -> Result {
        let after = node.file
        let before = node.parentFile
        var result = Result()
        if after?.type != "tree" && before?.type != "tree" {
            // A single file.
            switch (before?.oid, after?.oid) {
            case (nil, .some): result.changes = [Change(path: path, kind: .added)]
            case (.some, nil): result.changes = [Change(path: path, kind: .removed)]
            case (.some(let old), .some(let new)) where old != new: result.changes = [Change(path: path, kind: .modified)]
            default: break
            }
            return result
        }
        compare(
            entries(before?.type == "tree" ? before?.object?.entries : nil),
            entries(after?.type == "tree" ? after?.object?.entries : nil),
            at: path, trees: trees, into: &result)
        result.changes.sort()
        return result
    }

    struct Entry {
        let oid: String
        let type: String
    }

    /// A tree's entries by name.
    static func entries(_ list: [TreeEntryNode]?) -> [String: Entry] {
        var entries: [String: Entry] = [:]
        for item in list ?? [] { entries[item.name] = Entry(oid: item.oid, type: item.type) }
        return entries
    }

    static func compare(
        _ old: [String: Entry], _ new: [String: Entry], at folder: String, trees: [String: TreeNode],
        into result: inout Result
    ) {
        for name in Set(old.keys).union(new.keys).sorted() {
            let before = old[name]
            let after = new[name]
            guard before?.oid != after?.oid else { continue }
            let path = folder + "/" + name
            let beforeTree = before?.type == "tree" ? before : nil
            let afterTree = after?.type == "tree" ? after : nil
            if beforeTree != nil || afterTree != nil {
                let lookups = [beforeTree, afterTree].compactMap { $0?.oid }
                if lookups.contains(where: { trees[$0] == nil }) {
                    result.unread.append(path)
                    result.changes.append(Change(path: path, kind: before == nil ? .added : after == nil ? .removed : .modified))
                    continue
                }
                compare(
                    beforeTree.map { entries(trees[$0.oid]?.entries) } ?? [:],
                    afterTree.map { entries(trees[$0.oid]?.entries) } ?? [:],
                    at: path, trees: trees, into: &result)
            }
            // A blob on either side is a file added, changed or removed (a file replaced by a
            // folder of the same name is a removal and the folder's files are additions).
            switch (before?.type == "blob" ? before : nil, after?.type == "blob" ? after : nil) {
            case (nil, .some): result.changes.append(Change(path: path, kind: .added))
            case (.some, nil): result.changes.append(Change(path: path, kind: .removed))
            case (.some, .some): result.changes.append(Change(path: path, kind: .modified))
            case (nil, nil): break
            }
        }
    }
}
