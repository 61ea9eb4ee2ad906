import Digest
import Entities
import Foundation
import JSON
public import Manifest
public import Pipeline
public import Store

/// The evidence stage: one unit per repository, entities → a bundle and metrics for the window.
///
/// The bundle is a pure function of the entities, the window and the manifest: rerunning
/// gives the same bytes (no generation time inside), so its hash is the unit's output hash.
/// What a language model will later read is kept within a budget: the most relevant items
/// in full, counts for the rest, and the bundle says what was cut.
public struct EvidenceStage: StageRunner {
    public let stage = Stage.evidence
    /// Bump when the bundle or metrics for the same entities change.
    public let version = "evidence-6"

    /// Items kept in full per list; the rest are counted in `cut`.
    public static let budget = ["commits": 100, "pull_requests": 50, "issues": 50, "documentation_changes": 100]

    public init() {}

    /// One repository's facts (for metrics) and window items (for the bundle).
    struct Loaded {
        /// An item and its place in the bundle: rank, then newest first, then the tie-break.
        typealias Ranked<Item> = (relevance: (rank: Int, time: String, tie: String), item: Item)
        var pulls: [PullRequestFacts] = []
        var issues: [IssueFacts] = []
        var activity: [ActivityFacts] = []
        var pullItems: [Ranked<RepositoryBundle.PullRequest>] = []
        var issueItems: [Ranked<RepositoryBundle.Issue>] = []
        var commitItems: [Ranked<RepositoryBundle.Commit>] = []
        var docItems: [Ranked<RepositoryBundle.DocumentationChange>] = []
        /// People's open items at the window's end, for the oldest-first lists.
        var openIssues: [RepositoryBundle.Aged] = []
        var openPullRequests: [RepositoryBundle.Aged] = []
        /// People's pull requests touched in the window, as the `pull_request_flow` dataset lists them.
        var flowRows: [ReviewFlow.Row] = []
        /// Titles and creation times by number, for the waiting lists.
        var pullTitles: [Int: String] = [:]
        var issueTitles: [Int: String] = [:]
    }

    /// What review flow and changed lines are measured with: the manifest's responders to
    /// ignore and path categories.
    struct FlowRules {
        let responders: Responders
        let categories: [(category: PathCategory, patterns: [String])]

        init(_ manifest: Manifest) {
            responders = Responders(ignoring: manifest.estate.noise.ignoreResponders)
            categories = PathCategory.rules(overriding: manifest.metrics.pathCategories)
        }
    }

    /// Reads a repository's facts (for metrics) and, with `items`, the bundle's item lists; the
    /// estate unit needs only the facts, and skipping the items halves its time.
    func load(
        _ slug: String, db: Database, start: Date, end: Date, items: Bool = true, rules: FlowRules
    ) throws -> Loaded {
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        func inWindow(_ date: Date?) -> Bool { date.map { start <= $0 && $0 < end } ?? false }
        let comments = try Comment.decode(db.query(Comment.select(where: "repository = \(slug)")))
        let reviewComments = try ReviewComment.decode(db.query(ReviewComment.select(where: "repository = \(slug)")))
        let reviews = try Review.decode(db.query(Review.select(where: "repository = \(slug)")))
        var transitions: [Int64: [FlowFacts.Transition]] = [:]
        for event in try DraftEvent.decode(db.query(DraftEvent.select(where: "repository = \(slug)"))) {
            transitions[event.pullRequestID, default: []].append(
                FlowFacts.Transition(at: event.at, ready: event.kind == DraftEvent.Kind.readyForReview.rawValue))
        }
        // Review flow's inputs per pull request: what responders did (docs/metrics.md).
        typealias Activity = (login: String, isBot: Bool, at: Date)
        var pullComments: [Int64: [Activity]] = [:]
        for comment in comments where comment.parentKind == .pullRequest {
            pullComments[comment.parentID, default: []].append((comment.authorLogin, comment.isBot, comment.createdAt))
        }
        // An inline comment reaches the author when its review is submitted: a comment drafted
        // earlier in a batched review responds then, and one of a pending review not at all.
        var submitted: [Int64: Date?] = [:]
        for review in reviews { submitted[review.databaseID] = review.submittedAt }
        var inlineComments: [Int64: [Activity]] = [:]
        for comment in reviewComments {
            var at = comment.createdAt
            if let review = comment.reviewID, let known = submitted[review] {
                guard let sent = known else { continue }
                at = max(at, sent)
            }
            inlineComments[comment.pullRequestNumber, default: []].append((comment.authorLogin, comment.isBot, at))
        }
        var pullReviews: [Int64: [Review]] = [:]
        for review in reviews where !review.replyContainer && review.submittedAt != nil {
            pullReviews[review.pullRequestID, default: []].append(review)
        }

        var filesByPull: [Int64: [PullRequestFacts.File]] = [:]
        for file in try PullRequestFile.decode(db.query(PullRequestFile.select(where: "repository = \(slug)"))) {
            filesByPull[file.pullRequestID, default: []].append(
                PullRequestFacts.File(
                    path: file.path, additions: Int(file.additions), deletions: Int(file.deletions),
                    isNoise: file.noise != nil))
        }
        var loaded = Loaded()
        // Changed lines by path are classified only where a figure or a row reads them: pull
        // requests merged in this window or the one before, and those the window touched.
        let before = Self.previous(start: start, end: end)
        // The same paths come back in pull request after pull request: each is matched once.
        var generatedPaths: [String: Bool] = [:]
        func generated(_ path: String) -> Bool {
            if let known = generatedPaths[path] { return known }
            let answer = PathCategory.of(path, rules: rules.categories) == .generated
            generatedPaths[path] = answer
            return answer
        }
        for pull in try PullRequest.decode(db.query(PullRequest.select(where: "repository = \(slug)"))) {
            let files = filesByPull[pull.databaseID] ?? []
            let touched = pull.createdAt < end && (pull.updatedAt >= start || pull.closedAt == nil)
            let sized = touched || (pull.mergedAt.map { before.start <= $0 && $0 < end } ?? false)
            var flow: FlowFacts?
            if !pull.isBot && pull.noise == nil {
                let author = pull.authorLogin
                let byResponders = (pullComments[pull.databaseID] ?? []) + (inlineComments[pull.number] ?? [])
                let counted = (pullReviews[pull.databaseID] ?? []).filter {
                    rules.responders.counts($0.authorLogin, isBot: $0.isBot, author: author)
                }
                flow = FlowFacts(
                    isDraftNow: pull.isDraft,
                    transitions: (transitions[pull.databaseID] ?? []).sorted {
                        ($0.at, $0.ready ? 1 : 0) < ($1.at, $1.ready ? 1 : 0)
                    },
                    responses: byResponders.filter { rules.responders.counts($0.login, isBot: $0.isBot, author: author) }.map(
                        \.at)
                        + counted.compactMap(\.submittedAt),
                    reviews: counted.compactMap { review in
                        review.submittedAt.map {
                            FlowFacts.Review(
                                at: $0, approved: review.state == "approved",
                                changesRequested: review.state == "changes_requested")
                        }
                    },
                    changedLines: pull.filesListed == nil || !sized
                        ? nil
                        : files.reduce(0) { lines, file in
                            file.isNoise || generated(file.path) ? lines : lines + file.additions + file.deletions
                        })
            }
            let facts = PullRequestFacts(
                number: Int(pull.number), createdAt: pull.createdAt, mergedAt: pull.mergedAt, closedAt: pull.closedAt,
                isBot: pull.isBot, isNoise: pull.noise != nil, commitCount: pull.commitCount.map(Int.init),
                files: files, changedFiles: pull.changedFiles.map(Int.init),
                additions: pull.additions.map(Int.init), deletions: pull.deletions.map(Int.init), flow: flow)
            loaded.pulls.append(facts)
            if items { loaded.pullTitles[facts.number] = pull.title }
            if touched, let row = ReviewFlow.row(facts, author: pull.authorLogin) {
                loaded.flowRows.append(row)
            }
            guard items else { continue }
            // Open at the window's end: created before it, not merged or closed before it.
            if !pull.isBot && pull.noise == nil && pull.createdAt < end && !pull.isDraft
                && !(pull.mergedAt.map { $0 < end } ?? false) && !(pull.closedAt.map { $0 < end } ?? false)
            {
                loaded.openPullRequests.append(
                    RepositoryBundle.Aged(
                        number: Int(pull.number), title: pull.title, createdAt: Timestamp.string(pull.createdAt),
                        ageSeconds: end.timeIntervalSince(pull.createdAt)))
            }
            guard inWindow(pull.updatedAt) || inWindow(pull.mergedAt) || inWindow(pull.closedAt) || pull.state == "open"
            else { continue }
            let relevance = inWindow(pull.mergedAt) ? 0 : (inWindow(pull.closedAt) ? 1 : (pull.state == "open" ? 2 : 3))
            loaded.pullItems.append(
                (
                    (relevance, Timestamp.string(pull.updatedAt), Self.tie(pull.number)),
                    RepositoryBundle.PullRequest(
                        number: Int(pull.number), title: pull.title, state: pull.state, author: pull.authorLogin,
                        isBot: pull.isBot, isDraft: pull.isDraft, labels: pull.labels,
                        createdAt: Timestamp.string(pull.createdAt), mergedAt: pull.mergedAt.map(Timestamp.string),
                        closedAt: pull.closedAt.map(Timestamp.string), noise: pull.noise,
                        workType: WorkType.classify(labels: pull.labels, title: pull.title))
                ))
        }

        for issue in try Issue.decode(db.query(Issue.select(where: "repository = \(slug)"))) {
            let facts = IssueFacts(
                number: Int(issue.number), createdAt: issue.createdAt, closedAt: issue.closedAt, state: issue.state,
                stateReason: issue.stateReason, isBot: issue.isBot, isNoise: issue.noise != nil,
                isGone: issue.goneReason != nil, firstResponseAt: issue.firstResponseAt)
            loaded.issues.append(facts)
            if items { loaded.issueTitles[facts.number] = issue.title }
            guard items else { continue }
            let resolved = issue.state == "closed" && inWindow(issue.closedAt)
            if facts.outstanding(at: end) && !facts.isBot && !facts.isNoise {
                loaded.openIssues.append(
                    RepositoryBundle.Aged(
                        number: facts.number, title: issue.title, createdAt: Timestamp.string(issue.createdAt),
                        ageSeconds: end.timeIntervalSince(issue.createdAt)))
            }
            guard resolved || facts.outstanding(at: end) else { continue }
            loaded.issueItems.append(
                (
                    (resolved ? 0 : 1, Timestamp.string(issue.updatedAt), Self.tie(issue.number)),
                    RepositoryBundle.Issue(
                        number: facts.number, title: issue.title, state: issue.state, stateReason: issue.stateReason,
                        author: issue.authorLogin, isBot: issue.isBot, labels: issue.labels,
                        createdAt: Timestamp.string(issue.createdAt), closedAt: issue.closedAt.map(Timestamp.string),
                        noise: issue.noise, workType: WorkType.classify(labels: issue.labels, title: issue.title))
                ))
        }

        for comment in comments {
            loaded.activity.append(
                ActivityFacts(
                    kind: comment.parentKind == .issue ? .issueComment : .pullRequestComment, login: comment.authorLogin,
                    isBot: comment.isBot, at: comment.createdAt))
        }
        for comment in reviewComments {
            loaded.activity.append(
                ActivityFacts(kind: .reviewComment, login: comment.authorLogin, isBot: comment.isBot, at: comment.createdAt))
        }
        // A reply in a review thread is a review comment; the `COMMENTED` review GitHub wraps it
        // in is not a review of its own (docs/metrics.md, "Comments").
        for review in reviews where !review.replyContainer {
            loaded.activity.append(
                ActivityFacts(kind: .review, login: review.authorLogin, isBot: review.isBot, at: review.submittedAt))
        }

        guard items else { return loaded }
        let inRange: SQL = "repository = \(slug) AND committed_at >= \(startText) AND committed_at < \(endText)"
        for commit in try Commit.decode(db.query(Commit.select(where: inRange))) {
            let committed = Timestamp.string(commit.committedAt)
            loaded.commitItems.append(
                (
                    (0, committed, commit.oid),
                    RepositoryBundle.Commit(
                        oid: commit.oid, headline: commit.headline, committedAt: committed,
                        author: commit.authorLogin ?? commit.authorName, isBot: commit.isBot, noise: commit.noise,
                        workType: WorkType.classify(title: commit.headline))
                ))
        }
        for row in try DocumentationChange.decode(db.query(DocumentationChange.select(where: inRange))) {
            let change = RepositoryBundle.DocumentationChange(
                path: row.path, change: row.changeType, commit: row.commitOID,
                committedAt: Timestamp.string(row.committedAt), isRoadmap: row.isRoadmap, isADR: row.isADR)
            loaded.docItems.append(((0, change.committedAt, change.commit + " " + change.path), change))
        }
        return loaded
    }

    /// What an evidence unit reads beyond its upstream's output: whether ingest's coverage
    /// reaches back to the window before (then its metrics carry `previous`). Part of the
    /// fingerprint, so a window run again after a backfill covered the one before it computes
    /// its evidence again, with the previous window, instead of reusing evidence made without.
    public func contexts(_ units: [Pipeline.Unit], manifest: Manifest, window: Window, database: Database) throws
        -> [UnitID: String]
    {
        let before = Self.previous(start: window.start, end: window.end)
        let collect = manifest.github.collect
        var covered: [String: Bool] = [:]
        func reaches(_ slug: String) throws -> Bool {
            if let known = covered[slug] { return known }
            let answer = try Self.covers(slug, from: before.start, db: database, collect: collect)
            covered[slug] = answer
            return answer
        }
        var contexts: [UnitID: String] = [:]
        for unit in units {
            switch unit.subject {
            case .repository(let repository):
                if try reaches(repository.slug) { contexts[unit.id] = "previous window covered" }
            case .estate:
                if try manifest.estate.repositories.allSatisfy({ try reaches($0.slug) }) {
                    contexts[unit.id] = "previous window covered"
                }
            default: continue
            }
        }
        return contexts
    }

    public func run(_ context: UnitContext) async throws -> UnitResult {
        let db = context.database
        let start = context.window.start
        let end = context.window.end
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard case .repository(let repository) = context.unit.subject else {
            return try estate(context, db: db, encoder: encoder)
        }
        let slug = repository.slug
        let rules = FlowRules(context.manifest)
        let loaded = try load(slug, db: db, start: start, end: end, rules: rules)
        let (pulls, issues, activity) = (loaded.pulls, loaded.issues, loaded.activity)
        let (pullItems, issueItems, commitItems, docItems) = (
            loaded.pullItems, loaded.issueItems, loaded.commitItems,
            loaded.docItems
        )

        let categories = PathCategory.rules(overriding: context.manifest.metrics.pathCategories)
        var metrics = RepositoryMetrics.compute(
            start: start, end: end, pullRequests: pulls, issues: issues, activity: activity, categories: categories)
        let before = Self.previous(start: start, end: end)
        if try Self.covers(slug, from: before.start, db: db, collect: context.manifest.github.collect) {
            metrics.previous = Self.previous(
                before, pullRequests: pulls, issues: issues, categories: categories)
        }
        let metricsJSON = String(decoding: try encoder.encode(metrics), as: UTF8.self)

        /// The most relevant items within the budget, and how many were left out.
        func kept<Item>(_ name: String, _ items: [Loaded.Ranked<Item>]) -> (items: [Item], cut: Int) {
            let sorted = items.sorted { lhs, rhs in
                let (l, r) = (lhs.relevance, rhs.relevance)
                if l.rank != r.rank { return l.rank < r.rank }
                if l.time != r.time { return l.time > r.time }
                return l.tie < r.tie
            }
            let limit = Self.budget[name] ?? 50
            return (Array(sorted.prefix(limit).map(\.item)), max(0, sorted.count - limit))
        }
        // Work types of the non-noise items; sample titles newest first, commits before pull
        // requests before issues, up to five per type.
        typealias Group = (commits: Int, pulls: Int, issues: Int, titles: [String])
        var groups: [WorkType: Group] = [:]
        func add(_ entries: [(time: String, type: WorkType, title: String)], _ slot: WritableKeyPath<Group, Int>) {
            for entry in entries.sorted(by: { $0.time > $1.time }) {
                var group = groups[entry.type] ?? (0, 0, 0, [])
                group[keyPath: slot] += 1
                if group.titles.count < 5 { group.titles.append(entry.title) }
                groups[entry.type] = group
            }
        }
        add(
            commitItems.filter { $0.item.noise == nil }.map { ($0.relevance.time, $0.item.workType, $0.item.headline) }, \.commits
        )
        add(pullItems.filter { $0.item.noise == nil }.map { ($0.relevance.time, $0.item.workType, $0.item.title) }, \.pulls)
        add(issueItems.filter { $0.item.noise == nil }.map { ($0.relevance.time, $0.item.workType, $0.item.title) }, \.issues)
        let workTypes: [RepositoryBundle.WorkTypeGroup] = WorkType.allCases.compactMap { type in
            guard let group = groups[type] else { return nil }
            return RepositoryBundle.WorkTypeGroup(
                workType: type, commits: group.commits, pullRequests: group.pulls, issues: group.issues,
                sampleTitles: group.titles)
        }
        let (commitsKept, commitsCut) = kept("commits", commitItems)
        let (pullsKept, pullsCut) = kept("pull_requests", pullItems)
        let (issuesKept, issuesCut) = kept("issues", issueItems)
        let (docsKept, docsCut) = kept("documentation_changes", docItems)
        /// The five oldest, oldest first (then by number).
        func oldest(_ items: [RepositoryBundle.Aged]) -> [RepositoryBundle.Aged] {
            Array(items.sorted { ($0.ageSeconds, -$0.number) > ($1.ageSeconds, -$1.number) }.prefix(5))
        }
        var bundle = RepositoryBundle(
            repository: RepositoryBundle.Subject(
                slug: slug, defaultBranch: try branch(slug, db: db, configured: repository.defaultBranch),
                documentationPaths: repository.documentationPaths, project: repository.project),
            window: RepositoryBundle.Window(start: startText, end: endText), metrics: metrics, commits: commitsKept,
            pullRequests: pullsKept, issues: issuesKept, documentationChanges: docsKept, workTypes: workTypes,
            cut: RepositoryBundle.Cut(
                commits: commitsCut, pullRequests: pullsCut, issues: issuesCut, documentationChanges: docsCut))
        bundle.oldestOutstandingIssues = oldest(loaded.openIssues)
        bundle.longestOpenPullRequests = oldest(loaded.openPullRequests)
        // Only people's pull requests carry flow facts; issues are filtered here.
        let awaitingReview = ReviewFlow.awaitingReview(at: end, pullRequests: loaded.pulls)
        let awaitingResponse = ReviewFlow.awaitingResponse(at: end, issues: loaded.issues.filter { !$0.isBot && !$0.isNoise })
        bundle.longestAwaitingReview = ReviewFlow.longest(awaitingReview).map {
            RepositoryBundle.Waiting(number: $0.number, title: loaded.pullTitles[$0.number] ?? "", waitSeconds: $0.seconds)
        }
        bundle.longestAwaitingResponse = ReviewFlow.longest(awaitingResponse).map {
            RepositoryBundle.Waiting(number: $0.number, title: loaded.issueTitles[$0.number] ?? "", waitSeconds: $0.seconds)
        }
        let text = String(decoding: try encoder.encode(bundle), as: UTF8.self)
        let flowRows = String(decoding: try encoder.encode(loaded.flowRows.sorted { $0.number < $1.number }), as: UTF8.self)
        let counters: [String: Int64] = [
            "pull_requests_merged": Int64(metrics.humans.pullRequestsMerged + metrics.bots.pullRequestsMerged),
            "issues_resolved": Int64(metrics.humans.issuesResolved + metrics.bots.issuesResolved),
            "issues_outstanding": Int64(metrics.humans.issuesOutstanding + metrics.bots.issuesOutstanding),
            "bundle_bytes": Int64(text.utf8.count),
        ]
        return result(
            key: slug, start: startText, end: endText, metrics: metricsJSON, bundle: text, flow: flowRows, counters: counters)
    }

    /// The estate's metrics, from every repository's facts together (exact percentiles), and
    /// a per-repository headline table.
    func estate(_ context: UnitContext, db: Database, encoder: JSONEncoder) throws -> UnitResult {
        let start = context.window.start
        let end = context.window.end
        let rules = FlowRules(context.manifest)
        let categories = rules.categories
        var pulls: [PullRequestFacts] = []
        var issues: [IssueFacts] = []
        var commenters: [String: Commenter] = [:]
        var table: [EstateBundle.Row] = []
        // The window before: the estate has it when every repository has it.
        let before = Self.previous(start: start, end: end)
        let collect = context.manifest.github.collect
        var reachesBack = true
        for repository in context.manifest.estate.repositories {
            let loaded = try load(repository.slug, db: db, start: start, end: end, items: false, rules: rules)
            // Keep only what a metric of the window counts (for review flow, what was open in
            // it), so memory follows the window's activity, not the estate's history: changed
            // files only of pull requests merged in the window (the only ones changed lines
            // count), and comments as per-login counts (the repository's own commenters, added
            // up: the same as counting them all at once).
            pulls += loaded.pulls.filter { $0.flows(start: before.start, end: end) }.map { pull in
                pull.mergedAt.map { before.start <= $0 && $0 < end } == true ? pull : pull.withoutFiles
            }
            issues += loaded.issues.filter { $0.counts(start: before.start, end: end) }
            reachesBack = try reachesBack && Self.covers(repository.slug, from: before.start, db: db, collect: collect)
            let metrics = RepositoryMetrics.compute(
                start: start, end: end, pullRequests: loaded.pulls, issues: loaded.issues, activity: loaded.activity,
                categories: categories)
            for commenter in metrics.commenters {
                commenters[commenter.login] = commenters[commenter.login].map { $0.adding(commenter) } ?? commenter
            }
            table.append(
                EstateBundle.Row(
                    repository: repository.slug, pullRequestsMerged: metrics.humans.pullRequestsMerged,
                    botPullRequestsMerged: metrics.bots.pullRequestsMerged,
                    pullRequestsClosedUnmerged: metrics.humans.pullRequestsClosedUnmerged,
                    medianOpenToMergeSeconds: metrics.humans.openToMergeSeconds.median,
                    issuesResolved: metrics.humans.issuesResolved, issuesOutstanding: metrics.humans.issuesOutstanding))
        }
        let counted = RepositoryMetrics.compute(
            start: start, end: end, pullRequests: pulls, issues: issues, activity: [],
            categories: categories)
        let metrics = RepositoryMetrics(
            humans: counted.humans, bots: counted.bots, noisePullRequests: counted.noisePullRequests,
            noiseIssues: counted.noiseIssues, goneIssues: counted.goneIssues,
            commenters: commenters.values.sorted { $0.login < $1.login },
            previous: reachesBack ? Self.previous(before, pullRequests: pulls, issues: issues, categories: categories) : nil)
        let metricsJSON = String(decoding: try encoder.encode(metrics), as: UTF8.self)
        let key = "estate:" + context.manifest.estate.key
        let startText = Timestamp.string(start)
        let endText = Timestamp.string(end)
        let bundle = EstateBundle(
            estate: context.manifest.estate.key, window: EstateBundle.Window(start: startText, end: endText), metrics: metrics,
            repositories: table)
        let text = String(decoding: try encoder.encode(bundle), as: UTF8.self)
        let counters: [String: Int64] = [
            "repositories": Int64(table.count),
            "pull_requests_merged": Int64(metrics.humans.pullRequestsMerged + metrics.bots.pullRequestsMerged),
            "issues_outstanding": Int64(metrics.humans.issuesOutstanding + metrics.bots.issuesOutstanding),
        ]
        return result(key: key, start: startText, end: endText, metrics: metricsJSON, bundle: text, counters: counters)
    }

    /// The unit's result: the bundle's hash as output, and its row written (replacing the
    /// window's previous one) in the success transaction. `flow`: the repository's
    /// `pull_request_flow` rows (JSON), part of the output hash.
    func result(
        key: String, start: String, end: String, metrics: String, bundle: String, flow: String? = nil,
        counters: [String: Int64]
    ) -> UnitResult {
        let digest = flow.map { SHA256.hex(bundle + "\n" + $0) } ?? SHA256.hex(bundle)
        return UnitResult(outputHash: digest, counters: counters) { tx in
            try tx.execute(
                """
                INSERT INTO evidence (repository, window_start, window_end, metrics, bundle, digest, pull_request_flow)
                VALUES (\(key), \(start), \(end), \(metrics), \(bundle), \(digest), \(flow))
                ON CONFLICT (repository, window_start, window_end) DO UPDATE SET
                    metrics = excluded.metrics, bundle = excluded.bundle, digest = excluded.digest,
                    pull_request_flow = excluded.pull_request_flow
                """)
        }
    }

    /// The branch the repository's commits were read from: the manifest's, else GitHub's
    /// default as ingest found it (null before the first ingest, or for an empty repository).
    func branch(_ slug: String, db: Database, configured: String?) throws -> String? {
        if let configured { return configured }
        return try RepositoryFacts.decode(db.query(RepositoryFacts.select(where: "repository = \(slug)"))).first?.defaultBranch
    }

    /// The window before [start, end): the same length, ending at `start`.
    static func previous(start: Date, end: Date) -> (start: Date, end: Date) {
        (start.addingTimeInterval(-end.timeIntervalSince(start)), start)
    }

    /// The previous window's metrics from the same facts.
    static func previous(
        _ window: (start: Date, end: Date), pullRequests: [PullRequestFacts], issues: [IssueFacts],
        categories: [(category: PathCategory, patterns: [String])]
    ) -> PreviousWindow {
        let metrics = RepositoryMetrics.compute(
            start: window.start, end: window.end, pullRequests: pullRequests, issues: issues, activity: [],
            categories: categories)
        return PreviousWindow(
            start: Timestamp.string(window.start), end: Timestamp.string(window.end), humans: metrics.humans,
            bots: metrics.bots)
    }

    /// Whether ingest's coverage of every list the metrics count (the pull requests and issues
    /// updated since a time, as the manifest collects them) reaches back to `from`: only then
    /// does the store hold every item a window starting there counts.
    static func covers(_ slug: String, from: Date, db: Database, collect: [CollectKind]) throws -> Bool {
        var streams: [String] = []
        if collect.contains(.pull_requests) { streams.append("pull_requests_updated") }
        if collect.contains(.issues) { streams.append("issues_updated") }
        let fromText = Timestamp.string(from)
        for stream in streams {
            let row = try db.query(
                "SELECT covered_from FROM ingest_coverage WHERE repository = \(slug) AND stream = \(stream)"
            ).first
            guard let covered = try row?.string("covered_from"), covered <= fromText else { return false }
        }
        return !streams.isEmpty
    }

    /// A number as a tie-break that sorts as the number does.
    static func tie(_ number: Int64) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }
}
