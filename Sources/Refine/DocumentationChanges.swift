public import JSON
import Foundation

/// The files a commit changed under a documentation path, from the raw `doc_commit` node.
///
/// GitHub's GraphQL `Commit` does not list changed files, so ingest stores the path's entry at
/// the commit and at its first parent; comparing them gives the actual files. For a folder,
/// one level is compared: a changed sub-folder is reported as that sub-folder's path.
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

    public static func changes(in node: JSONValue, path: String) -> [Change] {
        let after = node["file"].flatMap { $0.isNull ? nil : $0 }
        let before = node["parents"]?["nodes"]?.array?.first?["file"].flatMap { $0.isNull ? nil : $0 }
        func entries(_ entry: JSONValue?) -> [String: String]? {
            guard let entry, entry["type"]?.string == "tree" else { return nil }
            var result: [String: String] = [:]
            for item in entry["object"]?["entries"]?.array ?? [] {
                if let itemPath = item["path"]?.string, let oid = item["oid"]?.string { result[itemPath] = oid }
            }
            return result
        }
        let treeAfter = entries(after)
        let treeBefore = entries(before)
        guard treeAfter != nil || treeBefore != nil else {
            // A single file.
            switch (before?["oid"]?.string, after?["oid"]?.string) {
            case (nil, .some): return [Change(path: path, kind: .added)]
            case (.some, nil): return [Change(path: path, kind: .removed)]
            case (.some(let old), .some(let new)) where old != new: return [Change(path: path, kind: .modified)]
            default: return []
            }
        }
        let old = treeBefore ?? [:]
        let new = treeAfter ?? [:]
        var changes: [Change] = []
        for (item, oid) in new {
            if let previous = old[item] {
                if previous != oid { changes.append(Change(path: item, kind: .modified)) }
            } else {
                changes.append(Change(path: item, kind: .added))
            }
        }
        for item in old.keys where new[item] == nil { changes.append(Change(path: item, kind: .removed)) }
        return changes.sorted()
    }
}
