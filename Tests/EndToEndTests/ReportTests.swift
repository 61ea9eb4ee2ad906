import Foundation
import GitHubFake
import JSON
import ModelFake
import Store
import TestSupport
import Testing

/// Runs a small estate through every stage with reports written by the fake model.
struct ReportScenario {
    static let token = "ghp_reportSecretToken0123456789"
    static let key = "sk-fakeModelKey0123456789abcdef"
    static let estate = EstateGenerator(seed: 3, repositories: 2).generate()

    let harness: Harness
    let github: FakeGitHub
    let model: FakeModel

    static func start(_ modes: [FakeModel.Mode], modelSettings: String = "", models: [String] = ["fake-model"]) async throws
        -> ReportScenario
    {
        let github = FakeGitHub(estate: estate, token: token)
        let githubURL = try await github.start()
        let model = FakeModel(modes: modes, models: models)
        let modelURL = try await model.start()
        let harness = try Harness()
        try harness.write(
            "m.yaml",
            estate.manifest(
                name: "report-e2e", endpoint: githubURL,
                settings: ["collect: [commits, pull_requests, issues, documentation, review_comments]"])
                    + """
                    report:
                      scopes: [repository]
                      model:
                        backend: openai
                        endpoint: \(modelURL.absoluteString)
                        model: fake-model
                        max_attempts: 3
                        price: {prompt_per_million: 2.5, completion_per_million: 10}

                    """ + modelSettings)
        return ReportScenario(harness: harness, github: github, model: model)
    }

    func run(_ extra: [String] = [], key: String? = ReportScenario.key) async throws -> Harness.Result {
        var environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
        if let key { environment["GHILLIE_OPENAI_API_KEY"] = key }
        return try await harness.run(Harness.product, ["m.yaml", "-q"] + extra, environment: environment)
    }

    func stop() async {
        await github.stop()
        await model.stop()
    }

    /// Counters of every report attempt in the ledger, summed.
    func reportCounters() throws -> [String: Int64] {
        var total: [String: Int64] = [:]
        for row in try storeRows(harness, "SELECT counters FROM unit_attempts WHERE stage = 'report'") {
            let counters = try JSONDecoder().decode([String: Int64].self, from: Data(try row.string("counters").utf8))
            total.merge(counters, uniquingKeysWith: +)
        }
        return total
    }

    /// Every file the run wrote, as text.
    func outputs() -> String {
        let out = harness.folder.appendingPathComponent("out")
        var text = ""
        for case let path as String in FileManager.default.enumerator(atPath: out.path) ?? FileManager.DirectoryEnumerator() {
            text += (try? String(contentsOf: out.appendingPathComponent(path), encoding: .utf8)) ?? ""
        }
        return text
    }
}

@Suite("Reports against a fake model", .serialized)
struct ReportTests {
    /// Issue #27: two fresh stores over the same data export byte-identical files — but for
    /// `report_accounting` (what each run's model calls cost and took) and the export manifest
    /// (which names its run) — and the second, writing into the first's export folder, finds its
    /// files already there, byte for byte, and keeps them.
    @Test func twoFreshStoresExportTheSameBytesButForTheirAccounting() async throws {
        let scenario = try await ReportScenario.start([.slow, .good])
        try await afterwards({ await scenario.stop() }) {
            try scenario.harness.write(
                "m.yaml",
                try String(contentsOfFile: scenario.harness.path("m.yaml"), encoding: .utf8)
                    + "export:\n  formats: [jsonl, csv]\n  datasets: [metrics, reports, report_accounting, bundle]\n")
            #expect(try await scenario.run().status == 0)
            let folder = scenario.harness.folder.appendingPathComponent("out/report-e2e/2026-11-27")
            func files() throws -> [String: Data] {
                var files: [String: Data] = [:]
                for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
                    files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
                }
                return files
            }
            let first = try files()
            // A fresh store, the same data, the same export folder.
            try FileManager.default.removeItem(at: scenario.harness.folder.appendingPathComponent(".ghillie"))
            let second = try await scenario.run()
            #expect(second.status == 0, "\(second.stderr)\(second.stdout)")
            let again = try files()
            #expect(Set(again.keys) == Set(first.keys))
            let differing = again.keys.filter { again[$0] != first[$0] }.sorted()
            #expect(
                Set(differing).isSubset(of: ["export-manifest.json", "report_accounting.csv", "report_accounting.jsonl"]),
                "\(differing)")
            #expect(differing.contains("report_accounting.jsonl"))
            let accounting = String(decoding: again["report_accounting.jsonl"] ?? Data(), as: UTF8.self)
            #expect(
                accounting.contains("\"latency_ms\":")
                    && !String(decoding: again["reports.jsonl"] ?? Data(), as: UTF8.self).contains("latency_ms"))
        }
    }

    @Test func aGoodAnswerIsVerifiedStoredAndAccountedAndTheKeyGoesNowhere() async throws {
        let scenario = try await ReportScenario.start([.good])
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.run()
            #expect(result.status == 0, "\(result.stderr)")
            let requests = scenario.model.requests
            #expect(requests.count == 2)
            #expect(requests.allSatisfy { $0.authorization == "Bearer \(ReportScenario.key)" })
            #expect(requests.allSatisfy { $0.body["response_format"]?["type"]?.string == "json_schema" })
            let stored = try storeRows(
                scenario.harness, "SELECT subject, status, attempts, verification FROM reports ORDER BY subject")
            #expect(stored.count == 2)
            #expect(
                try stored.allSatisfy { try $0.int("attempts") == 1 && $0.string("verification").contains("\"verified\":true") })
            let counters = try scenario.reportCounters()
            let tokens = scenario.model.tokens
            #expect(
                counters["prompt_tokens"] == Int64(tokens.prompt) && counters["completion_tokens"] == Int64(tokens.completion))
            let cost = (Double(tokens.prompt) * 2.5 + Double(tokens.completion) * 10) / 1_000_000
            #expect(abs(Double(counters["cost_microusd"] ?? 0) / 1_000_000 - cost) < 2e-6)
            let markdown = try String(
                contentsOfFile: scenario.harness.path("out/report-e2e/reports/acme/repo-000/latest.md"), encoding: .utf8)
            #expect(markdown.hasPrefix("# acme/repo-000 — Status report ("))
            // The fake model reads the brief: #15 of the generated repository is labelled `blocked`.
            #expect(markdown.contains("**Status:** Blocked") && markdown.contains("- Unblock #15"))
            for text in [
                result.stdout, result.stderr, scenario.outputs(),
                try storeRows(scenario.harness, "SELECT counters || COALESCE(error_message, '') AS t FROM unit_attempts")
                    .map { try $0.string("t") }.joined(),
            ] {
                #expect(!text.contains(ReportScenario.key))
            }
            // The prompt stays within its budget (about four characters per token).
            let prompt = requests.first?.body["messages"]?.array?.last?["content"]?.string ?? ""
            #expect(prompt.utf8.count / 4 < 3_000)
        }
    }

    @Test(arguments: [
        (FakeModel.Mode.wrongNumbers, "typed_number"),
        // Issue #15, item 0: the evidence's own numbers on the wrong facts are typed numbers.
        (FakeModel.Mode.misattributed, "typed_number"),
        (FakeModel.Mode.inventedReferences, "unknown_reference"),
        (FakeModel.Mode.invalidJSON, "invalid_json"),
        (FakeModel.Mode.empty, "invalid_json"),
    ])
    func aRejectedAnswerIsRetriedWithItsProblemsThenFailsResumably(mode: FakeModel.Mode, code: String) async throws {
        let scenario = try await ReportScenario.start([mode])
        try await afterwards({ await scenario.stop() }) {
            let failed = try await scenario.run(["--jobs", "1"])
            #expect(failed.status == 3, "\(failed.stderr)")
            // Three attempts per repository; each retry states the problems of the answer before.
            let requests = scenario.model.requests
            #expect(requests.count == 6)
            let retry = requests[1].body["messages"]?.array ?? []
            #expect(retry.count == 4)
            #expect(retry.last?["content"]?.string?.hasPrefix("Your report was rejected:\n- ") == true)
            let errors = try storeRows(
                scenario.harness, "SELECT error_code, error_message FROM unit_attempts WHERE stage = 'report'")
            #expect(errors.count == 2)
            let messages = try errors.map { try $0.string("error_message") }
            #expect(
                try errors.allSatisfy {
                    try $0.string("error_code") == "report_rejected"
                        && $0.string("error_message").hasPrefix("3 answers rejected; last: \(code): ")
                }, "\(messages)")
            // Rejected attempts are paid for: their tokens are in the ledger.
            let counters = try scenario.reportCounters()
            #expect(counters["attempts"] == 6 && counters["prompt_tokens"] == Int64(scenario.model.tokens.prompt))
            #expect(try storeRows(scenario.harness, "SELECT subject FROM reports").isEmpty)

            scenario.model.setModes([.good])
            let resumed = try await scenario.run()
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(scenario.model.requests.count == 8)
            #expect(try storeRows(scenario.harness, "SELECT subject FROM reports").count == 2)
        }
    }

    /// Issue #15, item 0: a model that writes the fact keys into sentences about other facts
    /// gets a report whose every number still reads as what it counts, and the verification
    /// record lists the facts it used.
    @Test func numbersInTheDeliveredReportCarryTheWordsOfTheirOwnFacts() async throws {
        let scenario = try await ReportScenario.start([.swappedKeys])
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.run(["--jobs", "1"])
            #expect(result.status == 0, "\(result.stderr)")
            let rows = try storeRows(
                scenario.harness,
                """
                SELECT r.subject AS subject, r.content AS content, r.verification AS verification, e.metrics AS metrics
                FROM reports r JOIN evidence e ON e.repository = r.subject AND e.window_end = r.window_end
                WHERE r.scope = 'repository'
                """)
            #expect(rows.count == 2)
            func words(_ count: Int64, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }
            for row in rows {
                let humans = try #require(try JSONValue(parsing: try row.string("metrics"))["humans"])
                let merged = try #require(humans["pull_requests_merged"]?.int)
                let resolved = try #require(humans["issues_resolved"]?.int)
                let outstanding = try #require(humans["issues_outstanding"]?.int)
                let summary = try JSONValue(parsing: try row.string("content"))["summary"]?.string
                #expect(
                    summary
                        == "Pull requests merged: \(words(outstanding, "outstanding issue opened by people", "outstanding issues opened by people")); "
                        + "Issues resolved: \(words(merged, "merged pull request by people", "merged pull requests by people")); "
                        + "Issues outstanding: \(words(resolved, "resolved issue opened by people", "resolved issues opened by people"))."
                )
                let facts = try JSONValue(parsing: try row.string("verification"))["facts"]?.array ?? []
                #expect(
                    facts.compactMap { $0["key"]?.string }.prefix(3)
                        == ["issues_outstanding", "pull_requests_merged", "issues_resolved"])
            }
        }
    }

    @Test(arguments: [
        ([FakeModel.Mode.rateLimited, .good], 3, "json_schema"),
        ([FakeModel.Mode.serverError, .serverError, .good], 4, "json_schema"),
        ([FakeModel.Mode.fenced], 2, "json_schema"),
        ([FakeModel.Mode.jsonModeOnly], 3, "json_object"),
    ])
    func transientFailuresAndFencesAndJSONModeEndpointsStillGiveReports(
        modes: [FakeModel.Mode], requests: Int, format: String
    ) async throws {
        let scenario = try await ReportScenario.start(modes)
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.run(["--jobs", "1"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(scenario.model.requests.count == requests)
            #expect(scenario.model.requests.last?.body["response_format"]?["type"]?.string == format)
            #expect(try storeRows(scenario.harness, "SELECT subject FROM reports").count == 2)
        }
    }

    /// Issue #14: the model endpoint's requests in flight are capped for the whole run,
    /// whatever `--jobs` allows.
    @Test func modelRequestsInFlightStayUnderTheCap() async throws {
        let scenario = try await ReportScenario.start([.slow], modelSettings: "    max_in_flight: 1\n")
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.run(["--jobs", "8"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(scenario.model.requests.count == 2)
            #expect(scenario.model.peakInFlight == 1)
            // Each report's latency is its own answer's (1.5 s), not the wait for a slot.
            let latencies = try storeRows(
                scenario.harness, "SELECT latency_ms FROM reports WHERE scope = 'repository'"
            ).map { try $0.int("latency_ms") }
            #expect(latencies.count == 2 && latencies.allSatisfy { $0 >= 1_400 && $0 < 2_900 }, "\(latencies)")
        }
    }

    @Test func aMissingKeyStopsBeforeAnythingRunsAndNamesTheVariable() async throws {
        let scenario = try await ReportScenario.start([.good])
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.run(key: nil)
            #expect(result.status == 5)
            #expect(
                result.stderr == """
                    error: the model API key variable `GHILLIE_OPENAI_API_KEY` is not set
                      hint: export GHILLIE_OPENAI_API_KEY=<an API key for \(scenario.model.requests.isEmpty ? "" : "")\
                    \(try String(contentsOfFile: scenario.harness.path("m.yaml"), encoding: .utf8)
                    .split(separator: "\n").first { $0.contains("endpoint: http://127.0.0.1") && $0.contains("/v1") }?
                    .split(separator: " ").last ?? "")> (or name another variable in `report.model.api_key_env`)

                    """)
            #expect(scenario.model.requests.isEmpty)
        }
    }
}

@Suite("check", .serialized)
struct CheckTests {
    @Test func everyProviderReadyGivesOneOkLinePerCheck() async throws {
        let scenario = try await ReportScenario.start([.good])
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.harness.run(
                Harness.product, ["check", "m.yaml"],
                environment: ["GHILLIE_GITHUB_TOKEN": ReportScenario.token, "GHILLIE_OPENAI_API_KEY": ReportScenario.key])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 6)
            #expect(
                lines[0].hasPrefix("ok    github: token from `GHILLIE_GITHUB_TOKEN` accepted for `ghillie-test` at 127.0.0.1; "))
            #expect(
                lines[1].hasPrefix("ok    github REST: http://127.0.0.1:")
                    && lines[1].hasSuffix(
                        " answers (for review comments); 5000 of 5000 requests left"),
                "\(lines[1])")
            // Every repository, in one batched query; those that are not plainly ok are listed.
            #expect(lines[2] == "ok    estate: 2 repositories checked in 1 request (1 point): 1 ok, 1 empty")
            #expect(lines[3] == "      ok    acme/repo-001: empty: no commits yet (nothing to read, not a failure)")
            #expect(
                lines[4].hasPrefix("ok    model: http://127.0.0.1:")
                    && lines[4].hasSuffix(
                        "/v1 answers and lists model `fake-model`; key from `GHILLIE_OPENAI_API_KEY`"),
                "\(lines[4])")
            #expect(lines[5] == "ok    store: sqlite:.ghillie/ghillie.sqlite is writable (schema version 12)")
            #expect(!result.stdout.contains(ReportScenario.key) && !result.stdout.contains(ReportScenario.token))
        }
    }

    /// Issue #27: an endpoint that does not list the model (Azure deployments, servers that
    /// list none) is checked with a one-token completion instead of failing `check`.
    @Test(arguments: [
        ([String](), "it does not list its models"), (["other-model"], "it lists `other-model` but not `fake-model`"),
    ])
    func aModelTheEndpointDoesNotListIsCheckedWithAOneTokenCompletion(models: [String], why: String) async throws {
        let scenario = try await ReportScenario.start([.good], models: models)
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.harness.run(
                Harness.product, ["check", "m.yaml"],
                environment: ["GHILLIE_GITHUB_TOKEN": ReportScenario.token, "GHILLIE_OPENAI_API_KEY": ReportScenario.key])
            #expect(result.status == 0, "\(result.stdout)")
            let line = result.stdout.split(separator: "\n").first { $0.contains("model:") }.map(String.init) ?? ""
            #expect(
                line.hasPrefix("ok    model: http://127.0.0.1:")
                    && line.hasSuffix(
                        "/v1 answers a one-token completion from `fake-model` (\(why)); key from `GHILLIE_OPENAI_API_KEY`"),
                "\(line)")
            #expect(scenario.model.requests.last?.body["max_tokens"] == 1)
        }
    }

    @Test func aRefusedTokenAndAMissingKeyFailWithExit5AndNoSecrets() async throws {
        let scenario = try await ReportScenario.start([.good])
        try await afterwards({ await scenario.stop() }) {
            let result = try await scenario.harness.run(
                Harness.product, ["check", "m.yaml", "--output", "json"],
                environment: ["GHILLIE_GITHUB_TOKEN": "ghp_notTheRightOne"])
            #expect(result.status == 5)
            struct Output: Decodable {
                struct Check: Decodable, Equatable { let check: String; let ok: Bool; let message: String }
                let checks: [Check]
            }
            let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
            #expect(output.checks.map(\.check) == ["github", "github REST", "estate", "model", "store"])
            #expect(
                output.checks[0]
                    == .init(
                        check: "github", ok: false,
                        message: "GitHub rejected the token (HTTP 401); check that it is valid and not expired"))
            #expect(
                !output.checks[1].ok
                    && output.checks[1].message.hasSuffix(
                        ": GitHub rejected the token (HTTP 401); check that it is valid and not expired"),
                "\(output.checks[1])")
            #expect(
                output.checks[2]
                    == .init(
                        check: "estate", ok: false,
                        message:
                            "could not check the repositories: GitHub rejected the token (HTTP 401); check that it is valid and not expired"
                    ))
            #expect(
                output.checks[3]
                    == .init(check: "model", ok: false, message: "the API key variable `GHILLIE_OPENAI_API_KEY` is not set"))
            #expect(output.checks[4].ok)
            #expect(!result.stdout.contains("ghp_notTheRightOne"))
        }
    }
}

/// Renders an HTML file in headless Chromium; returns the DOM and the console messages.
func renderInChromium(_ file: URL) async throws -> (dom: String, console: [String]) {
    let result = try await ChildProcess.run(
        "/usr/bin/chromium",
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000",
            "--dump-dom", file.absoluteString,
        ])
    return (result.output, result.stderr.split(separator: "\n").map(String.init).filter { $0.contains("CONSOLE") })
}

@Suite("Heuristic reports", .serialized)
struct HeuristicReportTests {
    static let golden = SourceTree.url("Tests/EndToEndTests/Golden/reports")

    @Test func projectsAndTheEstateRollUpAndThePagesRender() async throws {
        let estate = EstateGenerator(seed: 3, repositories: 4).generate()
        let github = FakeGitHub(estate: estate, token: ReportScenario.token)
        let url = try await github.start()
        try await afterwards({ await github.stop() }) {
            let harness = try Harness()
            try harness.write(
                "catalogue.yaml",
                """
                version: 1
                projects:
                  - key: core
                    name: Core
                    components:
                      - key: api
                        name: API
                        type: service
                        repository: {owner: acme, name: repo-000}
                      - key: store
                        name: Store
                        type: library
                        repository: {owner: acme, name: repo-001}
                      - key: app
                        name: App
                        type: ui
                        lifecycle: planned
                        blocked_by: [{component: api}]
                """)
            try harness.write(
                "m.yaml",
                estate.manifest(
                    name: "heuristic-e2e", endpoint: url,
                    settings: ["collect: [commits, pull_requests, issues, documentation]"]
                )
                .replacingOccurrences(of: "  key: estate\n", with: "  key: estate\n  catalogue: catalogue.yaml\n")
                    + "report:\n  scopes: [repository, project, estate]\n"
                    + "export:\n  formats: [csv]\n  datasets: [reports]\n")
            let result = try await harness.run(
                Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": ReportScenario.token])
            #expect(result.status == 0, "\(result.stderr)")
            let reports = harness.folder.appendingPathComponent("out/heuristic-e2e/reports")
            let project = try String(contentsOf: reports.appendingPathComponent("projects/core/latest.md"), encoding: .utf8)
            #expect(project.contains("App is blocked by another component") || project.contains("**Status:** Blocked"))
            #expect(project.contains("Plan a repository for App"))

            // Markdown goldens; `GHILLIE_RECORD_GOLDEN=1` re-records them.
            for path in ["acme/repo-000/latest.md", "projects/core/latest.md", "estate/latest.md"] {
                try Golden.check(
                    try Data(contentsOf: reports.appendingPathComponent(path)),
                    against: Self.golden.appendingPathComponent(path.replacingOccurrences(of: "/", with: "_")))
            }
            // The reports export: one row per repository, the project and the estate, in that order.
            let csv = try String(contentsOfFile: harness.path("out/heuristic-e2e/2026-11-27/reports.csv"), encoding: .utf8)
            let scopes = csv.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",")[1] }
            #expect(scopes == ["repository", "repository", "repository", "repository", "project", "estate"])

            // The estate page renders in a real browser without console errors; a broken page would show.
            let page = try await renderInChromium(reports.appendingPathComponent("estate/latest.html"))
            #expect(page.dom.contains("<svg") && page.dom.contains("Pull requests merged per repository"))
            #expect(page.console == [], "\(page.console)")
            try harness.write("broken.html", "<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
            #expect(try await renderInChromium(harness.folder.appendingPathComponent("broken.html")).console.count == 1)
        }
    }

    @Test func aManifestsTemplatesReplaceTheBuiltInOnesAndABrokenOneStopsTheRun() async throws {
        let estate = EstateGenerator(seed: 3, repositories: 1).generate()
        let github = FakeGitHub(estate: estate, token: ReportScenario.token)
        let url = try await github.start()
        try await afterwards({ await github.stop() }) {
            let harness = try Harness()
            let manifest =
                estate.manifest(
                    name: "templates-e2e", endpoint: url,
                    settings: ["collect: [commits, pull_requests, issues]"])
                + "report:\n  scopes: [repository]\n  templates:\n    markdown: templates/short.mustache\n"
            try harness.write("m.yaml", manifest)
            try harness.write("templates/short.mustache", "{{% CONTENT_TYPE: TEXT }}\n{{title}}: {{status}} — {{summary}}\n")
            let environment = ["GHILLIE_GITHUB_TOKEN": ReportScenario.token]
            let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let markdown = try String(
                contentsOfFile: harness.path("out/templates-e2e/reports/acme/repo-000/latest.md"), encoding: .utf8)
            #expect(markdown.hasPrefix("acme/repo-000: ") && markdown.hasSuffix(".\n") && !markdown.contains("##"), "\(markdown)")

            // Editing the template reruns the reports; a template that does not parse stops the run first.
            try harness.write("templates/short.mustache", "{{#status}} never closed\n")
            let broken = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(broken.status == 5)
            #expect(
                broken.stderr == """
                    error: the `markdown` report template does not parse: line 2, column 1: a section is opened and never closed (`{{/name}}`)
                      hint: fix `report.templates.markdown`, or remove it to use the built-in template

                    """)

            // A template file that is not there is a manifest error with its place.
            try harness.write("m.yaml", manifest.replacingOccurrences(of: "short.mustache", with: "missing.mustache"))
            let missing = try await harness.run(Harness.product, ["validate", "m.yaml"])
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("error: template file `templates/missing.mustache` not found or not UTF-8 text"))
        }
    }
}
