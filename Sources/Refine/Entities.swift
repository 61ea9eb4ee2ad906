import Foundation
public import Store

/// The entities (Silver) refined from one repository's raw nodes. Rows are kept sorted by
/// key, so the same raw data always gives the same rows, in the same order.
public struct EntitySet: Sendable, Equatable {
    public var commits: [[SQLValue]] = []
    public var pullRequests: [[SQLValue]] = []
    public var issues: [[SQLValue]] = []
    public var reviews: [[SQLValue]] = []
    public var comments: [[SQLValue]] = []
    public var reviewComments: [[SQLValue]] = []
    public var prFiles: [[SQLValue]] = []
    public var documentationChanges: [[SQLValue]] = []
    /// The repository's facts as GitHub reported them, and the branch read (one row).
    public var repositories: [[SQLValue]] = []

    public init() {}

    /// Table name, columns and rows, in write order.
    public var tables: [(name: String, columns: [String], rows: [[SQLValue]])] {
        [
            (
                "commits",
                [
                    "repository", "oid", "headline", "message", "authored_at", "committed_at", "author_name",
                    "author_email", "author_login", "additions", "deletions", "changed_files", "is_bot", "noise",
                ],
                commits
            ),
            (
                "pull_requests",
                [
                    "repository", "database_id", "number", "title", "state", "is_draft", "author_login",
                    "created_at", "updated_at", "merged_at", "closed_at", "base_ref", "head_ref", "additions",
                    "deletions", "changed_files", "commit_count", "labels", "is_bot", "noise", "node_id",
                    "files_listed", "gone_at", "gone_reason",
                ], pullRequests
            ),
            (
                "issues",
                [
                    "repository", "database_id", "number", "title", "state", "state_reason", "author_login",
                    "created_at", "updated_at", "closed_at", "labels", "is_bot", "noise", "node_id", "gone_at",
                    "gone_reason",
                ], issues
            ),
            (
                "reviews",
                [
                    "repository", "database_id", "pull_request_id", "author_login", "state", "submitted_at",
                    "is_bot", "reply_container",
                ], reviews
            ),
            (
                "comments",
                [
                    "repository", "database_id", "parent_kind", "parent_id", "author_login", "created_at",
                    "is_bot",
                ], comments
            ),
            (
                "review_comments",
                [
                    "repository", "database_id", "pull_request_number", "pull_request_id", "review_id",
                    "in_reply_to_id", "author_login", "path", "created_at", "updated_at", "is_bot",
                ],
                reviewComments
            ),
            (
                "pr_files", ["repository", "pull_request_id", "path", "additions", "deletions", "change_type", "noise"],
                prFiles
            ),
            (
                "documentation_changes",
                [
                    "repository", "commit_oid", "path", "change_type", "committed_at",
                    "documentation_path", "is_roadmap", "is_adr", "noise",
                ], documentationChanges
            ),
            (
                "repositories",
                [
                    "repository", "node_id", "default_branch", "github_default_branch", "is_archived", "is_empty",
                    "is_fork", "visibility", "pushed_at",
                ], repositories
            ),
        ]
    }

    public var count: Int { tables.reduce(0) { $0 + $1.rows.count } }
}
