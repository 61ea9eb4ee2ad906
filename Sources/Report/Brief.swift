import Evidence
import Foundation
import JSON
import Mustache

/// What a report is written from: the facts of one subject, rendered as the prompt's text.
///
/// The model sees exactly ``text``; verification allows exactly the numbers, `#N` references
/// and repositories that are in it, so "every number comes from the evidence" is checkable.
struct Brief: Sendable {
    enum Scope: String, Sendable { case repository, project, estate }

    let scope: Scope
    /// Repository slug, project key or estate key.
    let subject: String
    /// How reports and roll-ups name the subject: the slug, `Name (key)`, or `Estate KEY`.
    let name: String
    let title: String
    let windowStart: String
    let windowEnd: String
    private(set) var sections: [(heading: String, lines: [String])] = []
    /// Values the text states in other units (seconds behind days) that an answer may convert.
    private(set) var durations: [Double] = []
    /// Counts an answer may turn into percentages of one another.
    private(set) var counts: [Double] = []
    private(set) var references: Set<Int> = []
    /// Repositories this report may name; other repositories of the estate it must not.
    var repositories: Set<String> = []
    var estateRepositories: Set<String> = []
    /// Facts the heuristic backend writes from.
    var facts = Facts()
    /// The template that turns the brief into text (the built-in one unless the manifest names one).
    var template: MustacheTemplate? = Templates.defaultBrief

    init(scope: Scope, subject: String, name: String, title: String, windowStart: String, windowEnd: String) {
        self.scope = scope
        self.subject = subject
        self.name = name
        self.title = title
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }

    mutating func section(_ heading: String, _ lines: [String]) {
        guard !lines.isEmpty else { return }
        sections.append((heading, lines))
    }

    mutating func count(_ value: Int) -> String {
        counts.append(Double(value))
        return String(value)
    }

    /// A duration in days with one decimal; the seconds behind it stay convertible.
    mutating func days(_ seconds: Double) -> String {
        durations.append(seconds)
        return String(format: "%.1f days", seconds / 86_400)
    }

    mutating func reference(_ number: Int) -> String {
        references.insert(number)
        return "#\(number)"
    }

    /// The brief as the model reads it: the template rendered with the title, the window and
    /// the sections (`heading`, `lines`).
    var text: String {
        let context: [String: Any] = [
            "title": title, "window_start": windowStart, "window_end": windowEnd, "scope": scope.rawValue,
            "subject": subject,
            "sections": sections.map { section -> [String: Any] in ["heading": section.heading, "lines": section.lines] },
        ]
        return template?.render(context) ?? ""
    }

    /// Numbers the text states, and conversions of its durations (hours, days, weeks).
    var allowedNumbers: [Double] {
        var values = NumberClaims.find(in: text).map(\.value)
        for seconds in durations { values += [seconds / 3_600, seconds / 86_400, seconds / 604_800] }
        return values
    }
}

/// The facts a heuristic report is written from.
struct Facts: Sendable {
    var merged = 0
    var closedUnmerged = 0
    var resolved = 0
    var outstanding = 0
    var outstandingP90Days: Int?
    var openPullRequests = 0
    var activity = 0
    var bugItems = 0
    var featureItems = 0
    var blocked: [Int] = []
    var mergedTitles: [(Int, String)] = []
    var roadmapChanged = false
    var adrs = 0
    var previousRisks: [String] = []
    var children: [(name: String, status: Status)] = []
    var blockedComponents: [String] = []
    var plannedComponents: [String] = []
}

/// Numbers stated in text, as verification reads them.
///
/// Dates and times, `#N` references, repository slugs and numbers glued to letters (`p90`,
/// `v2`, `repo-002`) are not claims; a number followed by `%` is a percentage.
enum NumberClaims {
    struct Claim: Equatable {
        let text: String
        let value: Double
        let decimals: Int
        let percent: Bool
    }

    private static let noise = [
        #"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?"#, #"#\d+"#, #"\b\d{1,2}:\d{2}\b"#,
    ].compactMap { try? NSRegularExpression(pattern: $0) }
    private static let number = try? NSRegularExpression(pattern: #"(?<![\w.\-/])(\d+(?:\.\d+)?)(?![\w\-/]|\.\d)(\s?%)?"#)

    /// Numbers glued to `/`, `-` or a word character are not claims, so repository slugs
    /// (`acme/repo-002`) and paths need no special handling.
    static func find(in text: String) -> [Claim] {
        var cleaned = text
        for pattern in noise {
            cleaned = pattern.stringByReplacingMatches(
                in: cleaned, range: NSRange(cleaned.startIndex..., in: cleaned), withTemplate: " ")
        }
        guard let number else { return [] }
        return number.matches(in: cleaned, range: NSRange(cleaned.startIndex..., in: cleaned)).compactMap { match in
            guard let range = Range(match.range(at: 1), in: cleaned), let value = Double(cleaned[range]) else { return nil }
            let digits = String(cleaned[range])
            let decimals = digits.split(separator: ".").dropFirst().first?.count ?? 0
            return Claim(text: digits, value: value, decimals: decimals, percent: match.range(at: 2).location != NSNotFound)
        }
    }
}

extension Brief {
    /// The brief of one repository, from its evidence bundle (and its earlier reports).
    static func repository(
        bundle: RepositoryBundle, previous: [(window: String, status: String, summary: String, risks: [String])],
        estateRepositories: Set<String>
    ) -> Brief {
        let slug = bundle.repository.slug
        var brief = Brief(
            scope: .repository, subject: slug, name: slug, title: "Repository status report: \(slug)",
            windowStart: bundle.window.start, windowEnd: bundle.window.end)
        brief.repositories = [slug]
        brief.estateRepositories = estateRepositories
        let humans = bundle.metrics.humans
        let bots = bundle.metrics.bots
        var facts = Facts()
        facts.merged = humans.pullRequestsMerged
        facts.closedUnmerged = humans.pullRequestsClosedUnmerged
        facts.resolved = humans.issuesResolved
        facts.outstanding = humans.issuesOutstanding
        var metrics: [String] = []
        metrics.append("Pull requests merged: \(brief.count(facts.merged))")
        metrics.append("Pull requests closed without merging: \(brief.count(facts.closedUnmerged))")
        if let median = humans.openToMergeSeconds.median, let p90 = humans.openToMergeSeconds.p90 {
            metrics.append("Open-to-merge time of merged pull requests: median \(brief.days(median)), p90 \(brief.days(p90))")
        }
        let reasons = humans.issuesResolvedByReason
        metrics.append(
            "Issues resolved: \(brief.count(facts.resolved)) (completed \(brief.count(reasons["completed"] ?? 0)), "
                + "not planned \(brief.count(reasons["not_planned"] ?? 0)))")
        var outstanding = "Issues outstanding at the window's end: \(brief.count(facts.outstanding))"
        if let median = humans.outstandingIssueAgeSeconds.median, let p90 = humans.outstandingIssueAgeSeconds.p90 {
            outstanding += "; age median \(brief.days(median)), p90 \(brief.days(p90))"
            facts.outstandingP90Days = Int(p90 / 86_400)
        }
        metrics.append(outstanding)
        let botMerged = bots.pullRequestsMerged, botResolved = bots.issuesResolved
        if botMerged + botResolved > 0 {
            metrics.append(
                "Bots (not counted above): \(brief.count(botMerged)) pull requests merged, "
                    + "\(brief.count(botResolved)) issues resolved")
        }
        let (commits, pulls, issues, docs, cut) = (
            bundle.commits, bundle.pullRequests, bundle.issues, bundle.documentationChanges, bundle.cut
        )
        let open = pulls.filter { $0.state == "open" }
        facts.openPullRequests = open.count
        metrics.append("Default-branch commits in the window: \(brief.count(commits.count + cut.commits))")
        if cut.pullRequests == 0 {
            metrics.append(
                "Open pull requests: \(brief.count(open.count)) (drafts \(brief.count(open.filter(\.isDraft).count)))")
        }
        brief.section("Metrics (people; bots apart)", metrics)

        brief.section(
            "Previous reports",
            previous.prefix(2).map { report in
                "\(report.window): \(report.status) — \(report.summary)"
                    + (report.risks.isEmpty ? "" : " Risks then: " + report.risks.prefix(3).joined(separator: "; "))
            })
        facts.previousRisks = previous.first?.risks ?? []
        brief.section(
            "Work types",
            bundle.workTypes.map { group in
                if group.workType == .bug { facts.bugItems = group.pullRequests + group.issues }
                if group.workType == .feature { facts.featureItems = group.pullRequests + group.issues }
                return "\(group.workType.rawValue): \(brief.count(group.pullRequests)) pull requests, "
                    + "\(brief.count(group.issues)) issues, \(brief.count(group.commits)) commits"
            })
        func line(number: Int, title: String, state: String, labels: [String], noise: String?) -> String {
            var state = state
            if labels.contains(where: { $0.lowercased() == "blocked" }) && state == "open" {
                state += ", labelled blocked"
                facts.blocked.append(number)
            }
            if noise != nil { state += ", noise" }
            return "\(brief.reference(number)) \(String(title.prefix(100))) [\(state)]"
        }
        let shownPulls = pulls.filter { $0.noise == nil }.prefix(15)
        brief.section(
            "Pull requests (most relevant first, \(shownPulls.count) of \(pulls.count + cut.pullRequests))",
            shownPulls.map { line(number: $0.number, title: $0.title, state: $0.state, labels: $0.labels, noise: $0.noise) })
        facts.mergedTitles = shownPulls.filter { $0.state == "merged" }.map { ($0.number, String($0.title.prefix(100))) }
        let shownIssues = issues.filter { $0.noise == nil }.prefix(15)
        brief.section(
            "Issues (most relevant first, \(shownIssues.count) of \(issues.count + cut.issues))",
            shownIssues.map { line(number: $0.number, title: $0.title, state: $0.state, labels: $0.labels, noise: $0.noise) })
        brief.section(
            "Commit headlines (\(min(10, commits.count)) of \(commits.count + cut.commits))",
            commits.prefix(10).map { String($0.headline.prefix(100)) })
        facts.roadmapChanged = docs.contains(where: \.isRoadmap)
        facts.adrs = docs.filter { $0.isADR && $0.change == "added" }.count
        brief.section(
            "Documentation changes",
            docs.prefix(10).map { doc in
                let kind = doc.isRoadmap ? " (roadmap)" : doc.isADR ? " (ADR)" : ""
                return "\(doc.path) \(doc.change)\(kind)"
            })
        facts.activity =
            commits.count + cut.commits + facts.merged + facts.closedUnmerged + facts.resolved + botMerged + botResolved
        brief.facts = facts
        return brief
    }
}

/// A report of a part (repository or project), as a roll-up reads it.
struct ChildReport: Sendable {
    let scope: Brief.Scope
    let subject: String
    let name: String
    let status: Status
    let summary: String
    let risks: [String]
    let references: Set<Int>
}

extension Brief {
    /// The brief of a project: its repositories' reports and the catalogue's component graph.
    static func project(
        key: String, name: String, windowStart: String, windowEnd: String, children: [ChildReport],
        components: [(name: String, lifecycle: String, repository: String?, blockedBy: [String], dependsOn: [String])],
        estateRepositories: Set<String>
    ) -> Brief {
        var brief = Brief(
            scope: .project, subject: key, name: "\(name) (\(key))", title: "Project status report: \(name) (\(key))",
            windowStart: windowStart, windowEnd: windowEnd)
        brief.estateRepositories = estateRepositories
        brief.repositories = Set(children.map(\.subject))
        brief.rollUp(children, heading: "Repository reports")
        var lines: [String] = []
        for component in components {
            var line = "\(component.name): \(component.lifecycle)"
            line += component.repository.map { ", repository \($0)" } ?? ", no repository"
            if !component.blockedBy.isEmpty {
                line += ", blocked by " + component.blockedBy.joined(separator: ", ")
                brief.facts.blockedComponents.append(component.name)
            }
            if !component.dependsOn.isEmpty { line += ", depends on " + component.dependsOn.joined(separator: ", ") }
            if component.repository == nil && component.lifecycle == "planned" {
                brief.facts.plannedComponents.append(component.name)
            }
            lines.append(line)
        }
        brief.section("Components (catalogue)", lines)
        return brief
    }

    /// The brief of the estate: project reports, repositories outside projects, estate metrics.
    static func estate(
        key: String, windowStart: String, windowEnd: String, children: [ChildReport], metrics: RepositoryMetrics,
        estateRepositories: Set<String>
    ) -> Brief {
        var brief = Brief(
            scope: .estate, subject: key, name: "Estate \(key)", title: "Estate status report: \(key)",
            windowStart: windowStart, windowEnd: windowEnd)
        brief.estateRepositories = estateRepositories
        brief.repositories = estateRepositories
        let humans = metrics.humans
        brief.facts.merged = humans.pullRequestsMerged
        brief.facts.closedUnmerged = humans.pullRequestsClosedUnmerged
        brief.facts.resolved = humans.issuesResolved
        brief.facts.outstanding = humans.issuesOutstanding
        var lines = [
            "Repositories: \(brief.count(estateRepositories.count))",
            "Pull requests merged: \(brief.count(brief.facts.merged))",
            "Pull requests closed without merging: \(brief.count(brief.facts.closedUnmerged))",
            "Issues resolved: \(brief.count(brief.facts.resolved))",
            "Issues outstanding at the window's end: \(brief.count(brief.facts.outstanding))",
        ]
        if let median = humans.openToMergeSeconds.median {
            lines.append("Median open-to-merge time: \(brief.days(median))")
        }
        brief.section("Estate metrics (people; bots apart)", lines)
        brief.rollUp(children, heading: "Project and repository reports")
        return brief
    }

    /// Lists child reports and how many are in each status.
    mutating func rollUp(_ children: [ChildReport], heading: String) {
        var byStatus: [Status: Int] = [:]
        for child in children { byStatus[child.status, default: 0] += 1 }
        section(
            "Statuses",
            Status.allCases.compactMap { status in
                byStatus[status].map { "\(status.rawValue): \(count($0))" }
            })
        section(
            heading,
            children.map { child in
                references.formUnion(child.references)
                return "\(child.name) [\(child.scope.rawValue), \(child.status.rawValue)]: \(child.summary)"
                    + (child.risks.isEmpty ? "" : " Risks: " + child.risks.prefix(2).joined(separator: "; "))
            })
        facts.children = children.map { ($0.name, $0.status) }
        facts.activity = children.count
    }
}
