import FlyingFox
import Foundation
import JSON
import Synchronization

extension FakeGitHub {
    /// The operation name faults use for the REST list of review comments.
    public static let reviewCommentsOperation = "GET pulls/comments"

    /// `GET /repos/{owner}/{name}/pulls/comments`: inline review comments as GitHub's REST API
    /// lists them — `since` (updated at or after), `sort=updated|created`, `direction`,
    /// `per_page` (GitHub caps it at 100), `page`, a `Link` header with `next` and `last`, and
    /// a REST budget in the `x-ratelimit-*` headers (resource `core`). A repository the token
    /// may not read answers 403 (with `X-GitHub-SSO` when SAML single sign-on is the reason).
    func handleREST(_ request: HTTPRequest) async -> HTTPResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        if parts.count == 4, parts[0] == "repos", parts[3] == "installation" {
            return installation(request, repository: parts[1] + "/" + parts[2])
        }
        guard let access = access(request.headers[.authorization]) else {
            return response(
                401, headers: restHeaders(),
                body: Data(#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#.utf8))
        }
        guard parts.count == 5, parts[0] == "repos", parts[3] == "pulls", parts[4] == "comments" else {
            return response(404, headers: restHeaders(), body: Data(#"{"message":"Not Found"}"#.utf8))
        }
        let (owner, name) = (parts[1], parts[2])
        if let visible = access.owner, visible != owner.lowercased() {
            return response(404, headers: restHeaders(), body: Data(#"{"message":"Not Found"}"#.utf8))
        }
        if let action = nextFault(operation: Self.reviewCommentsOperation, repository: owner + "/" + name, rest: true),
            let faulty = await faultResponse(action, headers: restHeaders(), fullBody: { "[]" })
        {
            return faulty
        }
        if let limited = secondaryLimit() { return limited }
        if let saml = state.withLock({ $0.behaviour.forbidden["\(owner)/\(name)".lowercased()] }) {
            var headers = restHeaders()
            if saml {
                headers[HTTPHeader("X-GitHub-SSO")] = "required; url=https://github.com/orgs/\(owner)/sso?authorization_request=1"
                return response(
                    403, headers: headers,
                    body: Data(
                        #"{"message":"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.","documentation_url":"https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/"}"#
                            .utf8))
            }
            return response(
                403, headers: headers, body: Data(#"{"message":"Resource not accessible by personal access token"}"#.utf8))
        }
        let host = request.headers[.host] ?? "127.0.0.1"
        let perPage = min(100, max(1, Int(request.query["per_page"] ?? "") ?? 30))
        let pageNumber = max(1, Int(request.query["page"] ?? "") ?? 1)
        let since = request.query["since"].flatMap(Nodes.parse)
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
                return ascending
                    ? lhs.comment.databaseId < rhs.comment.databaseId : lhs.comment.databaseId > rhs.comment.databaseId
            }
            return comments.map {
                Nodes.restReviewComment($0.comment, pull: $0.pull, base: "http://\(host)/repos/\(owner)/\(name)")
            }
        }
        guard let listed else {
            return response(
                404, headers: restHeaders(),
                body: Data(#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest/pulls/comments"}"#.utf8))
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
        let body = mangled(JSONValue.array(Array(listed[lower..<upper])).canonical, operation: Self.reviewCommentsOperation)
        return response(200, headers: headers, body: Data(body.utf8))
    }

    /// `GET /rate_limit`: the budgets, as GitHub reports them (free of charge); 404 "Rate
    /// limiting is not enabled." on a GitHub Enterprise Server that has none.
    func rateLimitStatus(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return response(401, headers: restHeaders(), body: Data(#"{"message":"Bad credentials"}"#.utf8))
        }
        let (rest, points, reset, enabled) = state.withLock {
            ($0.restRemaining, $0.remaining, Int64($0.resetAt.timeIntervalSince1970), $0.behaviour.rateLimiting)
        }
        guard enabled else {
            return response(
                404, headers: HTTPHeaders(),
                body: Data(
                    #"{"message":"Rate limiting is not enabled.","documentation_url":"https://docs.github.com/enterprise-server/rest"}"#
                        .utf8))
        }
        func budget(_ limit: Int, _ remaining: Int) -> JSONValue {
            [
                "limit": .int(Int64(limit)), "remaining": .int(Int64(remaining)), "used": .int(Int64(limit - remaining)),
                "reset": .int(reset),
            ]
        }
        let body: JSONValue = [
            "resources": ["core": budget(5000, rest), "graphql": budget(limit, points)],
            "rate": budget(5000, rest),
        ]
        return response(200, headers: restHeaders(), body: Data(body.canonical.utf8))
    }

    func restHeaders() -> HTTPHeaders {
        let (remaining, reset, enabled) = state.withLock { ($0.restRemaining, $0.resetAt, $0.behaviour.rateLimiting) }
        var headers = HTTPHeaders()
        guard enabled else { return headers }
        headers[HTTPHeader("x-ratelimit-limit")] = "5000"
        headers[HTTPHeader("x-ratelimit-remaining")] = String(remaining)
        headers[HTTPHeader("x-ratelimit-reset")] = String(Int(reset.timeIntervalSince1970))
        headers[HTTPHeader("x-ratelimit-used")] = String(5000 - remaining)
        headers[HTTPHeader("x-ratelimit-resource")] = "core"
        return headers
    }
}
