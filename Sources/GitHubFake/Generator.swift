public import Foundation

/// A small deterministic random number generator (SplitMix64): same seed, same estate.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates a realistic estate around a 14-day window, deterministically from a seed.
///
/// Every estate holds the awkward cases ingest and metrics must get right, shaped the way
/// GitHub shows them: Bot actors (login without `[bot]` in GraphQL, with it in REST; bot
/// commits carry no linked user, only a `…[bot]` name and a noreply address), deleted
/// accounts (`author: null`), drafts, pull requests opened long before the window and merged
/// inside it, items exactly on the window's edges, long-open untouched issues,
/// closed-as-not-planned and reopened issues, unicode and multi-line messages, default
/// branches `main`, `trunk`, `develop` and `master` (with a stale `main` beside it), an empty
/// repository, one repository with more than 250 pull requests updated in the window (and a
/// pull request of 3,500 files, more than GitHub lists), documentation changes in nested
/// folders (added, changed, removed), commits that landed after newer-dated ones (a merge),
/// reply-container reviews, and database ids past 2³¹.
public struct EstateGenerator: Sendable {
    public var seed: UInt64
    public var repositories: Int
    public var owner: String
    public var windowEnd: Date
    public var windowDays: Int

    public init(
        seed: UInt64 = 42, repositories: Int = 8, owner: String = "acme",
        windowEnd: Date = Date(timeIntervalSince1970: 1_795_737_600), windowDays: Int = 14
    ) {
        self.seed = seed
        self.repositories = max(1, repositories)
        self.owner = owner
        self.windowEnd = windowEnd
        self.windowDays = windowDays
    }

    public static let humans = [
        FakeUser(login: "ada", name: "Ada Lovelace", email: "ada@example.com"),
        FakeUser(login: "grace", name: "Grace Hopper", email: "grace@example.com"),
        FakeUser(login: "linus", name: "Linus T", email: "linus@example.com"),
        FakeUser(login: "zoë", name: "Zoë Ångström", email: "zoe@example.com"),
        FakeUser(login: "kenji", name: "山田 健二", email: "kenji@example.com"),
    ]
    /// GitHub Apps as GitHub's GraphQL API names them (no `[bot]`); their commits are authored
    /// by `NAME[bot] <ID+NAME[bot]@users.noreply.github.com>` with no linked user.
    public static let bots = [
        FakeUser(
            login: "dependabot", name: "dependabot[bot]", email: "49699333+dependabot[bot]@users.noreply.github.com",
            kind: .bot),
        FakeUser(
            login: "renovate", name: "renovate[bot]", email: "29139614+renovate[bot]@users.noreply.github.com",
            kind: .bot),
        FakeUser(
            login: "github-actions", name: "github-actions[bot]",
            email: "41898282+github-actions[bot]@users.noreply.github.com", kind: .bot),
    ]
    static let labels = ["bug", "feature", "chore/deps", "docs", "blocked", "good first issue", "priority: high"]

    /// Database ids start just below 2³¹, as github.com's passed it: later items need 64 bits.
    static let firstDatabaseId: Int64 = 2_147_483_000

    /// How many files the busy repository's oversized pull request changes.
    public static let oversizedFileCount = 3_500

    public func generate() -> FakeEstate {
        var rng = SeededGenerator(seed: seed)
        let start = windowEnd.addingTimeInterval(-Double(windowDays) * 86_400)
        var repos: [FakeRepository] = []
        var nextDatabaseId = Self.firstDatabaseId
        for index in 0..<repositories {
            let name = String(format: "repo-%03d", index)
            let branch = index % 5 == 3 ? "trunk" : (index % 7 == 4 ? "develop" : (index % 6 == 5 ? "master" : "main"))
            let documentation = index % 4 == 1 ? ["docs/"] : ["docs/roadmap.md", "docs/adr/"]
            var repo = FakeRepository(
                owner: owner, name: name, defaultBranch: branch, documentationPaths: documentation,
                commits: [], pullRequests: [], issues: [])
            if index == 1 {
                repos.append(repo) // the empty repository
                continue
            }
            let busy = index == 2 // more than 250 pull requests updated in the window
            var commits = commits(&rng, start: start, count: busy ? 320 : Int.random(in: 5...60, using: &rng), index: index)
            if index % 4 == 2 {
                // A branch merged late: two of its commits are older than commits that landed
                // before them, and a merge commit lands after them.
                let moved = commits.indices.filter { commits[$0].committedDate >= start }.prefix(2)
                let late = moved.map { commits[$0] }
                commits.removeAll { commit in late.contains { $0.oid == commit.oid } }
                if let last = commits.last, !late.isEmpty {
                    let merged = last.committedDate.addingTimeInterval(600)
                    commits += late
                    commits.append(
                        FakeCommit(
                            oid: oid(&rng), message: "Merge pull request #\(index) from feature/late", authoredDate: merged,
                            committedDate: merged, additions: 0, deletions: 0, changedFiles: 0, author: Self.humans[0],
                            linked: true, paths: []))
                }
            }
            repo.landed = commits
            if branch == "master" {
                // A stale `main` beside the real default: old history and two commits of its own.
                let stale = (0..<2).map { number in
                    FakeCommit(
                        oid: oid(&rng), message: "wip: stale main \(number)", authoredDate: start.addingTimeInterval(3600),
                        committedDate: start.addingTimeInterval(Double(3600 * (number + 1))), additions: 1, deletions: 1,
                        changedFiles: 1, author: Self.humans[1], linked: true, paths: ["notes-\(number).txt"])
                }
                repo.otherBranches["main"] = Array(commits.prefix(1)) + stale
            }
            repo.pushedAt = commits.map(\.committedDate).max()
            repo.pullRequests = pullRequests(
                &rng, start: start, count: busy ? 280 : Int.random(in: 3...40, using: &rng),
                nextId: &nextDatabaseId, branch: branch)
            if busy {
                // Every pull request of the busy repository is touched inside the window (a label
                // sweep, say), so more than 250 are "updated in the window".
                let span = windowEnd.timeIntervalSince(start)
                for index in repo.pullRequests.indices where repo.pullRequests[index].updatedAt < start {
                    repo.pullRequests[index].updatedAt = start.addingTimeInterval(Double.random(in: 0..<(span - 1), using: &rng))
                }
                repo.pullRequests.append(
                    oversized(
                        start: start, number: repo.pullRequests.count + 1, nextId: &nextDatabaseId,
                        branch: branch))
            }
            repo.issues = issues(
                &rng, start: start, count: busy ? 70 : Int.random(in: 2...30, using: &rng),
                nextId: &nextDatabaseId)
            repos.append(repo)
        }
        return FakeEstate(repositories: repos, windowStart: start, windowEnd: windowEnd)
    }

    private func oid(_ rng: inout SeededGenerator) -> String {
        (0..<5).map { _ in String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &rng)) }.joined()
    }

    private func person(_ rng: inout SeededGenerator, botChance: Double = 0.15) -> FakeUser {
        Double.random(in: 0..<1, using: &rng) < botChance
            ? Self.bots[Int.random(in: 0..<Self.bots.count, using: &rng)]
            : Self.humans[Int.random(in: 0..<Self.humans.count, using: &rng)]
    }

    /// The documentation every repository starts with, long before the window.
    static let initialDocumentation = [
        "docs/README.md", "docs/roadmap.md", "docs/adr/0001-record-decisions.md", "docs/guides/ops/runbook.md",
        "docs/guides/old/legacy.md",
    ]

    private func commits(_ rng: inout SeededGenerator, start: Date, count: Int, index: Int) -> [FakeCommit] {
        let span = windowEnd.timeIntervalSince(start)
        let founded = start.addingTimeInterval(-40 * 86_400)
        var commits = [
            FakeCommit(
                oid: oid(&rng), message: "Initial import", authoredDate: founded, committedDate: founded, additions: 120,
                deletions: 0, changedFiles: Self.initialDocumentation.count + 1, author: Self.humans[index % Self.humans.count],
                linked: true, paths: ["Package.swift"] + Self.initialDocumentation)
        ]
        for number in 0..<count {
            // Mostly inside the window; some before it; the first exactly on the start edge.
            let offset = number == 0 ? 0 : Double.random(in: -span...span, using: &rng)
            let committed = start.addingTimeInterval(
                max(-span, offset < 0 ? offset : offset.truncatingRemainder(dividingBy: span)))
            let author = person(&rng)
            let kind = Int.random(in: 0..<8, using: &rng)
            let subject: String
            var paths: [String]
            var removed: [String] = []
            switch kind {
            case 0:
                subject = "docs: update the roadmap for Q\(number % 4 + 1)"
                paths = ["docs/roadmap.md"]
            case 1:
                subject = "docs(adr): record decision \(number) — use SQLite"
                paths = [String(format: "docs/adr/%04d-decision.md", number + 2)]
            case 2:
                subject = author.isBot ? "chore(deps): bump yams from 5.0.1 to 6.2.2" : "fix: handle empty pages ✓"
                paths = ["Package.swift", "Sources/App/main.swift"]
            case 3:
                subject =
                    "feat: add estate report\n\nLonger body explaining the change.\nCo-authored-by: Grace <grace@example.com>"
                paths = ["Sources/Report/Estate.swift", "Tests/ReportTests/EstateTests.swift"]
            case 4:
                subject = "docs: update the on-call runbook"
                paths = ["docs/guides/ops/runbook.md"]
            case 5:
                subject = "docs: replace the legacy guide"
                paths = ["docs/guides/new/guide-\(number).md"]
                removed = ["docs/guides/old/legacy.md"]
            default:
                subject = "refactor: tidy module \(index)"
                paths = ["Sources/Core/Module\(number).swift"]
            }
            // A human commit's email sometimes maps to no GitHub account.
            let linked = !author.isBot && number % 11 != 5
            commits.append(
                FakeCommit(
                    oid: oid(&rng), message: subject, authoredDate: committed.addingTimeInterval(-3600), committedDate: committed,
                    additions: Int.random(in: 0...400, using: &rng), deletions: Int.random(in: 0...200, using: &rng),
                    changedFiles: paths.count + removed.count, author: author, linked: linked, paths: paths, removed: removed))
        }
        commits.sort { ($0.committedDate, $0.oid) < ($1.committedDate, $1.oid) }
        // A file is removed once: later removals of the same file are dropped.
        var removedAlready: Set<String> = []
        for index in commits.indices {
            commits[index].removed.removeAll { !removedAlready.insert($0).inserted }
            commits[index].changedFiles = commits[index].paths.count + commits[index].removed.count
        }
        return commits
    }

    private func pullRequests(_ rng: inout SeededGenerator, start: Date, count: Int, nextId: inout Int64, branch: String)
        -> [FakePullRequest]
    {
        let span = windowEnd.timeIntervalSince(start)
        var pulls: [FakePullRequest] = []
        for number in 1...count {
            nextId += 1
            let author: FakeUser? = number % 17 == 0 ? nil : person(&rng, botChance: 0.2) // nil: a deleted account
            let created = start.addingTimeInterval(Double.random(in: (-6 * span)...(span * 0.95), using: &rng))
            var state = FakePullRequest.State.open
            var merged: Date?
            var closed: Date?
            var updated = created.addingTimeInterval(Double.random(in: 60...(span / 2), using: &rng))
            let roll = Int.random(in: 0..<10, using: &rng)
            if roll < 5 {
                // Merged, often inside the window even when opened long before it.
                let at = max(
                    created.addingTimeInterval(600), start.addingTimeInterval(Double.random(in: -span...span * 0.99, using: &rng))
                )
                merged = min(at, windowEnd.addingTimeInterval(-60))
                closed = merged
                state = .merged
                updated = merged ?? updated
            } else if roll < 7 {
                closed = created.addingTimeInterval(Double.random(in: 3600...(span * 2), using: &rng))
                state = .closed
                updated = closed ?? updated
            }
            if number == 1 { updated = start } // exactly on the window's start edge
            let labels = (0..<Int.random(in: 0...2, using: &rng)).map { _ in
                Self.labels[Int.random(in: 0..<Self.labels.count, using: &rng)]
            }
            pulls.append(
                FakePullRequest(
                    databaseId: nextId, number: number,
                    title: author?.isBot == true
                        ? "chore(deps): bump swift-log to 1.16.\(number)" : "Add feature \(number): naïve façade",
                    state: state, isDraft: state == .open && number % 4 == 0, createdAt: created,
                    updatedAt: min(updated, windowEnd.addingTimeInterval(-1)),
                    mergedAt: merged, closedAt: closed, baseRefName: branch, headRefName: "feature/\(number)",
                    additions: Int.random(in: 1...900, using: &rng), deletions: Int.random(in: 0...300, using: &rng),
                    changedFiles: 0, author: author, labels: Array(Set(labels)).sorted(),
                    commitCount: Int.random(in: 1...12, using: &rng)))
            var pull = pulls[pulls.count - 1]
            // Rare, but present in every estate with a busy repository: pull requests whose
            // files, comments or reviews overflow the first page of their nested connection.
            pull.files = files(&rng, count: number % 31 == 0 ? 60 : Int.random(in: 1...12, using: &rng))
            pull.changedFiles = pull.files.count
            pull.additions = pull.files.reduce(0) { $0 + $1.additions }
            pull.deletions = pull.files.reduce(0) { $0 + $1.deletions }
            // Activity happens between creation and the last update (on GitHub, a comment or a
            // review moves `updatedAt`; ingest's open-item summaries rely on it).
            pull.comments = comments(
                &rng, count: number % 37 == 0 ? 25 : Int.random(in: 0...6, using: &rng),
                from: pull.createdAt, to: pull.updatedAt, nextId: &nextId)
            let reviewCount = (state == .merged ? 1 : 0) + Int.random(in: 0...3, using: &rng) + (number % 97 == 0 ? 22 : 0)
            pull.reviews = (0..<reviewCount).map { index in
                nextId += 1
                let states = ["APPROVED", "CHANGES_REQUESTED", "COMMENTED"]
                return FakeReview(
                    databaseId: nextId, author: person(&rng, botChance: 0.05),
                    state: index == 0 && state == .merged ? "APPROVED" : states[Int.random(in: 0..<3, using: &rng)],
                    submittedAt: Self.between(pull.createdAt, pull.updatedAt, index, of: reviewCount))
            }
            Self.addReviewFlow(to: &pull, windowEnd: windowEnd)
            Self.addReviewComments(to: &pull, nextId: &nextId)
            pulls[pulls.count - 1] = pull
        }
        return pulls
    }

    /// A vendoring pull request of ``oversizedFileCount`` files, merged in the window: GitHub
    /// lists at most 3,000 of a pull request's files, so its per-category lines are partial.
    private func oversized(start: Date, number: Int, nextId: inout Int64, branch: String) -> FakePullRequest {
        nextId += 1
        let files = (0..<Self.oversizedFileCount).map { index in
            FakeFile(
                path: String(format: "vendor/generated/part-%04d.c", index), additions: 3, deletions: 1,
                changeType: "ADDED")
        }
        let merged = start.addingTimeInterval(3 * 86_400)
        return FakePullRequest(
            databaseId: nextId, number: number, title: "Vendor the generated parser", state: .merged, isDraft: false,
            createdAt: start.addingTimeInterval(2 * 86_400), updatedAt: merged, mergedAt: merged, closedAt: merged,
            baseRefName: branch, headRefName: "vendor/parser", additions: files.reduce(0) { $0 + $1.additions },
            deletions: files.reduce(0) { $0 + $1.deletions }, changedFiles: files.count, author: Self.humans[2], labels: [],
            commitCount: 1, files: files)
    }

    /// A login that comments and reviews as a user but is an assistant: tests list it in
    /// `noise.ignore_responders`.
    public static let assistant = FakeUser(login: "review-assistant", name: "Review Assistant", email: "ra@example.com")

    /// What review flow reads of a pull request, derived from its number without the random
    /// generator (so the rest of the estate stays as it is): drafts readied (every sixth pull
    /// request, one in twelve converted back and readied again, so some reviews land while it
    /// is a draft), open drafts never readied and ready ones converted back to draft, merged
    /// pull requests without any review (one in thirteen) and with a review after the merge
    /// (one in ten), self-reviews, an assistant's early comment (`review-assistant`), a deleted
    /// account's comment, and a review clocked before the pull request was created. Transitions
    /// by a deleted account have `actor: null`.
    static func addReviewFlow(to pull: inout FakePullRequest, windowEnd: Date) {
        let number = pull.number
        let id = pull.databaseId
        let span = max(60, pull.updatedAt.timeIntervalSince(pull.createdAt))
        func at(_ fraction: Double) -> Date { pull.createdAt.addingTimeInterval((span * fraction).rounded(.down)) }
        func event(_ index: Int, ready: Bool, _ fraction: Double) -> FakeDraftEvent {
            FakeDraftEvent(id: "\(ready ? "RFRE" : "CTDE")_\(id)_\(index)", ready: ready, at: at(fraction), actor: pull.author)
        }
        if pull.isDraft {
            // Open drafts: most never readied; every other one was ready and went back to draft.
            if number % 8 == 0 { pull.draftEvents = [event(0, ready: false, 0.5)] }
        } else if number % 6 == 1 {
            pull.draftEvents = [event(0, ready: true, 0.3)]
            if number % 12 == 1 { pull.draftEvents += [event(1, ready: false, 0.5), event(2, ready: true, 0.7)] }
        }
        let others = humans.filter { $0 != pull.author }
        if pull.state == .merged && number % 13 == 5 { pull.reviews = [] }
        if let author = pull.author, !author.isBot, number % 9 == 4 {
            pull.reviews.append(
                FakeReview(databaseId: 800_000_000 + id * 8, author: author, state: "COMMENTED", submittedAt: at(0.2)))
        }
        if number % 23 == 11, let reviewer = others.first {
            pull.reviews.append(
                FakeReview(
                    databaseId: 800_000_000 + id * 8 + 1, author: reviewer, state: "COMMENTED",
                    submittedAt: pull.createdAt.addingTimeInterval(-3600)))
        }
        if pull.state == .merged, number % 10 == 3, let merged = pull.mergedAt,
            merged.addingTimeInterval(3600) < windowEnd.addingTimeInterval(-1), let reviewer = others.last
        {
            let after = merged.addingTimeInterval(3600)
            pull.reviews.append(
                FakeReview(databaseId: 800_000_000 + id * 8 + 2, author: reviewer, state: "APPROVED", submittedAt: after))
            pull.updatedAt = max(pull.updatedAt, after)
        }
        if number % 11 == 7 {
            pull.comments.append(FakeComment(databaseId: 810_000_000 + id * 2, author: assistant, createdAt: at(0.05)))
        }
        if number % 19 == 3 {
            pull.comments.append(FakeComment(databaseId: 810_000_000 + id * 2 + 1, author: nil, createdAt: at(0.4)))
        }
    }

    /// Inline comments of a pull request's reviews, derived without the random generator (so
    /// they leave the rest of the estate as it is): 0–3 per review that is not a bare approval,
    /// on the pull request's files, posted when the review was submitted, every fifth edited an
    /// hour later (not past the pull request's last update). Then, as on GitHub, a reply in a
    /// thread: for every third such review, the pull request's author (when still an account,
    /// and not the reviewer) replies to its first comment half an hour later, which makes GitHub
    /// create a `COMMENTED` review with an empty body holding just that reply.
    static func addReviewComments(to pull: inout FakePullRequest, nextId: inout Int64) {
        var comments: [FakeReviewComment] = []
        var containers: [FakeReview] = []
        for review in pull.reviews where review.state != "APPROVED" {
            for index in 0..<Int(review.databaseId % 4) {
                let id = 700_000_000 + review.databaseId * 4 + Int64(index)
                let path = pull.files.isEmpty ? "README.md" : pull.files[(index + Int(review.databaseId)) % pull.files.count].path
                let edited = id % 5 == 0 ? min(review.submittedAt.addingTimeInterval(3600), pull.updatedAt) : review.submittedAt
                comments.append(
                    FakeReviewComment(
                        databaseId: id, reviewId: review.databaseId, inReplyTo: nil, author: review.author, path: path,
                        createdAt: review.submittedAt, updatedAt: max(edited, review.submittedAt)))
            }
            guard review.databaseId % 3 == 0, let first = comments.last(where: { $0.reviewId == review.databaseId }),
                let replier = pull.author, replier != review.author
            else { continue }
            let at = min(review.submittedAt.addingTimeInterval(1800), pull.updatedAt)
            nextId += 1
            let container = FakeReview(databaseId: nextId, author: replier, state: "COMMENTED", submittedAt: at, body: "")
            containers.append(container)
            comments.append(
                FakeReviewComment(
                    databaseId: 700_000_000 + container.databaseId * 4, reviewId: container.databaseId,
                    inReplyTo: first.databaseId,
                    author: replier, path: first.path, createdAt: at, updatedAt: at))
        }
        pull.reviews += containers
        pull.reviewComments = comments
    }

    static let filePaths = [
        "Sources/Core/Engine.swift", "Sources/Core/Parser.swift", "Tests/CoreTests/EngineTests.swift",
        "docs/guide.md", "docs/adr/0007-caching.md", "Package.swift", "Package.resolved", ".github/workflows/ci.yml",
        "vendor/lib/thing.c", "Sources/Generated/Schema.generated.swift", "README.md",
    ]

    private func files(_ rng: inout SeededGenerator, count: Int) -> [FakeFile] {
        (0..<count).map { index in
            let base = Self.filePaths[Int.random(in: 0..<Self.filePaths.count, using: &rng)]
            let path = index < Self.filePaths.count ? base : base.replacingOccurrences(of: ".", with: "\(index).")
            return FakeFile(
                path: path, additions: Int.random(in: 0...120, using: &rng),
                deletions: Int.random(in: 0...60, using: &rng), changeType: index % 7 == 6 ? "ADDED" : "MODIFIED")
        }.reduce(into: [FakeFile]()) { unique, file in
            if !unique.contains(where: { $0.path == file.path }) { unique.append(file) }
        }
    }

    private func comments(_ rng: inout SeededGenerator, count: Int, from: Date, to: Date, nextId: inout Int64)
        -> [FakeComment]
    {
        (0..<count).map { index in
            nextId += 1
            return FakeComment(
                databaseId: nextId, author: person(&rng, botChance: 0.1),
                createdAt: Self.between(from, to, index, of: count))
        }
    }

    /// The `index`-th of `count` moments spread evenly over (from, to], whole seconds.
    static func between(_ from: Date, _ to: Date, _ index: Int, of count: Int) -> Date {
        let span = max(0, to.timeIntervalSince(from))
        return from.addingTimeInterval((span * Double(index + 1) / Double(count)).rounded(.down))
    }

    private func issues(_ rng: inout SeededGenerator, start: Date, count: Int, nextId: inout Int64) -> [FakeIssue] {
        let span = windowEnd.timeIntervalSince(start)
        var issues: [FakeIssue] = []
        for number in 1...count {
            nextId += 1
            let created = start.addingTimeInterval(Double.random(in: (-20 * span)...(span * 0.9), using: &rng))
            var issue = FakeIssue(
                databaseId: nextId, number: 1000 + number, title: "Issue \(number): things «break»", state: .open,
                stateReason: nil, createdAt: created, updatedAt: created, closedAt: nil, author: person(&rng, botChance: 0.05),
                labels: number % 3 == 0 ? ["bug"] : [])
            switch number % 5 {
            case 0: // closed as completed inside the window
                issue.closedAt = start.addingTimeInterval(Double.random(in: 0..<span, using: &rng))
                issue.state = .closed
                issue.stateReason = .completed
            case 1: // closed as not planned
                issue.closedAt = max(
                    created.addingTimeInterval(60), start.addingTimeInterval(Double.random(in: -span..<span, using: &rng)))
                issue.state = .closed
                issue.stateReason = .notPlanned
            case 2: // reopened
                issue.stateReason = .reopened
            default: break // open and untouched, sometimes for months
            }
            issue.updatedAt = min(max(issue.closedAt ?? created, created), windowEnd.addingTimeInterval(-1))
            if issue.stateReason == .reopened { issue.updatedAt = start.addingTimeInterval(span / 2) }
            // About one issue in 30 has a long discussion (more than a first page of comments),
            // still going on in the window.
            let discussed = number % 29 == 0
            if discussed { issue.updatedAt = max(issue.updatedAt, start.addingTimeInterval(span * 0.3)) }
            issue.comments = comments(
                &rng, count: discussed ? 24 : Int.random(in: 0...6, using: &rng),
                from: created, to: issue.updatedAt, nextId: &nextId)
            issues.append(issue)
        }
        return issues
    }
}
