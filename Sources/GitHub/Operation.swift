/// A GraphQL operation the client can send. Every one is validated against GitHub's published
/// schema by the test suite (`scripts/check-graphql.py`, which also refuses deprecated
/// fields), so a misspelt field fails CI.
///
/// Queries are Swift constants rather than resource files so that the binary is
/// self-contained: it can be copied anywhere and still knows what to ask. Every page size is
/// a variable, so that any request can be retried smaller after a timeout.
public struct Operation: Sendable, Hashable {
    public let name: String
    public let document: String
    /// How its answer is typed and checked (``check(_:variables:)``); nil for a document of
    /// the tests' own, returned unchecked.
    public let answer: Answer?

    /// The typed answer of each of the client's documents (`Answers.swift`).
    public enum Answer: Sendable, Hashable {
        case firstPages, commits, documentationHistory, pullRequests, openPullRequests, issues, openIssues
        case pullRequestConnection, issueComments, trees, resolve, probe, estateCheck, viewer, budget
    }

    public init(name: String, answer: Answer? = nil, document: String) {
        self.name = name
        self.document = document
        self.answer = answer
    }

    /// How ingest names a repository's branch: by the manifest's `default_branch`, or as
    /// GitHub's own default branch (`defaultBranchRef`) when the manifest names none.
    public enum Branch: Sendable, Hashable {
        case named
        case repositoryDefault

        /// The field that selects the branch inside `repository { … }`.
        func field(_ variable: String) -> String {
            switch self {
            case .named: return "ref(qualifiedName: \(variable))"
            case .repositoryDefault: return "defaultBranchRef"
            }
        }
    }

    /// Every fixed operation, for validation.
    public static let all: [Operation] = [
        firstPages(.named), firstPages(.repositoryDefault), commits, pullRequests, openPullRequests, issues, openIssues,
        documentationHistory, pullRequestConnection, issueComments, resolveIssues, resolvePullRequests, viewer, budget,
    ]

    /// Operations whose text depends on a batch, in the shapes the schema test validates.
    public static let samples: [Operation] = [
        probe([.named]), probe([.repositoryDefault, .named]),
        trees(count: 1), trees(count: 3), estateCheck([.named, .repositoryDefault]),
    ]

    /// How many documentation paths the combined first-page request carries; more paths are
    /// read with ``documentationHistory``, one request each.
    public static let documentationSlots = 2

    /// What ingest reads of a commit that touched a documentation path: the path's entry at the
    /// commit and at its first parent. For a folder, the two entry lists tell which entries
    /// changed; sub-folders whose object id changed are read with ``trees(count:)``, down to the
    /// files — the actual paths, which GitHub's Commit type does not list.
    static func documentationNode(path variable: String) -> String {
        """
        oid messageHeadline committedDate
        file(path: \(variable)) { oid type object { __typename ... on Tree { entries { name oid type } } } }
        parents(first: 1) {
          nodes { file(path: \(variable)) { oid type object { __typename ... on Tree { entries { name oid type } } } } }
        }
        """
    }

    /// The fields ingest stores, shared by every operation that returns these nodes.
    ///
    /// Actors carry `__typename`: GitHub's GraphQL API names a Bot without the `[bot]` suffix its
    /// REST API shows (`dependabot`, not `dependabot[bot]`), so the type is the only reliable
    /// sign. Ids are `fullDatabaseId` (a `BigInt`, sent as a JSON string): `databaseId` is
    /// deprecated on pull requests and reviews and cannot hold ids past 2³¹. Nested
    /// connections return a first page and their `totalCount`; ingest reads a connection that
    /// overflowed separately (``pullRequestConnection``, ``issueComments``), or fails the unit
    /// rather than drop data.
    static let fragmentTexts: [String: (text: String, uses: [String])] = [
        "Actor": ("fragment Actor on Actor { __typename login }", []),
        "RepositoryFacts": (
            """
            fragment RepositoryFacts on Repository {
              id nameWithOwner isEmpty isArchived isFork visibility pushedAt
              defaultBranchRef { name target { oid } }
            }
            """, []
        ),
        "CommitNode": (
            """
            fragment CommitNode on Commit {
              oid messageHeadline message authoredDate committedDate additions deletions changedFilesIfAvailable
              author { name email user { __typename login } }
            }
            """, []
        ),
        "PullRequestSummary": (
            """
            fragment PullRequestSummary on PullRequest {
              id fullDatabaseId number title state isDraft createdAt updatedAt mergedAt closedAt
              baseRefName headRefName additions deletions changedFiles
              author { ...Actor }
              labels(first: 50) { totalCount nodes { name } }
              commits { totalCount }
            }
            """, ["Actor"]
        ),
        "PullRequestNode": (
            """
            fragment PullRequestNode on PullRequest {
              ...PullRequestSummary
              reviews(first: 20) { totalCount nodes { ...Review } }
              comments(first: 20) { totalCount nodes { ...Comment } }
              files(first: 50) { totalCount nodes { ...ChangedFile } }
              timelineItems(first: 10, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {
                totalCount pageInfo { hasNextPage } nodes { ...DraftEvent }
              }
            }
            """, ["PullRequestSummary", "Review", "Comment", "ChangedFile", "DraftEvent"]
        ),
        // An open pull request however long idle: what review flow needs of it at the window's
        // end (has anyone reviewed it; is it a draft, since when ready) — not its comments or files.
        "OpenPullRequest": (
            """
            fragment OpenPullRequest on PullRequest {
              ...PullRequestSummary
              reviews(first: 20) { totalCount nodes { ...Review } }
              timelineItems(first: 10, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]) {
                totalCount pageInfo { hasNextPage } nodes { ...DraftEvent }
              }
            }
            """, ["PullRequestSummary", "Review", "DraftEvent"]
        ),
        "IssueSummary": (
            """
            fragment IssueSummary on Issue {
              id fullDatabaseId number title state stateReason createdAt updatedAt closedAt
              author { ...Actor }
              labels(first: 50) { totalCount nodes { name } }
            }
            """, ["Actor"]
        ),
        "IssueNode": (
            """
            fragment IssueNode on Issue {
              ...IssueSummary
              comments(first: 20) { totalCount nodes { ...Comment } }
            }
            """, ["IssueSummary", "Comment"]
        ),
        "Review": ("fragment Review on PullRequestReview { fullDatabaseId author { ...Actor } state submittedAt }", ["Actor"]),
        "Comment": ("fragment Comment on IssueComment { fullDatabaseId author { ...Actor } createdAt }", ["Actor"]),
        "ChangedFile": ("fragment ChangedFile on PullRequestChangedFile { path additions deletions changeType }", []),
        "DraftEvent": (
            """
            fragment DraftEvent on PullRequestTimelineItems {
              __typename ... on ReadyForReviewEvent { id createdAt } ... on ConvertToDraftEvent { id createdAt }
            }
            """, []
        ),
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

    /// The head of an ordered stream. Continuation pages of the pull request and issue streams
    /// carry it, so that ingest knows whether anything moved to the head while it paged:
    /// `head`, the two most recently updated items (number and time, one connection), and
    /// `headNode`, the most recent one whole (one connection and its nested ones). When exactly
    /// one item moved during a read — the usual case on a busy repository — the last page
    /// already holds it, and no further look at the head is needed.
    static func sentinel(_ connection: String, filter: String = "", fragment: String) -> String {
        let order = "\(filter)orderBy: { field: UPDATED_AT, direction: DESC }"
        return """
            head: \(connection)(first: 2, \(order)) { nodes { number updatedAt } }
                headNode: \(connection)(first: 1, \(order)) { nodes { ...\(fragment) } }
            """
    }

    /// The first page of every stream of a repository in one request, with the repository's
    /// own facts (default branch and its tip, archived, empty): a quiet repository needs nothing
    /// more. Each part can be left out (`@include`) when its stream is done; an open-item list
    /// left out is counted instead (an item that left the repository changes only the count).
    /// History is read from the manifest's branch or, when it names none, from GitHub's
    /// default branch.
    public static func firstPages(_ branch: Branch) -> Operation {
        let refDeclaration = branch == .named ? "$ref: String!, " : ""
        let slots = (0..<documentationSlots).map { index in
            """
            doc\(index): \(branch.field("$ref")) @include(if: $withDoc\(index)) {
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
        }.joined(separator: "\n")
        return Operation(
            name: "RepositoryFirstPages", answer: .firstPages,
            document: """
                query RepositoryFirstPages($owner: String!, $name: String!, \(refDeclaration)$since: GitTimestamp!,
                                           $until: GitTimestamp, $issuesSince: DateTime, $commitsFirst: Int!, $first: Int!,
                                           $openPullsFirst: Int!, $updatedIssuesFirst: Int!, $openIssuesFirst: Int!,
                                           $docsFirst: Int!,
                                           $withCommits: Boolean!, $withUpdatedPulls: Boolean!, $withOpenPulls: Boolean!,
                                           $withUpdatedIssues: Boolean!, $withOpenIssues: Boolean!,
                                           \((0..<documentationSlots).map { "$withDoc\($0): Boolean!, $doc\($0)Path: String!, $doc\($0)Since: GitTimestamp!" }.joined(separator: ", "))) {
                  rateLimit { cost remaining resetAt }
                  repository(owner: $owner, name: $name) {
                    ...RepositoryFacts
                    branch: \(branch.field("$ref")) {
                      name
                      target {
                        ... on Commit {
                          oid
                          history(first: $commitsFirst, since: $since, until: $until) @include(if: $withCommits) {
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
                      totalCount pageInfo { hasNextPage endCursor } nodes { ...OpenPullRequest }
                    }
                    updatedIssues: issues(first: $updatedIssuesFirst, filterBy: { since: $issuesSince },
                                          orderBy: { field: UPDATED_AT, direction: DESC }) @include(if: $withUpdatedIssues) {
                      totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueNode }
                    }
                    openIssues: issues(first: $openIssuesFirst, filterBy: { states: [OPEN] },
                                       orderBy: { field: UPDATED_AT, direction: DESC }) @include(if: $withOpenIssues) {
                      totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueSummary }
                    }
                    openPullsCount: pullRequests(states: [OPEN]) @skip(if: $withOpenPulls) { totalCount }
                    openIssuesCount: issues(filterBy: { states: [OPEN] }) @skip(if: $withOpenIssues) { totalCount }
                    \(slots)
                  }
                }
                """ + fragments("RepositoryFacts", "CommitNode", "PullRequestNode", "OpenPullRequest", "IssueNode"))
    }

    /// Commits that touched one documentation path, from the commit a stream started at (its
    /// tip then, so that pages stay consistent while the branch moves), with the path's
    /// entries before and after each.
    public static let documentationHistory = Operation(
        name: "DocumentationHistory", answer: .documentationHistory,
        document: """
            query DocumentationHistory($owner: String!, $name: String!, $tip: GitObjectID!, $path: String!,
                                       $since: GitTimestamp!, $until: GitTimestamp, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                tip: object(oid: $tip) {
                  ... on Commit {
                    history(first: $first, after: $after, path: $path, since: $since, until: $until) {
                      totalCount pageInfo { hasNextPage endCursor }
                      nodes { \(documentationNode(path: "$path")) }
                    }
                  }
                }
              }
            }
            """)

    /// Commits in [since, until] reachable from the commit a stream started at, newest first.
    public static let commits = Operation(
        name: "RepositoryCommits", answer: .commits,
        document: """
            query RepositoryCommits($owner: String!, $name: String!, $tip: GitObjectID!, $since: GitTimestamp!,
                                    $until: GitTimestamp, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                tip: object(oid: $tip) {
                  ... on Commit {
                    history(first: $first, after: $after, since: $since, until: $until) {
                      totalCount pageInfo { hasNextPage endCursor } nodes { ...CommitNode }
                    }
                  }
                }
              }
            }
            """ + fragments("CommitNode"))

    /// Pull requests, most recently updated first (the updated-since stream stops at `since`),
    /// with the head of the list (``sentinel(_:filter:fragment:)``).
    public static let pullRequests = Operation(
        name: "RepositoryPullRequests", answer: .pullRequests,
        document: """
            query RepositoryPullRequests($owner: String!, $name: String!, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                pullRequests(first: $first, after: $after, orderBy: { field: UPDATED_AT, direction: DESC }) {
                  totalCount pageInfo { hasNextPage endCursor } nodes { ...PullRequestNode }
                }
                \(sentinel("pullRequests", fragment: "PullRequestNode"))
              }
            }
            """ + fragments("PullRequestNode"))

    /// Every open pull request, most recently updated first, with its reviews and ready/draft
    /// transitions but without comments or files.
    ///
    /// Open items are read for what is outstanding (state, labels, age, commit count) and for
    /// what waits for review at the window's end (reviewed yet? a draft? ready since when?).
    /// Anything else that happened to one in the window moved its `updatedAt`, so the
    /// updated-since stream reads it whole; leaving comments and files out takes 35 pull
    /// requests per 1-point page instead of 23.
    public static let openPullRequests = Operation(
        name: "RepositoryOpenPullRequests", answer: .openPullRequests,
        document: """
            query RepositoryOpenPullRequests($owner: String!, $name: String!, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                pullRequests(first: $first, after: $after, states: [OPEN], orderBy: { field: UPDATED_AT, direction: DESC }) {
                  totalCount pageInfo { hasNextPage endCursor } nodes { ...OpenPullRequest }
                }
                \(sentinel("pullRequests", filter: "states: [OPEN], ", fragment: "OpenPullRequest"))
              }
            }
            """ + fragments("OpenPullRequest"))

    /// Every open issue, most recently updated first, without comments (see ``openPullRequests``).
    public static let openIssues = Operation(
        name: "RepositoryOpenIssues", answer: .openIssues,
        document: """
            query RepositoryOpenIssues($owner: String!, $name: String!, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                issues(first: $first, after: $after, filterBy: { states: [OPEN] }, orderBy: { field: UPDATED_AT, direction: DESC }) {
                  totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueSummary }
                }
                \(sentinel("issues", filter: "filterBy: { states: [OPEN] }, ", fragment: "IssueSummary"))
              }
            }
            """ + fragments("IssueSummary"))

    /// Issues updated since a time (GitHub's `filterBy.since`).
    public static let issues = Operation(
        name: "RepositoryIssues", answer: .issues,
        document: """
            query RepositoryIssues($owner: String!, $name: String!, $since: DateTime, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                issues(first: $first, after: $after, filterBy: { since: $since },
                       orderBy: { field: UPDATED_AT, direction: DESC }) {
                  totalCount pageInfo { hasNextPage endCursor } nodes { ...IssueNode }
                }
                \(sentinel("issues", filter: "filterBy: { since: $since }, ", fragment: "IssueNode"))
              }
            }
            """ + fragments("IssueNode"))

    /// Every review, comment, changed file or ready/draft transition of one pull request, for a
    /// nested connection that overflowed its first page. Exactly one of the four flags is true.
    public static let pullRequestConnection = Operation(
        name: "PullRequestConnection", answer: .pullRequestConnection,
        document: """
            query PullRequestConnection($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String,
                                        $reviews: Boolean!, $comments: Boolean!, $files: Boolean!, $timeline: Boolean!) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                pullRequest(number: $number) {
                  reviews(first: $first, after: $after) @include(if: $reviews) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...Review }
                  }
                  comments(first: $first, after: $after) @include(if: $comments) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...Comment }
                  }
                  files(first: $first, after: $after) @include(if: $files) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...ChangedFile }
                  }
                  timelineItems(first: $first, after: $after, itemTypes: [READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT])
                    @include(if: $timeline) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...DraftEvent }
                  }
                }
              }
            }
            """ + fragments("Review", "Comment", "ChangedFile", "DraftEvent"))

    /// Every comment of one issue, when its first page overflowed.
    public static let issueComments = Operation(
        name: "IssueComments", answer: .issueComments,
        document: """
            query IssueComments($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String) {
              rateLimit { cost remaining resetAt }
              repository(owner: $owner, name: $name) {
                issue(number: $number) {
                  comments(first: $first, after: $after) {
                    totalCount pageInfo { hasNextPage endCursor } nodes { ...Comment }
                  }
                }
              }
            }
            """ + fragments("Comment"))

    /// Trees by object id (`t0` … `tN`, variables `$t0` …): the entries of documentation
    /// sub-folders whose id changed in a commit, one level per request for every commit of a
    /// page at once. `entries` is a plain list, not a connection: a request costs 1 point.
    public static func trees(count: Int) -> Operation {
        let declarations = (0..<count).map { "$t\($0): GitObjectID!" }.joined(separator: ", ")
        let aliases = (0..<count).map { index in
            "t\(index): object(oid: $t\(index)) { __typename ... on Tree { oid entries { name oid type } } }"
        }.joined(separator: "\n    ")
        return Operation(
            name: "DocumentationTrees", answer: .trees,
            document: """
                query DocumentationTrees($owner: String!, $name: String!, \(declarations)) {
                  rateLimit { cost remaining resetAt }
                  repository(owner: $owner, name: $name) {
                    \(aliases)
                  }
                }
                """)
    }

    /// Issues by node id: open issues a complete read no longer lists are looked up here — still
    /// in the repository (then read again), transferred to another (a transferred issue keeps its
    /// node id), converted to a discussion, or gone (`null`, with a `NOT_FOUND` error).
    public static let resolveIssues = Operation(
        name: "ResolveIssues", answer: .resolve,
        document: """
            query ResolveIssues($ids: [ID!]!) {
              rateLimit { cost remaining resetAt }
              nodes(ids: $ids) {
                __typename id
                ... on Issue { ...IssueSummary repository { nameWithOwner } }
                ... on Discussion { number repository { nameWithOwner } }
              }
            }
            """ + fragments("IssueSummary"))

    /// Pull requests by node id, as ``resolveIssues`` (a deleted one is `null`).
    public static let resolvePullRequests = Operation(
        name: "ResolvePullRequests", answer: .resolve,
        document: """
            query ResolvePullRequests($ids: [ID!]!) {
              rateLimit { cost remaining resetAt }
              nodes(ids: $ids) {
                __typename id
                ... on PullRequest { ...PullRequestSummary repository { nameWithOwner } }
              }
            }
            """ + fragments("PullRequestSummary"))

    /// Has anything changed in these repositories since their last ingest? One request for many
    /// repositories (an alias `rI` each): the branch's tip (a commit that lands on it, whatever
    /// its date, moves the tip), the most recently updated pull request, how many issues were
    /// updated since a time, and how many pull requests and issues are open (an item that left
    /// the repository changes the count and nothing else). Variables per repository: `oI`,
    /// `nI` (owner, name), `rI` (the qualified branch, when named), `sI` (issues since), and the
    /// flags `wcI`, `wpI`, `wiI` (ask about history, pull requests, issues).
    public static func probe(_ branches: [Branch]) -> Operation {
        var declarations: [String] = []
        var aliases: [String] = []
        for (index, branch) in branches.enumerated() {
            declarations += [
                "$o\(index): String!", "$n\(index): String!", "$s\(index): DateTime!", "$wc\(index): Boolean!",
                "$wp\(index): Boolean!", "$wi\(index): Boolean!",
            ]
            if branch == .named { declarations.append("$r\(index): String!") }
            aliases.append(
                """
                r\(index): repository(owner: $o\(index), name: $n\(index)) {
                  isEmpty
                  defaultBranchRef { name }
                  branch: \(branch.field("$r\(index)")) @include(if: $wc\(index)) { name target { oid } }
                  pullRequests(first: 1, orderBy: { field: UPDATED_AT, direction: DESC }) @include(if: $wp\(index)) { nodes { updatedAt } }
                  openPulls: pullRequests(states: [OPEN]) @include(if: $wp\(index)) { totalCount }
                  issues(filterBy: { since: $s\(index) }) @include(if: $wi\(index)) { totalCount }
                  openIssues: issues(filterBy: { states: [OPEN] }) @include(if: $wi\(index)) { totalCount }
                }
                """)
        }
        return Operation(
            name: "ProbeRepositories", answer: .probe,
            document: """
                query ProbeRepositories(\(declarations.joined(separator: ", "))) {
                  rateLimit { cost remaining resetAt }
                \(aliases.joined(separator: "\n"))
                }
                """)
    }

    /// Can the token read every repository of an estate, and what are they like? An alias `rI`
    /// per repository (`oI`, `nI`, and `bI` when the manifest names its branch). A repository
    /// the token cannot see is `null` with a `NOT_FOUND` or `FORBIDDEN` error naming its alias.
    /// `$pc`, `$pi`, `$pp` read one item of what the manifest collects under each repository
    /// permission (`probeContents`: the branch's history, `probeIssues`, `probePulls`): a
    /// fine-grained token or an App without the permission gets a `FORBIDDEN` error whose path
    /// names the probe. About one point per 100 repositories and probe.
    public static func estateCheck(_ branches: [Branch]) -> Operation {
        var declarations = ["$pc: Boolean!", "$pi: Boolean!", "$pp: Boolean!"]
        var aliases: [String] = []
        for (index, branch) in branches.enumerated() {
            declarations += ["$o\(index): String!", "$n\(index): String!"]
            var named = ""
            if branch == .named {
                declarations.append("$b\(index): String!")
                named = " named: ref(qualifiedName: $b\(index)) { name }"
            }
            aliases.append(
                "r\(index): repository(owner: $o\(index), name: $n\(index)) { isEmpty isArchived defaultBranchRef { name }\(named) "
                    + "probeContents: defaultBranchRef @include(if: $pc) { target { ... on Commit { history(first: 1) { totalCount } } } } "
                    + "probeIssues: issues(first: 1) @include(if: $pi) { totalCount } "
                    + "probePulls: pullRequests(first: 1) @include(if: $pp) { totalCount } }"
            )
        }
        return Operation(
            name: "EstateCheck", answer: .estateCheck,
            document: """
                query EstateCheck(\(declarations.joined(separator: ", "))) {
                  rateLimit { cost remaining resetAt }
                  \(aliases.joined(separator: "\n  "))
                }
                """)
    }

    /// Who the token belongs to and the budget left: the cheapest authenticated call.
    /// The budget alone: what `check` asks with a GitHub App's installation token, which has
    /// no `viewer` (an installation is no user).
    public static let budget = Operation(
        name: "Budget", answer: .budget,
        document: """
            query Budget {
              rateLimit { cost limit remaining resetAt }
            }
            """)

    public static let viewer = Operation(
        name: "Viewer", answer: .viewer,
        document: """
            query Viewer {
              rateLimit { cost limit remaining resetAt }
              viewer { login }
            }
            """)
}
