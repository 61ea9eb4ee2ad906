public import Foundation
public import JSON
#if canImport(FoundationNetworking)
import FoundationNetworking
import Synchronization
#endif

/// How the client retries and waits. Values come from the manifest's `github:` section.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included.
    public var attempts: Int
    /// First backoff; doubled per attempt, with ±50 % jitter, capped at `maximumBackoff`.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// Longest wait for the primary rate limit to reset before giving up on the unit.
    public var maximumRateLimitWait: Duration
    /// Per-request timeout.
    public var timeout: Duration

    public init(attempts: Int = 5, initialBackoff: Duration = .milliseconds(500), maximumBackoff: Duration = .seconds(60),
                maximumRateLimitWait: Duration = .seconds(3600), timeout: Duration = .seconds(30)) {
        self.attempts = attempts
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumRateLimitWait = maximumRateLimitWait
        self.timeout = timeout
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
    /// Seconds spent waiting on rate limits and backoff.
    public var waited: Double = 0

    public init() {}

    public static func += (lhs: inout CallCost, rhs: CallCost) {
        lhs.requests += rhs.requests
        lhs.points += rhs.points
        lhs.retries += rhs.retries
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
}

/// One page of a REST list: its items and the next page's URL (the `Link` header's `next`).
public struct RESTPage: Sendable {
    public let items: [JSONValue]
    public let next: URL?
}

/// A GitHub client over URLSession: GraphQL, and the one REST list ingest reads (inline review
/// comments, which GraphQL only offers nested two levels deep). Retries, backoff, rate
/// limits, no secrets out.
///
/// Retries 5xx, timeouts, transport errors and malformed bodies with exponential backoff and
/// jitter; honours `Retry-After` and the secondary-limit 403/429; waits for the primary budget
/// to reset (up to the policy's limit) when `x-ratelimit-remaining` reaches 0. GraphQL and REST
/// have budgets of their own on GitHub, and here.
public final class GitHubClient: Sendable {
    public let endpoint: URL
    /// The REST API's root (`https://api.github.com`, `https://HOST/api/v3`).
    public let restEndpoint: URL
    private let token: String
    public let policy: RetryPolicy
    private let session: URLSession
    private let budget = BudgetBox()
    private let restBudget = BudgetBox()
    private let scopes = Mutex<String?>(nil)

    /// `restEndpoint` defaults to the one GitHub pairs with `endpoint` (``restRoot(for:)``).
    public init(endpoint: URL, restEndpoint: URL? = nil, token: String, policy: RetryPolicy = RetryPolicy()) {
        self.endpoint = endpoint
        self.restEndpoint = restEndpoint ?? Self.restRoot(for: endpoint)
        self.token = token
        self.policy = policy
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(policy.timeout.components.seconds)
        // GraphQL answers are never reused: keep no cache (an in-memory one grows with the estate).
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpAdditionalHeaders = ["User-Agent": "ghillie-run/0.1"]
        session = URLSession(configuration: configuration)
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
    /// `partial`: when every error GitHub reports is `NOT_FOUND` (one alias of a batched query
    /// naming a repository that is gone), return the data it has rather than fail; the missing
    /// aliases are null in it.
    public func execute(
        _ operation: Operation, variables: [String: JSONValue], cost: inout CallCost, partial: Bool = false,
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> JSONValue {
        try await retrying(budget: budget, cost: &cost, events: events) { cost in
            try await send(operation, variables: variables, cost: &cost, partial: partial)
        }
    }

    /// GETs one page of a REST list under ``restEndpoint`` (`path` and `query`, or the `next`
    /// URL of an earlier page, which must be on the same host) and returns its items.
    public func list(
        _ path: String, query: [URLQueryItem] = [], next: URL? = nil, cost: inout CallCost,
        events: @Sendable (ClientEvent) -> Void = { _ in }
    ) async throws -> RESTPage {
        let url: URL
        if let next {
            guard next.scheme == restEndpoint.scheme, next.host == restEndpoint.host, next.port == restEndpoint.port else {
                throw GitHubError(.malformed, "GitHub's next-page link leaves \(restEndpoint.host ?? "the API host"); not followed")
            }
            url = next
        } else {
            var components = URLComponents(url: restEndpoint.appendingPathComponent(path), resolvingAgainstBaseURL: false)
            components?.queryItems = query.isEmpty ? nil : query
            guard let built = components?.url else { throw GitHubError(.configuration, "cannot build a REST URL for \(path)") }
            url = built
        }
        return try await retrying(budget: restBudget, cost: &cost, events: events) { _ in
            let (body, next) = try await get(url)
            guard let items = body.array else {
                throw GitHubError(.malformed, "GitHub's REST response is not a JSON list", retryable: true)
            }
            return RESTPage(items: items, next: next)
        }
    }

    /// GETs one REST document under ``restEndpoint`` (e.g. `rate_limit`), retrying as the
    /// policy allows.
    public func document(_ path: String, cost: inout CallCost) async throws -> JSONValue {
        let url = restEndpoint.appendingPathComponent(path)
        return try await retrying(budget: restBudget, cost: &cost, events: { _ in }) { _ in
            try await get(url).body
        }
    }

    /// The retry loop both APIs share: budget waits, bounded attempts, backoff or `Retry-After`.
    private func retrying<T>(
        budget: BudgetBox, cost: inout CallCost, events: @Sendable (ClientEvent) -> Void,
        _ attemptOnce: (inout CallCost) async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            if let wait = budget.waitBeforeNextRequest() {
                let seconds = wait.timeIntervalSinceNow
                if seconds > Double(policy.maximumRateLimitWait.components.seconds) {
                    throw GitHubError(.rateLimitExhausted, """
                        GitHub's rate limit is exhausted until \(Self.format(wait)), longer than \
                        github.max_rate_limit_wait_minutes allows; rerun after that to resume
                        """)
                }
                events(.waitingForReset(until: wait))
                try await Task.sleep(for: .seconds(max(0, seconds) + 1))
                cost.waited += max(0, seconds) + 1
            }
            attempt += 1
            cost.requests += 1
            do {
                return try await attemptOnce(&cost)
            } catch let error as GitHubError where error.retryable && attempt < policy.attempts {
                let delay = error.retryAfter ?? policy.backoff(attempt: attempt - 1)
                events(.retrying(attempt: attempt, after: delay, reason: error.message))
                cost.retries += 1
                try await Task.sleep(for: delay)
                cost.waited += Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            }
        }
    }

    private func send(_ operation: Operation, variables: [String: JSONValue], cost: inout CallCost, partial: Bool)
        async throws -> JSONValue {
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = Double(policy.timeout.components.seconds)
        let body: JSONValue = ["query": .string(operation.document), "operationName": .string(operation.name),
                               "variables": .object(variables)]
        request.httpBody = Data(body.canonical.utf8)

        let (data, http) = try await exchange(request, budget: budget)
        try Self.check(http, rest: false)
        let decoded: JSONValue
        do {
            decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw GitHubError(.malformed, "GitHub's response is not valid JSON (\(data.count) bytes)", retryable: true)
        }
        if let points = decoded["data"]?["rateLimit"]?["cost"]?.int { cost.points += Int(points) }
        if let remaining = decoded["data"]?["rateLimit"]?["remaining"]?.int,
           let reset = decoded["data"]?["rateLimit"]?["resetAt"]?.string.flatMap(Self.parse) {
            budget.set(Budget(remaining: Int(remaining), resetAt: reset))
        }
        if let errors = decoded["errors"]?.array, !errors.isEmpty {
            let messages = errors.compactMap { $0["message"]?.string }
            let types = errors.compactMap { $0["type"]?.string }
            if partial, types.count == errors.count, types.allSatisfy({ $0 == "NOT_FOUND" }),
               let data = decoded["data"], !data.isNull {
                return data
            }
            if types.contains("NOT_FOUND") {
                throw GitHubError(.notFound, messages.first ?? "not found")
            }
            if types.contains("RATE_LIMITED") || types.contains("RATE_LIMIT") {
                var error = GitHubError(.http, "GitHub rate limit hit", retryable: true)
                error.retryAfter = .seconds(60)
                throw error
            }
            throw GitHubError(.graphql, "GitHub returned errors: " + messages.joined(separator: "; "))
        }
        guard let result = decoded["data"], !result.isNull else {
            throw GitHubError(.malformed, "GitHub's response has no data", retryable: true)
        }
        return result
    }

    /// GETs a REST document: its JSON, and the `Link` header's `next`.
    private func get(_ url: URL) async throws -> (body: JSONValue, next: URL?) {
        var request = URLRequest(url: url)
        request.setValue("application/vnd.github+json", forHTTPHeaderField: "Accept")
        request.setValue("2022-11-28", forHTTPHeaderField: "X-GitHub-Api-Version")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = Double(policy.timeout.components.seconds)
        let (data, http) = try await exchange(request, budget: restBudget)
        try Self.check(http, rest: true)
        guard let decoded = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw GitHubError(.malformed, "GitHub's REST response is not valid JSON (\(data.count) bytes)", retryable: true)
        }
        return (decoded, http.value(forHTTPHeaderField: "Link").flatMap(Self.nextLink))
    }

    /// Sends a request: transport failures become retryable errors; the budget headers are read.
    private func exchange(_ request: URLRequest, budget: BudgetBox) async throws -> (Data, HTTPURLResponse) {
        let host = request.url?.host ?? "GitHub"
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let nsError = error as NSError
            let timedOut = nsError.code == NSURLErrorTimedOut
            throw GitHubError(.transport, timedOut ? "request to \(host) timed out"
                : "cannot reach \(host): \(nsError.localizedDescription)", retryable: true)
        }
        guard let http = response as? HTTPURLResponse else {
            throw GitHubError(.malformed, "GitHub's response was not HTTP", retryable: true)
        }
        budget.update(from: http)
        if let listed = http.value(forHTTPHeaderField: "X-OAuth-Scopes") { scopes.withLock { $0 = listed } }
        return (data, http)
    }

    /// Turns an HTTP status other than 2xx into the error it means.
    static func check(_ http: HTTPURLResponse, rest: Bool) throws {
        let status = http.statusCode
        let retryAfter = (http.value(forHTTPHeaderField: "Retry-After")).flatMap(Double.init).map { Duration.seconds($0) }
        switch status {
        case 200..<300: return
        case 401:
            throw GitHubError(.configuration, "GitHub rejected the token (HTTP 401); check that it is valid and not expired",
                              status: status)
        case 403, 429:
            let remaining = http.value(forHTTPHeaderField: "x-ratelimit-remaining").flatMap(Int.init)
            if retryAfter != nil || remaining == 0 || status == 429 {
                var error = GitHubError(.http, "GitHub rate limit hit (HTTP \(status))", status: status, retryable: true)
                error.retryAfter = retryAfter ?? (remaining == 0 ? nil : .seconds(60))
                throw error
            }
            throw GitHubError(.http, "GitHub refused the request (HTTP \(status)); the token may lack access",
                              status: status)
        case 404 where rest:
            throw GitHubError(.notFound, "GitHub answered HTTP 404: no such repository or REST path, or the token cannot see it",
                              status: status)
        case 500..<600:
            var error = GitHubError(.http, "GitHub answered HTTP \(status)", status: status, retryable: true)
            error.retryAfter = retryAfter
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

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// The latest budget, shared by concurrent units using one client.
final class BudgetBox: Sendable {
    private let state = Mutex<Budget?>(nil)

    var value: Budget? { state.withLock { $0 } }

    func set(_ budget: Budget) { state.withLock { $0 = budget } }

    func update(from response: HTTPURLResponse) {
        guard let remaining = response.value(forHTTPHeaderField: "x-ratelimit-remaining").flatMap(Int.init),
              let reset = response.value(forHTTPHeaderField: "x-ratelimit-reset").flatMap(Double.init)
        else { return }
        set(Budget(remaining: remaining, resetAt: Date(timeIntervalSince1970: reset)))
    }

    /// When the budget is spent and not yet reset, the time to wait until.
    func waitBeforeNextRequest() -> Date? {
        state.withLock { budget in
            guard let budget, budget.remaining <= 0, budget.resetAt > Date() else { return nil }
            return budget.resetAt
        }
    }
}
