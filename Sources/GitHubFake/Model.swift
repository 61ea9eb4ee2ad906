public import Foundation

/// A generated GitHub estate: what the fake server serves and what tests check results against.
public struct FakeEstate: Sendable {
    public var repositories: [FakeRepository]
    /// The window the estate was generated around: [end − days, end).
    public let windowStart: Date
    public let windowEnd: Date
    /// Items that left their repository (transferred, deleted, converted to a discussion), by
    /// node id: what `node(id:)` answers for them now.
    public var gone: [String: FakeGone] = [:]

    public init(repositories: [FakeRepository], windowStart: Date, windowEnd: Date) {
        self.repositories = repositories
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }

    public func repository(owner: String, name: String) -> FakeRepository? {
        repositories.first { $0.owner.lowercased() == owner.lowercased() && $0.name.lowercased() == name.lowercased() }
    }

    public func index(of slug: String) -> Int? {
        repositories.firstIndex { $0.slug.lowercased() == slug.lowercased() }
    }
}

/// Where an item that left its repository went.
public enum FakeGone: Sendable {
    /// Transferred: the issue lives on in `to` with a new number (its node id resolves there).
    case transferred(to: String, number: Int)
    /// Converted to a discussion of `repository`: the node id resolves to a `Discussion`.
    case convertedToDiscussion(repository: String, number: Int)
    /// Deleted: the node id resolves to nothing.
    case deleted
}

public struct FakeRepository: Sendable {
    public var owner: String
    public var name: String
    /// GitHub's default branch; `defaultBranchRef` is null while the repository is empty.
    public var defaultBranch: String
    public var documentationPaths: [String]
    /// The default branch's commits, in the order they landed on it (oldest first). `history`
    /// lists those reachable from a tip, newest `committedDate` first.
    public var landed: [FakeCommit] = []
    /// Other branches (name → commits in landing order), e.g. a stale `main` beside `master`.
    public var otherBranches: [String: [FakeCommit]] = [:]
    public var pullRequests: [FakePullRequest]
    public var issues: [FakeIssue]
    public var isArchived = false
    public var isFork = false
    public var visibility = "PUBLIC"
    public var pushedAt: Date?

    public init(
        owner: String, name: String, defaultBranch: String, documentationPaths: [String], commits: [FakeCommit],
        pullRequests: [FakePullRequest], issues: [FakeIssue]
    ) {
        self.owner = owner
        self.name = name
        self.defaultBranch = defaultBranch
        self.documentationPaths = documentationPaths
        self.landed = commits.sorted { $0.committedDate < $1.committedDate }
        self.pullRequests = pullRequests
        self.issues = issues
    }

    public var slug: String { "\(owner)/\(name)" }
    public var isEmpty: Bool { landed.isEmpty && otherBranches.isEmpty }

    /// The default branch's commits, newest `committedDate` first (as `history` lists them).
    public var commits: [FakeCommit] { landed.sorted { ($0.committedDate, $0.oid) > ($1.committedDate, $1.oid) } }

    /// The tip of the default branch.
    public var tip: FakeCommit? { landed.last }

    /// The commits of `branch` in landing order, if it exists.
    public func branch(_ name: String) -> [FakeCommit]? {
        if name == defaultBranch && !landed.isEmpty { return landed }
        return otherBranches[name]
    }

    /// The branch a qualified name (`refs/heads/NAME`) or short name denotes.
    public static func branchName(_ ref: String) -> String {
        ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : ref
    }

    /// Lands `commits` on the default branch now — e.g. a merge bringing a branch's commits
    /// whose dates are older than the tip's (history filtered by `since` then misses them).
    public mutating func land(_ commits: [FakeCommit]) {
        landed += commits
        pushedAt = Date()
    }
}

/// A GitHub account as the APIs show it.
public struct FakeUser: Sendable, Hashable {
    public enum Kind: String, Sendable { case user = "User", bot = "Bot" }
    /// The login as GitHub's GraphQL API returns it: a Bot's without the `[bot]` suffix
    /// (`dependabot`), a User's as is.
    public var login: String
    public var name: String
    public var email: String
    public var kind: Kind = .user

    public init(login: String, name: String, email: String, kind: Kind = .user) {
        self.login = login
        self.name = name
        self.email = email
        self.kind = kind
    }

    public var isBot: Bool { kind == .bot }
    /// The login as GitHub's REST API and web pages show it: `dependabot[bot]` for a Bot.
    public var restLogin: String { isBot ? login + "[bot]" : login }
}

public struct FakeCommit: Sendable {
    public var oid: String
    public var message: String
    public var authoredDate: Date
    public var committedDate: Date
    public var additions: Int
    public var deletions: Int
    public var changedFiles: Int
    public var author: FakeUser
    /// Whether the author's email maps to a GitHub user (`author.user`); a Bot never does.
    public var linked: Bool
    /// Files added or changed.
    public var paths: [String]
    /// Files removed.
    public var removed: [String] = []

    public init(
        oid: String, message: String, authoredDate: Date, committedDate: Date, additions: Int, deletions: Int,
        changedFiles: Int, author: FakeUser, linked: Bool, paths: [String], removed: [String] = []
    ) {
        self.oid = oid
        self.message = message
        self.authoredDate = authoredDate
        self.committedDate = committedDate
        self.additions = additions
        self.deletions = deletions
        self.changedFiles = changedFiles
        self.author = author
        self.linked = linked
        self.paths = paths
        self.removed = removed
    }
}

public struct FakePullRequest: Sendable {
    public enum State: String, Sendable { case open = "OPEN", closed = "CLOSED", merged = "MERGED" }
    public var databaseId: Int64
    public var number: Int
    public var title: String
    public var state: State
    public var isDraft: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var mergedAt: Date?
    public var closedAt: Date?
    public var baseRefName: String
    public var headRefName: String
    public var additions: Int
    public var deletions: Int
    public var changedFiles: Int
    /// nil: a deleted account (GraphQL `author: null`; REST shows `ghost`).
    public var author: FakeUser?
    public var labels: [String]
    public var commitCount: Int
    public var reviews: [FakeReview] = []
    public var comments: [FakeComment] = []
    /// Every changed file; GitHub lists at most ``FakeGitHub/fileListCap`` of them.
    public var files: [FakeFile] = []
    /// Inline comments on the diff; each belongs to one of `reviews`.
    public var reviewComments: [FakeReviewComment] = []
    /// Marked ready for review or converted to a draft, in time order (the timeline's
    /// `ReadyForReviewEvent`s and `ConvertToDraftEvent`s). `isDraft` is the state now.
    public var draftEvents: [FakeDraftEvent] = []

    public var nodeId: String { "PR_kwDO\(databaseId)" }

    public init(
        databaseId: Int64, number: Int, title: String, state: State, isDraft: Bool, createdAt: Date, updatedAt: Date,
        mergedAt: Date? = nil, closedAt: Date? = nil, baseRefName: String = "main", headRefName: String = "topic",
        additions: Int = 0, deletions: Int = 0, changedFiles: Int = 0, author: FakeUser?, labels: [String] = [],
        commitCount: Int = 1, reviews: [FakeReview] = [], comments: [FakeComment] = [], files: [FakeFile] = [],
        reviewComments: [FakeReviewComment] = [], draftEvents: [FakeDraftEvent] = []
    ) {
        self.databaseId = databaseId
        self.number = number
        self.title = title
        self.state = state
        self.isDraft = isDraft
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.mergedAt = mergedAt
        self.closedAt = closedAt
        self.baseRefName = baseRefName
        self.headRefName = headRefName
        self.additions = additions
        self.deletions = deletions
        self.changedFiles = changedFiles
        self.author = author
        self.labels = labels
        self.commitCount = commitCount
        self.reviews = reviews
        self.comments = comments
        self.files = files
        self.reviewComments = reviewComments
        self.draftEvents = draftEvents
    }
}

/// A pull request marked ready for review (`ready`) or converted to a draft.
public struct FakeDraftEvent: Sendable {
    public var id: String
    public var ready: Bool
    public var at: Date
    /// nil: a deleted account (`actor: null`).
    public var actor: FakeUser?

    public init(id: String, ready: Bool, at: Date, actor: FakeUser?) {
        self.id = id
        self.ready = ready
        self.at = at
        self.actor = actor
    }
}

public struct FakeReviewComment: Sendable {
    public var databaseId: Int64
    public var reviewId: Int64
    public var inReplyTo: Int64?
    public var author: FakeUser?
    public var path: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        databaseId: Int64, reviewId: Int64, inReplyTo: Int64?, author: FakeUser?, path: String, createdAt: Date,
        updatedAt: Date
    ) {
        self.databaseId = databaseId
        self.reviewId = reviewId
        self.inReplyTo = inReplyTo
        self.author = author
        self.path = path
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct FakeReview: Sendable {
    public var databaseId: Int64
    public var author: FakeUser?
    public var state: String
    public var submittedAt: Date
    /// A review started and not submitted: GitHub shows it to its author only, as `PENDING`
    /// with `submittedAt: null`.
    public var pending = false
    /// The review's summary. A reply in a review thread makes GitHub create a `COMMENTED`
    /// review with an empty body that holds just that reply.
    public var body = "Looks reasonable; see the inline notes."

    public init(
        databaseId: Int64, author: FakeUser?, state: String, submittedAt: Date, pending: Bool = false,
        body: String = "Looks reasonable; see the inline notes."
    ) {
        self.databaseId = databaseId
        self.author = author
        self.state = state
        self.submittedAt = submittedAt
        self.pending = pending
        self.body = body
    }
}

public struct FakeComment: Sendable {
    public var databaseId: Int64
    public var author: FakeUser?
    public var createdAt: Date

    public init(databaseId: Int64, author: FakeUser?, createdAt: Date) {
        self.databaseId = databaseId
        self.author = author
        self.createdAt = createdAt
    }
}

public struct FakeFile: Sendable {
    public var path: String
    public var additions: Int
    public var deletions: Int
    public var changeType: String

    public init(path: String, additions: Int, deletions: Int, changeType: String = "MODIFIED") {
        self.path = path
        self.additions = additions
        self.deletions = deletions
        self.changeType = changeType
    }
}

public struct FakeIssue: Sendable {
    public enum State: String, Sendable { case open = "OPEN", closed = "CLOSED" }
    public enum Reason: String, Sendable { case completed = "COMPLETED", notPlanned = "NOT_PLANNED", reopened = "REOPENED" }
    public var databaseId: Int64
    public var number: Int
    public var title: String
    public var state: State
    public var stateReason: Reason?
    public var createdAt: Date
    public var updatedAt: Date
    public var closedAt: Date?
    public var author: FakeUser?
    public var labels: [String]
    public var comments: [FakeComment] = []

    public var nodeId: String { "I_kwDO\(databaseId)" }

    public init(
        databaseId: Int64, number: Int, title: String, state: State, stateReason: Reason? = nil, createdAt: Date,
        updatedAt: Date, closedAt: Date? = nil, author: FakeUser?, labels: [String] = [], comments: [FakeComment] = []
    ) {
        self.databaseId = databaseId
        self.number = number
        self.title = title
        self.state = state
        self.stateReason = stateReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.closedAt = closedAt
        self.author = author
        self.labels = labels
        self.comments = comments
    }
}
