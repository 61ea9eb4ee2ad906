import Digest
import Foundation

/// The git objects of one branch, as GitHub serves them: every commit's root tree, and every
/// tree by object id, content-addressed (a folder whose files did not change keeps its id).
///
/// Built by replaying the branch's commits in the order they landed: each commit adds,
/// changes (a new blob id) or removes its files, and every folder above a touched file gets a
/// new tree id. `Commit.file(path:)` and `Repository.object(oid:)` are answered from here.
struct FakeGit {
    struct Entry: Sendable, Hashable {
        let name: String
        let oid: String
        /// `blob` or `tree`.
        let type: String
    }

    /// Tree id → its entries, sorted by name.
    private(set) var trees: [String: [Entry]] = [:]
    /// Commit id → root tree id.
    private(set) var roots: [String: String] = [:]
    /// Commit id → the commit before it on the branch (its first parent).
    private(set) var parents: [String: String] = [:]

    init(landed commits: [FakeCommit]) {
        // Folder path ("" is the root) → name → (oid, type), the working state.
        var folders: [String: [String: Entry]] = ["": [:]]
        var previous: String?
        for commit in commits {
            var touchedFolders: Set<String> = [""]
            func ancestors(_ path: String) -> [String] {
                var result: [String] = []
                var parts = path.split(separator: "/").map(String.init)
                parts.removeLast()
                while !parts.isEmpty {
                    result.append(parts.joined(separator: "/"))
                    parts.removeLast()
                }
                return result
            }
            for path in commit.paths {
                let (folder, name) = Self.split(path)
                folders[folder, default: [:]][name] = Entry(name: name, oid: Self.oid("blob", commit.oid, path), type: "blob")
                touchedFolders.formUnion(ancestors(path))
            }
            for path in commit.removed {
                let (folder, name) = Self.split(path)
                folders[folder]?[name] = nil
                touchedFolders.formUnion(ancestors(path))
            }
            // Deepest folders first, so each parent sees its children's new ids.
            for folder in touchedFolders.sorted(by: { $0.split(separator: "/").count > $1.split(separator: "/").count }) {
                let entries = (folders[folder] ?? [:]).values.sorted { $0.name < $1.name }
                guard folder.isEmpty || !entries.isEmpty else {
                    folders[folder] = nil
                    let (parent, name) = Self.split(folder)
                    folders[parent]?[name] = nil
                    continue
                }
                let id = Self.oid("tree", entries.map { "\($0.type) \($0.oid) \($0.name)" }.joined(separator: "\n"))
                trees[id] = entries
                if !folder.isEmpty {
                    let (parent, name) = Self.split(folder)
                    folders[parent, default: [:]][name] = Entry(name: name, oid: id, type: "tree")
                } else {
                    roots[commit.oid] = id
                }
            }
            if let previous { parents[commit.oid] = previous }
            previous = commit.oid
        }
    }

    /// The entry at `path` in `commit`'s tree (a blob or a tree), if there is one.
    func entry(_ path: String, at commit: String) -> Entry? {
        guard let root = roots[commit] else { return nil }
        var current = Entry(name: "", oid: root, type: "tree")
        for part in path.split(separator: "/") {
            guard current.type == "tree", let next = trees[current.oid]?.first(where: { $0.name == part }) else { return nil }
            current = next
        }
        return current
    }

    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    static func oid(_ parts: String...) -> String {
        String(SHA256.hex(parts.joined(separator: "\u{0}")).prefix(40))
    }
}
