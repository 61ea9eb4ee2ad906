import Evidence
import Foundation
import JSON
import Pipeline
import Store

/// What report units read from the store: evidence bundles, earlier reports, the parts' reports.
struct ReportInputs {
    let database: Database
    let start: String
    let end: String
    let estateRepositories: Set<String>

    /// How many windows the estate page's trends show at most.
    static let trendWindows = 8

    /// The window's evidence, read through the contract the evidence stage writes.
    var evidence: EvidenceRecords { EvidenceRecords(database: database, start: start, end: end) }

    func repositoryBrief(_ slug: String) throws -> Brief {
        guard let bundle = try evidence.bundle(slug) else {
            throw UnitError(code: "missing_evidence", message: "no evidence for \(slug) in this window; rerun `--from evidence`")
        }
        let previous = try self.previous(scope: .repository, subject: slug)
        return Brief.repository(bundle: bundle, previous: previous, estateRepositories: estateRepositories)
    }

    /// Up to two reports of the same scope and subject from earlier windows, newest first.
    func previous(scope: Brief.Scope, subject: String) throws -> [PreviousReport] {
        try database.query(
            """
            SELECT window_start, window_end, status, content FROM reports
            WHERE scope = \(scope.rawValue) AND subject = \(subject) AND window_end <= \(start)
            ORDER BY window_end DESC LIMIT 2
            """
        ).map { row in
            let content = try JSONValue(parsing: try row.string("content"))
            func list(_ key: String) -> [String] { (content[key]?.array ?? []).compactMap(\.string) }
            return PreviousReport(
                window: "\(Render.day(try row.string("window_start"))) to \(Render.day(try row.string("window_end")))",
                status: try row.string("status"), summary: content["summary"]?.string ?? "", highlights: list("highlights"),
                risks: list("risks"), nextSteps: list("next_steps"))
        }
    }

    /// A stored report of this window, as a roll-up reads it.
    func stored(scope: String, subject: String, name: String) throws -> ChildReport? {
        guard
            let row = try database.query(
                """
                SELECT status, content, coverage FROM reports
                WHERE scope = \(scope) AND subject = \(subject) AND window_start = \(start) AND window_end = \(end)
                """
            ).first
        else { return nil }
        let content = try JSONValue(parsing: try row.string("content"))
        let coverage = try JSONValue(parsing: try row.string("coverage"))
        return ChildReport(
            scope: Brief.Scope(rawValue: scope) ?? .repository, subject: subject, name: name,
            status: Status(rawValue: try row.string("status")) ?? .unknown, summary: content["summary"]?.string ?? "",
            risks: (content["risks"]?.array ?? []).compactMap(\.string),
            references: Set((coverage["references"]?.array ?? []).compactMap { $0.int.map(Int.init) }),
            nextSteps: (content["next_steps"]?.array ?? []).compactMap(\.string))
    }

    /// A repository's report of this window, or (without repository reports) the heuristic
    /// reading of its evidence.
    func child(_ slug: String) throws -> ChildReport {
        if let stored = try stored(scope: "repository", subject: slug, name: slug) { return stored }
        let brief = try repositoryBrief(slug)
        let content = Heuristic.write(brief).filled(by: brief)
        return ChildReport(
            scope: .repository, subject: slug, name: slug, status: content.status, summary: content.summary,
            risks: content.risks, references: brief.references, nextSteps: content.nextSteps)
    }

    /// A repository's metrics of this window; evidence must have run for it.
    func metrics(_ slug: String) throws -> RepositoryMetrics {
        guard let metrics = try evidence.metrics(slug) else {
            throw UnitError(code: "missing_evidence", message: "no evidence for \(slug) in this window; rerun `--from evidence`")
        }
        return metrics
    }

    func estateMetrics(_ key: String) throws -> RepositoryMetrics? {
        try evidence.estate(key)?.metrics
    }

    /// One repository's line on the estate page: this window's numbers and its trend, from one
    /// read of the `metrics` column (decoding whole bundles for four numbers would dominate).
    func row(_ slug: String) throws -> Render.Row {
        let trend = try evidence.history(slug, limit: Self.trendWindows).map { window, metrics in
            Render.Point(
                windowEnd: window.end, merged: metrics.humans.pullRequestsMerged,
                medianOpenToMergeDays: metrics.humans.openToMergeSeconds.median.map { $0 / 86_400 },
                outstanding: metrics.humans.issuesOutstanding,
                outstandingP90Days: metrics.humans.outstandingIssueAgeSeconds.p90.map { $0 / 86_400 },
                medianPickupDays: metrics.humans.reviewFlow?.pickupSeconds.median.map { $0 / 86_400 },
                medianFirstResponseDays: metrics.humans.reviewFlow?.pullRequestFirstResponseSeconds.median.map { $0 / 86_400 })
        }
        // The history ends with this window when evidence has run for it.
        let current = trend.last.flatMap { $0.windowEnd == end ? $0 : nil }
        let child = try self.child(slug)
        var row = Render.Row(
            slug: slug, status: child.status, summary: child.summary, merged: current?.merged ?? 0,
            medianOpenToMergeDays: current?.medianOpenToMergeDays, outstanding: current?.outstanding ?? 0,
            outstandingP90Days: current?.outstandingP90Days, medianPickupDays: current?.medianPickupDays,
            medianFirstResponseDays: current?.medianFirstResponseDays)
        row.trend = trend
        return row
    }
}
