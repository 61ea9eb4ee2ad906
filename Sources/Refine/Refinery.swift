import Digest
import Foundation
public import JSON
import Store

/// One raw node as refine reads it.
public struct RawNode: Sendable {
    public let kind: String
    public let key: String
    public let contentHash: String
    public let payload: JSONValue

    public init(kind: String, key: String, contentHash: String, payload: JSONValue) {
        self.kind = kind
        self.key = key
        self.contentHash = contentHash
        self.payload = payload
    }
}

/// A raw node refine cannot read: which one, and why.
public struct RefineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: String
    public let key: String
    public let reason: String

    public var description: String { "raw \(kind) \(key): \(reason)" }
}

/// Raw nodes → entities, as a pure function.
///
/// For each GitHub id the newest snapshot wins (`updatedAt`, then content hash to break
/// ties), whatever order the nodes come in, so an older snapshot never overwrites a newer one
/// and replaying raw data gives the same entities. Noise is marked, never dropped. Actors are
/// classified by what GitHub says (``Actor``).
public struct Refinery: Sendable {
    public let repository: String
    public let noise: NoiseRules
    /// The branch the manifest names, if any (else GitHub's default was read).
    public let branch: String?

    public init(repository: String, noise: NoiseRules, branch: String? = nil) {
        self.repository = repository
        self.noise = noise
        self.branch = branch
    }

    /// What refine noticed besides the entities: counts for the unit's ledger row.
    public struct Notes: Sendable, Equatable {
        /// Documentation sub-folders whose trees were not stored (commits ingested before
        /// ingest read sub-folders): reported as the sub-folder's path.
        public var unreadDocumentationFolders = 0
    }

    public func refine(_ nodes: [RawNode]) throws(RefineError) -> EntitySet {
        var notes = Notes()
        return try refine(nodes, notes: &notes)
    }

    public func refine(_ nodes: [RawNode], notes: inout Notes) throws(RefineError) -> EntitySet {
        var byKind: [String: [RawNode]] = [:]
        for node in nodes { byKind[node.kind, default: []].append(node) }
        var set = EntitySet()
        let repo = SQLValue.text(repository)

        for node in newest(byKind["commit"] ?? [], version: { _ in "" }) {
            let p = node.payload
            let committed = try time(p, "committedDate", node)
            let message = p["message"]?.string ?? ""
            let headline = p["messageHeadline"]?.string ?? String(message.split(separator: "\n").first ?? "")
            let name = p["author"]?["name"]?.string
            let email = p["author"]?["email"]?.string
            let actor = Actor(commitAuthor: p["author"])
            set.commits.append([
                repo, .text(node.key), .text(headline), .text(message), optionalTime(p, "authoredDate"), committed,
                text(name), text(email), text(actor?.login), int(p["additions"]), int(p["deletions"]),
                int(p["changedFilesIfAvailable"]), .integer(actor?.isBot == true ? 1 : 0),
                text(noise.reason(authors: (actor?.names ?? []) + [name, email], title: headline)),
            ])
        }

        let overflow = Dictionary(
            grouping: (byKind["pull_request_review"] ?? []) + (byKind["pull_request_comment"] ?? [])
                + (byKind["pull_request_file"] ?? []) + (byKind["issue_comment"] ?? [])
        ) { node in
            node.kind + ":" + (node.key.split(separator: ":").first.map(String.init) ?? "")
        }
        // Items that left the repository: the newest sighting per item.
        var gone: [String: JSONValue] = [:]
        for node in newest(byKind["gone"] ?? [], version: { $0.payload["detected_at"]?.string ?? "" }) {
            gone[node.key] = node.payload
        }

        // Inline review comments (REST), needed first: they tell reply-container reviews apart.
        let reviewComments = newest(
            byKind["pull_request_review_comment"] ?? [],
            version: { $0.payload["updated_at"]?.string ?? "" })
        var repliesOnly: [Int64: Bool] = [:]
        for node in reviewComments {
            guard let review = node.payload["pull_request_review_id"]?.int else { continue }
            let reply = node.payload["in_reply_to_id"].map { !$0.isNull } ?? false
            repliesOnly[review] = (repliesOnly[review] ?? true) && reply
        }

        let pulls = byKind["pull_request"] ?? []
        let fullPulls = fullSnapshots(pulls, nestedField: "reviews")
        for node in newest(pulls, version: updatedAt) {
            let p = node.payload
            // Open-item summaries carry no nested lists: those come from the newest full snapshot.
            let full = fullPulls[node.key]?.payload ?? p
            let (id, number, author, title, labels) = try common(node)
            let files = nested(full["files"], overflow["pull_request_file:\(node.key)"])
            let (goneAt, goneReason) = departure(gone["pull_request:\(node.key)"], updated: p["updatedAt"]?.string)
            set.pullRequests.append([
                repo, .integer(id), .integer(number), .text(title), .text((p["state"]?.string ?? "").lowercased()),
                .integer(p["isDraft"]?.bool == true ? 1 : 0), .text(author.login), try time(p, "createdAt", node),
                try time(p, "updatedAt", node), optionalTime(p, "mergedAt"), optionalTime(p, "closedAt"),
                text(p["baseRefName"]?.string), text(p["headRefName"]?.string), int(p["additions"]),
                int(p["deletions"]), int(p["changedFiles"]), int(p["commits"]?["totalCount"]),
                .text(JSONValue.array(labels.map(JSONValue.string)).canonical), .integer(author.isBot ? 1 : 0),
                text(noise.reason(authors: author.names, labels: labels, title: title)),
                text(p["id"]?.string), full["files"] == nil ? .null : .integer(Int64(files.count)), goneAt, goneReason,
            ])
            for review in nested(full["reviews"], overflow["pull_request_review:\(node.key)"]) {
                guard let reviewId = Self.databaseId(review) else { continue }
                let reviewer = Actor(graphQL: review["author"])
                let state = (review["state"]?.string ?? "").lowercased()
                // Replying in a review thread makes GitHub create a `COMMENTED` review holding just
                // the reply: it is the reply's container, not a review of its own.
                let container = state == "commented" && repliesOnly[reviewId] == true
                set.reviews.append([
                    repo, .integer(reviewId), .integer(id), .text(reviewer.login), .text(state),
                    optionalTime(review, "submittedAt"), .integer(reviewer.isBot ? 1 : 0),
                    .integer(container ? 1 : 0),
                ])
            }
            for comment in nested(full["comments"], overflow["pull_request_comment:\(node.key)"]) {
                set.comments.append(try commentRow(comment, parentKind: "pull_request", parent: id, node: node))
            }
            for file in files {
                guard let path = file["path"]?.string else { continue }
                set.prFiles.append([
                    repo, .integer(id), .text(path), int(file["additions"]), int(file["deletions"]),
                    .text((file["changeType"]?.string ?? "").lowercased()), text(noise.reason(path: path)),
                ])
            }
        }

        // Inline review comments (REST): newest update wins; the pull request is named by the
        // number in its URL, and its id is filled in when the pull request was ingested.
        let pullIds = Dictionary(
            set.pullRequests.compactMap { row -> (Int64, SQLValue)? in
                guard case .integer(let number) = row[2] else { return nil }
                return (number, row[1])
            }, uniquingKeysWith: { first, _ in first })
        for node in reviewComments {
            let p = node.payload
            guard let id = p["id"]?.int,
                let number = p["pull_request_url"]?.string?.split(separator: "/").last.flatMap({ Int64($0) })
            else {
                throw RefineError(
                    kind: node.kind, key: node.key, reason: "no id, or no pull request number in `pull_request_url`")
            }
            let author = Actor(rest: p["user"])
            set.reviewComments.append([
                repo, .integer(id), .integer(number), pullIds[number] ?? .null, int(p["pull_request_review_id"]),
                int(p["in_reply_to_id"]), .text(author.login), .text(p["path"]?.string ?? ""), try time(p, "created_at", node),
                try time(p, "updated_at", node), .integer(author.isBot ? 1 : 0),
            ])
        }

        let issues = byKind["issue"] ?? []
        let fullIssues = fullSnapshots(issues, nestedField: "comments")
        for node in newest(issues, version: updatedAt) {
            let p = node.payload
            let full = fullIssues[node.key]?.payload ?? p
            let (id, number, author, title, labels) = try common(node)
            let (goneAt, goneReason) = departure(gone["issue:\(node.key)"], updated: p["updatedAt"]?.string)
            set.issues.append([
                repo, .integer(id), .integer(number), .text(title), .text((p["state"]?.string ?? "").lowercased()),
                text(p["stateReason"]?.string?.lowercased()), .text(author.login), try time(p, "createdAt", node),
                try time(p, "updatedAt", node), optionalTime(p, "closedAt"),
                .text(JSONValue.array(labels.map(JSONValue.string)).canonical), .integer(author.isBot ? 1 : 0),
                text(noise.reason(authors: author.names, labels: labels, title: title)), text(p["id"]?.string),
                goneAt, goneReason,
            ])
            for comment in nested(full["comments"], overflow["issue_comment:\(node.key)"]) {
                set.comments.append(try commentRow(comment, parentKind: "issue", parent: id, node: node))
            }
        }

        var trees: [String: JSONValue] = [:]
        for node in byKind["tree"] ?? [] { trees[node.key] = node.payload }
        for node in newest(byKind["doc_commit"] ?? [], version: { _ in "" }) {
            guard let separator = node.key.lastIndex(of: ":") else {
                throw RefineError(kind: node.kind, key: node.key, reason: "key is not PATH:OID")
            }
            let documentationPath = String(node.key[..<separator])
            let committed = try time(node.payload, "committedDate", node)
            let oid = node.payload["oid"]?.string ?? String(node.key[node.key.index(after: separator)...])
            let result = DocumentationChanges.changes(in: node.payload, path: documentationPath, trees: trees)
            notes.unreadDocumentationFolders += result.unread.count
            for change in result.changes {
                set.documentationChanges.append([
                    repo, .text(oid), .text(change.path), .text(change.kind.rawValue), committed, .text(documentationPath),
                    .integer(DocumentationChanges.isRoadmap(change.path) ? 1 : 0),
                    .integer(DocumentationChanges.isADR(change.path) ? 1 : 0), text(noise.reason(path: change.path)),
                ])
            }
        }

        if let facts = newest(byKind["repository"] ?? [], version: { $0.payload["pushedAt"]?.string ?? "" }).first?.payload {
            let github = facts["defaultBranchRef"]?["name"]?.string
            set.repositories.append([
                repo, text(facts["id"]?.string), text(branch ?? github), text(github),
                .integer(facts["isArchived"]?.bool == true ? 1 : 0), .integer(facts["isEmpty"]?.bool == true ? 1 : 0),
                .integer(facts["isFork"]?.bool == true ? 1 : 0), text(facts["visibility"]?.string),
                optionalTime(facts, "pushedAt"),
            ])
        }

        set.commits.sort(by: Self.keyOrder(1))
        set.pullRequests.sort(by: Self.keyOrder(1))
        set.issues.sort(by: Self.keyOrder(1))
        set.reviews.sort(by: Self.keyOrder(1))
        set.comments.sort(by: Self.keyOrder(1))
        set.reviewComments.sort(by: Self.keyOrder(1))
        set.prFiles.sort(by: Self.keyOrder(1, 2))
        set.documentationChanges.sort(by: Self.keyOrder(1, 2))
        return set
    }

    /// When and why an item left the repository: a `gone` sighting newer than its newest
    /// snapshot (an item seen again after it, transferred back say, is not gone).
    func departure(_ sighting: JSONValue?, updated: String?) -> (SQLValue, SQLValue) {
        guard let sighting, let detected = sighting["detected_at"]?.string.flatMap(Timestamp.date),
            let reason = sighting["reason"]?.string
        else { return (.null, .null) }
        if let updated = updated.flatMap(Timestamp.date), updated > detected { return (.null, .null) }
        let target = sighting["moved_to"]?.string.map { " to " + $0 } ?? ""
        return (.text(Timestamp.string(detected)), .text(reason + target))
    }

    /// The id GitHub keys a node on: `fullDatabaseId` (a `BigInt`, sent as a JSON string), or
    /// `databaseId` in nodes stored by earlier versions.
    static func databaseId(_ node: JSONValue) -> Int64? {
        if let text = node["fullDatabaseId"]?.string { return Int64(text) }
        return node["fullDatabaseId"]?.int ?? node["databaseId"]?.int
    }

    /// The fields pull requests and issues share: ids, author, title, labels.
    func common(_ node: RawNode) throws(RefineError) -> (Int64, Int64, Actor, String, [String]) {
        let p = node.payload
        guard let id = Self.databaseId(p), let number = p["number"]?.int else {
            throw RefineError(kind: node.kind, key: node.key, reason: "no fullDatabaseId (or databaseId) or number")
        }
        let labels = (p["labels"]?["nodes"]?.array ?? []).compactMap { $0["name"]?.string }
        return (id, number, Actor(graphQL: p["author"]), p["title"]?.string ?? "", labels)
    }

    func updatedAt(_ node: RawNode) -> String { node.payload["updatedAt"]?.string ?? "" }

    /// Per key, the newest snapshot that has its nested lists (`nestedField` present): open
    /// items are also stored as summaries without them.
    func fullSnapshots(_ nodes: [RawNode], nestedField: String) -> [String: RawNode] {
        let full = newest(nodes.filter { $0.payload[nestedField] != nil }, version: updatedAt)
        return Dictionary(full.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// One node per key: the greatest `version` (e.g. `updatedAt`), then the greatest hash.
    func newest(_ nodes: [RawNode], version: (RawNode) -> String) -> [RawNode] {
        var best: [String: (node: RawNode, version: String)] = [:]
        for node in nodes {
            let candidate = version(node)
            if let current = best[node.key],
                (current.version, current.node.contentHash) >= (candidate, node.contentHash)
            {
                continue
            }
            best[node.key] = (node, candidate)
        }
        return best.values.map(\.node)
    }

    /// A nested connection's items: the snapshot's own when complete, else the overflow rows
    /// (one per item, deduplicated by item key).
    func nested(_ connection: JSONValue?, _ overflow: [RawNode]?) -> [JSONValue] {
        let items = connection?["nodes"]?.array ?? []
        let total = connection?["totalCount"]?.int ?? Int64(items.count)
        guard total > Int64(items.count), let overflow, !overflow.isEmpty else { return items }
        return newest(overflow, version: { _ in "" }).sorted { $0.key < $1.key }.map(\.payload)
    }

    func commentRow(_ comment: JSONValue, parentKind: String, parent: Int64, node: RawNode) throws(RefineError) -> [SQLValue] {
        guard let id = Self.databaseId(comment) else {
            throw RefineError(kind: node.kind, key: node.key, reason: "a comment has no fullDatabaseId")
        }
        let author = Actor(graphQL: comment["author"])
        return [
            .text(repository), .integer(id), .text(parentKind), .integer(parent), .text(author.login),
            try time(comment, "createdAt", node), .integer(author.isBot ? 1 : 0),
        ]
    }

    func time(_ value: JSONValue, _ field: String, _ node: RawNode) throws(RefineError) -> SQLValue {
        guard let text = value[field]?.string, let date = Timestamp.date(text) else {
            throw RefineError(kind: node.kind, key: node.key, reason: "`\(field)` is missing or not a timestamp")
        }
        return .text(Timestamp.string(date))
    }

    func optionalTime(_ value: JSONValue, _ field: String) -> SQLValue {
        value[field]?.string.flatMap(Timestamp.date).map { .text(Timestamp.string($0)) } ?? .null
    }

    func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }

    func int(_ value: JSONValue?) -> SQLValue { value?.int.map(SQLValue.integer) ?? .null }

    static func keyOrder(_ columns: Int...) -> ([SQLValue], [SQLValue]) -> Bool {
        { lhs, rhs in
            for column in columns where lhs[column] != rhs[column] {
                return describe(lhs[column]) < describe(rhs[column])
            }
            return false
        }
    }

    static func describe(_ value: SQLValue) -> String {
        switch value {
        case .null: return ""
        case .integer(let int): return String(format: "%020lld", int)
        case .real(let double): return String(double)
        case .text(let text): return text
        }
    }
}

extension EntitySet {
    /// A hash of every row: the refine unit's output hash.
    public var digest: String {
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
