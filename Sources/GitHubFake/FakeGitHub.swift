import FlyingFox
public import Foundation
import JSON
import LoopbackServer
import Synchronization

// FlyingFox has a `JSONValue` of its own; this module means ours.
typealias JSONValue = JSON.JSONValue

/// A GitHub GraphQL (and review-comment REST) server on 127.0.0.1 that answers ghillie-run's
/// operations from a generated estate, with GitHub's semantics: exactly the fields a query
/// selects, keyset cursors, `first` ≤ 100 (with GitHub's error text), newest-first ordering,
/// `since`/`until`/`filterBy`/`states` filters, `totalCount`, a points budget priced from the
/// query by GitHub's published formula and reported in `rateLimit` and the `x-ratelimit-*`
/// headers, the node limit, `NOT_FOUND` and `FORBIDDEN` per alias; and, on request
/// (``Behaviour``), live changes between pages, heavy-query timeouts, secondary rate limits,
/// GitHub Enterprise Server without rate limiting, redirects, and injected faults. Every
/// response carries `Connection: close` (keep-alive costs a 44 ms Nagle stall per request
/// with FlyingFox).
public final class FakeGitHub: Sendable {
    public struct Stats: Sendable {
        public var requests = 0
        public var byOperation: [String: Int] = [:]
        public var pointsCharged = 0
        public var faultsInjected = 0
        /// REST requests answered (they have a budget of their own, and no points).
        public var restRequests = 0
        /// Requests answered with a secondary rate limit.
        public var secondaryLimited = 0
        /// Queries answered as timed out (``HeavyQueries``).
        public var timeouts = 0
        /// Changes made between pages (``LiveChanges``).
        public var liveChanges = 0
        /// Requests that came without an `Authorization` header.
        public var withoutToken = 0
        /// Most requests in flight at once.
        public var peakInFlight = 0
        /// Installation tokens issued to a GitHub App, and requests refused because the token
        /// they carried had expired.
        public var installationTokens = 0
        public var expiredTokens = 0
        /// App JSON Web Tokens refused (bad signature, wrong issuer, expired, too long-lived).
        public var refusedWebTokens = 0
        /// Per token (the fake's own, and each of another account, ``OwnerToken``): the lowest
        /// budget it was left with after a charged request, and requests refused for a spent
        /// budget.
        public var lowestRemaining: [String: Int] = [:]
        public var exhaustedRefusals: [String: Int] = [:]
    }

    /// One charged GraphQL request: what was asked and what it cost.
    public struct Charge: Sendable {
        public let operation: String
        /// The request's document (the query text it sent).
        public let document: String
        /// The request's variables, as canonical JSON text.
        public let variables: String
        public let points: Int
    }

    struct State {
        var estate: FakeEstate
        /// Installation tokens issued, and when each expires.
        var installationTokens: [String: (expires: Date, owner: String?)] = [:]
        var behaviour = Behaviour()
        var remaining: Int
        var resetAt: Date
        var windowStarted = false
        var restRemaining = 5000
        var charges: [Charge] = []
        var faults: [(fault: Fault, seen: Int, fired: Int)] = []
        var stats = Stats()
        var changes: [String: Int] = [:]
        var nextId: Int64 = 9_000_000_000
        var recent: [Date] = []
        var blockedUntil: Date?
        var inFlight = 0
        /// Budgets of other accounts' fine-grained tokens: remaining and reset, by token.
        var accounts: [String: (remaining: Int, resetAt: Date?)] = [:]
        /// Answers mangled on purpose (``mangle(_:)``).
        var mutator: Mutator?
    }

    public let token: String
    public let limit: Int
    /// Length of a budget window; the budget refills when it ends.
    public let resetInterval: TimeInterval
    let state: Mutex<State>
    /// Parsed documents by query text: a client sends the same few documents again and again.
    private let documents = Mutex<[String: QueryDocument]>([:])
    private let server = LoopbackServer()

    /// GitHub's node limit: a query may ask for at most this many nodes.
    static let nodeLimit = 500_000

    public init(estate: FakeEstate, token: String = "fake-token", budget: Int = 5000, resetIn: TimeInterval = 3600) {
        self.token = token
        limit = budget
        resetInterval = resetIn
        state = Mutex(State(estate: estate, remaining: budget, resetAt: Date().addingTimeInterval(resetIn)))
    }

    public var stats: Stats { state.withLock { $0.stats } }

    /// The estate as it is now (after any changes).
    public var estate: FakeEstate { state.withLock { $0.estate } }

    /// Every GraphQL request charged so far, for checking the fake's prices against GitHub's
    /// formula (`scripts/graphql-cost.py`).
    public var charges: [Charge] { state.withLock { $0.charges } }

    public func inject(_ fault: Fault) {
        state.withLock { $0.faults.append((fault, 0, 0)) }
    }

    /// Changes how the fake behaves from the next request on.
    public func configure(_ change: (inout Behaviour) -> Void) {
        state.withLock { change(&$0.behaviour) }
    }

    /// When a budget window that starts now ends: on a whole second, as GitHub's `resetAt`
    /// (and `x-ratelimit-reset`, epoch seconds) name it — a client that waits for the named
    /// second finds the budget refilled then, never a fraction of a second later. (A reset up to
    /// a second late let runs straddle two windows and hid a client that made no progress in a
    /// window smaller than its reads.)
    static func resetTime(after interval: TimeInterval) -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + interval).rounded(.up))
    }

    /// When the main budget's window ends (its `resetAt`).
    public var budgetResetsAt: Date { state.withLock { $0.resetAt } }

    /// Refills the budget now, as GitHub does at `resetAt`.
    public func refill() {
        state.withLock { state in
            state.remaining = limit
            state.resetAt = Self.resetTime(after: resetInterval)
        }
    }

    /// How many times each injected fault fired, in the order they were injected.
    public var faultsFired: [Int] { state.withLock { $0.faults.map(\.fired) } }

    public func clearFaults() {
        state.withLock { $0.faults.removeAll() }
    }

    /// Replaces the estate (new activity between runs).
    public func update(_ change: (inout FakeEstate) -> Void) {
        state.withLock { change(&$0.estate) }
    }

    /// Starts listening on 127.0.0.1 (`port` 0 picks a free one); returns the GraphQL URL.
    public func start(port: UInt16 = 0) async throws -> URL {
        let bound = try await server.start(
            port: port,
            routes: [
                ("POST /graphql", { [self] request in await self.tracked { await self.handle(request) } }),
                ("GET /repos/*", { [self] request in await self.tracked { await self.handleREST(request) } }),
                ("GET /rate_limit", { [self] request in await self.rateLimitStatus(request) }),
                ("POST /app/installations/*", { [self] request in await self.tracked { self.mintInstallationToken(request) } }),
            ])
        guard let url = URL(string: "http://127.0.0.1:\(bound)/graphql") else { throw URLError(.badURL) }
        return url
    }

    public func stop() async {
        await server.stop()
    }

    /// Counts a request in flight while it is answered.
    private func tracked(_ body: () async -> HTTPResponse) async -> HTTPResponse {
        state.withLock { state in
            state.inFlight += 1
            state.stats.peakInFlight = max(state.stats.peakInFlight, state.inFlight)
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        return await body()
    }

    // MARK: GraphQL

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if let target = state.withLock({ $0.behaviour.redirect }) {
            var headers = HTTPHeaders()
            headers[HTTPHeader("Location")] = target.absoluteString
            return response(307, headers: headers, body: Data())
        }
        guard let authorization = request.headers[.authorization] else {
            state.withLock { $0.stats.withoutToken += 1 }
            return json(401, #"{"message":"Requires authentication","documentation_url":"https://docs.github.com/graphql"}"#)
        }
        guard let access = access(authorization) else {
            return json(401, #"{"message":"Bad credentials","documentation_url":"https://docs.github.com/graphql"}"#)
        }
        guard let body = try? await request.bodyData,
            let decoded = try? JSONValue(parsing: body),
            let operation = decoded["operationName"]?.string
        else {
            return json(400, #"{"message":"Problems parsing JSON"}"#)
        }
        // An installation token is no user: GitHub answers `viewer` with "Resource not accessible
        // by integration".
        if operation == "Viewer" && access.installation {
            return json(
                200,
                #"{"data":{"viewer":null},"errors":[{"type":"FORBIDDEN","path":["viewer"],"message":"Resource not accessible by integration"}]}"#
            )
        }
        let variables = decoded["variables"] ?? [:]
        let text = decoded["query"]?.string ?? ""
        let repository = [variables["owner"]?.string, variables["name"]?.string].compactMap { $0 }.joined(separator: "/")

        // Faults first, in the order they were injected.
        if let action = nextFault(operation: operation, repository: repository) {
            if let faulty = await faultResponse(
                action, headers: rateHeaders(account: access.account),
                fullBody: {
                    answer(
                        operation: operation, variables: variables, text: text, owner: access.owner,
                        account: access.account
                    ).body
                })
            {
                return faulty
            }
        }
        if let limited = secondaryLimit() { return limited }
        let answered = await offPool {
            self.answer(
                operation: operation, variables: variables, text: text, owner: access.owner, account: access.account)
        }
        let sent = answered.status == 200 ? mangled(answered.body, operation: operation) : answered.body
        return response(answered.status, headers: rateHeaders(account: access.account), body: Data(sent.utf8))
    }

    /// Runs CPU-bound work (building, projecting and encoding an answer) on a Dispatch thread:
    /// on the cooperative pool it would hold up every other test's servers sharing it, and a
    /// client's timeout would measure the pool's queue instead of this server.
    func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    /// Answers one operation from the estate, charging the budget: the HTTP status and body.
    /// `owner`: an installation token's, whose App sees only that owner's repositories.
    func answer(operation: String, variables: JSONValue, text: String, owner: String? = nil, account: String? = nil) -> (
        status: Int, body: String
    ) {
        let document: QueryDocument
        if let parsed = documents.withLock({ $0[text] }) {
            document = parsed
        } else {
            do {
                document = try QueryDocument(text)
            } catch {
                return (200, JSONValue.object(["errors": [["message": .string("Parse error on \(error)")]]]).canonical)
            }
            documents.withLock { $0[text] = document }
        }
        // Variables are checked against the operation's declarations before anything runs, as
        // GitHub does: nothing is charged, the answer is errors and no data.
        let problems = document.variableProblems(operation: operation, variables: variables)
        if !problems.isEmpty {
            state.withLock { $0.stats.requests += 1 }
            return (200, JSONValue.object(["errors": .array(problems)]).canonical)
        }
        // Bookkeeping, pricing and live changes under the lock; resolving, projecting and
        // encoding outside it, on a snapshot of the estate, so concurrent requests overlap.
        let admitted: Result<(estate: FakeEstate, behaviour: Behaviour, rateLimit: JSONValue), Refusal> = state.withLock {
            state in
            state.stats.requests += 1
            state.stats.byOperation[operation, default: 0] += 1
            for (field, size) in document.pageSizes(operation: operation, variables: variables) where size > 100 || size < 0 {
                return .failure(
                    Refusal(
                        status: 200,
                        body: JSONValue.object([
                            "errors": [
                                [
                                    "type": "EXCESSIVE_PAGINATION",
                                    "message": .string(
                                        "Requesting \(size) records on the `\(field)` connection exceeds the `first` limit of 100 records."
                                    ),
                                ]
                            ]
                        ]).canonical))
            }
            // GitHub's formula: connections requested (each nested one once per parent node) / 100.
            let (requests, nodes) = document.price(operation: operation, variables: variables)
            if nodes > Self.nodeLimit {
                return .failure(
                    Refusal(
                        status: 200,
                        body: JSONValue.object([
                            "errors": [
                                [
                                    "type": "MAX_NODE_LIMIT_EXCEEDED",
                                    "message": .string(
                                        "By the time this query traverses to the nodes connection, it is requesting up to \(nodes) possible nodes which exceeds the maximum limit of \(Self.nodeLimit)."
                                    ),
                                ]
                            ]
                        ]).canonical))
            }
            if let heavy = state.behaviour.heavyQueries, nodes > heavy.nodeLimit {
                state.stats.timeouts += 1
                switch heavy.answer {
                case .badGateway: return .failure(Refusal(status: 502, body: ""))
                case .gatewayTimeout: return .failure(Refusal(status: 504, body: ""))
                case .timeoutError:
                    return .failure(
                        Refusal(
                            status: 200,
                            body: JSONValue.object(["data": .null, "errors": [["message": .string(Self.timeoutMessage)]]])
                                .canonical))
                }
            }
            let cost = max(1, Int((Double(requests) / 100).rounded()))
            // The budget window starts with the first charged request (so tests are not at
            // the mercy of how long the process took to get there) and refills when it ends.
            if !state.windowStarted {
                state.windowStarted = true
                state.resetAt = Self.resetTime(after: resetInterval)
            } else if Date() >= state.resetAt {
                state.remaining = limit
                state.resetAt = Self.resetTime(after: resetInterval)
            }
            var budget = (limit: limit, remaining: state.remaining, resetAt: state.resetAt)
            if let account, let scoped = state.behaviour.ownerTokens[account] {
                // Another account's budget: its window starts with its first charged request.
                var spent = state.accounts[account] ?? (scoped.budget, nil)
                if let reset = spent.resetAt, Date() >= reset { spent = (scoped.budget, nil) }
                let resetAt = spent.resetAt ?? Self.resetTime(after: scoped.resetIn)
                guard spent.remaining >= cost else {
                    state.stats.exhaustedRefusals[account, default: 0] += 1
                    return .failure(Refusal(status: 403, body: Self.exhausted.canonical))
                }
                spent = (spent.remaining - cost, resetAt)
                state.accounts[account] = spent
                state.stats.lowestRemaining[account] = min(state.stats.lowestRemaining[account] ?? .max, spent.remaining)
                budget = (scoped.budget, spent.remaining, resetAt)
            } else if state.behaviour.rateLimiting {
                guard state.remaining >= cost else {
                    state.stats.exhaustedRefusals[token, default: 0] += 1
                    return .failure(Refusal(status: 403, body: Self.exhausted.canonical))
                }
                state.remaining -= cost
                budget.remaining = state.remaining
                state.stats.lowestRemaining[token] = min(state.stats.lowestRemaining[token] ?? .max, state.remaining)
            }
            state.stats.pointsCharged += cost
            state.charges.append(Charge(operation: operation, document: text, variables: variables.canonical, points: cost))
            if state.behaviour.live != nil, variables["after"]?.string != nil,
                ["RepositoryPullRequests", "RepositoryOpenPullRequests", "RepositoryIssues", "RepositoryOpenIssues"].contains(
                    operation)
            {
                change(
                    &state,
                    repository: [variables["owner"]?.string, variables["name"]?.string].compactMap { $0 }.joined(separator: "/"))
            }
            let rateLimit: JSONValue =
                state.behaviour.rateLimiting
                ? [
                    "cost": .int(Int64(cost)), "limit": .int(Int64(budget.limit)), "remaining": .int(Int64(budget.remaining)),
                    "resetAt": .string(Nodes.time(budget.resetAt)),
                ]
                : .null
            guard let owner else { return .success((state.estate, state.behaviour, rateLimit)) }
            // Repositories where the App is not installed do not exist for its token.
            var visible = state.estate
            visible.repositories.removeAll { $0.owner.lowercased() != owner }
            return .success((visible, state.behaviour, rateLimit))
        }
        let (estate, behaviour, rateLimit): (FakeEstate, Behaviour, JSONValue)
        switch admitted {
        case .failure(let refusal): return (refusal.status, refusal.body)
        case .success(let admission): (estate, behaviour, rateLimit) = admission
        }
        let resolver = Resolver(
            estate: estate, variables: variables, document: document, operation: operation,
            forbidden: behaviour.forbidden)
        guard var answer = resolver.resolve(operation) else {
            return (200, JSONValue.object(["errors": [["message": .string("Unknown operation \(operation)")]]]).canonical)
        }
        answer.data["rateLimit"] = rateLimit
        var data = document.project(.object(answer.data), document.operation(operation) ?? [], variables: variables)
        if let granted = behaviour.permissions {
            answer.errors += Withholding(granted: granted, app: owner != nil).apply(
                to: &data, document: document, operation: operation, variables: variables)
        }
        var result: [String: JSONValue] = ["data": data]
        if !answer.errors.isEmpty { result["errors"] = .array(answer.errors) }
        return (200, JSONValue.object(result).canonical)
    }

    /// A request answered before it reaches the estate: an error status and body.
    struct Refusal: Error {
        let status: Int
        let body: String
    }

    static let exhausted: JSONValue = ["errors": [["type": "RATE_LIMITED", "message": "API rate limit exceeded for user."]]]

    /// A secondary rate limit response when the request comes too soon (``SecondaryLimits``).
    func secondaryLimit() -> HTTPResponse? {
        let limited: Int?? = state.withLock { state in
            guard let limits = state.behaviour.secondaryLimits else { return nil }
            let now = Date()
            if let until = state.blockedUntil, until > now {
                state.stats.secondaryLimited += 1
                return .some(limits.retryAfter)
            }
            state.recent.removeAll { $0 <= now.addingTimeInterval(-limits.window) }
            state.recent.append(now)
            guard state.recent.count > limits.requests else { return nil }
            state.blockedUntil = now.addingTimeInterval(limits.penalty)
            state.recent.removeAll()
            state.stats.secondaryLimited += 1
            return .some(limits.retryAfter)
        }
        guard let limited else { return nil }
        var headers = rateHeaders()
        if let retryAfter = limited { headers[HTTPHeader("Retry-After")] = String(retryAfter) }
        return response(403, headers: headers, body: Data(Self.secondaryLimitBody.utf8))
    }

    func nextFault(operation: String, repository: String, rest: Bool = false) -> Fault.Action? {
        state.withLock { state in
            for index in state.faults.indices {
                let fault = state.faults[index].fault
                if let only = fault.operation, only != operation { continue }
                if let only = fault.repository, only.lowercased() != repository.lowercased() { continue }
                state.faults[index].seen += 1
                guard state.faults[index].seen > fault.skip, state.faults[index].fired < fault.times else { continue }
                state.faults[index].fired += 1
                state.stats.faultsInjected += 1
                // A delayed request is still answered (and counted) by `answer`; others end here.
                if case .delay = fault.action {} else if rest { state.stats.restRequests += 1 } else { state.stats.requests += 1 }
                return fault.action
            }
            return nil
        }
    }

    // MARK: Responses

    /// The `x-ratelimit-*` headers of the main budget, or of another account's token.
    func rateHeaders(account: String? = nil) -> HTTPHeaders {
        let (limit, remaining, reset, enabled) = state.withLock { state in
            if let account, let scoped = state.behaviour.ownerTokens[account] {
                let spent = state.accounts[account]
                return (
                    scoped.budget, spent?.remaining ?? scoped.budget,
                    spent?.resetAt ?? Self.resetTime(after: scoped.resetIn), true
                )
            }
            return (self.limit, state.remaining, state.resetAt, state.behaviour.rateLimiting)
        }
        var headers = HTTPHeaders()
        guard enabled else { return headers }
        headers[HTTPHeader("x-ratelimit-limit")] = String(limit)
        headers[HTTPHeader("x-ratelimit-remaining")] = String(remaining)
        headers[HTTPHeader("x-ratelimit-reset")] = String(Int(reset.timeIntervalSince1970))
        headers[HTTPHeader("x-ratelimit-used")] = String(limit - remaining)
        headers[HTTPHeader("x-ratelimit-resource")] = "graphql"
        return headers
    }

    func json(_ status: Int, _ body: String) -> HTTPResponse {
        response(status, headers: rateHeaders(), body: Data(body.utf8))
    }

    func response(_ status: Int, headers: HTTPHeaders, body: Data) -> HTTPResponse {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.connection] = "close"
        return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: "Status \(status)"), headers: headers, body: body)
    }
}
