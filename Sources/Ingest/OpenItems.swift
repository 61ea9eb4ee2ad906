import Foundation
import GitHub
import GitHubNodes
import JSON
import Manifest
import Pipeline
import Store

extension IngestSession {
    /// Node ids resolved per request, at most (GitHub's `nodes(ids:)` takes 100).
    static let itemsPerRequest = 100

    /// Confirms a unit's open items once its updated-since streams are read.
    ///
    /// An open-item snapshot reused from an earlier run stands only when GitHub counts as many
    /// open items as ingest believes open (an item transferred, deleted or converted to a
    /// discussion leaves its repository without moving anything else); otherwise every open item
    /// is read again. After a complete read, items believed open that it did not list are
    /// looked up by node id: still here (then stored as they are now), or gone — transferred to
    /// another repository, converted to a discussion, deleted — and marked so, with when and
    /// why, so that they stop counting as outstanding.
    mutating func reconcileOpenItems(_ pending: inout [PendingStream]) async throws {
        for index in pending.indices where pending[index].stream.updatedCounterpart != nil {
            let stream = pending[index].stream
            if pending[index].reusesSnapshot {
                let believed = try store.believedOpen(stream.kind)
                if let counted = openCounts[stream.kind], counted == believed {
                    var done = pending[index].checkpoint
                    done.done = true
                    done.total = counted
                    try store.save(PageWrite(stream: stream, checkpoint: done))
                    pending[index].checkpoint = done
                    add("open_snapshot_reused", 1)
                    continue
                }
                // The counts disagree: read every open item again, and see which left.
                context.progress(
                    "\(stream.name): GitHub counts \(openCounts[stream.kind].map(String.init) ?? "?") open, "
                        + "ingest believes \(believed); reading them again")
                pending[index].reusesSnapshot = false
                pending[index].checkpoint = Checkpoint(since: pending[index].checkpoint.since)
                add("open_snapshot_retaken", 1)
                try await page(&pending[index])
            }
            if pending[index].checkpoint.done {
                try await resolveUnlisted(stream)
            }
        }
    }

    /// Looks up, by node id, the items believed open that the stream's complete read did not list.
    mutating func resolveUnlisted(_ stream: RepositoryStream) async throws {
        var unlisted = try store.unlisted(stream)
        while !unlisted.isEmpty {
            let size = sizes.cap("items", default: Self.itemsPerRequest)
            let batch = Array(unlisted.prefix(size))
            var cost = CallCost()
            let answer: PartialResult
            do {
                defer { count(cost, alsoAs: ["resolve_requests"]) }
                answer = try await client.executeBatch(
                    NodeLookup(pullRequests: stream.kind == .pullRequest, ids: batch.map(\.nodeId)), cost: &cost,
                    shrinkable: size > 1,
                    events: reportWaits("\(stream.name): items no longer listed"))
            } catch let error as GitHubError where error.code == .timeout {
                guard sizes.shrink(key: "items", from: size) != nil else { throw error }
                add("page_size_reductions", 1)
                continue
            }
            let nodes = answer.data["nodes"]?.array ?? []
            let now = Date()
            var rows: [RawRow] = []
            var items: [ItemState] = []
            for (position, item) in batch.enumerated() {
                let node = position < nodes.count ? nodes[position] : JSONValue.null
                let typename = node["__typename"]?.string
                let home = node["repository"]?["nameWithOwner"]?.string
                if typename == "Issue" || typename == "PullRequest", let home, home.lowercased() == repository.slug.lowercased() {
                    // Still here: its state changed while the open items were read. Store it as it is now.
                    rows.append(
                        RawRow(
                            kind: stream.kind.raw, key: item.key, payload: node, operation: "ResolveItems",
                            cursor: nil, checked: true))
                    if let state = itemState(node, kind: stream.kind, key: item.key) { items.append(state) }
                    add("resolved_items", 1)
                    continue
                }
                let reason: String
                var detail: JSONValue = .null
                switch typename {
                case "Issue", "PullRequest":
                    reason = "transferred"
                    let target = "\(home ?? "another repository")#\(node["number"]?.int.map(String.init) ?? "?")"
                    detail = .string(target)
                case "Discussion":
                    reason = "converted_to_discussion"
                    detail = .string("\(home ?? repository.slug)#\(node["number"]?.int.map(String.init) ?? "?")")
                default:
                    reason = "deleted"
                }
                rows.append(
                    RawRow(
                        kind: .gone, key: stream.kind.rawValue + ":" + item.key,
                        payload: [
                            "kind": .string(stream.kind.rawValue), "key": .string(item.key), "node_id": .string(item.nodeId),
                            "number": .int(item.number), "reason": .string(reason), "moved_to": detail,
                            "detected_at": .string(Timestamp.string(now)),
                        ], operation: "ResolveItems", cursor: nil))
                items.append(
                    ItemState(
                        kind: stream.kind.rawValue, key: item.key, nodeId: item.nodeId, number: item.number,
                        state: "GONE", updatedAt: now))
                add("gone_items", 1)
                context.progress("\(stream.kind.rawValue) #\(item.number) is gone (\(reason))")
            }
            var write = PageWrite(stream: stream, checkpoint: try store.checkpoint(stream) ?? Checkpoint(since: base))
            write.rows = rows
            write.items = items
            add("new_nodes", Int64(try store.save(write)))
            unlisted.removeFirst(batch.count)
        }
    }
}
