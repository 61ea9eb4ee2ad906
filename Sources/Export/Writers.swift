import Entities
import Evidence
import Foundation
import JSON
import Manifest
import Pipeline
import Store

extension ExportStage {
    /// Streams one dataset into `file`; returns the number of records.
    static func write(
        _ dataset: Dataset, format: ExportFormat, to file: OutputFile, from snapshot: borrowing Snapshot,
        context: UnitContext
    ) throws -> Int {
        let start = Timestamp.string(context.window.start)
        let end = Timestamp.string(context.window.end)
        let repositories = context.manifest.estate.repositories.map(\.slug)
        /// A whole dataset file: the header or bracket, the records `body` writes, the end.
        func records(_ columns: [Column], _ body: (RecordWriter) throws -> Void) throws -> Int {
            let writer = RecordWriter(
                format: format, columns: columns, schemaVersion: EntityTable.schemaVersion, out: file,
                formulaGuard: context.manifest.export?.csvFormulaGuard ?? false)
            writer.begin()
            try body(writer)
            writer.end()
            return writer.records
        }
        /// The columns every evidence-based record starts with.
        func lead(_ writer: RecordWriter, scope: String, repository: String?) {
            writer.beginRecord()
            writer.text(scope)
            writer.text(repository)
            writer.text(start)
            writer.text(end)
        }
        if let table = EntityTable.all[dataset] {
            return try records(table.columns) { writer in
                try snapshot.forEachRow(
                    table.query(
                        engine: snapshot.engine, repositories: repositories, start: start,
                        end: end)
                ) { cursor in
                    try writer.record(from: cursor)
                    if writer.records % 10_000 == 0 { context.progress("\(writer.records) rows") }
                }
            }
        }
        switch dataset {
        case .evidence:
            return try records(EvidenceColumns.evidence) { writer in
                try forEachEvidence(snapshot, context: context) { scope, repository, row in
                    lead(writer, scope: scope, repository: repository)
                    writer.text(try row.string("digest"))
                    writer.json(try row.string("bundle"))
                    try writer.endRecord()
                }
            }
        case .metrics:
            return try records(EvidenceColumns.metrics) { writer in
                try forEachEvidence(snapshot, context: context) { scope, repository, row in
                    let metrics = try EvidenceRecords.decode(
                        RepositoryMetrics.self, try row.string("metrics"), key: repository ?? "the estate")
                    for (population, values, bots) in [("humans", metrics.humans, false), ("bots", metrics.bots, true)] {
                        lead(writer, scope: scope, repository: repository)
                        writer.text(population)
                        metricFields(values, metrics: metrics, bots: bots, writer: writer)
                        try writer.endRecord()
                    }
                }
            }
        case .pull_request_flow:
            return try records(EvidenceColumns.pullRequestFlow) { writer in
                for repository in repositories {
                    for row in try snapshot.query(
                        """
                        SELECT pull_request_flow FROM evidence
                        WHERE repository = \(repository) AND window_start = \(start) AND window_end = \(end)
                        """)
                    {
                        let rows = try EvidenceRecords.decode(
                            [ReviewFlow.Row].self, try row.optionalString("pull_request_flow") ?? "[]", key: repository)
                        for flow in rows {
                            writer.beginRecord()
                            writer.text(repository)
                            writer.text(start)
                            writer.text(end)
                            writer.int(Int64(flow.number))
                            writer.text(flow.author)
                            writer.text(flow.createdAt)
                            writer.text(flow.readyAt)
                            writer.text(flow.firstResponseAt)
                            writer.text(flow.firstReviewAt)
                            writer.text(flow.firstApprovalAt)
                            writer.text(flow.mergedAt)
                            writer.bool(flow.reviewed)
                            if let rounds = flow.rounds { writer.int(Int64(rounds)) } else { writer.null() }
                            writer.double(flow.draftSeconds)
                            if let lines = flow.changedLines { writer.int(Int64(lines)) } else { writer.null() }
                            writer.text(flow.size)
                            try writer.endRecord()
                        }
                    }
                }
            }
        case .repositories:
            return try records(EvidenceColumns.repositories) { writer in
                try writeRepositories(repositories, from: snapshot, manifest: context.manifest, end: end, writer: writer)
            }
        case .reports:
            let writer = RecordWriter(
                format: format, columns: EvidenceColumns.reports, schemaVersion: EvidenceColumns.reportsSchemaVersion,
                out: file, formulaGuard: context.manifest.export?.csvFormulaGuard ?? false)
            writer.begin()
            for row in try reportRows(snapshot, context: context) {
                try writeReport(row, writer: writer)
                try writer.endRecord()
            }
            writer.end()
            return writer.records
        case .report_accounting:
            return try records(EvidenceColumns.reportAccounting) { writer in
                for row in try reportRows(snapshot, context: context) {
                    try writeReport(row, columns: EvidenceColumns.reportAccounting, writer: writer)
                    try writer.endRecord()
                }
            }
        case .bundle:
            return try writeBundle(
                to: file, from: snapshot, context: context, repositories: repositories,
                start: start, end: end)
        default:
            throw ExportError(
                "the `\(dataset.rawValue)` dataset cannot be exported by this build",
                hint: "remove it from `export.datasets`")
        }
    }

    /// One record per repository of the manifest, in its order: what GitHub reported of it
    /// (the `repositories` entity) and what ingest collected of it (its coverage).
    static func writeRepositories(
        _ slugs: [String], from snapshot: borrowing Snapshot, manifest: Manifest, end: String,
        writer: RecordWriter
    ) throws {
        let configured = Dictionary(
            manifest.estate.repositories.map { ($0.slug, $0.defaultBranch) },
            uniquingKeysWith: { first, _ in first })
        for slug in slugs {
            let facts = try RepositoryFacts.decode(
                snapshot.query(RepositoryFacts.select(where: "repository = \(slug)"))
            ).first
            let coverage = try snapshot.query(
                """
                SELECT stream, covered_to, tip_oid FROM ingest_coverage WHERE repository = \(slug) ORDER BY stream
                """)
            let github = facts?.githubDefaultBranch
            let used = configured[slug].flatMap { $0 } ?? github
            writer.beginRecord()
            writer.text(slug)
            writer.text(used)
            writer.text(github)
            writer.bool(configured[slug].flatMap { $0 }.map { github != nil && $0 != github } ?? false)
            writer.bool(facts?.isArchived)
            writer.bool(facts?.isEmpty)
            writer.bool(facts?.isFork)
            writer.text(facts?.visibility)
            writer.text(facts?.pushedAt.map(Timestamp.string))
            let streams = try coverage.map { try $0.string("stream") }
            writer.json(JSONValue.array(streams.map(JSONValue.string)).canonical)
            // Up to when every stream is collected, as far as the window goes (later is beyond it).
            writer.text(try coverage.map { try $0.string("covered_to") }.min().map { min($0, end) })
            writer.text(try coverage.first { try $0.optionalString("stream") == "commits" }?.optionalString("tip_oid"))
            try writer.endRecord()
        }
    }

    /// This manifest's reports of the window: repositories, then projects, then the estate.
    static func reportRows(_ snapshot: borrowing Snapshot, context: UnitContext) throws -> [Row] {
        let start = Timestamp.string(context.window.start)
        let end = Timestamp.string(context.window.end)
        let subjects: [(String, String)] =
            context.manifest.estate.repositories.map { ("repository", $0.slug) }
            + (context.manifest.estate.catalogue?.projects ?? []).map { ("project", $0.key) }
            + [("estate", context.manifest.estate.key)]
        var rows: [Row] = []
        for (scope, subject) in subjects {
            rows += try snapshot.query(
                """
                SELECT * FROM reports
                WHERE scope = \(scope) AND subject = \(subject) AND window_start = \(start) AND window_end = \(end)
                """)
        }
        return rows
    }

    static func writeReport(_ row: Row, columns: [Column] = EvidenceColumns.reports, writer: RecordWriter) throws {
        writer.beginRecord()
        for column in columns {
            switch column.kind {
            case .int: writer.int(try row.int(column.name))
            case .double:
                switch try row.value(column.name) {
                case .real(let value): writer.double(value)
                case .null: writer.double(nil)
                default: writer.double(Double(try row.int(column.name)))
                }
            case .json: writer.json(try row.optionalString(column.name) ?? "null")
            default: writer.text(try row.optionalString(column.name))
            }
        }
    }

    /// Calls `body` with each repository's evidence row for the window, then the estate's.
    static func forEachEvidence(
        _ snapshot: borrowing Snapshot, context: UnitContext,
        _ body: (_ scope: String, _ repository: String?, Row) throws -> Void
    ) throws {
        let start = Timestamp.string(context.window.start)
        let end = Timestamp.string(context.window.end)
        let keys =
            context.manifest.estate.repositories.map { ("repository", Optional($0.slug), $0.slug) }
            + [("estate", nil, "estate:" + context.manifest.estate.key)]
        for (scope, repository, key) in keys {
            for row in try snapshot.query(
                """
                SELECT digest, bundle, metrics FROM evidence
                WHERE repository = \(key) AND window_start = \(start) AND window_end = \(end)
                """)
            {
                try body(scope, repository, row)
            }
        }
    }

    static func metricFields(_ values: PopulationMetrics, metrics: RepositoryMetrics, bots: Bool, writer: RecordWriter) {
        func summary(_ summary: Summary) {
            writer.int(Int64(summary.count))
            writer.double(summary.mean)
            writer.double(summary.median)
            writer.double(summary.p90)
        }
        writer.int(Int64(values.pullRequestsMerged))
        writer.int(Int64(values.pullRequestsClosedUnmerged))
        summary(values.openToMergeSeconds)
        summary(values.commitsPerMergedPullRequest)
        for category in EvidenceColumns.categories {
            writer.int(Int64(values.changedLinesByCategory[category] ?? 0))
        }
        writer.json(
            JSONValue.array(
                values.changedLinesPartial.map { partial in
                    [
                        "number": .int(Int64(partial.number)), "files_changed": .int(Int64(partial.filesChanged)),
                        "files_listed": .int(Int64(partial.filesListed)), "additions": .int(Int64(partial.additions)),
                        "deletions": .int(Int64(partial.deletions)),
                    ]
                }
            ).canonical)
        writer.int(Int64(values.issuesResolved))
        for reason in ["completed", "not_planned", "other"] {
            writer.int(Int64(values.issuesResolvedByReason[reason] ?? 0))
        }
        writer.int(Int64(values.issuesOutstanding))
        summary(values.resolvedIssueOpenSeconds)
        summary(values.outstandingIssueAgeSeconds)
        writer.int(Int64(metrics.noisePullRequests))
        writer.int(Int64(metrics.noiseIssues))
        writer.int(Int64(metrics.goneIssues))
        let commenters: [JSONValue] = metrics.commenters.filter { $0.isBot == bots }.map { commenter in
            [
                "login": .string(commenter.login), "issue_comments": .int(Int64(commenter.issueComments)),
                "pull_request_comments": .int(Int64(commenter.pullRequestComments)),
                "review_comments": .int(Int64(commenter.reviewComments)),
                "reviews": .int(Int64(commenter.reviews)),
            ]
        }
        writer.json(JSONValue.array(commenters).canonical)
        for column in EvidenceColumns.reviewFlow {
            switch values.reviewFlow.map(column.value) ?? .null {
            case .int(let number): writer.int(number)
            case .double(let number): writer.double(number)
            case .null: column.kind == .json ? writer.json("null") : writer.null()
            case let json: writer.json(json.canonical)
            }
        }
        let previous = metrics.previous.map { bots ? $0.bots : $0.humans }
        writer.text(metrics.previous?.start)
        writer.text(metrics.previous?.end)
        func value(_ number: Double?, _ kind: ColumnKind) {
            guard kind == .int else { return writer.double(number) }
            if let number { writer.int(Int64(number)) } else { writer.null() }
        }
        for column in EvidenceColumns.compared { value(previous.flatMap(column.value), column.kind) }
        for column in EvidenceColumns.compared {
            value(column.value(values).flatMap { current in previous.flatMap(column.value).map { current - $0 } }, column.kind)
        }
    }

    /// `bundle.json`: per repository its window's events (every entity dataset), its evidence
    /// bundle and metrics; then the estate's evidence. One JSON document, streamed.
    static func writeBundle(
        to file: OutputFile, from snapshot: borrowing Snapshot, context: UnitContext,
        repositories: [String], start: String, end: String
    ) throws -> Int {
        let estate = context.manifest.estate.key
        file.append("{\"schema_version\":\(EntityTable.schemaVersion),\"estate\":\(JSONValue.string(estate).canonical),")
        file.append("\"window\":{\"start\":\"\(start)\",\"end\":\"\(end)\"},\"repositories\":[")
        var evidence: [String: (digest: String, bundle: String)] = [:]
        var estateEvidence: String?
        try forEachEvidence(snapshot, context: context) { _, repository, row in
            if let repository {
                evidence[repository] = (try row.string("digest"), try row.string("bundle"))
            } else {
                estateEvidence = try row.string("bundle")
            }
        }
        let reports = try reportRows(snapshot, context: context)
        var records = 0
        let datasets = Dataset.allCases.filter(\.isEntity)
        for (index, repository) in repositories.enumerated() {
            file.append(index == 0 ? "\n{" : ",\n{")
            file.append("\"repository\":\(JSONValue.string(repository).canonical),\"events\":{")
            for (position, dataset) in datasets.enumerated() {
                guard let table = EntityTable.all[dataset] else { continue }
                file.append(position == 0 ? "\"\(dataset.rawValue)\":[" : "],\"\(dataset.rawValue)\":[")
                let writer = RecordWriter(
                    layout: .embedded, columns: table.columns,
                    schemaVersion: EntityTable.schemaVersion, out: file)
                try snapshot.forEachRow(
                    table.query(
                        engine: snapshot.engine, repository: repository,
                        start: start, end: end)
                ) { cursor in
                    try writer.record(from: cursor)
                }
                records += writer.records
            }
            file.append("]},\"evidence\":")
            file.append(evidence[repository]?.bundle ?? "null")
            file.append(",\"reports\":[")
            let reportWriter = RecordWriter(
                layout: .embedded, columns: EvidenceColumns.reports,
                schemaVersion: EvidenceColumns.reportsSchemaVersion, out: file)
            for row in reports
            where try row.optionalString("scope") == "repository" && row.optionalString("subject") == repository {
                try writeReport(row, writer: reportWriter)
                try reportWriter.endRecord()
            }
            file.append("]}")
            try file.flushIfFull()
        }
        file.append("\n],\"estate_evidence\":")
        file.append(estateEvidence ?? "null")
        file.append(",\"reports\":[")
        let reportWriter = RecordWriter(
            layout: .embedded, columns: EvidenceColumns.reports,
            schemaVersion: EvidenceColumns.reportsSchemaVersion, out: file)
        for row in reports where try row.optionalString("scope") != "repository" {
            try writeReport(row, writer: reportWriter)
            try reportWriter.endRecord()
        }
        file.append("]}\n")
        return records
    }

    /// The text of `export-manifest.json`: every file of this export with its row count,
    /// size and hash, the run and the window.
    static func manifestDocument(root: URL, context: UnitContext) throws -> String {
        var files: [JSONValue] = []
        for dependency in context.unit.dependencies.sorted(by: { fileName($0.key) < fileName($1.key) }) {
            guard let sha256 = context.upstream[dependency] else { continue }
            let path = root.appendingPathComponent(fileName(dependency.key)).path
            let rows = try context.database.query(
                """
                SELECT dataset, format, rows, bytes, schema_version, run_id FROM export_files
                WHERE name = \(context.manifest.name) AND path = \(path) AND sha256 = \(sha256)
                """)
            guard let row = rows.first else {
                throw ExportError(
                    "`\(path)` has no export record",
                    hint: "rerun with `--rerun export` to write the export again")
            }
            files.append([
                "path": .string(fileName(dependency.key)), "dataset": .string(try row.string("dataset")),
                "format": .string(try row.string("format")), "rows": .int(try row.int("rows")),
                "bytes": .int(try row.int("bytes")), "sha256": .string(sha256),
                "schema_version": .int(try row.int("schema_version")), "run_id": .int(try row.int("run_id")),
            ])
        }
        let document: JSONValue = [
            "schema_version": 1, "name": .string(context.manifest.name),
            "estate": .string(context.manifest.estate.key), "run_id": .int(context.runID),
            "window": [
                "start": .string(Timestamp.string(context.window.start)),
                "end": .string(Timestamp.string(context.window.end)),
            ],
            "files": .array(files),
        ]
        return document.pretty
    }
}
