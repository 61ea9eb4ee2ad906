import Digest
public import Foundation
import JSON
public import Manifest
import Mustache
public import Pipeline
public import Store
import Synchronization

/// The report stage: repository, project and estate reports, verified before they are stored.
///
/// A unit builds a brief (the evidence, or its parts' reports, as text), asks the backend for
/// a report, and checks the answer against the brief (``Verifier``). A rejected answer is
/// asked again with its problems stated; after `report.model.max_attempts` answers the unit
/// fails with the problems in the ledger (a rerun tries again). Tokens, latency and cost of
/// every attempt are counted, rejected ones too. See `docs/reports.md`.
public struct ReportStage: StageRunner {
    public let stage = Stage.report
    /// The code's version and the built-in templates' hash: a changed template changes what
    /// every report writes, so it reruns them.
    public let version =
        "report-4+"
        + String(
            SHA256.hex(
                Templates.names.map { Templates.defaults[$0] ?? "" }
                    .joined(separator: "\u{0}")
            ).prefix(12))
    let environment: [String: String]
    /// One client per endpoint for the whole run, so what it learns (JSON mode only) is kept.
    let clients = Clients()

    public init(environment: [String: String]) {
        self.environment = environment
    }

    final class Clients: Sendable {
        private let clients = Mutex<[String: ModelClient]>([:])

        func client(_ config: ModelConfig, key: String, database: Database) throws(ModelError) -> ModelClient {
            let id = "\(config.endpoint ?? "")|\(config.model ?? "")"
            if let client = clients.withLock({ $0[id] }) { return client }
            let client = try ModelClient(
                endpoint: config.endpoint ?? ModelConfig.defaultEndpoint, model: config.model ?? "",
                key: key, temperature: config.temperature, maxTokens: config.maxTokens,
                timeout: config.timeoutSeconds, maxInFlight: config.maxInFlight, shared: EndpointSlots(database: database))
            clients.withLock { $0[id] = client }
            return client
        }
    }

    public func preflight(_ manifest: Manifest, environment: [String: String]) throws(ConfigurationProblem) {
        if let report = manifest.report { _ = try Templates(report) }
        guard let model = manifest.report?.model, model.backend == .openai else { return }
        let variable = model.apiKeyEnv ?? ModelConfig.defaultAPIKeyEnv
        if (environment[variable] ?? "").isEmpty {
            throw ConfigurationProblem(
                "the model API key variable `\(variable)` is not set",
                hint: "export \(variable)=<an API key for \(model.endpoint ?? ModelConfig.defaultEndpoint)> "
                    + "(or name another variable in `report.model.api_key_env`)")
        }
    }

    /// What a report reads beyond its upstream's outputs: its subject's reports of the two
    /// windows before (the "previous" its brief compares with) and, for the estate page, every
    /// repository's metrics of the windows before (the trends, up to
    /// ``ReportInputs/trendWindows`` with this one). Their digest is part of the unit's
    /// fingerprint, so a window run again after a backfill filled in the windows before it
    /// writes its reports again, with them, instead of reusing reports made without them.
    public func contexts(_ units: [Pipeline.Unit], manifest: Manifest, window: Window, database: Database) throws
        -> [UnitID: String]
    {
        let start = Timestamp.string(window.start)
        let length = window.end.timeIntervalSince(window.start)
        var contexts: [UnitID: String] = [:]
        for unit in units {
            let (scope, subject): (String, String)
            switch unit.subject {
            case .repository(let repository): (scope, subject) = ("repository", repository.slug)
            case .project(let key): (scope, subject) = ("project", key)
            case .estate: (scope, subject) = ("estate", manifest.estate.key)
            default: continue
            }
            var parts: [String] = []
            for row in try database.query(
                """
                SELECT window_end, status, content FROM reports
                WHERE scope = \(scope) AND subject = \(subject) AND window_end <= \(start)
                ORDER BY window_end DESC LIMIT 2
                """)
            {
                parts.append(
                    "report \(try row.string("window_end")) \(try row.string("status")) "
                        + SHA256.hex(try row.string("content")))
            }
            if case .estate = unit.subject {
                for slug in manifest.estate.repositories.map(\.slug).sorted() {
                    var windows = 0
                    for row in try database.query(
                        """
                        SELECT window_start, window_end, digest FROM evidence
                        WHERE repository = \(slug) AND window_end <= \(start) ORDER BY window_end DESC
                        """)
                    where windows < ReportInputs.trendWindows - 1 {
                        guard let from = Timestamp.date(try row.string("window_start")),
                            let to = Timestamp.date(try row.string("window_end")),
                            abs(to.timeIntervalSince(from) - length) < 1
                        else { continue }
                        parts.append("trend \(slug) \(try row.string("window_end")) \(try row.string("digest"))")
                        windows += 1
                    }
                }
            }
            if !parts.isEmpty { contexts[unit.id] = SHA256.hex(parts.joined(separator: "\n")) }
        }
        return contexts
    }

    public func outputs(_ manifest: Manifest, window: Window) -> [StageOutput] {
        guard let report = manifest.report, let root = Self.root(manifest, window: window) else { return [] }
        var outputs = [StageOutput(key: "reports", label: "report files", location: root)]
        if report.scopes.contains(.estate) {
            outputs.append(
                StageOutput(
                    key: "estate_page", label: "estate page", location: root.appendingPathComponent("estate/latest.html"),
                    afterWholeRun: true))
        }
        return outputs
    }

    /// The model's answers, tokens and estimated cost (or that the offline heuristic wrote the
    /// reports).
    public func summary(_ counters: [String: Int64], manifest: Manifest?) -> String? {
        guard let attempts = counters["attempts"] else { return nil }
        let heuristic = manifest.map { $0.report?.model.backend == .heuristic } ?? ((counters["prompt_tokens"] ?? 0) == 0)
        if heuristic {
            return "reports: \(attempts) written by the heuristic backend (offline, no tokens)"
        }
        let cost = Double(counters["cost_microusd"] ?? 0) / 1_000_000
        return "model: \(attempts) answer\(attempts == 1 ? "" : "s"), \(counters["prompt_tokens"] ?? 0) prompt + "
            + "\(counters["completion_tokens"] ?? 0) completion tokens, estimated $\(String(format: "%.4f", cost))"
    }

    /// The folder report files go to (relative to the working directory).
    public static func root(_ manifest: Manifest, window: Window) -> URL? {
        guard let report = manifest.report else { return nil }
        let path = PathTemplate.expand(
            report.output, name: manifest.name, estate: manifest.estate.key,
            start: window.start, end: window.end)
        return URL(fileURLWithPath: path).standardizedFileURL
    }

    public func run(_ context: UnitContext) async throws -> UnitResult {
        guard let config = context.manifest.report, let root = Self.root(context.manifest, window: context.window) else {
            throw UnitError(code: "internal", message: "report unit without a `report:` section")
        }
        let templates: Templates
        do {
            templates = try Templates(config)
        } catch {
            throw UnitError(code: "template", message: error.message)
        }
        let start = Timestamp.string(context.window.start)
        let end = Timestamp.string(context.window.end)
        let slugs = Set(context.manifest.estate.repositories.map(\.slug))
        let sources = ReportInputs(database: context.database, start: start, end: end, estateRepositories: slugs)
        var brief: Brief
        let folder: URL
        var rows: [Render.Row] = []
        switch context.unit.subject {
        case .repository(let repository):
            brief = try sources.repositoryBrief(repository.slug)
            folder = root.appendingPathComponent(repository.slug)
        case .project(let key):
            let project = context.manifest.estate.catalogue?.projects.first { $0.key == key }
            let members = context.manifest.estate.repositories.filter { $0.project == key }.map(\.slug)
            let components = (project?.components ?? []).map { component in
                (
                    name: component.name, lifecycle: component.lifecycle.rawValue,
                    repository: component.repository.map(\.slug), blockedBy: component.blockedBy.map(\.component),
                    dependsOn: component.dependsOn.map(\.component)
                )
            }
            brief = Brief.project(
                key: key, name: project?.name ?? key, windowStart: start, windowEnd: end,
                children: try members.map(sources.child), metrics: try members.map { ($0, try sources.metrics($0)) },
                components: components, estateRepositories: slugs)
            brief.previousReports(try sources.previous(scope: .project, subject: key))
            folder = root.appendingPathComponent("projects/\(key)")
        case .estate:
            let catalogue = context.manifest.estate.catalogue
            var children: [ChildReport] = []
            var covered: Set<String> = []
            if config.scopes.contains(.project), let catalogue {
                for project in catalogue.projects {
                    if let child = try sources.stored(scope: "project", subject: project.key, name: project.name) {
                        children.append(child)
                        covered.formUnion(context.manifest.estate.repositories.filter { $0.project == project.key }.map(\.slug))
                    }
                }
            }
            for slug in slugs.sorted() where !covered.contains(slug) { children.append(try sources.child(slug)) }
            guard let metrics = try sources.estateMetrics(context.manifest.estate.key) else {
                throw UnitError(
                    code: "missing_evidence", message: "no estate evidence in this window; rerun `--from evidence`")
            }
            brief = Brief.estate(
                key: context.manifest.estate.key, windowStart: start, windowEnd: end, children: children,
                metrics: metrics, estateRepositories: slugs)
            brief.previousReports(try sources.previous(scope: .estate, subject: context.manifest.estate.key))
            rows = try slugs.sorted().map(sources.row)
            folder = root.appendingPathComponent("estate")
        default:
            throw UnitError(code: "internal", message: "not a report unit")
        }

        brief.template = templates.brief
        let written = try await write(
            brief, config: config.model,
            system: templates.system.render(
                [
                    "scope": brief.scope.rawValue, "subject": brief.subject,
                ] as [String: Any]), context: context)
        // What was verified is the answer with fact keys; what is stored and shown has them
        // filled in, each number with the words of the fact it states.
        let facts = brief.used(in: written.content.texts)
        let content = written.content.filled(by: brief)
        let modelName = config.model.backend == .heuristic ? "heuristic" : (config.model.model ?? "model")
        let checked = (facts.count, brief.named(in: written.content.texts).count)
        let markdown = Render.markdown(
            templates.markdown, title: brief.name, content: content, windowStart: start, windowEnd: end,
            model: modelName, checked: checked, comparisons: brief.sheet.comparisons)
        let day = Render.day(end)
        let verification: JSONValue = [
            "verified": true, "attempts": .int(Int64(written.attempts)),
            "rejected": .array(written.rejected.map(\.json)),
            "numbers_checked": .int(Int64(checked.0)), "references_checked": .int(Int64(checked.1)),
            "facts": .array(facts.map { ["key": .string($0.key), "value": .string($0.number), "text": .string($0.phrase)] }),
        ]
        let coverage: JSONValue = [
            "references": .array(brief.references.sorted().map { .int(Int64($0)) }),
            "repositories": .array(brief.repositories.sorted().map(JSONValue.string)),
        ]
        let sidecar: JSONValue = [
            "schema_version": 1, "scope": .string(brief.scope.rawValue), "subject": .string(brief.subject),
            "window": ["start": .string(start), "end": .string(end)], "report": content.json,
            "model": ["backend": .string(config.model.backend.rawValue), "model": .string(modelName)],
            "verification": verification, "coverage": coverage,
            "accounting": [
                "prompt_tokens": .int(Int64(written.promptTokens)),
                "completion_tokens": .int(Int64(written.completionTokens)),
                "cost_usd": .double(written.cost), "latency_ms": .int(Int64(written.latencyMs)),
            ],
        ]
        // `latest.*` is the newest window's: a past window's run (`--window-end`, `backfill`)
        // writes its dated files only.
        let newer = try context.database.query(
            """
            SELECT 1 AS n FROM reports WHERE scope = \(brief.scope.rawValue) AND subject = \(brief.subject)
              AND window_end > \(end) LIMIT 1
            """)
        let names = { (dated: String, latest: String) in newer.isEmpty ? [dated, latest] : [dated] }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in names("\(day).md", "latest.md") {
                try Data(markdown.utf8).write(to: folder.appendingPathComponent(name), options: .atomic)
            }
            try Data(sidecar.pretty.utf8).write(to: folder.appendingPathComponent("\(day).json"), options: .atomic)
            if brief.scope == .estate {
                let projects = (context.manifest.estate.catalogue?.projects ?? []).map { project in
                    (
                        name: "\(project.name) (\(project.key))",
                        members: context.manifest.estate.repositories.filter { $0.project == project.key }.map(\.slug)
                    )
                }
                let page = Render.estatePage(
                    estate: brief.subject, content: content, windowStart: start, windowEnd: end, rows: rows,
                    projects: projects)
                for name in names("\(day).html", "latest.html") {
                    try Data(page.utf8).write(to: folder.appendingPathComponent(name), options: .atomic)
                }
            }
        } catch {
            throw UnitError(
                code: "report_files", message: "cannot write report files under `\(folder.path)`: \(error.localizedDescription)")
        }
        let contentText = content.json.canonical
        let digest = SHA256.hex(contentText + "\n" + markdown)
        let counters = written.counters
        let scope = brief.scope.rawValue, subject = brief.subject
        let verificationText = verification.canonical, coverageText = coverage.canonical
        return UnitResult(outputHash: digest, counters: counters) { tx in
            try tx.execute(
                """
                INSERT INTO reports (scope, subject, window_start, window_end, status, content, markdown, backend, model,
                                     attempts, prompt_tokens, completion_tokens, cost_usd, latency_ms, verification,
                                     coverage, digest)
                VALUES (\(scope), \(subject), \(start), \(end), \(content.status.rawValue), \(contentText), \(markdown),
                        \(config.model.backend.rawValue), \(modelName), \(written.attempts), \(written.promptTokens),
                        \(written.completionTokens), \(written.cost), \(written.latencyMs), \(verificationText),
                        \(coverageText), \(digest))
                ON CONFLICT (scope, subject, window_start, window_end) DO UPDATE SET
                    status = excluded.status, content = excluded.content, markdown = excluded.markdown,
                    backend = excluded.backend, model = excluded.model, attempts = excluded.attempts,
                    prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                    cost_usd = excluded.cost_usd, latency_ms = excluded.latency_ms,
                    verification = excluded.verification, coverage = excluded.coverage, digest = excluded.digest
                """)
        }
    }

    /// A verified report and what writing it cost.
    struct Written {
        var content = ReportContent(status: .unknown, summary: "", highlights: [], risks: [], nextSteps: [])
        var attempts = 0
        var rejected: [Problems] = []
        var promptTokens = 0
        var completionTokens = 0
        var latencyMs = 0
        var cost = 0.0

        var counters: [String: Int64] {
            [
                "attempts": Int64(attempts), "prompt_tokens": Int64(promptTokens), "completion_tokens": Int64(completionTokens),
                "latency_ms": Int64(latencyMs), "cost_microusd": Int64((cost * 1_000_000).rounded()),
            ]
        }
    }

    func write(_ brief: Brief, config: ModelConfig, system: String, context: UnitContext) async throws -> Written {
        var written = Written()
        if config.backend == .heuristic {
            written.attempts = 1
            written.content = Heuristic.write(brief)
            let problems = Verifier.check(written.content, brief: brief)
            guard problems.isEmpty else {
                throw UnitError(
                    code: "report_rejected", message: problems.map(\.description).joined(separator: "; "),
                    counters: written.counters)
            }
            return written
        }
        let key = environment[config.apiKeyEnv ?? ModelConfig.defaultAPIKeyEnv] ?? ""
        let client: ModelClient
        do {
            client = try clients.client(config, key: key, database: context.database)
        } catch {
            throw UnitError(code: error.code, message: error.message)
        }
        var messages = [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: brief.text)]
        while written.attempts < config.maxAttempts {
            written.attempts += 1
            context.progress("attempt \(written.attempts) of \(config.maxAttempts)")
            let answer: ChatAnswer
            do {
                answer = try await client.complete(messages)
            } catch {
                throw UnitError(code: error.code, message: error.message, counters: written.counters)
            }
            written.promptTokens += answer.promptTokens
            written.completionTokens += answer.completionTokens
            written.latencyMs += answer.latencyMs
            written.cost = config.price.cost(promptTokens: written.promptTokens, completionTokens: written.completionTokens)
            let problems: [Problem]
            switch ReportContent.parse(answer.content) {
            case .success(let content):
                problems = Verifier.check(content, brief: brief)
                if problems.isEmpty {
                    written.content = content
                    return written
                }
            case .failure(let parsed):
                problems = parsed.items
            }
            written.rejected.append(Problems(problems))
            messages.append(ChatMessage(role: "assistant", content: answer.content))
            messages.append(
                ChatMessage(
                    role: "user",
                    content: "Your report was rejected:\n"
                        + problems.map { "- \($0.message)" }.joined(separator: "\n")
                        + "\nAnswer again with the corrected JSON object only."))
        }
        let last = written.rejected.last?.items ?? []
        throw UnitError(
            code: "report_rejected",
            message: "\(written.attempts) answers rejected; last: " + last.map(\.description).joined(separator: "; "),
            counters: written.counters)
    }
}
