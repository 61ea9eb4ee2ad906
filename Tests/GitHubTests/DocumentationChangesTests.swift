import GitHubNodes
import JSON
import Refine
import Testing

/// Deriving changed files from a documentation node: the path's entry after and before, and
/// the stored trees of sub-folders whose object id changed — at any depth.
struct DocumentationChangesTests {
    static func blob(_ oid: String) -> JSONValue { ["oid": .string(oid), "type": "blob", "object": [:]] }

    static func entries(_ entries: [(String, String, String)]) -> JSONValue {
        .array(entries.map { name, oid, type in ["name": .string(name), "oid": .string(oid), "type": .string(type)] })
    }

    static func tree(_ oid: String, _ items: [(String, String, String)]) -> JSONValue {
        ["oid": .string(oid), "type": "tree", "object": ["entries": entries(items)]]
    }

    static let commit: [String: JSONValue] = [
        "oid": "abc", "messageHeadline": "docs: change", "committedDate": "2026-11-20T00:00:00Z",
    ]

    static func node(after: JSONValue, before: JSONValue) -> JSONValue {
        .object(commit.merging(["file": after, "parents": ["nodes": [["file": before]]]]) { $1 })
    }

    /// The changes of `node` (a stored `doc_commit`) with the stored trees.
    static func changes(_ node: JSONValue, path: String) throws -> DocumentationChanges.Result {
        let trees = try Self.trees.mapValues { try TreeNode(json: $0, stored: true) }
        return DocumentationChanges.changes(in: try DocumentationCommitNode(json: node, stored: true), path: path, trees: trees)
    }

    /// Sub-folder trees by object id, as ingest stores them (`tree` nodes).
    static let trees: [String: JSONValue] = [
        "adr1": ["oid": "adr1", "entries": entries([("0001-a.md", "1", "blob")])],
        "adr2": ["oid": "adr2", "entries": entries([("0001-a.md", "1", "blob"), ("0012-x.md", "5", "blob")])],
        "ops1": ["oid": "ops1", "entries": entries([("runbook.md", "r1", "blob")])],
        "ops2": ["oid": "ops2", "entries": entries([("runbook.md", "r2", "blob")])],
        "guides1": ["oid": "guides1", "entries": entries([("ops", "ops1", "tree"), ("old", "old1", "tree")])],
        "guides2": ["oid": "guides2", "entries": entries([("ops", "ops2", "tree")])],
        "old1": ["oid": "old1", "entries": entries([("legacy.md", "l1", "blob")])],
    ]

    @Test(
        arguments: [
            ("file modified", node(after: blob("2"), before: blob("1")), "docs/roadmap.md", ["docs/roadmap.md modified"]),
            ("file added", node(after: blob("2"), before: nil), "docs/roadmap.md", ["docs/roadmap.md added"]),
            ("file removed", node(after: nil, before: blob("1")), "docs/roadmap.md", ["docs/roadmap.md removed"]),
            ("file unchanged", node(after: blob("1"), before: blob("1")), "docs/roadmap.md", []),
            (
                "folder",
                node(
                    after: tree("t2", [("a.md", "1", "blob"), ("b.md", "3", "blob"), ("new.md", "9", "blob")]),
                    before: tree("t1", [("a.md", "1", "blob"), ("b.md", "2", "blob"), ("old.md", "7", "blob")])), "d",
                ["d/b.md modified", "d/new.md added", "d/old.md removed"]
            ),
            ("folder created", node(after: tree("t", [("a.md", "1", "blob")]), before: nil), "d", ["d/a.md added"]),
            (
                "no parent (root commit)", .object(commit.merging(["file": blob("1"), "parents": ["nodes": []]]) { $1 }),
                "f.md", ["f.md added"]
            ),
            (
                "a decision record one folder down",
                node(
                    after: tree("d2", [("adr", "adr2", "tree"), ("README.md", "0", "blob")]),
                    before: tree("d1", [("adr", "adr1", "tree"), ("README.md", "0", "blob")])),
                "docs", ["docs/adr/0012-x.md added"]
            ),
            (
                "a file three folders down changed, a folder removed",
                node(
                    after: tree("d2", [("guides", "guides2", "tree")]), before: tree("d1", [("guides", "guides1", "tree")])),
                "docs", ["docs/guides/old/legacy.md removed", "docs/guides/ops/runbook.md modified"]
            ),
            (
                "entries of older versions, named by path",
                node(
                    after: [
                        "oid": "t2", "type": "tree", "object": ["entries": [["path": "d/a.md", "oid": "2", "type": "blob"]]],
                    ],
                    before: [
                        "oid": "t1", "type": "tree", "object": ["entries": [["path": "d/a.md", "oid": "1", "type": "blob"]]],
                    ]),
                "d", ["d/a.md modified"]
            ),
        ] as [(String, JSONValue, String, [String])])
    func changes(_ label: String, _ node: JSONValue, _ path: String, _ expected: [String]) throws {
        let result = try Self.changes(node, path: path)
        #expect(result.changes.map { "\($0.path) \($0.kind.rawValue)" } == expected, "\(label)")
        #expect(result.unread.isEmpty, "\(label)")
    }

    /// A changed sub-folder whose trees were never stored is reported as the folder (and counted),
    /// never silently dropped.
    @Test func aSubFolderWithoutItsTreesIsReportedAsTheFolder() throws {
        let result = try Self.changes(
            Self.node(
                after: Self.tree("d2", [("adr", "missing2", "tree")]), before: Self.tree("d1", [("adr", "missing1", "tree")])),
            path: "docs")
        #expect(result.changes.map { "\($0.path) \($0.kind.rawValue)" } == ["docs/adr modified"])
        #expect(result.unread == ["docs/adr"])
    }
}
