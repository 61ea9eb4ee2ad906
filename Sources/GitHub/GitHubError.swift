/// A failure talking to GitHub. Messages never contain the token.
public struct GitHubError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The token variable is missing or empty (exit code 5).
        case configuration
        /// The connection failed or timed out.
        case transport
        /// An HTTP error status.
        case http
        /// Primary budget exhausted for longer than the manifest allows waiting.
        case rateLimitExhausted = "rate_limit_exhausted"
        /// The response was not the JSON we asked for (malformed, truncated, wrong shape).
        case malformed
        /// GitHub answered with GraphQL `errors`.
        case graphql
        /// The repository or branch does not exist (or the token cannot see it).
        case notFound = "not_found"
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
