public import Entities
public import Store

/// The entities (Silver) refined from one repository's raw nodes. Rows are kept sorted by
/// key, so the same raw data always gives the same rows, in the same order.
public struct EntitySet: Sendable, Equatable {
    public var commits: [Commit] = []
    public var pullRequests: [PullRequest] = []
    public var issues: [Issue] = []
    public var reviews: [Review] = []
    public var comments: [Comment] = []
    public var reviewComments: [ReviewComment] = []
    public var prFiles: [PullRequestFile] = []
    /// Pull requests' ready/draft transitions.
    public var draftEvents: [DraftEvent] = []
    public var documentationChanges: [DocumentationChange] = []
    /// The repository's facts as GitHub reported them, and the branch read (at most one).
    public var repositories: [RepositoryFacts] = []

    public init() {}

    /// One table's rows as the store takes them.
    public struct Table: Sendable {
        public let name: String
        public let columns: [String]
        public let rows: [[SQLValue]]
        /// Rows that are noise (a `noise` reason set).
        public let noise: Int

        init<E: Entity>(_ entities: [E], noise: (E) -> String? = { _ in nil }) {
            name = E.table
            columns = E.columns.map(\.name)
            rows = entities.map(\.values)
            self.noise = entities.count { noise($0) != nil }
        }
    }

    /// Every table's rows, in write order.
    public var tables: [Table] {
        [
            Table(commits, noise: \.noise), Table(pullRequests, noise: \.noise), Table(issues, noise: \.noise),
            Table(reviews), Table(comments), Table(reviewComments), Table(prFiles, noise: \.noise),
            Table(documentationChanges, noise: \.noise), Table(repositories), Table(draftEvents),
        ]
    }

    public var count: Int {
        commits.count + pullRequests.count + issues.count + reviews.count + comments.count + reviewComments.count
            + prFiles.count + documentationChanges.count + repositories.count + draftEvents.count
    }

    /// Sorts every table by its key.
    mutating func sort() {
        commits.sort { $0.precedes($1) }
        pullRequests.sort { $0.precedes($1) }
        issues.sort { $0.precedes($1) }
        reviews.sort { $0.precedes($1) }
        comments.sort { $0.precedes($1) }
        reviewComments.sort { $0.precedes($1) }
        prFiles.sort { $0.precedes($1) }
        documentationChanges.sort { $0.precedes($1) }
        draftEvents.sort { $0.precedes($1) }
    }
}
