import Evidence
import Foundation

/// The numbers a report may state, each bound to the fact it counts.
///
/// A report never types a number: it writes a fact's key in braces (`{issues_outstanding}`)
/// and the renderer fills in the value *with the words that say what it counts* ("13
/// outstanding issues"). So a number cannot be put on the wrong fact — a sentence that
/// misuses a key still shows the number with its own noun — and the verifier rejects every
/// bare number instead of asking whether it happens to occur somewhere in the evidence.
struct FactSheet: Sendable {
    /// One fact: its key, value, and the phrase it renders as.
    struct Fact: Sendable, Equatable {
        enum Value: Sendable, Equatable {
            case count(Int)
            /// A duration, stated in days with one decimal.
            case seconds(Double)

            /// -1, 0 or 1; a duration change under a twentieth of a day (what one decimal
            /// of days shows as 0.0) counts as none.
            var sign: Int {
                switch self {
                case .count(let count): return count.signum()
                case .seconds(let seconds): return abs(seconds) < 4_320 ? 0 : (seconds > 0 ? 1 : -1)
                }
            }
        }

        let key: String
        let value: Value
        let phrase: String

        /// The value as the brief and the verification record state it.
        var number: String {
            switch value {
            case .count(let count): return String(count)
            case .seconds(let seconds): return Self.days(seconds)
            }
        }

        static func days(_ seconds: Double) -> String { String(format: "%.1f", seconds / 86_400) }
    }

    /// How each kind of fact reads: a count's noun (one, many), or a duration's lead-in.
    enum Wording: Sendable {
        case count(one: String, many: String)
        /// A lead-in, and what it measures when that is not the item it is said of.
        case duration(String, for: String? = nil)
    }

    /// Every fact key a brief can offer, and its words. Keys of a part (a project's repository,
    /// an estate's repository or project) are `PART.KEY`, and read "… in PART".
    ///
    /// Every fact's words name its population: the metrics count people's items (a bot's are
    /// its own facts), so a reader never takes "183 merged pull requests" for all 252 merged.
    static let wordings: [String: Wording] = [
        "pull_requests_merged": .count(one: "merged pull request by people", many: "merged pull requests by people"),
        "pull_requests_closed_unmerged": .count(
            one: "pull request by people closed without merging", many: "pull requests by people closed without merging"),
        "open_pull_requests": .count(one: "open pull request by people", many: "open pull requests by people"),
        "draft_pull_requests": .count(one: "draft pull request by people", many: "draft pull requests by people"),
        "open_to_merge_median": .duration("a median open-to-merge time of", for: "people's pull requests"),
        "open_to_merge_p90": .duration("a 90th-percentile open-to-merge time of", for: "people's pull requests"),
        "issues_resolved": .count(one: "resolved issue opened by people", many: "resolved issues opened by people"),
        "issues_resolved_completed": .count(
            one: "issue opened by people resolved as completed", many: "issues opened by people resolved as completed"),
        "issues_resolved_not_planned": .count(
            one: "issue opened by people closed as not planned", many: "issues opened by people closed as not planned"),
        "issues_outstanding": .count(one: "outstanding issue opened by people", many: "outstanding issues opened by people"),
        "outstanding_age_median": .duration("a median outstanding-issue age of", for: "issues opened by people"),
        "outstanding_age_p90": .duration("a 90th-percentile outstanding-issue age of", for: "issues opened by people"),
        "bot_pull_requests_merged": .count(one: "bot pull request merged", many: "bot pull requests merged"),
        "bot_issues_resolved": .count(one: "bot issue resolved", many: "bot issues resolved"),
        "commits": .count(one: "default-branch commit (people and bots)", many: "default-branch commits (people and bots)"),
        "adrs_added": .count(one: "new architecture decision record", many: "new architecture decision records"),
        "repositories": .count(one: "repository", many: "repositories"),
        "open_age": .duration("open for"),
        "wait": .duration("waiting for"),
        "parts_on_track": .count(one: "part on track", many: "parts on track"),
        "parts_at_risk": .count(one: "part at risk", many: "parts at risk"),
        "parts_blocked": .count(one: "part blocked", many: "parts blocked"),
        "parts_unknown": .count(one: "part of unknown status", many: "parts of unknown status"),
        // Review flow (docs/metrics.md): people's items, responses by other people.
        "pull_requests_ready": .count(
            one: "pull request by people ready for review", many: "pull requests by people ready for review"),
        "first_response_median": .duration(
            "a median time to a first response of", for: "people's pull requests ready in the window"),
        "pickup_median": .duration("a median pickup time (ready to first review) of", for: "people's merged pull requests"),
        "approval_median": .duration("a median time from ready to approval of", for: "people's merged pull requests"),
        "merged_without_review": .count(
            one: "pull request by people merged without review", many: "pull requests by people merged without review"),
        "pull_requests_awaiting_review": .count(
            one: "pull request by people waiting for a first review", many: "pull requests by people waiting for a first review"),
        "issue_first_response_median": .duration(
            "a median time to a first response of", for: "issues opened by people in the window"),
        "issues_awaiting_response": .count(
            one: "issue opened by people in the window still without a response",
            many: "issues opened by people in the window still without a response"),
    ]

    private(set) var facts: [Fact] = []
    private var byKey: [String: Int] = [:]

    /// Adds a count; returns its placeholder.
    @discardableResult
    mutating func count(_ key: String, _ value: Int, of part: String? = nil) -> String {
        add(key, .count(value), of: part)
    }

    /// Adds a duration in seconds; returns its placeholder.
    @discardableResult
    mutating func seconds(_ key: String, _ value: Double, of part: String? = nil) -> String {
        add(key, .seconds(value), of: part)
    }

    /// Adds a fact with its previous window's value: `KEY`, `KEY:previous` ("14 merged pull
    /// requests in the previous window") and `KEY:change` ("up 6 from 14 merged pull requests
    /// in the previous window"). The change names its fact, so it cannot be read as another's.
    mutating func compare(_ key: String, now: Fact.Value, before: Fact.Value?, of part: String? = nil) {
        add(key, now, of: part)
        guard let before else { return }
        let previous = Self.phrase(key, before, of: part) + " in the previous window"
        add(key + ":previous", before, phrase: previous)
        let difference: Fact.Value
        let size: String
        switch (now, before) {
        case (.count(let a), .count(let b)):
            difference = .count(a - b)
            size = String(abs(a - b))
        case (.seconds(let a), .seconds(let b)):
            difference = .seconds(a - b)
            size = Fact.days(abs(a - b)) + " days"
        default: return
        }
        let direction = difference.sign
        let words = direction == 0 ? "unchanged from \(previous)" : "\(direction > 0 ? "up" : "down") \(size) from \(previous)"
        add(key + ":change", difference, phrase: words)
    }

    /// A fact's words: its value and what it counts.
    static func phrase(_ base: String, _ value: Fact.Value, of part: String?) -> String {
        var phrase: String
        switch (Self.wordings[base], value) {
        case (.count(let one, let many)?, .count(let count)): phrase = "\(count) \(count == 1 ? one : many)"
        case (.duration(let lead, let population)?, .seconds(let seconds)):
            phrase = "\(lead) \(Fact.days(seconds)) days" + (population.map { " for " + $0 } ?? "")
        default:
            // A key without wording (a test keeps every key a brief uses in `wordings`): the
            // value still travels with its key.
            phrase = "\(Fact(key: base, value: value, phrase: "").number) (\(base))"
        }
        // An item (`#12`) leads its phrase; a repository or project ends it.
        if let part { phrase = part.hasPrefix("#") ? "\(part) \(phrase)" : phrase + " in \(part)" }
        return phrase
    }

    @discardableResult
    private mutating func add(_ base: String, _ value: Fact.Value, of part: String?) -> String {
        add(part.map { "\($0).\(base)" } ?? base, value, phrase: Self.phrase(base, value, of: part))
    }

    @discardableResult
    private mutating func add(_ key: String, _ value: Fact.Value, phrase: String) -> String {
        let fact = Fact(key: key, value: value, phrase: phrase)
        if let index = byKey[key] {
            facts[index] = fact
        } else {
            byKey[key] = facts.count
            facts.append(fact)
        }
        return "{\(key)}"
    }

    /// The facts of one population's metrics, each compared with the previous window when
    /// there is one (a duration only when both windows have it).
    mutating func population(_ now: PopulationMetrics, before: PopulationMetrics?, of part: String? = nil) {
        for (key, path) in [
            ("pull_requests_merged", \PopulationMetrics.pullRequestsMerged),
            ("pull_requests_closed_unmerged", \.pullRequestsClosedUnmerged), ("issues_resolved", \.issuesResolved),
        ] {
            compare(key, now: .count(now[keyPath: path]), before: before.map { .count($0[keyPath: path]) }, of: part)
        }
        count("issues_resolved_completed", now.issuesResolvedByReason["completed"] ?? 0, of: part)
        count("issues_resolved_not_planned", now.issuesResolvedByReason["not_planned"] ?? 0, of: part)
        compare(
            "issues_outstanding", now: .count(now.issuesOutstanding), before: before.map { .count($0.issuesOutstanding) },
            of: part)
        for (prefix, path) in [
            ("open_to_merge", \PopulationMetrics.openToMergeSeconds), ("outstanding_age", \.outstandingIssueAgeSeconds),
        ] {
            let summary = now[keyPath: path]
            guard let median = summary.median, let p90 = summary.p90 else { continue }
            let earlier = before?[keyPath: path]
            compare(prefix + "_median", now: .seconds(median), before: earlier?.median.map { .seconds($0) }, of: part)
            compare(prefix + "_p90", now: .seconds(p90), before: earlier?.p90.map { .seconds($0) }, of: part)
        }
        reviewFlow(now.reviewFlow, before: before?.reviewFlow, of: part)
    }

    /// Review flow's facts (people's), each compared with the previous window when it has them.
    mutating func reviewFlow(_ now: ReviewFlow?, before: ReviewFlow?, of part: String? = nil) {
        guard let now else { return }
        compare(
            "pull_requests_ready", now: .count(now.pullRequestsReady), before: before.map { .count($0.pullRequestsReady) },
            of: part)
        for (key, path) in [
            ("first_response_median", \ReviewFlow.pullRequestFirstResponseSeconds), ("pickup_median", \.pickupSeconds),
            ("approval_median", \.approvalSeconds), ("issue_first_response_median", \.issueFirstResponseSeconds),
        ] {
            guard let median = now[keyPath: path].median else { continue }
            compare(key, now: .seconds(median), before: before?[keyPath: path].median.map { .seconds($0) }, of: part)
        }
        compare(
            "merged_without_review", now: .count(now.mergedWithoutReview),
            before: before.map { .count($0.mergedWithoutReview) }, of: part)
        count("pull_requests_awaiting_review", now.awaitingReviewSeconds.count, of: part)
        count("issues_awaiting_response", now.issuesAwaitingFirstResponse, of: part)
    }

    subscript(key: String) -> Fact? { byKey[key].map { facts[$0] } }

    /// The brief's lines: each placeholder with what it fills in.
    var lines: [String] { facts.map { "{\($0.key)} = \($0.phrase)" } }

    /// One line of a report's comparison table: a metric this window and the previous one.
    struct Comparison: Equatable {
        let metric: String
        let now: String
        let previous: String
        /// `↑ 7`, `↓ 1.0 days` or `=`.
        let change: String
    }

    /// The subject's own metrics that have a previous window, as a report's table shows them.
    var comparisons: [Comparison] {
        facts.compactMap { previous -> Comparison? in
            guard previous.key.hasSuffix(":previous"), !previous.key.contains(".") else { return nil }
            let base = String(previous.key.dropLast(":previous".count))
            guard let now = self[base], let change = self[base + ":change"] else { return nil }
            let metric: String
            let unit: String
            switch Self.wordings[base] {
            case .count(_, let many)?:
                metric = many.prefix(1).uppercased() + many.dropFirst()
                unit = ""
            case .duration(let lead, let population)?:
                let words =
                    lead.replacingOccurrences(of: "a ", with: "", options: .anchored)
                    .replacingOccurrences(of: " of", with: "", options: [.anchored, .backwards])
                    + (population.map { ", " + $0 } ?? "")
                metric = words.prefix(1).uppercased() + words.dropFirst()
                unit = " days"
            case nil: return nil
            }
            let size = change.number.hasPrefix("-") ? String(change.number.dropFirst()) : change.number
            let arrow = change.value.sign == 0 ? "=" : "\(change.value.sign > 0 ? "↑" : "↓") \(size)\(unit)"
            return Comparison(metric: metric, now: now.number + unit, previous: previous.number + unit, change: arrow)
        }
    }

    private static let placeholder = try? NSRegularExpression(pattern: #"\{(#?[A-Za-z0-9_./:\-]+)\}"#)

    /// The keys a text writes, in order, with their ranges.
    static func placeholders(in text: String) -> [(key: String, range: Range<String.Index>)] {
        guard let placeholder else { return [] }
        return placeholder.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            guard let whole = Range(match.range, in: text), let key = Range(match.range(at: 1), in: text) else { return nil }
            return (String(text[key]), whole)
        }
    }

    /// The text with every known placeholder replaced by its phrase (unknown ones are left for
    /// the verifier to reject).
    func fill(_ text: String) -> String {
        var filled = text
        for (key, range) in Self.placeholders(in: text).reversed() {
            if let fact = self[key] { filled.replaceSubrange(range, with: fact.phrase) }
        }
        return filled
    }

    /// The facts a text uses, in order of first use.
    func used(in texts: [String]) -> [Fact] {
        var seen: Set<String> = []
        return texts.flatMap { Self.placeholders(in: $0) }.compactMap { key, _ in
            seen.insert(key).inserted ? self[key] : nil
        }
    }
}
