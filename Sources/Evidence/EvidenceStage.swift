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
    public let version = "evidence-2"

    /// Items kept in full per list; the rest are counted in `cut`.
    public static let budget = ["commits": 100, "pull_requests": 50, "issues": 50, "documentation_changes": 100]

    public init() {}

    /// One repository's facts (for metrics) and window items (for the bundle).
    struct Loaded {
        typealias Item = (relevance: (Int, String, Int64), item: JSONValue)
        var pulls: [PullRequestFacts] = []
        var issues: [IssueFacts] = []
        var activity: [ActivityFacts] = []
        var pullItems: [Item] = []
        var issueItems: [Item] = []
        var commitItems: [Item] = []
        var docItems: [Item] = []
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
            let inWindow = { (d: Date?) in d.map { start <= $0 && $0 < end } ?? false }
            guard inWindow(try date(row, "updated_at")) || inWindow(merged) || inWindow(closed) || state == "open" else {
                continue
            }
            let labels = try Self.labels(row)
            let title = try row.string("title")
            let relevance = inWindow(merged) ? 0 : (inWindow(closed) ? 1 : (state == "open" ? 2 : 3))
            loaded.pullItems.append(
                (
                    (relevance, updated, number),
                    [
                        "number": .int(number), "title": .string(title), "state": .string(state),
                        "author": try row.optionalString("author_login").map(JSONValue.string) ?? .null,
                        "is_bot": .bool(facts.isBot), "is_draft": .bool(try row.int("is_draft") == 1),
                        "noise": noise.map(JSONValue.string) ?? .null, "labels": .array(labels.map(JSONValue.string)),
                        "created_at": .string(try row.optionalString("created_at") ?? ""),
                        "merged_at": try row.optionalString("merged_at").map(JSONValue.string) ?? .null,
                        "closed_at": try row.optionalString("closed_at").map(JSONValue.string) ?? .null,
                        "work_type": .string(WorkType.classify(labels: labels, title: title).rawValue),
                    ]
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
            guard resolved || facts.outstanding(at: end) else { continue }
            let labels = try Self.labels(row)
            let title = try row.string("title")
            loaded.issueItems.append(
                (
                    (resolved ? 0 : 1, try row.optionalString("updated_at") ?? "", Int64(facts.number)),
                    [
                        "number": .int(Int64(facts.number)), "title": .string(title), "state": .string(state),
                        "state_reason": facts.stateReason.map(JSONValue.string) ?? .null,
                        "author": try row.optionalString("author_login").map(JSONValue.string) ?? .null,
                        "is_bot": .bool(facts.isBot),
                        "noise": noise.map(JSONValue.string) ?? .null,
                        "created_at": .string(try row.optionalString("created_at") ?? ""),
                        "closed_at": try row.optionalString("closed_at").map(JSONValue.string) ?? .null,
                        "work_type": .string(WorkType.classify(labels: labels, title: title).rawValue),
                    ]
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
            var item: [String: JSONValue] = [:]
            item["oid"] = .string(try row.string("oid"))
            item["headline"] = .string(headline)
            item["committed_at"] = .string(committed)
            item["author"] =
                try (row.optionalString("author_login") ?? row.optionalString("author_name")).map(JSONValue.string) ?? .null
            item["is_bot"] = .bool(try row.int("is_bot") == 1)
            item["noise"] = try row.optionalString("noise").map(JSONValue.string) ?? .null
            item["work_type"] = .string(WorkType.classify(title: headline).rawValue)
            loaded.commitItems.append(((0, committed, 0), .object(item)))
        }
        for row in try db.query(
            """
            SELECT * FROM documentation_changes
            WHERE repository = \(slug) AND committed_at >= \(startText) AND committed_at < \(endText)
            """)
        {
            loaded.docItems.append(
                (
                    (0, try row.string("committed_at"), 0),
                    [
                        "path": .string(try row.string("path")), "change": .string(try row.string("change_type")),
                        "commit": .string(try row.string("commit_oid")), "committed_at": .string(try row.string("committed_at")),
                        "is_roadmap": .bool(try row.int("is_roadmap") == 1), "is_adr": .bool(try row.int("is_adr") == 1),
                    ]
                ))
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

        let metrics = RepositoryMetrics.compute(
            start: start, end: end, pullRequests: pulls, issues: issues, activity: activity,
            categories: PathCategory.rules(overriding: context.manifest.metrics.pathCategories))
        let (metricsJSON, metricsValue) = try encode(metrics, encoder: encoder)

        var cut: [String: JSONValue] = [:]
        func kept(_ name: String, _ items: [Loaded.Item]) -> JSONValue {
            let sorted = items.sorted { lhs, rhs in
                if lhs.relevance.0 != rhs.relevance.0 { return lhs.relevance.0 < rhs.relevance.0 }
                if lhs.relevance.1 != rhs.relevance.1 { return lhs.relevance.1 > rhs.relevance.1 }
                if lhs.relevance.2 != rhs.relevance.2 { return lhs.relevance.2 < rhs.relevance.2 }
                return lhs.item.canonical < rhs.item.canonical
            }
            let limit = Self.budget[name] ?? 50
            cut[name] = .int(Int64(max(0, sorted.count - limit)))
            return .array(sorted.prefix(limit).map(\.item))
        }
        var groups: [WorkType: (commits: Int, pulls: Int, issues: Int, titles: [String])] = [:]
        for (items, slot) in [(commitItems, 0), (pullItems, 1), (issueItems, 2)] {
            for entry in items.sorted(by: { $0.relevance.1 > $1.relevance.1 }) {
                guard entry.item["noise"]?.isNull != false,
                    let type = entry.item["work_type"]?.string.flatMap(WorkType.init(rawValue:))
                else { continue }
                var group = groups[type] ?? (0, 0, 0, [])
                switch slot {
                case 0: group.commits += 1
                case 1: group.pulls += 1
                default: group.issues += 1
                }
                if group.titles.count < 5, let title = (entry.item["title"] ?? entry.item["headline"])?.string {
                    group.titles.append(title)
                }
                groups[type] = group
            }
        }
        let workTypes: [JSONValue] = WorkType.allCases.compactMap { type in
            guard let group = groups[type] else { return nil }
            return [
                "work_type": .string(type.rawValue), "commits": .int(Int64(group.commits)),
                "pull_requests": .int(Int64(group.pulls)), "issues": .int(Int64(group.issues)),
                "sample_titles": .array(group.titles.map(JSONValue.string)),
            ]
        }
        let bundle: JSONValue = [
            "schema_version": 1,
            "repository": [
                "slug": .string(slug), "default_branch": try branch(slug, db: db, configured: repository.defaultBranch),
                "documentation_paths": .array(repository.documentationPaths.map(JSONValue.string)),
                "project": repository.project.map(JSONValue.string) ?? .null,
            ],
            "window": ["start": .string(startText), "end": .string(endText)],
            "metrics": metricsValue,
            "commits": kept("commits", commitItems),
            "pull_requests": kept("pull_requests", pullItems),
            "issues": kept("issues", issueItems),
            "documentation_changes": kept("documentation_changes", docItems),
            "work_types": .array(workTypes),
            "cut": .object(cut),
            "previous_reports": [],
        ]
        let text = bundle.canonical
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
        var table: [JSONValue] = []
        for repository in context.manifest.estate.repositories {
            let loaded = try load(repository.slug, db: db, start: start, end: end, items: false)
            // Keep only what a metric of the window counts, so memory follows the window's
            // activity, not the estate's history: changed files only of pull requests merged in
            // the window (the only ones changed lines count), and comments as per-login counts
            // (the repository's own commenters, added up: the same as counting them all at once).
            pulls += loaded.pulls.filter { $0.counts(start: start, end: end) }.map { pull in
                pull.mergedAt.map { start <= $0 && $0 < end } == true ? pull : pull.withoutFiles
            }
            issues += loaded.issues.filter { $0.counts(start: start, end: end) }
            let metrics = RepositoryMetrics.compute(
                start: start, end: end, pullRequests: loaded.pulls, issues: loaded.issues, activity: loaded.activity,
                categories: categories)
            for commenter in metrics.commenters {
                commenters[commenter.login] = commenters[commenter.login].map { $0.adding(commenter) } ?? commenter
            }
            table.append([
                "repository": .string(repository.slug),
                "pull_requests_merged": .int(Int64(metrics.humans.pullRequestsMerged)),
                "bot_pull_requests_merged": .int(Int64(metrics.bots.pullRequestsMerged)),
                "pull_requests_closed_unmerged": .int(Int64(metrics.humans.pullRequestsClosedUnmerged)),
                "median_open_to_merge_seconds": metrics.humans.openToMergeSeconds.median.map { .double($0) } ?? .null,
                "issues_resolved": .int(Int64(metrics.humans.issuesResolved)),
                "issues_outstanding": .int(Int64(metrics.humans.issuesOutstanding)),
            ])
        }
        let counted = RepositoryMetrics.compute(
            start: start, end: end, pullRequests: pulls, issues: issues, activity: [],
            categories: categories)
        let metrics = RepositoryMetrics(
            humans: counted.humans, bots: counted.bots, noisePullRequests: counted.noisePullRequests,
            noiseIssues: counted.noiseIssues, goneIssues: counted.goneIssues,
            commenters: commenters.values.sorted { $0.login < $1.login })
        let (metricsJSON, metricsValue) = try encode(metrics, encoder: encoder)
        let key = "estate:" + context.manifest.estate.key
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        let bundle: JSONValue = [
            "schema_version": 1, "estate": .string(context.manifest.estate.key),
            "window": ["start": .string(startText), "end": .string(endText)],
            "metrics": metricsValue, "repositories": .array(table),
        ]
        let text = bundle.canonical
        let counters: [String: Int64] = [
            "repositories": Int64(table.count),
            "pull_requests_merged": Int64(metrics.humans.pullRequestsMerged + metrics.bots.pullRequestsMerged),
            "issues_outstanding": Int64(metrics.humans.issuesOutstanding + metrics.bots.issuesOutstanding),
        ]
        return result(key: key, start: startText, end: endText, metrics: metricsJSON, bundle: text, counters: counters)
    }

    /// Metrics as stored (sorted-key JSON text) and as placed in a bundle.
    func encode(_ metrics: RepositoryMetrics, encoder: JSONEncoder) throws -> (String, JSONValue) {
        let text = String(decoding: try encoder.encode(metrics), as: UTF8.self)
        guard let value = try? JSONValue(parsing: text) else {
            throw UnitError(code: "internal", message: "metrics did not encode")
        }
        return (text, value)
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
    func branch(_ slug: String, db: Database, configured: String?) throws -> JSONValue {
        if let configured { return .string(configured) }
        let row = try db.query("SELECT default_branch FROM repositories WHERE repository = \(slug)").first
        return try row?.optionalString("default_branch").map(JSONValue.string) ?? .null
    }

    /// An entity row's `labels` column (a JSON array of names).
    static func labels(_ row: Row) throws -> [String] {
        guard let text = try row.optionalString("labels"), let names = (try? JSONValue(parsing: text))?.array else { return [] }
        return names.compactMap(\.string)
    }
}
