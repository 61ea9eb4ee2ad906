import Foundation
import GitHub

/// Page sizes of one unit's requests, halved after a timeout and kept that small for the rest
/// of the unit (a stream whose pages time out at 29 will again at 29).
///
/// GitHub charges (connections requested) / 100 points per request, rounded, a connection
/// nested in a list counting once per `first` of the list (``RepositoryStream/connectionsPerNode``).
struct PageSizes {
    /// Sizes in the combined first request, each near the 90th percentile of its stream's
    /// length in an earlier reference estate, within 1 point: 1 + (1+6×10) + (1+4×6) + (1+2×14)
    /// + (1+1×18) + 2×(1+6) = 149 connections (pull requests carry their ready/draft
    /// transitions, open ones their reviews).
    static let firstDefaults = FirstPages.Sizes(
        commits: 100, pulls: 10, openPulls: 6, updatedIssues: 14, openIssues: 18,
        documentation: 6)

    let largest: Int
    var first: FirstPages.Sizes
    /// Per stream, the size a timeout brought it down to.
    private(set) var shrunk: [String: Int] = [:]

    init(pageSize: Int) {
        largest = pageSize
        let defaults = Self.firstDefaults
        first = FirstPages.Sizes(
            commits: pageSize, pulls: min(pageSize, defaults.pulls),
            openPulls: min(pageSize, defaults.openPulls), updatedIssues: min(pageSize, defaults.updatedIssues),
            openIssues: min(pageSize, defaults.openIssues), documentation: min(pageSize, defaults.documentation))
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

    /// Takes the smaller of each size a timeout left in `other` (a copy that read part of the
    /// unit alongside this one).
    mutating func absorb(_ other: PageSizes) {
        for (key, size) in other.shrunk { shrunk[key] = min(shrunk[key] ?? .max, size) }
    }

    mutating func shrink(key: String, from size: Int) -> Int? {
        guard size > 1 else { return nil }
        shrunk[key] = size / 2
        return size / 2
    }
}

extension RepositoryStream {
    /// The list of the combined first request that carries this stream's first page.
    var firstPagesList: FirstPages.List? {
        switch name {
        case RepositoryStream.pullRequestsUpdated.name: return .updatedPulls
        case RepositoryStream.pullRequestsOpen.name: return .openPulls
        case RepositoryStream.issuesUpdated.name: return .updatedIssues
        case RepositoryStream.issuesOpen.name: return .openIssues
        default: return nil
        }
    }
}
