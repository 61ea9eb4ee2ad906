import FlyingFox
import Foundation
import JSON

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
        /// 200 with the first item of each of the repository's paged lists left out (its
        /// `totalCount` kept; a list's head asked beside it is left as it is): a read that lost
        /// an item, as one over a changing list can.
        case dropFirstNode
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

extension FakeGitHub {
    /// The response a fault gives, or nil when the request goes on (after a delay).
    func faultResponse(_ action: Fault.Action, headers: HTTPHeaders, fullBody: () -> String) async -> HTTPResponse? {
        var headers = headers
        switch action {
        case .status(let code, let retryAfter):
            if let retryAfter { headers[HTTPHeader("Retry-After")] = String(retryAfter) }
            return response(code, headers: headers, body: Data("{}".utf8))
        case .secondaryLimit(let retryAfter):
            headers[HTTPHeader("Retry-After")] = String(retryAfter)
            return response(403, headers: headers, body: Data(Self.secondaryLimitBody.utf8))
        case .delay(let duration):
            try? await Task.sleep(for: duration)
            return nil
        case .graphQLError(let message):
            return response(
                200, headers: headers,
                body: Data(
                    JSONValue.object(["data": .null, "errors": [["message": .string(message)]]]).canonical.utf8))
        case .malformedJSON:
            return response(200, headers: headers, body: Data("{\"data\": {\"repository\": <html>".utf8))
        case .truncatedBody:
            let full = fullBody()
            return response(200, headers: headers, body: Data(full.prefix(full.count / 2).utf8))
        case .dropFirstNode:
            guard let decoded = try? JSONValue(parsing: fullBody()),
                case .object(var top) = decoded, case .object(var data)? = top["data"],
                case .object(var repository)? = data["repository"]
            else { return nil }
            for (key, value) in repository {
                guard case .object(var connection) = value, connection["pageInfo"] != nil,
                    case .array(let nodes)? = connection["nodes"], !nodes.isEmpty
                else { continue }
                connection["nodes"] = .array(Array(nodes.dropFirst()))
                repository[key] = .object(connection)
            }
            data["repository"] = .object(repository)
            top["data"] = .object(data)
            return response(200, headers: headers, body: Data(JSONValue.object(top).canonical.utf8))
        }
    }

    static let secondaryLimitBody =
        #"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}"#

    static let timeoutMessage =
        "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include `F00D:1234:5678:9ABC:DEF0` when reporting this issue."
}
