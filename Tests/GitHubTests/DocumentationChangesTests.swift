import Refine
import JSON
import Testing

/// Deriving changed files from a documentation node: the path's entry after and before.
struct DocumentationChangesTests {
    static func blob(_ oid: String) -> JSONValue { ["oid": .string(oid), "type": "blob", "object": [:]] }

    static func tree(_ entries: [(String, String)]) -> JSONValue {
        ["oid": "t", "type": "tree", "object": ["entries": .array(entries.map { path, oid in
            ["path": .string(path), "oid": .string(oid), "type": "blob"]
        })]]
    }

    static func node(after: JSONValue, before: JSONValue) -> JSONValue {
        ["oid": "abc", "file": after, "parents": ["nodes": [["file": before]]]]
    }

    @Test(arguments: [
        ("file modified", node(after: blob("2"), before: blob("1")), "docs/roadmap.md", ["docs/roadmap.md modified"]),
        ("file added", node(after: blob("2"), before: nil), "docs/roadmap.md", ["docs/roadmap.md added"]),
        ("file removed", node(after: nil, before: blob("1")), "docs/roadmap.md", ["docs/roadmap.md removed"]),
        ("file unchanged", node(after: blob("1"), before: blob("1")), "docs/roadmap.md", []),
        ("folder", node(after: tree([("d/a.md", "1"), ("d/b.md", "3"), ("d/new.md", "9")]),
                        before: tree([("d/a.md", "1"), ("d/b.md", "2"), ("d/old.md", "7")])), "d",
         ["d/b.md modified", "d/new.md added", "d/old.md removed"]),
        ("folder created", node(after: tree([("d/a.md", "1")]), before: nil), "d", ["d/a.md added"]),
        ("no parent (root commit)", ["oid": "abc", "file": blob("1"), "parents": ["nodes": []]], "f.md", ["f.md added"]),
    ] as [(String, JSONValue, String, [String])])
    func changes(_ label: String, _ node: JSONValue, _ path: String, _ expected: [String]) {
        let changes = DocumentationChanges.changes(in: node, path: path).map { "\($0.path) \($0.kind.rawValue)" }
        #expect(changes == expected, "\(label)")
    }
}
