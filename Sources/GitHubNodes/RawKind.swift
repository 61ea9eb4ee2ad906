public import Foundation
public import JSON

/// What a raw row (Bronze) holds: the kind ingest stores it as and refine reads it back as.
///
/// The raw value is the `kind` column of `raw_nodes`; every kind names the node type its
/// payload decodes into (``decode(_:)``), so ingest and refine cannot disagree on either.
public enum RawKind: String, Sendable, Hashable, CaseIterable {
    /// A default-branch commit (``CommitNode``), keyed by oid.
    case commit
    /// A pull request (``PullRequestNode``), keyed by its database id.
    case pullRequest = "pull_request"
    /// An issue (``IssueNode``), keyed by its database id.
    case issue
    /// A commit that touched a documentation path (``DocumentationCommitNode``), keyed `PATH:OID`.
    case documentationCommit = "doc_commit"
    /// An inline review comment from the REST API (``ReviewCommentNode``), keyed by id.
    case reviewComment = "pull_request_review_comment"
    /// A review of a pull request whose reviews overflowed its first page (``ReviewNode``),
    /// keyed `PULL:REVIEW`.
    case pullRequestReview = "pull_request_review"
    /// A comment of a pull request whose comments overflowed (``CommentNode``), keyed `PULL:COMMENT`.
    case pullRequestComment = "pull_request_comment"
    /// A changed file of a pull request whose files overflowed (``ChangedFileNode``), keyed `PULL:PATH`.
    case pullRequestFile = "pull_request_file"
    /// A ready/draft transition of a pull request whose transitions overflowed
    /// (``DraftEventNode``), keyed `PULL:EVENT` (the event's node id).
    case pullRequestDraftEvent = "pull_request_draft_event"
    /// A comment of an issue whose comments overflowed (``CommentNode``), keyed `ISSUE:COMMENT`.
    case issueComment = "issue_comment"
    /// A documentation sub-folder (``TreeNode``), keyed by its oid.
    case tree
    /// What GitHub says of the repository (``RepositoryFactsNode``), keyed by its slug.
    case repository
    /// An open item that left the repository (ingest's own record, ``GoneRecord``), keyed `KIND:KEY`.
    case gone

    /// Checks that a payload is a node of this kind, as refine will read it back: what ingest
    /// asks before it stores anything.
    public func check(_ payload: JSONValue) throws(Malformed) {
        switch self {
        case .commit: _ = try CommitNode(json: payload)
        case .pullRequest: _ = try PullRequestNode(json: payload)
        case .issue: _ = try IssueNode(json: payload)
        case .documentationCommit: _ = try DocumentationCommitNode(json: payload)
        case .reviewComment: _ = try ReviewCommentNode(json: payload)
        case .pullRequestReview: _ = try ReviewNode(json: payload)
        case .pullRequestComment, .issueComment: _ = try CommentNode(json: payload)
        case .pullRequestFile: _ = try ChangedFileNode(json: payload)
        case .pullRequestDraftEvent: _ = try DraftEventNode(json: payload)
        case .tree: _ = try TreeNode(json: payload)
        case .repository: _ = try RepositoryFactsNode(json: payload)
        case .gone: _ = try GoneRecord(json: payload)
        }
    }
}

/// Ingest's record of an item that left its repository: when it noticed, why, and where it went.
public struct GoneRecord: GraphNode {
    public let detectedAt: Date
    /// `transferred`, `converted_to_discussion` or `deleted`.
    public let reason: String
    /// The repository it moved to, for a transfer or a conversion.
    public let movedTo: String?

    public init(_ fields: Fields) throws(Malformed) {
        detectedAt = try fields.date("detected_at")
        reason = try fields.string("reason")
        movedTo = fields.has("moved_to") ? try fields.nullableString("moved_to") : nil
    }
}
