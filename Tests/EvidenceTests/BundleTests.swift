import Foundation
import Pipeline
import Testing

@testable import Evidence

/// The evidence contract: what the evidence stage writes is what export and report decode.
struct BundleTests {
    static let window = RepositoryBundle.Window(start: "2026-11-13T00:00:00.000Z", end: "2026-11-27T00:00:00.000Z")
    static let metrics = RepositoryMetrics(
        humans: PopulationMetrics(), bots: PopulationMetrics(), noisePullRequests: 0, noiseIssues: 0, goneIssues: 0,
        commenters: [])

    static let bundle = RepositoryBundle(
        repository: RepositoryBundle.Subject(slug: "acme/api", defaultBranch: nil, documentationPaths: ["docs/"], project: nil),
        window: window, metrics: metrics,
        commits: [
            RepositoryBundle.Commit(
                oid: "a1", headline: "Fix it", committedAt: "2026-11-14T00:00:00.000Z", author: nil, isBot: false,
                noise: nil, workType: .bug)
        ],
        pullRequests: [
            RepositoryBundle.PullRequest(
                number: 7, title: "Add it", state: "open", author: nil, isBot: false, isDraft: true, labels: [],
                createdAt: "2026-11-14T00:00:00.000Z", mergedAt: nil, closedAt: nil, noise: nil, workType: .feature)
        ],
        issues: [
            RepositoryBundle.Issue(
                number: 8, title: "It broke", state: "open", stateReason: nil, author: nil, isBot: false, labels: ["bug"],
                createdAt: "2026-11-14T00:00:00.000Z", closedAt: nil, noise: nil, workType: .bug)
        ],
        documentationChanges: [
            RepositoryBundle.DocumentationChange(
                path: "docs/adr/0001-x.md", change: "added", commit: "a1", committedAt: "2026-11-14T00:00:00.000Z",
                isRoadmap: false, isADR: true)
        ],
        workTypes: [
            RepositoryBundle.WorkTypeGroup(workType: .bug, commits: 1, pullRequests: 0, issues: 1, sampleTitles: ["Fix it"])
        ],
        cut: RepositoryBundle.Cut())

    static func object(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The keys docs/evidence.md lists for each item; a value GitHub did not give is `null`,
    /// not a missing key.
    @Test(arguments: [
        ("repository", ["slug", "default_branch", "documentation_paths", "project"]),
        ("commits", ["oid", "headline", "committed_at", "author", "is_bot", "noise", "work_type"]),
        (
            "pull_requests",
            [
                "number", "title", "state", "author", "is_bot", "is_draft", "labels", "created_at", "merged_at", "closed_at",
                "noise", "work_type",
            ]
        ),
        (
            "issues",
            [
                "number", "title", "state", "state_reason", "author", "is_bot", "labels", "created_at", "closed_at", "noise",
                "work_type",
            ]
        ),
        ("documentation_changes", ["path", "change", "commit", "committed_at", "is_roadmap", "is_adr"]),
        ("work_types", ["work_type", "commits", "pull_requests", "issues", "sample_titles"]),
        ("cut", ["commits", "pull_requests", "issues", "documentation_changes"]),
    ])
    func everyItemCarriesEveryDocumentedKeyNullsIncluded(list: String, keys: [String]) throws {
        let bundle = try Self.object(Self.bundle)
        let value = try #require(bundle[list])
        let item = try #require((value as? [[String: Any]])?.first ?? (value as? [String: Any]))
        #expect(Set(item.keys) == Set(keys))
    }

    @Test func theTopLevelKeysAreTheDocumentedOnes() throws {
        let keys = Set(try Self.object(Self.bundle).keys)
        #expect(
            keys == [
                "schema_version", "repository", "window", "metrics", "commits", "pull_requests", "issues",
                "documentation_changes", "work_types", "cut", "oldest_outstanding_issues", "longest_open_pull_requests",
                "longest_awaiting_review", "longest_awaiting_response",
            ])
    }

    @Test func whatIsWrittenDecodesToTheSameBundle() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(Self.bundle), as: UTF8.self)
        #expect(try EvidenceRecords.decode(RepositoryBundle.self, text, key: "acme/api") == Self.bundle)
        let estate = EstateBundle(
            estate: "df12", window: Self.window, metrics: Self.metrics,
            repositories: [
                EstateBundle.Row(
                    repository: "acme/api", pullRequestsMerged: 1, botPullRequestsMerged: 0, pullRequestsClosedUnmerged: 0,
                    medianOpenToMergeSeconds: nil, issuesResolved: 0, issuesOutstanding: 1)
            ])
        let estateText = String(decoding: try encoder.encode(estate), as: UTF8.self)
        #expect(estateText.contains("\"median_open_to_merge_seconds\":null"))
        #expect(try EvidenceRecords.decode(EstateBundle.self, estateText, key: "estate:df12") == estate)
    }

    @Test func aStoredBundleThatDoesNotMatchTheContractNamesTheRerun() throws {
        let error = try #require(
            throws: UnitError.self,
            performing: { try EvidenceRecords.decode(RepositoryBundle.self, #"{"schema_version":1}"#, key: "acme/api") })
        #expect(error.code == "evidence_contract")
        #expect(error.message.hasPrefix("the stored evidence of acme/api does not match this version's contract"))
        #expect(error.message.hasSuffix("rerun it with `--from evidence`"))
    }
}
