import Foundation
import JSON

/// GitHub's objects as the fake serves them: every field it models, with `__typename` (for
/// fragments and `__typename` selections) and, in lists, a `__sort` key; the query's
/// selection decides what a client sees (``QueryDocument/project(_:_:variables:)``).
enum Nodes {
    /// GitHub lists at most this many files of a pull request ("Responses include a maximum of
    /// 3000 files", REST docs: *List pull requests files*; GraphQL's `files` the same).
    static let fileListCap = 3_000

    // MARK: Sort keys and connections

    /// A key that increases along a list ordered by `updatedAt`, newest first (then number).
    static func newestFirst(_ date: Date, _ number: Int) -> String {
        String(
            format: "%020lld%012lld", Int64.max - Int64(date.timeIntervalSince1970.rounded(.down)),
            Int64(Int32.max) - Int64(number))
    }

    static func ascending(_ value: Int64) -> String { String(format: "%020lld", value) }

    /// A connection for the projection to page: every node in list order, each with its key.
    static func connection(_ nodes: [JSONValue], keys: [String], totalCount: Int? = nil) -> JSONValue {
        let keyed = zip(nodes, keys).map { node, key -> JSONValue in
            guard case .object(var object) = node else { return node }
            object["__sort"] = .string(key)
            return .object(object)
        }
        return ["__all": .array(keyed), "totalCount": .int(Int64(totalCount ?? nodes.count))]
    }

    // MARK: Actors

    /// An `Actor` as GraphQL returns it: `User` or `Bot` (a Bot's login without `[bot]`), or
    /// null for a deleted account (the web shows it as `ghost`).
    static func actor(_ user: FakeUser?) -> JSONValue {
        user.map { ["__typename": .string($0.kind.rawValue), "login": .string($0.login)] } ?? .null
    }

    /// A REST `user`: a Bot's login with `[bot]` and `type: Bot`; a deleted account is GitHub's
    /// `ghost` user.
    static func restUser(_ user: FakeUser?) -> JSONValue {
        guard let user else { return ["login": "ghost", "type": "User", "id": 10137] }
        return ["login": .string(user.restLogin), "type": .string(user.kind.rawValue)]
    }

    /// `databaseId` is a GraphQL `Int` (32 bits): beyond that GitHub cannot answer it (and it
    /// is deprecated where ids grew past 2³¹); `fullDatabaseId` is a `BigInt`, sent as a string.
    static func ids(_ id: Int64, into node: inout [String: JSONValue]) {
        node["fullDatabaseId"] = .string(String(id))
        node["databaseId"] = id <= Int64(Int32.max) ? .int(id) : .null
    }

    // MARK: Repositories and commits

    static func repository(_ repo: FakeRepository) -> [String: JSONValue] {
        var node: [String: JSONValue] = [
            "__typename": "Repository", "id": .string("R_\(FakeGit.oid("repository", repo.slug).prefix(12))"),
            "nameWithOwner": .string(repo.slug), "isEmpty": .bool(repo.isEmpty), "isArchived": .bool(repo.isArchived),
            "isFork": .bool(repo.isFork), "visibility": .string(repo.visibility),
            "pushedAt": optionalTime(repo.pushedAt),
        ]
        // The tip's history as a count: what a query asking only `totalCount` of it gets (the
        // commits themselves are answered where a query pages through them).
        node["defaultBranchRef"] =
            repo.tip.map { tip in
                [
                    "name": .string(repo.defaultBranch),
                    "target": [
                        "__typename": "Commit", "oid": .string(tip.oid),
                        "history": ["totalCount": .int(Int64(repo.landed.count))],
                    ],
                ]
            } ?? .null
        return node
    }

    static func commit(_ commit: FakeCommit) -> [String: JSONValue] {
        var node: [String: JSONValue] = ["__typename": "Commit"]
        node["oid"] = .string(commit.oid)
        let headline = commit.message.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
        node["messageHeadline"] = .string(String(headline))
        node["message"] = .string(commit.message)
        node["authoredDate"] = .string(time(commit.authoredDate))
        node["committedDate"] = .string(time(commit.committedDate))
        node["additions"] = .int(Int64(commit.additions))
        node["deletions"] = .int(Int64(commit.deletions))
        node["changedFilesIfAvailable"] = .int(Int64(commit.changedFiles))
        var author: [String: JSONValue] = ["name": .string(commit.author.name), "email": .string(commit.author.email)]
        // `GitActor.user` is a `User`: a Bot is never linked; an email no account claims isn't either.
        author["user"] =
            commit.linked && !commit.author.isBot
            ? .object(["__typename": "User", "login": .string(commit.author.login)]) : .null
        node["author"] = .object(author)
        return node
    }

    /// A tree entry (`file(path:)` or an entry of a tree), with its object's id and type.
    static func entry(_ entry: FakeGit.Entry, path: String, git: FakeGit) -> JSONValue {
        var object: [String: JSONValue] = ["__typename": entry.type == "tree" ? "Tree" : "Blob", "oid": .string(entry.oid)]
        if entry.type == "tree" {
            // One level of entries: deeper levels are read by object id (`object(oid:)`).
            object["entries"] = .array(
                (git.trees[entry.oid] ?? []).map { child in
                    [
                        "name": .string(child.name), "path": .string(path + "/" + child.name), "oid": .string(child.oid),
                        "type": .string(child.type),
                        "object": [
                            "__typename": child.type == "tree" ? "Tree" : "Blob",
                            "oid": .string(child.oid),
                        ],
                    ]
                })
        }
        return [
            "name": .string(String(path.split(separator: "/").last ?? "")), "path": .string(path),
            "oid": .string(entry.oid), "type": .string(entry.type), "object": .object(object),
        ]
    }

    /// A tree by object id: its entries by name (a tree has no path of its own).
    static func tree(_ oid: String, git: FakeGit) -> JSONValue {
        guard let entries = git.trees[oid] else { return .null }
        return [
            "__typename": "Tree", "oid": .string(oid),
            "entries": .array(
                entries.map { entry in
                    [
                        "name": .string(entry.name), "oid": .string(entry.oid), "type": .string(entry.type),
                        "object": ["__typename": entry.type == "tree" ? "Tree" : "Blob", "oid": .string(entry.oid)],
                    ]
                }),
        ]
    }

    // MARK: Pull requests and issues

    static func pullRequest(_ pull: FakePullRequest, repository slug: String) -> JSONValue {
        var node: [String: JSONValue] = ["__typename": "PullRequest", "id": .string(pull.nodeId)]
        ids(pull.databaseId, into: &node)
        node["number"] = .int(Int64(pull.number))
        node["title"] = .string(pull.title)
        node["state"] = .string(pull.state.rawValue)
        node["isDraft"] = .bool(pull.isDraft)
        node["createdAt"] = .string(time(pull.createdAt))
        node["updatedAt"] = .string(time(pull.updatedAt))
        node["mergedAt"] = optionalTime(pull.mergedAt)
        node["closedAt"] = optionalTime(pull.closedAt)
        node["baseRefName"] = .string(pull.baseRefName)
        node["headRefName"] = .string(pull.headRefName)
        node["additions"] = .int(Int64(pull.additions))
        node["deletions"] = .int(Int64(pull.deletions))
        node["changedFiles"] = .int(Int64(pull.changedFiles))
        node["author"] = actor(pull.author)
        node["labels"] = labels(pull.labels)
        node["commits"] = ["totalCount": .int(Int64(pull.commitCount))]
        node["reviews"] = connection(
            pull.reviews.sorted { $0.databaseId < $1.databaseId }.map(review),
            keys: pull.reviews.map(\.databaseId).sorted().map(ascending))
        node["comments"] = connection(
            pull.comments.sorted { $0.databaseId < $1.databaseId }.map(comment),
            keys: pull.comments.map(\.databaseId).sorted().map(ascending))
        let listed = Array(pull.files.sorted { $0.path < $1.path }.prefix(fileListCap))
        node["files"] = connection(listed.map(file), keys: listed.map(\.path))
        node["timelineItems"] = timeline(pull)
        node["repository"] = ["nameWithOwner": .string(slug)]
        return .object(node)
    }

    static func issue(_ issue: FakeIssue, repository slug: String) -> JSONValue {
        var node: [String: JSONValue] = ["__typename": "Issue", "id": .string(issue.nodeId)]
        ids(issue.databaseId, into: &node)
        node["number"] = .int(Int64(issue.number))
        node["title"] = .string(issue.title)
        node["state"] = .string(issue.state.rawValue)
        node["stateReason"] = issue.stateReason.map { JSONValue.string($0.rawValue) } ?? .null
        node["createdAt"] = .string(time(issue.createdAt))
        node["updatedAt"] = .string(time(issue.updatedAt))
        node["closedAt"] = optionalTime(issue.closedAt)
        node["author"] = actor(issue.author)
        node["labels"] = labels(issue.labels)
        node["comments"] = connection(
            issue.comments.sorted { $0.databaseId < $1.databaseId }.map(comment),
            keys: issue.comments.map(\.databaseId).sorted().map(ascending))
        node["repository"] = ["nameWithOwner": .string(slug)]
        return .object(node)
    }

    /// A pull request's timeline, in time order, of every kind the fake models — labels,
    /// comments, reviews, draft transitions, the merge or close — each with its `itemTypes`
    /// name (`__itemType`): `itemTypes` filters the nodes, and `totalCount` counts them all, as
    /// on GitHub.
    static func timeline(_ pull: FakePullRequest) -> JSONValue {
        var items: [(at: Date, id: String, node: JSONValue)] = []
        func add(_ at: Date, _ id: String, _ type: String, _ itemType: String, _ fields: [String: JSONValue] = [:]) {
            var node = fields
            node["__typename"] = .string(type)
            node["__itemType"] = .string(itemType)
            node["id"] = .string(id)
            node["createdAt"] = .string(time(at))
            items.append((at, id, .object(node)))
        }
        for label in pull.labels { add(pull.createdAt, "LE_\(pull.databaseId)_\(label)", "LabeledEvent", "LABELED_EVENT") }
        for comment in pull.comments {
            add(comment.createdAt, "IC_\(comment.databaseId)", "IssueComment", "ISSUE_COMMENT", ["author": actor(comment.author)])
        }
        for review in pull.reviews where !review.pending {
            add(review.submittedAt, "PRR_\(review.databaseId)", "PullRequestReview", "PULL_REQUEST_REVIEW")
        }
        for event in pull.draftEvents {
            add(
                event.at, event.id, event.ready ? "ReadyForReviewEvent" : "ConvertToDraftEvent",
                event.ready ? "READY_FOR_REVIEW_EVENT" : "CONVERT_TO_DRAFT_EVENT", ["actor": actor(event.actor)])
        }
        if let merged = pull.mergedAt { add(merged, "ME_\(pull.databaseId)", "MergedEvent", "MERGED_EVENT") }
        items.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        return connection(items.map(\.node), keys: items.indices.map { ascending(Int64($0)) })
    }

    static func review(_ review: FakeReview) -> JSONValue {
        var node: [String: JSONValue] = [
            "__typename": "PullRequestReview", "author": actor(review.author),
            "state": .string(review.pending ? "PENDING" : review.state),
            "submittedAt": review.pending ? .null : .string(time(review.submittedAt)),
            "body": .string(review.body),
        ]
        ids(review.databaseId, into: &node)
        return .object(node)
    }

    static func comment(_ comment: FakeComment) -> JSONValue {
        var node: [String: JSONValue] = [
            "__typename": "IssueComment", "author": actor(comment.author),
            "createdAt": .string(time(comment.createdAt)),
        ]
        ids(comment.databaseId, into: &node)
        return .object(node)
    }

    static func file(_ file: FakeFile) -> JSONValue {
        [
            "__typename": "PullRequestChangedFile", "path": .string(file.path), "additions": .int(Int64(file.additions)),
            "deletions": .int(Int64(file.deletions)), "changeType": .string(file.changeType),
        ]
    }

    static func labels(_ names: [String]) -> JSONValue {
        connection(names.map { ["__typename": "Label", "name": .string($0)] }, keys: names.indices.map { ascending(Int64($0)) })
    }

    /// A review comment as the REST API lists it, with the fields ingest drops (body, diff hunk).
    static func restReviewComment(_ comment: FakeReviewComment, pull: Int, base: String) -> JSONValue {
        var node: [String: JSONValue] = [
            "id": .int(comment.databaseId), "node_id": .string("PRRC_\(comment.databaseId)"),
            "pull_request_review_id": .int(comment.reviewId), "path": .string(comment.path),
            "created_at": .string(time(comment.createdAt)), "updated_at": .string(time(comment.updatedAt)),
            "pull_request_url": .string("\(base)/pulls/\(pull)"), "body": .string("Nit: consider renaming this."),
            "diff_hunk": .string("@@ -1,3 +1,4 @@"),
            "html_url": .string("\(base)/pull/\(pull)#discussion_r\(comment.databaseId)"),
        ]
        if let reply = comment.inReplyTo { node["in_reply_to_id"] = .int(reply) }
        node["user"] = restUser(comment.author)
        return .object(node)
    }

    // MARK: Times

    static func time(_ date: Date) -> String { Timestamp.seconds(date) }

    static func optionalTime(_ date: Date?) -> JSONValue {
        date.map { .string(time($0)) } ?? .null
    }

    static func parse(_ text: String) -> Date? { Timestamp.date(text) }
}
