import Manifest

/// One paginated read of a repository: which operation, which nodes, how it ends.
struct Stream: Sendable, Hashable {
    enum Kind: String, Sendable {
        case commit, pullRequest = "pull_request", issue, documentation = "doc_commit"
        /// An inline comment on a pull request's diff, from the REST API.
        case reviewComment = "pull_request_review_comment"
    }

    /// Name in checkpoints and coverage.
    let name: String
    let kind: Kind
    /// Updated-since streams stop at the first node older than `since` (ordered newest first).
    let stopsAtSince: Bool
    /// Streams whose fetched range is recorded in `ingest_coverage`. For an open-item stream
    /// the range ends when its snapshot of every open item was taken.
    let tracksCoverage: Bool
    /// The documentation path a documentation stream reads (without a trailing `/`).
    var path: String? = nil
    /// Open-item streams read summaries: no reviews, comments or files (the updated-since
    /// stream reads every item that changed in the window whole).
    var readsSummaries = false

    /// Commit-history streams (commits and documentation) end at the window's end.
    var readsHistory: Bool { kind == .commit || kind == .documentation }

    static func documentation(_ path: String) -> Stream {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return Stream(name: "documentation:" + trimmed, kind: .documentation, stopsAtSince: false, tracksCoverage: true,
                      path: trimmed)
    }

    static let commits = Stream(name: "commits", kind: .commit, stopsAtSince: false, tracksCoverage: true)
    static let pullRequestsUpdated = Stream(
        name: "pull_requests_updated", kind: .pullRequest, stopsAtSince: true, tracksCoverage: true)
    static let pullRequestsOpen = Stream(
        name: "pull_requests_open", kind: .pullRequest, stopsAtSince: false, tracksCoverage: true, readsSummaries: true)
    static let issuesUpdated = Stream(name: "issues_updated", kind: .issue, stopsAtSince: false, tracksCoverage: true)
    static let issuesOpen = Stream(
        name: "issues_open", kind: .issue, stopsAtSince: false, tracksCoverage: true, readsSummaries: true)

    /// Connections GitHub counts per node of this stream's pages: a pull request has labels,
    /// commits, reviews, comments and files (a summary only the first two), an issue labels and
    /// comments (a summary labels), a documentation commit its parent; a commit none.
    var connectionsPerNode: Int {
        switch kind {
        case .pullRequest: return readsSummaries ? 2 : 5
        case .issue: return readsSummaries ? 1 : 2
        case .documentation: return 1
        case .commit, .reviewComment: return 0
        }
    }

    /// Inline review comments updated since the window start (REST: newest update first, 100
    /// per page). GraphQL offers them only nested under reviews or review threads, where they
    /// would cost a point per few pull requests.
    static let reviewComments = Stream(
        name: "review_comments", kind: .reviewComment, stopsAtSince: false, tracksCoverage: true)

    /// For an open-item stream, the updated-since stream that sees every change after its snapshot.
    var updatedCounterpart: Stream? {
        switch name {
        case Stream.pullRequestsOpen.name: return .pullRequestsUpdated
        case Stream.issuesOpen.name: return .issuesUpdated
        default: return nil
        }
    }

    /// The streams a manifest's `github.collect` asks for, in the order they run.
    static func streams(for collect: [CollectKind], documentationPaths: [String]) -> [Stream] {
        var streams: [Stream] = []
        if collect.contains(.commits) { streams.append(.commits) }
        // Reviews, comments and changed files come nested in pull request (and issue) nodes.
        if collect.contains(.pull_requests) || collect.contains(.reviews) || collect.contains(.pull_request_files)
            || collect.contains(.comments) {
            streams += [.pullRequestsUpdated, .pullRequestsOpen]
        }
        if collect.contains(.issues) { streams += [.issuesUpdated, .issuesOpen] }
        // After the pull request streams: a repository none of whose pull requests changed
        // since the window start has no new review comments, and the REST request is skipped.
        if collect.contains(.review_comments) { streams.append(.reviewComments) }
        if collect.contains(.documentation) {
            var seen: Set<String> = []
            for path in documentationPaths {
                let stream = Stream.documentation(path)
                if !(stream.path ?? "").isEmpty, seen.insert(stream.name).inserted { streams.append(stream) }
            }
        }
        return streams
    }
}
