import Foundation
import GitHubFake
import JSON
import Store
import TestSupport
import Testing

/// Issue #22: review flow over a generated estate equals an oracle computed here from the
/// generator's own records (not from anything ghillie-run stored), straight from the
/// definitions in docs/metrics.md — per repository and for the estate, on both engines.
@Suite("Review flow: the estate against an oracle", .serialized)
struct ReviewFlowEstateTests {
    static let token = "ghp_reviewFlowEstate0123456789"

    /// The figures of one population of pull requests and issues, by export column.
    static func oracle(_ pulls: [FakePullRequest], _ issues: [FakeIssue], start: Date, end: Date) -> [String: JSONValue] {
        // GitHub's timestamps have whole seconds.
        func whole(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }
        let pulls = pulls.map { pull in
            var pull = pull
            pull.createdAt = whole(pull.createdAt)
            pull.mergedAt = pull.mergedAt.map(whole)
            pull.closedAt = pull.closedAt.map(whole)
            pull.draftEvents = pull.draftEvents.map { event in
                var event = event
                event.at = whole(event.at)
                return event
            }
            pull.reviews = pull.reviews.map { review in
                var review = review
                review.submittedAt = whole(review.submittedAt)
                return review
            }
            pull.comments = pull.comments.map {
                FakeComment(databaseId: $0.databaseId, author: $0.author, createdAt: whole($0.createdAt))
            }
            pull.reviewComments = pull.reviewComments.map { comment in
                var comment = comment
                comment.createdAt = whole(comment.createdAt)
                return comment
            }
            return pull
        }
        let issues = issues.map { issue in
            var issue = issue
            issue.createdAt = whole(issue.createdAt)
            issue.comments = issue.comments.map {
                FakeComment(databaseId: $0.databaseId, author: $0.author, createdAt: whole($0.createdAt))
            }
            return issue
        }
        let ignored = EstateGenerator.assistant.login
        func login(_ user: FakeUser?) -> String { user.map(\.restLogin) ?? "ghost" }
        func responds(_ user: FakeUser?, to author: FakeUser?) -> Bool {
            !(user?.isBot ?? false) && login(user) != login(author) && login(user) != ignored
        }
        func inWindow(_ date: Date?) -> Bool { date.map { start <= $0 && $0 < end } ?? false }
        var ready = 0, awaitingResponse = 0, withoutReview = 0
        var response: [Double] = [], pickup: [Double] = [], approval: [Double] = [], toMerge: [Double] = []
        var rounds: [Double] = [], draft: [Double] = [], waiting: [Double] = []
        var sizes = ["xs": 0, "s": 0, "m": 0, "l": 0, "xl": 0, "xxl": 0]
        for pull in pulls where !(pull.author?.isBot ?? false) {
            let events = pull.draftEvents.sorted { $0.at < $1.at }
            let openedAsDraft = events.first.map(\.ready) ?? pull.isDraft
            let readyAt = openedAsDraft ? events.first { $0.ready }.map { max($0.at, pull.createdAt) } : pull.createdAt
            // Containers: `COMMENTED` reviews whose inline comments are all replies.
            let containers = Set(
                pull.reviews.filter { review in
                    let comments = pull.reviewComments.filter { $0.reviewId == review.databaseId }
                    return review.state == "COMMENTED" && !comments.isEmpty && comments.allSatisfy { $0.inReplyTo != nil }
                }.map(\.databaseId))
            let reviews = pull.reviews.filter {
                !$0.pending && !containers.contains($0.databaseId) && responds($0.author, to: pull.author)
            }
            let responses =
                (reviews.map(\.submittedAt) + pull.comments.filter { responds($0.author, to: pull.author) }.map(\.createdAt)
                + pull.reviewComments.filter { responds($0.author, to: pull.author) }.map(\.createdAt)).sorted()
            if let readyAt, inWindow(readyAt) {
                ready += 1
                if let first = responses.first(where: { $0 >= readyAt }), first < end {
                    response.append(first.timeIntervalSince(readyAt))
                } else {
                    awaitingResponse += 1
                }
            }
            // Draft spans, from the transitions.
            var spans: [(Date, Date?)] = []
            var since: Date? = openedAsDraft ? pull.createdAt : nil
            for event in events {
                if event.ready, let from = since {
                    spans.append((from, max(event.at, pull.createdAt)))
                    since = nil
                } else if !event.ready, since == nil {
                    since = max(event.at, pull.createdAt)
                }
            }
            if let from = since { spans.append((from, nil)) }
            if let merged = pull.mergedAt, inWindow(merged) {
                let before = reviews.filter { $0.submittedAt <= merged }.sorted { $0.submittedAt < $1.submittedAt }
                if let readyAt, let first = before.first(where: { $0.submittedAt >= readyAt }) {
                    pickup.append(first.submittedAt.timeIntervalSince(readyAt))
                }
                if let readyAt, let approved = before.first(where: { $0.state == "APPROVED" && $0.submittedAt >= readyAt }) {
                    approval.append(approved.submittedAt.timeIntervalSince(readyAt))
                    toMerge.append(merged.timeIntervalSince(approved.submittedAt))
                }
                if before.isEmpty {
                    withoutReview += 1
                } else {
                    rounds.append(Double(1 + before.count { $0.state == "CHANGES_REQUESTED" }))
                }
                if openedAsDraft {
                    draft.append(spans.reduce(0) { $0 + max(0, min($1.1 ?? merged, merged).timeIntervalSince($1.0)) })
                }
                let lines = pull.files.filter {
                    !($0.path.hasPrefix("vendor/") || $0.path.contains("/vendor/") || $0.path.hasSuffix(".lock")
                        || $0.path.hasSuffix("Package.resolved") || $0.path.contains(".generated."))
                }.reduce(0) { $0 + $1.additions + $1.deletions }
                let size =
                    lines >= 1000
                    ? "xxl" : lines >= 500 ? "xl" : lines >= 100 ? "l" : lines >= 30 ? "m" : lines >= 10 ? "s" : "xs"
                sizes[size, default: 0] += 1
            }
            let draftAtEnd = spans.contains { $0.0 <= end && ($0.1.map { end < $0 } ?? true) }
            if pull.createdAt < end, !(pull.mergedAt.map { $0 < end } ?? false), !(pull.closedAt.map { $0 < end } ?? false),
                let readyAt, readyAt < end, !draftAtEnd, !reviews.contains(where: { $0.submittedAt < end })
            {
                waiting.append(end.timeIntervalSince(readyAt))
            }
        }
        var opened = 0, unanswered = 0
        var issueResponse: [Double] = []
        for issue in issues where !(issue.author?.isBot ?? false) && inWindow(issue.createdAt) {
            opened += 1
            let first = issue.comments.filter { responds($0.author, to: issue.author) && $0.createdAt >= issue.createdAt }
                .map(\.createdAt).min()
            if let first, first < end { issueResponse.append(first.timeIntervalSince(issue.createdAt)) } else { unanswered += 1 }
        }
        var figures: [String: JSONValue] = [
            "pull_requests_ready": .int(Int64(ready)), "pull_requests_awaiting_first_response": .int(Int64(awaitingResponse)),
            "merged_without_review": .int(Int64(withoutReview)), "issues_opened": .int(Int64(opened)),
            "issues_awaiting_first_response": .int(Int64(unanswered)),
        ]
        for (name, count) in sizes { figures["size_" + name] = .int(Int64(count)) }
        for (name, values) in [
            ("pull_request_first_response_seconds", response), ("pickup_seconds", pickup), ("approval_seconds", approval),
            ("approval_to_merge_seconds", toMerge), ("review_rounds", rounds), ("draft_seconds", draft),
            ("awaiting_review_seconds", waiting), ("issue_first_response_seconds", issueResponse),
        ] {
            let sorted = values.sorted()
            figures[name + "_count"] = .int(Int64(sorted.count))
            guard !sorted.isEmpty else {
                figures[name + "_median"] = .null
                figures[name + "_p90"] = .null
                continue
            }
            let middle = sorted.count / 2
            figures[name + "_median"] = .double(
                sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2)
            figures[name + "_p90"] = .double(sorted[Int((0.9 * Double(sorted.count)).rounded(.up)) - 1])
        }
        return figures
    }

    /// A JSON number as a Double, whichever way it was written (`3` or `3.0`).
    static func value(_ json: JSONValue?) -> JSONValue? {
        if case .int(let number)? = json { return .double(Double(number)) }
        return json
    }

    @Test(arguments: TestDatabase.engines)
    func everyFigureEqualsTheOracleForEachRepositoryAndTheEstate(engine: TestDatabase.Engine) async throws {
        let owner = "rf\(UInt32.random(in: 0...UInt32.max))"
        let estate = EstateGenerator(seed: 11, repositories: 4, owner: owner).generate()
        let fake = FakeGitHub(estate: estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write(
                "m.yaml",
                estate.manifest(name: owner, endpoint: url).replacingOccurrences(
                    of: "window:\n", with: "  noise:\n    ignore_responders: [review-assistant]\nwindow:\n")
                    + "export:\n  formats: [jsonl]\n  datasets: [metrics]\n")
            var environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            if let store = try engine.store() { environment["GHILLIE_STORE"] = store }
            let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let folder = try exportFolder(harness, name: owner)
            let records = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").map { try JSONValue(parsing: String($0)) }
                .filter { $0["population"]?.string == "humans" }
            var subjects = estate.repositories.map { ($0.slug as String?, [$0]) }
            subjects.append((nil, estate.repositories))
            var compared = 0
            for (slug, repositories) in subjects {
                let record = try #require(records.first { $0["repository"]?.string == slug }, "\(slug ?? "estate")")
                let oracle = Self.oracle(
                    repositories.flatMap(\.pullRequests), repositories.flatMap(\.issues), start: estate.windowStart,
                    end: estate.windowEnd)
                for (column, expected) in oracle.sorted(by: { $0.key < $1.key }) {
                    #expect(Self.value(record[column]) == Self.value(expected), "\(slug ?? "estate") \(column)")
                    compared += 1
                }
            }
            // Every column, every subject; and the estate is not trivially empty.
            #expect(compared == 5 * 35)
            let estateRecord = try #require(records.first { $0["repository"] == .null })
            for column in ["pull_requests_ready", "pickup_seconds_count", "draft_seconds_count", "merged_without_review"] {
                #expect((estateRecord[column]?.int ?? 0) > 0, "\(column)")
            }
        }
    }
}
