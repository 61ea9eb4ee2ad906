import GitHubNodes
import Manifest

/// One paginated read of a repository: which operation, which nodes, how it ends.
struct RepositoryStream: Sendable, Hashable {
    enum Kind: String, Sendable {
        case commit, pullRequest = "pull_request", issue, documentation = "doc_commit"
        /// An inline comment on a pull request's diff, from the REST API.
        case reviewComment = "pull_request_review_comment"

        /// The raw kind of the stream's nodes: what refine reads them back as.
        var raw: RawKind {
            switch self {
            case .commit: return .commit
            case .pullRequest: return .pullRequest
            case .issue: return .issue
            case .documentation: return .documentationCommit
            case .reviewComment: return .reviewComment
            }
        }
    }

    /// Name in checkpoints and coverage.
    let name: String
    let kind: Kind
    /// Updated-since streams stop at the first node older than `since` (ordered newest first).
    let stopsAtSince: Bool
    /// The documentation path a documentation stream reads (without a trailing `/`).
    var path: String? = nil
    /// Open-item streams read summaries: no comments or files (the updated-since stream reads
    /// every item that changed in the window whole); an open pull request's reviews and
    /// ready/draft transitions are read, for what waits for review at the window's end.
    var readsSummaries = false

    /// Commit-history streams (commits and documentation): read from the commit the stream
    /// started at, so they are immutable while the branch moves, and end at the window's end.
    var readsHistory: Bool { kind == .commit || kind == .documentation }

    /// Pull request and issue streams, ordered by `updatedAt`, newest first: an item updated
    /// while they page moves to the head, behind the cursor, so a read over a changing
    /// repository ends with a look at the head (``Checkpoint/moved``).
    var isOrdered: Bool { kind == .pullRequest || kind == .issue }

    static func documentation(_ path: String) -> RepositoryStream {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return RepositoryStream(name: "documentation:" + trimmed, kind: .documentation, stopsAtSince: false, path: trimmed)
    }

    static let commits = RepositoryStream(name: "commits", kind: .commit, stopsAtSince: false)
    static let pullRequestsUpdated = RepositoryStream(name: "pull_requests_updated", kind: .pullRequest, stopsAtSince: true)
    static let pullRequestsOpen = RepositoryStream(
        name: "pull_requests_open", kind: .pullRequest, stopsAtSince: false,
        readsSummaries: true)
    static let issuesUpdated = RepositoryStream(name: "issues_updated", kind: .issue, stopsAtSince: false)
    static let issuesOpen = RepositoryStream(name: "issues_open", kind: .issue, stopsAtSince: false, readsSummaries: true)

    /// Inline review comments updated since the window start (REST: newest update first, 100
    /// per page). GraphQL offers them only nested under reviews or review threads, where they
    /// would cost a point per few pull requests.
    static let reviewComments = RepositoryStream(name: "review_comments", kind: .reviewComment, stopsAtSince: false)

    /// Connections GitHub counts per node of this stream's pages: a pull request has labels,
    /// commits, reviews, comments, files and ready/draft transitions (an open one's summary
    /// all but comments and files), an issue labels and comments (a summary labels), a
    /// documentation commit its parent; a commit none.
    var connectionsPerNode: Int {
        switch kind {
        case .pullRequest: return readsSummaries ? 4 : 6
        case .issue: return readsSummaries ? 1 : 2
        case .documentation: return 1
        case .commit, .reviewComment: return 0
        }
    }

    /// For an open-item stream, the updated-since stream that sees every change after its snapshot.
    var updatedCounterpart: RepositoryStream? {
        switch name {
        case RepositoryStream.pullRequestsOpen.name: return .pullRequestsUpdated
        case RepositoryStream.issuesOpen.name: return .issuesUpdated
        default: return nil
        }
    }

    /// For an updated-since stream, the open-item stream of the same kind.
    var openCounterpart: RepositoryStream? {
        switch name {
        case RepositoryStream.pullRequestsUpdated.name: return .pullRequestsOpen
        case RepositoryStream.issuesUpdated.name: return .issuesOpen
        default: return nil
        }
    }

    /// The streams a manifest's `github.collect` asks for, in the order they run.
    static func streams(for collect: [CollectKind], documentationPaths: [String]) -> [RepositoryStream] {
        var streams: [RepositoryStream] = []
        if collect.contains(.commits) { streams.append(.commits) }
        // Reviews, comments and changed files come nested in pull request (and issue) nodes.
        if collect.contains(.pull_requests) || collect.contains(.reviews) || collect.contains(.pull_request_files)
            || collect.contains(.comments)
        {
            streams += [.pullRequestsUpdated, .pullRequestsOpen]
        }
        if collect.contains(.issues) { streams += [.issuesUpdated, .issuesOpen] }
        // After the pull request streams: a repository none of whose pull requests changed
        // since the window start has no new review comments, and the REST request is skipped.
        if collect.contains(.review_comments) { streams.append(.reviewComments) }
        if collect.contains(.documentation) {
            var seen: Set<String> = []
            for path in documentationPaths {
                let stream = RepositoryStream.documentation(path)
                if !(stream.path ?? "").isEmpty, seen.insert(stream.name).inserted { streams.append(stream) }
            }
        }
        return streams
    }
}
