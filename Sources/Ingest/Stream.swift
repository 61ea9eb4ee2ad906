import Manifest

/// One paginated read of a repository: which operation, which nodes, how it ends.
struct Stream: Sendable, Hashable {
    enum Kind: String, Sendable {
        case commit, pullRequest = "pull_request", issue
    }

    /// Name in checkpoints and coverage.
    let name: String
    let kind: Kind
    /// Updated-since streams stop at the first node older than `since` (ordered newest first).
    let stopsAtSince: Bool
    /// Open-item streams are re-read every run; they have no coverage.
    let tracksCoverage: Bool

    static let commits = Stream(name: "commits", kind: .commit, stopsAtSince: false, tracksCoverage: true)
    static let pullRequestsUpdated = Stream(
        name: "pull_requests_updated", kind: .pullRequest, stopsAtSince: true, tracksCoverage: true)
    static let pullRequestsOpen = Stream(
        name: "pull_requests_open", kind: .pullRequest, stopsAtSince: false, tracksCoverage: false)
    static let issuesUpdated = Stream(name: "issues_updated", kind: .issue, stopsAtSince: false, tracksCoverage: true)
    static let issuesOpen = Stream(name: "issues_open", kind: .issue, stopsAtSince: false, tracksCoverage: false)

    /// The streams a manifest's `github.collect` asks for, in the order they run.
    static func streams(for collect: [CollectKind]) -> [Stream] {
        var streams: [Stream] = []
        if collect.contains(.commits) || collect.contains(.documentation) { streams.append(.commits) }
        if collect.contains(.pull_requests) { streams += [.pullRequestsUpdated, .pullRequestsOpen] }
        if collect.contains(.issues) { streams += [.issuesUpdated, .issuesOpen] }
        return streams
    }
}
