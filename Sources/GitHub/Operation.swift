/// A GraphQL operation the client can send. Every one is validated against GitHub's published
/// schema by the test suite (`scripts/check-graphql.py`), so a misspelt field fails CI.
///
/// Queries are Swift constants rather than resource files so that the binary is
/// self-contained: it can be copied anywhere and still knows what to ask.
public struct Operation: Sendable, Hashable {
    public let name: String
    public let document: String

    /// All operations, for validation and for the fake server's dispatch.
    public static let all: [Operation] = [commits, pullRequests, issues, viewer]

    /// Default-branch commits in [since, until), newest first.
    public static let commits = Operation(name: "RepositoryCommits", document: """
        query RepositoryCommits($owner: String!, $name: String!, $ref: String!, $since: GitTimestamp!,
                                $until: GitTimestamp, $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            isEmpty
            ref(qualifiedName: $ref) {
              target {
                ... on Commit {
                  history(first: $first, after: $after, since: $since, until: $until) {
                    totalCount
                    pageInfo { hasNextPage endCursor }
                    nodes {
                      oid
                      messageHeadline
                      message
                      authoredDate
                      committedDate
                      additions
                      deletions
                      changedFilesIfAvailable
                      author { name email user { login } }
                      parents { totalCount }
                    }
                  }
                }
              }
            }
          }
        }
        """)

    /// Pull requests, most recently updated first; `states` narrows to open ones.
    ///
    /// Nested connections return a first page and their `totalCount`; ingest pages a
    /// connection that overflowed separately, or fails the unit rather than drop data.
    public static let pullRequests = Operation(name: "RepositoryPullRequests", document: """
        query RepositoryPullRequests($owner: String!, $name: String!, $states: [PullRequestState!],
                                     $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            pullRequests(first: $first, after: $after, states: $states,
                         orderBy: { field: UPDATED_AT, direction: DESC }) {
              totalCount
              pageInfo { hasNextPage endCursor }
              nodes {
                id
                databaseId
                number
                title
                state
                isDraft
                createdAt
                updatedAt
                mergedAt
                closedAt
                baseRefName
                headRefName
                additions
                deletions
                changedFiles
                author { login }
                labels(first: 50) { totalCount nodes { name } }
                commits { totalCount }
              }
            }
          }
        }
        """)

    /// Issues updated since a time (GitHub's `filterBy.since`); `states` narrows to open ones.
    public static let issues = Operation(name: "RepositoryIssues", document: """
        query RepositoryIssues($owner: String!, $name: String!, $since: DateTime, $states: [IssueState!],
                               $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            issues(first: $first, after: $after, filterBy: { since: $since, states: $states },
                   orderBy: { field: UPDATED_AT, direction: DESC }) {
              totalCount
              pageInfo { hasNextPage endCursor }
              nodes {
                id
                databaseId
                number
                title
                state
                stateReason
                createdAt
                updatedAt
                closedAt
                author { login }
                labels(first: 50) { totalCount nodes { name } }
                comments { totalCount }
              }
            }
          }
        }
        """)

    /// Who the token belongs to and the budget left: the cheapest authenticated call.
    public static let viewer = Operation(name: "Viewer", document: """
        query Viewer {
          rateLimit { cost limit remaining resetAt }
          viewer { login }
        }
        """)
}
