import Digest
public import Entities
import Foundation
public import GitHubNodes
public import JSON
import Store

/// One raw node as refine reads it.
public struct RawNode: Sendable {
    public let kind: RawKind
    public let key: String
    public let contentHash: String
    public let payload: JSONValue

    public init(kind: RawKind, key: String, contentHash: String, payload: JSONValue) {
        self.kind = kind
        self.key = key
        self.contentHash = contentHash
        self.payload = payload
    }

    /// The payload as the node type of its kind (``RawKind``); a raw node stored by an earlier
    /// version is read with the allowances ``Fields/stored`` documents.
    func decode<T: GraphNode>(_ type: T.Type = T.self) throws(RefineError) -> T {
        do {
            return try T(json: payload, stored: true)
        } catch {
            throw RefineError(kind: kind.rawValue, key: key, reason: error.description, contentHash: contentHash)
        }
    }
}

/// A raw node refine cannot read: which one, and why.
public struct RefineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: String
    public let key: String
    public let reason: String
    /// The stored node's content hash, when one stored node is to blame.
    public var contentHash: String?

    public init(kind: String, key: String, reason: String, contentHash: String? = nil) {
        self.kind = kind
        self.key = key
        self.reason = reason
        self.contentHash = contentHash
    }

    public var description: String { "raw \(kind) \(key): \(reason)" }
}

/// Raw nodes → entities, as a pure function.
///
/// Every raw node is read as the typed node of its kind (``RawKind``, `GitHubNodes`), so a
/// field missing or mistyped fails the unit naming the node instead of becoming a wrong row.
/// For each GitHub id the newest snapshot wins (`updatedAt`, then content hash to break
/// ties), whatever order the nodes come in, so an older snapshot never overwrites a newer one
/// and replaying raw data gives the same entities. Noise is marked, never dropped. Actors are
/// classified by what GitHub says (``Actor``).
public struct Refinery: Sendable {
    public let repository: String
    public let noise: NoiseRules
    /// The branch the manifest names, if any (else GitHub's default was read).
    public let branch: String?
    /// Who counts as responding to an issue (`noise.ignore_responders`).
    public let responders: Responders

    public init(repository: String, noise: NoiseRules, branch: String? = nil, responders: Responders = Responders()) {
        self.repository = repository
        self.noise = noise
        self.branch = branch
        self.responders = responders
    }

    /// What refine noticed besides the entities: counts for the unit's ledger row.
    public struct Notes: Sendable, Equatable {
        /// Documentation sub-folders whose trees were not stored (commits ingested before
        /// ingest read sub-folders): reported as the sub-folder's path.
        public var unreadDocumentationFolders = 0
    }

    /// A decoded node with what picks the newest snapshot of its key.
    struct Snapshot<Node> {
        let raw: RawNode
        let node: Node
        let version: String
    }

    public func refine(_ nodes: [RawNode]) throws(RefineError) -> EntitySet {
        var notes = Notes()
        return try refine(nodes, notes: &notes)
    }

    public func refine(_ nodes: [RawNode], notes: inout Notes) throws(RefineError) -> EntitySet {
        var byKind: [RawKind: [RawNode]] = [:]
        for node in nodes { byKind[node.kind, default: []].append(node) }
        var set = EntitySet()
        let repo = repository
        func decoded<T: GraphNode>(_ kind: RawKind, _ type: T.Type, version: (T) -> String) throws(RefineError) -> [Snapshot<T>] {
            var snapshots: [Snapshot<T>] = []
            for raw in byKind[kind] ?? [] {
                let node = try raw.decode(T.self)
                snapshots.append(Snapshot(raw: raw, node: node, version: version(node)))
            }
            return snapshots
        }

        for snapshot in newest(try decoded(.commit, CommitNode.self, version: { _ in "" })) {
            let commit = snapshot.node
            let actor = Actor(commitAuthor: commit.author)
            let name = commit.author?.name
            let email = commit.author?.email
            set.commits.append(
                Commit(
                    repository: repo, oid: snapshot.raw.key, headline: commit.messageHeadline, message: commit.message,
                    authoredAt: commit.authoredDate, committedAt: commit.committedDate, authorName: name,
                    authorEmail: email, authorLogin: actor?.login, additions: commit.additions,
                    deletions: commit.deletions, changedFiles: commit.changedFilesIfAvailable, isBot: actor?.isBot == true,
                    noise: noise.reason(authors: (actor?.names ?? []) + [name, email], title: commit.messageHeadline)))
        }

        // Lists that overflowed a pull request's or issue's first page, read on their own: by
        // kind and item key (`ITEM:…`).
        func overflow<T: GraphNode>(_ kind: RawKind, _ type: T.Type) throws(RefineError) -> [String: [Snapshot<T>]] {
            var byItem: [String: [Snapshot<T>]] = [:]
            for snapshot in try decoded(kind, T.self, version: { _ in "" }) {
                byItem[snapshot.raw.key.split(separator: ":").first.map(String.init) ?? "", default: []].append(snapshot)
            }
            return byItem
        }
        let overflowReviews = try overflow(.pullRequestReview, ReviewNode.self)
        let overflowPullComments = try overflow(.pullRequestComment, CommentNode.self)
        let overflowFiles = try overflow(.pullRequestFile, ChangedFileNode.self)
        let overflowIssueComments = try overflow(.issueComment, CommentNode.self)
        let overflowDraftEvents = try overflow(.pullRequestDraftEvent, DraftEventNode.self)

        // Items that left the repository: the newest sighting per item.
        var gone: [String: GoneRecord] = [:]
        for snapshot in newest(try decoded(.gone, GoneRecord.self, version: { Timestamp.string($0.detectedAt) })) {
            gone[snapshot.raw.key] = snapshot.node
        }

        // Inline review comments (REST), needed first: they tell reply-container reviews apart.
        let reviewComments = newest(
            try decoded(.reviewComment, ReviewCommentNode.self, version: { Timestamp.string($0.updatedAt) }))
        var repliesOnly: [Int64: Bool] = [:]
        for snapshot in reviewComments {
            guard let review = snapshot.node.pullRequestReviewId else { continue }
            repliesOnly[review] = (repliesOnly[review] ?? true) && snapshot.node.inReplyToId != nil
        }

        let pulls = try decoded(.pullRequest, PullRequestNode.self, version: { Timestamp.string($0.summary.updatedAt) })
        // Snapshots carry the nested lists their document selected (an open-item list reviews
        // and transitions, a lookup by id none): each list comes from the newest snapshot with it.
        func newestList<List>(_ list: (PullRequestNode) -> List?) -> [String: List] {
            var lists: [String: List] = [:]
            for snapshot in newest(pulls.filter { list($0.node) != nil }) { lists[snapshot.raw.key] = list(snapshot.node) }
            return lists
        }
        let pullReviews = newestList(\.reviews)
        let pullComments = newestList(\.comments)
        let pullFiles = newestList(\.files)
        let pullDraftEvents = newestList(\.draftEvents)
        for snapshot in newest(pulls) {
            let pull = snapshot.node.summary
            let key = snapshot.raw.key
            let (id, author, labels) = try common(
                snapshot.raw, databaseId: pull.databaseId, author: pull.author, labels: pull.labels)
            let files = Self.items(pullFiles[key]?.list, overflow: overflowFiles[key])
            let departed = departure(gone["\(RawKind.pullRequest.rawValue):\(key)"], updated: pull.updatedAt)
            set.pullRequests.append(
                PullRequest(
                    repository: repo, databaseID: id, number: pull.number, title: pull.title,
                    state: pull.state.lowercased(), isDraft: pull.isDraft, authorLogin: author.login,
                    createdAt: pull.createdAt, updatedAt: pull.updatedAt, mergedAt: pull.mergedAt, closedAt: pull.closedAt,
                    baseRef: pull.baseRefName, headRef: pull.headRefName, additions: pull.additions,
                    deletions: pull.deletions, changedFiles: pull.changedFiles, commitCount: pull.commits, labels: labels,
                    isBot: author.isBot, noise: noise.reason(authors: author.names, labels: labels, title: pull.title),
                    nodeID: pull.id, filesListed: pullFiles[key]?.list == nil ? nil : Int64(files.count), goneAt: departed?.at,
                    goneReason: departed?.reason))
            for review in Self.items(pullReviews[key]?.list, overflow: overflowReviews[key]) {
                guard let reviewId = review.databaseId else { continue }
                let reviewer = Actor(review.author)
                let state = review.state.lowercased()
                // Replying in a review thread makes GitHub create a `COMMENTED` review holding just
                // the reply: it is the reply's container, not a review of its own.
                let container = state == "commented" && repliesOnly[reviewId] == true
                set.reviews.append(
                    Review(
                        repository: repo, databaseID: reviewId, pullRequestID: id, authorLogin: reviewer.login, state: state,
                        submittedAt: review.submittedAt, isBot: reviewer.isBot, replyContainer: container))
            }
            for comment in Self.items(pullComments[key]?.list, overflow: overflowPullComments[key]) {
                set.comments.append(try self.comment(comment, on: .pullRequest, parent: id, raw: snapshot.raw))
            }
            for event in Self.items(pullDraftEvents[key], overflow: overflowDraftEvents[key]) {
                set.draftEvents.append(
                    DraftEvent(
                        repository: repo, pullRequestID: id, nodeID: event.id,
                        kind: event.kind == .readyForReview ? .readyForReview : .convertToDraft, at: event.createdAt))
            }
            for file in files {
                set.prFiles.append(
                    PullRequestFile(
                        repository: repo, pullRequestID: id, path: file.path, additions: file.additions,
                        deletions: file.deletions, changeType: file.changeType.lowercased(),
                        noise: noise.reason(path: file.path)))
            }
        }

        // Inline review comments (REST): newest update wins; the pull request is named by the
        // number in its URL, and its id is filled in when the pull request was ingested.
        let pullIds = Dictionary(
            set.pullRequests.map { ($0.number, $0.databaseID) }, uniquingKeysWith: { first, _ in first })
        for snapshot in reviewComments {
            let comment = snapshot.node
            let author = Actor(rest: comment.user)
            set.reviewComments.append(
                ReviewComment(
                    repository: repo, databaseID: comment.id, pullRequestNumber: comment.pullRequestNumber,
                    pullRequestID: pullIds[comment.pullRequestNumber], reviewID: comment.pullRequestReviewId,
                    inReplyToID: comment.inReplyToId, authorLogin: author.login, path: comment.path,
                    createdAt: comment.createdAt, updatedAt: comment.updatedAt, isBot: author.isBot))
        }

        let issues = try decoded(.issue, IssueNode.self, version: { Timestamp.string($0.summary.updatedAt) })
        let fullIssues = Dictionary(
            newest(issues.filter { $0.node.comments != nil }).map { ($0.raw.key, $0.node) },
            uniquingKeysWith: { first, _ in first })
        for snapshot in newest(issues) {
            let issue = snapshot.node.summary
            let key = snapshot.raw.key
            let (id, author, labels) = try common(
                snapshot.raw, databaseId: issue.databaseId, author: issue.author, labels: issue.labels)
            let departed = departure(gone["\(RawKind.issue.rawValue):\(key)"], updated: issue.updatedAt)
            var comments: [Comment] = []
            for comment in Self.items(fullIssues[key]?.comments, overflow: overflowIssueComments[key]) {
                comments.append(try self.comment(comment, on: .issue, parent: id, raw: snapshot.raw))
            }
            // Review flow: the first comment by a responder, not before the issue was opened
            // (a clock out of order never makes a negative wait).
            let firstResponse =
                comments
                .filter {
                    responders.counts($0.authorLogin, isBot: $0.isBot, author: author.login) && $0.createdAt >= issue.createdAt
                }
                .map(\.createdAt).min()
            set.comments += comments
            set.issues.append(
                Issue(
                    repository: repo, databaseID: id, number: issue.number, title: issue.title,
                    state: issue.state.lowercased(), stateReason: issue.stateReason?.lowercased(),
                    authorLogin: author.login, createdAt: issue.createdAt, updatedAt: issue.updatedAt,
                    closedAt: issue.closedAt, labels: labels, isBot: author.isBot,
                    noise: noise.reason(authors: author.names, labels: labels, title: issue.title), nodeID: issue.id,
                    goneAt: departed?.at, goneReason: departed?.reason, firstResponseAt: firstResponse))
        }

        var trees: [String: TreeNode] = [:]
        for snapshot in try decoded(.tree, TreeNode.self, version: { _ in "" }) { trees[snapshot.raw.key] = snapshot.node }
        for snapshot in newest(try decoded(.documentationCommit, DocumentationCommitNode.self, version: { _ in "" })) {
            let key = snapshot.raw.key
            guard let separator = key.lastIndex(of: ":") else {
                throw RefineError(kind: snapshot.raw.kind.rawValue, key: key, reason: "key is not PATH:OID")
            }
            let documentationPath = String(key[..<separator])
            let commit = snapshot.node
            let result = DocumentationChanges.changes(in: commit, path: documentationPath, trees: trees)
            notes.unreadDocumentationFolders += result.unread.count
            for change in result.changes {
                set.documentationChanges.append(
                    DocumentationChange(
                        repository: repo, commitOID: commit.oid, path: change.path, changeType: change.kind.rawValue,
                        committedAt: commit.committedDate, documentationPath: documentationPath,
                        isRoadmap: DocumentationChanges.isRoadmap(change.path), isADR: DocumentationChanges.isADR(change.path),
                        noise: noise.reason(path: change.path)))
            }
        }

        let facts = newest(
            try decoded(.repository, RepositoryFactsNode.self, version: { $0.pushedAt.map(Timestamp.string) ?? "" })
        ).first?.node
        if let facts {
            set.repositories.append(
                RepositoryFacts(
                    repository: repo, nodeID: facts.id, defaultBranch: branch ?? facts.defaultBranch,
                    githubDefaultBranch: facts.defaultBranch, isArchived: facts.isArchived, isEmpty: facts.isEmpty,
                    isFork: facts.isFork, visibility: facts.visibility, pushedAt: facts.pushedAt))
        }
        set.sort()
        return set
    }

    /// When and why an item left the repository: a `gone` sighting newer than its newest
    /// snapshot (an item seen again after it, transferred back say, is not gone).
    func departure(_ sighting: GoneRecord?, updated: Date) -> (at: Date, reason: String)? {
        guard let sighting, updated <= sighting.detectedAt else { return nil }
        let target = sighting.movedTo.map { " to " + $0 } ?? ""
        return (sighting.detectedAt, sighting.reason + target)
    }

    /// The fields pull requests and issues share: id, author, labels.
    func common(_ raw: RawNode, databaseId: Int64?, author: ActorNode?, labels: Counted<LabelNode>?) throws(RefineError)
        -> (Int64, Actor, [String])
    {
        guard let id = databaseId else {
            throw RefineError(
                kind: raw.kind.rawValue, key: raw.key, reason: "no fullDatabaseId (or databaseId)", contentHash: raw.contentHash)
        }
        return (id, Actor(author), labels?.nodes.map(\.name) ?? [])
    }

    /// One node per key: the greatest version (e.g. `updatedAt`), then the greatest hash.
    func newest<Node>(_ snapshots: [Snapshot<Node>]) -> [Snapshot<Node>] {
        var best: [String: Snapshot<Node>] = [:]
        for snapshot in snapshots {
            if let current = best[snapshot.raw.key],
                (current.version, current.raw.contentHash) >= (snapshot.version, snapshot.raw.contentHash)
            {
                continue
            }
            best[snapshot.raw.key] = snapshot
        }
        return Array(best.values)
    }

    /// A nested list's items: the snapshot's own when complete, else the overflow rows (one per
    /// item, deduplicated by item key).
    static func items<Node>(_ list: Counted<Node>?, overflow: [Snapshot<Node>]?) -> [Node] {
        items(list?.nodes ?? [], overflows: list?.overflows == true, overflow: overflow)
    }

    static func items<Node>(_ list: FilteredList<Node>?, overflow: [Snapshot<Node>]?) -> [Node] {
        items(list?.nodes ?? [], overflows: list?.overflows == true, overflow: overflow)
    }

    static func items<Node>(_ items: [Node], overflows: Bool, overflow: [Snapshot<Node>]?) -> [Node] {
        guard overflows, let overflow, !overflow.isEmpty else { return items }
        var byKey: [String: Snapshot<Node>] = [:]
        for snapshot in overflow where (byKey[snapshot.raw.key]?.raw.contentHash ?? "") < snapshot.raw.contentHash {
            byKey[snapshot.raw.key] = snapshot
        }
        return byKey.keys.sorted().compactMap { byKey[$0]?.node }
    }

    func comment(_ comment: CommentNode, on parent: Comment.Parent, parent id: Int64, raw: RawNode) throws(RefineError)
        -> Comment
    {
        guard let databaseID = comment.databaseId else {
            throw RefineError(
                kind: raw.kind.rawValue, key: raw.key, reason: "a comment has no fullDatabaseId", contentHash: raw.contentHash)
        }
        let author = Actor(comment.author)
        return Comment(
            repository: repository, databaseID: databaseID, parentKind: parent, parentID: id, authorLogin: author.login,
            createdAt: comment.createdAt, isBot: author.isBot)
    }
}

extension EntitySet {
    /// A hash of every row: the refine unit's output hash.
    public var digest: String { Self.digest(tables) }

    /// The hash of `tables`' rows (computed once by the unit, which also writes them).
    static func digest(_ tables: [Table]) -> String {
        var hasher = SHA256()
        for table in tables {
            hasher.update(table.name)
            for row in table.rows {
                for value in row {
                    switch value {
                    case .null: hasher.update("\u{0}N")
                    case .integer(let int): hasher.update("\u{0}i\(int)")
                    case .real(let double): hasher.update("\u{0}r\(double)")
                    case .text(let text): hasher.update("\u{0}t\(text)")
                    }
                }
                hasher.update("\n")
            }
        }
        return hasher.hexDigest()
    }
}
