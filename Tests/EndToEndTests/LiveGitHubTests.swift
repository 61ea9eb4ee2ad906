import Evidence
import Foundation
import GitHubFake
import JSON
import Store
import TestSupport
import Testing

/// Ingest that holds on GitHub as it is live: items changing while they are read, queries that
/// time out, secondary rate limits without `Retry-After`, repositories the token may not read,
/// servers without rate limiting — never a success with a gap.
@Suite("Ingest against a live GitHub", .serialized)
struct LiveGitHubTests {
    static let token = "ghp_liveToken0123456789"
    static let estate = EstateGenerator(seed: 7, repositories: 6).generate()

    func run(_ harness: Harness, _ arguments: [String] = ["-q"]) async throws -> Harness.Result {
        try await harness.run(Harness.product, ["m.yaml"] + arguments, environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
    }

    func started(_ configure: (inout Behaviour) -> Void = { _ in }, extra: [String] = [], pageSize: Int = 100)
        async throws -> (FakeGitHub, Harness)
    {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        fake.configure(configure)
        let url = try await fake.start()
        let harness = try Harness()
        try harness.write("m.yaml", ingestManifest(Self.estate, url: url, pageSize: pageSize, extra: extra))
        return (fake, harness)
    }

    /// The window's metrics computed from an estate: what a correct run reports.
    static func metrics(_ estate: FakeEstate) -> [String: [Int]] {
        let start = estate.windowStart
        let end = estate.windowEnd
        func inWindow(_ date: Date?) -> Bool { date.map { start <= $0 && $0 < end } ?? false }
        var result: [String: [Int]] = [:]
        for repo in estate.repositories {
            for bots in [false, true] {
                let pulls = repo.pullRequests.filter { ($0.author?.isBot ?? false) == bots }
                let issues = repo.issues.filter { ($0.author?.isBot ?? false) == bots }
                result["\(repo.slug) \(bots)"] = [
                    pulls.filter { inWindow($0.mergedAt) }.count,
                    pulls.filter { $0.mergedAt == nil && inWindow($0.closedAt) }.count,
                    issues.filter { $0.state == .closed && inWindow($0.closedAt) }.count,
                    issues.filter { $0.createdAt < end && !($0.state == .closed && ($0.closedAt.map { $0 < end } ?? false)) }
                        .count,
                ]
            }
        }
        return result
    }

    static func metricsLanded(_ harness: Harness) throws -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for row in try storeRows(harness, "SELECT repository, metrics FROM evidence WHERE repository NOT LIKE 'estate:%'") {
            let metrics = try JSONDecoder().decode(RepositoryMetrics.self, from: Data(try row.string("metrics").utf8))
            for (bots, population) in [(false, metrics.humans), (true, metrics.bots)] {
                result["\(try row.string("repository")) \(bots)"] = [
                    population.pullRequestsMerged, population.pullRequestsClosedUnmerged, population.issuesResolved,
                    population.issuesOutstanding,
                ]
            }
        }
        return result
    }

    static func counter(_ harness: Harness, _ name: String) throws -> Int64 {
        try storeRows(harness, "SELECT counters FROM unit_attempts WHERE stage = 'ingest'").reduce(0) { total, row in
            let counters = (try? row.string("counters")) ?? ""
            let value = counters.components(separatedBy: "\"\(name)\":").dropFirst().first?.prefix { $0.isNumber } ?? ""
            return total + (Int64(value) ?? 0)
        }
    }

    /// Items are updated, opened, closed and merged between the pages of a read (as on a busy
    /// repository with bots): an updated item moves to the head of its list, behind the cursor.
    /// The read looks at the head again and the run reports exactly the final state's numbers
    /// on its first invocation — or fails, and the rerun does.
    @Test func aRepositoryChangingWhileItIsReadGivesTheFinalStatesNumbers() async throws {
        let (fake, harness) = try await started({ $0.live = LiveChanges(perRepository: 6) }, pageSize: 10)
        try await afterwards({ await fake.stop() }) {
            var result = try await run(harness)
            if result.status == 3 { result = try await run(harness) }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.liveChanges >= 12, "\(fake.stats.liveChanges) changes")
            #expect(try Self.counter(harness, "head_passes") > 0)
            #expect(try Self.metricsLanded(harness) == Self.metrics(fake.estate))
        }
    }

    /// GitHub gives up on heavy queries (HTTP 502/504, or 200 with "Something went wrong while
    /// executing your query. This may be the result of a timeout…"): every kind of request is
    /// retried at half its page size down to one node — the combined first request, later pages
    /// and nested lists — and the run succeeds with everything.
    @Test(arguments: [HeavyQueries.Answer.badGateway, .gatewayTimeout, .timeoutError])
    func heavyQueryTimeoutsShrinkEveryRequestAndTheRunSucceeds(_ answer: HeavyQueries.Answer) async throws {
        let (fake, harness) = try await started({ $0.heavyQueries = HeavyQueries(nodeLimit: 1_500, answer: answer) })
        try await afterwards({ await fake.stop() }) {
            let result = try await run(harness)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.timeouts > 0)
            #expect(try Self.counter(harness, "page_size_reductions") > 0)
            #expect(try landed(harness) == expectedLanding(Self.estate))
        }
    }

    /// A secondary rate limit without `Retry-After` is a wait (at least the configured floor,
    /// doubling), shared by every unit of the token, not a failure: the run succeeds.
    @Test func secondaryLimitsWithoutRetryAfterAreWaitedOut() async throws {
        let (fake, harness) = try await started(
            { $0.secondaryLimits = SecondaryLimits(requests: 15, window: 2, penalty: 1) },
            extra: ["secondary_limit_wait_seconds: 1"])
        try await afterwards({ await fake.stop() }) {
            let result = try await run(harness)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.secondaryLimited >= 1)
            #expect(try Self.counter(harness, "secondary_limits") >= 1)
            #expect(try landed(harness) == expectedLanding(Self.estate))
        }
    }

    /// A repository of an organisation that enforces SAML single sign-on the token is not
    /// authorised for answers `FORBIDDEN` (with data for the others): its unit fails, naming the
    /// cause and the fix; every other repository lands, and a later run's batched probe still
    /// serves them.
    @Test func aRepositoryBehindSAMLFailsAloneWithTheFixNamed() async throws {
        let (fake, harness) = try await started({ $0.forbidden = ["acme/repo-004": true] })
        try await afterwards({ await fake.stop() }) {
            let result = try await run(harness, [])
            #expect(result.status == 3)
            #expect(
                result.stderr.contains(
                    """
                    FAIL  ingest:acme/repo-004: GitHub refused: Resource protected by organization SAML enforcement. You must grant \
                    your Personal Access token access to this organization. — the organisation enforces SAML single sign-on and the \
                    token is not authorised for it: authorise the token for the organisation (GitHub → Settings → Developer settings \
                    → Personal access tokens → Configure SSO), or use a GitHub App installed on it [forbidden]
                    """), "\(result.stderr)")
            var expected = expectedLanding(Self.estate)
            expected["acme/repo-004"] = nil
            #expect(try landed(harness) == expected)

            let again = try await run(harness, ["-q", "--new", "--rerun", "ingest", "--jobs", "1"])
            #expect(again.status == 3)
            #expect(fake.stats.byOperation["ProbeRepositories"] == 1)
            // Every repository but the forbidden one is quiet (the empty one too).
            #expect(try Self.counter(harness, "quiet_by_probe") == Int64(Self.estate.repositories.count - 1))
        }
    }

    /// One repository of 25 open pull requests, each last updated `offset` after the window
    /// starts plus a minute per pull request, ingested in pages of 10 while `change` happens
    /// once: the fake, the harness after the run, and the run's result.
    func openPullRequests(updated offset: TimeInterval, while change: LiveChanges.Change) async throws
        -> (FakeGitHub, Harness, Harness.Result, FakeRepository)
    {
        let generated = EstateGenerator(seed: 7, repositories: 1).generate()
        var repo = try #require(generated.repositories.first)
        repo.pullRequests = Array(repo.pullRequests.prefix(25)).enumerated().map { index, pull in
            var pull = pull
            pull.state = .open
            pull.mergedAt = nil
            pull.closedAt = nil
            pull.updatedAt = generated.windowStart.addingTimeInterval(offset + Double(index * 60))
            return pull
        }
        let estate = FakeEstate(repositories: [repo], windowStart: generated.windowStart, windowEnd: generated.windowEnd)
        let fake = FakeGitHub(estate: estate, token: Self.token)
        fake.configure { $0.live = LiveChanges(perRepository: 1, changes: [change]) }
        let url = try await fake.start()
        let harness = try Harness()
        try harness.write("m.yaml", ingestManifest(estate, url: url, pageSize: 10))
        return (fake, harness, try await run(harness), repo)
    }

    /// One pull request is commented on while its list is read: it moves to the head, behind
    /// the cursor. The read's last page carries the list's head whole, so the run takes it from
    /// there — with the new comment — and needs no further look at the head.
    @Test func anItemThatMovesToTheHeadDuringTheReadIsTakenFromTheLastPagesHead() async throws {
        // Updated in the window: the updated list as well as the open one takes three pages.
        let (fake, harness, result, repo) = try await openPullRequests(updated: 86_400, while: .commentOnPullRequest)
        try await afterwards({ await fake.stop() }) {
            let oldest = try #require(repo.pullRequests.min { $0.updatedAt < $1.updatedAt })
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.liveChanges == 1)
            // Taken from the head of both lists it is in: updated, and open.
            #expect(try Self.counter(harness, "moved_items_from_head") == 2)
            #expect(try Self.counter(harness, "head_passes") == 0)
            let comments = try storeRows(
                harness,
                """
                SELECT COUNT(*) AS n FROM comments WHERE parent_kind = 'pull_request' AND parent_id = \(oldest.databaseId)
                """
            ).first?.int("n")
            #expect(comments == Int64(oldest.comments.count + 1))
        }
    }

    /// A pull request the read has already listed as open is merged before the read ends (the
    /// updated list was read whole in the first request, before the merge). GitHub then counts
    /// one open pull request fewer than were listed: the open list is read again at once, and
    /// the one it no longer lists is looked up by id — the run stores it merged, as it now is,
    /// not open as it was when first listed.
    @Test func aPullRequestListedOpenAndMergedDuringTheReadIsNotLeftOpen() async throws {
        // None updated in the window: the updated list is done in the first request.
        let (fake, harness, result, repo) = try await openPullRequests(
            updated: -30 * 86_400,
            while: .mergePullRequest(newest: true))
        try await afterwards({ await fake.stop() }) {
            let newest = try #require(repo.pullRequests.max { $0.updatedAt < $1.updatedAt })
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.liveChanges == 1)
            #expect(try Self.counter(harness, "stream_rereads") == 1)
            #expect(try Self.counter(harness, "resolved_items") == 1)
            let state = try storeRows(harness, "SELECT state FROM pull_requests WHERE number = \(newest.number)").first
            #expect(try state?.string("state") == "merged")
        }
    }

    /// A stream whose read cannot be reconciled with what GitHub counts (here: a page that lost
    /// an item) is read again at once, from its head, and the run gets everything.
    @Test func aStreamThatFailsItsCompletenessCheckOnceIsReadAgainInTheSameRun() async throws {
        let (fake, harness) = try await started(pageSize: 10)
        try await afterwards({ await fake.stop() }) {
            fake.inject(Fault(.dropFirstNode, operation: "RepositoryOpenIssues", repository: "acme/repo-002"))
            let result = try await run(harness)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try Self.counter(harness, "stream_rereads") == 1)
            #expect(try landed(harness) == expectedLanding(Self.estate))
        }
    }

    /// A stream that fails its check again when read again fails its unit, and is not done and
    /// moves no coverage: the rerun reads it again, whole, and gets everything.
    @Test func aStreamThatFailsItsCompletenessCheckTwiceIsReadAgainByTheRerun() async throws {
        let (fake, harness) = try await started(pageSize: 10)
        try await afterwards({ await fake.stop() }) {
            // Every page of the list loses an item during the first run.
            fake.inject(Fault(.dropFirstNode, operation: "RepositoryOpenIssues", repository: "acme/repo-002", times: 1_000))
            let first = try await run(harness)
            fake.clearFaults()
            #expect(first.status == 3)
            #expect(first.stderr.contains("FAIL  ingest:acme/repo-002: issues_open listed "))
            #expect(
                first.stderr.contains(" the unit fails rather than report a gap (a rerun reads the stream again) [incomplete]"))
            let checkpoint = try #require(
                try storeRows(
                    harness,
                    """
                    SELECT done, pages FROM ingest_checkpoints WHERE repository = 'acme/repo-002' AND stream = 'issues_open'
                    """
                ).first)
            #expect(try checkpoint.int("done") == 0 && checkpoint.int("pages") == 0)
            #expect(
                try storeRows(
                    harness,
                    """
                    SELECT 1 FROM ingest_coverage WHERE repository = 'acme/repo-002' AND stream = 'issues_open'
                    """
                ).isEmpty)
            let second = try await run(harness)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(try landed(harness) == expectedLanding(Self.estate))
        }
    }

    /// GitHub Enterprise Server with rate limiting disabled: no budget anywhere, `/rate_limit`
    /// answers 404. Runs and `check` both succeed.
    @Test func gitHubEnterpriseWithoutRateLimitingRunsAndChecks() async throws {
        let (fake, harness) = try await started({ $0.rateLimiting = false })
        try await afterwards({ await fake.stop() }) {
            let result = try await run(harness)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try landed(harness) == expectedLanding(Self.estate))
            let check = try await harness.run(
                Harness.product, ["check", "m.yaml"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(check.status == 0, "\(check.stdout)")
            #expect(check.stdout.contains(" answers (for review comments); rate limiting is not enabled on this server\n"))
        }
    }

    /// Issue #27: `check` reads one item of each kind the manifest collects, under each
    /// repository permission, and names the ones a fine-grained token (or an App) lacks; what
    /// the manifest does not collect is not asked for.
    @Test func checkNamesThePermissionsAFineGrainedTokenLacks() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        fake.configure { $0.permissions = ["Contents"] }
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            let environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            try harness.write(
                "all.yaml",
                Self.estate.manifest(name: "all", endpoint: url, settings: ["collect: [commits, pull_requests, issues]"]))
            let result = try await harness.run(Harness.product, ["check", "all.yaml"], environment: environment)
            #expect(result.status == 5)
            #expect(
                result.stdout.contains(
                    "      FAIL  acme/repo-000: the token may not read its issues and pull requests: give the fine-grained "
                        + "token the repository permissions Issues: read, Pull requests: read\n"), "\(result.stdout)")
            try harness.write(
                "commits.yaml",
                Self.estate.manifest(name: "commits", endpoint: url, settings: ["collect: [commits, documentation]"]))
            let commits = try await harness.run(Harness.product, ["check", "commits.yaml"], environment: environment)
            #expect(commits.status == 0, "\(commits.stdout)")
        }
    }

    /// `check` asks about every repository of the estate in one batched query and says, per
    /// repository, what it found — before a run spends anything.
    @Test func checkReportsEveryRepositoryOfTheEstate() async throws {
        var estate = Self.estate
        estate.repositories[2].isArchived = true
        let fake = FakeGitHub(estate: estate, token: Self.token)
        fake.configure { $0.forbidden = ["acme/repo-004": false] }
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            let manifest =
                estate.manifest(name: "check", endpoint: url, settings: ["collect: [commits, issues]"], branches: false)
                .replacingOccurrences(
                    of: "    - slug: acme/repo-003\n", with: "    - slug: acme/repo-003\n      default_branch: nope\n")
                + ""
            try harness.write(
                "m.yaml",
                manifest.replacingOccurrences(
                    of: "  repositories:\n", with: "  repositories:\n    - slug: acme/missing\n"))
            let result = try await harness.run(
                Harness.product, ["check", "m.yaml"], environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(result.status == 5)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines.contains(
                    "FAIL  estate: 7 repositories checked in 1 request (1 point): 2 ok, 1 empty, 1 archived, 1 not found, 1 forbidden, 1 branch not found"
                ), "\(result.stdout)")
            #expect(
                lines.contains(
                    "      FAIL  acme/missing: not found, or the token cannot see it: check the slug, and that the token has access (a fine-grained token lists the repositories it may read)"
                ))
            #expect(
                lines.contains(
                    "      FAIL  acme/repo-004: the token may not read it: Resource not accessible by personal access token — the token may not read this repository: grant it read access (a fine-grained token needs the repository selected, with Contents, Issues, Pull requests and Metadata read permissions)"
                ))
            #expect(
                lines.contains(
                    "      FAIL  acme/repo-003: branch `nope` not found; GitHub's default branch is `trunk`: remove `default_branch` to follow GitHub's, or name a branch that exists"
                ))
            #expect(lines.contains("      ok    acme/repo-002: archived (read-only); default branch `main`"))
            #expect(lines.contains("      ok    acme/repo-001: empty: no commits yet (nothing to read, not a failure)"))
        }
    }
}
