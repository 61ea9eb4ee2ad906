import Foundation
import GitHubFake
import JSON
import ModelFake
import Store
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue #15, items 1 and 2: past windows (`--window-end`, `backfill`) and the previous
/// window's values in the evidence.
@Suite("Windows: backfill, --window-end, previous values", .serialized)
struct PastWindowTests {
    static let token = "ghp_windowSecretToken0123456789"
    static let estate = EstateGenerator(seed: 7, repositories: 2).generate()
    static let environment = ["GHILLIE_GITHUB_TOKEN": token]
    static let day: TimeInterval = 86_400

    static func manifest(_ url: URL, export: Bool = false) -> String {
        estate.manifest(name: "windows", endpoint: url, settings: ["collect: [commits, pull_requests, issues]"])
            + (export ? "export:\n  formats: [csv, jsonl]\n  datasets: [metrics]\n" : "")
    }

    /// The four window ends of `backfill --windows 4`, oldest first.
    static let ends = (0..<4).map { estate.windowEnd.addingTimeInterval(-Double(3 - $0) * 14 * day) }

    /// Every evidence row's metrics, by repository key and window end.
    static func metrics(_ harness: Harness) throws -> [String: JSONValue] {
        var metrics: [String: JSONValue] = [:]
        for row in try storeRows(harness, "SELECT repository, window_end, metrics FROM evidence") {
            metrics[try row.string("repository") + " " + row.string("window_end")] = try JSONValue(
                parsing: try row.string("metrics"))
        }
        return metrics
    }

    /// A window's metrics without the previous window's (a fresh store has none).
    static func current(_ value: JSONValue?) -> JSONValue? {
        guard case .object(var object)? = value else { return value }
        object["previous"] = nil
        return .object(object)
    }

    @Test func backfillRunsEveryWindowAsItsOwnRunEqualToASingleRunOfThatWindow() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(url, export: true))
            let result = try await harness.run(
                Harness.product, ["backfill", "m.yaml", "--windows", "4", "--output", "json", "-q"],
                environment: Self.environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr == "")
            let document = try JSONValue(parsing: result.stdout)
            let windows = document["windows"]?.array ?? []
            #expect(windows.compactMap { $0["window_end"]?.string } == Self.ends.map(Timestamp.string))
            #expect(windows.compactMap { $0["action"]?.string } == ["ran", "ran", "ran", "ran"])
            #expect(windows.compactMap { $0["run_id"]?.int } == [1, 2, 3, 4])
            let runs = try storeRows(harness, "SELECT window_spec, state FROM runs ORDER BY id")
            #expect(try runs.map { try $0.string("state") } == Array(repeating: "succeeded", count: 4))
            #expect(
                try runs.map { try $0.string("window_spec") }.allSatisfy { $0.hasPrefix(#"{"override":"--window-end "#) })
            let backfilled = try Self.metrics(harness)
            #expect(backfilled.count == 4 * 3)

            // Each window equals a run of that window alone, in a store of its own.
            for (index, end) in Self.ends.enumerated() {
                let single = try Harness()
                try single.write("m.yaml", Self.manifest(url))
                let alone = try await single.run(
                    Harness.product, ["m.yaml", "--window-end", Timestamp.seconds(end), "-q"],
                    environment: Self.environment)
                #expect(alone.status == 0, "\(alone.stderr)")
                let separate = try Self.metrics(single)
                #expect(separate.count == 3)
                for (key, value) in separate {
                    #expect(Self.current(backfilled[key]) == Self.current(value), "window \(index + 1): \(key)")
                    // Alone, the store does not reach back: no previous window, never a guess.
                    #expect(value["previous"] == .null, "\(key)")
                }
            }

            // The previous window's values are that window's own metrics.
            for key in ["acme/repo-000", "acme/repo-001", "estate:estate"] {
                #expect(backfilled["\(key) \(Timestamp.string(Self.ends[0]))"]?["previous"] == .null)
                for index in 1..<4 {
                    let now = backfilled["\(key) \(Timestamp.string(Self.ends[index]))"]
                    let before = backfilled["\(key) \(Timestamp.string(Self.ends[index - 1]))"]
                    #expect(now?["previous"]?["humans"] == before?["humans"], "\(key) window \(index + 1)")
                    #expect(now?["previous"]?["bots"] == before?["bots"])
                    #expect(now?["previous"]?["end"]?.string == Timestamp.string(Self.ends[index - 1]))
                }
            }

            // The metrics export carries the previous value and the change, and matches its schema.
            let folder = try exportFolder(harness, name: "windows")
            #expect(folder.lastPathComponent.hasPrefix(String(Timestamp.seconds(Self.ends[3]).prefix(10))))
            let check = try await checkExport(folder)
            #expect(check.status == 0, "\(check.output)")
            let lines = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n")
            let record = try #require(
                try lines.map { try JSONValue(parsing: String($0)) }.first {
                    $0["repository"]?.string == "acme/repo-000" && $0["population"]?.string == "humans"
                })
            let before = try #require(backfilled["acme/repo-000 \(Timestamp.string(Self.ends[2]))"]?["humans"])
            let merged = try #require(record["pull_requests_merged"]?.int)
            let earlier = try #require(before["pull_requests_merged"]?.int)
            #expect(record["previous_pull_requests_merged"]?.int == earlier)
            #expect(record["change_pull_requests_merged"]?.int == merged - earlier)
            #expect(record["previous_window_end"]?.string == Timestamp.string(Self.ends[2]))

            // Again: every window is done, nothing runs.
            let again = try await harness.run(
                Harness.product, ["backfill", "m.yaml", "--windows", "4", "-q"], environment: Self.environment)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix("succeeded  done before") })
            #expect(try storeRows(harness, "SELECT id FROM runs").count == 4)
        }
    }

    /// Issue #15, item 4: the estate page of a backfilled estate shows each repository's and
    /// project's trend over the windows, rendered by a real browser; reports compare with the
    /// previous window in a table.
    @Test func theEstatePageShowsTrendsOverTheBackfilledWindows() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.writeCoreCatalogue([("api", "API", "service", "repo-000"), ("store", "Store", "library", "repo-001")])
            try harness.write(
                "m.yaml",
                Self.manifest(url).replacingOccurrences(
                    of: "  key: estate\n", with: "  key: estate\n  catalogue: catalogue.yaml\n")
                    + "report:\n  scopes: [repository, project, estate]\n")
            let result = try await harness.run(
                Harness.product, ["backfill", "m.yaml", "--windows", "4", "-q"], environment: Self.environment)
            #expect(result.status == 0, "\(result.stderr)")
            let reports = harness.folder.appendingPathComponent("out/windows/reports")
            let page = try await renderInChromium(reports.appendingPathComponent("estate/latest.html"))
            #expect(page.console == [], "\(page.console)")
            #expect(page.dom.contains("<h2>Trends over the last 4 windows</h2>"))
            // Two repositories, each with six metrics (two of them review flow); their project
            // with its two counts.
            let sparks = page.dom.components(separatedBy: "<svg class=\"spark\"").dropFirst()
            #expect(sparks.count == 2 * 6 + 2)
            #expect(page.dom.contains("Review flow: median pickup time (ready to first review) per repository"))
            #expect(sparks.allSatisfy { $0.contains("data-points=\"4\"") })
            #expect(
                page.dom.components(separatedBy: "class=\"current\"").count - 1 == sparks.filter { !$0.contains("no data") }.count
            )
            // The merged-pull-requests line of acme/repo-000 states each window's own metric.
            let history = try Self.metrics(harness)
            let values = Self.ends.map { end in
                history["acme/repo-000 \(Timestamp.string(end))"]?["humans"]?["pull_requests_merged"]?.int.map(String.init) ?? "?"
            }
            let days = Self.ends.map { String(Timestamp.seconds($0).prefix(10)) }
            let described = zip(days, values).map { "\($0): \($1)" }.joined(separator: ", ")
            #expect(
                page.dom.contains("acme/repo-000, pull requests merged by window: \(described) (current last)"), "\(described)")
            #expect(page.dom.contains("<strong>Core (core)</strong>"))

            // A screenshot of the page, kept for people to look at.
            let artefacts = SourceTree.url(".build/test-artefacts")
            try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
            let shot = artefacts.appendingPathComponent("estate-trends.png")
            try? FileManager.default.removeItem(at: shot)
            let screenshot = try await ChildProcess.run(
                "/usr/bin/chromium",
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2400",
                    "--screenshot=\(shot.path)", reports.appendingPathComponent("estate/latest.html").absoluteString,
                ])
            #expect(screenshot.status == 0, "\(screenshot.stderr)")
            let png = try Data(contentsOf: shot)
            #expect(png.count > 10_000 && png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

            // The repository report compares with the previous window.
            let markdown = try String(contentsOf: reports.appendingPathComponent("acme/repo-000/latest.md"), encoding: .utf8)
            #expect(
                markdown.contains("## Compared with the previous window\n\n| metric | this window | previous window | change |\n")
            )
            let merged = try #require(Int(values[3])), before = try #require(Int(values[2]))
            let change = merged == before ? "=" : "\(merged > before ? "↑" : "↓") \(abs(merged - before))"
            #expect(markdown.contains("| Merged pull requests by people | \(merged) | \(before) | \(change) |\n"), "\(markdown)")
        }
    }

    @Test func aKilledBackfillResumesInTheWindowItWasIn() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            fake.inject(Fault(.delay(.milliseconds(40)), times: 100_000))
            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(url))
            let victim = harness.process(
                Harness.product, ["backfill", "m.yaml", "--windows", "3", "-q"], environment: Self.environment)
            victim.standardError = FileHandle.nullDevice
            victim.standardOutput = FileHandle.nullDevice
            try victim.run()
            let inSecond = await harness.waitUntil(timeout: 60) {
                ((try? storeRows(harness, "SELECT id FROM runs WHERE id = 2 AND state = 'running'"))?.count ?? 0) == 1
            }
            #expect(inSecond)
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            fake.clearFaults()

            let resumed = try await harness.run(
                Harness.product, ["backfill", "m.yaml", "--windows", "3", "--output", "json"], environment: Self.environment)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let windows = try JSONValue(parsing: resumed.stdout)["windows"]?.array ?? []
            #expect(windows.compactMap { $0["action"]?.string } == ["done before", "ran", "ran"])
            // The second window's run is continued, not started again.
            #expect(windows.compactMap { $0["run_id"]?.int } == [1, 2, 3])
            #expect(resumed.stderr.contains("continuing run 2 of `windows`"))
            #expect(try storeRows(harness, "SELECT state FROM runs").allSatisfy { try $0.string("state") == "succeeded" })
        }
    }

    @Test(arguments: [
        (["--window-end", "yesterday"], "error: --window-end `yesterday` is not a date\n"),
        (["--window-end", "2999-01-01"], "error: --window-end 2999-01-01 is in the future\n"),
    ])
    func aBadWindowEndIsAUsageError(arguments: [String], message: String) async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Self.manifest(try #require(URL(string: "http://127.0.0.1:9/graphql"))))
        let result = try await harness.run(Harness.product, ["plan", "m.yaml"] + arguments, environment: Self.environment)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix(message), "\(result.stderr)")
    }

    @Test func planShowsAMovedWindow() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Self.manifest(try #require(URL(string: "http://127.0.0.1:9/graphql"))))
        let result = try await harness.run(
            Harness.product, ["plan", "m.yaml", "--window-end", "2026-10-01"], environment: Self.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.split(separator: "\n").dropFirst().first
                == "window 2026-09-17T00:00:00.000Z → 2026-10-01T00:00:00.000Z (moved by --window-end)")
    }

    /// Issue #27: an anchored window is done once; a run the same day (or any day before the
    /// next boundary) does nothing, and says when the next window ends; `--window-end` must be
    /// a boundary; the summary says whether the window before is complete.
    @Test func anAnchoredWindowIsDoneOnceAndSaysWhetherTheOneBeforeIsComplete() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            // Boundaries every 14 days from 2026-10-30: the estate's window (to 2026-11-27) is the
            // last complete one for any run before 2026-12-11.
            let anchored = Self.manifest(url).replacingOccurrences(
                of: "window:\n  days: 14\n  end: \"2026-11-27T00:00:00Z\"\n",
                with: "window:\n  days: 14\n  anchor: 2026-10-30\n  end: now\n")
            try #require(anchored.contains("anchor: 2026-10-30"))
            try harness.write("m.yaml", anchored)
            let first = try await harness.run(Harness.product, ["m.yaml"], environment: Self.environment)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stderr.contains("(window 2026-11-13T00:00:00.000Z → 2026-11-27T00:00:00.000Z)"))
            #expect(
                first.stderr.contains(
                    "the window before it (2026-10-30T00:00:00.000Z → 2026-11-13T00:00:00.000Z) has no run that succeeded; "
                        + "`ghillie-run m.yaml --window-end 2026-11-13T00:00:00.000Z` runs it"), "\(first.stderr)")
            let requests = fake.stats.requests

            let again = try await harness.run(Harness.product, ["m.yaml"], environment: Self.environment)
            #expect(again.status == 0)
            #expect(again.stdout == "")
            #expect(
                again.stderr
                    == "nothing to do for `windows`: window 2026-11-13T00:00:00.000Z → 2026-11-27T00:00:00.000Z was done by run 1 "
                    + "with this manifest; the next window ends at 2026-12-11T00:00:00.000Z\n")
            #expect(fake.stats.requests == requests)
            #expect(try storeRows(harness, "SELECT id FROM runs").count == 1)
            let json = try await harness.run(Harness.product, ["m.yaml", "--output", "json"], environment: Self.environment)
            let document = try JSONValue(parsing: json.stdout)
            #expect(document["action"] == "window_done" && document["run_id"] == 1)
            #expect(document["next_window_end"] == "2026-12-11T00:00:00.000Z")
            #expect(
                document["window_start"] == "2026-11-13T00:00:00.000Z" && document["window_end"] == "2026-11-27T00:00:00.000Z")

            let off = try await harness.run(
                Harness.product, ["m.yaml", "--window-end", "2026-11-20"], environment: Self.environment)
            #expect(off.status == 2)
            #expect(
                off.stderr
                    == "error: --window-end 2026-11-20 is not a boundary of the manifest's windows (14 days from 2026-10-30T00:00:00Z)\n"
                    + "  hint: give 2026-11-13T00:00:00Z or 2026-11-27T00:00:00Z\n")

            // The window before, run by the command the summary gave; then it is complete.
            let before = try await harness.run(
                Harness.product, ["m.yaml", "--window-end", "2026-11-13T00:00:00.000Z", "-q"], environment: Self.environment)
            #expect(before.status == 0, "\(before.stderr)")
            let forced = try await harness.run(Harness.product, ["m.yaml", "--new"], environment: Self.environment)
            #expect(forced.status == 0)
            #expect(
                forced.stderr.contains(
                    "the window before it (2026-10-30T00:00:00.000Z → 2026-11-13T00:00:00.000Z) is complete (run 2)"),
                "\(forced.stderr)")
        }
    }

    /// Issue #27: outputs stay put. A past window's run writes its dated report files only
    /// (`latest.*` stays the newest window's). Going back to the current window reuses what it
    /// already had — no GitHub request — but for evidence and reports, which read the windows
    /// before theirs: the first time back, the past window is new to them (a "previous" to
    /// compare with, a trend), so they are made again; from then on, switching between the two
    /// windows reuses everything, model calls included.
    @Test func aPastWindowLeavesLatestAloneAndTheCurrentWindowIsReusedWhole() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        let model = FakeModel(modes: [.good])
        let modelURL = try await model.start()
        try await afterwards({
            await fake.stop()
            await model.stop()
        }) {
            let harness = try Harness()
            try harness.write(
                "m.yaml",
                Self.manifest(url, export: true)
                    + """
                    report:
                      scopes: [repository, estate]
                      model: {backend: openai, endpoint: \(modelURL.absoluteString), model: fake-model}

                    """)
            var environment = Self.environment
            environment["GHILLIE_OPENAI_API_KEY"] = "sk-fake"
            #expect(try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment).status == 0)
            let latest = harness.folder.appendingPathComponent("out/windows/reports/estate/latest.html")
            let page = try String(contentsOf: latest, encoding: .utf8)
            #expect(page.contains("2026-11-13 to 2026-11-27"))
            #expect(!page.contains("Trends over"))
            let markdown = harness.folder.appendingPathComponent("out/windows/reports/acme/repo-000/latest.md")
            let report = try String(contentsOf: markdown, encoding: .utf8)

            let pastWindow = ["m.yaml", "-q", "--window-end", "2026-11-13"]
            let past = try await harness.run(Harness.product, pastWindow, environment: environment)
            #expect(past.status == 0, "\(past.stderr)")
            // The past window's dated files are there; `latest.*` is still the newest window's.
            #expect(FileManager.default.fileExists(atPath: harness.path("out/windows/reports/estate/2026-11-13.html")))
            #expect(FileManager.default.fileExists(atPath: harness.path("out/windows/reports/acme/repo-000/2026-11-13.md")))
            #expect(try String(contentsOf: latest, encoding: .utf8) == page)
            #expect(try String(contentsOf: markdown, encoding: .utf8) == report)

            /// Units the latest run ran (rather than reused).
            func ran() throws -> [String] {
                try storeRows(
                    harness,
                    """
                    SELECT stage || ':' || unit AS unit FROM unit_attempts
                    WHERE run_id = (SELECT MAX(id) FROM runs) AND reused_from_run IS NULL AND state = 'succeeded'
                    """
                ).map { try $0.string("unit") }.sorted()
            }
            // Back to the current window: the data is reused; evidence and reports are made again
            // with the window before theirs (previous values, and the estate page's trends).
            var requests = fake.stats.requests
            let back = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(back.status == 0, "\(back.stderr)")
            #expect(fake.stats.requests == requests)
            let rewritten = try ran()
            // Evidence too: the store now covers the window before, so the metrics gain their
            // previous values.
            #expect(
                rewritten.allSatisfy { $0.hasPrefix("evidence:") || $0.hasPrefix("report:") || $0.hasPrefix("export:") },
                "\(rewritten)")
            #expect(rewritten.contains("evidence:acme/repo-000"))
            #expect(rewritten.contains("report:estate"))
            let why = try storeRows(
                harness,
                """
                SELECT reason FROM unit_attempts
                WHERE run_id = (SELECT MAX(id) FROM runs) AND stage = 'report' AND unit = 'estate'
                """
            ).map { try $0.string("reason") }
            #expect(
                why == [
                    "input changed: earlier windows, upstream evidence:estate, upstream report:acme/repo-000, "
                        + "upstream report:acme/repo-001"
                ])
            let evidenceWhy = try storeRows(
                harness,
                """
                SELECT reason FROM unit_attempts
                WHERE run_id = (SELECT MAX(id) FROM runs) AND stage = 'evidence' AND unit = 'acme/repo-000'
                """
            ).map { try $0.string("reason") }
            #expect(evidenceWhy == ["input changed: earlier windows"])
            let trended = try String(contentsOf: latest, encoding: .utf8)
            #expect(trended.contains("2026-11-13 to 2026-11-27") && trended.contains("Trends over the last 2 windows"))

            // From then on, each window reuses its own outputs whole.
            #expect(try await harness.run(Harness.product, pastWindow, environment: environment).status == 0)
            let pastAgain = try ran()
            #expect(pastAgain.isEmpty, "\(pastAgain)")
            requests = fake.stats.requests
            let calls = model.requests.count
            let again = try await harness.run(Harness.product, ["m.yaml", "--output", "json"], environment: environment)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(fake.stats.requests == requests)
            #expect(model.requests.count == calls)
            let currentAgain = try ran()
            #expect(currentAgain.isEmpty, "\(currentAgain)")
            #expect(try String(contentsOf: latest, encoding: .utf8) == trended)
        }
    }
}
