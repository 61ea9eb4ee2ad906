import Foundation
import GitHub
import JSON
import Store

/// Page sizes of one unit's requests, halved after a timeout and kept that small for the rest
/// of the unit (a stream whose pages time out at 29 will again at 29).
///
/// GitHub charges (connections requested) / 100 points per request, rounded, a connection
/// nested in a list counting once per `first` of the list (``RepositoryStream/connectionsPerNode``).
struct PageSizes {
    /// Sizes in the combined first request, each near the 90th percentile of its stream's
    /// length in the reference estate (`make bench`): 1 + (1+5×12) + (1+2×12) + (1+2×14) +
    /// (1+1×18) + 2×(1+6) = 149 connections, 1 point.
    struct First: Equatable {
        var commits: Int
        var pulls = 12
        var openPulls = 12
        var updatedIssues = 14
        var openIssues = 18
        var documentation = 6

        /// Every size halved (1 at least); nil when all are 1 already.
        func halved() -> First? {
            let next = First(commits: max(1, commits / 2), pulls: max(1, pulls / 2), openPulls: max(1, openPulls / 2),
                             updatedIssues: max(1, updatedIssues / 2), openIssues: max(1, openIssues / 2),
                             documentation: max(1, documentation / 2))
            return next == self ? nil : next
        }
    }

    let largest: Int
    var first: First
    /// Per stream, the size a timeout brought it down to.
    private(set) var shrunk: [String: Int] = [:]

    init(pageSize: Int) {
        largest = pageSize
        let defaults = First(commits: pageSize)
        first = First(commits: pageSize, pulls: min(pageSize, defaults.pulls), openPulls: min(pageSize, defaults.openPulls),
                      updatedIssues: min(pageSize, defaults.updatedIssues), openIssues: min(pageSize, defaults.openIssues),
                      documentation: min(pageSize, defaults.documentation))
    }

    /// The largest page of `stream` that costs 1 point: the list (1 connection) and its nodes'
    /// nested ones (first × nested), and for the ordered streams the head — 1, and 1 + nested
    /// for its newest item whole (``GitHub/Operation/sentinel(_:filter:fragment:)``) — at most
    /// 149 in all.
    static func onePointPageSize(_ stream: RepositoryStream) -> Int {
        let nested = stream.connectionsPerNode
        let head = stream.isOrdered ? 2 + nested : 1
        return min(100, (148 - head) / max(1, nested))
    }

    /// The size to ask for: the largest page that still costs 1 point, within the manifest's
    /// `page_size` and what a timeout left of it.
    func size(_ stream: RepositoryStream) -> Int {
        min(largest, Self.onePointPageSize(stream), shrunk[stream.name] ?? .max)
    }

    /// After a timeout at `size`: half of it, or nil at 1 (then the request is retried as is).
    mutating func shrink(_ stream: RepositoryStream, from size: Int) -> Int? {
        guard size > 1 else { return nil }
        shrunk[stream.name] = size / 2
        return size / 2
    }

    /// The cap a timeout left for a key other than a stream (nested lists, tree batches).
    func cap(_ key: String, default value: Int) -> Int { min(value, shrunk[key] ?? .max) }

    mutating func shrink(key: String, from size: Int) -> Int? {
        guard size > 1 else { return nil }
        shrunk[key] = size / 2
        return size / 2
    }
}

/// The variables of ``GitHub/Operation/firstPages(_:)`` for one repository.
struct FirstPagesRequest {
    var owner: String
    var name: String
    /// The manifest's branch; nil: GitHub's default branch.
    var branch: String?
    var until: Date
    var commitsSince: Date?
    var updatedPulls = false
    var openPulls = false
    var issuesSince: Date?
    var openIssues = false
    /// Documentation paths in the request's slots, with where each starts.
    var documentation: [(path: String, since: Date)] = []
    var sizes: PageSizes.First

    var operation: GitHub.Operation { .firstPages(branch == nil ? .repositoryDefault : .named) }

    /// Aliases of the request's connections, by stream.
    static let aliases = [
        RepositoryStream.pullRequestsUpdated.name: "updatedPulls", RepositoryStream.pullRequestsOpen.name: "openPulls",
        RepositoryStream.issuesUpdated.name: "updatedIssues", RepositoryStream.issuesOpen.name: "openIssues",
    ]

    var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "owner": .string(owner), "name": .string(name),
            "since": .string(GitHubTime.string(commitsSince ?? until)), "until": .string(GitHubTime.string(until)),
            "issuesSince": .string(GitHubTime.string(issuesSince ?? until)),
            "commitsFirst": .int(Int64(sizes.commits)), "first": .int(Int64(sizes.pulls)),
            "openPullsFirst": .int(Int64(sizes.openPulls)), "updatedIssuesFirst": .int(Int64(sizes.updatedIssues)),
            "openIssuesFirst": .int(Int64(sizes.openIssues)), "docsFirst": .int(Int64(sizes.documentation)),
            "withCommits": .bool(commitsSince != nil), "withUpdatedPulls": .bool(updatedPulls),
            "withOpenPulls": .bool(openPulls), "withUpdatedIssues": .bool(issuesSince != nil),
            "withOpenIssues": .bool(openIssues),
        ]
        if let branch { variables["ref"] = .string("refs/heads/" + branch) }
        for slot in 0..<GitHub.Operation.documentationSlots {
            let assigned = slot < documentation.count ? documentation[slot] : nil
            variables["withDoc\(slot)"] = .bool(assigned != nil)
            variables["doc\(slot)Path"] = .string(assigned?.path ?? "")
            variables["doc\(slot)Since"] = .string(GitHubTime.string(assigned?.since ?? until))
        }
        return variables
    }
}

/// Timestamps as GitHub's GraphQL API takes them: `2026-11-13T00:00:00Z`.
enum GitHubTime {
    static func string(_ date: Date) -> String {
        let text = Timestamp.string(date)
        // Drop the milliseconds: `2026-11-13T00:00:00.000Z` → `2026-11-13T00:00:00Z`.
        return String(text.prefix(19)) + "Z"
    }
}
