public import Foundation
public import JSON

/// The variables of ``Operation/firstPages(_:)`` for one repository, typed: which lists the
/// combined request carries, from when, and how many items of each.
///
/// The document and the variables it declares live side by side here, so that a stream asking
/// for a list cannot misspell an alias or a flag.
public struct FirstPages: Sendable {
    /// The request's pull request and issue lists, by their alias in the document.
    public enum List: String, Sendable, CaseIterable {
        case updatedPulls, openPulls, updatedIssues, openIssues
    }

    /// How many items of each list one request asks for.
    public struct Sizes: Sendable, Equatable {
        public var commits: Int
        public var pulls: Int
        public var openPulls: Int
        public var updatedIssues: Int
        public var openIssues: Int
        public var documentation: Int

        public init(commits: Int, pulls: Int, openPulls: Int, updatedIssues: Int, openIssues: Int, documentation: Int) {
            self.commits = commits
            self.pulls = pulls
            self.openPulls = openPulls
            self.updatedIssues = updatedIssues
            self.openIssues = openIssues
            self.documentation = documentation
        }

        /// Every size halved (1 at least); nil when all are 1 already.
        public func halved() -> Sizes? {
            let next = Sizes(
                commits: max(1, commits / 2), pulls: max(1, pulls / 2), openPulls: max(1, openPulls / 2),
                updatedIssues: max(1, updatedIssues / 2), openIssues: max(1, openIssues / 2),
                documentation: max(1, documentation / 2))
            return next == self ? nil : next
        }
    }

    public var owner: String
    public var name: String
    /// The manifest's branch; nil: GitHub's default branch.
    public var branch: String?
    public var until: Date
    /// The branch's history from this time; nil: not asked.
    public var commitsSince: Date?
    public var updatedPulls = false
    public var openPulls = false
    /// Issues updated since this time; nil: not asked.
    public var issuesSince: Date?
    public var openIssues = false
    /// Documentation paths in the request's slots (``Operation/documentationSlots``), with
    /// where each starts.
    public var documentation: [(path: String, since: Date)] = []
    public var sizes: Sizes

    public init(owner: String, name: String, branch: String?, until: Date, sizes: Sizes) {
        self.owner = owner
        self.name = name
        self.branch = branch
        self.until = until
        self.sizes = sizes
    }

    /// Asks for `list` (its first page).
    public mutating func include(_ list: List, since: Date? = nil) {
        switch list {
        case .updatedPulls: updatedPulls = true
        case .openPulls: openPulls = true
        case .updatedIssues: issuesSince = since ?? until
        case .openIssues: openIssues = true
        }
    }

    public var operation: Operation { .firstPages(branch == nil ? .repositoryDefault : .named) }

    public var variables: [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "owner": .string(owner), "name": .string(name),
            "since": .string(Timestamp.seconds(commitsSince ?? until)), "until": .string(Timestamp.seconds(until)),
            "issuesSince": .string(Timestamp.seconds(issuesSince ?? until)),
            "commitsFirst": .int(Int64(sizes.commits)), "first": .int(Int64(sizes.pulls)),
            "openPullsFirst": .int(Int64(sizes.openPulls)), "updatedIssuesFirst": .int(Int64(sizes.updatedIssues)),
            "openIssuesFirst": .int(Int64(sizes.openIssues)), "docsFirst": .int(Int64(sizes.documentation)),
            "withCommits": .bool(commitsSince != nil), "withUpdatedPulls": .bool(updatedPulls),
            "withOpenPulls": .bool(openPulls), "withUpdatedIssues": .bool(issuesSince != nil),
            "withOpenIssues": .bool(openIssues),
        ]
        if let branch { variables["ref"] = .string("refs/heads/" + branch) }
        for slot in 0..<Operation.documentationSlots {
            let assigned = slot < documentation.count ? documentation[slot] : nil
            variables["withDoc\(slot)"] = .bool(assigned != nil)
            variables["doc\(slot)Path"] = .string(assigned?.path ?? "")
            variables["doc\(slot)Since"] = .string(Timestamp.seconds(assigned?.since ?? until))
        }
        return variables
    }
}
