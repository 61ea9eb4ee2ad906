public import Foundation
public import JSON

/// A request of one of the client's documents: the operation and its variables, typed.
///
/// Each type sits beside the document whose variables it fills, so a stream cannot misspell a
/// variable or leave one out; `RequestTests` checks every one against the variables its
/// document declares (names, and the JSON type each declared type takes).
public protocol GraphRequest: Sendable {
    var operation: Operation { get }
    var variables: [String: JSONValue] { get }
}

extension FirstPages: GraphRequest {}

/// A page of a commit history read from the commit a stream started at: ``Operation/commits``,
/// or ``Operation/documentationHistory`` for one documentation path.
public struct HistoryPage: GraphRequest {
    public var owner: String
    public var name: String
    /// The commit the stream started at.
    public var tip: String
    public var since: Date
    public var until: Date
    public var first: Int
    public var after: String?
    /// The documentation path; nil for the branch's commits.
    public var path: String?

    public init(
        owner: String, name: String, tip: String, since: Date, until: Date, first: Int, after: String?, path: String? = nil
    ) {
        self.owner = owner
        self.name = name
        self.tip = tip
        self.since = since
        self.until = until
        self.first = first
        self.after = after
        self.path = path
    }

    public var operation: Operation { path == nil ? .commits : .documentationHistory }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "owner": .string(owner), "name": .string(name), "tip": .string(tip), "since": .string(Timestamp.seconds(since)),
            "until": .string(Timestamp.seconds(until)), "first": .int(Int64(first)),
            "after": after.map(JSONValue.string) ?? .null,
        ]
        if let path { variables["path"] = .string(path) }
        return variables
    }
}

/// A page of a repository's pull requests or issues, most recently updated first, with the
/// list's head: ``Operation/pullRequests``, ``Operation/openPullRequests``,
/// ``Operation/issues`` (updated since a time) or ``Operation/openIssues``.
public struct ListPage: GraphRequest {
    public enum List: Sendable, Equatable {
        case pullRequests, openPullRequests, openIssues
        case issues(since: Date)
    }

    public var owner: String
    public var name: String
    public var list: List
    public var first: Int
    public var after: String?

    public init(owner: String, name: String, list: List, first: Int, after: String?) {
        self.owner = owner
        self.name = name
        self.list = list
        self.first = first
        self.after = after
    }

    public var operation: Operation {
        switch list {
        case .pullRequests: return .pullRequests
        case .openPullRequests: return .openPullRequests
        case .openIssues: return .openIssues
        case .issues: return .issues
        }
    }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "owner": .string(owner), "name": .string(name), "first": .int(Int64(first)),
            "after": after.map(JSONValue.string) ?? .null,
        ]
        if case .issues(let since) = list { variables["since"] = .string(Timestamp.seconds(since)) }
        return variables
    }
}

/// A page of a list nested in one pull request or issue that overflowed its first page:
/// ``Operation/pullRequestConnection`` (reviews, comments or files) or ``Operation/issueComments``.
public struct NestedPage: GraphRequest {
    public enum List: String, Sendable, CaseIterable {
        case reviews, comments, files
        /// A pull request's ready/draft transitions (`timelineItems`).
        case timeline
        /// An issue's comments.
        case issueComments
    }

    public var owner: String
    public var name: String
    public var number: Int64
    public var list: List
    public var first: Int
    public var after: String?

    public init(owner: String, name: String, number: Int64, list: List, first: Int, after: String?) {
        self.owner = owner
        self.name = name
        self.number = number
        self.list = list
        self.first = first
        self.after = after
    }

    public var operation: Operation { list == .issueComments ? .issueComments : .pullRequestConnection }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "owner": .string(owner), "name": .string(name), "number": .int(number), "first": .int(Int64(first)),
            "after": after.map(JSONValue.string) ?? .null,
        ]
        if list != .issueComments {
            for flag in [List.reviews, .comments, .files, .timeline] { variables[flag.rawValue] = .bool(flag == list) }
        }
        return variables
    }
}

/// Documentation sub-folders by object id (``Operation/trees(count:)``).
public struct TreeLookup: GraphRequest {
    public var owner: String
    public var name: String
    public var oids: [String]

    public init(owner: String, name: String, oids: [String]) {
        self.owner = owner
        self.name = name
        self.oids = oids
    }

    public var operation: Operation { .trees(count: oids.count) }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = ["owner": .string(owner), "name": .string(name)]
        for (index, oid) in oids.enumerated() { variables["t\(index)"] = .string(oid) }
        return variables
    }
}

/// Issues or pull requests by node id (``Operation/resolveIssues``, ``Operation/resolvePullRequests``).
public struct NodeLookup: GraphRequest {
    public var pullRequests: Bool
    public var ids: [String]

    public init(pullRequests: Bool, ids: [String]) {
        self.pullRequests = pullRequests
        self.ids = ids
    }

    public var operation: Operation { pullRequests ? .resolvePullRequests : .resolveIssues }

    public var variables: [String: JSONValue] { ["ids": .array(ids.map(JSONValue.string))] }
}

/// Has anything changed in these repositories? (``Operation/probe(_:)``)
public struct ProbeRequest: GraphRequest {
    /// One repository of the batch, and what to ask about it.
    public struct Target: Sendable, Equatable {
        public var owner: String
        public var name: String
        /// The manifest's branch; nil: GitHub's default.
        public var branch: String?
        /// Issues updated since this time (and the open count); nil: not asked.
        public var issuesSince: Date?
        /// Ask for the branch's tip.
        public var commits: Bool
        /// Ask for the most recently updated pull request and the open count.
        public var pulls: Bool

        public init(owner: String, name: String, branch: String?, issuesSince: Date?, commits: Bool, pulls: Bool) {
            self.owner = owner
            self.name = name
            self.branch = branch
            self.issuesSince = issuesSince
            self.commits = commits
            self.pulls = pulls
        }
    }

    public var targets: [Target]
    /// `sI` when issues are not asked about (the document declares it non-null).
    public var epoch: Date

    public init(targets: [Target], epoch: Date) {
        self.targets = targets
        self.epoch = epoch
    }

    public var operation: Operation { .probe(targets.map { $0.branch == nil ? .repositoryDefault : .named }) }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [:]
        for (index, target) in targets.enumerated() {
            variables["o\(index)"] = .string(target.owner)
            variables["n\(index)"] = .string(target.name)
            if let branch = target.branch { variables["r\(index)"] = .string("refs/heads/" + branch) }
            variables["s\(index)"] = .string(Timestamp.seconds(target.issuesSince ?? epoch))
            variables["wc\(index)"] = .bool(target.commits)
            variables["wp\(index)"] = .bool(target.pulls)
            variables["wi\(index)"] = .bool(target.issuesSince != nil)
        }
        return variables
    }
}

/// Can the token read these repositories, and what are they like? (``Operation/estateCheck(_:)``)
public struct EstateCheckRequest: GraphRequest {
    /// What to read one item of, each under its repository permission.
    public enum Probe: String, Sendable, CaseIterable {
        /// The default branch's history: Contents.
        case contents = "probeContents"
        case issues = "probeIssues"
        case pullRequests = "probePulls"
    }

    public var repositories: [(owner: String, name: String, branch: String?)]
    public var probes: Set<Probe>

    public init(repositories: [(owner: String, name: String, branch: String?)], probes: Set<Probe> = []) {
        self.repositories = repositories
        self.probes = probes
    }

    public var operation: Operation { .estateCheck(repositories.map { $0.branch == nil ? .repositoryDefault : .named }) }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "pc": .bool(probes.contains(.contents)), "pi": .bool(probes.contains(.issues)),
            "pp": .bool(probes.contains(.pullRequests)),
        ]
        for (index, repository) in repositories.enumerated() {
            variables["o\(index)"] = .string(repository.owner)
            variables["n\(index)"] = .string(repository.name)
            if let branch = repository.branch { variables["b\(index)"] = .string("refs/heads/" + branch) }
        }
        return variables
    }
}

/// The budget, and who the token belongs to unless it is an App's (``Operation/viewer``,
/// ``Operation/budget``): no variables.
public struct BudgetRequest: GraphRequest {
    public var viewer: Bool

    public init(viewer: Bool) { self.viewer = viewer }

    public var operation: Operation { viewer ? .viewer : .budget }
    public var variables: [String: JSONValue] { [:] }
}

extension GitHubClient {
    /// Sends a typed request (``GraphRequest``); its answer is checked before it is returned.
    public func execute(
        _ request: some GraphRequest, cost: inout CallCost, shrinkable: Bool = false,
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> JSONValue {
        try await execute(request.operation, variables: request.variables, cost: &cost, shrinkable: shrinkable, events: events)
    }

    /// Sends a typed batched request (an alias per repository or item), as ``executeBatch(_:variables:cost:shrinkable:events:)``.
    public func executeBatch(
        _ request: some GraphRequest, cost: inout CallCost, shrinkable: Bool = false,
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> PartialResult {
        try await executeBatch(
            request.operation, variables: request.variables, cost: &cost, shrinkable: shrinkable, events: events)
    }
}
