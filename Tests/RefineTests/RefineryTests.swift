import Entities
import Foundation
import GitHubNodes
import JSON
import Refine
import Store
import Testing

func pull(
    _ id: Int64, updated: String, title: String = "Add a thing", state: String = "OPEN", author: String? = "ada",
    labels: [String] = [], comments: [JSONValue] = [], commentTotal: Int64? = nil
) -> JSONValue {
    [
        "id": .string("PR_\(id)"), "databaseId": .int(id), "number": .int(id - 1000), "title": .string(title),
        "state": .string(state),
        "isDraft": false, "createdAt": "2026-11-01T00:00:00Z", "updatedAt": .string(updated), "mergedAt": nil,
        "closedAt": nil, "baseRefName": "main", "headRefName": "x", "additions": 1, "deletions": 2, "changedFiles": 1,
        "author": author.map { ["login": .string($0)] } ?? nil,
        "labels": ["totalCount": .int(Int64(labels.count)), "nodes": .array(labels.map { ["name": .string($0)] })],
        "commits": ["totalCount": 1], "reviews": ["totalCount": 0, "nodes": []],
        "comments": ["totalCount": .int(commentTotal ?? Int64(comments.count)), "nodes": .array(comments)],
        "files": [
            "totalCount": 1, "nodes": [["path": "vendor/lib.c", "additions": 1, "deletions": 0, "changeType": "MODIFIED"]],
        ],
    ]
}

func comment(_ id: Int64, _ login: String) -> JSONValue {
    ["databaseId": .int(id), "author": ["login": .string(login)], "createdAt": "2026-11-02T00:00:00Z"]
}

func stableRaw(_ kind: RawKind, _ key: String, _ payload: JSONValue) -> RawNode {
    // Content hashes must not depend on the process (hashValue is seeded): use the canonical text.
    RawNode(kind: kind, key: key, contentHash: payload.canonical, payload: payload)
}

let commitNode: JSONValue = [
    "oid": "abc", "messageHeadline": "chore: bump", "message": "chore: bump\n\nbody", "authoredDate": "2026-11-03T00:00:00Z",
    "committedDate": "2026-11-03T01:00:00Z", "additions": 1, "deletions": 1, "changedFilesIfAvailable": 1,
    "author": ["name": "dependabot[bot]", "email": "support@github.com", "user": ["login": "dependabot[bot]"]],
]

struct RefineryTests {
    static let nodes: [RawNode] = [
        stableRaw(.pullRequest, "1001", pull(1001, updated: "2026-11-05T00:00:00Z", title: "old title")),
        stableRaw(.pullRequest, "1001", pull(1001, updated: "2026-11-09T00:00:00Z", title: "new title", state: "MERGED")),
        stableRaw(.pullRequest, "1001", pull(1001, updated: "2026-11-07T00:00:00Z", title: "middle title")),
        stableRaw(
            .pullRequest, "1002",
            pull(
                1002, updated: "2026-11-06T00:00:00Z", title: "chore: deps", labels: ["chore/deps"],
                comments: [comment(1, "grace")], commentTotal: 3)),
        stableRaw(.pullRequestComment, "1002:1", comment(1, "grace")),
        stableRaw(.pullRequestComment, "1002:2", comment(2, "renovate[bot]")),
        stableRaw(.pullRequestComment, "1002:3", comment(3, "ada")),
        stableRaw(.commit, "abc", commitNode),
    ]

    func refine(_ nodes: [RawNode], noise: NoiseRules = NoiseRules()) throws -> EntitySet {
        try Refinery(repository: "acme/a", noise: noise).refine(nodes)
    }

    @Test func theNewestSnapshotWinsWhateverTheOrder() throws {
        let reference = try refine(Self.nodes)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<25 {
            #expect(try refine(Self.nodes.shuffled(using: &generator)) == reference)
        }
        #expect(reference.pullRequests.count == 2)
        #expect(reference.pullRequests.first?.title == "new title")
        #expect(reference.pullRequests.first?.state == "merged")
        #expect(reference.digest == (try refine(Self.nodes.reversed())).digest)
    }

    @Test func overflowedNestedListsComeFromTheirOwnRows() throws {
        let set = try refine(Self.nodes)
        #expect(set.comments.map(\.authorLogin) == ["grace", "renovate[bot]", "ada"])
        #expect(set.comments.map(\.isBot) == [false, true, false])
    }

    /// An open-item summary (no nested lists) as new as, or newer than, the full snapshot
    /// takes the pull request's fields but keeps the full snapshot's comments, reviews and files.
    @Test(arguments: ["2026-11-06T00:00:00Z", "2026-11-08T00:00:00Z"])
    func summariesKeepTheNestedListsOfTheNewestFullSnapshot(summaryUpdated: String) throws {
        guard case .object(var summary) = pull(1002, updated: summaryUpdated, title: "renamed") else {
            Testing.Issue.record("the fixture pull request is not a JSON object")
            return
        }
        for field in ["reviews", "comments", "files"] { summary[field] = nil }
        let full = try refine(Self.nodes)
        for order in [
            Self.nodes + [stableRaw(.pullRequest, "1002", .object(summary))],
            [stableRaw(.pullRequest, "1002", .object(summary))] + Self.nodes.reversed(),
        ] {
            let set = try refine(order)
            #expect(set.comments == full.comments)
            #expect(set.prFiles == full.prFiles)
            if summaryUpdated > "2026-11-06T00:00:00Z" {
                #expect(set.pullRequests.first { $0.databaseID == 1002 }?.title == "renamed")
            }
        }
        // With no full snapshot at all, a summary refines to the item without nested rows.
        let alone = try refine([stableRaw(.pullRequest, "1002", .object(summary))])
        #expect(alone.pullRequests.count == 1 && alone.comments.isEmpty && alone.prFiles.isEmpty)
    }

    @Test func noiseIsMarkedWithItsReasonNeverDropped() throws {
        var noise = NoiseRules()
        noise.authors = ["dependabot[bot]"]
        noise.labels = ["chore/deps"]
        noise.titlePrefixes = ["chore:"]
        noise.paths = ["vendor/*"]
        let set = try refine(Self.nodes, noise: noise)
        #expect(set.commits.first?.noise == "author dependabot[bot]")
        #expect(set.commits.first?.isBot == true)
        #expect(set.pullRequests.map(\.noise) == [nil, "label chore/deps"])
        #expect(set.tables.first { $0.name == "pull_requests" }?.noise == 1)
        #expect(set.prFiles.allSatisfy { $0.noise == "path vendor/*" })
        #expect(set.pullRequests.count == 2 && set.commits.count == 1)
    }

    /// Issue #25: a raw node is read as its typed node, so a field missing, null or of another
    /// type fails the unit naming the node (and the stored node's hash, to set it aside).
    @Test(arguments: [
        ("title", JSONValue?.none, "raw pull_request 1001: `title` is missing"),
        ("title", JSONValue.null, "raw pull_request 1001: `title` is null where GitHub's schema says it never is"),
        ("additions", JSONValue.string("12"), "raw pull_request 1001: `additions` is not an integer"),
        ("updatedAt", JSONValue.string("yesterday"), "raw pull_request 1001: `updatedAt` is not a timestamp"),
        ("mergedAt", JSONValue?.none, "raw pull_request 1001: `mergedAt` is missing"),
    ])
    func anUndecodableNodeNamesItself(field: String, value: JSONValue?, message: String) throws {
        guard case .object(var fields) = pull(1001, updated: "2026-11-05T00:00:00Z") else {
            Testing.Issue.record("the fixture pull request is not a JSON object")
            return
        }
        fields[field] = value
        let broken = stableRaw(.pullRequest, "1001", .object(fields))
        let error = #expect(throws: RefineError.self) { try refine([broken]) }
        #expect(error?.description == message)
        #expect(error?.contentHash == broken.contentHash)
    }

    @Test func aLabelWithoutItsNameIsRefusedNotDropped() {
        guard case .object(var fields) = pull(1001, updated: "2026-11-05T00:00:00Z", labels: ["bug", "ui"]) else {
            Testing.Issue.record("the fixture pull request is not a JSON object")
            return
        }
        fields["labels"] = ["totalCount": 2, "nodes": [["name": "bug"], [:]]]
        let error = #expect(throws: RefineError.self) { try refine([stableRaw(.pullRequest, "1001", .object(fields))]) }
        #expect(error?.description == "raw pull_request 1001: `labels.nodes[1].name` is missing")
    }

    @Test(arguments: [
        ("docs/adr/0001-use-sqlite.md", false, true),
        ("docs/adr.md", false, false),
        ("docs/ADR/roadmap.md", true, true),
        ("docs/architecture-decisions/0002.md", false, true),
        ("ROADMAP.md", true, false),
        ("docs/adr.v2/0003.md", false, true),
    ])
    func documentationClassification(_ path: String, _ roadmap: Bool, _ adr: Bool) {
        #expect(DocumentationChanges.isRoadmap(path) == roadmap)
        #expect(DocumentationChanges.isADR(path) == adr)
    }
}
