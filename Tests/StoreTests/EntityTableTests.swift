import Entities
import Foundation
import Testing

@testable import Store

/// The entity types (`Entities`) against the store's tables: the same columns, a `NOT NULL`
/// column never optional in Swift, and every value read back as it was written, on both engines.
@Suite("Entity tables")
struct EntityTableTests {
    static let at = Date(timeIntervalSince1970: 1_764_000_000.5)
    static let hostile = "x'); DROP TABLE commits; -- ünïcødé \t\n\\N $1 \u{202E}"

    /// One entity of every table with every optional field set, and one with every optional
    /// field nil.
    static let samples: [any Entity] = [
        Commit(
            repository: "acme/a", oid: "abc", headline: hostile, message: "m", authoredAt: at, committedAt: at,
            authorName: "Ada", authorEmail: "ada@example.com", authorLogin: "ada", additions: 3, deletions: 1,
            changedFiles: 2, isBot: false, noise: "path vendor/*"),
        Commit(
            repository: "acme/a", oid: "abd", headline: "h", message: "", authoredAt: nil, committedAt: at,
            authorName: nil, authorEmail: nil, authorLogin: nil, additions: nil, deletions: nil, changedFiles: nil,
            isBot: true, noise: nil),
        PullRequest(
            repository: "acme/a", databaseID: 4_000_000_000_123, number: 7, title: hostile, state: "merged", isDraft: true,
            authorLogin: "dependabot[bot]", createdAt: at, updatedAt: at, mergedAt: at, closedAt: at, baseRef: "main",
            headRef: "x", additions: 1, deletions: 2, changedFiles: 3, commitCount: 4, labels: ["a", hostile], isBot: true,
            noise: "label chore", nodeID: "PR_1", filesListed: 3, goneAt: at, goneReason: "transferred to b/c"),
        PullRequest(
            repository: "acme/a", databaseID: 1, number: 1, title: "", state: "open", isDraft: false, authorLogin: "ghost",
            createdAt: at, updatedAt: at, mergedAt: nil, closedAt: nil, baseRef: nil, headRef: nil, additions: nil,
            deletions: nil, changedFiles: nil, commitCount: nil, labels: [], isBot: false, noise: nil, nodeID: nil,
            filesListed: nil, goneAt: nil, goneReason: nil),
        Entities.Issue(
            repository: "acme/a", databaseID: 9, number: 3, title: hostile, state: "closed", stateReason: "not_planned",
            authorLogin: "ada", createdAt: at, updatedAt: at, closedAt: at, labels: ["bug"], isBot: false, noise: "title",
            nodeID: "I_1", goneAt: at, goneReason: "deleted", firstResponseAt: at),
        Entities.Issue(
            repository: "acme/a", databaseID: 10, number: 4, title: "t", state: "open", stateReason: nil,
            authorLogin: "ada", createdAt: at, updatedAt: at, closedAt: nil, labels: [], isBot: false, noise: nil,
            nodeID: nil, goneAt: nil, goneReason: nil),
        Review(
            repository: "acme/a", databaseID: 5, pullRequestID: 4_000_000_000_123, authorLogin: "grace",
            state: "approved", submittedAt: at, isBot: false, replyContainer: true),
        Review(
            repository: "acme/a", databaseID: 6, pullRequestID: 1, authorLogin: "grace", state: "pending",
            submittedAt: nil, isBot: false, replyContainer: false),
        Comment(
            repository: "acme/a", databaseID: 11, parentKind: .pullRequest, parentID: 1, authorLogin: "ada",
            createdAt: at, isBot: false),
        ReviewComment(
            repository: "acme/a", databaseID: 12, pullRequestNumber: 7, pullRequestID: 1, reviewID: 5, inReplyToID: 2,
            authorLogin: "ada", path: hostile, createdAt: at, updatedAt: at, isBot: true),
        ReviewComment(
            repository: "acme/a", databaseID: 13, pullRequestNumber: 7, pullRequestID: nil, reviewID: nil,
            inReplyToID: nil, authorLogin: "ada", path: "a", createdAt: at, updatedAt: at, isBot: false),
        DraftEvent(repository: "acme/a", pullRequestID: 4_000_000_000_123, nodeID: hostile, kind: .readyForReview, at: at),
        DraftEvent(repository: "acme/a", pullRequestID: 1, nodeID: "CTDE_1", kind: .convertToDraft, at: at),
        PullRequestFile(
            repository: "acme/a", pullRequestID: 1, path: hostile, additions: 0, deletions: 9, changeType: "renamed",
            noise: nil),
        DocumentationChange(
            repository: "acme/a", commitOID: "abc", path: "docs/adr/1.md", changeType: "added", committedAt: at,
            documentationPath: "docs", isRoadmap: false, isADR: true, noise: "path docs/gen/*"),
        RepositoryFacts(
            repository: "acme/a", nodeID: "R_1", defaultBranch: "trunk", githubDefaultBranch: "main", isArchived: true,
            isEmpty: false, isFork: true, visibility: "PRIVATE", pushedAt: at),
        RepositoryFacts(
            repository: "acme/b", nodeID: nil, defaultBranch: nil, githubDefaultBranch: nil, isArchived: false,
            isEmpty: true, isFork: false, visibility: nil, pushedAt: nil),
    ]

    /// A store column: its declared type and whether it takes null.
    struct StoreColumn: Equatable {
        let integer: Bool
        let nullable: Bool
    }

    static func storeColumns(_ table: String, in database: Database) throws -> [String: StoreColumn] {
        var columns: [String: StoreColumn] = [:]
        switch database.engine {
        case .sqlite:
            for row in try database.query("SELECT name, type, \"notnull\" AS required, pk FROM pragma_table_info(\(table))") {
                // A SQLite `TEXT PRIMARY KEY` takes null unless declared `NOT NULL`; ours never
                // holds one (refine writes every key), so a key column counts as required.
                columns[try row.string("name")] = StoreColumn(
                    integer: try row.string("type") == "INTEGER",
                    nullable: try row.int("required") == 0 && row.int("pk") == 0)
            }
        case .postgres:
            for row in try database.query(
                """
                SELECT column_name, data_type, is_nullable FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = \(table)
                """)
            {
                columns[try row.string("column_name")] = StoreColumn(
                    integer: try row.string("data_type") == "bigint", nullable: try row.string("is_nullable") == "YES")
            }
        }
        return columns
    }

    @Test(arguments: TestEngine.available)
    func everyEntityHasItsTablesColumnsAndNoOptionalWhereTheTableSaysNotNull(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        for type in entityTables {
            let stored = try Self.storeColumns(type.table, in: database)
            let fields = type.columnsAndNullability
            #expect(Set(fields.map(\.column.name)) == Set(stored.keys), "\(type.table)")
            for (column, nullable) in fields {
                let store = try #require(stored[column.name], "\(type.table).\(column.name)")
                #expect(store.integer == (column.kind == .int || column.kind == .bool), "\(type.table).\(column.name)")
                // A field may be stricter than its column, never looser.
                #expect(!nullable || store.nullable, "\(type.table).\(column.name) is optional but NOT NULL in the store")
            }
        }
    }

    @Test(arguments: TestEngine.available)
    func everyEntityReadsBackAsItWasWritten(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        for sample in Self.samples {
            #expect(try sample.roundTrip(database), "\(type(of: sample).table)")
        }
        #expect(Set(Self.samples.map { type(of: $0).table }) == Set(entityTables.map { $0.table }))
    }

    /// A value of another type in a column (SQLite stores what it is given) is an error that
    /// names the table and column, never a coerced value.
    @Test(arguments: [
        ("additions", "'many'", "commits.additions holds the text \"many\", not null or an integer"),
        ("committed_at", "'yesterday'", "commits.committed_at holds the text \"yesterday\", not a timestamp"),
        ("is_bot", "2", "commits.is_bot holds the integer 2, not 0 or 1"),
        // A TEXT column turns the number into text, which is no timestamp either.
        ("authored_at", "42", "commits.authored_at holds the text \"42\", not null or a timestamp"),
    ])
    func aValueOfAnotherTypeIsRefusedNamingItsColumn(column: String, value: String, message: String) throws {
        let database = try TestEngine.sqlite.openMigrated()
        try database.transaction { tx in
            try tx.execute(
                """
                INSERT INTO commits (repository, oid, headline, message, committed_at, is_bot)
                VALUES ('acme/a', 'abc', 'h', 'm', '2026-11-27T10:56:35.123Z', 0)
                """)
            try tx.execute(SQL(unsafeSQL: "UPDATE commits SET \(column) = \(value)"))
        }
        let error = #expect(throws: StoreError.self) {
            try Commit.decode(database.query(Commit.select(where: "repository = \("acme/a")")))
        }
        #expect(error?.message == message)
    }
}

extension Entity {
    static var columnsAndNullability: [(column: Column, nullable: Bool)] { fields.map { ($0.column, $0.nullable) } }

    /// Writes the entity, reads it back by its own `SELECT`, and compares.
    func roundTrip(_ database: Database) throws -> Bool {
        try database.transaction { tx in
            try tx.insertMany(table: Self.table, columns: Self.columns.map(\.name), rows: [values])
        }
        let read = try Self.decode(database.query(Self.select(where: "repository = \(repository)")))
        return read.contains(self)
    }

    var repository: String {
        guard case .text(let text) = values.first else { return "" }
        return text
    }
}
