public import Foundation
public import Store

// The entity tables (Silver), one type per table: the field list of each is the one place its
// columns are named, typed and ordered. A column the table declares `NOT NULL` is never
// optional here; a field may be stricter than its column (an author refine always names) — a
// test compares both on SQLite and PostgreSQL. A new column is a migration and a field here.

/// A commit on the branch read.
public struct Commit: Entity {
    public var repository = ""
    public var oid = ""
    public var headline = ""
    public var message = ""
    public var authoredAt: Date?
    public var committedAt = Date(timeIntervalSince1970: 0)
    public var authorName: String?
    public var authorEmail: String?
    /// A linked user's login, or a bot's (``Actor``).
    public var authorLogin: String?
    public var additions: Int64?
    public var deletions: Int64?
    public var changedFiles: Int64?
    public var isBot = false
    /// Why the commit is noise, if it is.
    public var noise: String?

    public init() {}

    public init(
        repository: String, oid: String, headline: String, message: String, authoredAt: Date?, committedAt: Date,
        authorName: String?, authorEmail: String?, authorLogin: String?, additions: Int64?, deletions: Int64?,
        changedFiles: Int64?, isBot: Bool, noise: String?
    ) {
        self.repository = repository
        self.oid = oid
        self.headline = headline
        self.message = message
        self.authoredAt = authoredAt
        self.committedAt = committedAt
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.authorLogin = authorLogin
        self.additions = additions
        self.deletions = deletions
        self.changedFiles = changedFiles
        self.isBot = isBot
        self.noise = noise
    }

    public static let table = "commits"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("oid", \.oid), Field("headline", \.headline),
        Field("message", \.message), Field("authored_at", \.authoredAt), Field("committed_at", \.committedAt),
        Field("author_name", \.authorName), Field("author_email", \.authorEmail), Field("author_login", \.authorLogin),
        Field("additions", \.additions), Field("deletions", \.deletions), Field("changed_files", \.changedFiles),
        Field("is_bot", \.isBot), Field("noise", \.noise),
    ]

    public func precedes(_ other: Self) -> Bool { oid < other.oid }
}

/// A pull request, as its newest snapshot says.
public struct PullRequest: Entity {
    public var repository = ""
    public var databaseID: Int64 = 0
    public var number: Int64 = 0
    public var title = ""
    /// `open`, `closed` or `merged`.
    public var state = ""
    public var isDraft = false
    /// The author's canonical login (a bot's `NAME[bot]`, a deleted account's `ghost`).
    public var authorLogin = ""
    public var createdAt = Date(timeIntervalSince1970: 0)
    public var updatedAt = Date(timeIntervalSince1970: 0)
    public var mergedAt: Date?
    public var closedAt: Date?
    public var baseRef: String?
    public var headRef: String?
    public var additions: Int64?
    public var deletions: Int64?
    public var changedFiles: Int64?
    public var commitCount: Int64?
    public var labels: [String] = []
    public var isBot = false
    public var noise: String?
    public var nodeID: String?
    /// How many files were listed (nil: the snapshot carried no file list).
    public var filesListed: Int64?
    /// When and why it left the repository (transferred, deleted), if it did.
    public var goneAt: Date?
    public var goneReason: String?

    public init() {}

    public init(
        repository: String, databaseID: Int64, number: Int64, title: String, state: String, isDraft: Bool,
        authorLogin: String, createdAt: Date, updatedAt: Date, mergedAt: Date?, closedAt: Date?, baseRef: String?,
        headRef: String?, additions: Int64?, deletions: Int64?, changedFiles: Int64?, commitCount: Int64?,
        labels: [String], isBot: Bool, noise: String?, nodeID: String?, filesListed: Int64?, goneAt: Date?,
        goneReason: String?
    ) {
        self.repository = repository
        self.databaseID = databaseID
        self.number = number
        self.title = title
        self.state = state
        self.isDraft = isDraft
        self.authorLogin = authorLogin
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.mergedAt = mergedAt
        self.closedAt = closedAt
        self.baseRef = baseRef
        self.headRef = headRef
        self.additions = additions
        self.deletions = deletions
        self.changedFiles = changedFiles
        self.commitCount = commitCount
        self.labels = labels
        self.isBot = isBot
        self.noise = noise
        self.nodeID = nodeID
        self.filesListed = filesListed
        self.goneAt = goneAt
        self.goneReason = goneReason
    }

    public static let table = "pull_requests"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("database_id", \.databaseID), Field("number", \.number),
        Field("title", \.title), Field("state", \.state), Field("is_draft", \.isDraft),
        Field("author_login", \.authorLogin), Field("created_at", \.createdAt), Field("updated_at", \.updatedAt),
        Field("merged_at", \.mergedAt), Field("closed_at", \.closedAt), Field("base_ref", \.baseRef),
        Field("head_ref", \.headRef), Field("additions", \.additions), Field("deletions", \.deletions),
        Field("changed_files", \.changedFiles), Field("commit_count", \.commitCount), Field("labels", \.labels),
        Field("is_bot", \.isBot), Field("noise", \.noise), Field("node_id", \.nodeID),
        Field("files_listed", \.filesListed), Field("gone_at", \.goneAt), Field("gone_reason", \.goneReason),
    ]

    public func precedes(_ other: Self) -> Bool { databaseID < other.databaseID }
}

/// An issue, as its newest snapshot says.
public struct Issue: Entity {
    public var repository = ""
    public var databaseID: Int64 = 0
    public var number: Int64 = 0
    public var title = ""
    /// `open` or `closed`.
    public var state = ""
    /// `completed`, `not_planned`, `reopened`, `duplicate`, … as GitHub says, lowercased.
    public var stateReason: String?
    /// The author's canonical login (a bot's `NAME[bot]`, a deleted account's `ghost`).
    public var authorLogin = ""
    public var createdAt = Date(timeIntervalSince1970: 0)
    public var updatedAt = Date(timeIntervalSince1970: 0)
    public var closedAt: Date?
    public var labels: [String] = []
    public var isBot = false
    public var noise: String?
    public var nodeID: String?
    public var goneAt: Date?
    public var goneReason: String?
    /// The first comment by someone who counts as a responder (``Responders``), at or after the
    /// issue's creation: whenever it came, a window's metric asks whether before its end.
    public var firstResponseAt: Date?

    public init() {}

    public init(
        repository: String, databaseID: Int64, number: Int64, title: String, state: String, stateReason: String?,
        authorLogin: String, createdAt: Date, updatedAt: Date, closedAt: Date?, labels: [String], isBot: Bool,
        noise: String?, nodeID: String?, goneAt: Date?, goneReason: String?, firstResponseAt: Date? = nil
    ) {
        self.repository = repository
        self.databaseID = databaseID
        self.number = number
        self.title = title
        self.state = state
        self.stateReason = stateReason
        self.authorLogin = authorLogin
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.closedAt = closedAt
        self.labels = labels
        self.isBot = isBot
        self.noise = noise
        self.nodeID = nodeID
        self.goneAt = goneAt
        self.goneReason = goneReason
        self.firstResponseAt = firstResponseAt
    }

    public static let table = "issues"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("database_id", \.databaseID), Field("number", \.number),
        Field("title", \.title), Field("state", \.state), Field("state_reason", \.stateReason),
        Field("author_login", \.authorLogin), Field("created_at", \.createdAt), Field("updated_at", \.updatedAt),
        Field("closed_at", \.closedAt), Field("labels", \.labels), Field("is_bot", \.isBot), Field("noise", \.noise),
        Field("node_id", \.nodeID), Field("gone_at", \.goneAt), Field("gone_reason", \.goneReason),
        Field("first_response_at", \.firstResponseAt),
    ]

    public func precedes(_ other: Self) -> Bool { databaseID < other.databaseID }
}

/// A pull request marked ready for review, or converted back to a draft (its timeline).
public struct DraftEvent: Entity {
    public enum Kind: String, Sendable { case readyForReview = "ready_for_review", convertToDraft = "convert_to_draft" }

    public var repository = ""
    public var pullRequestID: Int64 = 0
    /// The event's node id.
    public var nodeID = ""
    /// `ready_for_review` or `convert_to_draft`.
    public var kind = ""
    public var at = Date(timeIntervalSince1970: 0)

    public init() {}

    public init(repository: String, pullRequestID: Int64, nodeID: String, kind: Kind, at: Date) {
        self.repository = repository
        self.pullRequestID = pullRequestID
        self.nodeID = nodeID
        self.kind = kind.rawValue
        self.at = at
    }

    public static let table = "pull_request_draft_events"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("pull_request_id", \.pullRequestID), Field("node_id", \.nodeID),
        Field("kind", \.kind), Field("at", \.at),
    ]

    public func precedes(_ other: Self) -> Bool { (pullRequestID, at, nodeID) < (other.pullRequestID, other.at, other.nodeID) }
}

/// A review of a pull request.
public struct Review: Entity {
    public var repository = ""
    public var databaseID: Int64 = 0
    public var pullRequestID: Int64 = 0
    /// The author's canonical login (a bot's `NAME[bot]`, a deleted account's `ghost`).
    public var authorLogin = ""
    /// `approved`, `changes_requested`, `commented`, `dismissed`, lowercased.
    public var state = ""
    public var submittedAt: Date?
    public var isBot = false
    /// A `COMMENTED` review GitHub made to hold replies in a review thread: not a review.
    public var replyContainer = false

    public init() {}

    public init(
        repository: String, databaseID: Int64, pullRequestID: Int64, authorLogin: String, state: String,
        submittedAt: Date?, isBot: Bool, replyContainer: Bool
    ) {
        self.repository = repository
        self.databaseID = databaseID
        self.pullRequestID = pullRequestID
        self.authorLogin = authorLogin
        self.state = state
        self.submittedAt = submittedAt
        self.isBot = isBot
        self.replyContainer = replyContainer
    }

    public static let table = "reviews"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("database_id", \.databaseID),
        Field("pull_request_id", \.pullRequestID), Field("author_login", \.authorLogin), Field("state", \.state),
        Field("submitted_at", \.submittedAt), Field("is_bot", \.isBot), Field("reply_container", \.replyContainer),
    ]

    public func precedes(_ other: Self) -> Bool { databaseID < other.databaseID }
}

/// A comment on an issue or on a pull request's conversation.
public struct Comment: Entity {
    /// What the comment is on.
    public enum Parent: String, Sendable, ColumnValue {
        case issue
        case pullRequest = "pull_request"

        public static var kind: ColumnKind { .text }
        public static var expected: String { "issue or pull_request" }
        public var stored: SQLValue { .text(rawValue) }
        public init?(stored: SQLValue) {
            guard case .text(let text) = stored, let parent = Parent(rawValue: text) else { return nil }
            self = parent
        }
    }

    public var repository = ""
    public var databaseID: Int64 = 0
    public var parentKind = Parent.issue
    public var parentID: Int64 = 0
    /// The author's canonical login (a bot's `NAME[bot]`, a deleted account's `ghost`).
    public var authorLogin = ""
    public var createdAt = Date(timeIntervalSince1970: 0)
    public var isBot = false

    public init() {}

    public init(
        repository: String, databaseID: Int64, parentKind: Parent, parentID: Int64, authorLogin: String,
        createdAt: Date, isBot: Bool
    ) {
        self.repository = repository
        self.databaseID = databaseID
        self.parentKind = parentKind
        self.parentID = parentID
        self.authorLogin = authorLogin
        self.createdAt = createdAt
        self.isBot = isBot
    }

    public static let table = "comments"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("database_id", \.databaseID), Field("parent_kind", \.parentKind),
        Field("parent_id", \.parentID), Field("author_login", \.authorLogin), Field("created_at", \.createdAt),
        Field("is_bot", \.isBot),
    ]

    public func precedes(_ other: Self) -> Bool { databaseID < other.databaseID }
}

/// An inline comment on a pull request's diff (GitHub's REST API).
public struct ReviewComment: Entity {
    public var repository = ""
    public var databaseID: Int64 = 0
    public var pullRequestNumber: Int64 = 0
    /// The pull request's id, when the pull request was ingested.
    public var pullRequestID: Int64?
    public var reviewID: Int64?
    public var inReplyToID: Int64?
    /// The author's canonical login (a bot's `NAME[bot]`, a deleted account's `ghost`).
    public var authorLogin = ""
    public var path = ""
    public var createdAt = Date(timeIntervalSince1970: 0)
    public var updatedAt = Date(timeIntervalSince1970: 0)
    public var isBot = false

    public init() {}

    public init(
        repository: String, databaseID: Int64, pullRequestNumber: Int64, pullRequestID: Int64?, reviewID: Int64?,
        inReplyToID: Int64?, authorLogin: String, path: String, createdAt: Date, updatedAt: Date, isBot: Bool
    ) {
        self.repository = repository
        self.databaseID = databaseID
        self.pullRequestNumber = pullRequestNumber
        self.pullRequestID = pullRequestID
        self.reviewID = reviewID
        self.inReplyToID = inReplyToID
        self.authorLogin = authorLogin
        self.path = path
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.isBot = isBot
    }

    public static let table = "review_comments"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("database_id", \.databaseID),
        Field("pull_request_number", \.pullRequestNumber), Field("pull_request_id", \.pullRequestID),
        Field("review_id", \.reviewID), Field("in_reply_to_id", \.inReplyToID), Field("author_login", \.authorLogin),
        Field("path", \.path), Field("created_at", \.createdAt), Field("updated_at", \.updatedAt),
        Field("is_bot", \.isBot),
    ]

    public func precedes(_ other: Self) -> Bool { databaseID < other.databaseID }
}

/// A file a pull request changed.
public struct PullRequestFile: Entity {
    public var repository = ""
    public var pullRequestID: Int64 = 0
    public var path = ""
    public var additions: Int64 = 0
    public var deletions: Int64 = 0
    /// GitHub's `PatchStatus`, lowercased: `added`, `modified`, `deleted`, `renamed`, ….
    public var changeType = ""
    public var noise: String?

    public init() {}

    public init(
        repository: String, pullRequestID: Int64, path: String, additions: Int64, deletions: Int64, changeType: String,
        noise: String?
    ) {
        self.repository = repository
        self.pullRequestID = pullRequestID
        self.path = path
        self.additions = additions
        self.deletions = deletions
        self.changeType = changeType
        self.noise = noise
    }

    public static let table = "pr_files"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("pull_request_id", \.pullRequestID), Field("path", \.path),
        Field("additions", \.additions), Field("deletions", \.deletions), Field("change_type", \.changeType),
        Field("noise", \.noise),
    ]

    public func precedes(_ other: Self) -> Bool { (pullRequestID, path) < (other.pullRequestID, other.path) }
}

/// A file added, changed or removed under a documentation path by a commit.
public struct DocumentationChange: Entity {
    public var repository = ""
    public var commitOID = ""
    public var path = ""
    /// `added`, `modified` or `removed`.
    public var changeType = ""
    public var committedAt = Date(timeIntervalSince1970: 0)
    /// The manifest's documentation path the file is under.
    public var documentationPath = ""
    public var isRoadmap = false
    public var isADR = false
    public var noise: String?

    public init() {}

    public init(
        repository: String, commitOID: String, path: String, changeType: String, committedAt: Date,
        documentationPath: String, isRoadmap: Bool, isADR: Bool, noise: String?
    ) {
        self.repository = repository
        self.commitOID = commitOID
        self.path = path
        self.changeType = changeType
        self.committedAt = committedAt
        self.documentationPath = documentationPath
        self.isRoadmap = isRoadmap
        self.isADR = isADR
        self.noise = noise
    }

    public static let table = "documentation_changes"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("commit_oid", \.commitOID), Field("path", \.path),
        Field("change_type", \.changeType), Field("committed_at", \.committedAt),
        Field("documentation_path", \.documentationPath), Field("is_roadmap", \.isRoadmap), Field("is_adr", \.isADR),
        Field("noise", \.noise),
    ]

    public func precedes(_ other: Self) -> Bool { (commitOID, path) < (other.commitOID, other.path) }
}

/// What GitHub reported of a repository, and the branch read.
public struct RepositoryFacts: Entity {
    public var repository = ""
    public var nodeID: String?
    /// The branch read: the manifest's, else GitHub's default.
    public var defaultBranch: String?
    public var githubDefaultBranch: String?
    public var isArchived = false
    public var isEmpty = false
    public var isFork = false
    public var visibility: String?
    public var pushedAt: Date?

    public init() {}

    public init(
        repository: String, nodeID: String?, defaultBranch: String?, githubDefaultBranch: String?, isArchived: Bool,
        isEmpty: Bool, isFork: Bool, visibility: String?, pushedAt: Date?
    ) {
        self.repository = repository
        self.nodeID = nodeID
        self.defaultBranch = defaultBranch
        self.githubDefaultBranch = githubDefaultBranch
        self.isArchived = isArchived
        self.isEmpty = isEmpty
        self.isFork = isFork
        self.visibility = visibility
        self.pushedAt = pushedAt
    }

    public static let table = "repositories"
    public static let fields: [Field<Self>] = [
        Field("repository", \.repository), Field("node_id", \.nodeID), Field("default_branch", \.defaultBranch),
        Field("github_default_branch", \.githubDefaultBranch), Field("is_archived", \.isArchived),
        Field("is_empty", \.isEmpty), Field("is_fork", \.isFork), Field("visibility", \.visibility),
        Field("pushed_at", \.pushedAt),
    ]

    public func precedes(_ other: Self) -> Bool { repository < other.repository }
}

/// Every entity table, in the order refine writes them.
public let entityTables: [any Entity.Type] = [
    Commit.self, PullRequest.self, Issue.self, Review.self, Comment.self, ReviewComment.self, PullRequestFile.self,
    DocumentationChange.self, RepositoryFacts.self, DraftEvent.self,
]
