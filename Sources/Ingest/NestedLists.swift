import Foundation
import GitHub
import GitHubNodes
import JSON
import Manifest
import Pipeline
import Store

extension IngestSession {
    /// GitHub lists at most this many files of a pull request (REST docs, *List pull requests
    /// files*: "Responses include a maximum of 3000 files"; GraphQL's `files` the same).
    static let fileListCap: Int64 = 3_000

    /// A pull request's ready/draft transitions: a list filtered by `itemTypes`, which GitHub's
    /// `totalCount` does not count (``GitHubNodes/FilteredList``).
    static let timelineField = "timelineItems"

    /// Nested lists of one page's items read at once, at most: a busy repository's page can hold
    /// several items with long lists, and one item's list is one chain of cursors, so reading
    /// them side by side shortens the unit to its longest list. Every request still passes the
    /// credential's gate (`github.max_requests_in_flight`).
    static let nestedListsAtOnce = 4

    /// Reads the nested lists of `items` that did not fit their page
    /// (``nestedOverflow(of:key:stream:)``), up to ``nestedListsAtOnce`` at a time, each on a copy
    /// of the session (``forked()``) whose counters and page sizes are added back as it ends. A
    /// failure cancels the others and fails the unit, whose rerun continues each list at its
    /// checkpoint.
    mutating func readNested(_ items: [(node: JSONValue, key: String)], stream: RepositoryStream) async throws {
        let overflowing = items.filter { !Self.nestedFields(of: $0.node, stream: stream).isEmpty }
        guard overflowing.count > 1 else {
            for item in overflowing { try await nestedOverflow(of: item.node, key: item.key, stream: stream) }
            return
        }
        let base = forked()
        // A list that fails (the budget spent, say) does not cancel the others: those under way
        // finish and keep what they read, so a rerun continues from there instead of reading
        // them again; no new one starts, and the first failure is the unit's.
        var failure: (any Error)?
        await withTaskGroup(of: (IngestSession, (any Error)?).self) { group in
            var next = 0
            func launch() {
                let item = overflowing[next]
                next += 1
                group.addTask {
                    var session = base
                    do {
                        try await session.nestedOverflow(of: item.node, key: item.key, stream: stream)
                        return (session, nil)
                    } catch {
                        return (session, error)
                    }
                }
            }
            while next < min(Self.nestedListsAtOnce, overflowing.count) { launch() }
            while let (ended, error) = await group.next() {
                absorb(ended)
                if let error, failure == nil { failure = error }
                if failure == nil && next < overflowing.count { launch() }
            }
        }
        if let failure { throw failure }
    }

    /// Adds what a copy of the session did (``readNested(_:stream:)``) to this one.
    mutating func absorb(_ copy: IngestSession) {
        for (key, value) in copy.counters { add(key, value) }
        for warning in copy.warnings { warn(warning) }
        sizes.absorb(copy.sizes)
    }

    /// The nested lists of `node` that hold more than its page carried: (field, raw kind).
    static func nestedFields(of node: JSONValue, stream: RepositoryStream) -> [(field: String, kind: RawKind)] {
        let nested: [(field: String, kind: RawKind)]
        switch stream.kind {
        case .pullRequest:
            nested = [
                ("reviews", .pullRequestReview), ("comments", .pullRequestComment), ("files", .pullRequestFile),
                (Self.timelineField, .pullRequestDraftEvent),
            ]
        case .issue:
            nested = [("comments", .issueComment)]
        case .commit, .documentation, .reviewComment:
            return []
        }
        return nested.filter { field, _ in
            guard let connection = node[field], let total = connection["totalCount"]?.int,
                let read = connection["nodes"]?.array?.count
            else { return false }
            // A timeline's `totalCount` counts every item, whatever `itemTypes` keeps.
            if field == Self.timelineField { return connection["pageInfo"]?["hasNextPage"]?.bool == true }
            return total > read
        }
    }

    /// Nested connections that did not fit their first page (a pull request's reviews,
    /// comments, files or ready/draft transitions; an issue's comments), read whole and stored one node per row.
    ///
    /// Each connection is read with a checkpoint of its own (`nested:KIND:KEY`), page by page, so
    /// a page whose nested reads outlast the rate-limit budget still makes progress: the rerun
    /// lands the page again, skips the connections already read whole and continues the one it
    /// was in. Its pages shrink after a timeout like any other.
    mutating func nestedOverflow(of node: JSONValue, key: String, stream: RepositoryStream) async throws {
        guard let number = node["number"]?.int else { return }
        for (field, kind) in Self.nestedFields(of: node, stream: stream) {
            guard let total = node[field]?["totalCount"]?.int else { continue }
            let progress = RepositoryStream(name: "nested:\(kind.rawValue):\(key)", kind: stream.kind, stopsAtSince: false)
            var checkpoint = try store.checkpoint(progress) ?? Checkpoint(since: context.window.start)
            if checkpoint.done {
                if checkpoint.total == total { continue }
                // The list changed since it was read whole: read it again.
                checkpoint = checkpoint.restarted()
                try store.restart(progress, checkpoint)
            }
            let operation: GitHub.Operation = stream.kind == .pullRequest ? .pullRequestConnection : .issueComments
            var lastTotal = checkpoint.total ?? total
            while true {
                let size = sizes.cap("nested", default: 100)
                let request = NestedPage(
                    owner: repository.owner, name: repository.name, number: number,
                    list: stream.kind == .pullRequest
                        ? (field == Self.timelineField ? .timeline : NestedPage.List(rawValue: field) ?? .reviews)
                        : .issueComments,
                    first: size, after: checkpoint.cursor)
                var cost = CallCost()
                let data: JSONValue
                do {
                    defer {
                        count(cost, alsoAs: ["nested_requests"])
                        checkpoint.requests += Int64(cost.requests)
                        checkpoint.points += Int64(cost.points)
                    }
                    data = try await client.execute(
                        request, cost: &cost, shrinkable: size > 1,
                        events: reportWaits("#\(number) \(field)"))
                } catch let error as GitHubError where error.code == .timeout {
                    guard sizes.shrink(key: "nested", from: size) != nil else { throw error }
                    add("page_size_reductions", 1)
                    continue
                }
                let parent = stream.kind == .pullRequest ? data["repository"]?["pullRequest"] : data["repository"]?["issue"]
                guard let page = parent?[field], let items = page["nodes"]?.array,
                    let hasNext = page["pageInfo"]?["hasNextPage"]?.bool
                else {
                    throw GitHubError(
                        .malformed, "GitHub's \(field) page for #\(number) does not have the expected shape",
                        retryable: true)
                }
                lastTotal = page["totalCount"]?.int ?? lastTotal
                var rows: [RawRow] = []
                var keys: [String] = []
                for item in items {
                    let itemKey =
                        Self.databaseId(item).map(String.init) ?? item["path"]?.string ?? item["id"]?.string ?? item.canonical
                    keys.append(itemKey)
                    rows.append(
                        RawRow(
                            kind: kind, key: key + ":" + itemKey, payload: item, operation: operation.name,
                            cursor: checkpoint.cursor, checked: true))
                }
                checkpoint.pages += 1
                checkpoint.nodes += Int64(items.count)
                checkpoint.total = lastTotal
                checkpoint.cursor = page["pageInfo"]?["endCursor"]?.string ?? checkpoint.cursor
                // Every page is stored with its checkpoint: a list longer than the budget still
                // makes progress, and a rerun continues where this one stopped.
                add(
                    "new_nodes",
                    Int64(
                        try store.save(
                            PageWrite(
                                stream: progress, checkpoint: checkpoint, rows: rows,
                                seen: keys))))
                if hasNext && page["pageInfo"]?["endCursor"]?.string != nil { continue }
                // Items may be added while this reads (they append), or removed: the list read must
                // hold at least what GitHub counted at its end. GitHub lists at most 3,000 files of
                // a pull request; a list that stops there is complete as far as GitHub goes.
                let listed = try store.seen(progress)
                let capped = field == "files" && listed >= Self.fileListCap
                // A filtered timeline has no count of its own to check against: it is whole
                // when GitHub says there is no next page.
                guard listed >= lastTotal || capped || field == Self.timelineField else {
                    try store.restart(progress, checkpoint.restarted())
                    throw IngestFailure(
                        code: "incomplete",
                        message: """
                            \(stream.kind.rawValue) #\(number) has \(lastTotal) \(field) and ingest listed \(listed); \
                            the unit fails rather than report a gap (a rerun reads the list again)
                            """)
                }
                add(kind.rawValue + "s", listed)
                checkpoint.done = true
                checkpoint.total = total
                try store.save(PageWrite(stream: progress, checkpoint: checkpoint))
                break
            }
        }
    }
}
