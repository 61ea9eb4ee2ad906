import Foundation
import GitHubFake
import JSON
import Testing

@testable import GitHub

/// A fake GitHub on loopback for one test, stopped afterwards.
func withFake<T>(
    estate: FakeEstate = EstateGenerator(repositories: 3).generate(), budget: Int = 5000, resetIn: TimeInterval = 3600,
    _ body: (FakeGitHub, URL) async throws -> T
) async throws -> T {
    let fake = FakeGitHub(estate: estate, token: "t0ken", budget: budget, resetIn: resetIn)
    let url = try await fake.start()
    do {
        let result = try await body(fake, url)
        await fake.stop()
        return result
    } catch {
        await fake.stop()
        throw error
    }
}

let quick = RetryPolicy(
    attempts: 4, initialBackoff: .milliseconds(10), maximumBackoff: .milliseconds(50),
    maximumRateLimitWait: .seconds(5), timeout: .seconds(15))

let pullVariables: [String: JSONValue] = ["owner": "acme", "name": "repo-000", "first": 10, "after": nil]

struct ClientTests {
    @Test(arguments: [
        ("https://api.github.com/graphql", "https://api.github.com"),
        ("https://ghe.example.com/api/graphql", "https://ghe.example.com/api/v3"),
        ("https://ghe.example.com/api/graphql/", "https://ghe.example.com/api/v3"),
        ("http://127.0.0.1:8787/graphql", "http://127.0.0.1:8787"),
    ])
    func theRESTRootIsTheOneGitHubPairsWithTheGraphQLEndpoint(_ graphql: String, _ rest: String) throws {
        let endpoint = try #require(URL(string: graphql))
        #expect(GitHubClient.restRoot(for: endpoint).absoluteString == rest)
        #expect(GitHubClient(endpoint: endpoint, token: "t").restEndpoint.absoluteString == rest)
    }

    @Test(arguments: [
        (
            #"<https://api.github.com/repositories/1/pulls/comments?page=2>; rel="next", <https://api.github.com/repositories/1/pulls/comments?page=9>; rel="last""#,
            "https://api.github.com/repositories/1/pulls/comments?page=2"
        ),
        (
            #"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next""#,
            "https://api.github.com/x?page=3"
        ),
        (#"<https://api.github.com/x?page=1>; rel="first", <https://api.github.com/x?page=1>; rel="prev""#, nil),
        ("", nil),
    ])
    func theLinkHeaderNamesTheNextPage(_ header: String, _ next: String?) {
        #expect(GitHubClient.nextLink(header)?.absoluteString == next)
    }

    @Test func aRESTListIsPagedByItsLinkHeaderAndNeverLeavesTheHost() async throws {
        let estate = EstateGenerator(repositories: 3).generate()
        let truth = try #require(estate.repository(owner: "acme", name: "repo-002")).pullRequests.flatMap(\.reviewComments)
        #expect(truth.count > 100)
        try await withFake(estate: estate) { fake, url in
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            var ids: [Int64] = []
            var next: URL?
            repeat {
                let page = try await client.list(
                    "repos/acme/repo-002/pulls/comments",
                    query: [URLQueryItem(name: "per_page", value: "100")], next: next, cost: &cost)
                ids += page.items.compactMap { $0["id"]?.int }
                next = page.next
            } while next != nil
            #expect(Set(ids) == Set(truth.map(\.databaseId)) && ids.count == truth.count)
            #expect(cost.requests == (truth.count + 99) / 100 && cost.points == 0)
            #expect(fake.stats.restRequests == cost.requests && fake.stats.requests == 0)

            let elsewhere = try #require(URL(string: "https://example.com/repos/acme/repo-002/pulls/comments?page=2"))
            await #expect(throws: GitHubError.self) {
                var cost = CallCost()
                _ = try await client.list("ignored", next: elsewhere, cost: &cost)
            }
            #expect(fake.stats.restRequests == cost.requests)

            await #expect(
                throws: GitHubError(
                    .notFound,
                    "GitHub answered HTTP 404 (Not Found): no such repository or REST path, or the token cannot see it",
                    status: 404)
            ) {
                var cost = CallCost()
                _ = try await client.list("repos/acme/missing/pulls/comments", cost: &cost)
            }
        }
    }
    @Test func answersAPageAndCountsThePoints() async throws {
        try await withFake { fake, url in
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            let data = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            let connection = try #require(data["repository"]?["pullRequests"])
            #expect(connection["nodes"]?.array?.count == 10)
            #expect(connection["pageInfo"]?["hasNextPage"]?.bool == true)
            #expect(cost.requests == 1 && cost.points == 1 && cost.retries == 0)
            #expect(client.lastBudget?.remaining == 4999)
            #expect(fake.stats.requests == 1)
        }
    }

    @Test(arguments: [
        ("502", Fault.Action.status(502)),
        ("503 with Retry-After", Fault.Action.status(503, retryAfter: 1)),
        (
            "GitHub's timeout answer",
            Fault.Action.graphQLError(
                "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug."
            )
        ),
        ("malformed JSON", Fault.Action.malformedJSON),
        ("truncated body", Fault.Action.truncatedBody),
        ("timeout", Fault.Action.delay(.seconds(6))),
    ])
    func transientFaultsAreRetried(_ label: String, _ action: Fault.Action) async throws {
        try await withFake { fake, url in
            fake.inject(Fault(action, times: 2))
            var policy = quick
            policy.timeout = .seconds(5)
            policy.attempts = 6
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: policy)
            var cost = CallCost()
            let data = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            #expect(data["repository"]?["pullRequests"]?["nodes"]?.array?.count == 10, "\(label)")
            // Both faults were retried and the last request succeeded. On a loaded machine (the
            // whole suite runs in parallel) a healthy answer can also miss the 5 s timeout and
            // be retried, so the count is at least, not exactly, 2.
            #expect(cost.retries >= 2 && cost.requests == cost.retries + 1, "\(label): \(cost)")
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        try await withFake { fake, url in
            fake.inject(Fault(.secondaryLimit(retryAfter: 1)))
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            let clock = ContinuousClock()
            let started = clock.now
            _ = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            #expect(clock.now - started >= .seconds(1))
        }
    }

    @Test func retriesAreBounded() async throws {
        try await withFake { fake, url in
            fake.inject(Fault(.status(502), times: 10))
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            }
            #expect(error?.status == 502 && error?.code == .timeout)
            #expect(error?.message == "GitHub answered HTTP 502 (it gives up on a query that takes too long)")
            #expect(cost.requests == 4)
        }
    }

    @Test func graphQLErrorsAreNotRetried() async throws {
        try await withFake { fake, url in
            fake.inject(Fault(.graphQLError("Field 'bogus' doesn't exist on type 'Repository'")))
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            }
            #expect(error?.code == .graphql)
            #expect(error?.message == "GitHub returned errors: Field 'bogus' doesn't exist on type 'Repository'")
            #expect(cost.requests == 1)
        }
    }

    @Test func firstOver100GetsGitHubsError() async throws {
        try await withFake { _, url in
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            var variables = pullVariables
            variables["first"] = 101
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.pullRequests, variables: variables, cost: &cost)
            }
            #expect(
                error?.message
                    == "GitHub returned errors: Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records."
            )
        }
    }

    @Test func aBadTokenIsAConfigurationErrorThatNeverEchoesTheToken() async throws {
        try await withFake { _, url in
            let client = GitHubClient(endpoint: url, token: "wrong-secret-value", policy: quick)
            var cost = CallCost()
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.viewer, variables: [:], cost: &cost)
            }
            #expect(error?.code == .configuration && error?.status == 401)
            #expect(error.map { !$0.message.contains("wrong-secret-value") } == true)
        }
    }

    @Test func anUnknownRepositoryIsNotFound() async throws {
        try await withFake { _, url in
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            var variables = pullVariables
            variables["name"] = "nope"
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.pullRequests, variables: variables, cost: &cost)
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test func anExhaustedBudgetIsWaitedForWhenTheResetIsNear() async throws {
        // The reset is 8 s after the first request, within this policy's 20 s allowance (and
        // still ahead when that request's answer comes back late on a busy machine).
        try await withFake(budget: 1, resetIn: 8) { _, url in
            var policy = quick
            policy.maximumRateLimitWait = .seconds(20)
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: policy)
            var cost = CallCost()
            var events: [String] = []
            _ = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            let waited = LockedList()
            _ = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost) { event in
                if case .waitingForReset = event { waited.append("waiting") }
            }
            events = waited.items
            #expect(events == ["waiting"])
            #expect(cost.waited >= 1)
        }
    }

    @Test func anExhaustedBudgetBeyondTheLimitFailsResumably() async throws {
        try await withFake(budget: 1, resetIn: 3600) { _, url in
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            var cost = CallCost()
            _ = try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            let error = await #expect(throws: GitHubError.self) {
                try await client.execute(.pullRequests, variables: pullVariables, cost: &cost)
            }
            #expect(error?.code == .rateLimitExhausted)
        }
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ item: String) { lock.withLock { storage.append(item) } }
    var items: [String] { lock.withLock { storage } }
}
