public import Foundation
public import GitHubNodes
public import JSON

// Every document of ``Operation`` has its answer typed here, as its selection and GitHub's
// schema say: the client decodes each answer (``Operation/check(_:variables:)``) before it
// returns it, so a page with a field missing, nulled against the schema or of another type
// is refused whole and asked again — nothing of it reaches the store. Parts a document leaves
// out by `@include`/`@skip` are read only when the request's variables included them.

/// `rateLimit { cost remaining resetAt }` (`limit` too in ``Operation/viewer`` and
/// ``Operation/budget``). `Query.rateLimit` is nullable: GitHub Enterprise Server with rate
/// limiting disabled answers null.
public struct RateLimitNode: GraphNode {
    public let cost: Int64
    public let remaining: Int64
    public let resetAt: Date
    public let limit: Int64?

    public init(_ fields: Fields) throws(Malformed) {
        cost = try fields.int("cost")
        remaining = try fields.int("remaining")
        resetAt = try fields.date("resetAt")
        limit = fields.has("limit") ? try fields.int("limit") : nil
    }

    /// With `limit` selected.
    static func withLimit(_ fields: Fields) throws(Malformed) -> RateLimitNode {
        _ = try fields.int("limit")
        return try RateLimitNode(fields)
    }
}

/// One page of a connection: `totalCount pageInfo { hasNextPage endCursor } nodes { … }`.
public struct PageOf<Node: Sendable>: Sendable {
    public let totalCount: Int64
    public let hasNextPage: Bool
    public let endCursor: String?
    public let nodes: [Node]

    public init(_ fields: Fields, node: (Fields) throws(Malformed) -> Node) throws(Malformed) {
        totalCount = try fields.int("totalCount")
        let info = try fields.object("pageInfo")
        hasNextPage = try info.bool("hasNextPage")
        endCursor = try info.nullableString("endCursor")
        if hasNextPage && endCursor == nil {
            // The next page could only be read from the start again.
            throw Malformed(info.path + ".endCursor", .unusable("is null on a page that says more follow"))
        }
        var nodes: [Node] = []
        for item in try fields.objects("nodes") { nodes.append(try node(item)) }
        self.nodes = nodes
    }
}

extension Fields {
    /// A non-null connection's page.
    func page<N>(_ key: String, node: (Fields) throws(Malformed) -> N) throws(Malformed) -> PageOf<N> {
        try PageOf(try object(key), node: node)
    }

    /// A nullable connection's page.
    func nullablePage<N>(_ key: String, node: (Fields) throws(Malformed) -> N) throws(Malformed) -> PageOf<N>? {
        guard let fields = try nullableObject(key) else { return nil }
        return try PageOf(fields, node: node)
    }
}

/// The head of an ordered list (``Operation/sentinel(_:filter:fragment:)``): the two most
/// recently updated items (number and time) and the most recent one whole.
public struct Sentinel<Node: Sendable>: Sendable {
    public let heads: [(number: Int64, updatedAt: Date)]
    public let headNode: Node?

    init(_ repository: Fields, node: (Fields) throws(Malformed) -> Node) throws(Malformed) {
        var heads: [(number: Int64, updatedAt: Date)] = []
        for item in try repository.object("head").objects("nodes") {
            heads.append((try item.int("number"), try item.date("updatedAt")))
        }
        self.heads = heads
        headNode = try repository.object("headNode").objects("nodes").first.map { fields throws(Malformed) in try node(fields) }
    }
}

/// What each list of a document holds, by the fragment it selects.
enum NodeReader {
    static func pullRequest(_ fields: Fields) throws(Malformed) -> PullRequestNode { try PullRequestNode.whole(fields) }
    static func openPullRequest(_ fields: Fields) throws(Malformed) -> PullRequestNode { try PullRequestNode.open(fields) }
    static func issue(_ fields: Fields) throws(Malformed) -> IssueNode { try IssueNode.whole(fields) }
    static func issueSummary(_ fields: Fields) throws(Malformed) -> IssueSummary { try IssueSummary(fields) }
    static func commit(_ fields: Fields) throws(Malformed) -> CommitNode { try CommitNode(fields) }
    static func documentation(_ fields: Fields) throws(Malformed) -> DocumentationCommitNode {
        try DocumentationCommitNode(fields)
    }
}

/// The answer to ``Operation/firstPages(_:)``: the repository's facts and the first page of
/// every list the request included (``FirstPages``).
public struct FirstPagesAnswer: Sendable {
    public let rateLimit: RateLimitNode?
    /// Nil: GitHub knows no such repository (a `NOT_FOUND` error says so).
    public let repository: Repository?

    public struct Repository: Sendable {
        public let facts: RepositoryFactsNode
        /// The branch read (nil: no such branch); its tip and, when asked, its history's first page.
        public let branch: (name: String, tip: String?, history: PageOf<CommitNode>?)?
        public let updatedPulls: PageOf<PullRequestNode>?
        public let openPulls: PageOf<PullRequestNode>?
        public let updatedIssues: PageOf<IssueNode>?
        public let openIssues: PageOf<IssueSummary>?
        public let openPullsCount: Int64?
        public let openIssuesCount: Int64?
        /// The documentation slots the request filled, by slot: nil when the branch is not there.
        public let documentation: [Int: PageOf<DocumentationCommitNode>?]
    }

    public init(_ data: JSONValue, variables: [String: JSONValue], tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        func flag(_ name: String) -> Bool { variables[name]?.bool == true }
        rateLimit = try root.nullable("rateLimit")
        guard let repository = try root.nullableObject("repository") else {
            self.repository = nil
            return
        }
        let facts = try RepositoryFactsNode(repository)
        var branch: (name: String, tip: String?, history: PageOf<CommitNode>?)?
        if let ref = try repository.nullableObject("branch") {
            let target = try ref.nullableObject("target")
            let history = flag("withCommits") ? try target?.page("history", node: NodeReader.commit) : nil
            branch = (try ref.string("name"), try target?.string("oid"), history)
        }
        func page<N>(_ alias: String, if included: Bool, _ node: (Fields) throws(Malformed) -> N) throws(Malformed) -> PageOf<N>?
        {
            included ? try PageOf(try repository.object(alias), node: node) : nil
        }
        var documentation: [Int: PageOf<DocumentationCommitNode>?] = [:]
        for slot in 0..<Operation.documentationSlots where flag("withDoc\(slot)") {
            let target = try repository.nullableObject("doc\(slot)")?.nullableObject("target")
            documentation[slot] = try target?.page("history", node: NodeReader.documentation)
        }
        self.repository = Repository(
            facts: facts, branch: branch,
            updatedPulls: try page("updatedPulls", if: flag("withUpdatedPulls"), NodeReader.pullRequest),
            openPulls: try page("openPulls", if: flag("withOpenPulls"), NodeReader.openPullRequest),
            updatedIssues: try page("updatedIssues", if: flag("withUpdatedIssues"), NodeReader.issue),
            openIssues: try page("openIssues", if: flag("withOpenIssues"), NodeReader.issueSummary),
            openPullsCount: flag("withOpenPulls") ? nil : try repository.object("openPullsCount").int("totalCount"),
            openIssuesCount: flag("withOpenIssues") ? nil : try repository.object("openIssuesCount").int("totalCount"),
            documentation: documentation)
    }
}

/// The answer to a stream's continuation page: ``Operation/commits``,
/// ``Operation/documentationHistory`` (`repository.tip.history`), ``Operation/pullRequests``,
/// ``Operation/openPullRequests`` (`repository.pullRequests` and its head), ``Operation/issues``,
/// ``Operation/openIssues`` (`repository.issues` and its head).
public struct StreamPageAnswer<Node: Sendable>: Sendable {
    public let rateLimit: RateLimitNode?
    /// Nil: the repository (or the commit the stream started at) is not there.
    public let page: PageOf<Node>?
    public let sentinel: Sentinel<Node>?

    init(
        _ data: JSONValue, list: String, ordered: Bool, tracking: Bool = true, node: (Fields) throws(Malformed) -> Node
    ) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullable("rateLimit")
        guard let repository = try root.nullableObject("repository") else {
            page = nil
            sentinel = nil
            return
        }
        if ordered {
            page = try PageOf(try repository.object(list), node: node)
            sentinel = try Sentinel(repository, node: node)
        } else {
            page = try repository.nullableObject("tip")?.page("history", node: node)
            sentinel = nil
        }
    }
}

/// The answer to ``Operation/pullRequestConnection`` or ``Operation/issueComments``: one page of
/// a list nested in a pull request or an issue (which is nil when it is gone).
public struct NestedPageAnswer: Sendable {
    public let rateLimit: RateLimitNode?
    public let reviews: PageOf<ReviewNode>?
    public let comments: PageOf<CommentNode>?
    public let files: PageOf<ChangedFileNode>?
    public let timeline: PageOf<DraftEventNode>?
    public let itemGone: Bool

    init(_ data: JSONValue, variables: [String: JSONValue], issue: Bool, tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullable("rateLimit")
        guard let item = try root.nullableObject("repository")?.nullableObject(issue ? "issue" : "pullRequest") else {
            (reviews, comments, files, timeline, itemGone) = (nil, nil, nil, nil, true)
            return
        }
        itemGone = false
        func flag(_ name: String) -> Bool { issue ? name == "comments" : variables[name]?.bool == true }
        reviews = flag("reviews") ? try item.nullablePage("reviews", node: ReviewNode.init) : nil
        comments = flag("comments") ? try item.page("comments", node: CommentNode.init) : nil
        files = flag("files") ? try item.nullablePage("files", node: ChangedFileNode.init) : nil
        timeline = flag("timeline") ? try item.page("timelineItems", node: DraftEventNode.init) : nil
    }
}

/// The answer to ``Operation/trees(count:)``: the trees by alias (nil: not found, or no tree).
public struct TreesAnswer: Sendable {
    public let rateLimit: RateLimitNode?
    public let trees: [TreeNode?]

    init(_ data: JSONValue, count: Int, tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullable("rateLimit")
        let repository = try root.nullableObject("repository")
        var trees: [TreeNode?] = []
        for index in 0..<count { trees.append(try repository?.nullable("t\(index)")) }
        self.trees = trees
    }
}

/// The answer to ``Operation/resolveIssues`` or ``Operation/resolvePullRequests``: each node
/// looked up, in order — an issue or pull request (with the repository it is in now), a
/// discussion it became, or nil (gone).
public struct ResolveAnswer: Sendable {
    public enum Found: Sendable {
        case issue(IssueSummary, repository: String)
        case pullRequest(PullRequestSummary, repository: String)
        case discussion(number: Int64, repository: String)
        /// A node of another type where an issue or pull request was.
        case other(typename: String)
    }

    public let rateLimit: RateLimitNode?
    public let nodes: [Found?]

    init(_ data: JSONValue, tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullable("rateLimit")
        guard case .array(let items) = try root.value("nodes") else {
            throw Malformed("nodes", .type(expected: "a list"))
        }
        var nodes: [Found?] = []
        for (index, item) in items.enumerated() {
            if item.isNull {
                nodes.append(nil)
                continue
            }
            let fields = try Fields(item, path: tracking ? "nodes[\(index)]" : "", tracking: tracking)
            let typename = try fields.string("__typename")
            _ = try fields.string("id")
            switch typename {
            case "Issue":
                nodes.append(
                    .issue(try IssueSummary(fields), repository: try fields.object("repository").string("nameWithOwner")))
            case "PullRequest":
                nodes.append(
                    .pullRequest(
                        try PullRequestSummary(fields), repository: try fields.object("repository").string("nameWithOwner")))
            case "Discussion":
                nodes.append(
                    .discussion(
                        number: try fields.int("number"), repository: try fields.object("repository").string("nameWithOwner")))
            default:
                nodes.append(.other(typename: typename))
            }
        }
        self.nodes = nodes
    }
}

/// The answer to ``Operation/probe(_:)``: per repository alias, what changed since its last
/// ingest (nil: the token cannot see the repository).
public struct ProbeAnswer: Sendable {
    public struct Repository: Sendable {
        public let isEmpty: Bool
        public let defaultBranch: String?
        /// Asked (`wcI`): the branch (nil: not there) and its tip.
        public let branch: (name: String, tip: String?)??
        /// Asked (`wpI`): the most recently updated pull request's time (nil: none), and the open count.
        public let latestPullUpdate: Date??
        public let openPulls: Int64?
        /// Asked (`wiI`): issues updated since `sI`, and the open count.
        public let issuesSince: Int64?
        public let openIssues: Int64?
    }

    public let rateLimit: RateLimitNode?
    public let repositories: [Repository?]

    init(_ data: JSONValue, variables: [String: JSONValue], count: Int, tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullable("rateLimit")
        var repositories: [Repository?] = []
        for index in 0..<count {
            guard let alias = try root.nullableObject("r\(index)") else {
                repositories.append(nil)
                continue
            }
            func flag(_ name: String) -> Bool { variables["\(name)\(index)"]?.bool == true }
            var branch: (name: String, tip: String?)??
            if flag("wc") {
                branch = .some(
                    try alias.nullableObject("branch").map { ref throws(Malformed) in
                        (try ref.string("name"), try ref.nullableObject("target")?.string("oid"))
                    })
            }
            var latest: Date??
            var openPulls: Int64?
            if flag("wp") {
                latest = .some(try alias.object("pullRequests").objects("nodes").first?.date("updatedAt"))
                openPulls = try alias.object("openPulls").int("totalCount")
            }
            repositories.append(
                Repository(
                    isEmpty: try alias.bool("isEmpty"),
                    defaultBranch: try alias.nullableObject("defaultBranchRef")?.string("name"), branch: branch,
                    latestPullUpdate: latest, openPulls: openPulls,
                    issuesSince: flag("wi") ? try alias.object("issues").int("totalCount") : nil,
                    openIssues: flag("wi") ? try alias.object("openIssues").int("totalCount") : nil))
        }
        self.repositories = repositories
    }
}

/// The answer to ``Operation/estateCheck(_:)``: per repository alias (nil: not visible).
public struct EstateCheckAnswer: Sendable {
    public struct Repository: Sendable {
        public let isEmpty: Bool
        public let isArchived: Bool
        public let defaultBranch: String?
        /// When the manifest names the branch (`bI`): whether it is there.
        public let namedBranch: String??
    }

    public let rateLimit: RateLimitNode?
    public let repositories: [Repository?]

    init(_ data: JSONValue, variables: [String: JSONValue], count: Int, tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullable("rateLimit")
        var repositories: [Repository?] = []
        for index in 0..<count {
            guard let alias = try root.nullableObject("r\(index)") else {
                repositories.append(nil)
                continue
            }
            let named: String?? =
                variables["b\(index)"] != nil ? .some(try alias.nullableObject("named")?.string("name")) : nil
            // The probes are read to be checked, not kept: a probe a token may not read is an
            // error beside the answer (``PartialResult/problems``), never a value.
            if variables["pc"]?.bool == true {
                // A branch points at a commit: its `... on Commit` fields are there.
                _ = try alias.nullableObject("probeContents")?.nullableObject("target")?.object("history").int("totalCount")
            }
            if variables["pi"]?.bool == true { _ = try alias.object("probeIssues").int("totalCount") }
            if variables["pp"]?.bool == true { _ = try alias.object("probePulls").int("totalCount") }
            repositories.append(
                Repository(
                    isEmpty: try alias.bool("isEmpty"), isArchived: try alias.bool("isArchived"),
                    defaultBranch: try alias.nullableObject("defaultBranchRef")?.string("name"), namedBranch: named))
        }
        self.repositories = repositories
    }
}

/// The answer to ``Operation/viewer`` (`viewer.login`) or ``Operation/budget``.
public struct BudgetAnswer: Sendable {
    public let rateLimit: RateLimitNode?
    public let login: String?

    init(_ data: JSONValue, viewer: Bool, tracking: Bool = true) throws(Malformed) {
        let root = try Fields(data, path: "", tracking: tracking)
        rateLimit = try root.nullableObject("rateLimit").map { fields throws(Malformed) in try RateLimitNode.withLimit(fields) }
        login = viewer ? try root.object("viewer").string("login") : nil
    }
}

extension Operation {
    /// Checks that `data` answers this operation with `variables`: every field the document
    /// selects there, of the type GitHub's schema gives it (``Malformed`` says where not).
    public func check(_ data: JSONValue, variables: [String: JSONValue]) throws(Malformed) {
        // Fast, without paths; an answer refused is read again with them, for the message.
        do {
            try check(data, variables: variables, tracking: false)
        } catch {
            try check(data, variables: variables, tracking: true)
        }
    }

    func check(_ data: JSONValue, variables: [String: JSONValue], tracking: Bool) throws(Malformed) {
        switch answer {
        case nil: return
        case .firstPages: _ = try FirstPagesAnswer(data, variables: variables, tracking: tracking)
        case .commits: _ = try StreamPageAnswer(data, list: "", ordered: false, tracking: tracking, node: NodeReader.commit)
        case .documentationHistory:
            _ = try StreamPageAnswer(data, list: "", ordered: false, tracking: tracking, node: NodeReader.documentation)
        case .pullRequests:
            _ = try StreamPageAnswer(data, list: "pullRequests", ordered: true, tracking: tracking, node: NodeReader.pullRequest)
        case .openPullRequests:
            _ = try StreamPageAnswer(
                data, list: "pullRequests", ordered: true, tracking: tracking, node: NodeReader.openPullRequest)
        case .issues: _ = try StreamPageAnswer(data, list: "issues", ordered: true, tracking: tracking, node: NodeReader.issue)
        case .openIssues:
            _ = try StreamPageAnswer(data, list: "issues", ordered: true, tracking: tracking, node: NodeReader.issueSummary)
        case .pullRequestConnection: _ = try NestedPageAnswer(data, variables: variables, issue: false, tracking: tracking)
        case .issueComments: _ = try NestedPageAnswer(data, variables: variables, issue: true, tracking: tracking)
        case .trees: _ = try TreesAnswer(data, count: Self.aliases(variables, prefix: "t"), tracking: tracking)
        case .resolve: _ = try ResolveAnswer(data, tracking: tracking)
        case .probe:
            _ = try ProbeAnswer(data, variables: variables, count: Self.aliases(variables, prefix: "o"), tracking: tracking)
        case .estateCheck:
            _ = try EstateCheckAnswer(data, variables: variables, count: Self.aliases(variables, prefix: "o"), tracking: tracking)
        case .viewer: _ = try BudgetAnswer(data, viewer: true, tracking: tracking)
        case .budget: _ = try BudgetAnswer(data, viewer: false, tracking: tracking)
        }
    }

    /// How many aliases a batched request carries: its variables `PREFIX0`, `PREFIX1`, ….
    static func aliases(_ variables: [String: JSONValue], prefix: String) -> Int {
        var count = 0
        while variables["\(prefix)\(count)"] != nil { count += 1 }
        return count
    }
}
