import FlyingFox
public import Foundation
import JSON
import LoopbackServer

// FlyingFox has a `JSONValue` of its own; this file means ours.
typealias JSONValue = JSON.JSONValue
import Synchronization

/// A fault the fake server injects into matching requests.
public struct Fault: Sendable {
    public enum Action: Sendable {
        /// An HTTP status with an empty JSON body (`502`, `500`…), optionally with `Retry-After`.
        case status(Int, retryAfter: Int? = nil)
        /// GitHub's secondary rate limit: 403 with `Retry-After` seconds.
        case secondaryLimit(retryAfter: Int)
        /// Hold the response this long (longer than the client's timeout = a timeout).
        case delay(Duration)
        /// 200 with GraphQL `errors` and no data.
        case graphQLError(String)
        /// 200 with a body that is not JSON.
        case malformedJSON
        /// 200 with the real body cut in half.
        case truncatedBody
    }

    public var action: Action
    /// Only requests of this operation (`RepositoryPullRequests`…); nil for any.
    public var operation: String?
    /// Only requests for this repository (`owner/name`); nil for any.
    public var repository: String?
    /// Let this many matching requests through first.
    public var skip: Int
    /// How many matching requests get the fault (after `skip`).
    public var times: Int

    public init(_ action: Action, operation: String? = nil, repository: String? = nil, skip: Int = 0, times: Int = 1) {
        self.action = action
        self.operation = operation
        self.repository = repository
        self.skip = skip
        self.times = times
    }
}

/// A GitHub GraphQL server on 127.0.0.1 that answers ghillie-run's operations from a
/// generated estate, with GitHub's semantics: opaque cursors, `first` ≤ 100 (with GitHub's
/// error text), newest-first ordering, `since`/`until`/`filterBy.since`/`states` filters,
/// `totalCount`, a points budget reported in `rateLimit` and the `x-ratelimit-*` headers,
/// and injectable faults. Every response carries `Connection: close` (keep-alive costs a
/// 44 ms Nagle stall per request with FlyingFox).
public final class FakeGitHub: Sendable {
    public struct Stats: Sendable {
        public var requests = 0
        public var byOperation: [String: Int] = [:]
        public var pointsCharged = 0
        public var faultsInjected = 0
        /// REST requests answered (they have a budget of their own, and no points).
        public var restRequests = 0
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
        var remaining: Int
        var resetAt: Date
        var windowStarted = false
        var restRemaining = 5000
        var charges: [Charge] = []
        var faults: [(fault: Fault, seen: Int, fired: Int)] = []
        var stats = Stats()
    }

    public let token: String
    public let limit: Int
    /// Length of a budget window; the budget refills when it ends.
    public let resetInterval: TimeInterval
    private let state: Mutex<State>
    private let server = LoopbackServer()

    public init(estate: FakeEstate, token: String = "fake-token", budget: Int = 5000, resetIn: TimeInterval = 3600) {
        self.token = token
        limit = budget
        resetInterval = resetIn
        state = Mutex(State(estate: estate, remaining: budget, resetAt: Date().addingTimeInterval(resetIn)))
    }

    public var stats: Stats { state.withLock { $0.stats } }

    /// Every GraphQL request charged so far, for checking the fake's prices against GitHub's
    /// formula (`scripts/graphql-cost.py`).
    public var charges: [Charge] { state.withLock { $0.charges } }

    public func inject(_ fault: Fault) {
        state.withLock { $0.faults.append((fault, 0, 0)) }
    }

    /// Refills the budget now, as GitHub does at `resetAt`.
    public func refill() {
        state.withLock { state in
            state.remaining = limit
            state.resetAt = Date().addingTimeInterval(resetInterval)
        }
    }

    public func clearFaults() {
        state.withLock { $0.faults.removeAll() }
    }

    /// Replaces the estate (new activity between runs).
    public func update(_ change: (inout FakeEstate) -> Void) {
        state.withLock { change(&$0.estate) }
    }

    /// Starts listening on 127.0.0.1 (`port` 0 picks a free one); returns the GraphQL URL.
    public func start(port: UInt16 = 0) async throws -> URL {
        let bound = try await server.start(port: port, routes: [
            ("POST /graphql", { [self] request in await self.handle(request) }),
            ("GET /repos/*", { [self] request in await self.handleREST(request) }),
            ("GET /rate_limit", { [self] request in await self.rateLimitStatus(request) }),
        ])
        guard let url = URL(string: "http://127.0.0.1:\(bound)/graphql") else { throw URLError(.badURL) }
        return url
    }

    public func stop() async {
        await server.stop()
    }

    // MARK: Requests

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return json(401, #"{"message":"Bad credentials","documentation_url":"https://docs.github.com/graphql"}"#)
        }
        guard let body = try? await request.bodyData,
              let decoded = try? JSONDecoder().decode(JSONValue.self, from: body),
              let operation = decoded["operationName"]?.string
        else {
            return json(400, #"{"message":"Problems parsing JSON"}"#)
        }
        let variables = decoded["variables"] ?? [:]
        let repository = [variables["owner"]?.string, variables["name"]?.string].compactMap { $0 }.joined(separator: "/")

        // Faults first, in the order they were injected.
        if let action = nextFault(operation: operation, repository: repository) {
            if let faulty = await faultResponse(action, headers: rateHeaders(), fullBody: {
                answer(operation: operation, variables: variables).canonical
            }) { return faulty }
        }
        let result = answer(operation: operation, variables: variables, document: decoded["query"]?.string ?? "")
        return json(result["errors"] != nil && result["data"] == nil ? 200 : 200, result.canonical,
                    status403: result == Self.exhausted)
    }

    /// The response a fault gives, or nil when the request goes on (after a delay).
    private func faultResponse(_ action: Fault.Action, headers: HTTPHeaders, fullBody: () -> String) async -> HTTPResponse? {
        var headers = headers
        switch action {
        case .status(let code, let retryAfter):
            if let retryAfter { headers[HTTPHeader("Retry-After")] = String(retryAfter) }
            return response(code, headers: headers, body: Data("{}".utf8))
        case .secondaryLimit(let retryAfter):
            headers[HTTPHeader("Retry-After")] = String(retryAfter)
            return response(403, headers: headers, body: Data(#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#.utf8))
        case .delay(let duration):
            try? await Task.sleep(for: duration)
            return nil
        case .graphQLError(let message):
            return response(200, headers: headers, body: Data(
                JSONValue.object(["data": .null, "errors": [["message": .string(message)]]]).canonical.utf8))
        case .malformedJSON:
            return response(200, headers: headers, body: Data("{\"data\": {\"repository\": <html>".utf8))
        case .truncatedBody:
            let full = fullBody()
            return response(200, headers: headers, body: Data(full.prefix(full.count / 2).utf8))
        }
    }

    /// The operation name faults use for the REST list of review comments.
    public static let reviewCommentsOperation = "GET pulls/comments"

    /// `GET /repos/{owner}/{name}/pulls/comments`: inline review comments as GitHub's REST API
    /// lists them — `since` (updated at or after), `sort=updated|created`, `direction`,
    /// `per_page` (GitHub caps it at 100), `page`, a `Link` header with `next` and `last`, and
    /// a REST budget in the `x-ratelimit-*` headers (resource `core`).
    func handleREST(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return response(401, headers: restHeaders(), body: Data(#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#.utf8))
        }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count == 5, parts[0] == "repos", parts[3] == "pulls", parts[4] == "comments" else {
            return response(404, headers: restHeaders(), body: Data(#"{"message":"Not Found"}"#.utf8))
        }
        let (owner, name) = (parts[1], parts[2])
        if let action = nextFault(operation: Self.reviewCommentsOperation, repository: owner + "/" + name, rest: true),
           let faulty = await faultResponse(action, headers: restHeaders(), fullBody: { "[]" }) {
            return faulty
        }
        let host = request.headers[.host] ?? "127.0.0.1"
        let perPage = min(100, max(1, Int(request.query["per_page"] ?? "") ?? 30))
        let pageNumber = max(1, Int(request.query["page"] ?? "") ?? 1)
        let since = request.query["since"].flatMap(Self.parse)
        let byCreation = request.query["sort"] == "created"
        let ascending = request.query["direction"].map { $0 == "asc" } ?? byCreation
        let listed: [JSONValue]? = state.withLock { state in
            state.stats.restRequests += 1
            state.stats.byOperation[Self.reviewCommentsOperation, default: 0] += 1
            state.restRemaining = max(0, state.restRemaining - 1)
            guard let repo = state.estate.repository(owner: owner, name: name) else { return nil }
            var comments: [(pull: Int, comment: FakeReviewComment)] = []
            for pull in repo.pullRequests {
                for comment in pull.reviewComments where since.map({ comment.updatedAt >= $0 }) ?? true {
                    comments.append((pull.number, comment))
                }
            }
            comments.sort { lhs, rhs in
                let left = byCreation ? lhs.comment.createdAt : lhs.comment.updatedAt
                let right = byCreation ? rhs.comment.createdAt : rhs.comment.updatedAt
                if left != right { return ascending ? left < right : left > right }
                return ascending ? lhs.comment.databaseId < rhs.comment.databaseId : lhs.comment.databaseId > rhs.comment.databaseId
            }
            return comments.map { Self.restNode($0.comment, pull: $0.pull, base: "http://\(host)/repos/\(owner)/\(name)") }
        }
        guard let listed else {
            return response(404, headers: restHeaders(), body: Data(#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/pulls/comments"}"#.utf8))
        }
        let lastPage = max(1, (listed.count + perPage - 1) / perPage)
        let lower = min(listed.count, (pageNumber - 1) * perPage)
        let upper = min(listed.count, lower + perPage)
        var headers = restHeaders()
        if pageNumber < lastPage {
            let query = request.query.filter { $0.name != "page" }.map { "\($0.name)=\($0.value)&" }.joined()
            func link(_ page: Int) -> String {
                "<http://\(host)/repos/\(owner)/\(name)/pulls/comments?\(query)page=\(page)>"
            }
            headers[HTTPHeader("Link")] = "\(link(pageNumber + 1)); rel=\"next\", \(link(lastPage)); rel=\"last\""
        }
        return response(200, headers: headers, body: Data(JSONValue.array(Array(listed[lower..<upper])).canonical.utf8))
    }

    /// `GET /rate_limit`: the budgets, as GitHub reports them (free of charge).
    func rateLimitStatus(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return response(401, headers: restHeaders(), body: Data(#"{"message":"Bad credentials"}"#.utf8))
        }
        let (rest, points, reset) = state.withLock { ($0.restRemaining, $0.remaining, Int64($0.resetAt.timeIntervalSince1970)) }
        func budget(_ limit: Int, _ remaining: Int) -> JSONValue {
            ["limit": .int(Int64(limit)), "remaining": .int(Int64(remaining)), "used": .int(Int64(limit - remaining)),
             "reset": .int(reset)]
        }
        let body: JSONValue = ["resources": ["core": budget(5000, rest), "graphql": budget(limit, points)],
                               "rate": budget(5000, rest)]
        return response(200, headers: restHeaders(), body: Data(body.canonical.utf8))
    }

    /// A review comment as the REST API lists it, with the fields ingest drops (body, diff hunk).
    static func restNode(_ comment: FakeReviewComment, pull: Int, base: String) -> JSONValue {
        var node: [String: JSONValue] = [
            "id": .int(comment.databaseId), "node_id": .string("PRRC_\(comment.databaseId)"),
            "pull_request_review_id": .int(comment.reviewId), "path": .string(comment.path),
            "created_at": .string(time(comment.createdAt)), "updated_at": .string(time(comment.updatedAt)),
            "pull_request_url": .string("\(base)/pulls/\(pull)"), "body": .string("Nit: consider renaming this."),
            "diff_hunk": .string("@@ -1,3 +1,4 @@"), "html_url": .string("\(base)/pull/\(pull)#discussion_r\(comment.databaseId)"),
        ]
        if let reply = comment.inReplyTo { node["in_reply_to_id"] = .int(reply) }
        node["user"] = comment.author.map { JSONValue.object(["login": .string($0.login), "type": .string($0.isBot ? "Bot" : "User")]) } ?? .null
        return .object(node)
    }

    private func restHeaders() -> HTTPHeaders {
        let (remaining, reset) = state.withLock { ($0.restRemaining, $0.resetAt) }
        var headers = HTTPHeaders()
        headers[HTTPHeader("x-ratelimit-limit")] = "5000"
        headers[HTTPHeader("x-ratelimit-remaining")] = String(remaining)
        headers[HTTPHeader("x-ratelimit-reset")] = String(Int(reset.timeIntervalSince1970))
        headers[HTTPHeader("x-ratelimit-used")] = String(5000 - remaining)
        headers[HTTPHeader("x-ratelimit-resource")] = "core"
        return headers
    }

    static let exhausted: JSONValue = ["errors": [["type": "RATE_LIMITED", "message": "API rate limit exceeded for user."]]]

    private func nextFault(operation: String, repository: String, rest: Bool = false) -> Fault.Action? {
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

    /// Answers one operation from the estate, charging the budget.
    func answer(operation: String, variables: JSONValue, document: String = "") -> JSONValue {
        state.withLock { state in
            state.stats.requests += 1
            state.stats.byOperation[operation, default: 0] += 1
            let first = Int(variables["first"]?.int ?? 100)
            if first > 100 || first < 0 {
                let connection = ["RepositoryCommits": "history", "RepositoryPullRequests": "pullRequests",
                                  "RepositoryIssues": "issues", "RepositoryFirstPages": "pullRequests"][operation] ?? "nodes"
                return ["errors": [["type": "EXCESSIVE_PAGINATION", "message": .string(
                    "Requesting \(first) records on the `\(connection)` connection exceeds the `first` limit of 100 records.")]]]
            }
            // GitHub's formula: connections requested (each nested one once per parent node) / 100.
            let cost: Int
            switch operation {
            case "RepositoryPullRequests": cost = max(1, Int((Double(1 + 5 * first) / 100).rounded()))
            case "RepositoryOpenPullRequests": cost = max(1, Int((Double(1 + 2 * first) / 100).rounded()))
            case "DocumentationHistory": cost = max(1, Int((Double(1 + first) / 100).rounded()))
            case "RepositoryIssues": cost = max(1, Int((Double(1 + 2 * first) / 100).rounded()))
            case "RepositoryOpenIssues": cost = max(1, Int((Double(1 + first) / 100).rounded()))
            case "RepositoryFirstPages":
                var requests = variables["withCommits"]?.bool == true ? 1 : 0
                func size(_ name: String) -> Int { Int(variables[name]?.int ?? Int64(first)) }
                if variables["withUpdatedPulls"]?.bool == true { requests += 1 + 5 * first }
                if variables["withOpenPulls"]?.bool == true { requests += 1 + 2 * size("openPullsFirst") }
                if variables["withUpdatedIssues"]?.bool == true { requests += 1 + 2 * size("updatedIssuesFirst") }
                if variables["withOpenIssues"]?.bool == true { requests += 1 + size("openIssuesFirst") }
                for slot in 0..<4 where variables["withDoc\(slot)"]?.bool == true { requests += 1 + size("docsFirst") }
                cost = max(1, Int((Double(requests) / 100).rounded()))
            case "ProbeRepositories":
                var requests = 0
                for index in Self.probed(variables).indices {
                    for flag in ["wc", "wp", "wi"] where variables["\(flag)\(index)"]?.bool == true { requests += 1 }
                    requests += Self.probedPaths(variables, index).count
                }
                cost = max(1, Int((Double(requests) / 100).rounded()))
            default: cost = 1
            }
            // The budget window starts with the first charged request (so tests are not at
            // the mercy of how long the process took to get there) and refills when it ends.
            if !state.windowStarted {
                state.windowStarted = true
                state.resetAt = Date().addingTimeInterval(resetInterval)
            } else if Date() >= state.resetAt {
                state.remaining = limit
                state.resetAt = Date().addingTimeInterval(resetInterval)
            }
            guard state.remaining >= cost else { return Self.exhausted }
            state.remaining -= cost
            state.stats.pointsCharged += cost
            state.charges.append(Charge(operation: operation, document: document, variables: variables.canonical, points: cost))
            let rateLimit: JSONValue = ["cost": .int(Int64(cost)), "limit": .int(Int64(limit)),
                                        "remaining": .int(Int64(state.remaining)), "resetAt": .string(Self.time(state.resetAt))]
            let owner = variables["owner"]?.string ?? ""
            let name = variables["name"]?.string ?? ""
            let repo = state.estate.repository(owner: owner, name: name)
            var data: [String: JSONValue] = ["rateLimit": rateLimit]
            switch operation {
            case "Viewer":
                data["viewer"] = ["login": "ghillie-test"]
            case "ProbeRepositories":
                var missing: [JSONValue] = []
                for (index, slug) in Self.probed(variables).enumerated() {
                    let parts = slug.split(separator: "/").map(String.init)
                    guard parts.count == 2, let probed = state.estate.repository(owner: parts[0], name: parts[1]) else {
                        data["r\(index)"] = .null
                        missing.append(["type": "NOT_FOUND", "path": [.string("r\(index)")],
                                        "message": .string("Could not resolve to a Repository with the name '\(slug)'.")])
                        continue
                    }
                    data["r\(index)"] = probe(probed, variables: variables, index: index)
                }
                if !missing.isEmpty { return ["data": .object(data), "errors": .array(missing)] }
                return ["data": .object(data)]
            case "RepositoryCommits":
                data["repository"] = repo.map { commitsPage($0, variables: variables, first: first) } ?? .null
            case "RepositoryPullRequests":
                data["repository"] = repo.map { pullRequestsPage($0, variables: variables, first: first) } ?? .null
            case "RepositoryOpenPullRequests":
                data["repository"] = repo.map { pullRequestsPage($0, variables: variables, first: first, open: true) } ?? .null
            case "RepositoryIssues":
                data["repository"] = repo.map { issuesPage($0, variables: variables, first: first) } ?? .null
            case "RepositoryOpenIssues":
                data["repository"] = repo.map { issuesPage($0, variables: variables, first: first, open: true) } ?? .null
            case "RepositoryFirstPages":
                data["repository"] = repo.map { firstPages($0, variables: variables, first: first) } ?? .null
            case "DocumentationHistory":
                data["repository"] = repo.map { repo in
                    let path = variables["path"]?.string ?? ""
                    return commitsPage(repo, variables: variables, first: first, documentation: path)
                } ?? .null
            case "PullRequestConnection":
                let number = Int(variables["number"]?.int ?? 0)
                guard let pull = repo?.pullRequests.first(where: { $0.number == number }) else {
                    data["repository"] = repo == nil ? .null : .object(["pullRequest": .null])
                    break
                }
                var connection: [String: JSONValue] = [:]
                if variables["reviews"]?.bool == true {
                    connection["reviews"] = Self.connection(pull.reviews.map(Self.node), variables: variables)
                }
                if variables["comments"]?.bool == true {
                    connection["comments"] = Self.connection(pull.comments.map(Self.node), variables: variables)
                }
                if variables["files"]?.bool == true {
                    connection["files"] = Self.connection(pull.files.map(Self.node), variables: variables)
                }
                data["repository"] = .object(["pullRequest": .object(connection)])
            case "IssueComments":
                let number = Int(variables["number"]?.int ?? 0)
                guard let issue = repo?.issues.first(where: { $0.number == number }) else {
                    data["repository"] = repo == nil ? .null : .object(["issue": .null])
                    break
                }
                data["repository"] = .object(["issue": .object([
                    "comments": Self.connection(issue.comments.map(Self.node), variables: variables)])])
            default:
                return ["errors": [["message": .string("Unknown operation \(operation)")]]]
            }
            if repo == nil && operation != "Viewer" {
                return ["data": .object(data), "errors": [["type": "NOT_FOUND", "path": ["repository"],
                    "message": .string("Could not resolve to a Repository with the name '\(owner)/\(name)'.")]]]
            }
            return ["data": .object(data)]
        }
    }

    // MARK: Pages

    /// The repositories a probe asks about (`oI`/`nI`), in alias order.
    static func probed(_ variables: JSONValue) -> [String] {
        var slugs: [String] = []
        while let owner = variables["o\(slugs.count)"]?.string, let name = variables["n\(slugs.count)"]?.string {
            slugs.append(owner + "/" + name)
        }
        return slugs
    }

    /// The documentation paths and their starts a probe asks about for repository `index`.
    static func probedPaths(_ variables: JSONValue, _ index: Int) -> [(path: String, since: String)] {
        var paths: [(String, String)] = []
        while let path = variables["d\(index)_\(paths.count)"]?.string {
            paths.append((path, variables["e\(index)_\(paths.count)"]?.string ?? ""))
        }
        return paths
    }

    /// One repository's part of a probe: counts since each start, the newest pull request update.
    func probe(_ repo: FakeRepository, variables: JSONValue, index: Int) -> JSONValue {
        var result: [String: JSONValue] = ["isEmpty": .bool(repo.isEmpty)]
        func count(since: String, path: String?) -> JSONValue {
            let history = commitsPage(repo, variables: ["ref": variables["r\(index)"] ?? .null, "since": .string(since),
                                                        "until": variables["until"] ?? .null], first: 1, documentation: path)
            return ["totalCount": history["ref"]?["target"]?["history"]?["totalCount"] ?? 0]
        }
        if !repo.isEmpty && variables["r\(index)"]?.string == "refs/heads/" + repo.defaultBranch {
            var histories: [String: JSONValue] = [:]
            if variables["wc\(index)"]?.bool == true {
                histories["c"] = count(since: variables["c\(index)"]?.string ?? "", path: nil)
            }
            for (position, item) in Self.probedPaths(variables, index).enumerated() {
                histories["d\(position)"] = count(since: item.since, path: item.path)
            }
            result["ref"] = ["target": .object(histories)]
        } else {
            result["ref"] = .null
        }
        if variables["wp\(index)"]?.bool == true {
            let newest = repo.pullRequests.max { ($0.updatedAt, $0.number) < ($1.updatedAt, $1.number) }
            result["pullRequests"] = ["nodes": .array(newest.map { [["updatedAt": .string(Self.time($0.updatedAt))]] } ?? [])]
        }
        if variables["wi\(index)"]?.bool == true {
            let since = variables["s\(index)"]?.string.flatMap(Self.parse)
            result["issues"] = ["totalCount": .int(Int64(repo.issues.filter { issue in since.map { issue.updatedAt >= $0 } ?? true }.count))]
        }
        return .object(result)
    }

    static func page<T>(_ items: [T], variables: JSONValue, first: Int) -> (slice: ArraySlice<T>, info: JSONValue) {
        let offset = variables["after"]?.string.flatMap(decodeCursor) ?? 0
        let lower = min(offset, items.count)
        let upper = min(lower + first, items.count)
        let info: JSONValue = ["hasNextPage": .bool(upper < items.count),
                               "endCursor": upper > lower ? .string(encodeCursor(upper)) : .null]
        return (items[lower..<upper], info)
    }

    static func encodeCursor(_ offset: Int) -> String { Data("cursor:v2:\(offset)".utf8).base64EncodedString() }

    static func decodeCursor(_ cursor: String) -> Int? {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("cursor:v2:")
        else { return nil }
        return Int(text.dropFirst("cursor:v2:".count))
    }

    /// `documentation`: a path; only commits touching it, as documentation nodes.
    func commitsPage(_ repo: FakeRepository, variables: JSONValue, first: Int, documentation: String? = nil) -> JSONValue {
        let ref = variables["ref"]?.string ?? ""
        guard !repo.isEmpty else { return ["isEmpty": true, "ref": .null] }
        guard ref == "refs/heads/" + repo.defaultBranch else { return ["isEmpty": false, "ref": .null] }
        let since = variables["since"]?.string.flatMap(Self.parse)
        let until = variables["until"]?.string.flatMap(Self.parse)
        let matching = repo.commits.filter { commit in
            (since.map { commit.committedDate >= $0 } ?? true) && (until.map { commit.committedDate <= $0 } ?? true)
                && (documentation.map { path in commit.paths.contains { Self.isUnder($0, path) } } ?? true)
        }
        let (slice, info) = Self.page(matching, variables: variables, first: first)
        let nodes = documentation.map { path in slice.map { Self.documentationNode($0, path: path) } } ?? slice.map(Self.node)
        return ["isEmpty": false, "ref": ["target": ["history": [
            "totalCount": .int(Int64(matching.count)), "pageInfo": info, "nodes": .array(nodes)]]]]
    }

    func firstPages(_ repo: FakeRepository, variables: JSONValue, first: Int) -> JSONValue {
        func with(_ changes: [String: JSONValue]) -> JSONValue {
            guard case .object(var object) = variables else { return variables }
            for (key, value) in changes { object[key] = value }
            return .object(object)
        }
        var result: [String: JSONValue] = ["isEmpty": .bool(repo.isEmpty)]
        if variables["withCommits"]?.bool == true {
            let commitsFirst = Int(variables["commitsFirst"]?.int ?? 100)
            result["ref"] = commitsPage(repo, variables: variables, first: commitsFirst)["ref"] ?? .null
        }
        for slot in 0..<4 where variables["withDoc\(slot)"]?.bool == true {
            let path = variables["doc\(slot)Path"]?.string ?? ""
            let slotVariables = with(["since": variables["doc\(slot)Since"] ?? .null, "after": .null])
            let docsFirst = Int(variables["docsFirst"]?.int ?? Int64(first))
            result["doc\(slot)"] = commitsPage(repo, variables: slotVariables, first: docsFirst, documentation: path)["ref"] ?? .null
        }
        if variables["withUpdatedPulls"]?.bool == true {
            result["updatedPulls"] = pullRequestsPage(repo, variables: variables, first: first)["pullRequests"]
        }
        if variables["withOpenPulls"]?.bool == true {
            result["openPulls"] = pullRequestsPage(
                repo, variables: variables, first: Int(variables["openPullsFirst"]?.int ?? Int64(first)), open: true)["pullRequests"]
        }
        if variables["withUpdatedIssues"]?.bool == true {
            result["updatedIssues"] = issuesPage(
                repo, variables: with(["since": variables["issuesSince"] ?? .null]),
                first: Int(variables["updatedIssuesFirst"]?.int ?? Int64(first)))["issues"]
        }
        if variables["withOpenIssues"]?.bool == true {
            result["openIssues"] = issuesPage(repo, variables: with(["since": .null]),
                                              first: Int(variables["openIssuesFirst"]?.int ?? Int64(first)), open: true)["issues"]
        }
        return .object(result)
    }

    /// Pull requests, newest update first; `open`: only open ones, as summaries.
    func pullRequestsPage(_ repo: FakeRepository, variables: JSONValue, first: Int, open: Bool = false) -> JSONValue {
        let matching = repo.pullRequests.filter { !open || $0.state == .open }
            .sorted { ($0.updatedAt, $0.number) > ($1.updatedAt, $1.number) }
        let (slice, info) = Self.page(matching, variables: variables, first: first)
        let nodes = slice.map { Self.node($0, summary: open) }
        return ["pullRequests": ["totalCount": .int(Int64(matching.count)), "pageInfo": info, "nodes": .array(nodes)]]
    }

    /// Issues updated since `since`, newest update first; `open`: only open ones, as summaries.
    func issuesPage(_ repo: FakeRepository, variables: JSONValue, first: Int, open: Bool = false) -> JSONValue {
        let since = variables["since"]?.string.flatMap(Self.parse)
        let matching = repo.issues
            .filter { issue in (!open || issue.state == .open) && (since.map { issue.updatedAt >= $0 } ?? true) }
            .sorted { ($0.updatedAt, $0.number) > ($1.updatedAt, $1.number) }
        let (slice, info) = Self.page(matching, variables: variables, first: first)
        let nodes = slice.map { Self.node($0, summary: open) }
        return ["issues": ["totalCount": .int(Int64(matching.count)), "pageInfo": info, "nodes": .array(nodes)]]
    }

    static func node(_ commit: FakeCommit) -> JSONValue {
        var node: [String: JSONValue] = [:]
        node["oid"] = .string(commit.oid)
        let headline = commit.message.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
        node["messageHeadline"] = .string(String(headline))
        node["message"] = .string(commit.message)
        node["authoredDate"] = .string(time(commit.authoredDate))
        node["committedDate"] = .string(time(commit.committedDate))
        node["additions"] = .int(Int64(commit.additions))
        node["deletions"] = .int(Int64(commit.deletions))
        node["changedFilesIfAvailable"] = .int(Int64(commit.changedFiles))
        var author: [String: JSONValue] = ["name": .string(commit.author.name), "email": .string(commit.author.email)]
        author["user"] = commit.linked ? .object(["login": .string(commit.author.login)]) : .null
        node["author"] = .object(author)
        return .object(node)
    }

    static func isUnder(_ file: String, _ path: String) -> Bool {
        file == path || file.hasPrefix(path + "/")
    }

    /// A commit as the documentation history returns it: the path's entry at the commit and at
    /// its parent. A folder lists its direct children; files the commit touched get new object
    /// ids (and files it added are missing from the parent), and a `README.md` that no commit
    /// touches is present on both sides.
    static func documentationNode(_ commit: FakeCommit, path: String) -> JSONValue {
        let touched = commit.paths.filter { isUnder($0, path) }
        func oid(_ file: String, _ side: String) -> JSONValue { .string(String(UInt64(bitPattern: Int64(
            (file + side + commit.oid).utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) })), radix: 16)) }
        let isFile = touched == [path]
        func entry(after: Bool) -> JSONValue {
            if isFile {
                if !after && commit.message.contains("record decision") { return .null }
                return .object(["oid": oid(path, after ? "after" : "before"), "type": "blob", "object": .object([:])])
            }
            var entries: [JSONValue] = [["path": .string(path + "/README.md"), "oid": "0000readme", "type": "blob"]]
            for file in touched {
                // New decision records are added by their commit: absent before.
                if !after && file.contains("/adr/") && commit.message.contains("record decision") { continue }
                entries.append(["path": .string(file), "oid": oid(file, after ? "after" : "before"), "type": "blob"])
            }
            return .object(["oid": oid(path, after ? "after" : "before"), "type": "tree",
                            "object": .object(["entries": .array(entries)])])
        }
        return .object([
            "oid": .string(commit.oid),
            "messageHeadline": .string(String(commit.message.split(separator: "\n").first ?? "")),
            "committedDate": .string(time(commit.committedDate)),
            "file": entry(after: true),
            "parents": .object(["nodes": .array([.object(["file": entry(after: false)])])]),
        ])
    }

    /// `summary`: the fields of `PullRequestSummary` only (no reviews, comments or files).
    static func node(_ pull: FakePullRequest, summary: Bool = false) -> JSONValue {
        var node: [String: JSONValue] = [:]
        node["id"] = .string("PR_\(pull.databaseId)")
        node["databaseId"] = .int(pull.databaseId)
        node["number"] = .int(Int64(pull.number))
        node["title"] = .string(pull.title)
        node["state"] = .string(pull.state.rawValue)
        node["isDraft"] = .bool(pull.isDraft)
        node["createdAt"] = .string(time(pull.createdAt))
        node["updatedAt"] = .string(time(pull.updatedAt))
        node["mergedAt"] = optionalTime(pull.mergedAt)
        node["closedAt"] = optionalTime(pull.closedAt)
        node["baseRefName"] = .string(pull.baseRefName)
        node["headRefName"] = .string(pull.headRefName)
        node["additions"] = .int(Int64(pull.additions))
        node["deletions"] = .int(Int64(pull.deletions))
        node["changedFiles"] = .int(Int64(pull.changedFiles))
        node["author"] = pull.author.map { JSONValue.object(["login": .string($0.login)]) } ?? .null
        node["labels"] = labels(pull.labels)
        node["commits"] = .object(["totalCount": .int(Int64(pull.commitCount))])
        if summary { return .object(node) }
        node["reviews"] = firstPage(pull.reviews.map(Self.node), limit: 20)
        node["comments"] = firstPage(pull.comments.map(Self.node), limit: 20)
        node["files"] = firstPage(pull.files.map(Self.node), limit: 50)
        return .object(node)
    }

    /// `summary`: the fields of `IssueSummary` only (no comments).
    static func node(_ issue: FakeIssue, summary: Bool = false) -> JSONValue {
        var node: [String: JSONValue] = [:]
        node["id"] = .string("I_\(issue.databaseId)")
        node["databaseId"] = .int(issue.databaseId)
        node["number"] = .int(Int64(issue.number))
        node["title"] = .string(issue.title)
        node["state"] = .string(issue.state.rawValue)
        node["stateReason"] = issue.stateReason.map { JSONValue.string($0.rawValue) } ?? .null
        node["createdAt"] = .string(time(issue.createdAt))
        node["updatedAt"] = .string(time(issue.updatedAt))
        node["closedAt"] = optionalTime(issue.closedAt)
        node["author"] = issue.author.map { JSONValue.object(["login": .string($0.login)]) } ?? .null
        node["labels"] = labels(issue.labels)
        if summary { return .object(node) }
        node["comments"] = firstPage(issue.comments.map(Self.node), limit: 20)
        return .object(node)
    }

    static func node(_ review: FakeReview) -> JSONValue {
        .object(["databaseId": .int(review.databaseId), "author": user(review.author), "state": .string(review.state),
                 "submittedAt": .string(time(review.submittedAt))])
    }

    static func node(_ comment: FakeComment) -> JSONValue {
        .object(["databaseId": .int(comment.databaseId), "author": user(comment.author),
                 "createdAt": .string(time(comment.createdAt))])
    }

    static func node(_ file: FakeFile) -> JSONValue {
        .object(["path": .string(file.path), "additions": .int(Int64(file.additions)),
                 "deletions": .int(Int64(file.deletions)), "changeType": .string(file.changeType)])
    }

    static func user(_ user: FakeUser?) -> JSONValue {
        user.map { JSONValue.object(["login": .string($0.login)]) } ?? .null
    }

    /// A nested connection's first page: `totalCount` and at most `limit` nodes.
    static func firstPage(_ nodes: [JSONValue], limit: Int) -> JSONValue {
        .object(["totalCount": .int(Int64(nodes.count)), "nodes": .array(Array(nodes.prefix(limit)))])
    }

    /// A paged connection, as the overflow queries read it.
    static func connection(_ nodes: [JSONValue], variables: JSONValue) -> JSONValue {
        let (slice, info) = page(nodes, variables: variables, first: 100)
        return .object(["totalCount": .int(Int64(nodes.count)), "pageInfo": info, "nodes": .array(Array(slice))])
    }

    static func optionalTime(_ date: Date?) -> JSONValue {
        date.map { .string(time($0)) } ?? .null
    }

    static func labels(_ names: [String]) -> JSONValue {
        ["totalCount": .int(Int64(names.count)), "nodes": .array(names.prefix(50).map { ["name": .string($0)] })]
    }

    // MARK: Responses

    private func rateHeaders() -> HTTPHeaders {
        let (remaining, reset) = state.withLock { ($0.remaining, $0.resetAt) }
        var headers = HTTPHeaders()
        headers[HTTPHeader("x-ratelimit-limit")] = String(limit)
        headers[HTTPHeader("x-ratelimit-remaining")] = String(remaining)
        headers[HTTPHeader("x-ratelimit-reset")] = String(Int(reset.timeIntervalSince1970))
        headers[HTTPHeader("x-ratelimit-used")] = String(limit - remaining)
        headers[HTTPHeader("x-ratelimit-resource")] = "graphql"
        return headers
    }

    private func json(_ status: Int, _ body: String, status403: Bool = false) -> HTTPResponse {
        response(status403 ? 403 : status, headers: rateHeaders(), body: Data(body.utf8))
    }

    private func response(_ status: Int, headers: HTTPHeaders, body: Data) -> HTTPResponse {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.connection] = "close"
        return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: "Status \(status)"), headers: headers, body: body)
    }

    static func time(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
