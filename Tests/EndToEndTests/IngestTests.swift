import Evidence
import Foundation
import GitHub
import GitHubFake
import Ingest
import JSON
import PostgresDriver
import Refine
import SQLiteDriver
import Store
import TestSupport
import Testing

/// What ingest must land for a repository, computed from the generator's ground truth.
struct Expected: Equatable, CustomStringConvertible {
    var commits = 0
    var pullRequests = 0
    var issues = 0
    var reviewComments = 0

    var description: String {
        "commits \(commits), pull requests \(pullRequests), issues \(issues), review comments \(reviewComments)"
    }

    static func of(_ repo: FakeRepository, estate: FakeEstate) -> Expected {
        let since = estate.windowStart.addingTimeInterval(-300)
        return Expected(
            commits: repo.commits.filter { $0.committedDate >= since && $0.committedDate <= estate.windowEnd }.count,
            pullRequests: repo.pullRequests.filter { $0.updatedAt >= since || $0.state == .open }.count,
            issues: repo.issues.filter { $0.updatedAt >= since || $0.state == .open }.count,
            reviewComments: repo.pullRequests.flatMap(\.reviewComments).filter { $0.updatedAt >= since }.count)
    }
}

/// What ingest must land for every repository of `estate` that has anything.
func expectedLanding(_ estate: FakeEstate) -> [String: Expected] {
    var expected: [String: Expected] = [:]
    for repo in estate.repositories {
        let counts = Expected.of(repo, estate: estate)
        if counts != Expected() { expected[repo.slug] = counts }
    }
    return expected
}

/// Distinct nodes landed per repository and kind.
func landed(_ harness: Harness) throws -> [String: Expected] {
    var result: [String: Expected] = [:]
    for row in try storeRows(
        harness, "SELECT repository, kind, COUNT(DISTINCT node_key) AS n FROM raw_nodes GROUP BY repository, kind")
    {
        let repository = try row.string("repository")
        let count = Int(try row.int("n"))
        switch try row.string("kind") {
        case "commit": result[repository, default: Expected()].commits = count
        case "pull_request": result[repository, default: Expected()].pullRequests = count
        case "issue": result[repository, default: Expected()].issues = count
        case "pull_request_review_comment": result[repository, default: Expected()].reviewComments = count
        default: break
        }
    }
    return result
}

/// Each distinct (operation, variables) of `charges` with GitHub's cost for it, computed from the
/// operation's document by `scripts/graphql-cost.py`.
func priceWithGitHubsFormula(_ charges: [FakeGitHub.Charge]) async throws
    -> [(charge: FakeGitHub.Charge, formula: (requests: Int, cost: Int))]
{
    var seen: Set<String> = []
    let distinct = charges.filter { seen.insert($0.operation + "\n" + $0.variables).inserted }
    let documents = Dictionary(GitHub.Operation.all.map { ($0.name, $0.document) }, uniquingKeysWith: { first, _ in first })
    let input =
        "["
        + distinct.map { charge in
            let document = JSONValue.string(charge.document.isEmpty ? documents[charge.operation] ?? "" : charge.document)
                .canonical
            return "{\"document\":\(document),\"operationName\":\(JSONValue.string(charge.operation).canonical),"
                + "\"variables\":\(charge.variables)}"
        }.joined(separator: ",") + "]"
    let schema = SourceTree.url("schemas/github/schema.graphql")
    let inputFile = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ghillie-cost-\(UUID().uuidString).json")
    try input.write(to: inputFile, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: inputFile) }
    let data = try await ChildProcess.script("graphql-cost.py", [schema.path], input: inputFile).stdout
    struct Priced: Decodable { let requests: Int; let cost: Int }
    let priced = try JSONDecoder().decode([Priced].self, from: data)
    return zip(distinct, priced).map { ($0, ($1.requests, $1.cost)) }
}

func ingestManifest(_ estate: FakeEstate, url: URL, pageSize: Int = 100, extra: [String] = []) -> String {
    estate.manifest(
        name: "ingest-e2e", endpoint: url,
        settings: [
            "collect: [commits, pull_requests, issues, documentation, review_comments]",
            "page_size: \(pageSize)",
        ] + extra)
}

@Suite("Ingest against a fake GitHub", .serialized)
struct IngestTests {
    static let token = "ghp_e2eSecretToken0123456789"
    static let estate = EstateGenerator(seed: 7, repositories: 6).generate()

    func expectedLanding() -> [String: Expected] {
        EndToEndTests.expectedLanding(Self.estate)
    }

    @Test func aMissingTokenStopsBeforeAnythingRunsAndNamesTheVariable() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", ingestManifest(Self.estate, url: try #require(URL(string: "http://127.0.0.1:9/graphql"))))
        let result = try await harness.run(Harness.product, ["m.yaml", "-q"])
        #expect(result.status == 5)
        #expect(
            result.stderr == """
                error: the GitHub token variable `GHILLIE_GITHUB_TOKEN` is not set
                  hint: export GHILLIE_GITHUB_TOKEN=<a token with read access to the estate's repositories> (or name another variable in `github.token_env`)

                """)
    }

    @Test func theWholeEstateLandsCompleteAndTheTokenNowhere() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) { try await landsWhole(fake, url) }
    }

    /// The body of ``theWholeEstateLandsCompleteAndTheTokenNowhere()`` (a method of its own: as a
    /// closure it crashed the 6.3 compiler's SendNonSendable pass).
    func landsWhole(_ fake: FakeGitHub, _ url: URL) async throws {
        let harness = try Harness()
        try harness.write("m.yaml", ingestManifest(Self.estate, url: url))
        let result = try await harness.run(
            Harness.product, ["m.yaml", "--output", "json"],
            environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"ending\" : \"succeeded\""))
        #expect(try landed(harness) == expectedLanding())
        // The estate holds what the checks need: an empty repository and one with > 250 pull requests.
        #expect(expectedLanding().count == 5 && expectedLanding()["acme/repo-001"] == nil)
        #expect((expectedLanding()["acme/repo-002"]?.pullRequests ?? 0) > 250)

        // Nested connections that overflowed their first page landed whole, one row per item.
        // Nested lists are read for items updated since the window start; open items idle
        // since before it are read as summaries (nothing nested in them can be in the window).
        let since = Self.estate.windowStart.addingTimeInterval(-300)
        var overflow: [String: Int] = [:]
        for repo in Self.estate.repositories {
            for pull in repo.pullRequests where pull.updatedAt >= since {
                // GitHub lists at most 3,000 files of a pull request.
                if pull.files.count > 50 { overflow["pull_request_file", default: 0] += min(pull.files.count, 3000) }
                if pull.comments.count > 20 { overflow["pull_request_comment", default: 0] += pull.comments.count }
                if pull.reviews.count > 20 { overflow["pull_request_review", default: 0] += pull.reviews.count }
            }
            for issue in repo.issues where issue.updatedAt >= since && issue.comments.count > 20 {
                overflow["issue_comment", default: 0] += issue.comments.count
            }
        }
        var stored: [String: Int] = [:]
        for row in try storeRows(
            harness,
            """
            SELECT kind, COUNT(DISTINCT node_key) AS n FROM raw_nodes
            WHERE kind IN ('pull_request_file', 'pull_request_comment', 'pull_request_review', 'issue_comment')
            GROUP BY kind
            """)
        { stored[try row.string("kind")] = Int(try row.int("n")) }
        #expect(stored == overflow)
        #expect(overflow.count == 4, "the generated estate should overflow every nested connection: \(overflow)")

        // Documentation changes: the actual files each commit added, changed or removed under each
        // documentation path, at any depth (the generator's own record of what each commit wrote).
        let expectedDocs = documentationTruth(Self.estate)
        let derivedDocs = try documentationLanded(harness)
        #expect(!expectedDocs.isEmpty)
        #expect(derivedDocs == expectedDocs)

        // Refine turned the raw nodes into entities that match the generator's ground truth.
        var truth: [String: Int] = [
            "commits": 0, "pull_requests": 0, "issues": 0, "reviews": 0, "comments": 0,
            "review_comments": 0, "pr_files": 0, "documentation_changes": expectedDocs.count,
        ]
        for repo in Self.estate.repositories {
            let counts = Expected.of(repo, estate: Self.estate)
            truth["commits", default: 0] += counts.commits
            truth["pull_requests", default: 0] += counts.pullRequests
            truth["issues", default: 0] += counts.issues
            truth["review_comments", default: 0] += counts.reviewComments
            for pull in repo.pullRequests where pull.updatedAt >= since || pull.state == .open {
                // Open pull requests are read with their reviews (what waits for review), the
                // rest of what is nested only when updated in the window.
                truth["reviews", default: 0] += pull.reviews.count
                guard pull.updatedAt >= since else { continue }
                truth["comments", default: 0] += pull.comments.count
                truth["pr_files", default: 0] += min(pull.files.count, 3000)
            }
            for issue in repo.issues where issue.updatedAt >= since {
                truth["comments", default: 0] += issue.comments.count
            }
        }
        var entities: [String: Int] = [:]
        for table in truth.keys {
            entities[table] = Int(
                try storeRows(harness, SQL(unsafeSQL: "SELECT COUNT(*) AS n FROM \(table)")).first?.int("n") ?? -1)
        }
        #expect(entities == truth)

        // Evidence: each repository's metrics match values computed from the generator's truth.
        for repo in Self.estate.repositories {
            let start = Self.estate.windowStart
            let end = Self.estate.windowEnd
            func inWindow(_ date: Date?) -> Bool { date.map { start <= $0 && $0 < end } ?? false }
            let row = try #require(
                try storeRows(harness, "SELECT metrics FROM evidence WHERE repository = \(repo.slug)").first)
            let metrics = try JSONDecoder().decode(RepositoryMetrics.self, from: Data(try row.string("metrics").utf8))
            for bots in [false, true] {
                let population = bots ? metrics.bots : metrics.humans
                let pulls = repo.pullRequests.filter { ($0.author?.isBot ?? false) == bots }
                let merged = pulls.filter { inWindow($0.mergedAt) }
                #expect(population.pullRequestsMerged == merged.count, "\(repo.slug) bots=\(bots)")
                #expect(
                    population.pullRequestsClosedUnmerged
                        == pulls.filter { $0.state == .closed && inWindow($0.closedAt) }.count)
                let waits = merged.compactMap { pull in pull.mergedAt.map { $0.timeIntervalSince(pull.createdAt) } }
                #expect(population.openToMergeSeconds.count == waits.count)
                if !waits.isEmpty, let mean = population.openToMergeSeconds.mean {
                    // The fake serves whole seconds; allow for that rounding.
                    #expect(abs(mean - waits.reduce(0, +) / Double(waits.count)) < 2)
                }
                let issues = repo.issues.filter { ($0.author?.isBot ?? false) == bots }
                #expect(population.issuesResolved == issues.filter { $0.state == .closed && inWindow($0.closedAt) }.count)
                #expect(
                    population.issuesOutstanding
                        == issues.filter { issue in
                            issue.createdAt < end && !(issue.state == .closed && (issue.closedAt.map { $0 < end } ?? false))
                        }.count, "\(repo.slug) bots=\(bots)")
            }
        }

        // The estate's metrics cover every repository at once.
        let estateRow = try #require(
            try storeRows(harness, "SELECT metrics, bundle FROM evidence WHERE repository = 'estate:estate'").first)
        let estateMetrics = try JSONDecoder().decode(RepositoryMetrics.self, from: Data(try estateRow.string("metrics").utf8))
        let allPulls = Self.estate.repositories.flatMap(\.pullRequests).filter { $0.author?.isBot != true }
        #expect(
            estateMetrics.humans.pullRequestsMerged
                == allPulls.filter {
                    $0.mergedAt.map { Self.estate.windowStart <= $0 && $0 < Self.estate.windowEnd } ?? false
                }.count)
        #expect(try estateRow.string("bundle").contains("\"repositories\":[{"))

        // The ledger has per-unit counters.
        let busy =
            try storeRows(
                harness,
                """
                SELECT counters FROM unit_attempts WHERE stage = 'ingest' AND unit = 'acme/repo-002'
                """
            ).first?.string("counters") ?? ""
        #expect(busy.contains("\"pages\":") && busy.contains("\"points\":") && busy.contains("\"requests\":"))

        // Review comments came from the REST list, paged (the busy repository has more than 100),
        // with their pull requests resolved, and without the bodies GitHub sent.
        #expect((expectedLanding()["acme/repo-002"]?.reviewComments ?? 0) > 100)
        #expect(fake.stats.restRequests > Self.estate.repositories.count - 1)
        let unresolved = try storeRows(harness, "SELECT COUNT(*) AS n FROM review_comments WHERE pull_request_id IS NULL")
        #expect(try unresolved.first?.int("n") == 0)
        let bodies = try storeRows(
            harness,
            """
            SELECT COUNT(*) AS n FROM raw_nodes WHERE kind = 'pull_request_review_comment' AND payload LIKE '%Nit: consider%'
            """)
        #expect(try bodies.first?.int("n") == 0)

        // Every request the run sent costs what GitHub's published formula gives for its
        // document and variables (so the fake's prices, and the points measured, are GitHub's),
        // and every one costs 1 point.
        let priced = try await priceWithGitHubsFormula(fake.charges)
        #expect(!priced.isEmpty)
        for (charge, formula) in priced {
            #expect(charge.points == formula.cost, "\(charge.operation) \(charge.variables): \(formula.requests) requests")
            #expect(formula.cost == 1, "\(charge.operation) \(charge.variables): \(formula.requests) requests")
        }

        // The token appears in no output, no ledger row, no stored byte.
        #expect(!result.stdout.contains(Self.token) && !result.stderr.contains(Self.token))
        for file in [".ghillie/ghillie.sqlite", ".ghillie/ghillie.sqlite-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: harness.path(file)))) ?? Data()
            #expect(bytes.range(of: Data(Self.token.utf8)) == nil, "\(file) holds the token")
        }

        // A second run of the same window finds everything up to date and asks GitHub nothing.
        let before = (fake.stats.requests, fake.stats.restRequests)
        let again = try await harness.run(
            Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
        #expect(again.status == 0)
        #expect(fake.stats.requests == before.0 && fake.stats.restRequests == before.1)
    }

    /// A fake serving the estate, and a harness whose store holds one complete ingest of it.
    func ingestedOnce() async throws -> (FakeGitHub, Harness, [String: String]) {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        do {
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(Self.estate, url: url))
            let environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            let first = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            return (fake, harness, environment)
        } catch {
            await fake.stop()
            throw error
        }
    }

    /// One unit at a time (`--jobs 1`), every answer 30 ms late: a page whose items hold several
    /// overflowing lists reads them side by side (the fake sees more than one request in flight,
    /// which only one unit can cause), and everything still lands, each list whole.
    @Test func aPagesOverflowingListsAreReadSideBySideAndLandWhole() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        fake.inject(Fault(.delay(.milliseconds(30)), times: 1_000_000))
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(Self.estate, url: url))
            let result = try await harness.run(
                Harness.product, ["m.yaml", "-q", "--only", "ingest", "--jobs", "1"],
                environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.peakInFlight > 1)
            // Every GraphQL request of the run took one of the credential's requests of the
            // minute, which workers share (`github.max_requests_per_minute`).
            let paced = try storeRows(
                harness, "SELECT COUNT(*) AS n FROM endpoint_slots WHERE endpoint LIKE 'github-minute:%'")
            #expect(try paced.first?.int("n") == Int64(fake.stats.requests))
            #expect(try landed(harness) == expectedLanding())
            // Every list that overflowed was read to its end: its checkpoint is done and holds as
            // many items as GitHub counted (or GitHub's 3,000-file cap).
            let lists = try storeRows(
                harness,
                """
                SELECT stream, done, nodes, total_count AS total FROM ingest_checkpoints WHERE stream LIKE 'nested:%'
                """)
            #expect(lists.count > 1)
            for list in lists {
                let (name, done) = (try list.string("stream"), try list.int("done"))
                let (nodes, total) = (try list.int("nodes"), try list.int("total"))
                #expect(done == 1 && nodes >= min(total, 3_000), "\(name): \(nodes) of \(total), done \(done)")
            }
        }
    }

    @Test func aLaterRunReusesTheOpenItemSnapshotYetSeesEveryChangeToAnOpenItem() async throws {
        let (fake, harness, environment) = try await ingestedOnce()
        try await afterwards({ await fake.stop() }) {

            // Long-untouched open items change after the first run: one issue is closed, one pull
            // request renamed. Neither is in the window's updated-since range of the first run.
            let since = Self.estate.windowStart.addingTimeInterval(-300)
            let repo = try #require(Self.estate.repository(owner: "acme", name: "repo-000"))
            let issue = try #require(repo.issues.first { $0.state == .open && $0.updatedAt < since })
            let pull = try #require(repo.pullRequests.first { $0.state == .open && $0.updatedAt < since })
            let now = Date()
            fake.update { estate in
                guard let index = estate.repositories.firstIndex(where: { $0.slug == "acme/repo-000" }) else { return }
                if let i = estate.repositories[index].issues.firstIndex(where: { $0.number == issue.number }) {
                    estate.repositories[index].issues[i].state = .closed
                    estate.repositories[index].issues[i].closedAt = now
                    estate.repositories[index].issues[i].updatedAt = now
                }
                if let p = estate.repositories[index].pullRequests.firstIndex(where: { $0.number == pull.number }) {
                    estate.repositories[index].pullRequests[p].title = "Renamed after the first run"
                    estate.repositories[index].pullRequests[p].updatedAt = now
                }
            }
            let before = fake.stats.requests
            let restBefore = fake.stats.restRequests
            // One unit at a time, so that no two units ask for a probe at the same moment (then the
            // second finds every other repository claimed and reads its own: one request more).
            let again = try await harness.run(
                Harness.product, ["m.yaml", "-q", "--new", "--rerun", "ingest", "--jobs", "1"],
                environment: environment)
            #expect(again.status == 0, "\(again.stderr)")
            // One probe for the whole estate, then one combined request for the one repository that
            // changed: the open items were not read again, the quiet repositories not at all...
            let active = Self.estate.repositories.count
            #expect(fake.stats.requests - before == 2, "\(fake.stats.requests - before) requests")
            #expect(fake.stats.byOperation["ProbeRepositories"] == 1)
            let quiet = try storeRows(
                harness,
                """
                SELECT COUNT(*) AS n FROM unit_attempts WHERE stage = 'ingest' AND run_id = 2 AND counters LIKE '%"quiet_by_probe":1%'
                """)
            #expect(try quiet.first?.int("n") == Int64(active - 1))
            // The probe is priced as GitHub prices it (one point for the whole estate).
            let probes = try await priceWithGitHubsFormula(fake.charges.filter { $0.operation == "ProbeRepositories" })
            #expect(probes.count == 1)
            for (charge, formula) in probes {
                #expect(charge.points == formula.cost && formula.cost == 1, "\(formula.requests) requests")
            }
            // ...and review comments were asked for only where a pull request changed (repo-000).
            #expect(fake.stats.restRequests - restBefore == 1, "\(fake.stats.restRequests - restBefore) REST requests")
            let reused = try storeRows(
                harness,
                """
                SELECT counters FROM unit_attempts WHERE stage = 'ingest' AND run_id = 2
                """
            ).map { try $0.string("counters") }
            #expect(reused.count == active && reused.allSatisfy { $0.contains("\"open_snapshot_reused\":2") }, "\(reused)")
            // ...and yet both changes landed.
            let issueRow = try storeRows(
                harness,
                """
                SELECT state FROM issues WHERE repository = 'acme/repo-000' AND number = \(issue.number)
                """
            ).first
            #expect(try issueRow?.string("state") == "closed")
            let pullRow = try storeRows(
                harness,
                """
                SELECT title FROM pull_requests WHERE repository = 'acme/repo-000' AND number = \(pull.number)
                """
            ).first
            #expect(try pullRow?.string("title") == "Renamed after the first run")
        }
    }

    @Test func aRepositoryGoneSinceTheLastRunFailsAloneAndTheProbeStillServesTheRest() async throws {
        let (fake, harness, environment) = try await ingestedOnce()
        try await afterwards({ await fake.stop() }) {

            fake.update { estate in estate.repositories.removeAll { $0.slug == "acme/repo-004" } }
            let again = try await harness.run(
                Harness.product, ["m.yaml", "-q", "--new", "--rerun", "ingest", "--jobs", "1"],
                environment: environment)
            #expect(again.status == 3, "\(again.stderr)")
            #expect(again.stderr.contains("FAIL  ingest:acme/repo-004: "))
            // The probe that named the gone repository answered for the others, which stayed quiet.
            #expect(fake.stats.byOperation["ProbeRepositories"] == 1)
            let quiet = try storeRows(
                harness,
                """
                SELECT COUNT(*) AS n FROM unit_attempts WHERE stage = 'ingest' AND run_id = 2 AND counters LIKE '%"quiet_by_probe":1%'
                """)
            #expect(try quiet.first?.int("n") == Int64(Self.estate.repositories.count - 1))
        }
    }

    @Test func aForkAndItsUpstreamEachKeepTheirOwnRows() async throws {
        // Two owners with the same generated history: byte-identical nodes, as a fork and its
        // upstream have. Each repository must land all of its own.
        var estate = EstateGenerator(seed: 9, repositories: 2, owner: "upstream").generate()
        estate.repositories += EstateGenerator(seed: 9, repositories: 2, owner: "fork").generate().repositories
        let fake = FakeGitHub(estate: estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(estate, url: url))
            let result = try await harness.run(
                Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(result.status == 0, "\(result.stderr)")
            let landedNow = try landed(harness)
            for repo in estate.repositories {
                let counts = Expected.of(repo, estate: estate)
                if counts != Expected() { #expect(landedNow[repo.slug] == counts, "\(repo.slug)") }
            }
            #expect(landedNow["upstream/repo-000"] == landedNow["fork/repo-000"] && landedNow["fork/repo-000"] != nil)
        }
    }

    @Test func faultsEndInSuccessOrAResumableFailureNeverInGaps() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            fake.inject(Fault(.status(502), operation: "RepositoryFirstPages", times: 2))
            fake.inject(Fault(.secondaryLimit(retryAfter: 1), operation: "RepositoryFirstPages", times: 1))
            fake.inject(Fault(.truncatedBody, operation: "RepositoryFirstPages", times: 1))
            fake.inject(Fault(.malformedJSON, operation: "RepositoryPullRequests", times: 1))
            fake.inject(Fault(.status(500), operation: "PullRequestConnection", times: 1))
            fake.inject(Fault(.status(502), operation: FakeGitHub.reviewCommentsOperation, times: 1))
            fake.inject(Fault(.secondaryLimit(retryAfter: 1), operation: FakeGitHub.reviewCommentsOperation, times: 1))
            fake.inject(Fault(.truncatedBody, operation: FakeGitHub.reviewCommentsOperation, skip: 2, times: 1))
            fake.inject(
                Fault(
                    .graphQLError("Something went wrong while executing your query."),
                    repository: "acme/repo-004", times: 1000))
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(Self.estate, url: url))
            let first = try await harness.run(Harness.product, ["m.yaml"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(first.status == 3, "\(first.stderr)")
            #expect(
                first.stderr.contains(
                    "FAIL  ingest:acme/repo-004: GitHub could not answer in time: Something went wrong while executing your query. [timeout]"
                ))
            var partial = expectedLanding()
            partial["acme/repo-004"] = nil
            var got = try landed(harness)
            got["acme/repo-004"] = nil
            #expect(got == partial)
            // Every transient fault fired as often as injected (and was survived); repo-004's
            // GraphQL error fired, and kept firing.
            let fired = fake.faultsFired
            #expect(Array(fired.dropLast()) == [2, 1, 1, 1, 1, 1, 1, 1], "\(fired)")
            #expect((fired.last ?? 0) >= 1)

            fake.clearFaults()
            let second = try await harness.run(
                Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(try landed(harness) == expectedLanding())
            let attempts = try storeRows(
                harness,
                """
                SELECT COUNT(*) AS n FROM unit_attempts WHERE stage = 'ingest' AND state = 'succeeded' AND reused_from_run IS NULL
                """)
            #expect(attempts.first.flatMap { try? $0.int("n") } == 6)
        }
    }

    @Test func aSpentBudgetFailsUnitsResumablyAndARerunAfterTheResetCompletes() async throws {
        // 3 points a window of 1 second: some pages of the busy repository need more than that
        // with their overflowing nested lists, so this also checks that those lists are kept
        // between runs. The budget comes back only when the window ends, as on GitHub (the
        // ledger remembers what GitHub said, so a rerun before the reset would not even ask).
        let fake = FakeGitHub(estate: Self.estate, token: Self.token, budget: 3, resetIn: 1)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(Self.estate, url: url, extra: ["max_rate_limit_wait_minutes: 0"]))
            let first = try await harness.run(
                Harness.product, ["m.yaml", "--jobs", "1"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            // Units stop cleanly as interrupted (not failed): exit 130, a rerun resumes.
            #expect(first.status == 130)
            #expect(first.stderr.contains(" interrupted: GitHub's rate limit is exhausted until "))
            #expect(
                first.stderr.contains(
                    "longer than github.max_rate_limit_wait_minutes allows; rerun after that to resume [rate_limit_exhausted]"))
            let stopped = try storeRows(
                harness,
                """
                SELECT COUNT(*) AS n FROM unit_attempts WHERE error_code = 'rate_limit_exhausted' AND state = 'interrupted'
                """)
            #expect((stopped.first.flatMap { try? $0.int("n") } ?? 0) >= 1)

            // Rerun after each reset until the run completes. One unit at a time: with several,
            // each would spend the window's budget re-reading the page it stopped in. The bound
            // only stops a run that never ends; a loaded machine needs more rounds (each gets one
            // 3-point window), so it is generous.
            var result = first
            var rounds = 0
            while result.status == 130 && rounds < 240 {
                // Until the budget's window ends (on the second its `resetAt` names).
                try await Task.sleep(for: .seconds(max(0, fake.budgetResetsAt.timeIntervalSinceNow) + 0.05))
                result = try await harness.run(
                    Harness.product, ["m.yaml", "-q", "--jobs", "1"],
                    environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
                rounds += 1
            }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try landed(harness) == expectedLanding())
            #expect(try writtenTwiceRaw(harness) == [])
        }
    }

    @Test func sigkillInTheMiddleOfPaginationResumesAtThePage() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            // Slow every answer down so the kill lands mid-stream.
            fake.inject(Fault(.delay(.milliseconds(40)), times: 100_000))
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(Self.estate, url: url, pageSize: 10))
            let victim = harness.process(
                Harness.product, ["m.yaml", "-q", "--jobs", "2"],
                environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            victim.standardError = FileHandle.nullDevice
            try victim.run()
            let midway = await harness.waitUntil(timeout: 60) {
                let pages = try? storeRows(
                    harness,
                    """
                    SELECT pages FROM ingest_checkpoints
                    WHERE repository = 'acme/repo-002' AND stream = 'pull_requests_updated' AND done = 0
                    """
                ).first?.int("pages")
                return (pages ?? 0) >= 5
            }
            #expect(midway)
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            let pagesBefore =
                try storeRows(
                    harness,
                    """
                    SELECT pages FROM ingest_checkpoints WHERE repository = 'acme/repo-002' AND stream = 'pull_requests_updated'
                    """
                ).first?.int("pages") ?? 0

            fake.clearFaults()
            let resumed = try await harness.run(
                Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try landed(harness) == expectedLanding())
            // The resumed attempt fetched only the pages after the checkpoint.
            let busy = try #require(Self.estate.repository(owner: "acme", name: "repo-002"))
            let since = Self.estate.windowStart.addingTimeInterval(-300)
            let updatedPages = Int64((busy.pullRequests.filter { $0.updatedAt >= since }.count + 1 + 9) / 10)
            let total =
                try storeRows(
                    harness,
                    """
                    SELECT pages FROM ingest_checkpoints WHERE repository = 'acme/repo-002' AND stream = 'pull_requests_updated'
                    """
                ).first?.int("pages") ?? 0
            #expect(pagesBefore >= 5 && total <= updatedPages + 1)
            let interrupted = try storeRows(harness, "SELECT COUNT(*) AS n FROM unit_attempts WHERE state = 'interrupted'")
            #expect((interrupted.first.flatMap { try? $0.int("n") } ?? 0) >= 1)
        }
    }

    @Test func sigkillInTheMiddleOfTheReviewCommentListResumesAtItsPage() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            // The busy repository's REST pages answer slowly, so the kill lands between them.
            fake.inject(
                Fault(
                    .delay(.milliseconds(400)), operation: FakeGitHub.reviewCommentsOperation,
                    repository: "acme/repo-002", times: 100_000))
            let harness = try Harness()
            try harness.write("m.yaml", ingestManifest(Self.estate, url: url))
            let victim = harness.process(Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            victim.standardError = FileHandle.nullDevice
            try victim.run()
            let pagesQuery: SQL = """
                SELECT pages, done FROM ingest_checkpoints WHERE repository = 'acme/repo-002' AND stream = 'review_comments'
                """
            let midway = await harness.waitUntil(timeout: 60) {
                guard let row = try? storeRows(harness, pagesQuery).first else { return false }
                return (try? row.int("pages")) ?? 0 >= 1 && (try? row.int("done")) == 0
            }
            #expect(midway)
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            let pagesBefore = try storeRows(harness, pagesQuery).first?.int("pages") ?? 0

            fake.clearFaults()
            let restBefore = fake.stats.byOperation[FakeGitHub.reviewCommentsOperation] ?? 0
            let resumed = try await harness.run(
                Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try landed(harness) == expectedLanding())
            #expect(try writtenTwiceRaw(harness) == [])
            // The resumed attempt asked only for the pages after the checkpoint.
            let busy = try #require(Self.estate.repository(owner: "acme", name: "repo-002"))
            let since = Self.estate.windowStart.addingTimeInterval(-300)
            let pages = Int64((busy.pullRequests.flatMap(\.reviewComments).filter { $0.updatedAt >= since }.count + 99) / 100)
            // (Counted by the resumed attempt itself: the killed process's last request may still
            // reach the fake after the kill.)
            let counters =
                try storeRows(
                    harness,
                    """
                    SELECT counters FROM unit_attempts WHERE stage = 'ingest' AND unit = 'acme/repo-002' AND state = 'succeeded'
                    """
                ).first?.string("counters") ?? ""
            let asked =
                Int64(
                    counters.components(separatedBy: "\"rest_requests\":").dropFirst().first?
                        .prefix { $0.isNumber } ?? "") ?? -1
            #expect(Int64((fake.stats.byOperation[FakeGitHub.reviewCommentsOperation] ?? 0) - restBefore) >= asked)
            #expect(pagesBefore >= 1 && pages >= 2)
            #expect(asked == pages - pagesBefore, "\(asked) REST requests after the kill at page \(pagesBefore) of \(pages)")
        }
    }
}

/// Every documentation change of the window per the generator: `slug oid path kind`.
func documentationTruth(_ estate: FakeEstate) -> Set<String> {
    let since = estate.windowStart.addingTimeInterval(-300)
    var truth: Set<String> = []
    for repo in estate.repositories {
        for path in repo.documentationPaths {
            for change in repo.fileChanges(under: path)
            where change.commit.committedDate >= since && change.commit.committedDate <= estate.windowEnd {
                truth.insert("\(repo.slug) \(change.commit.oid) \(change.path) \(change.kind)")
            }
        }
    }
    return truth
}

/// Every documentation change refine derived: `slug oid path kind`.
func documentationLanded(_ harness: Harness) throws -> Set<String> {
    Set(
        try storeRows(harness, "SELECT repository, commit_oid, path, change_type FROM documentation_changes").map { row in
            "\(try row.string("repository")) \(try row.string("commit_oid")) \(try row.string("path")) \(try row.string("change_type"))"
        })
}

/// Raw rows stored twice (must be none: raw nodes are deduplicated by content).
func writtenTwiceRaw(_ harness: Harness) throws -> [String] {
    try storeRows(harness, "SELECT content_hash FROM raw_nodes GROUP BY content_hash HAVING COUNT(*) > 1")
        .map { try $0.string("content_hash") }
}

/// Ingest on a PostgreSQL store: the same landing, checkpoints and dedupe through libpq.
@Test(.enabled(if: TestDatabase.postgresEnabled))
func ingestLandsTheEstateOnPostgres() async throws {
    let url = try TestDatabase.requirePostgres()
    let owner = "pg\(UInt32.random(in: 0...UInt32.max))"
    let estate = EstateGenerator(seed: 11, repositories: 3, owner: owner).generate()
    let fake = FakeGitHub(estate: estate, token: "pg-token")
    let endpoint = try await fake.start()
    try await afterwards({ await fake.stop() }) {
        let harness = try Harness()
        try harness.write(
            "m.yaml",
            ingestManifest(estate, url: endpoint).replacingOccurrences(
                of: "name: ingest-e2e", with: "name: ingest-\(owner)"))
        let environment = ["GHILLIE_GITHUB_TOKEN": "pg-token", "GHILLIE_STORE": url]
        let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let database = Database(connection: try PostgresConnection(url: url), displayName: "pg")
        var landed: [String: Int] = [:]
        for row in try database.query(
            """
            SELECT kind, COUNT(DISTINCT node_key) AS n FROM raw_nodes
            WHERE repository LIKE \(owner + "/%") AND kind IN ('commit', 'pull_request', 'issue') GROUP BY kind
            """)
        { landed[try row.string("kind")] = Int(try row.int("n")) }
        var expected: [String: Int] = [:]
        for repo in estate.repositories {
            let counts = Expected.of(repo, estate: estate)
            expected["commit", default: 0] += counts.commits
            expected["pull_request", default: 0] += counts.pullRequests
            expected["issue", default: 0] += counts.issues
        }
        #expect(landed == expected)
        // A rerun of a new run for the same window re-reads open items only; nothing is stored twice.
        let again = try await harness.run(
            Harness.product, ["m.yaml", "-q", "--new", "--rerun", "ingest"], environment: environment)
        #expect(again.status == 0)
        let twice = try database.query(
            """
            SELECT content_hash FROM raw_nodes WHERE repository LIKE \(owner + "/%") GROUP BY content_hash HAVING COUNT(*) > 1
            """)
        #expect(twice.isEmpty)
    }
}
