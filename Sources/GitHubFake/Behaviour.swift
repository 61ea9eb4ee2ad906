public import Foundation

/// How the fake departs from a quiet, fast GitHub — each the way GitHub documents or is seen
/// to behave. A fake with the default behaviour answers every well-formed request at once.
public struct Behaviour: Sendable {
    /// Items of a repository change while a client pages through its pull requests or issues,
    /// as on a busy repository.
    public var live: LiveChanges?
    /// Queries over a node count answer as GitHub does when a query takes too long.
    public var heavyQueries: HeavyQueries?
    /// Too many requests too fast meet GitHub's secondary rate limit.
    public var secondaryLimits: SecondaryLimits?
    /// Repositories the token may not read (`slug` lower-cased → the reason is SAML SSO).
    public var forbidden: [String: Bool] = [:]
    /// Fine-grained personal access tokens of other accounts (token → its owner and budget).
    /// GitHub: a fine-grained token "can only access resources owned by a single user or
    /// organization", and the primary rate limit is per account ("Rate limits for the REST API":
    /// requests by a user count towards that user's limit), so each spends a budget of its own.
    public var ownerTokens: [String: OwnerToken] = [:]
    /// GitHub Enterprise Server can run with rate limiting disabled: no budget headers, a null
    /// `rateLimit`, and `GET /rate_limit` answers 404 "Rate limiting is not enabled.".
    public var rateLimiting = true
    /// Answer every GraphQL request with a 307 to this URL (a proxy moved the endpoint).
    public var redirect: URL?
    /// A GitHub App installed on the estate: clients may authenticate as it (``GitHubApp``).
    public var app: GitHubApp?
    /// The repository permissions of a fine-grained token (or the App's installation):
    /// `Contents`, `Issues`, `Pull requests`; nil for a classic token, which reads whatever it
    /// can see. What a missing permission guards is withheld as GitHub withholds it
    /// (``Withholding``).
    public var permissions: Set<String>?

    public init() {}
}

/// Changes made to a repository between the pages of a read: on a continuation page of its
/// pull requests or issues (a request with `after`), the fake first changes one item — touches
/// one (a comment: it moves to the head of an `UPDATED_AT` list), merges an open pull request,
/// opens or closes an issue, opens a pull request — up to `perRepository` changes each, in the
/// order of `changes`, round and round.
public struct LiveChanges: Sendable {
    public enum Change: Sendable, Equatable {
        /// A comment on the least recently updated open pull request.
        case commentOnPullRequest
        /// An open pull request merged: the most recently updated one, or one spread over the list.
        case mergePullRequest(newest: Bool)
        case openIssue
        /// An open issue closed: the most recently updated one, or one spread over the list.
        case closeIssue(newest: Bool)
        case openPullRequest
        /// A comment on the least recently updated issue.
        case commentOnIssue
    }

    public var perRepository: Int
    public var changes: [Change]

    public static let cycle: [Change] = [
        .commentOnPullRequest, .mergePullRequest(newest: false), .openIssue,
        .closeIssue(newest: false), .openPullRequest, .commentOnIssue,
    ]

    public init(perRepository: Int = 6, changes: [Change] = Self.cycle) {
        self.perRepository = perRepository
        self.changes = changes.isEmpty ? Self.cycle : changes
    }
}

/// GitHub gives up on a query that takes too long (docs: *Rate limits and query limits for the
/// GraphQL API*, "Timeouts"): HTTP 502 or 504 from its gateway, or HTTP 200 with
/// `data: null` and "Something went wrong while executing your query. This may be the result
/// of a timeout, or it could be a GitHub bug." The fake answers so for queries asking for more
/// than `nodeLimit` nodes.
public struct HeavyQueries: Sendable {
    public enum Answer: Sendable { case badGateway, gatewayTimeout, timeoutError }
    public var nodeLimit: Int
    public var answer: Answer

    public init(nodeLimit: Int, answer: Answer) {
        self.nodeLimit = nodeLimit
        self.answer = answer
    }
}

/// GitHub's secondary rate limit (docs: *Rate limits for the REST API*, "About secondary rate
/// limits"): more than `requests` in `window` seconds are answered 403 "You have exceeded a
/// secondary rate limit", and every request for `penalty` seconds after it as well. GitHub
/// often sends no `Retry-After`; `retryAfter` adds one.
public struct SecondaryLimits: Sendable {
    public var requests: Int
    public var window: TimeInterval
    public var penalty: TimeInterval
    public var retryAfter: Int?

    public init(requests: Int, window: TimeInterval, penalty: TimeInterval, retryAfter: Int? = nil) {
        self.requests = requests
        self.window = window
        self.penalty = penalty
        self.retryAfter = retryAfter
    }
}

/// A GitHub App as GitHub authenticates it: a JSON Web Token signed RS256 with the App's key
/// (`iss` the App id; `iat` not in the future; `exp` after now and at most ten minutes after
/// `iat`) may ask `POST /app/installations/{id}/access_tokens` for an installation token and
/// `GET /repos/{owner}/{repo}/installation` for the installation on that owner (404 where the
/// App is not installed); the installation token is then a bearer token for the repositories
/// of its installation only — others do not exist for it — until it expires (an hour on
/// GitHub; `tokenLifetime` here, so tests see tokens expire), after which GitHub answers 401
/// "Bad credentials".
public struct GitHubApp: Sendable {
    public let appID: String
    public let publicKey: String
    /// Each installation's id by the owner it is installed on (lower-cased); an installation's
    /// token sees that owner's repositories only. `*`: one installation that sees every owner.
    public let installations: [String: Int64]
    public var tokenLifetime: TimeInterval

    public init(appID: String, publicKey: String, installationID: Int64, tokenLifetime: TimeInterval = 3600) {
        self.init(appID: appID, publicKey: publicKey, installations: ["*": installationID], tokenLifetime: tokenLifetime)
    }

    public init(appID: String, publicKey: String, installations: [String: Int64], tokenLifetime: TimeInterval = 3600) {
        self.appID = appID
        self.publicKey = publicKey
        self.installations = Dictionary(uniqueKeysWithValues: installations.map { ($0.key.lowercased(), $0.value) })
        self.tokenLifetime = tokenLifetime
    }

    /// The installation on `owner`, if the App is installed there.
    func installation(on owner: String) -> Int64? { installations[owner.lowercased()] ?? installations["*"] }
}

/// A fine-grained token of another account, scoped to one owner, with its own budget window.
public struct OwnerToken: Sendable {
    public var owner: String
    public var budget: Int
    public var resetIn: TimeInterval

    public init(owner: String, budget: Int = 5000, resetIn: TimeInterval = 3600) {
        self.owner = owner
        self.budget = budget
        self.resetIn = resetIn
    }
}
