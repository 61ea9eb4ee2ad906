import Foundation
import GitHubFake
import JSON
import Store
import TestSupport
import Testing

/// Correct numbers on an estate that behaves as GitHub does: bots as GitHub types them, default
/// branches other than `main` (and a stale `main` beside `master`), documentation changed in
/// nested folders, commits landing after newer ones, reply-container reviews, deleted
/// accounts, 64-bit ids, a pull request over GitHub's file cap, and issues that leave their
/// repository — each checked against the generator's own record of what it made.
@Suite("GitHub fidelity", .serialized)
struct FidelityTests {
    static let token = "ghp_fidelityToken0123456789"
    /// Repositories on `main` (0, 2, 6, 7), empty (1), `trunk` (3), `develop` (4), `master` with a
    /// stale `main` (5); `docs/` folders (1, 5); late merges (2, 6); the busy one (2).
    static let estate = EstateGenerator(seed: 21, repositories: 8).generate()

    /// The default-branch commits of the window, by repository: what any read of it must give.
    static func commitTruth(_ estate: FakeEstate) -> Set<String> {
        let since = estate.windowStart.addingTimeInterval(-300)
        return Set(
            estate.repositories.flatMap { repo in
                repo.landed.filter { $0.committedDate >= since && $0.committedDate <= estate.windowEnd }.map {
                    "\(repo.slug) \($0.oid)"
                }
            })
    }

    static func commitsLanded(_ harness: Harness) throws -> Set<String> {
        Set(
            try storeRows(harness, "SELECT repository, oid FROM commits").map {
                "\(try $0.string("repository")) \(try $0.string("oid"))"
            })
    }

    /// How an actor must end up: bots as `NAME[bot]`, deleted accounts as `ghost`.
    static func canonical(_ user: FakeUser?) -> String {
        guard let user else { return "ghost" }
        return user.isBot ? user.restLogin : user.login
    }

    func run(_ harness: Harness, _ arguments: [String] = []) async throws -> Harness.Result {
        try await harness.run(Harness.product, ["m.yaml"] + arguments, environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
    }

    @Test func aSlugOnlyManifestGivesTheGeneratorsTruthAndALaterRunTheSameAsAFreshOne() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", Self.estate.manifest(name: "fidelity", endpoint: url, branches: false))
            let first = try await run(harness, ["-q"])
            #expect(first.status == 0, "\(first.stderr)")
            // No branch was named, so none differs from GitHub's.
            #expect(!first.stderr.contains("WARN"))

            // Default branches: GitHub's own, whatever it is called; none for the empty repository.
            var branches: [String: String?] = [:]
            for row in try storeRows(harness, "SELECT repository, default_branch FROM repositories") {
                branches[try row.string("repository")] = try row.optionalString("default_branch")
            }
            for repo in Self.estate.repositories {
                #expect(branches[repo.slug] == .some(repo.isEmpty ? nil : repo.defaultBranch), "\(repo.slug)")
            }
            #expect(Set(Self.estate.repositories.map(\.defaultBranch)) == ["main", "trunk", "develop", "master"])

            // Commits: the default branch's (never the stale `main` beside `master`).
            #expect(try Self.commitsLanded(harness) == Self.commitTruth(Self.estate))
            let stale = try #require(Self.estate.repositories[5].otherBranches["main"]?.last)
            #expect(!(try Self.commitsLanded(harness)).contains("acme/repo-005 \(stale.oid)"))

            // Documentation: every file added, changed or removed, at any depth, with its real path.
            let documentation = try documentationLanded(harness)
            #expect(documentation == documentationTruth(Self.estate))
            #expect(
                documentation.contains { $0.hasPrefix("acme/repo-005 ") && $0.contains(" docs/guides/ops/runbook.md modified") })
            #expect(
                documentation.contains { $0.hasPrefix("acme/repo-005 ") && $0.contains(" docs/adr/") && $0.hasSuffix(" added") })

            // People: every author and commenter as GitHub typed them, bots canonical, deleted as ghost.
            let since = Self.estate.windowStart.addingTimeInterval(-300)
            var pullTruth: [String: (String, Bool)] = [:]
            var reviewTruth: [String: (String, Bool, Bool)] = [:]
            var commentTruth: [String: (String, Bool)] = [:]
            for repo in Self.estate.repositories {
                for pull in repo.pullRequests where pull.updatedAt >= since || pull.state == .open {
                    pullTruth["\(repo.slug) \(pull.databaseId)"] = (Self.canonical(pull.author), pull.author?.isBot ?? false)
                    for review in pull.reviews {
                        // A reply-container review holds only replies in threads. Inline comments are
                        // read from the window start, so only a review submitted since can be told
                        // apart (and only those count in the window's metrics).
                        let comments = pull.reviewComments.filter { $0.reviewId == review.databaseId }
                        let container =
                            review.state == "COMMENTED" && !comments.isEmpty && comments.allSatisfy { $0.inReplyTo != nil }
                            && review.submittedAt >= since
                        reviewTruth["\(repo.slug) \(review.databaseId)"] = (
                            Self.canonical(review.author), review.author?.isBot ?? false,
                            container
                        )
                    }
                    // An open pull request is read with its reviews; its comments only when updated in the window.
                    for comment in pull.comments where pull.updatedAt >= since {
                        commentTruth["\(repo.slug) \(comment.databaseId)"] = (
                            Self.canonical(comment.author), comment.author?.isBot ?? false
                        )
                    }
                }
            }
            var pulls: [String: (String, Bool)] = [:]
            for row in try storeRows(harness, "SELECT repository, database_id, author_login, is_bot FROM pull_requests") {
                pulls["\(try row.string("repository")) \(try row.int("database_id"))"] = (
                    try row.string("author_login"),
                    try row.int("is_bot") == 1
                )
            }
            #expect(pulls.mapValues { "\($0.0) \($0.1)" } == pullTruth.mapValues { "\($0.0) \($0.1)" })
            #expect(pulls.values.contains { $0 == ("dependabot[bot]", true) } && pulls.values.contains { $0 == ("ghost", false) })
            var reviews: [String: (String, Bool, Bool)] = [:]
            for row in try storeRows(
                harness, "SELECT repository, database_id, author_login, is_bot, reply_container FROM reviews")
            {
                reviews["\(try row.string("repository")) \(try row.int("database_id"))"] = (
                    try row.string("author_login"), try row.int("is_bot") == 1, try row.int("reply_container") == 1
                )
            }
            let reviewsGot = reviews.mapValues { "\($0.0) \($0.1) \($0.2)" }
            let reviewsWant = reviewTruth.mapValues { "\($0.0) \($0.1) \($0.2)" }
            #expect(Set(reviewsGot.keys) == Set(reviewsWant.keys))
            for (key, want) in reviewsWant where reviewsGot[key] != want {
                Issue.record("review \(key): \(reviewsGot[key] ?? "missing") where GitHub has \(want)")
            }
            #expect(reviews.values.contains { $0.2 }, "the estate holds reply-container reviews")
            var comments: [String: (String, Bool)] = [:]
            for row in try storeRows(
                harness,
                """
                SELECT repository, database_id, author_login, is_bot FROM comments WHERE parent_kind = 'pull_request'
                """)
            {
                comments["\(try row.string("repository")) \(try row.int("database_id"))"] = (
                    try row.string("author_login"),
                    try row.int("is_bot") == 1
                )
            }
            #expect(comments.mapValues { "\($0.0) \($0.1)" } == commentTruth.mapValues { "\($0.0) \($0.1)" })
            // A bot's commits carry no linked user: its name says it is one.
            var commitBots: [String: Bool] = [:]
            for row in try storeRows(harness, "SELECT oid, is_bot, author_login FROM commits") {
                commitBots[try row.string("oid")] = try row.int("is_bot") == 1
            }
            for repo in Self.estate.repositories {
                for commit in repo.landed where commitBots[commit.oid] != nil {
                    #expect(commitBots[commit.oid] == commit.author.isBot, "\(commit.oid) \(commit.author.name)")
                }
            }
            #expect(commitBots.values.contains(true))
            // Ids past 2³¹ kept whole.
            let large = try storeRows(harness, "SELECT COUNT(*) AS n FROM pull_requests WHERE database_id > 2147483647")
            #expect((try large.first?.int("n") ?? 0) > 0)

            // The pull request over GitHub's 3,000-file list is flagged partial, with its own totals.
            let oversized = try #require(Self.estate.repositories[2].pullRequests.first { $0.files.count > 3000 })
            let metricsRow = try #require(
                try storeRows(harness, "SELECT metrics FROM evidence WHERE repository = 'acme/repo-002'").first)
            let metrics = try JSONDecoder().decode(JSONValue.self, from: Data(try metricsRow.string("metrics").utf8))
            let partial = metrics["humans"]?["changed_lines_partial"]?.array ?? []
            #expect(
                partial == [
                    [
                        "number": .int(Int64(oversized.number)), "files_changed": 3500, "files_listed": 3000,
                        "additions": .int(Int64(oversized.additions)), "deletions": .int(Int64(oversized.deletions)),
                    ]
                ])

            // Between runs: a branch's older commits land on repo-000 (a merge), an issue is
            // transferred, one converted to a discussion, one deleted.
            let base = try #require(Self.estate.repositories[0].landed.last)
            let late = (0..<2).map { index in
                FakeCommit(
                    oid: "1a7e0000000000000000000000000000000000\(index)\(index)", message: "docs: late work \(index)",
                    authoredDate: base.committedDate.addingTimeInterval(-86_400),
                    committedDate: Self.estate.windowStart
                        .addingTimeInterval(86_400 * Double(index + 2)), additions: 1, deletions: 0, changedFiles: 1,
                    author: EstateGenerator.humans[1], linked: true, paths: ["docs/roadmap.md"])
            }
            let merge = FakeCommit(
                oid: "1a7e00000000000000000000000000000000ffff", message: "Merge branch 'late'",
                authoredDate: Self.estate.windowEnd.addingTimeInterval(-60),
                committedDate: Self.estate.windowEnd.addingTimeInterval(-60), additions: 0, deletions: 0,
                changedFiles: 0, author: EstateGenerator.humans[0], linked: true, paths: [])
            let open = Self.estate.repositories[6].issues.filter { $0.state == .open && $0.createdAt < Self.estate.windowEnd }
            try #require(open.count >= 3)
            fake.update { estate in
                estate.repositories[0].land(late + [merge])
                estate.transferIssue(open[0].number, of: "acme/repo-006", to: "acme/repo-007")
                estate.convertIssueToDiscussion(open[1].number, of: "acme/repo-006")
                estate.deleteIssue(open[2].number, of: "acme/repo-006")
            }
            let second = try await run(harness, ["-q", "--new", "--rerun", "ingest"])
            #expect(second.status == 0, "\(second.stderr)")
            let final = fake.estate

            // The later run's commit set is the fresh run's: the late commits are in, though older
            // than what the first run had read.
            #expect(try Self.commitsLanded(harness) == Self.commitTruth(final))
            #expect(try Self.commitsLanded(harness).contains("acme/repo-000 \(late[0].oid)"))
            #expect(try documentationLanded(harness) == documentationTruth(final))
            let fresh = try Harness()
            try fresh.write("m.yaml", Self.estate.manifest(name: "fidelity", endpoint: url, branches: false))
            #expect(try await run(fresh, ["-q"]).status == 0)
            #expect(try Self.commitsLanded(fresh) == Self.commitsLanded(harness))

            // The three issues are gone, with why, and no longer outstanding.
            var gone: [Int64: String] = [:]
            for row in try storeRows(
                harness, "SELECT number, gone_reason FROM issues WHERE repository = 'acme/repo-006' AND gone_at IS NOT NULL")
            {
                gone[try row.int("number")] = try row.string("gone_reason")
            }
            let movedTo = try #require(
                final.repository(owner: "acme", name: "repo-007")?.issues.first { $0.nodeId == open[0].nodeId })
            #expect(
                gone == [
                    Int64(open[0].number): "transferred to acme/repo-007#\(movedTo.number)",
                    Int64(open[1].number): "converted_to_discussion to acme/repo-006#\(open[1].number)",
                    Int64(open[2].number): "deleted",
                ])
            let end = Self.estate.windowEnd
            let outstandingTruth = final.repositories[6].issues.filter { issue in
                issue.author?.isBot != true && issue.createdAt < end
                    && !(issue.state == .closed && (issue.closedAt.map { $0 < end } ?? false))
            }.count
            let evidence = try #require(
                try storeRows(harness, "SELECT metrics FROM evidence WHERE repository = 'acme/repo-006'").first)
            let after = try JSONDecoder().decode(JSONValue.self, from: Data(try evidence.string("metrics").utf8))
            #expect(after["humans"]?["issues_outstanding"]?.int == Int64(outstandingTruth))
            // Gone issues are counted apart, bots' and people's alike.
            #expect(after["gone_issues"]?.int == 3)
            let counters =
                try storeRows(
                    harness,
                    """
                    SELECT counters FROM unit_attempts WHERE stage = 'ingest' AND unit = 'acme/repo-006' AND run_id = 2
                    """
                ).first?.string("counters") ?? ""
            #expect(counters.contains("\"gone_items\":3"), "\(counters)")
        }
    }

    /// A `default_branch` other than GitHub's is honoured (the stale `main` beside `master` is
    /// read), with a warning in the run's output and the ledger; one that does not exist fails
    /// its unit naming GitHub's.
    @Test func aBranchTheManifestNamesIsReadEvenWhenItIsNotGitHubsAndSaysSo() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            let manifest = Self.estate.manifest(
                name: "branches", endpoint: url, settings: ["collect: [commits]"], branches: false
            )
            .replacingOccurrences(
                of: "    - slug: acme/repo-005\n", with: "    - slug: acme/repo-005\n      default_branch: main\n"
            )
            .replacingOccurrences(
                of: "    - slug: acme/repo-003\n", with: "    - slug: acme/repo-003\n      default_branch: nope\n")
            try harness.write("m.yaml", manifest)
            let result = try await run(harness)
            #expect(result.status == 3)
            #expect(
                result.stderr.contains(
                    """
                    WARN  ingest:acme/repo-005: `default_branch` is `main` but GitHub's default branch of acme/repo-005 is `master`; \
                    collecting `main` as the manifest says (remove `default_branch` to follow GitHub)
                    """))
            #expect(
                result.stderr.contains(
                    """
                    FAIL  ingest:acme/repo-003: branch `nope` not found in acme/repo-003; GitHub's default branch is `trunk`: \
                    remove `default_branch` to follow GitHub's, or name a branch that exists [not_found]
                    """))
            let stale = try #require(Self.estate.repositories[5].otherBranches["main"])
            let landed = try storeRows(harness, "SELECT oid FROM commits WHERE repository = 'acme/repo-005'").map {
                try $0.string("oid")
            }
            let since = Self.estate.windowStart.addingTimeInterval(-300)
            #expect(Set(landed) == Set(stale.filter { $0.committedDate >= since }.map(\.oid)))
            let warnings =
                try storeRows(
                    harness,
                    """
                    SELECT warnings FROM unit_attempts WHERE stage = 'ingest' AND unit = 'acme/repo-005'
                    """
                ).first?.string("warnings") ?? ""
            #expect(warnings.contains("GitHub's default branch of acme/repo-005 is `master`"))
        }
    }
}
