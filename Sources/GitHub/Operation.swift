/// A GraphQL operation the client can send. Every one is validated against GitHub's published
/// schema by the test suite (`scripts/check-graphql.py`), so a misspelt field fails CI.
///
/// Queries are Swift constants rather than resource files so that the binary is
/// self-contained: it can be copied anywhere and still knows what to ask.
public struct Operation: Sendable, Hashable {
    public let name: String
    public let document: String

    /// All operations, for validation and for the fake server's dispatch.
    public static let all: [Operation] = [
        firstPages, commits, pullRequests, openPullRequests, issues, openIssues, documentationHistory,
        pullRequestConnection, issueComments, viewer,
    ]

    /// How many documentation paths the combined first-page request carries; more paths are
    /// read with ``documentationHistory``, one request each.
    public static let documentationSlots = 2

    /// What ingest reads of a commit that touched a documentation path: the path's entry at
    /// the commit and at its first parent. For a folder, the two entry lists tell which files
    /// were added, changed or removed — the actual file paths, which GitHub's Commit type does
    /// not list.
    static func documentationNode(path variable: String) -> String {
        """
        oid messageHeadline committedDate
        file(path: \(variable)) { oid type object { ... on Tree { entries { path oid type } } } }
        parents(first: 1) {
          nodes { file(path: \(variable)) { oid type object { ... on Tree { entries { path oid type } } } } }
        }
        """
    }

    /// One documentation slot of ``firstPages``: an aliased history of one path.
    static func documentationSlot(_ index: Int) -> String {
        """
        doc\(index): ref(qualifiedName: $ref) @include(if: $withDoc\(index)) {
          target {
            ... on Commit {
              history(first: $docsFirst, path: $doc\(index)Path, since: $doc\(index)Since, until: $until) {
                totalCount pageInfo { hasNextPage endCursor }
                nodes { \(documentationNode(path: "$doc\(index)Path")) }
              }
            }
          }
        }
        """
    }

    /// The fields ingest stores, shared by every operation that returns these nodes.
    ///
    /// Nested connections return a first page and their `totalCount`; ingest reads a
    /// connection that overflowed separately (``pullRequestConnection``, ``issueComments``),
    /// or fails the unit rather than drop data.
    static let fragmentTexts: [String: (text: String, uses: [String])] = [
        "CommitNode": ("""
            fragment CommitNode on Commit {
              oid messageHeadline message authoredDate committedDate additions deletions changedFilesIfAvailable
              author { name email user { login } }
            }
            """, []),
        "PullRequestSummary": ("""
            fragment PullRequestSummary on PullRequest {
              id databaseId number title state isDraft createdAt updatedAt mergedAt closedAt
              baseRefName headRefName additions deletions changedFiles
              author { login }
              labels(first: 50) { totalCount nodes { name } }
              commits { totalCount }
            }
            """, []),
        "PullRequestNode": ("""
            fragment PullRequestNode on PullRequest {
              ...PullRequestSummary
              reviews(first: 20) { totalCount nodes { ...Review } }
              comments(first: 20) { totalCount nodes { ...Comment } }
              files(first: 50) { totalCount nodes { ...ChangedFile } }
            }
            """, ["PullRequestSummary", "Review", "Comment", "ChangedFile"]),
        "IssueSummary": ("""
            fragment IssueSummary on Issue {
              id databaseId number title state stateReason createdAt updatedAt closedAt
              author { login }
              labels(first: 50) { totalCount nodes { name } }
            }
            """, []),
        "IssueNode": ("""
            fragment IssueNode on Issue {
              ...IssueSummary
              comments(first: 20) { totalCount nodes { ...Comment } }
            }
            """, ["IssueSummary", "Comment"]),
        "Review": ("fragment Review on PullRequestReview { databaseId author { login } state submittedAt }", []),
        "Comment": ("fragment Comment on IssueComment { databaseId author { login } createdAt }", []),
        "ChangedFile": ("fragment ChangedFile on PullRequestChangedFile { path additions deletions changeType }", []),
    ]

    /// The text of `names` and the fragments they use, each once (GraphQL rejects unused ones).
    static func fragments(_ names: String...) -> String {
        var included: [String] = []
        func include(_ name: String) {
            guard !included.contains(name), let fragment = fragmentTexts[name] else { return }
            included.append(name)
            fragment.uses.forEach(include)
        }
        names.forEach(include)
        return "\n" + included.compactMap { fragmentTexts[$0]?.text }.joined(separator: "\n")
    }

    /// The first page of every stream of a repository in one request: a quiet repository
    /// needs nothing more. Each part can be left out (`@include`) when its stream is done.
    public static let firstPages = Operation(name: "RepositoryFirstPages", document: """
        query RepositoryFirstPages($owner: String!, $name: String!, $ref: String!, $since: GitTimestamp!,
                                   $until: GitTimestamp, $issuesSince: DateTime, $commitsFirst: Int!, $first: Int!,
                                   $openPullsFirst: Int!, $updatedIssuesFirst: Int!, $openIssuesFirst: Int!,
                                   $docsFirst: Int!,
                                   $withCommits: Boolean!, $withUpdatedPulls: Boolean!, $withOpenPulls: Boolean!,
                                   $withUpdatedIssues: Boolean!, $withOpenIssues: Boolean!,
                                   \((0..<documentationSlots).map { "$withDoc\($0): Boolean!, $doc\($0)Path: String!, $doc\($0)Since: GitTimestamp!" }.joined(separator: ", "))) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            isEmpty
            ref(qualifiedName: $ref) @include(if: $withCommits) {
              target {
                ... on Commit {
                  history(first: $commitsFirst, since: $since, until: $until) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...CommitNode }
                  }
                }
              }
            }
            updatedPulls: pullRequests(first: $first, orderBy: { field: UPDATED_AT, direction: DESC })
              @include(if: $withUpdatedPulls) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...PullRequestNode }
            }
            openPulls: pullRequests(first: $openPullsFirst, states: [OPEN], orderBy: { field: UPDATED_AT, direction: DESC })
              @include(if: $withOpenPulls) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...PullRequestSummary }
            }
            updatedIssues: issues(first: $updatedIssuesFirst, filterBy: { since: $issuesSince },
                                  orderBy: { field: UPDATED_AT, direction: DESC }) @include(if: $withUpdatedIssues) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueNode }
            }
            openIssues: issues(first: $openIssuesFirst, filterBy: { states: [OPEN] },
                               orderBy: { field: UPDATED_AT, direction: DESC }) @include(if: $withOpenIssues) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueSummary }
            }
            \((0..<documentationSlots).map(documentationSlot).joined(separator: "\n"))
          }
        }
        """ + fragments("CommitNode", "PullRequestNode", "IssueNode"))

    /// Commits on the default branch that touched one documentation path, with the path's
    /// entries before and after each.
    public static let documentationHistory = Operation(name: "DocumentationHistory", document: """
        query DocumentationHistory($owner: String!, $name: String!, $ref: String!, $path: String!,
                                   $since: GitTimestamp!, $until: GitTimestamp, $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            isEmpty
            ref(qualifiedName: $ref) {
              target {
                ... on Commit {
                  history(first: $first, after: $after, path: $path, since: $since, until: $until) {
                    totalCount pageInfo { hasNextPage endCursor }
                    nodes { \(documentationNode(path: "$path")) }
                  }
                }
              }
            }
          }
        }
        """)

    /// Default-branch commits in [since, until], newest first.
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
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...CommitNode }
                  }
                }
              }
            }
          }
        }
        """ + fragments("CommitNode"))

    /// Pull requests, most recently updated first (the updated-since stream stops at `since`).
    public static let pullRequests = Operation(name: "RepositoryPullRequests", document: """
        query RepositoryPullRequests($owner: String!, $name: String!, $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            pullRequests(first: $first, after: $after, orderBy: { field: UPDATED_AT, direction: DESC }) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...PullRequestNode }
            }
          }
        }
        """ + fragments("PullRequestNode"))

    /// Every open pull request, most recently updated first, without reviews, comments or files.
    ///
    /// Open items are read for what is outstanding (state, labels, age, commit count). Anything
    /// that happened to one in the window moved its `updatedAt`, so the updated-since stream
    /// reads it whole; the rest has nothing nested in the window, and leaving the nested
    /// connections out takes 74 pull requests per 1-point page instead of 29.
    public static let openPullRequests = Operation(name: "RepositoryOpenPullRequests", document: """
        query RepositoryOpenPullRequests($owner: String!, $name: String!, $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            pullRequests(first: $first, after: $after, states: [OPEN], orderBy: { field: UPDATED_AT, direction: DESC }) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...PullRequestSummary }
            }
          }
        }
        """ + fragments("PullRequestSummary"))

    /// Every open issue, most recently updated first, without comments (see ``openPullRequests``).
    public static let openIssues = Operation(name: "RepositoryOpenIssues", document: """
        query RepositoryOpenIssues($owner: String!, $name: String!, $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            issues(first: $first, after: $after, filterBy: { states: [OPEN] }, orderBy: { field: UPDATED_AT, direction: DESC }) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueSummary }
            }
          }
        }
        """ + fragments("IssueSummary"))

    /// Issues updated since a time (GitHub's `filterBy.since`).
    public static let issues = Operation(name: "RepositoryIssues", document: """
        query RepositoryIssues($owner: String!, $name: String!, $since: DateTime, $first: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            issues(first: $first, after: $after, filterBy: { since: $since },
                   orderBy: { field: UPDATED_AT, direction: DESC }) {
              totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueNode }
            }
          }
        }
        """ + fragments("IssueNode"))

    /// Every review, comment or changed file of one pull request, for a nested connection that
    /// overflowed its first page. Exactly one of the three flags is true.
    public static let pullRequestConnection = Operation(name: "PullRequestConnection", document: """
        query PullRequestConnection($owner: String!, $name: String!, $number: Int!, $after: String,
                                    $reviews: Boolean!, $comments: Boolean!, $files: Boolean!) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            pullRequest(number: $number) {
              reviews(first: 100, after: $after) @include(if: $reviews) {
                totalCount pageInfo { hasNextPage endCursor } nodes { ...Review }
              }
              comments(first: 100, after: $after) @include(if: $comments) {
                totalCount pageInfo { hasNextPage endCursor } nodes { ...Comment }
              }
              files(first: 100, after: $after) @include(if: $files) {
                totalCount pageInfo { hasNextPage endCursor } nodes { ...ChangedFile }
              }
            }
          }
        }
        """ + fragments("Review", "Comment", "ChangedFile"))

    /// Every comment of one issue, when its first page overflowed.
    public static let issueComments = Operation(name: "IssueComments", document: """
        query IssueComments($owner: String!, $name: String!, $number: Int!, $after: String) {
          rateLimit { cost remaining resetAt }
          repository(owner: $owner, name: $name) {
            issue(number: $number) {
              comments(first: 100, after: $after) {
                totalCount pageInfo { hasNextPage endCursor } nodes { ...Comment }
              }
            }
          }
        }
        """ + fragments("Comment"))

    /// Has anything changed in these repositories since their last ingest? One request for
    /// many repositories (an alias `rI` each), a few connections apiece: commits and each
    /// documentation path since a time (`totalCount`), the most recently updated pull request,
    /// and issues updated since a time. `documentationPaths[I]` is how many paths repository I
    /// has; variables per repository: `oI`, `nI`, `rI` (owner, name, ref), `cI` (commits since),
    /// `sI` (issues since), `dI_J`/`eI_J` (path J and its since), and the flags `wcI`, `wpI`,
    /// `wiI` (ask for commits, pull requests, issues). `until` ends the histories.
    public static func probe(documentationPaths: [Int]) -> Operation {
        var declarations = ["$until: GitTimestamp"]
        var aliases: [String] = []
        for (index, paths) in documentationPaths.enumerated() {
            declarations += ["$o\(index): String!", "$n\(index): String!", "$r\(index): String!", "$c\(index): GitTimestamp!",
                             "$s\(index): DateTime!", "$wc\(index): Boolean!", "$wp\(index): Boolean!", "$wi\(index): Boolean!"]
            var histories = ["c: history(first: 1, since: $c\(index), until: $until) @include(if: $wc\(index)) { totalCount }"]
            for path in 0..<paths {
                declarations += ["$d\(index)_\(path): String!", "$e\(index)_\(path): GitTimestamp!"]
                histories.append("d\(path): history(first: 1, path: $d\(index)_\(path), since: $e\(index)_\(path), until: $until) { totalCount }")
            }
            aliases.append("""
                r\(index): repository(owner: $o\(index), name: $n\(index)) {
                  isEmpty
                  ref(qualifiedName: $r\(index)) { target { ... on Commit { \(histories.joined(separator: " ")) } } }
                  pullRequests(first: 1, orderBy: { field: UPDATED_AT, direction: DESC }) @include(if: $wp\(index)) { nodes { updatedAt } }
                  issues(first: 1, filterBy: { since: $s\(index) }) @include(if: $wi\(index)) { totalCount }
                }
                """)
        }
        return Operation(name: "ProbeRepositories", document: """
            query ProbeRepositories(\(declarations.joined(separator: ", "))) {
              rateLimit { cost remaining resetAt }
            \(aliases.joined(separator: "\n"))
            }
            """)
    }

    /// Probe shapes the schema test validates (the probe's text depends on the batch).
    public static let probeSamples: [Operation] = [probe(documentationPaths: [0]), probe(documentationPaths: [2, 0, 1])]

    /// Who the token belongs to and the budget left: the cheapest authenticated call.
    public static let viewer = Operation(name: "Viewer", document: """
        query Viewer {
          rateLimit { cost limit remaining resetAt }
          viewer { login }
        }
        """)
}
