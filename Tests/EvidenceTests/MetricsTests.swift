import Evidence
import Foundation
import Testing

func at(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    return formatter.date(from: text) ?? .distantPast
}

let windowStart = at("2026-11-13T00:00:00Z")
let windowEnd = at("2026-11-27T00:00:00Z")
let day = 86_400.0

/// Hand-computed expectations over a window [2026-11-13, 2026-11-27), items on both edges.
struct MetricsTests {
    static let pulls: [PullRequestFacts] = [
        // Opened long before the window, merged exactly at its start: counts (start is inside).
        PullRequestFacts(
            number: 1, createdAt: at("2026-10-01T00:00:00Z"), mergedAt: windowStart,
            closedAt: windowStart, commitCount: 3,
            files: [
                .init(path: "Sources/A.swift", additions: 10, deletions: 5),
                .init(path: "Tests/ATests.swift", additions: 20, deletions: 0),
            ]),
        // Merged exactly at the window's end: does not count (end is outside).
        PullRequestFacts(
            number: 2, createdAt: at("2026-11-20T00:00:00Z"), mergedAt: windowEnd, closedAt: windowEnd,
            commitCount: 7),
        // Closed without merge inside the window.
        PullRequestFacts(number: 3, createdAt: at("2026-11-14T00:00:00Z"), closedAt: at("2026-11-15T00:00:00Z")),
        PullRequestFacts(
            number: 4, createdAt: at("2026-11-20T00:00:00Z"), mergedAt: at("2026-11-21T00:00:00Z"),
            closedAt: at("2026-11-21T00:00:00Z"), commitCount: 1,
            files: [
                .init(path: "docs/x.md", additions: 3, deletions: 1),
                .init(path: "Package.resolved", additions: 100, deletions: 0),
                .init(path: "vendor/lib.c", additions: 50, deletions: 0, isNoise: true),
            ]),
        // A bot's pull request: measured apart.
        PullRequestFacts(
            number: 5, createdAt: at("2026-11-14T00:00:00Z"), mergedAt: at("2026-11-14T12:00:00Z"),
            closedAt: at("2026-11-14T12:00:00Z"), isBot: true, commitCount: 1),
        // Noise: counted as noise, not measured.
        PullRequestFacts(
            number: 6, createdAt: at("2026-11-14T00:00:00Z"), mergedAt: at("2026-11-15T00:00:00Z"),
            closedAt: at("2026-11-15T00:00:00Z"), isNoise: true),
        // Created and merged after the window.
        PullRequestFacts(number: 7, createdAt: at("2026-11-28T00:00:00Z"), mergedAt: at("2026-11-29T00:00:00Z")),
    ]

    static let issues: [IssueFacts] = [
        IssueFacts(
            number: 10, createdAt: at("2026-09-01T00:00:00Z"), closedAt: windowStart, state: "closed",
            stateReason: "completed"),
        IssueFacts(
            number: 11, createdAt: at("2026-11-01T00:00:00Z"), closedAt: at("2026-11-26T12:00:00Z"),
            state: "closed", stateReason: "not_planned"),
        // Closed exactly at the end: not resolved in the window, still outstanding at its end.
        IssueFacts(
            number: 12, createdAt: at("2026-11-01T00:00:00Z"), closedAt: windowEnd, state: "closed",
            stateReason: "completed"),
        // Open and untouched for months.
        IssueFacts(number: 13, createdAt: at("2026-06-01T00:00:00Z"), state: "open"),
        // Created after the end.
        IssueFacts(number: 14, createdAt: at("2026-11-28T00:00:00Z"), state: "open"),
        // Reopened: open again, no close time.
        IssueFacts(number: 15, createdAt: at("2026-10-01T00:00:00Z"), state: "open", stateReason: "reopened"),
        // Closed before the window.
        IssueFacts(
            number: 16, createdAt: at("2026-10-01T00:00:00Z"), closedAt: at("2026-11-05T00:00:00Z"),
            state: "closed", stateReason: "completed"),
    ]

    static let activity: [ActivityFacts] = [
        .init(kind: .issueComment, login: "grace", isBot: false, at: at("2026-11-14T00:00:00Z")),
        .init(kind: .pullRequestComment, login: "grace", isBot: false, at: at("2026-11-20T00:00:00Z")),
        .init(kind: .review, login: "ada", isBot: false, at: at("2026-11-26T00:00:00Z")),
        .init(kind: .pullRequestComment, login: "renovate[bot]", isBot: true, at: at("2026-11-15T00:00:00Z")),
        .init(kind: .issueComment, login: "ada", isBot: false, at: windowEnd),
        .init(kind: .issueComment, login: "ada", isBot: false, at: at("2026-11-01T00:00:00Z")),
    ]

    let metrics = RepositoryMetrics.compute(
        start: windowStart, end: windowEnd, pullRequests: pulls,
        issues: issues, activity: activity)

    @Test func pullRequestCounts() {
        #expect(metrics.humans.pullRequestsMerged == 2)
        #expect(metrics.humans.pullRequestsClosedUnmerged == 1)
        #expect(metrics.bots.pullRequestsMerged == 1)
        #expect(metrics.noisePullRequests == 1)
    }

    @Test func openToMergeTimes() {
        #expect(metrics.humans.openToMergeSeconds == Summary([43 * day, 1 * day]))
        #expect(metrics.humans.openToMergeSeconds.mean == 22 * day)
        #expect(metrics.humans.openToMergeSeconds.median == 22 * day)
        #expect(metrics.humans.openToMergeSeconds.p90 == 43 * day)
        #expect(metrics.bots.openToMergeSeconds.mean == 0.5 * day)
    }

    @Test func commitsAndChangedLinesOfMergedPullRequests() {
        #expect(metrics.humans.commitsPerMergedPullRequest.mean == 2)
        #expect(metrics.humans.commitsPerMergedPullRequest.p90 == 3)
        #expect(metrics.humans.changedLinesByCategory == ["code": 15, "tests": 20, "docs": 4, "build": 0, "generated": 100])
    }

    @Test func issuesResolvedAndOutstanding() {
        #expect(metrics.humans.issuesResolved == 2)
        #expect(metrics.humans.issuesResolvedByReason == ["completed": 1, "not_planned": 1, "other": 0])
        #expect(metrics.humans.resolvedIssueOpenSeconds.mean == 49.25 * day)
        #expect(metrics.humans.resolvedIssueOpenSeconds.median == 49.25 * day)
        #expect(metrics.humans.resolvedIssueOpenSeconds.p90 == 73 * day)
        #expect(metrics.humans.issuesOutstanding == 3)
        #expect(metrics.humans.outstandingIssueAgeSeconds.mean == (26 + 179 + 57) * day / 3)
        #expect(metrics.humans.outstandingIssueAgeSeconds.median == 57 * day)
        #expect(metrics.humans.outstandingIssueAgeSeconds.p90 == 179 * day)
    }

    @Test func commentersInTheWindow() {
        #expect(metrics.commenters.map(\.login) == ["ada", "grace", "renovate[bot]"])
        #expect(
            metrics.commenters.first { $0.login == "grace" }
                == {
                    var grace = Commenter(login: "grace", isBot: false)
                    grace.issueComments = 1
                    grace.pullRequestComments = 1
                    return grace
                }())
        #expect(metrics.commenters.first { $0.login == "ada" }?.reviews == 1)
        #expect(metrics.commenters.first { $0.login == "ada" }?.issueComments == 0)
        #expect(metrics.commenters.first { $0.login == "renovate[bot]" }?.isBot == true)
    }

    @Test func theManifestCanReplaceACategorysGlobs() {
        let rules = PathCategory.rules(overriding: ["tests": ["Sources/*"]])
        let overridden = RepositoryMetrics.compute(
            start: windowStart, end: windowEnd, pullRequests: Self.pulls,
            issues: [], activity: [], categories: rules)
        // Sources/A.swift now counts as tests; Tests/ATests.swift matches no category any more: code.
        #expect(overridden.humans.changedLinesByCategory == ["code": 20, "tests": 15, "docs": 4, "build": 0, "generated": 100])
        #expect(PathCategory.of("docs/x.md", rules: rules) == .docs)
    }

    @Test func noiseIsCountedOnlyWhereTheWindowWouldCountIt() {
        let old = PullRequestFacts(
            number: 8, createdAt: at("2026-09-01T00:00:00Z"), mergedAt: at("2026-09-02T00:00:00Z"),
            closedAt: at("2026-09-02T00:00:00Z"), isNoise: true)
        let staleIssue = IssueFacts(
            number: 20, createdAt: at("2026-01-01T00:00:00Z"), closedAt: at("2026-02-01T00:00:00Z"),
            state: "closed", isNoise: true)
        let openIssue = IssueFacts(number: 21, createdAt: at("2026-01-01T00:00:00Z"), state: "open", isNoise: true)
        let metrics = RepositoryMetrics.compute(
            start: windowStart, end: windowEnd, pullRequests: Self.pulls + [old],
            issues: [staleIssue, openIssue], activity: [])
        #expect(metrics.noisePullRequests == 1)
        #expect(metrics.noiseIssues == 1)
        #expect(metrics.humans.issuesOutstanding == 0)
    }

    @Test func anEmptyRepositoryHasZeroesAndNoAverages() {
        let empty = RepositoryMetrics.compute(start: windowStart, end: windowEnd, pullRequests: [], issues: [], activity: [])
        #expect(empty.humans.pullRequestsMerged == 0 && empty.humans.issuesOutstanding == 0)
        #expect(empty.humans.openToMergeSeconds == Summary([]))
        #expect(empty.humans.openToMergeSeconds.mean == nil && empty.humans.openToMergeSeconds.count == 0)
        #expect(empty.commenters.isEmpty)
    }

    @Test(
        arguments: [
            ([5.0], 5.0, 5.0, 5.0),
            ([1.0, 2.0], 1.5, 1.5, 2.0),
            ([3.0, 1.0, 2.0], 2.0, 2.0, 3.0),
            ((1...10).map(Double.init), 5.5, 5.5, 9.0),
            ((1...11).map(Double.init), 6.0, 6.0, 10.0),
        ] as [([Double], Double, Double, Double)])
    func summaryStatistics(_ values: [Double], _ mean: Double, _ median: Double, _ p90: Double) {
        let summary = Summary(values)
        #expect(summary.count == values.count)
        #expect(summary.mean == mean && summary.median == median && summary.p90 == p90)
    }

    @Test(arguments: [
        ("Sources/Core/Engine.swift", PathCategory.code), ("Tests/CoreTests/EngineTests.swift", .tests),
        ("src/foo_test.go", .tests), ("docs/guide.md", .docs), ("README.md", .docs), (".github/workflows/ci.yml", .build),
        ("Package.swift", .build), ("Makefile", .build), ("Package.resolved", .generated), ("vendor/lib/x.c", .generated),
        ("Sources/Generated/Schema.generated.swift", .generated), ("yarn.lock", .generated), ("app/models/user.rb", .code),
    ])
    func pathCategories(_ path: String, _ category: PathCategory) {
        #expect(PathCategory.of(path) == category)
    }
}
