import Digest
import Foundation
import JSON
import Manifest
public import Pipeline
import Store

/// The evidence stage: one unit per repository, entities → a bundle and metrics for the window.
///
/// The bundle is a pure function of the entities, the window and the manifest: rerunning
/// gives the same bytes (no generation time inside), so its hash is the unit's output hash.
/// What a language model will later read is kept within a budget: the most relevant items
/// in full, counts for the rest, and the bundle says what was cut.
public struct EvidenceStage: StageRunner {
    public let stage = Stage.evidence
    /// Bump when the bundle or metrics for the same entities change.
    public let version = "evidence-5"

    /// Items kept in full per list; the rest are counted in `cut`.
    public static let budget = ["commits": 100, "pull_requests": 50, "issues": 50, "documentation_changes": 100]

    public init() {}

    /// One repository's facts (for metrics) and window items (for the bundle).
    struct Loaded {
        /// An item and its place in the bundle: rank, then newest first, then the tie-break.
        typealias Ranked<Item> = (relevance: (rank: Int, time: String, tie: String), item: Item)
        var pulls: [PullRequestFacts] = []
        var issues: [IssueFacts] = []
        var activity: [ActivityFacts] = []
        var pullItems: [Ranked<RepositoryBundle.PullRequest>] = []
        var issueItems: [Ranked<RepositoryBundle.Issue>] = []
        var commitItems: [Ranked<RepositoryBundle.Commit>] = []
        var docItems: [Ranked<RepositoryBundle.DocumentationChange>] = []
        /// People's open items at the window's end, for the oldest-first lists.
        var openIssues: [RepositoryBundle.Aged] = []
        var openPullRequests: [RepositoryBundle.Aged] = []
    }

    /// Reads a repository's facts (for metrics) and, with `items`, the bundle's item lists; the
    /// estate unit needs only the facts, and skipping the items halves its time.
    func load(_ slug: String, db: Database, start: Date, end: Date, items: Bool = true) throws -> Loaded {
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        func date(_ row: Row, _ column: String) throws -> Date? { try row.optionalString(column).flatMap(Timestamp.date) }

        let pullRows = try db.query("SELECT * FROM pull_requests WHERE repository = \(slug)")
        let fileRows = try db.query("SELECT * FROM pr_files WHERE repository = \(slug)")
        var filesByPull: [Int64: [PullRequestFacts.File]] = [:]
        for row in fileRows {
            filesByPull[try row.int("pull_request_id"), default: []].append(
                PullRequestFacts.File(
                    path: try row.string("path"), additions: Int(try row.optionalInt("additions") ?? 0),
                    deletions: Int(try row.optionalInt("deletions") ?? 0), isNoise: try row.optionalString("noise") != nil))
        }
        var loaded = Loaded()
        for row in pullRows {
            let id = try row.int("database_id")
            let number = try row.int("number")
            guard let created = try date(row, "created_at") else { continue }
            let merged = try date(row, "merged_at")
            let closed = try date(row, "closed_at")
            let noise = try row.optionalString("noise")
            let facts = PullRequestFacts(
                number: Int(number), createdAt: created, mergedAt: merged, closedAt: closed,
                isBot: try row.int("is_bot") == 1, isNoise: noise != nil,
                commitCount: (try row.optionalInt("commit_count")).map(Int.init), files: filesByPull[id] ?? [],
                changedFiles: (try row.optionalInt("changed_files")).map(Int.init),
                additions: (try row.optionalInt("additions")).map(Int.init),
                deletions: (try row.optionalInt("deletions")).map(Int.init))
            loaded.pulls.append(facts)
            guard items else { continue }
            let updated = try row.optionalString("updated_at") ?? ""
            let state = try row.string("state")
            // Open at the window's end: created before it, not merged or closed before it.
            let draft = try row.int("is_draft") == 1
            if !facts.isBot && noise == nil && created < end && !draft
                && !(merged.map { $0 < end } ?? false) && !(closed.map { $0 < end } ?? false)
            {
                loaded.openPullRequests.append(
                    RepositoryBundle.Aged(
                        number: Int(number), title: try row.string("title"), createdAt: Timestamp.string(created),
                        ageSeconds: end.timeIntervalSince(created)))
            }
            let inWindow = { (d: Date?) in d.map { start <= $0 && $0 < end } ?? false }
            guard inWindow(try date(row, "updated_at")) || inWindow(merged) || inWindow(closed) || state == "open" else {
                continue
            }
            let labels = try Self.labels(row)
            let title = try row.string("title")
            let relevance = inWindow(merged) ? 0 : (inWindow(closed) ? 1 : (state == "open" ? 2 : 3))
            loaded.pullItems.append(
                (
                    (relevance, updated, Self.tie(number)),
                    RepositoryBundle.PullRequest(
                        number: Int(number), title: title, state: state, author: try row.optionalString("author_login"),
                        isBot: facts.isBot, isDraft: draft, labels: labels,
                        createdAt: try row.optionalString("created_at") ?? "", mergedAt: try row.optionalString("merged_at"),
                        closedAt: try row.optionalString("closed_at"), noise: noise,
                        workType: WorkType.classify(labels: labels, title: title))
                ))
        }

        for row in try db.query("SELECT * FROM issues WHERE repository = \(slug)") {
            guard let created = try date(row, "created_at") else { continue }
            let closed = try date(row, "closed_at")
            let state = try row.string("state")
            let noise = try row.optionalString("noise")
            let goneReason = try row.optionalString("gone_reason")
            let facts = IssueFacts(
                number: Int(try row.int("number")), createdAt: created, closedAt: closed, state: state,
                stateReason: try row.optionalString("state_reason"), isBot: try row.int("is_bot") == 1,
                isNoise: noise != nil, isGone: goneReason != nil)
            loaded.issues.append(facts)
            guard items else { continue }
            let resolved = state == "closed" && (closed.map { start <= $0 && $0 < end } ?? false)
            if facts.outstanding(at: end) && !facts.isBot && !facts.isNoise {
                loaded.openIssues.append(
                    RepositoryBundle.Aged(
                        number: facts.number, title: try row.string("title"), createdAt: Timestamp.string(created),
                        ageSeconds: end.timeIntervalSince(created)))
            }
            guard resolved || facts.outstanding(at: end) else { continue }
            let labels = try Self.labels(row)
            let title = try row.string("title")
            loaded.issueItems.append(
                (
                    (resolved ? 0 : 1, try row.optionalString("updated_at") ?? "", Self.tie(Int64(facts.number))),
                    RepositoryBundle.Issue(
                        number: facts.number, title: title, state: state, stateReason: facts.stateReason,
                        author: try row.optionalString("author_login"), isBot: facts.isBot, labels: labels,
                        createdAt: try row.optionalString("created_at") ?? "", closedAt: try row.optionalString("closed_at"),
                        noise: noise, workType: WorkType.classify(labels: labels, title: title))
                ))
        }

        for row in try db.query("SELECT * FROM comments WHERE repository = \(slug)") {
            loaded.activity.append(
                ActivityFacts(
                    kind: try row.string("parent_kind") == "issue" ? .issueComment : .pullRequestComment,
                    login: try row.string("author_login"), isBot: try row.int("is_bot") == 1, at: try date(row, "created_at")))
        }
        for row in try db.query("SELECT author_login, is_bot, created_at FROM review_comments WHERE repository = \(slug)") {
            loaded.activity.append(
                ActivityFacts(
                    kind: .reviewComment, login: try row.string("author_login"),
                    isBot: try row.int("is_bot") == 1, at: try date(row, "created_at")))
        }
        // A reply in a review thread is a review comment; the `COMMENTED` review GitHub wraps it
        // in is not a review of its own (docs/metrics.md, "Comments").
        for row in try db.query("SELECT * FROM reviews WHERE repository = \(slug) AND reply_container = 0") {
            loaded.activity.append(
                ActivityFacts(
                    kind: .review, login: try row.string("author_login"),
                    isBot: try row.int("is_bot") == 1, at: try date(row, "submitted_at")))
        }

        guard items else { return loaded }
        for row in try db.query(
            """
            SELECT * FROM commits WHERE repository = \(slug) AND committed_at >= \(startText) AND committed_at < \(endText)
            """)
        {
            let headline = try row.string("headline")
            let committed = try row.string("committed_at")
            let oid = try row.string("oid")
            loaded.commitItems.append(
                (
                    (0, committed, oid),
                    RepositoryBundle.Commit(
                        oid: oid, headline: headline, committedAt: committed,
                        author: try row.optionalString("author_login") ?? row.optionalString("author_name"),
                        isBot: try row.int("is_bot") == 1, noise: try row.optionalString("noise"),
                        workType: WorkType.classify(title: headline))
                ))
        }
        for row in try db.query(
            """
            SELECT * FROM documentation_changes
            WHERE repository = \(slug) AND committed_at >= \(startText) AND committed_at < \(endText)
            """)
        {
            let change = RepositoryBundle.DocumentationChange(
                path: try row.string("path"), change: try row.string("change_type"), commit: try row.string("commit_oid"),
                committedAt: try row.string("committed_at"), isRoadmap: try row.int("is_roadmap") == 1,
                isADR: try row.int("is_adr") == 1)
            loaded.docItems.append(((0, change.committedAt, change.commit + " " + change.path), change))
        }
        return loaded
    }

    public func run(_ context: UnitContext) async throws -> UnitResult {
        let db = context.database
        let start = context.window.start
        let end = context.window.end
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard case .repository(let repository) = context.unit.subject else {
            return try estate(context, db: db, encoder: encoder)
        }
        let slug = repository.slug
        let loaded = try load(slug, db: db, start: start, end: end)
        let (pulls, issues, activity) = (loaded.pulls, loaded.issues, loaded.activity)
        let (pullItems, issueItems, commitItems, docItems) = (
            loaded.pullItems, loaded.issueItems, loaded.commitItems,
            loaded.docItems
        )

        let categories = PathCategory.rules(overriding: context.manifest.metrics.pathCategories)
        var metrics = RepositoryMetrics.compute(
            start: start, end: end, pullRequests: pulls, issues: issues, activity: activity, categories: categories)
        let before = Self.previous(start: start, end: end)
        if try Self.covers(slug, from: before.start, db: db, collect: context.manifest.github.collect) {
            metrics.previous = Self.previous(
                before, pullRequests: pulls, issues: issues, categories: categories)
        }
        let metricsJSON = String(decoding: try encoder.encode(metrics), as: UTF8.self)

        /// The most relevant items within the budget, and how many were left out.
        func kept<Item>(_ name: String, _ items: [Loaded.Ranked<Item>]) -> (items: [Item], cut: Int) {
            let sorted = items.sorted { lhs, rhs in
                let (l, r) = (lhs.relevance, rhs.relevance)
                if l.rank != r.rank { return l.rank < r.rank }
                if l.time != r.time { return l.time > r.time }
                return l.tie < r.tie
            }
            let limit = Self.budget[name] ?? 50
            return (Array(sorted.prefix(limit).map(\.item)), max(0, sorted.count - limit))
        }
        // Work types of the non-noise items; sample titles newest first, commits before pull
        // requests before issues, up to five per type.
        typealias Group = (commits: Int, pulls: Int, issues: Int, titles: [String])
        var groups: [WorkType: Group] = [:]
        func add(_ entries: [(time: String, type: WorkType, title: String)], _ slot: WritableKeyPath<Group, Int>) {
            for entry in entries.sorted(by: { $0.time > $1.time }) {
                var group = groups[entry.type] ?? (0, 0, 0, [])
                group[keyPath: slot] += 1
                if group.titles.count < 5 { group.titles.append(entry.title) }
                groups[entry.type] = group
            }
        }
        add(
            commitItems.filter { $0.item.noise == nil }.map { ($0.relevance.time, $0.item.workType, $0.item.headline) }, \.commits
        )
        add(pullItems.filter { $0.item.noise == nil }.map { ($0.relevance.time, $0.item.workType, $0.item.title) }, \.pulls)
        add(issueItems.filter { $0.item.noise == nil }.map { ($0.relevance.time, $0.item.workType, $0.item.title) }, \.issues)
        let workTypes: [RepositoryBundle.WorkTypeGroup] = WorkType.allCases.compactMap { type in
            guard let group = groups[type] else { return nil }
            return RepositoryBundle.WorkTypeGroup(
                workType: type, commits: group.commits, pullRequests: group.pulls, issues: group.issues,
                sampleTitles: group.titles)
        }
        let (commitsKept, commitsCut) = kept("commits", commitItems)
        let (pullsKept, pullsCut) = kept("pull_requests", pullItems)
        let (issuesKept, issuesCut) = kept("issues", issueItems)
        let (docsKept, docsCut) = kept("documentation_changes", docItems)
        /// The five oldest, oldest first (then by number).
        func oldest(_ items: [RepositoryBundle.Aged]) -> [RepositoryBundle.Aged] {
            Array(items.sorted { ($0.ageSeconds, -$0.number) > ($1.ageSeconds, -$1.number) }.prefix(5))
        }
        var bundle = RepositoryBundle(
            repository: RepositoryBundle.Subject(
                slug: slug, defaultBranch: try branch(slug, db: db, configured: repository.defaultBranch),
                documentationPaths: repository.documentationPaths, project: repository.project),
            window: RepositoryBundle.Window(start: startText, end: endText), metrics: metrics, commits: commitsKept,
            pullRequests: pullsKept, issues: issuesKept, documentationChanges: docsKept, workTypes: workTypes,
            cut: RepositoryBundle.Cut(
                commits: commitsCut, pullRequests: pullsCut, issues: issuesCut, documentationChanges: docsCut))
        bundle.oldestOutstandingIssues = oldest(loaded.openIssues)
        bundle.longestOpenPullRequests = oldest(loaded.openPullRequests)
        let text = String(decoding: try encoder.encode(bundle), as: UTF8.self)
        let counters: [String: Int64] = [
            "pull_requests_merged": Int64(metrics.humans.pullRequestsMerged + metrics.bots.pullRequestsMerged),
            "issues_resolved": Int64(metrics.humans.issuesResolved + metrics.bots.issuesResolved),
            "issues_outstanding": Int64(metrics.humans.issuesOutstanding + metrics.bots.issuesOutstanding),
            "bundle_bytes": Int64(text.utf8.count),
        ]
        return result(key: slug, start: startText, end: endText, metrics: metricsJSON, bundle: text, counters: counters)
    }

    /// The estate's metrics, from every repository's facts together (exact percentiles), and
    /// a per-repository headline table.
    func estate(_ context: UnitContext, db: Database, encoder: JSONEncoder) throws -> UnitResult {
        let start = context.window.start
        let end = context.window.end
        let categories = PathCategory.rules(overriding: context.manifest.metrics.pathCategories)
        var pulls: [PullRequestFacts] = []
        var issues: [IssueFacts] = []
        var commenters: [String: Commenter] = [:]
        var table: [EstateBundle.Row] = []
        // The window before: the estate has it when every repository has it.
        let before = Self.previous(start: start, end: end)
        let collect = context.manifest.github.collect
        var reachesBack = true
        for repository in context.manifest.estate.repositories {
            let loaded = try load(repository.slug, db: db, start: start, end: end, items: false)
            // Keep only what a metric of the window counts, so memory follows the window's
            // activity, not the estate's history: changed files only of pull requests merged in
            // the window (the only ones changed lines count), and comments as per-login counts
            // (the repository's own commenters, added up: the same as counting them all at once).
            pulls += loaded.pulls.filter { $0.counts(start: before.start, end: end) }.map { pull in
                pull.mergedAt.map { before.start <= $0 && $0 < end } == true ? pull : pull.withoutFiles
            }
            issues += loaded.issues.filter { $0.counts(start: before.start, end: end) }
            reachesBack = try reachesBack && Self.covers(repository.slug, from: before.start, db: db, collect: collect)
            let metrics = RepositoryMetrics.compute(
                start: start, end: end, pullRequests: loaded.pulls, issues: loaded.issues, activity: loaded.activity,
                categories: categories)
            for commenter in metrics.commenters {
                commenters[commenter.login] = commenters[commenter.login].map { $0.adding(commenter) } ?? commenter
            }
            table.append(
                EstateBundle.Row(
                    repository: repository.slug, pullRequestsMerged: metrics.humans.pullRequestsMerged,
                    botPullRequestsMerged: metrics.bots.pullRequestsMerged,
                    pullRequestsClosedUnmerged: metrics.humans.pullRequestsClosedUnmerged,
                    medianOpenToMergeSeconds: metrics.humans.openToMergeSeconds.median,
                    issuesResolved: metrics.humans.issuesResolved, issuesOutstanding: metrics.humans.issuesOutstanding))
        }
        let counted = RepositoryMetrics.compute(
            start: start, end: end, pullRequests: pulls, issues: issues, activity: [],
            categories: categories)
        let metrics = RepositoryMetrics(
            humans: counted.humans, bots: counted.bots, noisePullRequests: counted.noisePullRequests,
            noiseIssues: counted.noiseIssues, goneIssues: counted.goneIssues,
            commenters: commenters.values.sorted { $0.login < $1.login },
            previous: reachesBack ? Self.previous(before, pullRequests: pulls, issues: issues, categories: categories) : nil)
        let metricsJSON = String(decoding: try encoder.encode(metrics), as: UTF8.self)
        let key = "estate:" + context.manifest.estate.key
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        let bundle = EstateBundle(
            estate: context.manifest.estate.key, window: EstateBundle.Window(start: startText, end: endText), metrics: metrics,
            repositories: table)
        let text = String(decoding: try encoder.encode(bundle), as: UTF8.self)
        let counters: [String: Int64] = [
            "repositories": Int64(table.count),
            "pull_requests_merged": Int64(metrics.humans.pullRequestsMerged + metrics.bots.pullRequestsMerged),
            "issues_outstanding": Int64(metrics.humans.issuesOutstanding + metrics.bots.issuesOutstanding),
        ]
        return result(key: key, start: startText, end: endText, metrics: metricsJSON, bundle: text, counters: counters)
    }

    /// The unit's result: the bundle's hash as output, and its row written (replacing the
    /// window's previous one) in the success transaction.
    func result(key: String, start: String, end: String, metrics: String, bundle: String, counters: [String: Int64])
        -> UnitResult
    {
        let digest = SHA256.hex(bundle)
        return UnitResult(outputHash: digest, counters: counters) { tx in
            try tx.execute(
                """
                INSERT INTO evidence (repository, window_start, window_end, metrics, bundle, digest)
                VALUES (\(key), \(start), \(end), \(metrics), \(bundle), \(digest))
                ON CONFLICT (repository, window_start, window_end) DO UPDATE SET
                    metrics = excluded.metrics, bundle = excluded.bundle, digest = excluded.digest
                """)
        }
    }

    /// The branch the repository's commits were read from: the manifest's, else GitHub's
    /// default as ingest found it (null before the first ingest, or for an empty repository).
    func branch(_ slug: String, db: Database, configured: String?) throws -> String? {
        if let configured { return configured }
        let row = try db.query("SELECT default_branch FROM repositories WHERE repository = \(slug)").first
        return try row?.optionalString("default_branch")
    }

    /// The window before [start, end): the same length, ending at `start`.
    static func previous(start: Date, end: Date) -> (start: Date, end: Date) {
        (start.addingTimeInterval(-end.timeIntervalSince(start)), start)
    }

    /// The previous window's metrics from the same facts.
    static func previous(
        _ window: (start: Date, end: Date), pullRequests: [PullRequestFacts], issues: [IssueFacts],
        categories: [(category: PathCategory, patterns: [String])]
    ) -> PreviousWindow {
        let metrics = RepositoryMetrics.compute(
            start: window.start, end: window.end, pullRequests: pullRequests, issues: issues, activity: [],
            categories: categories)
        return PreviousWindow(
            start: Timestamp.string(window.start), end: Timestamp.string(window.end), humans: metrics.humans,
            bots: metrics.bots)
    }

    /// Whether ingest's coverage of every list the metrics count (the pull requests and issues
    /// updated since a time, as the manifest collects them) reaches back to `from`: only then
    /// does the store hold every item a window starting there counts.
    static func covers(_ slug: String, from: Date, db: Database, collect: [CollectKind]) throws -> Bool {
        var streams: [String] = []
        if collect.contains(.pull_requests) { streams.append("pull_requests_updated") }
        if collect.contains(.issues) { streams.append("issues_updated") }
        let fromText = Timestamp.string(from)
        for stream in streams {
            let row = try db.query(
                "SELECT covered_from FROM ingest_coverage WHERE repository = \(slug) AND stream = \(stream)"
            ).first
            guard let covered = try row?.string("covered_from"), covered <= fromText else { return false }
        }
        return !streams.isEmpty
    }

    /// A number as a tie-break that sorts as the number does.
    static func tie(_ number: Int64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// An entity row's `labels` column (a JSON array of names).
    static func labels(_ row: Row) throws -> [String] {
        guard let text = try row.optionalString("labels"), let names = try JSONValue(parsing: text).array else { return [] }
        return names.compactMap(\.string)
    }
}
