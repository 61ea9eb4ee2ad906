public import Foundation

/// A generated GitHub estate: what the fake server serves and what tests check results against.
public struct FakeEstate: Sendable {
    public var repositories: [FakeRepository]
    /// The window the estate was generated around: [end − days, end).
    public let windowStart: Date
    public let windowEnd: Date

    public func repository(owner: String, name: String) -> FakeRepository? {
        repositories.first { $0.owner.lowercased() == owner.lowercased() && $0.name.lowercased() == name.lowercased() }
    }
}

public struct FakeRepository: Sendable {
    public var owner: String
    public var name: String
    public var defaultBranch: String
    public var documentationPaths: [String]
    /// Newest first, as `history` returns them.
    public var commits: [FakeCommit]
    public var pullRequests: [FakePullRequest]
    public var issues: [FakeIssue]

    public var slug: String { "\(owner)/\(name)" }
    public var isEmpty: Bool { commits.isEmpty }
}

public struct FakeUser: Sendable, Hashable {
    public var login: String
    public var name: String
    public var email: String
    public var isBot: Bool { login.hasSuffix("[bot]") }
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
    /// Whether the author's email maps to a GitHub account.
    public var linked: Bool
    /// Files touched, for documentation changes.
    public var paths: [String]
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
    public var author: FakeUser?
    public var labels: [String]
    public var commitCount: Int
    public var reviews: [FakeReview] = []
    public var comments: [FakeComment] = []
    public var files: [FakeFile] = []
    /// Inline comments on the diff; each belongs to one of `reviews`, by the review's author.
    public var reviewComments: [FakeReviewComment] = []
}

public struct FakeReviewComment: Sendable {
    public var databaseId: Int64
    public var reviewId: Int64
    public var inReplyTo: Int64?
    public var author: FakeUser?
    public var path: String
    public var createdAt: Date
    public var updatedAt: Date
}

public struct FakeReview: Sendable {
    public var databaseId: Int64
    public var author: FakeUser?
    public var state: String
    public var submittedAt: Date
}

public struct FakeComment: Sendable {
    public var databaseId: Int64
    public var author: FakeUser?
    public var createdAt: Date
}

public struct FakeFile: Sendable {
    public var path: String
    public var additions: Int
    public var deletions: Int
    public var changeType: String
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
}
