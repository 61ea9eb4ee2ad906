public import Foundation

/// What the metrics need to know about a pull request.
public struct PullRequestFacts: Sendable, Hashable {
    public struct File: Sendable, Hashable {
        public let path: String
        public let additions: Int
        public let deletions: Int
        public let isNoise: Bool

        public init(path: String, additions: Int, deletions: Int, isNoise: Bool = false) {
            self.path = path
            self.additions = additions
            self.deletions = deletions
            self.isNoise = isNoise
        }
    }

    public let number: Int
    public let createdAt: Date
    public let mergedAt: Date?
    public let closedAt: Date?
    public let isBot: Bool
    public let isNoise: Bool
    public let commitCount: Int?
    public let files: [File]
    /// What GitHub says of the whole pull request: files changed, lines added and deleted. GitHub
    /// lists at most 3,000 files, so `files` can hold fewer than `changedFiles`.
    public let changedFiles: Int?
    public let additions: Int?
    public let deletions: Int?
    /// What review flow needs (nil: not known, e.g. a bot's pull request).
    public let flow: FlowFacts?

    /// The same facts without changed files (which only pull requests merged in the window need).
    var withoutFiles: PullRequestFacts {
        PullRequestFacts(
            number: number, createdAt: createdAt, mergedAt: mergedAt, closedAt: closedAt, isBot: isBot,
            isNoise: isNoise, commitCount: commitCount, flow: flow)
    }

    public init(
        number: Int, createdAt: Date, mergedAt: Date? = nil, closedAt: Date? = nil, isBot: Bool = false,
        isNoise: Bool = false, commitCount: Int? = nil, files: [File] = [], changedFiles: Int? = nil,
        additions: Int? = nil, deletions: Int? = nil, flow: FlowFacts? = nil
    ) {
        self.number = number
        self.createdAt = createdAt
        self.mergedAt = mergedAt
        self.closedAt = closedAt
        self.isBot = isBot
        self.isNoise = isNoise
        self.commitCount = commitCount
        self.files = files
        self.changedFiles = changedFiles
        self.additions = additions
        self.deletions = deletions
        self.flow = flow
    }

    /// Whether GitHub listed fewer files than the pull request changed.
    var filesPartial: Bool { (changedFiles ?? 0) > files.count }
}

/// A merged pull request whose files GitHub did not list in full: its lines by category are
/// short by what the unlisted files changed. Its own totals say by how much at most.
public struct PartialFiles: Sendable, Hashable, Codable {
    public let number: Int
    public let filesChanged: Int
    public let filesListed: Int
    public let additions: Int
    public let deletions: Int

    enum CodingKeys: String, CodingKey {
        case number
        case filesChanged = "files_changed"
        case filesListed = "files_listed"
        case additions, deletions
    }
}

extension PullRequestFacts {
    /// Whether any metric of the window counts it: merged or closed in the window.
    public func counts(start: Date, end: Date) -> Bool {
        [mergedAt, closedAt].contains { date in date.map { start <= $0 && $0 < end } ?? false }
    }

    /// Whether review flow may count it: open at some moment of the window (it became ready,
    /// or waits for review, there) — or merged or closed in it.
    public func flows(start: Date, end: Date) -> Bool {
        counts(start: start, end: end) || (createdAt < end && (closedAt.map { $0 >= start } ?? true))
    }
}

/// What the metrics need to know about an issue.
public struct IssueFacts: Sendable, Hashable {
    public let number: Int
    public let createdAt: Date
    public let closedAt: Date?
    /// `open` or `closed` (the latest snapshot).
    public let state: String
    /// `completed`, `not_planned`, `reopened`, or nil.
    public let stateReason: String?
    public let isBot: Bool
    public let isNoise: Bool
    /// The issue left its repository (transferred, deleted, converted to a discussion) while
    /// ingest believed it open: it is not outstanding.
    public let isGone: Bool
    /// The first response by another person (``Entities/Issue/firstResponseAt``), whenever it came.
    public let firstResponseAt: Date?

    public init(
        number: Int, createdAt: Date, closedAt: Date? = nil, state: String, stateReason: String? = nil,
        isBot: Bool = false, isNoise: Bool = false, isGone: Bool = false, firstResponseAt: Date? = nil
    ) {
        self.number = number
        self.createdAt = createdAt
        self.closedAt = closedAt
        self.state = state
        self.stateReason = stateReason
        self.isBot = isBot
        self.isNoise = isNoise
        self.isGone = isGone
        self.firstResponseAt = firstResponseAt
    }
}

extension IssueFacts {
    /// Whether it is outstanding at `end`: created before it, not closed before it, still in the repository.
    func outstanding(at end: Date) -> Bool {
        !isGone && createdAt < end && !(state == "closed" && (closedAt.map { $0 < end } ?? false))
    }

    /// Whether any metric of the window counts it: resolved in the window or outstanding at its end.
    public func counts(start: Date, end: Date) -> Bool {
        let resolved = state == "closed" && (closedAt.map { start <= $0 && $0 < end } ?? false)
        return resolved || outstanding(at: end) || (isGone && createdAt < end)
    }
}

/// A comment or review, for per-commenter counts.
public struct ActivityFacts: Sendable, Hashable {
    public enum Kind: String, Sendable { case issueComment, pullRequestComment, reviewComment, review }
    public let kind: Kind
    /// The canonical login (a bot's `NAME[bot]`, a deleted account's `ghost`: refine decides).
    public let login: String
    public let isBot: Bool
    public let at: Date?

    public init(kind: Kind, login: String, isBot: Bool, at: Date?) {
        self.kind = kind
        self.login = login
        self.isBot = isBot
        self.at = at
    }
}

/// Metrics of one population (humans or bots) over a window.
public struct PopulationMetrics: Sendable, Hashable, Codable {
    public var pullRequestsMerged = 0
    public var pullRequestsClosedUnmerged = 0
    public var openToMergeSeconds = Summary([])
    public var commitsPerMergedPullRequest = Summary([])
    public var changedLinesByCategory: [String: Int] = [:]
    /// Merged pull requests whose files GitHub did not list in full (``PartialFiles``).
    public var changedLinesPartial: [PartialFiles] = []
    public var issuesResolved = 0
    public var issuesResolvedByReason: [String: Int] = [:]
    public var issuesOutstanding = 0
    public var resolvedIssueOpenSeconds = Summary([])
    public var outstandingIssueAgeSeconds = Summary([])
    /// Review flow: people's only (nil for bots).
    public var reviewFlow: ReviewFlow?

    enum CodingKeys: String, CodingKey {
        case pullRequestsMerged = "pull_requests_merged"
        case pullRequestsClosedUnmerged = "pull_requests_closed_unmerged"
        case openToMergeSeconds = "open_to_merge_seconds"
        case commitsPerMergedPullRequest = "commits_per_merged_pull_request"
        case changedLinesByCategory = "changed_lines_by_category"
        case changedLinesPartial = "changed_lines_partial"
        case issuesResolved = "issues_resolved"
        case issuesResolvedByReason = "issues_resolved_by_reason"
        case issuesOutstanding = "issues_outstanding"
        case resolvedIssueOpenSeconds = "resolved_issue_open_seconds"
        case outstandingIssueAgeSeconds = "outstanding_issue_age_seconds"
        case reviewFlow = "review_flow"
    }
}

/// One commenter's activity in the window.
public struct Commenter: Sendable, Hashable, Codable {
    public let login: String
    public let isBot: Bool
    public var issueComments = 0
    public var pullRequestComments = 0
    /// Inline comments on pull request diffs.
    public var reviewComments = 0
    public var reviews = 0

    public init(login: String, isBot: Bool) {
        self.login = login
        self.isBot = isBot
    }

    /// This commenter's counts plus another's for the same login (another repository's).
    func adding(_ other: Commenter) -> Commenter {
        var sum = self
        sum.issueComments += other.issueComments
        sum.pullRequestComments += other.pullRequestComments
        sum.reviewComments += other.reviewComments
        sum.reviews += other.reviews
        return sum
    }

    enum CodingKeys: String, CodingKey {
        case login
        case isBot = "is_bot"
        case issueComments = "issue_comments"
        case pullRequestComments = "pull_request_comments"
        case reviewComments = "review_comments"
        case reviews
    }
}

/// The metrics of the window before a report's window (same length, ending where it starts).
///
/// Computed from the same entities, and only when ingest's coverage of every list the metrics
/// count reaches back to its start — otherwise an item closed then and untouched since might
/// be missing, and a previous value would be a guess.
public struct PreviousWindow: Sendable, Hashable, Codable {
    public let start: String
    public let end: String
    public let humans: PopulationMetrics
    public let bots: PopulationMetrics

    public init(start: String, end: String, humans: PopulationMetrics, bots: PopulationMetrics) {
        self.start = start
        self.end = end
        self.humans = humans
        self.bots = bots
    }
}

/// A repository's metrics for a window [start, end), UTC. See `docs/metrics.md`.
public struct RepositoryMetrics: Sendable, Hashable, Codable {
    public let humans: PopulationMetrics
    public let bots: PopulationMetrics
    /// Entities left out because a noise filter marked them.
    public let noisePullRequests: Int
    public let noiseIssues: Int
    /// Issues that left the repository (transferred, deleted, converted to a discussion) while
    /// open: left out of `issues_outstanding`, counted here.
    public let goneIssues: Int
    public let commenters: [Commenter]
    /// The window before, of the same length, when the store holds all of it; nil is "no
    /// previous window" (never a guess).
    public var previous: PreviousWindow?

    public init(
        humans: PopulationMetrics, bots: PopulationMetrics, noisePullRequests: Int, noiseIssues: Int,
        goneIssues: Int, commenters: [Commenter], previous: PreviousWindow? = nil
    ) {
        self.humans = humans
        self.bots = bots
        self.noisePullRequests = noisePullRequests
        self.noiseIssues = noiseIssues
        self.goneIssues = goneIssues
        self.commenters = commenters
        self.previous = previous
    }

    enum CodingKeys: String, CodingKey {
        case humans, bots, commenters, previous
        case noisePullRequests = "noise_pull_requests"
        case noiseIssues = "noise_issues"
        case goneIssues = "gone_issues"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(humans, forKey: .humans)
        try container.encode(bots, forKey: .bots)
        try container.encode(noisePullRequests, forKey: .noisePullRequests)
        try container.encode(noiseIssues, forKey: .noiseIssues)
        try container.encode(goneIssues, forKey: .goneIssues)
        try container.encode(commenters, forKey: .commenters)
        try container.encode(previous, forKey: .previous)
    }

    /// Computes every metric. Noise entities are counted, not measured; bots are measured
    /// apart from humans.
    public static func compute(
        start: Date, end: Date, pullRequests: [PullRequestFacts], issues: [IssueFacts], activity: [ActivityFacts],
        categories: [(category: PathCategory, patterns: [String])] = PathCategory.rules
    ) -> RepositoryMetrics {
        func inWindow(_ date: Date?) -> Bool {
            guard let date else { return false }
            return start <= date && date < end
        }
        func population(bots: Bool) -> PopulationMetrics {
            var metrics = PopulationMetrics()
            let pulls = pullRequests.filter { !$0.isNoise && $0.isBot == bots }
            let merged = pulls.filter { inWindow($0.mergedAt) }
            metrics.pullRequestsMerged = merged.count
            metrics.pullRequestsClosedUnmerged = pulls.filter { $0.mergedAt == nil && inWindow($0.closedAt) }.count
            metrics.openToMergeSeconds = Summary(
                merged.compactMap { pull in
                    pull.mergedAt.map { $0.timeIntervalSince(pull.createdAt) }
                })
            metrics.commitsPerMergedPullRequest = Summary(merged.compactMap { $0.commitCount.map(Double.init) })
            for category in PathCategory.allCases { metrics.changedLinesByCategory[category.rawValue] = 0 }
            for pull in merged {
                for file in pull.files where !file.isNoise {
                    metrics.changedLinesByCategory[PathCategory.of(file.path, rules: categories).rawValue, default: 0] +=
                        file.additions + file.deletions
                }
                if pull.filesPartial {
                    metrics.changedLinesPartial.append(
                        PartialFiles(
                            number: pull.number, filesChanged: pull.changedFiles ?? 0, filesListed: pull.files.count,
                            additions: pull.additions ?? 0, deletions: pull.deletions ?? 0))
                }
            }
            metrics.changedLinesPartial.sort { $0.number < $1.number }
            let counted = issues.filter { !$0.isNoise && $0.isBot == bots }
            let resolved = counted.filter { $0.state == "closed" && inWindow($0.closedAt) }
            metrics.issuesResolved = resolved.count
            metrics.issuesResolvedByReason = ["completed": 0, "not_planned": 0, "other": 0]
            for issue in resolved {
                let reason =
                    issue.stateReason == "completed" || issue.stateReason == "not_planned"
                    ? issue.stateReason ?? "other" : "other"
                metrics.issuesResolvedByReason[reason, default: 0] += 1
            }
            metrics.resolvedIssueOpenSeconds = Summary(
                resolved.compactMap { issue in
                    issue.closedAt.map { $0.timeIntervalSince(issue.createdAt) }
                })
            let outstanding = counted.filter { $0.outstanding(at: end) }
            metrics.issuesOutstanding = outstanding.count
            metrics.outstandingIssueAgeSeconds = Summary(outstanding.map { end.timeIntervalSince($0.createdAt) })
            if !bots {
                metrics.reviewFlow = ReviewFlow.compute(start: start, end: end, pullRequests: pulls, issues: counted)
            }
            return metrics
        }
        var byLogin: [String: Commenter] = [:]
        for item in activity where inWindow(item.at) {
            let login = item.login
            var commenter = byLogin[login] ?? Commenter(login: login, isBot: item.isBot)
            switch item.kind {
            case .issueComment: commenter.issueComments += 1
            case .pullRequestComment: commenter.pullRequestComments += 1
            case .reviewComment: commenter.reviewComments += 1
            case .review: commenter.reviews += 1
            }
            byLogin[login] = commenter
        }
        return RepositoryMetrics(
            humans: population(bots: false), bots: population(bots: true),
            noisePullRequests: pullRequests.filter { $0.isNoise && $0.counts(start: start, end: end) }.count,
            noiseIssues: issues.filter { $0.isNoise && $0.counts(start: start, end: end) }.count,
            goneIssues: issues.filter { $0.isGone && !$0.isNoise && $0.createdAt < end }.count,
            commenters: byLogin.values.sorted { $0.login < $1.login })
    }
}
