import Entities
import Evidence
import JSON
import Manifest
import Store

/// An entity dataset: its columns, and the rows of one repository that belong to a window.
///
/// Rows are selected per repository (each query uses the repository's index) and ordered by
/// stable keys, so the same store and window always give the same bytes. Text ordering uses
/// byte order on both engines (`COLLATE "C"` on PostgreSQL), never a server locale.
struct EntityTable: Sendable {
    let dataset: Dataset
    let table: String
    let columns: [Column]
    /// A condition on `$1` repository, `$2` window start, `$3` window end.
    let filter: String
    let order: [String]

    /// The query for one repository; bind repository, start, end.
    func query(engine: Engine, repository: String, start: String, end: String) -> SQL {
        let text =
            "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(table) "
            + "WHERE repository = $1 AND \(filter) ORDER BY \(orderClause(engine))"
        return SQL(unsafeSQL: text, bindings: [.text(repository), .text(start), .text(end)])
    }

    /// One query for every repository of a manifest, ordered by repository first: one scan
    /// instead of one statement per repository. `$1` is the repositories as a JSON array.
    func query(engine: Engine, repositories: [String], start: String, end: String) -> SQL {
        let list = engine == .postgres ? "SELECT json_array_elements_text($1::json)" : "SELECT value FROM json_each($1)"
        let collate = engine == .postgres ? " COLLATE \"C\"" : ""
        let text =
            "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(table) "
            + "WHERE repository IN (\(list)) AND \(filter) ORDER BY repository\(collate), \(orderClause(engine))"
        let names = JSONValue.array(repositories.map(JSONValue.string)).canonical
        return SQL(unsafeSQL: text, bindings: [.text(names), .text(start), .text(end)])
    }

    private func orderClause(_ engine: Engine) -> String {
        let collate = engine == .postgres ? " COLLATE \"C\"" : ""
        return order.map { column in
            column.hasSuffix("_id") || column == "number" ? column : column + collate
        }.joined(separator: ", ")
    }

    static let schemaVersion = 1

    init<E: Entity>(_ dataset: Dataset, _ entity: E.Type, filter: String, order: [String]) {
        self.dataset = dataset
        table = E.table
        columns = E.columns
        self.filter = filter
        self.order = order
    }

    /// The entity datasets: each an entity table's every column (``Entity/fields``), the rows of
    /// a window, in key order.
    static let all: [Dataset: EntityTable] = Dictionary(
        uniqueKeysWithValues: [
            EntityTable(
                .commits, Commit.self, filter: "committed_at >= $2 AND committed_at < $3", order: ["committed_at", "oid"]),
            EntityTable(
                .pull_requests, PullRequest.self, filter: "created_at < $3 AND (updated_at >= $2 OR closed_at IS NULL)",
                order: ["number"]),
            EntityTable(
                .issues, Issue.self, filter: "created_at < $3 AND (updated_at >= $2 OR closed_at IS NULL)",
                order: ["number"]),
            EntityTable(
                .reviews, Review.self, filter: "submitted_at >= $2 AND submitted_at < $3",
                order: ["submitted_at", "database_id"]),
            EntityTable(
                .comments, Comment.self, filter: "created_at >= $2 AND created_at < $3",
                order: ["created_at", "database_id"]),
            EntityTable(
                .review_comments, ReviewComment.self, filter: "created_at >= $2 AND created_at < $3",
                order: ["created_at", "database_id"]),
            EntityTable(
                .pr_files, PullRequestFile.self,
                filter: """
                    pull_request_id IN (SELECT database_id FROM pull_requests AS merged
                        WHERE merged.repository = pr_files.repository AND merged_at >= $2 AND merged_at < $3)
                    """,
                order: ["pull_request_id", "path"]),
            EntityTable(
                .documentation_changes, DocumentationChange.self, filter: "committed_at >= $2 AND committed_at < $3",
                order: ["committed_at", "commit_oid", "path"]),
        ].map { ($0.dataset, $0) })
}

/// Columns of the datasets built from evidence rows.
enum EvidenceColumns {
    static let evidence: [Column] = [
        Column("scope"), Column("repository"), Column("window_start"), Column("window_end"), Column("digest"),
        Column("bundle", .json),
    ]

    static let summaries = [
        "open_to_merge_seconds", "commits_per_merged_pull_request",
        "resolved_issue_open_seconds", "outstanding_issue_age_seconds",
    ]
    static let categories = ["code", "tests", "docs", "build", "generated"]

    static let metrics: [Column] =
        [
            Column("scope"), Column("repository"), Column("window_start"), Column("window_end"), Column("population"),
            Column("pull_requests_merged", .int), Column("pull_requests_closed_unmerged", .int),
        ] + summaries.prefix(2).flatMap(summaryColumns)
        + categories.map { Column("changed_lines_\($0)", .int) } + [Column("changed_lines_partial", .json)]
        + [
            Column("issues_resolved", .int), Column("issues_resolved_completed", .int),
            Column("issues_resolved_not_planned", .int), Column("issues_resolved_other", .int),
            Column("issues_outstanding", .int),
        ]
        + summaries.suffix(2).flatMap(summaryColumns)
        + [
            Column("noise_pull_requests", .int), Column("noise_issues", .int), Column("gone_issues", .int),
            Column("commenters", .json),
        ]
        + reviewFlow.map { Column($0.name, $0.kind) }
        + [Column("previous_window_start"), Column("previous_window_end")]
        + compared.map { Column("previous_\($0.name)", $0.kind) } + compared.map { Column("change_\($0.name)", $0.kind) }

    /// Review flow's columns (people's rows; null on bot rows), each with how to read it.
    static let reviewFlow: [(name: String, kind: ColumnKind, value: @Sendable (ReviewFlow) -> JSONValue)] = {
        func count(_ name: String, _ value: @escaping @Sendable (ReviewFlow) -> Int) -> (
            String, ColumnKind, @Sendable (ReviewFlow) -> JSONValue
        ) {
            (name, .int, { .int(Int64(value($0))) })
        }
        func durations(_ name: String, _ summary: @escaping @Sendable (ReviewFlow) -> Summary) -> [(
            String, ColumnKind, @Sendable (ReviewFlow) -> JSONValue
        )] {
            [
                (name + "_count", .int, { .int(Int64(summary($0).count)) }),
                (name + "_median", .double, { summary($0).median.map(JSONValue.double) ?? .null }),
                (name + "_p90", .double, { summary($0).p90.map(JSONValue.double) ?? .null }),
            ]
        }
        var columns: [(String, ColumnKind, @Sendable (ReviewFlow) -> JSONValue)] = [
            count("pull_requests_ready", \.pullRequestsReady),
            count("pull_requests_awaiting_first_response", \.pullRequestsAwaitingFirstResponse),
        ]
        columns += durations("pull_request_first_response_seconds", \.pullRequestFirstResponseSeconds)
        columns += durations("pickup_seconds", \.pickupSeconds)
        columns += durations("approval_seconds", \.approvalSeconds)
        columns += durations("approval_to_merge_seconds", \.approvalToMergeSeconds)
        columns.append(count("merged_without_review", \.mergedWithoutReview))
        columns.append(
            (
                "merged_without_review_numbers", .json,
                { .array($0.mergedWithoutReviewNumbers.map { .int(Int64($0)) }) }
            ))
        columns += durations("review_rounds", \.reviewRounds)
        columns += durations("draft_seconds", \.draftSeconds)
        for bucket in ReviewFlow.sizeBuckets.map(\.name) {
            columns.append(("size_" + bucket, .int, { flow in flow.sizes?[bucket].map { .int(Int64($0)) } ?? .null }))
        }
        columns += durations("awaiting_review_seconds", \.awaitingReviewSeconds)
        columns.append(count("issues_opened", \.issuesOpened))
        columns.append(count("issues_awaiting_first_response", \.issuesAwaitingFirstResponse))
        columns += durations("issue_first_response_seconds", \.issueFirstResponseSeconds)
        return columns.map { (name: $0.0, kind: $0.1, value: $0.2) }
    }()

    /// Metrics exported with the previous window's value and the change since.
    static let compared: [(name: String, kind: ColumnKind, value: @Sendable (PopulationMetrics) -> Double?)] = [
        ("pull_requests_merged", .int, { Double($0.pullRequestsMerged) }),
        ("pull_requests_closed_unmerged", .int, { Double($0.pullRequestsClosedUnmerged) }),
        ("issues_resolved", .int, { Double($0.issuesResolved) }),
        ("issues_outstanding", .int, { Double($0.issuesOutstanding) }),
        ("open_to_merge_seconds_median", .double, { $0.openToMergeSeconds.median }),
        ("outstanding_issue_age_seconds_median", .double, { $0.outstandingIssueAgeSeconds.median }),
        ("pull_request_first_response_seconds_median", .double, { $0.reviewFlow?.pullRequestFirstResponseSeconds.median }),
        ("pickup_seconds_median", .double, { $0.reviewFlow?.pickupSeconds.median }),
        ("approval_seconds_median", .double, { $0.reviewFlow?.approvalSeconds.median }),
        ("merged_without_review", .int, { $0.reviewFlow.map { Double($0.mergedWithoutReview) } }),
        ("issue_first_response_seconds_median", .double, { $0.reviewFlow?.issueFirstResponseSeconds.median }),
    ]

    /// One row per people's pull request touched in the window (created before its end, and
    /// updated in it or still open), with what its review-flow figures are made of.
    static let pullRequestFlow: [Column] = [
        Column("repository"), Column("window_start"), Column("window_end"), Column("number", .int), Column("author"),
        Column("created_at"), Column("ready_at"), Column("first_response_at"), Column("first_review_at"),
        Column("first_approval_at"), Column("merged_at"), Column("reviewed", .bool), Column("rounds", .int),
        Column("draft_seconds", .double), Column("changed_lines", .int), Column("size"),
    ]

    static let repositories: [Column] = [
        Column("repository"), Column("default_branch"), Column("github_default_branch"),
        Column("default_branch_differs", .bool), Column("is_archived", .bool), Column("is_empty", .bool),
        Column("is_fork", .bool), Column("visibility"), Column("pushed_at"), Column("collected", .json),
        Column("collected_to"), Column("branch_tip"),
    ]

    /// A report as it reads: the same window's data always gives the same bytes.
    static let reports: [Column] = [
        Column("scope"), Column("subject"), Column("window_start"), Column("window_end"), Column("status"),
        Column("content", .json), Column("backend"), Column("model"), Column("verification", .json),
        Column("coverage", .json), Column("digest"),
    ]
    /// `reports` records changed when the accounting left them.
    static let reportsSchemaVersion = 2

    /// What writing a report cost, over every attempt: differs from run to run (latency, a
    /// model's tokens), so it is a dataset of its own, outside the reproducible ones.
    static let reportAccounting: [Column] = [
        Column("scope"), Column("subject"), Column("window_start"), Column("window_end"), Column("backend"),
        Column("model"), Column("attempts", .int), Column("prompt_tokens", .int), Column("completion_tokens", .int),
        Column("cost_usd", .double), Column("latency_ms", .int),
    ]

    static func summaryColumns(_ name: String) -> [Column] {
        [
            Column("\(name)_count", .int), Column("\(name)_mean", .double), Column("\(name)_median", .double),
            Column("\(name)_p90", .double),
        ]
    }
}
