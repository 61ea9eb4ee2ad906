public import Foundation
public import GitHubNodes
import HTTP
public import JSON
import Synchronization

/// How the client retries and waits. Values come from the manifest's `github:` section.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included (timeouts first shrink the request; see
    /// ``GitHubClient/execute(_:variables:cost:shrinkable:events:)``).
    public var attempts: Int
    /// First backoff; doubled per attempt, with ±50 % jitter, capped at `maximumBackoff`.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// Longest wait for a rate limit (the primary budget's reset, or a secondary limit's
    /// pauses over one request) before giving up on the unit, resumably.
    public var maximumRateLimitWait: Duration
    /// The shortest pause after a secondary rate limit that names no `Retry-After` (GitHub: "wait
    /// for at least one minute"); doubled for each further one met by the same request.
    public var secondaryLimitWait: Duration
    /// Per-request timeout.
    public var timeout: Duration
    /// What one credential may send at once and per minute.
    public var limits: TrafficLimits
    /// GraphQL points the credential keeps in reserve: no request goes that GitHub's last
    /// report says would take the budget below it; the request waits for the reset instead.
    public var budgetFloor = 0

    public init(
        attempts: Int = 5, initialBackoff: Duration = .milliseconds(500), maximumBackoff: Duration = .seconds(60),
        maximumRateLimitWait: Duration = .seconds(3600), secondaryLimitWait: Duration = .seconds(60),
        timeout: Duration = .seconds(30), limits: TrafficLimits = TrafficLimits()
    ) {
        self.attempts = attempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumRateLimitWait = maximumRateLimitWait
        self.secondaryLimitWait = secondaryLimitWait
        self.timeout = timeout
        self.limits = limits
    }

    func backoff(attempt: Int) -> Duration {
        let base = initialBackoff * Int(pow(2.0, Double(min(attempt, 16))))
        let capped = min(base, maximumBackoff)
        return capped * Double.random(in: 0.5...1.5)
    }
}

/// What one GraphQL call cost.
public struct CallCost: Sendable, Hashable {
    /// HTTP requests made, retries included.
    public var requests = 0
    /// GraphQL points charged (`rateLimit.cost`) over the successful responses.
    public var points = 0
    /// Requests that were retried after a fault.
    public var retries = 0
    /// Requests answered with a secondary rate limit (each followed by a pause).
    public var secondaryLimits = 0
    /// Seconds spent waiting on rate limits, pauses and backoff.
    public var waited: Double = 0

    public init() {}

    public static func += (lhs: inout CallCost, rhs: CallCost) {
        lhs.requests += rhs.requests
        lhs.points += rhs.points
        lhs.retries += rhs.retries
        lhs.secondaryLimits += rhs.secondaryLimits
        lhs.waited += rhs.waited
    }
}

/// The budget GitHub reported last.
public struct Budget: Sendable, Hashable {
    public var remaining: Int
    public var resetAt: Date
}

/// Something to tell the user while the client waits.
public enum ClientEvent: Sendable {
    case retrying(attempt: Int, after: Duration, reason: String)
    case waitingForReset(until: Date)
    /// A secondary rate limit paused every request of the credential.
    case pausedBySecondaryLimit(until: Date)
    /// The credential's requests of the last minute, every process's together, reached
    /// `github.max_requests_per_minute` (``BudgetHold/throttled(until:)``).
    case throttled(until: Date)
}

/// One page of a REST list: its items and the next page's URL (the `Link` header's `next`).
public struct RESTPage: Sendable {
    public let items: [JSONValue]
    public let next: URL?
}

/// A batched query's answer: the data, and the errors of the aliases GitHub could not answer.
public struct PartialResult: Sendable {
    public let data: JSONValue
    public let problems: [GraphQLProblem]

    /// The problem reported for a top-level alias, if any.
    public func problem(for alias: String) -> GraphQLProblem? {
        problems.first { $0.path.first == alias }
    }
}

/// A GitHub client over the process's HTTP transport (``HTTP/Transport``): GraphQL, and the
/// one REST list ingest reads (inline review comments, which GraphQL only offers nested two
/// levels deep). Retries, backoff, rate limits, no secrets out.
///
/// Retries 5xx, transport errors and malformed bodies with exponential backoff and jitter.
/// Timeouts (502/504, a timed-out request, GitHub's "Something went wrong while executing
/// your query" answer, the node limit) are handed back to a caller that can shrink the request
/// (`shrinkable`), and retried like the others when it cannot. Waits for the primary budget to
/// reset (up to the policy's limit) when `x-ratelimit-remaining` reaches 0; a secondary rate
/// limit pauses every request of the credential (``Gate``) for `Retry-After`, until the reset
/// when nothing remains, or at least a minute, doubling. GraphQL and REST have budgets of their
/// own on GitHub, and here. The token travels only to the endpoint's host: a redirect to
/// another host goes without it.
public final class GitHubClient: Sendable {
    public let endpoint: URL
    /// The REST API's root (`https://api.github.com`, `https://HOST/api/v3`).
    public let restEndpoint: URL
    private let credential: Credential
    public let policy: RetryPolicy
    private let transport = Transport.shared
    private let budget: BudgetBox
    private let restBudget = BudgetBox()
    private let gate: Gate
    private let scopes = Mutex<String?>(nil)
    /// The credential's budget shared with other processes (the ledger), if any.
    private let shared: (any SharedBudget)?
    /// What each operation cost last time, for the points a request reserves before it goes.
    private let lastCosts = Mutex<[String: Int]>([:])

    /// `restEndpoint` defaults to the one GitHub pairs with `endpoint` (``restRoot(for:)``).
    public convenience init(endpoint: URL, restEndpoint: URL? = nil, token: String, policy: RetryPolicy = RetryPolicy()) {
        self.init(endpoint: endpoint, restEndpoint: restEndpoint, credential: .token(token), policy: policy)
    }

    public init(
        endpoint: URL, restEndpoint: URL? = nil, credential: Credential, policy: RetryPolicy = RetryPolicy(),
        shared: (any SharedBudget)? = nil
    ) {
        self.endpoint = endpoint
        self.restEndpoint = restEndpoint ?? Self.restRoot(for: endpoint)
        self.credential = credential
        self.policy = policy
        self.shared = shared
        budget = BudgetBox(floor: policy.budgetFloor)
        gate = Gate(limits: policy.limits)
    }

    /// The budget from the latest response, if any.
    public var lastBudget: Budget? { budget.value }

    /// The token's OAuth scopes as GitHub listed them (`X-OAuth-Scopes`; fine-grained tokens
    /// and apps list none).
    public var lastScopes: String? { scopes.withLock { $0 } }

    /// The REST root GitHub serves beside a GraphQL endpoint: `…/graphql` on github.com (and
    /// anything else) → the same root; GitHub Enterprise Server's `…/api/graphql` → `…/api/v3`.
    public static func restRoot(for endpoint: URL) -> URL {
        var root = endpoint
        if root.lastPathComponent == "graphql" { root.deleteLastPathComponent() }
        if root.lastPathComponent == "api" { root.appendPathComponent("v3") }
        var text = root.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text) ?? root
    }

    /// Runs `operation` and returns its `data`, retrying as the policy allows.
    ///
    /// `shrinkable`: the caller will ask again with fewer nodes, so a timeout (``GitHubError/Code/timeout``)
    /// is thrown at once instead of being retried at the same size.
    public func execute(
        _ operation: Operation, variables: [String: JSONValue], cost: inout CallCost, shrinkable: Bool = false,
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> JSONValue {
        try await retrying(
            .graphQL, budget: budget, cost: &cost, shrinkable: shrinkable, reserve: estimate(operation), events: events
        ) { cost in
            try await send(operation, variables: variables, cost: &cost, partial: false).data
        }
    }

    /// Runs a batched `operation` (an alias per repository or item) and returns what GitHub
    /// answered, with the aliases it could not: a `NOT_FOUND` or `FORBIDDEN` error names an
    /// alias and leaves it null, and the others still count.
    public func executeBatch(
        _ operation: Operation, variables: [String: JSONValue], cost: inout CallCost, shrinkable: Bool = false,
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> PartialResult {
        try await retrying(
            .graphQL, budget: budget, cost: &cost, shrinkable: shrinkable, reserve: estimate(operation), events: events
        ) { cost in
            try await send(operation, variables: variables, cost: &cost, partial: true)
        }
    }

    /// GETs one page of a REST list under ``restEndpoint`` (`path` and `query`, or the `next`
    /// URL of an earlier page, which must be on the same host) and returns its items, each
    /// checked by `item` first: a page with one item that does not decode is asked again.
    public func list(
        _ path: String, query: [URLQueryItem] = [], next: URL? = nil, cost: inout CallCost,
        item check: (JSONValue) throws(Malformed) -> Void = { _ in },
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> RESTPage {
        let url: URL
        if let next {
            guard next.scheme == restEndpoint.scheme, next.host == restEndpoint.host, next.port == restEndpoint.port else {
                throw GitHubError(
                    .malformed, "GitHub's next-page link leaves \(restEndpoint.host ?? "the API host"); not followed")
            }
            url = next
        } else {
            var components = URLComponents(url: restEndpoint.appendingPathComponent(path), resolvingAgainstBaseURL: false)
            components?.queryItems = query.isEmpty ? nil : query
            guard let built = components?.url else { throw GitHubError(.configuration, "cannot build a REST URL for \(path)") }
            url = built
        }
        return try await retrying(.rest, budget: restBudget, cost: &cost, shrinkable: false, events: events) { _ in
            let (body, next) = try await get(url)
            guard let items = body.array else {
                throw GitHubError(.malformed, "GitHub's REST response is not a JSON list", retryable: true)
            }
            for (index, item) in items.enumerated() {
                do {
                    try check(item)
                } catch {
                    throw GitHubError(
                        .malformed, "GitHub's REST answer to \(path) is malformed: item \(index): \(error); asked again",
                        retryable: true)
                }
            }
            return RESTPage(items: items, next: next)
        }
    }

    /// What a REST document request answered: the document, or that the path is not there (404,
    /// with GitHub's message).
    public enum Document: Sendable {
        case found(JSONValue)
        case notFound(message: String)
    }

    /// GETs one REST document under ``restEndpoint`` (e.g. `rate_limit`), retrying as the
    /// policy allows. A 404 is an answer, not an error: GitHub Enterprise Server with rate
    /// limiting disabled answers `/rate_limit` with 404 "Rate limiting is not enabled.".
    public func document(_ path: String, cost: inout CallCost) async throws -> Document {
        let url = restEndpoint.appendingPathComponent(path)
        do {
            return .found(
                try await retrying(.rest, budget: restBudget, cost: &cost, shrinkable: false, events: { _ in }) { _ in
                    try await get(url).body
                })
        } catch let error as GitHubError where error.code == .notFound {
            return .notFound(message: error.message)
        }
    }

    /// The points a request of `operation` reserves from a shared budget: what it cost last
    /// time, 1 (a query's least) before it has run.
    private func estimate(_ operation: Operation) -> (operation: String, points: Int) {
        (operation.name, lastCosts.withLock { $0[operation.name] } ?? 1)
    }

    /// Waits until the shared budget grants `points` while keeping its floor, and a request of the
    /// minute (``BudgetHold``), or throws when the reset is further away than the policy allows.
    private func reserve(
        _ shared: any SharedBudget, points: Int, cost: inout CallCost, events: @Sendable (ClientEvent) -> Void
    ) async throws {
        let allowance = Double(policy.maximumRateLimitWait.components.seconds)
        while let hold = try shared.reserve(points: points) {
            let wait: Double
            switch hold {
            case .spent(let reset):
                let seconds = reset.timeIntervalSinceNow
                if seconds > allowance {
                    throw GitHubError(
                        .rateLimitExhausted,
                        """
                        the credential's budget is at its floor of \(policy.budgetFloor) points until \(Timestamp.seconds(reset)), \
                        longer than github.max_rate_limit_wait_minutes allows; rerun after that to resume
                        """)
                }
                events(.waitingForReset(until: reset))
                wait = max(0, seconds) + 1
            case .throttled(let next):
                events(.throttled(until: next))
                wait = max(0.05, next.timeIntervalSinceNow)
            }
            try await Task.sleep(for: .seconds(wait))
            cost.waited += wait
        }
    }

    /// The retry loop both APIs share: the credential's gate, budget waits (the shared budget's
    /// too, for GraphQL), secondary-limit pauses, bounded attempts, backoff or `Retry-After`.
    private func retrying<T>(
        _ api: Gate.API, budget: BudgetBox, cost: inout CallCost, shrinkable: Bool,
        reserve estimate: (operation: String, points: Int)? = nil,
        events: @Sendable (ClientEvent) -> Void, _ attemptOnce: (inout CallCost) async throws -> T
    ) async throws -> T {
        var attempt = 0
        var secondaryWaited: Double = 0
        var consecutiveSecondary = 0
        let allowance = Double(policy.maximumRateLimitWait.components.seconds)
        while true {
            try Task.checkCancellation()
            if let wait = budget.waitBeforeNextRequest() {
                let seconds = wait.timeIntervalSinceNow
                if seconds > allowance {
                    throw GitHubError(
                        .rateLimitExhausted,
                        """
                        GitHub's rate limit is exhausted until \(Timestamp.seconds(wait)), longer than \
                        github.max_rate_limit_wait_minutes allows; rerun after that to resume
                        """)
                }
                events(.waitingForReset(until: wait))
                try await Task.sleep(for: .seconds(max(0, seconds) + 1))
                cost.waited += max(0, seconds) + 1
            }
            let shared = estimate == nil ? nil : self.shared
            if let shared, let estimate { try await reserve(shared, points: estimate.points, cost: &cost, events: events) }
            try await enterGate(api, cost: &cost, events: events)
            attempt += 1
            cost.requests += 1
            do {
                let pointsBefore = cost.points
                defer {
                    gate.leave()
                    if let shared, let estimate {
                        let reported = budget.value
                        try? shared.settle(points: estimate.points, remaining: reported?.remaining, resetAt: reported?.resetAt)
                    }
                }
                let result = try await attemptOnce(&cost)
                if let estimate, cost.points > pointsBefore {
                    lastCosts.withLock { $0[estimate.operation] = cost.points - pointsBefore }
                }
                return result
            } catch let error as GitHubError where error.code == .timeout && shrinkable {
                throw error
            } catch let error as SecondaryLimit {
                // A wait, not a failure: it spends no attempt, and holds back every request of
                // the credential, not only this one.
                cost.secondaryLimits += 1
                attempt -= 1
                consecutiveSecondary += 1
                let pause = error.pause(minimum: policy.secondaryLimitWait, consecutive: consecutiveSecondary)
                if secondaryWaited + pause > allowance {
                    throw GitHubError(
                        .rateLimitExhausted,
                        """
                        GitHub's secondary rate limit kept this request waiting longer than \
                        github.max_rate_limit_wait_minutes allows; rerun later to resume
                        """)
                }
                secondaryWaited += pause
                gate.pause(until: Date().addingTimeInterval(pause))
            } catch let error as GitHubError where error.retryable && attempt < policy.attempts {
                let delay = error.retryAfter ?? policy.backoff(attempt: attempt - 1)
                events(.retrying(attempt: attempt, after: delay, reason: error.message))
                cost.retries += 1
                try await Task.sleep(for: delay)
                cost.waited += Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            }
        }
    }

    /// Waits until the credential's gate lets one more request through.
    private func enterGate(_ api: Gate.API, cost: inout CallCost, events: @Sendable (ClientEvent) -> Void) async throws {
        var announced: Date?
        while let hold = gate.enter(api) {
            try Task.checkCancellation()
            switch hold {
            case .paused(let until), .throttled(let until):
                if case .paused = hold, announced != until {
                    events(.pausedBySecondaryLimit(until: until))
                    announced = until
                }
                let seconds = min(1, max(0.01, until.timeIntervalSinceNow))
                try await Task.sleep(for: .seconds(seconds))
                cost.waited += seconds
            case .busy:
                await gate.slotFreed()
            }
        }
    }

    private func send(_ operation: Operation, variables: [String: JSONValue], cost: inout CallCost, partial: Bool)
        async throws -> PartialResult
    {
        let body: JSONValue = [
            "query": .string(operation.document), "operationName": .string(operation.name),
            "variables": .object(variables),
        ]
        var request = Request("POST", endpoint, body: Data(body.canonical.utf8), timeout: policy.timeout)
        request.setHeader("Content-Type", "application/json")

        let (data, http) = try await authorized(request, budget: budget)
        let decoded = try? JSONValue(parsing: data)
        try Self.check(http, body: decoded, rest: false)
        guard let decoded else {
            throw GitHubError(.malformed, "GitHub's response is not valid JSON (\(data.count) bytes)", retryable: true)
        }
        if let points = decoded["data"]?["rateLimit"]?["cost"]?.int { cost.points += Int(points) }
        if let remaining = decoded["data"]?["rateLimit"]?["remaining"]?.int,
            let reset = decoded["data"]?["rateLimit"]?["resetAt"]?.string.flatMap(Timestamp.date)
        {
            budget.set(Budget(remaining: Int(remaining), resetAt: reset))
        }
        let problems = (decoded["errors"]?.array ?? []).map(Self.problem)
        if !problems.isEmpty {
            if let timeout = problems.first(where: Self.isTimeout) {
                throw GitHubError(.timeout, "GitHub could not answer in time: \(timeout.message)", retryable: true)
            }
            let perAlias = problems.allSatisfy { ($0.type == "NOT_FOUND" || $0.type == "FORBIDDEN") && !$0.path.isEmpty }
            if partial, perAlias, let data = decoded["data"], !data.isNull {
                try Self.check(data, of: operation, variables: variables)
                return PartialResult(data: data, problems: problems)
            }
            if let forbidden = problems.first(where: { $0.type == "FORBIDDEN" }) {
                throw GitHubError(.forbidden, "GitHub refused: \(forbidden.message) — \(forbidden.fix)")
            }
            if let missing = problems.first(where: { $0.type == "NOT_FOUND" }) {
                throw GitHubError(.notFound, missing.message)
            }
            if problems.contains(where: { $0.type == "RATE_LIMITED" || $0.type == "RATE_LIMIT" }) {
                // The primary budget is spent: the headers said so, and the loop waits for the reset.
                throw GitHubError(.http, "GitHub rate limit hit", retryable: true)
            }
            throw GitHubError(.graphql, "GitHub returned errors: " + problems.map(\.message).joined(separator: "; "))
        }
        guard let result = decoded["data"], !result.isNull else {
            throw GitHubError(.malformed, "GitHub's response has no data", retryable: true)
        }
        try Self.check(result, of: operation, variables: variables)
        return PartialResult(data: result, problems: [])
    }

    /// Refuses an answer that is not what `operation` asked for (a field missing, null against
    /// the schema, of another type): retried like a broken response, never returned.
    static func check(_ data: JSONValue, of operation: Operation, variables: [String: JSONValue]) throws {
        do {
            try operation.check(data, variables: variables)
        } catch {
            throw GitHubError(
                .malformed, "GitHub's answer to \(operation.name) is malformed: \(error); asked again", retryable: true)
        }
    }

    static func problem(_ error: JSONValue) -> GraphQLProblem {
        let path = (error["path"]?.array ?? []).map { $0.string ?? $0.int.map(String.init) ?? "" }
        return GraphQLProblem(
            type: error["type"]?.string, path: path, message: error["message"]?.string ?? "unknown error",
            samlFailure: error["extensions"]?["saml_failure"]?.bool == true)
    }

    /// GitHub's answers for a query it gave up on: "Something went wrong while executing your
    /// query. This may be the result of a timeout…", or the node limit.
    static func isTimeout(_ problem: GraphQLProblem) -> Bool {
        problem.message.hasPrefix("Something went wrong while executing your query")
            || problem.type == "MAX_NODE_LIMIT_EXCEEDED"
    }

    /// GETs a REST document: its JSON, and the `Link` header's `next`.
    private func get(_ url: URL) async throws -> (body: JSONValue, next: URL?) {
        var request = Request("GET", url, timeout: policy.timeout)
        request.setHeader("Accept", "application/vnd.github+json")
        request.setHeader("X-GitHub-Api-Version", "2022-11-28")
        let (data, http) = try await authorized(request, budget: restBudget)
        let decoded = try? JSONValue(parsing: data)
        try Self.check(http, body: decoded, rest: true)
        guard let decoded else {
            throw GitHubError(.malformed, "GitHub's REST response is not valid JSON (\(data.count) bytes)", retryable: true)
        }
        return (decoded, http.header("Link").flatMap(Self.nextLink))
    }

    /// Sends `request` with the credential's token; an App's installation token GitHub rejects
    /// (revoked, expired early) is minted afresh and the request sent once more.
    private func authorized(_ request: Request, budget: BudgetBox) async throws -> (Data, Response) {
        var request = request
        request.setHeader("Authorization", "Bearer \(try await credential.token())")
        let (data, http) = try await exchange(request, budget: budget)
        guard http.status == 401, await credential.rejected() else { return (data, http) }
        request.setHeader("Authorization", "Bearer \(try await credential.token())")
        return try await exchange(request, budget: budget)
    }

    /// Sends a request: transport failures become retryable errors (a timeout one the caller
    /// may shrink for); the budget and scope headers are read. Redirects are followed, and the
    /// token goes only to the endpoint's own origin (``HTTP/Transport/redirected(_:to:status:)``).
    private func exchange(_ request: Request, budget: BudgetBox) async throws -> (Data, Response) {
        let response: Response
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            switch error.code {
            case .timedOut: throw GitHubError(.timeout, error.message, retryable: true)
            case .unreachable, .failed: throw GitHubError(.transport, error.message, retryable: true)
            }
        }
        budget.update(from: response)
        if let listed = response.header("X-OAuth-Scopes") { scopes.withLock { $0 = listed } }
        return (response.body, response)
    }

    /// Turns an HTTP status other than 2xx into the error it means (GitHub's documented
    /// answers: "Rate limits for the REST API", *Exceeding the rate limit*).
    static func check(_ http: Response, body: JSONValue?, rest: Bool) throws {
        let status = http.status
        let retryAfter = http.header("Retry-After").flatMap(Double.init)
        let remaining = http.header("x-ratelimit-remaining").flatMap(Int.init)
        let reset = http.header("x-ratelimit-reset").flatMap(Double.init)
            .map { Date(timeIntervalSince1970: $0) }
        let message = body?["message"]?.string ?? ""
        switch status {
        case 200..<300: return
        case 401:
            throw GitHubError(
                .configuration, "GitHub rejected the token (HTTP 401); check that it is valid and not expired",
                status: status)
        case 403, 429:
            let secondary = message.lowercased().contains("secondary rate limit")
            if retryAfter != nil || secondary || (status == 429 && remaining != 0) {
                throw SecondaryLimit(retryAfter: retryAfter, resetAt: remaining == 0 ? reset : nil)
            }
            if remaining == 0 {
                // The primary budget: the headers were recorded, and the loop waits for the reset.
                throw GitHubError(.http, "GitHub rate limit hit (HTTP \(status))", status: status, retryable: true)
            }
            let saml = http.header("X-GitHub-SSO") != nil || message.contains("SAML")
            let problem = GraphQLProblem(type: "FORBIDDEN", path: [], message: message, samlFailure: saml)
            throw GitHubError(.forbidden, "GitHub refused the request (HTTP \(status)) — \(problem.fix)", status: status)
        case 404 where rest:
            throw GitHubError(
                .notFound,
                "GitHub answered HTTP 404 (\(message.isEmpty ? "Not Found" : message)): "
                    + "no such repository or REST path, or the token cannot see it", status: status)
        case 502, 504:
            throw GitHubError(
                .timeout, "GitHub answered HTTP \(status) (it gives up on a query that takes too long)",
                status: status, retryable: true)
        case 500..<600:
            var error = GitHubError(.http, "GitHub answered HTTP \(status)", status: status, retryable: true)
            error.retryAfter = retryAfter.map { .seconds($0) }
            throw error
        default:
            throw GitHubError(.http, "GitHub answered HTTP \(status)", status: status)
        }
    }

    /// The `next` URL of a `Link` header (`<https://…?page=2>; rel="next", <…>; rel="last"`).
    static func nextLink(_ header: String) -> URL? {
        for part in header.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">"),
                pieces.dropFirst().contains(where: { $0 == "rel=\"next\"" })
            else { continue }
            return URL(string: String(target.dropFirst().dropLast()))
        }
        return nil
    }
}

/// A secondary rate limit: how long to pause, by GitHub's documented rules — `Retry-After`
/// when given; else until `x-ratelimit-reset` when nothing remains; else at least a minute,
/// doubling while the limit persists.
struct SecondaryLimit: Error {
    let retryAfter: Double?
    let resetAt: Date?

    func pause(minimum: Duration, consecutive: Int) -> Double {
        if let retryAfter { return max(1, retryAfter) }
        if let resetAt { return max(1, resetAt.timeIntervalSinceNow + 1) }
        let floor = Double(minimum.components.seconds) + Double(minimum.components.attoseconds) / 1e18
        return floor * pow(2, Double(max(0, consecutive - 1)))
    }
}

/// The latest budget, shared by concurrent units using one client.
final class BudgetBox: Sendable {
    private let state = Mutex<Budget?>(nil)
    /// Points kept in reserve: at or below it the budget counts as spent.
    let floor: Int

    init(floor: Int = 0) {
        self.floor = floor
    }

    var value: Budget? { state.withLock { $0 } }

    func set(_ budget: Budget) { state.withLock { $0 = budget } }

    func update(from response: Response) {
        guard let remaining = response.header("x-ratelimit-remaining").flatMap(Int.init),
            let reset = response.header("x-ratelimit-reset").flatMap(Double.init)
        else { return }
        set(Budget(remaining: remaining, resetAt: Date(timeIntervalSince1970: reset)))
    }

    /// When the budget is spent and not yet reset, the time to wait until.
    func waitBeforeNextRequest() -> Date? {
        state.withLock { budget in
            guard let budget, budget.remaining <= floor, budget.resetAt > Date() else { return nil }
            return budget.resetAt
        }
    }
}

/// A credential's GraphQL budget shared with other processes using it (the workers of a pool,
/// through the ledger), so that together they keep it above a floor.
public protocol SharedBudget: Sendable {
    /// Reserves `points`, and one of the credential's requests of the last minute counted
    /// across every process using it, for a request about to be sent: nil when granted, else
    /// why not and until when (wait until then and ask again).
    func reserve(points: Int) throws -> BudgetHold?
    /// Gives a reservation back once its request ended, with the budget GitHub last reported.
    func settle(points: Int, remaining: Int?, resetAt: Date?) throws
}

/// Why a shared budget holds a request back, and until when.
public enum BudgetHold: Sendable, Equatable {
    /// The credential's points are at its floor until GitHub's reset.
    case spent(until: Date)
    /// The credential's requests of the last minute, every process's together, reached
    /// `github.max_requests_per_minute`.
    case throttled(until: Date)
}
