import Evidence

/// The offline backend: a deterministic report from the brief's facts, no model involved.
///
/// Rules (docs/reports.md, "The heuristic backend"): no activity in the window → unknown; an
/// open item labelled `blocked` → blocked; at risk when more bug than feature work, when no
/// issue was resolved while the oldest tenth of the outstanding ones are over 90 days old, when
/// the outstanding issues grew while that old, when the median open-to-merge time at least
/// doubled (and by a day or more), or when a risk of an at-risk or blocked previous report is
/// still present; otherwise on track. Highlights are people's merged work by kind, naming the
/// pull requests; bot work is one sentence of the summary, never a highlight; risks and next
/// steps name the items. Like a model, it writes numbers as the brief's fact keys, and its
/// answer goes through the same verification and filling in.
enum Heuristic {
    static func write(_ brief: Brief) -> ReportContent {
        brief.scope == .repository ? repository(brief) : rollUp(brief)
    }

    /// Older than this, the oldest tenth of the outstanding issues make a backlog that ages.
    static let ageingDays = 90
    /// Open longer than this (two fortnights), a pull request is named as waiting.
    static let waitingDays = 30.0

    static func repository(_ brief: Brief) -> ReportContent {
        let facts = brief.facts
        let sheet = brief.sheet
        func change(_ key: String) -> Int? { sheet[key + ":change"]?.value.sign }
        func seconds(_ key: String) -> Double? {
            if case .seconds(let value)? = sheet[key]?.value { return value }
            return nil
        }
        let ageing = (facts.outstandingP90Days ?? 0) > ageingDays && facts.outstanding > 0

        // Why the work is at risk, each a risk the report states.
        var concerns: [String] = []
        if facts.bugItems > facts.featureItems && facts.bugItems > 0 {
            concerns.append("More bug work than feature work in the window")
        }
        if ageing && facts.resolved == 0 {
            concerns.append("No issue was resolved while the backlog ages, with {outstanding_age_p90}")
        } else if ageing && change("issues_outstanding") == 1 {
            concerns.append("The backlog grows and ages: {issues_outstanding:change}, with {outstanding_age_p90}")
        }
        if let now = seconds("open_to_merge_median"), let before = seconds("open_to_merge_median:previous"),
            now >= 2 * before, now - before >= 86_400
        {
            concerns.append("Pull requests take at least twice as long to merge: {open_to_merge_median:change}")
        }
        let ongoingConcern =
            [Status.atRisk, .blocked].contains(facts.previousStatus ?? .unknown)
            && facts.previousRisks.contains { risk in
                !risk.hasPrefix(PreviousReport.resolved) && !PreviousReport.plain(risk).hasSuffix("is labelled blocked")
                    && concerns.contains { PreviousReport.gist(sheet.fill($0)) == PreviousReport.gist(risk) }
            }

        let status: Status
        if facts.activity == 0 {
            status = .unknown
        } else if !facts.blocked.isEmpty {
            status = .blocked
        } else if !concerns.isEmpty || ongoingConcern {
            status = .atRisk
        } else {
            status = .onTrack
        }

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
            highlights.append("\(label): " + group.items.prefix(3).map { "#\($0.number) \($0.title)" }.joined(separator: "; "))
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

        var next: [String] = []
        if status == .unknown { next.append("Check whether \(brief.subject) is still maintained") }
        if !facts.blocked.isEmpty { next.append("Unblock " + facts.blocked.prefix(3).map { "#\($0)" }.joined(separator: ", ")) }
        if !waiting.isEmpty {
            next.append(
                "Review or close the longest-open pull requests: " + waiting.map { "#\($0.number)" }.joined(separator: ", "))
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
        let now = risks.map { PreviousReport.gist(brief.sheet.fill($0)) }
        var marked = zip(risks, now).map { risk, gist in before.contains(gist) ? PreviousReport.ongoing + risk : risk }
        for risk in earlier where !now.contains(PreviousReport.gist(risk)) {
            marked.append(PreviousReport.resolved + PreviousReport.plain(risk))
        }
        return Array(marked.prefix(ReportContent.maxItems))
    }

    static func rollUp(_ brief: Brief) -> ReportContent {
        let facts = brief.facts
        let known = facts.children.filter { $0.status != .unknown }
        var status = known.map(\.status).max() ?? .unknown
        if status == .onTrack && !facts.blockedComponents.isEmpty { status = .atRisk }
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
