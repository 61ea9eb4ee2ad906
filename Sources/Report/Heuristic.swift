/// The offline backend: a deterministic report from the brief's facts, no model involved.
///
/// Rules (docs/reports.md): no activity in the window → unknown; an open item labelled
/// `blocked` (or, for a roll-up, a blocked part) → blocked; more bug than feature work, or
/// outstanding issues whose p90 age passes 90 days with none resolved, or a part at risk →
/// at risk; otherwise on track. Like a model, it writes numbers as the brief's fact keys, and
/// its answer goes through the same verification and filling in.
enum Heuristic {
    static func write(_ brief: Brief) -> ReportContent {
        brief.scope == .repository ? repository(brief) : rollUp(brief)
    }

    static func repository(_ brief: Brief) -> ReportContent {
        let facts = brief.facts
        let status: Status
        if facts.activity == 0 {
            status = .unknown
        } else if !facts.blocked.isEmpty {
            status = .blocked
        } else if (facts.bugItems > facts.featureItems && facts.bugItems > 0)
            || (facts.resolved == 0 && facts.outstanding > 0 && (facts.outstandingP90Days ?? 0) > 90)
        {
            status = .atRisk
        } else {
            status = .onTrack
        }
        let summary =
            status == .unknown
            ? "\(brief.subject) had no recorded activity in the window."
            : "\(brief.subject) is \(phrase(status)): {pull_requests_merged}, {issues_resolved} and "
                + "{issues_outstanding} at the window's end."
        var highlights = facts.mergedTitles.prefix(3).map { "Merged #\($0.0): \($0.1)" }
        func change(_ key: String) -> Int? { brief.sheet[key + ":change"]?.value.sign }
        if change("pull_requests_merged") == 1 { highlights.append("Merged pull requests are {pull_requests_merged:change}") }
        if facts.roadmapChanged { highlights.append("The roadmap was updated") }
        if facts.adrs > 0 { highlights.append("New architecture decision records") }
        var risks = facts.blocked.prefix(3).map { "#\($0) is labelled blocked" }
        if facts.bugItems > facts.featureItems && facts.bugItems > 0 {
            risks.append("More bug work than feature work in the window")
        }
        if let days = facts.outstandingP90Days, days > 90, facts.outstanding > 0 {
            risks.append("Outstanding issues are ageing, with {outstanding_age_p90}")
        }
        if change("issues_outstanding") == 1 { risks.append("Outstanding issues are {issues_outstanding:change}") }
        if change("open_to_merge_median") == 1 {
            risks.append("Pull requests take longer to merge: {open_to_merge_median:change}")
        }
        var next: [String] = []
        if status == .unknown { next.append("Check whether \(brief.subject) is still maintained") }
        if !facts.blocked.isEmpty { next.append("Unblock " + facts.blocked.prefix(3).map { "#\($0)" }.joined(separator: ", ")) }
        if facts.openPullRequests > 0 { next.append("Review the open pull requests") }
        if facts.outstanding > 0 { next.append("Triage the outstanding issues, oldest first") }
        return ReportContent(
            status: status, summary: summary, highlights: Array(highlights.prefix(5)),
            risks: continuity(risks, brief: brief), nextSteps: Array(next.prefix(5)))
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
        let highlights = facts.children.filter { $0.status == .onTrack }.prefix(5).map { "\($0.name) is on track" }
        var risks = facts.children.filter { $0.status == .blocked || $0.status == .atRisk }.prefix(4)
            .map { "\($0.name) is \(phrase($0.status))" }
        risks += facts.blockedComponents.prefix(5 - risks.count).map { "\($0) is blocked by another component" }
        var next = facts.children.filter { $0.status == .blocked || $0.status == .atRisk }.prefix(3)
            .map { "Follow up on \($0.name)" }
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
