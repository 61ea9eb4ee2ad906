import Foundation
import GitHubFake
import JSON
import Testing

@testable import GitHub

/// The fake GitHub behaves as GitHub documents (or is seen to) — one test per behaviour the
/// client relies on, each through the real client over loopback HTTP. Where the fake got
/// something wrong, the client could be wrong the same way and no other test would see it.
struct GitHubBehaviourTests {
    static let estate = EstateGenerator(seed: 4, repositories: 5).generate()

    func client(_ url: URL, policy: RetryPolicy = quick) -> GitHubClient {
        GitHubClient(endpoint: url, token: "t0ken", policy: policy)
    }

    /// A query of one of the operations the fake models (it answers by operation name), with a
    /// selection of the test's own: the fake answers what the document selects.
    func query(
        _ client: GitHubClient, _ name: String, _ text: String, repository: String = "repo-002",
        _ variables: [String: JSONValue] = [:]
    ) async throws -> JSONValue {
        var cost = CallCost()
        let all = variables.merging(["owner": "acme", "name": .string(repository)]) { own, _ in own }
        return try await client.execute(Operation(name: name, document: text), variables: all, cost: &cost)
    }

    /// GitHub's GraphQL API returns a Bot actor's login without the `[bot]` suffix, with
    /// `__typename: Bot`; its REST API returns `NAME[bot]` with `"type": "Bot"` (seen on GitHub,
    /// and reported by every client that filtered on the suffix: apache/devlake#9085,
    /// anthropics/claude-code-action#1616).
    @Test func aBotIsNamedWithoutBotInGraphQLAndWithItInREST() async throws {
        try await withFake(estate: Self.estate) { _, url in
            let client = client(url)
            let data = try await query(
                client, "RepositoryPullRequests",
                """
                query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
                  pullRequests(first: 100) { nodes { author { __typename login } } } } }
                """)
            let authors = data["repository"]?["pullRequests"]?["nodes"]?.array?.compactMap { $0["author"] } ?? []
            let bots = authors.filter { $0["__typename"]?.string == "Bot" }
            #expect(!bots.isEmpty)
            #expect(bots.allSatisfy { !($0["login"]?.string ?? "").hasSuffix("[bot]") })
            var cost = CallCost()
            let page = try await client.list(
                "repos/acme/repo-002/pulls/comments", query: [URLQueryItem(name: "per_page", value: "100")],
                cost: &cost)
            let restBots = page.items.compactMap { $0["user"] }.filter { $0["type"]?.string == "Bot" }
            #expect(!restBots.isEmpty)
            #expect(restBots.allSatisfy { ($0["login"]?.string ?? "").hasSuffix("[bot]") })
        }
    }

    /// A fine-grained personal access token "can only access resources owned by a single user
    /// or organization" (GitHub Docs, *Managing your personal access tokens*), and the primary
    /// rate limit is per account (*Rate limits for the REST API*: a user's requests count
    /// towards that user's limit): another account's token sees one owner and spends a budget
    /// of its own.
    @Test func aFineGrainedTokenSeesOneOwnerAndSpendsItsAccountsBudget() async throws {
        var estate = Self.estate
        estate.repositories[4].owner = "globex"
        try await withFake(estate: estate) { fake, url in
            fake.configure { $0.ownerTokens["g1obex-token"] = OwnerToken(owner: "globex", budget: 40) }
            let scoped = GitHubClient(endpoint: url, token: "g1obex-token", policy: quick)
            let text = """
                query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
                  pullRequests(first: 1) { totalCount } } rateLimit { cost limit remaining resetAt } }
                """
            var cost = CallCost()
            let own = try await scoped.execute(
                Operation(name: "RepositoryPullRequests", document: text), variables: ["owner": "globex", "name": "repo-004"],
                cost: &cost)
            #expect(own["repository"]?["pullRequests"]?["totalCount"]?.int != nil)
            #expect(own["rateLimit"]?["limit"] == 40 && own["rateLimit"]?["remaining"] == 39)
            await #expect(throws: GitHubError.self) {
                var cost = CallCost()
                _ = try await scoped.execute(
                    Operation(name: "RepositoryPullRequests", document: text), variables: ["owner": "acme", "name": "repo-000"],
                    cost: &cost)
            }
            // The fake's own token still has its own, untouched budget and sees every owner.
            let main = try await query(client(url), "RepositoryPullRequests", text, repository: "repo-000")
            #expect(main["rateLimit"]?["limit"] == 5000 && main["rateLimit"]?["remaining"] == 4999)
            #expect(fake.stats.lowestRemaining["g1obex-token"] == 38)
        }
    }

    /// GitHub answers exactly the fields a query selects: no `__typename` unless asked for.
    @Test func aFieldComesBackOnlyWhenTheQuerySelectsIt() async throws {
        try await withFake(estate: Self.estate) { _, url in
            let data = try await query(
                client(url), "RepositoryPullRequests",
                """
                query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
                  pullRequests(first: 3) { nodes { author { login } } } } }
                """, repository: "repo-000")
            let node = try #require(
                data["repository"]?["pullRequests"]?["nodes"]?.array?.first(where: { $0["author"]?.isNull == false }))
            #expect(node["author"]?["__typename"] == nil)
            #expect(node["title"] == nil)
        }
    }

    /// Database ids passed 2³¹ on github.com: `databaseId` (a GraphQL `Int`, deprecated on pull
    /// requests and reviews) cannot hold them; `fullDatabaseId` is a `BigInt`, which GitHub's
    /// schema says "is encoded as a string".
    @Test func idsPast2To31AreBigIntStringsThatDatabaseIdCannotHold() async throws {
        try await withFake(estate: Self.estate) { _, url in
            let data = try await query(
                client(url), "RepositoryPullRequests",
                """
                query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
                  pullRequests(first: 100) { nodes { databaseId fullDatabaseId } } } }
                """)
            let nodes = data["repository"]?["pullRequests"]?["nodes"]?.array ?? []
            let large = nodes.filter { (Int64($0["fullDatabaseId"]?.string ?? "") ?? 0) > Int64(Int32.max) }
            #expect(!large.isEmpty)
            #expect(large.allSatisfy { $0["databaseId"]?.isNull == true && $0["fullDatabaseId"]?.string != nil })
        }
    }

    /// A deleted account is `author: null` in GraphQL (GitHub shows it as `ghost`; the REST API
    /// returns the `ghost` user: atlassian/github-for-jira#164).
    @Test func aDeletedAccountIsNullInGraphQLAndGhostInREST() async throws {
        var estate = Self.estate
        let pull = try #require(estate.repositories[2].pullRequests.first { $0.author == nil })
        // A review comment whose author deleted the account since.
        let commented = try #require(estate.repositories[2].pullRequests.firstIndex { !$0.reviewComments.isEmpty })
        estate.repositories[2].pullRequests[commented].reviewComments[0].author = nil
        let deletedComment = estate.repositories[2].pullRequests[commented].reviewComments[0].databaseId
        try await withFake(estate: estate) { _, url in
            let data = try await query(
                client(url), "PullRequestConnection",
                """
                query PullRequestConnection($owner: String!, $name: String!, $number: Int!) {
                  repository(owner: $owner, name: $name) { pullRequest(number: $number) { author { login } } } }
                """, ["number": .int(Int64(pull.number))])
            #expect(data["repository"]?["pullRequest"]?["author"]?.isNull == true)
            var cost = CallCost()
            var next: URL?
            var users: [Int64: JSONValue] = [:]
            repeat {
                let page = try await client(url).list(
                    "repos/acme/repo-002/pulls/comments",
                    query: [URLQueryItem(name: "per_page", value: "100")], next: next, cost: &cost)
                for item in page.items { if let id = item["id"]?.int { users[id] = item["user"] } }
                next = page.next
            } while next != nil
            #expect(users[deletedComment]?["login"] == "ghost")
        }
    }

    /// Cursors of lists ordered by `UPDATED_AT` are keyset cursors (GitHub's decode to
    /// `cursor:v2:` and the sort key): an item updated while a client pages moves to the head,
    /// behind the cursor — the next page neither repeats an item nor skips one that did not
    /// move, and the moved item is not in this read at all.
    @Test func anItemUpdatedWhileAClientPagesMovesBehindTheCursor() async throws {
        try await withFake(estate: Self.estate) { fake, url in
            let client = client(url)
            let text = """
                query RepositoryPullRequests($owner: String!, $name: String!, $after: String) {
                  repository(owner: $owner, name: $name) {
                    pullRequests(first: 20, after: $after, orderBy: { field: UPDATED_AT, direction: DESC }) {
                      pageInfo { endCursor } nodes { number } } } }
                """
            let first = try await query(client, "RepositoryPullRequests", text, ["after": .null])
            let cursor = try #require(first["repository"]?["pullRequests"]?["pageInfo"]?["endCursor"]?.string)
            let seen = Set((first["repository"]?["pullRequests"]?["nodes"]?.array ?? []).compactMap { $0["number"]?.int })
            // An item further down the list is updated now.
            let ordered = Self.estate.repositories[2].pullRequests.sorted {
                ($0.updatedAt, $0.number) > ($1.updatedAt, $1.number)
            }
            let moved = ordered[30].number
            fake.update { estate in
                if let index = estate.repositories[2].pullRequests.firstIndex(where: { $0.number == moved }) {
                    estate.repositories[2].pullRequests[index].updatedAt = Date()
                }
            }
            let second = try await query(client, "RepositoryPullRequests", text, ["after": .string(cursor)])
            let next = (second["repository"]?["pullRequests"]?["nodes"]?.array ?? []).compactMap { $0["number"]?.int }
            #expect(seen.isDisjoint(with: next))
            #expect(!next.contains(Int64(moved)))
            // The page after the cursor is the one it was, less the moved item.
            let expected = ordered[20..<41].map(\.number).filter { $0 != moved }.prefix(20).map(Int64.init)
            #expect(next == Array(expected))
        }
    }

    /// `Commit.history` lists what is reachable from one commit: pages read from the commit a
    /// read started at stay the same while the branch moves on.
    @Test func historyPagesStayOnTheCommitTheyStartedFrom() async throws {
        try await withFake(estate: Self.estate) { fake, url in
            let client = client(url)
            let repo = Self.estate.repositories[2]
            let tip = try #require(repo.tip?.oid)
            let text = """
                query RepositoryCommits($owner: String!, $name: String!, $tip: GitObjectID!, $after: String) {
                  repository(owner: $owner, name: $name) { tip: object(oid: $tip) { ... on Commit {
                    history(first: 50, after: $after) { totalCount pageInfo { endCursor } nodes { oid } } } } } }
                """
            let first = try await query(client, "RepositoryCommits", text, ["tip": .string(tip), "after": .null])
            let cursor = first["repository"]?["tip"]?["history"]?["pageInfo"]?["endCursor"]
            fake.update { estate in
                let late = FakeCommit(
                    oid: "feedface", message: "late", authoredDate: Date(), committedDate: Date(), additions: 1,
                    deletions: 0, changedFiles: 1, author: EstateGenerator.bots[0], linked: false,
                    paths: ["x.txt"])
                estate.repositories[2].land([late])
            }
            let second = try await query(client, "RepositoryCommits", text, ["tip": .string(tip), "after": cursor ?? .null])
            let history = second["repository"]?["tip"]?["history"]
            #expect(history?["totalCount"]?.int == first["repository"]?["tip"]?["history"]?["totalCount"]?.int)
            #expect(history?["totalCount"]?.int == Int64(repo.landed.count))
            #expect(!(history?["nodes"]?.array ?? []).contains { $0["oid"]?.string == "feedface" })
        }
    }

    /// GitHub lists at most 3,000 files of a pull request (REST docs, *List pull requests
    /// files*: "Responses include a maximum of 3000 files"); `changedFiles` counts them all.
    @Test func aPullRequestListsAtMost3000Files() async throws {
        let pull = try #require(Self.estate.repositories[2].pullRequests.first { $0.files.count > 3000 })
        try await withFake(estate: Self.estate) { _, url in
            let data = try await query(
                client(url), "PullRequestConnection",
                """
                query PullRequestConnection($owner: String!, $name: String!, $number: Int!) {
                  repository(owner: $owner, name: $name) { pullRequest(number: $number) {
                    changedFiles files(first: 1) { totalCount } } } }
                """, ["number": .int(Int64(pull.number))])
            #expect(data["repository"]?["pullRequest"]?["changedFiles"]?.int == Int64(pull.files.count))
            #expect(data["repository"]?["pullRequest"]?["files"]?["totalCount"]?.int == 3000)
        }
    }

    /// An issue transferred to another repository keeps its node id there; one converted to a
    /// discussion resolves to a `Discussion`; a deleted one to `null`, with a `NOT_FOUND` error
    /// naming its place in `nodes` (partial data, the others answered).
    @Test func anIssueThatLeftItsRepositoryIsFoundByNodeIdWhereverItWent() async throws {
        var estate = Self.estate
        let issues = estate.repositories[0].issues.filter { $0.state == .open }.prefix(3).map { $0 }
        try #require(issues.count == 3)
        estate.transferIssue(issues[0].number, of: "acme/repo-000", to: "acme/repo-003")
        estate.convertIssueToDiscussion(issues[1].number, of: "acme/repo-000")
        estate.deleteIssue(issues[2].number, of: "acme/repo-000")
        try await withFake(estate: estate) { _, url in
            var cost = CallCost()
            let answer = try await client(url).executeBatch(
                .resolveIssues, variables: ["ids": .array(issues.map { .string($0.nodeId) })], cost: &cost)
            let nodes = answer.data["nodes"]?.array ?? []
            #expect(nodes.count == 3)
            #expect(nodes[0]["__typename"] == "Issue" && nodes[0]["repository"]?["nameWithOwner"] == "acme/repo-003")
            #expect(nodes[1]["__typename"] == "Discussion")
            #expect(nodes[2].isNull)
            #expect(answer.problems.map(\.type) == ["NOT_FOUND"] && answer.problems.first?.path == ["nodes", "2"])
        }
    }

    /// GitHub gives up on a query that takes too long ("Rate limits and query limits for the
    /// GraphQL API", *Timeouts*): HTTP 502 or 504 from its gateway, or HTTP 200 with `data: null`
    /// and "Something went wrong while executing your query. This may be the result of a
    /// timeout…" (seen by cli/cli#4152, dtolnay/star-history#30). A client that can ask for less
    /// gets the timeout back at once instead of retrying the same size.
    @Test(arguments: [HeavyQueries.Answer.badGateway, .gatewayTimeout, .timeoutError])
    func aHeavyQueryTimesOutAndIsHandedBackToShrink(_ answer: HeavyQueries.Answer) async throws {
        try await withFake(estate: Self.estate) { fake, url in
            fake.configure { $0.heavyQueries = HeavyQueries(nodeLimit: 500, answer: answer) }
            let client = client(url)
            var cost = CallCost()
            var variables = pullVariables
            variables["first"] = 29
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.pullRequests, variables: variables, cost: &cost, shrinkable: true)
            }
            #expect(error?.code == .timeout)
            #expect(cost.requests == 1 && fake.stats.timeouts == 1)
            variables["first"] = 2
            _ = try await client.execute(.pullRequests, variables: variables, cost: &cost, shrinkable: true)
        }
    }

    /// A secondary rate limit without `Retry-After`, with budget left, means "wait at least a
    /// minute, longer each time it persists" (docs: "Rate limits for the REST API", *Exceeding
    /// the rate limit*). It is a wait, not a failure, and it holds back every request of the
    /// token: a second request sent meanwhile waits too instead of meeting the limit again.
    @Test func aSecondaryLimitWithoutRetryAfterPausesEveryRequestOfTheToken() async throws {
        try await withFake(estate: Self.estate) { fake, url in
            fake.configure { $0.secondaryLimits = SecondaryLimits(requests: 1, window: 30, penalty: 0.5) }
            var policy = quick
            policy.secondaryLimitWait = .seconds(1)
            let client = client(url, policy: policy)
            let clock = ContinuousClock()
            let started = clock.now
            async let first: JSONValue = {
                var cost = CallCost()
                return try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            }()
            async let second: JSONValue = {
                try await Task.sleep(for: .milliseconds(100))
                var cost = CallCost()
                return try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            }()
            _ = try await (first, second)
            #expect(clock.now - started >= .seconds(1))
            // One limit met: the paused token sent nothing into the penalty.
            #expect(fake.stats.secondaryLimited == 1, "\(fake.stats.secondaryLimited)")
        }
    }

    /// A token not authorised for an organisation's SAML single sign-on gets `FORBIDDEN` for
    /// that organisation's repositories, with `extensions.saml_failure`, and data for the rest
    /// (fwouts/prmonitor#1042, jasperapp/jasper#187).
    @Test func aRepositoryBehindSAMLIsForbiddenAndTheOthersStillAnswer() async throws {
        try await withFake(estate: Self.estate) { fake, url in
            fake.configure { $0.forbidden = ["acme/repo-003": true] }
            var cost = CallCost()
            let answer = try await client(url).executeBatch(
                EstateCheckRequest(repositories: [("acme", "repo-000", nil), ("acme", "repo-003", nil)]), cost: &cost)
            #expect(answer.data["r0"]?["isEmpty"]?.bool == false)
            #expect(answer.data["r1"]?.isNull == true)
            let problem = try #require(answer.problem(for: "r1"))
            #expect(problem.type == "FORBIDDEN" && problem.samlFailure)
            #expect(problem.fix.contains("authorise the token for the organisation"))
            // Asked alone, it fails with the cause and the fix.
            let error = await #expect(throws: GitHubError.self) {
                var cost = CallCost()
                _ = try await client(url).execute(
                    .pullRequests,
                    variables: [
                        "owner": "acme", "name": "repo-003", "first": 5,
                        "after": nil,
                    ], cost: &cost)
            }
            #expect(error?.code == .forbidden && error?.message.contains("SAML") == true)
        }
    }

    /// A fine-grained personal access token (or an App) is granted repository permissions one by
    /// one; a field behind one it lacks is a `FORBIDDEN` error whose path names the field, and a
    /// field that may not be null takes its parent with it (the repository for `issues` and
    /// `pullRequests`, the ref's `target` for `history`), as the GraphQL specification says.
    @Test func aFineGrainedTokenWithoutAPermissionIsRefusedWhatItGuards() async throws {
        try await withFake(estate: Self.estate) { fake, url in
            var cost = CallCost()
            let request = EstateCheckRequest(
                repositories: [("acme", "repo-000", nil)], probes: [.contents, .issues, .pullRequests])
            // A classic token reads everything it can see.
            let classic = try await client(url).executeBatch(request, cost: &cost)
            #expect(classic.problems.isEmpty)
            #expect(classic.data["r0"]?["probePulls"]?["totalCount"]?.int != nil)

            fake.configure { $0.permissions = ["Issues", "Pull requests"] }
            let noContents = try await client(url).executeBatch(request, cost: &cost)
            #expect(noContents.problems.map(\.path) == [["r0", "probeContents", "target", "history"]])
            #expect(noContents.problems.first?.message == "Resource not accessible by personal access token")
            #expect(noContents.data["r0"]?["probeContents"]?["target"]?.isNull == true)
            #expect(noContents.data["r0"]?["isEmpty"]?.bool == false)

            fake.configure { $0.permissions = ["Contents"] }
            let onlyContents = try await client(url).executeBatch(request, cost: &cost)
            #expect(Set(onlyContents.problems.map(\.path)) == [["r0", "probeIssues"], ["r0", "probePulls"]])
            #expect(onlyContents.problems.allSatisfy { $0.type == "FORBIDDEN" })
            #expect(onlyContents.data["r0"]?.isNull == true)
        }
    }

    /// GitHub Enterprise Server can run without rate limiting: no `x-ratelimit-*` headers, a null
    /// `rateLimit`, and `GET /rate_limit` answers 404 "Rate limiting is not enabled."
    /// (janeklb/gh-search#61, actions/stale#1227). That is an answer, not an error.
    @Test func gitHubEnterpriseWithoutRateLimitingSaysSo() async throws {
        try await withFake(estate: Self.estate) { fake, url in
            fake.configure { $0.rateLimiting = false }
            let client = client(url)
            var cost = CallCost()
            guard case .notFound(let message) = try await client.document("rate_limit", cost: &cost) else {
                Issue.record("expected 404")
                return
            }
            #expect(message.contains("Rate limiting is not enabled."))
            let data = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            #expect(data["rateLimit"]?.isNull == true && client.lastBudget == nil)
        }
    }

    /// The budget refills at the second `resetAt` names ("the time at which the current rate
    /// limit window resets", GitHub Docs, *Rate limits and query limits for the GraphQL API*):
    /// a client waiting for it finds the points back then, not a moment later.
    @Test func theBudgetRefillsAtTheSecondResetAtNames() async throws {
        try await withFake(estate: Self.estate, budget: 3, resetIn: 1.5) { _, url in
            let client = client(url)
            let text = "query Viewer { viewer { login } rateLimit { remaining resetAt } }"
            for _ in 0..<2 {
                let first = try await query(client, "Viewer", text)
                let reset = try #require(first["rateLimit"]?["resetAt"]?.string.flatMap(Timestamp.date))
                try await Task.sleep(for: .seconds(max(0, reset.timeIntervalSinceNow) + 0.05))
                let second = try await query(client, "Viewer", text)
                #expect(second["rateLimit"]?["remaining"] == 2, "refilled at \(Timestamp.string(reset))")
            }
        }
    }

    /// `timelineItems(itemTypes:)` keeps the nodes of those types, and its `totalCount` still
    /// counts every item of the timeline (seen on GitHub: a never-closed pull request filtered to
    /// close and reopen events counts 2 with no node; strands-labs/robots#2146): only
    /// `pageInfo.hasNextPage` says whether a page holds all the filtered nodes.
    @Test func aTimelineFilteredByItemTypesStillCountsEveryItem() async throws {
        try await withFake(estate: Self.estate) { _, url in
            let data = try await query(
                client(url), "RepositoryPullRequests",
                """
                query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
                  pullRequests(first: 100) { nodes { number comments { totalCount }
                    timelineItems(first: 10, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {
                      totalCount pageInfo { hasNextPage } nodes { __typename } } } } } }
                """)
            let pulls = data["repository"]?["pullRequests"]?["nodes"]?.array ?? []
            let timelines = pulls.compactMap { $0["timelineItems"] }
            let kinds = Set(timelines.flatMap { $0["nodes"]?.array ?? [] }.compactMap { $0["__typename"]?.string })
            #expect(kinds == ["ReadyForReviewEvent", "ConvertToDraftEvent"])
            // Comments are timeline items too: the count is never below them, and most often
            // above the transitions the page holds.
            for pull in pulls {
                let total = pull["timelineItems"]?["totalCount"]?.int ?? 0
                #expect(total >= (pull["comments"]?["totalCount"]?.int ?? 0))
                #expect(pull["timelineItems"]?["pageInfo"]?["hasNextPage"] == false)
            }
            #expect(timelines.contains { ($0["totalCount"]?.int ?? 0) > Int64($0["nodes"]?.array?.count ?? 0) })
        }
    }

    /// The token goes only to the host it was given for: a redirect to another host is followed
    /// without the `Authorization` header (the other server sees no token, and says so).
    @Test func aRedirectToAnotherHostDoesNotCarryTheToken() async throws {
        try await withFake(estate: Self.estate) { elsewhere, target in
            // Same server, another host name: `localhost` instead of `127.0.0.1`.
            let moved = try #require(URL(string: target.absoluteString.replacingOccurrences(of: "127.0.0.1", with: "localhost")))
            try await withFake(estate: Self.estate) { front, url in
                front.configure { $0.redirect = moved }
                let error = await #expect(throws: GitHubError.self) {
                    var cost = CallCost()
                    _ = try await client(url).execute(.pullRequests, variables: pullVariables, cost: &cost)
                }
                #expect(error?.code == .configuration)
                #expect(elsewhere.stats.withoutToken >= 1)
            }
        }
    }

    /// GitHub checks a request's variables against the operation's declarations before it runs
    /// anything, and answers errors and no data: a non-null variable missing or null ("Expected
    /// value to not be null"), one of another type ("Could not coerce value …"), a variable used
    /// but not declared, an `@include` whose flag is not a boolean. Variables sent but not
    /// declared are ignored (gidgethub/gidgethub#128 saw GitHub ignore a misnamed one).
    @Test(
        arguments: [
            (
                "query RepositoryPullRequests($owner: String!, $name: String!, $first: Int!) { repository(owner: $owner, name: $name) { pullRequests(first: $first) { totalCount } } }",
                [:] as [String: JSONValue],
                "Variable $first of type Int! was provided invalid value"
            ),
            (
                "query RepositoryPullRequests($owner: String!, $name: String!, $first: Int!) { repository(owner: $owner, name: $name) { pullRequests(first: $first) { totalCount } } }",
                ["first": "10"], "Variable $first of type Int! was provided invalid value"
            ),
            (
                "query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { pullRequests(first: $first) { totalCount } } }",
                ["first": 10], "Variable $first is used by RepositoryPullRequests but not declared"
            ),
            (
                "query RepositoryPullRequests($owner: String!, $name: String!, $flag: Boolean) { repository(owner: $owner, name: $name) { isEmpty @include(if: $flag) } }",
                [:], "Argument 'if' on Directive 'include' has an invalid value (null). Expected type 'Boolean!'."
            ),
            (
                "query RepositoryPullRequests($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { isEmpty } }",
                ["unused": "ignored"], nil
            ),
        ] as [(String, [String: JSONValue], String?)])
    func variablesAreCheckedAgainstTheirDeclarationsBeforeAnythingRuns(
        document: String, variables: [String: JSONValue], error: String?
    ) async throws {
        try await withFake(estate: Self.estate) { fake, url in
            let client = client(url)
            let before = fake.charges.count
            do {
                let data = try await query(client, "RepositoryPullRequests", document, variables)
                #expect(error == nil, "answered \(data.canonical)")
            } catch let failure as GitHubError {
                #expect(failure.code == .graphql)
                #expect(error.map { failure.message.contains($0) } == true, "\(failure.message)")
                // Refused before it ran: nothing charged.
                #expect(fake.charges.count == before)
            }
        }
    }
}
