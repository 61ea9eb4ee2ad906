import Foundation
import JSON
import Pipeline
public import Store

/// One repository's evidence for one window: what the evidence stage writes and what every
/// reader (export, report) decodes — the one contract between them.
///
/// Keys are snake_case (docs/evidence.md). Optional values are written as explicit `null`s,
/// so every item of a kind has the same keys for whoever reads the exported bundle.
public struct RepositoryBundle: Sendable, Hashable, Codable {
    public var schemaVersion = 1
    public let repository: Subject
    public let window: Window
    public let metrics: RepositoryMetrics
    public let commits: [Commit]
    public let pullRequests: [PullRequest]
    public let issues: [Issue]
    public let documentationChanges: [DocumentationChange]
    public let workTypes: [WorkTypeGroup]
    /// Items left out of each list by the size budget (the metrics count them all).
    public let cut: Cut
    /// The oldest issues outstanding at the window's end (people's, not noise), oldest first, at
    /// most five — from every issue, not only those the budget kept.
    public var oldestOutstandingIssues: [Aged] = []
    /// The longest-open pull requests at the window's end (people's, not drafts or noise),
    /// oldest first, at most five.
    public var longestOpenPullRequests: [Aged] = []
    /// People's pull requests waiting for a first review at the window's end (open, ready, no
    /// review by another person), longest wait first, at most five.
    public var longestAwaitingReview: [Waiting] = []
    /// People's issues outstanding at the window's end with no response by another person,
    /// longest wait first, at most five.
    public var longestAwaitingResponse: [Waiting] = []

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case repository, window, metrics, commits
        case pullRequests = "pull_requests"
        case issues
        case documentationChanges = "documentation_changes"
        case workTypes = "work_types"
        case cut
        case oldestOutstandingIssues = "oldest_outstanding_issues"
        case longestOpenPullRequests = "longest_open_pull_requests"
        case longestAwaitingReview = "longest_awaiting_review"
        case longestAwaitingResponse = "longest_awaiting_response"
    }

    /// An item waiting at the window's end, and how long it has waited (a pull request since
    /// it became ready, an issue since it was opened).
    public struct Waiting: Sendable, Hashable, Codable {
        public let number: Int
        public let title: String
        public let waitSeconds: Double

        enum CodingKeys: String, CodingKey {
            case number, title
            case waitSeconds = "wait_seconds"
        }
    }

    /// An item and how long it has been open at the window's end.
    public struct Aged: Sendable, Hashable, Codable {
        public let number: Int
        public let title: String
        public let createdAt: String
        public let ageSeconds: Double

        enum CodingKeys: String, CodingKey {
            case number, title
            case createdAt = "created_at"
            case ageSeconds = "age_seconds"
        }
    }

    /// A window as the evidence states it: RFC 3339 with milliseconds, UTC.
    public struct Window: Sendable, Hashable, Codable {
        public let start: String
        public let end: String

        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }
    }

    public struct Subject: Sendable, Hashable, Codable {
        public let slug: String
        /// The branch commits were read from; nil before the first ingest or for an empty repository.
        public let defaultBranch: String?
        public let documentationPaths: [String]
        public let project: String?

        enum CodingKeys: String, CodingKey {
            case slug
            case defaultBranch = "default_branch"
            case documentationPaths = "documentation_paths"
            case project
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(slug, forKey: .slug)
            try container.encode(defaultBranch, forKey: .defaultBranch)
            try container.encode(documentationPaths, forKey: .documentationPaths)
            try container.encode(project, forKey: .project)
        }
    }

    public struct Commit: Sendable, Hashable, Codable {
        public let oid: String
        public let headline: String
        public let committedAt: String
        /// The linked user's login, else the commit's author name.
        public let author: String?
        public let isBot: Bool
        /// The noise rule that matched, if one did.
        public let noise: String?
        public let workType: WorkType

        enum CodingKeys: String, CodingKey {
            case oid, headline
            case committedAt = "committed_at"
            case author
            case isBot = "is_bot"
            case noise
            case workType = "work_type"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(oid, forKey: .oid)
            try container.encode(headline, forKey: .headline)
            try container.encode(committedAt, forKey: .committedAt)
            try container.encode(author, forKey: .author)
            try container.encode(isBot, forKey: .isBot)
            try container.encode(noise, forKey: .noise)
            try container.encode(workType, forKey: .workType)
        }
    }

    public struct PullRequest: Sendable, Hashable, Codable {
        public let number: Int
        public let title: String
        /// `open`, `closed` or `merged`.
        public let state: String
        public let author: String?
        public let isBot: Bool
        public let isDraft: Bool
        public let labels: [String]
        public let createdAt: String
        public let mergedAt: String?
        public let closedAt: String?
        public let noise: String?
        public let workType: WorkType

        enum CodingKeys: String, CodingKey {
            case number, title, state, author
            case isBot = "is_bot"
            case isDraft = "is_draft"
            case labels
            case createdAt = "created_at"
            case mergedAt = "merged_at"
            case closedAt = "closed_at"
            case noise
            case workType = "work_type"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(title, forKey: .title)
            try container.encode(state, forKey: .state)
            try container.encode(author, forKey: .author)
            try container.encode(isBot, forKey: .isBot)
            try container.encode(isDraft, forKey: .isDraft)
            try container.encode(labels, forKey: .labels)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(mergedAt, forKey: .mergedAt)
            try container.encode(closedAt, forKey: .closedAt)
            try container.encode(noise, forKey: .noise)
            try container.encode(workType, forKey: .workType)
        }
    }

    public struct Issue: Sendable, Hashable, Codable {
        public let number: Int
        public let title: String
        /// `open` or `closed`.
        public let state: String
        public let stateReason: String?
        public let author: String?
        public let isBot: Bool
        public let labels: [String]
        public let createdAt: String
        public let closedAt: String?
        public let noise: String?
        public let workType: WorkType

        enum CodingKeys: String, CodingKey {
            case number, title, state
            case stateReason = "state_reason"
            case author
            case isBot = "is_bot"
            case labels
            case createdAt = "created_at"
            case closedAt = "closed_at"
            case noise
            case workType = "work_type"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(number, forKey: .number)
            try container.encode(title, forKey: .title)
            try container.encode(state, forKey: .state)
            try container.encode(stateReason, forKey: .stateReason)
            try container.encode(author, forKey: .author)
            try container.encode(isBot, forKey: .isBot)
            try container.encode(labels, forKey: .labels)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(closedAt, forKey: .closedAt)
            try container.encode(noise, forKey: .noise)
            try container.encode(workType, forKey: .workType)
        }
    }

    public struct DocumentationChange: Sendable, Hashable, Codable {
        public let path: String
        /// `added`, `modified` or `removed`.
        public let change: String
        public let commit: String
        public let committedAt: String
        public let isRoadmap: Bool
        public let isADR: Bool

        enum CodingKeys: String, CodingKey {
            case path, change, commit
            case committedAt = "committed_at"
            case isRoadmap = "is_roadmap"
            case isADR = "is_adr"
        }
    }

    public struct WorkTypeGroup: Sendable, Hashable, Codable {
        public let workType: WorkType
        public let commits: Int
        public let pullRequests: Int
        public let issues: Int
        public let sampleTitles: [String]

        enum CodingKeys: String, CodingKey {
            case workType = "work_type"
            case commits
            case pullRequests = "pull_requests"
            case issues
            case sampleTitles = "sample_titles"
        }
    }

    public struct Cut: Sendable, Hashable, Codable {
        public var commits = 0
        public var pullRequests = 0
        public var issues = 0
        public var documentationChanges = 0

        enum CodingKeys: String, CodingKey {
            case commits
            case pullRequests = "pull_requests"
            case issues
            case documentationChanges = "documentation_changes"
        }
    }
}

/// The estate's evidence for one window: its metrics and a headline row per repository.
public struct EstateBundle: Sendable, Hashable, Codable {
    public var schemaVersion = 1
    public let estate: String
    public let window: Window
    public let metrics: RepositoryMetrics
    public let repositories: [Row]

    public typealias Window = RepositoryBundle.Window

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case estate, window, metrics, repositories
    }

    public struct Row: Sendable, Hashable, Codable {
        public let repository: String
        public let pullRequestsMerged: Int
        public let botPullRequestsMerged: Int
        public let pullRequestsClosedUnmerged: Int
        public let medianOpenToMergeSeconds: Double?
        public let issuesResolved: Int
        public let issuesOutstanding: Int

        enum CodingKeys: String, CodingKey {
            case repository
            case pullRequestsMerged = "pull_requests_merged"
            case botPullRequestsMerged = "bot_pull_requests_merged"
            case pullRequestsClosedUnmerged = "pull_requests_closed_unmerged"
            case medianOpenToMergeSeconds = "median_open_to_merge_seconds"
            case issuesResolved = "issues_resolved"
            case issuesOutstanding = "issues_outstanding"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(repository, forKey: .repository)
            try container.encode(pullRequestsMerged, forKey: .pullRequestsMerged)
            try container.encode(botPullRequestsMerged, forKey: .botPullRequestsMerged)
            try container.encode(pullRequestsClosedUnmerged, forKey: .pullRequestsClosedUnmerged)
            try container.encode(medianOpenToMergeSeconds, forKey: .medianOpenToMergeSeconds)
            try container.encode(issuesResolved, forKey: .issuesResolved)
            try container.encode(issuesOutstanding, forKey: .issuesOutstanding)
        }
    }
}

/// Reads the `evidence` table of one window through the typed contract.
///
/// A row that does not decode is an error naming the row and the fix (rerun evidence), never
/// a report or export built from half a bundle.
public struct EvidenceRecords {
    let database: Database
    public let window: RepositoryBundle.Window

    public init(database: Database, start: String, end: String) {
        self.database = database
        self.window = RepositoryBundle.Window(start: start, end: end)
    }

    /// A repository's bundle, or nil when evidence has not run for it in this window.
    public func bundle(_ slug: String) throws -> RepositoryBundle? {
        try column("bundle", key: slug).map { try Self.decode(RepositoryBundle.self, $0, key: slug) }
    }

    /// The estate's bundle, or nil when estate evidence has not run in this window.
    public func estate(_ key: String) throws -> EstateBundle? {
        let stored = "estate:" + key
        return try column("bundle", key: stored).map { try Self.decode(EstateBundle.self, $0, key: stored) }
    }

    /// A repository's metrics alone (the `metrics` column: a fraction of the bundle's bytes).
    public func metrics(_ slug: String) throws -> RepositoryMetrics? {
        try column("metrics", key: slug).map { try Self.decode(RepositoryMetrics.self, $0, key: slug) }
    }

    /// A repository's (or `estate:KEY`'s) metrics of up to `limit` windows of this window's
    /// length ending at or before this window's end, oldest first: the trend of what it counted.
    public func history(_ key: String, limit: Int) throws -> [(window: RepositoryBundle.Window, metrics: RepositoryMetrics)] {
        guard let start = Timestamp.date(window.start), let end = Timestamp.date(window.end) else { return [] }
        let length = end.timeIntervalSince(start)
        let rows = try database.query(
            """
            SELECT window_start, window_end, metrics FROM evidence WHERE repository = \(key) AND window_end <= \(window.end)
            ORDER BY window_end DESC
            """)
        var history: [(window: RepositoryBundle.Window, metrics: RepositoryMetrics)] = []
        for row in rows {
            let (rowStart, rowEnd) = (try row.string("window_start"), try row.string("window_end"))
            guard let from = Timestamp.date(rowStart), let to = Timestamp.date(rowEnd),
                abs(to.timeIntervalSince(from) - length) < 1
            else { continue }
            history.append(
                (
                    RepositoryBundle.Window(start: rowStart, end: rowEnd),
                    try Self.decode(RepositoryMetrics.self, try row.string("metrics"), key: key)
                ))
            if history.count == limit { break }
        }
        return history.reversed()
    }

    func column(_ name: StaticString, key: String) throws -> String? {
        let (start, end) = (window.start, window.end)
        return try database.query(
            """
            SELECT \(sql: name) FROM evidence WHERE repository = \(key) AND window_start = \(start) AND window_end = \(end)
            """
        ).first.map { try $0.string(String(describing: name)) }
    }

    /// Decodes one stored column of the contract.
    public static func decode<Value: Decodable>(_ type: Value.Type, _ text: String, key: String) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw UnitError(
                code: "evidence_contract",
                message: "the stored evidence of \(key) does not match this version's contract (\(error)); "
                    + "rerun it with `--from evidence`")
        }
    }
}
