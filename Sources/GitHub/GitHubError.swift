/// A failure talking to GitHub. Messages never contain the token.
public struct GitHubError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The token variable is missing or empty (exit code 5), or GitHub rejected it.
        case configuration
        /// The connection failed.
        case transport
        /// An HTTP error status.
        case http
        /// A budget (primary, or a secondary limit's wait) is spent for longer than the manifest
        /// allows waiting: the unit stops cleanly, resumable.
        case rateLimitExhausted = "rate_limit_exhausted"
        /// The response was not the JSON we asked for (malformed, truncated, wrong shape).
        case malformed
        /// GitHub answered with GraphQL `errors`.
        case graphql
        /// The repository or branch does not exist (or the token cannot see it).
        case notFound = "not_found"
        /// The token may not read it: an organisation's SAML single sign-on not authorised for
        /// the token, or a fine-grained token without the permission.
        case forbidden
        /// GitHub could not answer in time: HTTP 502/504, a request timeout, a 200 whose error
        /// says the query may have timed out, or a query over the node limit. A smaller request
        /// may succeed.
        case timeout
    }

    public let code: Code
    public var message: String
    public let status: Int?
    /// Whether another attempt may succeed (5xx, timeouts, secondary limits, malformed bodies).
    public let retryable: Bool
    /// How long the server asked us to wait, when it said.
    public var retryAfter: Duration?

    public init(_ code: Code, _ message: String, status: Int? = nil, retryable: Bool = false) {
        self.code = code
        self.message = message
        self.status = status
        self.retryable = retryable
        retryAfter = nil
    }

    public var description: String { message }
}

/// One error of a GraphQL response, as GitHub reports it.
public struct GraphQLProblem: Sendable, Hashable {
    /// `NOT_FOUND`, `FORBIDDEN`, `RATE_LIMITED`, `MAX_NODE_LIMIT_EXCEEDED`… or nil.
    public let type: String?
    /// The response path it concerns: its first element is the top-level alias (`r3`, `nodes`).
    public let path: [String]
    public let message: String
    /// GitHub's `extensions.saml_failure`: the organisation enforces SAML single sign-on and
    /// the token is not authorised for it.
    public let samlFailure: Bool

    public init(type: String?, path: [String], message: String, samlFailure: Bool) {
        self.type = type
        self.path = path
        self.message = message
        self.samlFailure = samlFailure
    }

    /// What a user does about a `FORBIDDEN` error, in a sentence.
    public var fix: String {
        if samlFailure || message.contains("SAML") {
            return "the organisation enforces SAML single sign-on and the token is not authorised for it: "
                + "authorise the token for the organisation (GitHub → Settings → Developer settings → "
                + "Personal access tokens → Configure SSO), or use a GitHub App installed on it"
        }
        return "the token may not read this repository: grant it read access (a fine-grained token needs the "
            + "repository selected, with Contents, Issues, Pull requests and Metadata read permissions)"
    }
}
