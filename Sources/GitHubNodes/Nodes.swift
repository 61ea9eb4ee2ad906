public import Foundation
import JSON

// The nodes ingest stores and refine reads, each exactly as its fragment in the GitHub
// client's documents (`Operation.fragmentTexts`) selects it, with the optionality GitHub's
// schema (`schemas/github/schema.graphql`) gives each field: `String!` is a `String`,
// `DateTime` a `Date?` — and every selected field must be present. `GraphNodeTests` walks
// every document against the schema and proves that each of these refuses a missing, null
// or mistyped non-null field.

/// `fragment Actor on Actor { __typename login }`: who did something. GitHub's GraphQL API
/// names a Bot without the `[bot]` suffix its REST API shows, so the type is the only sign.
public struct ActorNode: GraphNode, Equatable {
    /// `User`, `Bot`, `Organization`, `Mannequin`, `EnterpriseUserAccount`; nil only in a raw
    /// node stored before actors carried their type (then only a `[bot]` suffix can tell).
    public let typename: String?
    public let login: String

    public init(_ fields: Fields) throws(Malformed) {
        typename = fields.stored && !fields.has("__typename") ? nil : try fields.string("__typename")
        login = try fields.string("login")
    }
}

/// A commit's git author: `author { name email user { __typename login } }`.
public struct CommitAuthor: GraphNode, Equatable {
    public let name: String?
    public let email: String?
    /// The GitHub account the email maps to, if any.
    public let user: ActorNode?

    public init(_ fields: Fields) throws(Malformed) {
        name = try fields.nullableString("name")
        email = try fields.nullableString("email")
        user = try fields.nullable("user")
    }
}

/// `fragment CommitNode on Commit`: a default-branch commit.
public struct CommitNode: GraphNode {
    public let oid: String
    public let messageHeadline: String
    public let message: String
    public let authoredDate: Date
    public let committedDate: Date
    public let additions: Int64
    public let deletions: Int64
    public let changedFilesIfAvailable: Int64?
    public let author: CommitAuthor?

    public init(_ fields: Fields) throws(Malformed) {
        oid = try fields.string("oid")
        messageHeadline = try fields.string("messageHeadline")
        message = try fields.string("message")
        authoredDate = try fields.date("authoredDate")
        committedDate = try fields.date("committedDate")
        additions = try fields.int("additions")
        deletions = try fields.int("deletions")
        changedFilesIfAvailable = try fields.nullableInt("changedFilesIfAvailable")
        author = try fields.nullable("author")
    }
}

/// A list nested in a node: `{ totalCount nodes { … } }` (its first page, without a cursor).
public struct Counted<Node: GraphNode>: GraphNode {
    public let totalCount: Int64
    public let nodes: [Node]

    public init(_ fields: Fields) throws(Malformed) {
        totalCount = try fields.int("totalCount")
        nodes = try fields.list("nodes")
    }

    /// Whether GitHub counts more than the page holds.
    public var overflows: Bool { totalCount > Int64(nodes.count) }
}

/// A list nested in a node whose `totalCount` does not count its nodes: `timelineItems(…,
/// itemTypes: …) { totalCount pageInfo { hasNextPage } nodes { … } }`. GitHub's `totalCount`
/// of a timeline counts every item of it, whatever `itemTypes` keeps, so only `hasNextPage`
/// says whether the page holds them all; the count still tells a timeline that changed.
public struct FilteredList<Node: GraphNode>: GraphNode {
    /// Every item of the timeline, of any type.
    public let totalCount: Int64
    public let hasNextPage: Bool
    public let nodes: [Node]

    public init(_ fields: Fields) throws(Malformed) {
        totalCount = try fields.int("totalCount")
        hasNextPage = try fields.object("pageInfo").bool("hasNextPage")
        nodes = try fields.list("nodes")
    }

    public var overflows: Bool { hasNextPage }
}

/// `labels(first: 50) { totalCount nodes { name } }`.
public struct LabelNode: GraphNode, Equatable {
    public let name: String

    public init(_ fields: Fields) throws(Malformed) { name = try fields.string("name") }
}

/// The id GitHub keys an item on: `fullDatabaseId` (a `BigInt`, nullable in the schema), or
/// `databaseId` in raw nodes stored before ingest asked for `fullDatabaseId`.
func databaseId(_ fields: Fields) throws(Malformed) -> Int64? {
    if !fields.has("fullDatabaseId"), fields.has("databaseId") { return try fields.nullableInt("databaseId") }
    return try fields.nullableBigInt("fullDatabaseId")
}

/// `fragment PullRequestSummary on PullRequest`: what an open-item list reads of a pull request.
public struct PullRequestSummary: GraphNode {
    public let id: String
    public let databaseId: Int64?
    public let number: Int64
    public let title: String
    /// `OPEN`, `CLOSED` or `MERGED` (a `PullRequestState`).
    public let state: String
    public let isDraft: Bool
    public let createdAt: Date
    public let updatedAt: Date
    public let mergedAt: Date?
    public let closedAt: Date?
    public let baseRefName: String
    public let headRefName: String
    public let additions: Int64
    public let deletions: Int64
    public let changedFiles: Int64
    public let author: ActorNode?
    public let labels: Counted<LabelNode>?
    public let commits: Int64

    public init(_ fields: Fields) throws(Malformed) {
        id = try fields.string("id")
        databaseId = try GitHubNodes.databaseId(fields)
        number = try fields.int("number")
        title = try fields.string("title")
        state = try fields.string("state")
        isDraft = try fields.bool("isDraft")
        createdAt = try fields.date("createdAt")
        updatedAt = try fields.date("updatedAt")
        mergedAt = try fields.nullableDate("mergedAt")
        closedAt = try fields.nullableDate("closedAt")
        baseRefName = try fields.string("baseRefName")
        headRefName = try fields.string("headRefName")
        additions = try fields.int("additions")
        deletions = try fields.int("deletions")
        changedFiles = try fields.int("changedFiles")
        author = try fields.nullable("author")
        labels = try fields.nullable("labels")
        commits = try fields.object("commits").int("totalCount")
    }
}

/// `fragment Review on PullRequestReview`.
public struct ReviewNode: GraphNode {
    public let databaseId: Int64?
    public let author: ActorNode?
    /// A `PullRequestReviewState`: `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    public let state: String
    /// Null for a pending review.
    public let submittedAt: Date?

    public init(_ fields: Fields) throws(Malformed) {
        databaseId = try GitHubNodes.databaseId(fields)
        author = try fields.nullable("author")
        state = try fields.string("state")
        submittedAt = try fields.nullableDate("submittedAt")
    }
}

/// `fragment Comment on IssueComment`.
public struct CommentNode: GraphNode {
    public let databaseId: Int64?
    public let author: ActorNode?
    public let createdAt: Date

    public init(_ fields: Fields) throws(Malformed) {
        databaseId = try GitHubNodes.databaseId(fields)
        author = try fields.nullable("author")
        createdAt = try fields.date("createdAt")
    }
}

/// `fragment ChangedFile on PullRequestChangedFile`.
public struct ChangedFileNode: GraphNode {
    public let path: String
    public let additions: Int64
    public let deletions: Int64
    /// A `PatchStatus`: `ADDED`, `MODIFIED`, `DELETED`, `RENAMED`, `COPIED`, `CHANGED`.
    public let changeType: String

    public init(_ fields: Fields) throws(Malformed) {
        path = try fields.string("path")
        additions = try fields.int("additions")
        deletions = try fields.int("deletions")
        changeType = try fields.string("changeType")
    }
}

/// `fragment DraftEvent on PullRequestTimelineItems`: a pull request marked ready for review,
/// or converted back to a draft (`timelineItems(itemTypes: [READY_FOR_REVIEW_EVENT,
/// CONVERT_TO_DRAFT_EVENT])`). Who did it is not read: nothing counts it, and a deleted
/// account's event (`actor: null`) is the same event.
public struct DraftEventNode: GraphNode, Equatable {
    public enum Kind: String, Sendable {
        case readyForReview = "ReadyForReviewEvent"
        case convertToDraft = "ConvertToDraftEvent"
    }

    public let id: String
    public let kind: Kind
    public let createdAt: Date

    public init(_ fields: Fields) throws(Malformed) {
        let typename = try fields.string("__typename")
        guard let kind = Kind(rawValue: typename) else {
            throw Malformed(fields.path, .unusable("is a \(typename), which the document does not ask for"))
        }
        self.kind = kind
        id = try fields.string("id")
        createdAt = try fields.date("createdAt")
    }
}

/// A list nested in a stored pull request, when the document that read it selected it: `list`
/// is nil where GitHub's schema lets it answer null (`reviews`, `files`).
public struct NestedList<Node: GraphNode>: Sendable {
    public let list: Counted<Node>?
}

/// A pull request as stored: the summary, and the nested lists the document that read it
/// selected — an updated-since list all of them (`fragment PullRequestNode`), an open-item list
/// its reviews and ready/draft transitions (`fragment OpenPullRequest`), a lookup by id none.
/// Refine takes each list from the newest snapshot that carries it.
public struct PullRequestNode: GraphNode {
    public let summary: PullRequestSummary
    public let reviews: NestedList<ReviewNode>?
    public let comments: NestedList<CommentNode>?
    public let files: NestedList<ChangedFileNode>?
    /// `timelineItems` of the two draft transitions; nil in nodes stored before ingest read them.
    public let draftEvents: FilteredList<DraftEventNode>?

    public init(_ fields: Fields) throws(Malformed) {
        summary = try PullRequestSummary(fields)
        reviews = fields.has("reviews") ? NestedList(list: try fields.nullable("reviews")) : nil
        comments = fields.has("comments") ? NestedList(list: try fields.decode("comments")) : nil
        files = fields.has("files") ? NestedList(list: try fields.nullable("files")) : nil
        draftEvents = fields.has("timelineItems") ? try fields.decode("timelineItems") : nil
    }

    /// Whether it carries every list an updated-since read selects.
    public var isWhole: Bool { reviews != nil && comments != nil && files != nil && draftEvents != nil }

    /// Reads a node of a list whose fragment is `PullRequestNode`: every nested list must be there.
    public static func whole(_ fields: Fields) throws(Malformed) -> PullRequestNode {
        let node = try PullRequestNode(fields)
        for key in ["reviews", "comments", "files", "timelineItems"] { _ = try fields.value(key) }
        return node
    }

    /// Reads a node of a list whose fragment is `OpenPullRequest`: reviews and transitions must be there.
    public static func open(_ fields: Fields) throws(Malformed) -> PullRequestNode {
        let node = try PullRequestNode(fields)
        for key in ["reviews", "timelineItems"] { _ = try fields.value(key) }
        return node
    }
}

/// `fragment IssueSummary on Issue`.
public struct IssueSummary: GraphNode {
    public let id: String
    public let databaseId: Int64?
    public let number: Int64
    public let title: String
    /// `OPEN` or `CLOSED` (an `IssueState`).
    public let state: String
    /// An `IssueStateReason`: `COMPLETED`, `NOT_PLANNED`, `REOPENED`, `DUPLICATE`; null when none.
    public let stateReason: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let closedAt: Date?
    public let author: ActorNode?
    public let labels: Counted<LabelNode>?

    public init(_ fields: Fields) throws(Malformed) {
        id = try fields.string("id")
        databaseId = try GitHubNodes.databaseId(fields)
        number = try fields.int("number")
        title = try fields.string("title")
        state = try fields.string("state")
        stateReason = try fields.nullableString("stateReason")
        createdAt = try fields.date("createdAt")
        updatedAt = try fields.date("updatedAt")
        closedAt = try fields.nullableDate("closedAt")
        author = try fields.nullable("author")
        labels = try fields.nullable("labels")
    }
}

/// An issue as stored: the summary, and its comments when an updated-since list read it
/// (`fragment IssueNode`).
public struct IssueNode: GraphNode {
    public let summary: IssueSummary
    public let comments: Counted<CommentNode>?

    public init(_ fields: Fields) throws(Malformed) {
        summary = try IssueSummary(fields)
        comments = fields.has("comments") ? try fields.decode("comments") : nil
    }

    /// Reads a node of a list whose fragment is `IssueNode`: the comments must be there.
    public static func whole(_ fields: Fields) throws(Malformed) -> IssueNode {
        let node = try IssueNode(fields)
        if node.comments == nil { _ = try fields.value("comments") }
        return node
    }
}

/// A tree entry: `{ name oid type }` (a tree's `entries`).
public struct TreeEntryNode: GraphNode, Equatable {
    public let name: String
    public let oid: String
    /// `blob`, `tree` or `commit` (a submodule).
    public let type: String

    public init(_ fields: Fields) throws(Malformed) {
        if fields.stored && !fields.has("name"), fields.has("path") {
            // Trees stored by early versions named entries by their full path.
            name = try fields.string("path").split(separator: "/").last.map(String.init) ?? ""
        } else {
            name = try fields.string("name")
        }
        oid = try fields.string("oid")
        type = try fields.string("type")
    }
}

/// A git object asked for as `{ __typename ... on Tree { entries { name oid type } } }`: a
/// tree's entries, nil for any other object.
public struct TreeObject: GraphNode {
    public let typename: String
    public let entries: [TreeEntryNode]?

    public init(_ fields: Fields) throws(Malformed) {
        if fields.stored && !fields.has("__typename") {
            // Stored before the document asked for the type: a tree is what has entries.
            typename = fields.has("entries") ? "Tree" : "Blob"
        } else {
            typename = try fields.string("__typename")
        }
        // `Tree.entries` is a nullable list of non-null entries.
        entries = typename == "Tree" ? (try fields.nullableObjectList("entries")) : nil
    }
}

/// A path's entry at a commit: `file(path: …) { oid type object { … } }`.
public struct PathEntry: GraphNode {
    public let oid: String
    public let type: String
    public let object: TreeObject?

    public init(_ fields: Fields) throws(Malformed) {
        oid = try fields.string("oid")
        type = try fields.string("type")
        object = try fields.nullable("object")
    }
}

/// A commit that touched a documentation path (``Operation/documentationNode(path:)``): the
/// path's entry at the commit and at its first parent.
public struct DocumentationCommitNode: GraphNode {
    public let oid: String
    public let messageHeadline: String
    public let committedDate: Date
    public let file: PathEntry?
    /// The first parent's entry (nil: no parent, or the path was not there).
    public let parentFile: PathEntry?
    public let hasParent: Bool

    public init(_ fields: Fields) throws(Malformed) {
        oid = try fields.string("oid")
        messageHeadline = try fields.string("messageHeadline")
        committedDate = try fields.date("committedDate")
        file = try fields.nullable("file")
        let parents = try fields.object("parents").objects("nodes")
        hasParent = !parents.isEmpty
        parentFile = try parents.first?.nullable("file")
    }
}

/// A documentation sub-folder read by object id: `{ __typename ... on Tree { oid entries { … } } }`.
public struct TreeNode: GraphNode {
    public let oid: String
    public let entries: [TreeEntryNode]

    public init(_ fields: Fields) throws(Malformed) {
        let typename = fields.stored && !fields.has("__typename") ? "Tree" : try fields.string("__typename")
        guard typename == "Tree" else { throw Malformed(fields.path, .unusable("is not a tree")) }
        oid = try fields.string("oid")
        entries = try fields.nullableObjectList("entries") ?? []
    }
}

/// `fragment RepositoryFacts on Repository`: what GitHub says of a repository.
public struct RepositoryFactsNode: GraphNode {
    public let id: String
    public let nameWithOwner: String
    public let isEmpty: Bool
    public let isArchived: Bool
    public let isFork: Bool
    /// A `RepositoryVisibility`: `PUBLIC`, `PRIVATE`, `INTERNAL`.
    public let visibility: String
    public let pushedAt: Date?
    /// The default branch's name and tip (nil for an empty repository).
    public let defaultBranch: String?
    public let defaultBranchTip: String?

    public init(_ fields: Fields) throws(Malformed) {
        id = try fields.string("id")
        nameWithOwner = try fields.string("nameWithOwner")
        isEmpty = try fields.bool("isEmpty")
        isArchived = try fields.bool("isArchived")
        isFork = try fields.bool("isFork")
        visibility = try fields.string("visibility")
        pushedAt = try fields.nullableDate("pushedAt")
        let ref = try fields.nullableObject("defaultBranchRef")
        defaultBranch = try ref?.string("name")
        defaultBranchTip = try ref?.nullableObject("target")?.string("oid")
    }
}

/// An inline review comment, as GitHub's REST API lists it (`GET /repos/{o}/{r}/pulls/comments`):
/// REST has no schema file, so this follows GitHub's REST documentation — `in_reply_to_id` is
/// left out of a comment that is no reply, `user` is null for a deleted account.
public struct ReviewCommentNode: GraphNode {
    public let id: Int64
    public let pullRequestReviewId: Int64?
    public let inReplyToId: Int64?
    public let user: RESTUser?
    public let path: String
    public let createdAt: Date
    public let updatedAt: Date
    /// The number at the end of `pull_request_url`.
    public let pullRequestNumber: Int64

    public struct RESTUser: GraphNode, Equatable {
        public let login: String
        /// `User`, `Bot` or `Organization`.
        public let type: String

        public init(_ fields: Fields) throws(Malformed) {
            login = try fields.string("login")
            type = try fields.string("type")
        }
    }

    public init(_ fields: Fields) throws(Malformed) {
        id = try fields.int("id")
        pullRequestReviewId = try fields.nullableInt("pull_request_review_id")
        inReplyToId = fields.has("in_reply_to_id") ? try fields.nullableInt("in_reply_to_id") : nil
        user = try fields.nullable("user")
        path = try fields.string("path")
        createdAt = try fields.date("created_at")
        updatedAt = try fields.date("updated_at")
        let url = try fields.string("pull_request_url")
        guard let number = url.split(separator: "/").last.flatMap({ Int64($0) }) else {
            throw Malformed(fields.at("pull_request_url"), .type(expected: "a pull request URL ending in its number"))
        }
        pullRequestNumber = number
    }
}

extension Fields {
    /// A nullable list of non-null objects (`[TreeEntry!]`).
    public func nullableObjectList<T: GraphNode>(_ key: String, of type: T.Type = T.self) throws(Malformed) -> [T]? {
        if try value(key).isNull { return nil }
        return try list(key)
    }
}
