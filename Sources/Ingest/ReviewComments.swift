import Foundation
import GitHub
import GitHubNodes
import JSON
import Manifest
import Pipeline

extension IngestSession {
    /// REST list pages hold at most 100 items.
    static let restPageSize = 100

    /// Pages the REST list of inline review comments updated since the stream's `since`, newest
    /// update first: an update during the read moves a comment to the front (read again by the
    /// next run, whose `since` is this read's start), so pages shift towards the end and nothing
    /// is skipped.
    mutating func pageReviewComments(_ pending: inout PendingStream) async throws {
        let stream = pending.stream
        var checkpoint = pending.checkpoint
        if checkpoint.pages == 0, let pulls = try store.checkpoint(.pullRequestsUpdated), pulls.done, pulls.nodes == 0,
            pulls.since <= checkpoint.since
        {
            // Writing a review comment moves its pull request's `updatedAt`; no pull request
            // changed since `since`, so neither did any review comment.
            checkpoint.done = true
            try store.save(PageWrite(stream: stream, checkpoint: checkpoint, coverage: (started, nil)))
            pending.checkpoint = checkpoint
            add("review_comments_skipped", 1)
            return
        }
        let path = "repos/\(repository.owner)/\(repository.name)/pulls/comments"
        let query = [
            URLQueryItem(name: "sort", value: "updated"), URLQueryItem(name: "direction", value: "desc"),
            URLQueryItem(name: "since", value: Timestamp.seconds(checkpoint.since)),
            URLQueryItem(name: "per_page", value: String(Self.restPageSize)),
        ]
        while !checkpoint.done {
            var cost = CallCost()
            let page: RESTPage
            do {
                defer { count(cost, alsoAs: ["rest_requests"]) }
                page = try await client.list(
                    path, query: query, next: checkpoint.cursor.flatMap(URL.init(string:)), cost: &cost,
                    item: { item throws(Malformed) in _ = try ReviewCommentNode(json: item) },
                    events: reportWaits(stream.name, limit: "REST rate limit"))
            }
            if page.next != nil && page.items.count < Self.restPageSize {
                try store.restart(stream, checkpoint.restarted())
                throw IngestFailure(
                    code: "incomplete",
                    message: """
                        \(stream.name): GitHub sent \(page.items.count) of \(Self.restPageSize) items on a page that is \
                        not the last; the unit fails rather than report a gap (a rerun reads the stream again)
                        """)
            }
            var rows: [RawRow] = []
            for item in page.items {
                guard let id = item["id"]?.int else {
                    throw IngestFailure(code: "malformed", message: "\(stream.name): a review comment has no id")
                }
                rows.append(
                    RawRow(
                        kind: stream.kind.raw, key: String(id), payload: Self.reviewCommentNode(item),
                        operation: stream.name, cursor: checkpoint.cursor))
            }
            checkpoint.pages += 1
            checkpoint.nodes += Int64(rows.count)
            checkpoint.cursor = page.next?.absoluteString ?? checkpoint.cursor
            checkpoint.done = page.next == nil
            add("pages", 1)
            add(stream.kind.rawValue + "s", Int64(rows.count))
            let inserted = try store.save(
                PageWrite(
                    stream: stream, checkpoint: checkpoint, rows: rows,
                    coverage: checkpoint.done ? (started, nil) : nil))
            add("new_nodes", Int64(inserted))
            pending.checkpoint = checkpoint
            context.progress("\(stream.name) page \(checkpoint.pages) · \(checkpoint.nodes) nodes")
        }
    }

    /// The fields of a REST review comment that refine reads: identity, author, times, where it
    /// sits (pull request, review, reply-to, file). Bodies, diff hunks and links are not stored.
    static func reviewCommentNode(_ item: JSONValue) -> JSONValue {
        var node: [String: JSONValue] = [:]
        for key in [
            "id", "node_id", "pull_request_review_id", "in_reply_to_id", "created_at", "updated_at", "path",
            "pull_request_url",
        ] {
            if let value = item[key] { node[key] = value }
        }
        if let user = item["user"], !user.isNull {
            node["user"] = .object(["login": user["login"] ?? .null, "type": user["type"] ?? .null])
        } else {
            node["user"] = .null
        }
        return .object(node)
    }
}
