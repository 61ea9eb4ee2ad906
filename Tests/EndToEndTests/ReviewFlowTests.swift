import Foundation
import GitHubFake
import JSON
import Store
import TestSupport
import Testing

/// Issue #22: review flow, rule by rule. One repository whose every pull request and issue is
/// one case of docs/metrics.md ("Review flow"), served by the fake GitHub as GitHub shows it —
/// drafts readied and converted back (a timeline longer than a page), reviews while a draft,
/// reply containers, reviews after the merge, self-reviews, bot, assistant and pending
/// reviews, deleted accounts, a review clocked before its pull request, a pull request readied
/// after the window's end — and the exported figures and rows computed here by hand. Changing
/// any rule changes a number below.
@Suite("Review flow, rule by rule", .serialized)
struct ReviewFlowTests {
    static let token = "ghp_reviewFlowToken0123456789"
    static let end = Date(timeIntervalSince1970: 1_795_737_600)
    static let start = end.addingTimeInterval(-14 * day)
    static let day: TimeInterval = 86_400
    static let hour: TimeInterval = 3_600

    static func s(_ days: Double) -> Date { start.addingTimeInterval(days * day) }

    static let ada = EstateGenerator.humans[0]
    static let grace = EstateGenerator.humans[1]
    static let linus = EstateGenerator.humans[2]
    static let bot = EstateGenerator.bots[0]
    static let assistant = EstateGenerator.assistant

    static func pull(
        _ number: Int, author: FakeUser? = ada, created: Double, merged: Double? = nil, draft: Bool = false,
        updated: Double? = nil, reviews: [FakeReview] = [], comments: [FakeComment] = [],
        inline: [FakeReviewComment] = [], events: [FakeDraftEvent] = [], lines: [(String, Int)] = []
    ) -> FakePullRequest {
        let mergedAt = merged.map(s)
        let latest =
            ([s(updated ?? created), mergedAt ?? s(created)] + reviews.map(\.submittedAt) + comments.map(\.createdAt)
            + inline.map(\.createdAt) + events.map(\.at)).max() ?? s(created)
        let files = lines.map { FakeFile(path: $0.0, additions: $0.1, deletions: 0) }
        return FakePullRequest(
            databaseId: 5_000 + Int64(number), number: number, title: "Case \(number)",
            state: mergedAt == nil ? .open : .merged, isDraft: draft, createdAt: s(created), updatedAt: latest,
            mergedAt: mergedAt, closedAt: mergedAt, additions: files.reduce(0) { $0 + $1.additions },
            changedFiles: files.count, author: author, reviews: reviews, comments: comments, files: files,
            reviewComments: inline, draftEvents: events)
    }

    static func review(_ id: Int64, _ author: FakeUser?, _ state: String, _ at: Double, pending: Bool = false) -> FakeReview {
        FakeReview(databaseId: id, author: author, state: state, submittedAt: s(at), pending: pending)
    }

    static func comment(_ id: Int64, _ author: FakeUser?, _ at: Double) -> FakeComment {
        FakeComment(databaseId: id, author: author, createdAt: s(at))
    }

    static func event(_ id: String, ready: Bool, _ at: Date) -> FakeDraftEvent {
        FakeDraftEvent(id: id, ready: ready, at: at, actor: id.hasSuffix("ghost") ? nil : ada)
    }

    /// Thirteen readied and converted transitions an hour apart: more than a first page (10).
    static let flipping = (1...13).map { hour in
        event("F\(hour)", ready: hour % 2 == 1, s(1).addingTimeInterval(Double(hour) * ReviewFlowTests.hour))
    }

    /// The estate under `owner`: PostgreSQL is one store for every test, so each run's
    /// repository is its own.
    static func estate(owner: String) -> FakeEstate {
        let pulls = [
            // 1: a draft readied (day 2), converted back (3), readied again (4); a review while a
            // draft (1.5) is before ready; approved on day 5, merged on 6.
            pull(
                1, created: 1, merged: 6, reviews: [review(101, grace, "COMMENTED", 1.5), review(102, grace, "APPROVED", 5)],
                events: [
                    event("R1a", ready: true, s(2)), event("C1", ready: false, s(3)), event("R1b-ghost", ready: true, s(4)),
                ], lines: [("Sources/A.swift", 5)]),
            // 2: self-review, a bot's review, the assistant's comment: none responds; grace's
            // comment (day 2) does. Merged with no review by another person.
            pull(
                2, created: 1, merged: 3, reviews: [review(201, ada, "COMMENTED", 1.1), review(202, bot, "APPROVED", 1.2)],
                comments: [comment(203, assistant, 1.3), comment(204, grace, 2)], lines: [("Sources/B.swift", 15)]),
            // 3: changes requested (day 2, with an inline comment), linus replies in the thread
            // (a reply container), approved on day 4: two rounds.
            pull(
                3, created: 1, merged: 5,
                reviews: [
                    review(301, grace, "CHANGES_REQUESTED", 2), review(302, linus, "COMMENTED", 2.5),
                    review(303, grace, "APPROVED", 4),
                ],
                inline: [
                    FakeReviewComment(
                        databaseId: 3_001, reviewId: 301, inReplyTo: nil, author: grace, path: "Sources/C.swift",
                        createdAt: s(2), updatedAt: s(2)),
                    FakeReviewComment(
                        databaseId: 3_002, reviewId: 302, inReplyTo: 3_001, author: linus, path: "Sources/C.swift",
                        createdAt: s(2.5), updatedAt: s(2.5)),
                ], lines: [("Sources/C.swift", 40)]),
            // 4: the author's own review thread, linus's reply: a response, but its container is
            // no review — merged without review.
            pull(
                4, created: 1, merged: 3, reviews: [review(401, ada, "COMMENTED", 1.5), review(402, linus, "COMMENTED", 2)],
                inline: [
                    FakeReviewComment(
                        databaseId: 4_001, reviewId: 401, inReplyTo: nil, author: ada, path: "Sources/D.swift",
                        createdAt: s(1.5), updatedAt: s(1.5)),
                    FakeReviewComment(
                        databaseId: 4_002, reviewId: 402, inReplyTo: 4_001, author: linus, path: "Sources/D.swift",
                        createdAt: s(2), updatedAt: s(2)),
                ], lines: [("Sources/D.swift", 200)]),
            // 5: approved a day after the merge: a response, not a review of what was merged.
            pull(5, created: 1, merged: 2, reviews: [review(501, grace, "APPROVED", 3)], lines: [("Sources/E.swift", 600)]),
            // 6: open; grace's review is pending (no `submittedAt`): still waiting.
            pull(6, created: 1, updated: 2, reviews: [review(601, grace, "COMMENTED", 2, pending: true)]),
            // 7: a draft never readied: in no ready or waiting figure, whoever comments.
            pull(7, created: 1, draft: true, comments: [comment(701, grace, 2)]),
            // 8: a draft readied after the window's end: a draft at its end.
            pull(8, created: 10, events: [event("R8", ready: true, end.addingTimeInterval(day))]),
            // 9: ready long before the window, converted to draft in it: a draft at its end.
            pull(9, created: -5, draft: true, events: [event("C9", ready: false, s(3))]),
            // 10: open since before the window, only a bot reviewed it: waiting for review.
            pull(10, created: -2, reviews: [review(1_001, bot, "COMMENTED", 1)]),
            // 11: a review clocked before the pull request was created: reviewed, not picked up.
            pull(11, created: 5, merged: 6, reviews: [review(1_101, grace, "APPROVED", 4)], lines: [("Sources/F.swift", 1_200)]),
            // 12: a deleted author and a deleted commenter cannot be told apart: no response.
            pull(12, author: nil, created: 1, comments: [comment(1_201, nil, 2)]),
            // 13: a bot's pull request: not people's.
            pull(13, author: bot, created: 1, merged: 2),
            // 14: a dismissed review is still a review, not an approval.
            pull(
                14, created: 1, merged: 3, reviews: [review(1_401, grace, "DISMISSED", 2)],
                lines: [("Sources/G.swift", 5), ("vendor/lib/thing.c", 1_000)]),
            // 15: opened as a draft, thirteen transitions (more than a page), merged unreviewed.
            pull(15, created: 1, merged: 4, events: flipping),
        ]
        let issues = [
            // I1: the bot, the author and the assistant do not respond; grace does, on day 3.
            FakeIssue(
                databaseId: 9_001, number: 101, title: "Issue 1", state: .open, createdAt: s(1), updatedAt: s(3),
                author: ada,
                comments: [
                    comment(9_011, bot, 1.1), comment(9_012, ada, 1.2), comment(9_013, assistant, 1.3),
                    comment(9_014, grace, 3),
                ]),
            // I2: no one answers.
            FakeIssue(
                databaseId: 9_002, number: 102, title: "Issue 2", state: .open, createdAt: s(2), updatedAt: s(2), author: ada),
            // I3: opened before the window.
            FakeIssue(
                databaseId: 9_003, number: 103, title: "Issue 3", state: .open, createdAt: s(-10), updatedAt: s(1), author: ada,
                comments: [comment(9_031, grace, 1)]),
            // I4: answered only after the window's end.
            FakeIssue(
                databaseId: 9_004, number: 104, title: "Issue 4", state: .open, createdAt: s(3),
                updatedAt: end.addingTimeInterval(day), author: ada,
                comments: [FakeComment(databaseId: 9_041, author: grace, createdAt: end.addingTimeInterval(day))]),
        ]
        let repository = FakeRepository(
            owner: owner, name: "rules", defaultBranch: "main", documentationPaths: ["docs"], commits: [],
            pullRequests: pulls, issues: issues)
        return FakeEstate(repositories: [repository], windowStart: start, windowEnd: end)
    }

    static func manifest(_ estate: FakeEstate, _ url: URL, name: String) -> String {
        estate.manifest(name: name, endpoint: url).replacingOccurrences(
            of: "window:\n", with: "  noise:\n    ignore_responders: [Review-Assistant]\nwindow:\n")
            + "export:\n  formats: [jsonl]\n  datasets: [metrics, pull_request_flow, issues]\n"
    }

    /// Each exported record of a JSONL file.
    static func records(_ folder: URL, _ file: String) throws -> [JSONValue] {
        try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
            .map { try JSONValue(parsing: String($0)) }
    }

    @Test(arguments: TestDatabase.engines)
    func everyRuleGivesItsHandComputedFigure(engine: TestDatabase.Engine) async throws {
        let owner = "flow\(UInt32.random(in: 0...UInt32.max))"
        let estate = Self.estate(owner: owner)
        let fake = FakeGitHub(estate: estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(estate, url, name: owner))
            var environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            if let store = try engine.store() { environment["GHILLIE_STORE"] = store }
            let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let folder = try exportFolder(harness, name: owner)
            let humans = try #require(
                try Self.records(folder, "metrics.jsonl").first {
                    $0["scope"]?.string == "repository" && $0["population"]?.string == "humans"
                })
            func number(_ key: String) -> Double? {
                switch humans[key] {
                case .int(let value)?: return Double(value)
                case .double(let value)?: return value
                default: return nil
                }
            }
            let day = Self.day
            let expected: [(String, Double?)] = [
                // Ready in the window: 1 (day 2), 2, 3, 4, 5, 6, 11, 12, 14, 15; not 7 (never
                // readied), 8 (after the end), 9 and 10 (before the window), 13 (a bot's).
                ("pull_requests_ready", 10),
                // First responses: 1 → 3 days (the draft-time review is before ready), 2, 3, 4
                // (an inline reply), 14 → 1 day, 5 → 2 days (after the merge still responds);
                // none for 6 (pending), 11 (before ready), 12 (ghost to ghost), 15.
                ("pull_request_first_response_seconds_count", 6),
                ("pull_request_first_response_seconds_median", day), ("pull_request_first_response_seconds_p90", 3 * day),
                ("pull_requests_awaiting_first_response", 4),
                // Pickup: 1 → 3 days, 3 → 1, 14 → 1 (dismissed is a review); not 2 (comment only),
                // 4 (self and container), 5 (after the merge), 11 (before ready).
                ("pickup_seconds_count", 3), ("pickup_seconds_median", day), ("pickup_seconds_p90", 3 * day),
                // Approval: 1 and 3 → 3 days, each merged a day later; 14's was dismissed.
                ("approval_seconds_count", 2), ("approval_seconds_median", 3 * day),
                ("approval_to_merge_seconds_count", 2), ("approval_to_merge_seconds_median", day),
                ("merged_without_review", 4),
                // Rounds: 1, 11, 14 → 1; 3 → 2 (one change request).
                ("review_rounds_count", 4), ("review_rounds_median", 1), ("review_rounds_p90", 2),
                // Draft time: 1 → day 1 to 2 and 3 to 4; 15 → seven one-hour spans.
                ("draft_seconds_count", 2), ("draft_seconds_median", (2 * day + 7 * Self.hour) / 2),
                ("draft_seconds_p90", 2 * day),
                // Sizes: 1, 14 (vendored lines left out), 15 → XS; 2 → S; 3 → M; 4 → L; 5 → XL; 11 → XXL.
                ("size_xs", 3), ("size_s", 1), ("size_m", 1), ("size_l", 1), ("size_xl", 1), ("size_xxl", 1),
                // Waiting for review at the end: 6 and 12 → 13 days, 10 → 16 (a bot's review is none);
                // not 7, 8, 9 (drafts then).
                ("awaiting_review_seconds_count", 3), ("awaiting_review_seconds_median", 13 * day),
                ("awaiting_review_seconds_p90", 16 * day),
                // Issues opened in the window: I1 (answered after 2 days), I2, I4 (answered after the end).
                ("issues_opened", 3), ("issues_awaiting_first_response", 2), ("issue_first_response_seconds_count", 1),
                ("issue_first_response_seconds_median", 2 * day),
            ]
            for (key, value) in expected { #expect(number(key) == value, "\(key)") }
            #expect(humans["merged_without_review_numbers"] == [2, 4, 5, 15])
            let bots = try #require(
                try Self.records(folder, "metrics.jsonl").first {
                    $0["scope"]?.string == "repository" && $0["population"]?.string == "bots"
                })
            #expect(bots["pull_requests_ready"] == .null && bots["pickup_seconds_count"] == .null)

            // The rows the figures are made of.
            var rows: [Int64: JSONValue] = [:]
            for row in try Self.records(folder, "pull_request_flow.jsonl") { rows[row["number"]?.int ?? 0] = row }
            #expect(rows.keys.sorted() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15])
            func time(_ date: Date) -> JSONValue { .string(Timestamp.string(date)) }
            #expect(rows[1]?["ready_at"] == time(Self.s(2)))
            #expect(rows[1]?["first_review_at"] == time(Self.s(5)) && rows[1]?["rounds"] == 1)
            #expect(rows[1]?["draft_seconds"] == .int(Int64(2 * day)))
            #expect(rows[2]?["first_response_at"] == time(Self.s(2)) && rows[2]?["reviewed"] == false)
            #expect(rows[3]?["rounds"] == 2 && rows[3]?["first_approval_at"] == time(Self.s(4)))
            #expect(rows[7]?["ready_at"] == .null)
            #expect(rows[8]?["ready_at"] == time(Self.end.addingTimeInterval(day)))
            #expect(rows[11]?["reviewed"] == true && rows[11]?["first_review_at"] == .null)
            #expect(rows[14]?["changed_lines"] == 5 && rows[14]?["size"] == "xs")
            #expect(rows[15]?["ready_at"] == time(Self.s(1).addingTimeInterval(Self.hour)))

            var issues: [Int64: JSONValue] = [:]
            for row in try Self.records(folder, "issues.jsonl") { issues[row["number"]?.int ?? 0] = row }
            #expect(issues[101]?["first_response_at"] == time(Self.s(3)))
            #expect(issues[102]?["first_response_at"] == .null)
            #expect(issues[104]?["first_response_at"] == time(Self.end.addingTimeInterval(day)))
        }
    }
}
