import Evidence

/// The offline backend: a deterministic report from the brief's facts, no model involved.
///
/// Its status is the one ``StatusRules`` decide (as for a model's answer). Highlights are
/// people's merged work by kind, naming the pull requests and quoting their titles inside
/// “…” (data, never read as keys); bot work is one sentence of the summary, never a
/// highlight; risks and next steps name the items (docs/reports.md, "The heuristic backend").
/// Like a model, it writes numbers as the brief's fact keys, and its answer goes through the
/// same verification and filling in.
enum Heuristic {
    static func write(_ brief: Brief) -> ReportContent {
        brief.scope == .repository ? repository(brief) : rollUp(brief)
    }

    /// Open longer than this (two fortnights), a pull request is named as waiting.
    static let waitingDays = 30.0
    /// Waiting for a first review longer than this (a working week), a pull request is a risk.
    static let reviewWaitDays = 7.0

    static func repository(_ brief: Brief) -> ReportContent {
        let facts = brief.facts
        let sheet = brief.sheet
        func change(_ key: String) -> Int? { sheet[key + ":change"]?.value.sign }
        let ageing = StatusRules.isAgeing(facts)
        let verdict = StatusRules.repository(brief)
        let concerns = verdict.concerns
        let status = verdict.status

        var summary =
            status == .unknown
            ? "\(brief.subject) had no recorded activity in the window."
            : "\(brief.subject) is \(phrase(status)): {pull_requests_merged}, {issues_resolved} and "
                + "{issues_outstanding} at the window's end."
        if sheet["bot_pull_requests_merged"] != nil, sheet["bot_pull_requests_merged"]?.value != .count(0) {
            summary += " Bots: {bot_pull_requests_merged}."
        }

        // People's merged work by kind, naming the pull requests.
        let kinds: [(WorkType, String)] = [
            (.feature, "Features"), (.bug, "Fixes"), (.refactor, "Refactoring"), (.documentation, "Documentation"),
            (.chore, "Maintenance"), (.unknown, "Other work"),
        ]
        var highlights: [String] = []
        for (type, label) in kinds {
            guard let group = facts.mergedByType.first(where: { $0.type == type }) else { continue }
            highlights.append(
                "\(label): "
                    + group.items.prefix(3).map { "#\($0.number) \(Untrusted.quoted($0.title))" }
                    .joined(separator: "; "))
        }
        if change("pull_requests_merged") == 1 { highlights.append("Merged pull requests are {pull_requests_merged:change}") }
        if facts.adrs > 0 { highlights.append("Architecture decisions recorded: {adrs_added}") }
        if facts.roadmapChanged { highlights.append("The roadmap was updated") }

        var risks = facts.blocked.prefix(3).map { "#\($0) is labelled blocked" } + concerns
        if ageing && !facts.oldestIssues.isEmpty {
            risks.append(
                "Oldest outstanding issues: " + facts.oldestIssues.map { "{#\($0.number).open_age}" }.joined(separator: ", "))
        }
        if !ageing && change("issues_outstanding") == 1 { risks.append("Outstanding issues are {issues_outstanding:change}") }
        if change("open_to_merge_median") == 1 && !concerns.contains(where: { $0.contains("{open_to_merge_median:change}") }) {
            risks.append("Pull requests take longer to merge: {open_to_merge_median:change}")
        }
        let waiting = facts.longestOpenPullRequests.filter { $0.days > waitingDays }
        if !waiting.isEmpty {
            risks.append("Pull requests waiting: " + waiting.map { "{#\($0.number).open_age}" }.joined(separator: ", "))
        }
        // Review flow: a slower start to reviews or responses is named with its change.
        if change("pickup_median") == 1 { risks.append("Reviews start later: {pickup_median:change}") }
        if change("first_response_median") == 1 {
            risks.append("Pull requests wait longer for a first response: {first_response_median:change}")
        }
        if change("issue_first_response_median") == 1 {
            risks.append("Issues wait longer for a first response: {issue_first_response_median:change}")
        }
        let unreviewed = facts.awaitingReview.filter { $0.days > reviewWaitDays }
        if !unreviewed.isEmpty {
            risks.append(
                "Waiting for a first review: " + unreviewed.map { "{#\($0.number).wait}" }.joined(separator: ", "))
        }

        var next: [String] = []
        if status == .unknown { next.append("Check whether \(brief.subject) is still maintained") }
        if !facts.blocked.isEmpty { next.append("Unblock " + facts.blocked.prefix(3).map { "#\($0)" }.joined(separator: ", ")) }
        if !waiting.isEmpty {
            next.append(
                "Review or close the longest-open pull requests: " + waiting.map { "#\($0.number)" }.joined(separator: ", "))
        }
        if !unreviewed.isEmpty {
            next.append("Review the pull requests waiting longest: " + unreviewed.map { "#\($0.number)" }.joined(separator: ", "))
        }
        if !facts.awaitingResponse.isEmpty {
            next.append(
                "Answer the issues waiting longest for a response: "
                    + facts.awaitingResponse.map { "#\($0.number)" }.joined(separator: ", "))
        }
        if !facts.oldestIssues.isEmpty {
            next.append(
                "Triage the oldest outstanding issues: " + facts.oldestIssues.map { "#\($0.number)" }.joined(separator: ", "))
        }
        return ReportContent(
            status: status, summary: summary, highlights: Array(highlights.prefix(ReportContent.maxItems)),
            risks: continuity(risks, brief: brief), nextSteps: Array(next.prefix(ReportContent.maxItems)))
    }

    /// Risks the latest earlier report also had are marked ongoing; its risks that are gone are
    /// said to be resolved, once (a risk reported resolved is not carried again).
    static func continuity(_ risks: [String], brief: Brief) -> [String] {
        let earlier = brief.facts.previousRisks.filter { !$0.hasPrefix(PreviousReport.resolved) }
        let before = Set(earlier.map(PreviousReport.gist))
        let now = risks.map { PreviousReport.gist(brief.fill($0)) }
        var marked = zip(risks, now).map { risk, gist in before.contains(gist) ? PreviousReport.ongoing + risk : risk }
        for risk in earlier where !now.contains(PreviousReport.gist(risk)) {
            marked.append(PreviousReport.resolved + PreviousReport.plain(risk))
        }
        return Array(marked.prefix(ReportContent.maxItems))
    }

    static func rollUp(_ brief: Brief) -> ReportContent {
        let facts = brief.facts
        let status = StatusRules.rollUp(brief).status
        let name = brief.scope == .estate ? "The estate" : brief.name
        let parts = Status.allCases.compactMap { status in
            brief.sheet["parts_" + status.rawValue].map { _ in "{parts_\(status.rawValue)}" }
        }
        let summary =
            facts.children.isEmpty
            ? "\(name) has no reports of its parts for this window."
            : "\(name) is \(phrase(status)): " + parts.joined(separator: ", ") + "."
        var highlights: [String] = []
        if brief.sheet["pull_requests_merged:change"]?.value.sign == 1 {
            highlights.append("Merged pull requests are {pull_requests_merged:change}")
        }
        let healthy = facts.children.filter { $0.status == .onTrack }.map(\.name)
        if !healthy.isEmpty { highlights.append("On track: " + healthy.prefix(8).joined(separator: ", ")) }
        // A part in trouble is named with what is wrong and what to do, in its own report's words.
        let troubled = facts.children.filter { $0.status == .blocked || $0.status == .atRisk }
        var risks = troubled.prefix(4).map { child in
            "\(child.name) is \(phrase(child.status))" + (child.risk.map { ": " + PreviousReport.plain($0) } ?? "")
        }
        risks += facts.blockedComponents.prefix(5 - risks.count).map { "\($0) is blocked by another component" }
        var next = troubled.prefix(3).map { child in child.next.map { "\(child.name): \($0)" } ?? "Follow up on \(child.name)" }
        next += facts.plannedComponents.prefix(5 - next.count).map { "Plan a repository for \($0)" }
        return ReportContent(
            status: status, summary: summary, highlights: Array(highlights),
            risks: continuity(Array(risks.prefix(5)), brief: brief), nextSteps: Array(next.prefix(5)))
    }

    static func phrase(_ status: Status) -> String {
        switch status {
        case .onTrack: return "on track"
        case .atRisk: return "at risk"
        case .blocked: return "blocked"
        case .unknown: return "of unknown status"
        }
    }
}
