import Foundation
import GitHubFake
import JSON
import PostgresDriver
import SQLiteDriver
import Store
import TestSupport
import Testing

/// Reads the store a binary wrote, through the library (never a mock).
func storeRows(_ harness: Harness, _ sql: SQL) throws -> [Row] {
    let database = Database(
        connection: try SQLiteConnection(path: harness.path(".ghillie/ghillie.sqlite")),
        displayName: "store")
    return try database.query(sql)
}

/// Units whose output was written more than once (must always be empty).
func writtenTwice(_ harness: Harness) throws -> [String] {
    try storeRows(harness, "SELECT unit FROM test_effects GROUP BY unit HAVING COUNT(*) > 1").map { try $0.string("unit") }
}

@Suite("Command line")
struct CommandTests {
    /// Issue #27: the devserver says what it takes, and refuses what it does not.
    @Test(
        arguments: [
            (["--help"], 0, "usage: ghillie-devserver [options]\n", ""),
            (["--port", "abc"], 2, "", "ghillie-devserver: --port takes a port number (0-65535), not `abc`\n"),
            (["--repositories", "0"], 2, "", "ghillie-devserver: --repositories takes a number of 1 or more, not `0`\n"),
            (["--mutate", "1:2"], 2, "", "ghillie-devserver: --mutate takes SEED or SEED:RATE (RATE from 0 to 1), not `1:2`\n"),
            (["--port"], 2, "", "ghillie-devserver: --port needs a value: a port number (0-65535)\n"),
            (["--prot", "1"], 2, "", "ghillie-devserver: unknown option --prot\n"),
        ] as [([String], Int32, String, String)])
    func theDevserverSaysWhatItTakes(arguments: [String], status: Int32, stdout: String, stderr: String) async throws {
        let binary = URL(fileURLWithPath: Harness.product).deletingLastPathComponent().appendingPathComponent("ghillie-devserver")
        let result = try await Harness().run(binary.path, arguments)
        #expect(result.status == status)
        #expect(result.stdout.hasPrefix(stdout))
        #expect(result.stderr == (stderr.isEmpty ? "" : stderr + "(`ghillie-devserver --help` lists the options)\n"))
    }

    /// Issue #27: the README's figures are the binary's. Its `validate` example prints what it
    /// says, and its example manifest is valid.
    @Test func theReadmesValidateExampleAndManifestAreTheBinarys() async throws {
        let readme = try String(contentsOf: SourceTree.url("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let command = try #require(lines.firstIndex(of: "$ ghillie-run validate pipelines/mvp.yaml"))
        let printed = lines[command + 1]
        let harness = try Harness()
        let result = try await harness.run(Harness.product, ["validate", SourceTree.url("pipelines/mvp.yaml").path])
        #expect(result.status == 0)
        #expect(
            result.stdout.replacingOccurrences(of: SourceTree.url("pipelines/mvp.yaml").path, with: "pipelines/mvp.yaml")
                == printed + "\n")
        // The manifest under "Point it at your estate".
        let heading = try #require(lines.firstIndex(of: "## Point it at your estate"))
        let open = try #require(lines[heading...].firstIndex(of: "```yaml"))
        let close = try #require(lines[(open + 1)...].firstIndex(of: "```"))
        try harness.write("estate.yaml", lines[(open + 1)..<close].joined(separator: "\n") + "\n")
        let example = try await harness.run(Harness.product, ["validate", "estate.yaml"])
        #expect(example.status == 0, "\(example.stdout)\(example.stderr)")
    }

    /// A port another process holds ends the devserver at once, saying so (it used to wait a
    /// minute and crash, and the demo then talked to whatever listened there).
    @Test func theDevserverSaysWhenItsPortIsTaken() async throws {
        let holder = FakeGitHub(estate: EstateGenerator(seed: 1, repositories: 1).generate(), token: "t")
        let url = try await holder.start()
        try await afterwards({ await holder.stop() }) {
            let port = try #require(url.port)
            let binary = URL(fileURLWithPath: Harness.product).deletingLastPathComponent()
                .appendingPathComponent("ghillie-devserver")
            let started = ContinuousClock.now
            let result = try await Harness().run(
                binary.path, ["--port", String(port), "--model-port", "0", "--repositories", "1"])
            #expect(result.status == 1)
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(
                result.stderr.hasPrefix("ghillie-devserver: the fake GitHub: cannot listen on 127.0.0.1:\(port): "),
                "\(result.stderr)")
            #expect(result.stderr.hasSuffix("(another ghillie-devserver? --port and --model-port pick others)\n"))
        }
    }

    @Test func helpListsOnlyWorkingCommands() async throws {
        let result = try await Harness().run(Harness.product, ["--help"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let commands = result.stdout.split(separator: "\n").filter {
            $0.hasPrefix("  ") && !$0.hasPrefix("   ") && !$0.hasPrefix("  See")
        }
        .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(
            commands == [
                "--version", "-h,", "run", "backfill", "validate", "plan", "status", "check", "runs", "submit", "worker",
            ])
    }

    @Test func validateReportsEveryErrorWithLocationsAndExits2() async throws {
        let harness = try Harness()
        try harness.write(
            "bad.yaml",
            """
            version: 1
            name: bad
            estate:
              key: acme
              repositories:
                - slug: acme/a
            windw: {days: 14}
            export:
              formats: [csv, parquet]
            """)
        let result = try await harness.run(Harness.product, ["validate", "bad.yaml"])
        #expect(result.status == 2)
        #expect(result.stdout == "bad.yaml: invalid (2 errors)\n")
        #expect(
            result.stderr == """
                bad.yaml:7:1: error: unknown key `windw` at the top level
                  hint: did you mean `window`?
                bad.yaml:9:18: error: `parquet` is not a valid export format
                  hint: allowed: `json`, `jsonl`, `csv`

                """)
    }

    @Test func validateAcceptsAGoodManifest() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let result = try await harness.run(Harness.product, ["validate", "m.yaml"])
        #expect(result.status == 0)
        #expect(result.stdout == "m.yaml: ok (`e2e`: 3 repositories, 17 units in ingest, refine, evidence, report, export)\n")
        #expect(result.stderr == "")
    }

    @Test func runningAManifestWithAnInvalidFileExits2() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", "version: 1\nname: x\n")
        let result = try await harness.run(Harness.product, ["m.yaml"])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(
            result.stderr == """
                m.yaml:1:1: error: the manifest is missing the required key `estate`
                error: m.yaml has 1 error

                """)
    }

    @Test func theProductBinaryChecksStageConfigurationBeforeAnythingRuns() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let result = try await harness.run(Harness.product, ["m.yaml"])
        #expect(result.status == 5)
        #expect(
            result.stderr == """
                error: the GitHub token variable `GHILLIE_GITHUB_TOKEN` is not set
                  hint: export GHILLIE_GITHUB_TOKEN=<a token with read access to the estate's repositories> (or name another variable in `github.token_env`)

                """)
        #expect(!FileManager.default.fileExists(atPath: harness.path(".ghillie/ghillie.sqlite")))
    }

    @Test func unknownUnitInSelectionExits2WithSuggestion() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let result = try await harness.run(["m.yaml", "--rerun", "refine:acme/d"])
        #expect(result.status == 2)
        #expect(
            result.stderr == """
                error: unknown unit `refine:acme/d`
                  hint: did you mean `refine:acme/a`?

                """)
    }

    @Test func planShowsEachUnitAndWhy() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let result = try await harness.run(["plan", "m.yaml"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "plan for `e2e`: would start a new run (first run of `e2e`)")
        #expect(lines[1] == "window 2026-11-01T00:00:00.000Z → 2026-11-15T00:00:00.000Z")
        #expect(lines[4] == "ingest:acme/a       run             never ran")
        #expect(lines.contains("refine:acme/a       run-if-changed  runs if ingest:acme/a produces a different output"))
        #expect(lines.suffix(2) == ["3 run, 14 run-if-changed", ""])
        #expect(!FileManager.default.fileExists(atPath: harness.path(".ghillie/ghillie.sqlite")))
    }
}

@Suite("Runs, resume and the ledger", .serialized)
struct RunTests {
    @Test func aFailedUnitFailsOnlyItsDownstreamAndARerunResumesOnlyIt() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let first = try await harness.run(["m.yaml", "--jobs", "2"], environment: ["GHILLIE_TEST_FAIL": "refine:acme/b"])
        #expect(first.status == 3)
        #expect(first.stdout == "")
        #expect(first.stderr.contains("FAIL  refine:acme/b: injected failure for refine:acme/b [test_failure]"))
        #expect(
            first.stderr.contains(
                "1 unit failed; `ghillie-run status m.yaml` shows why, and rerunning `ghillie-run m.yaml` resumes"))

        let status = try await harness.run(["status", "m.yaml", "--output", "json"])
        #expect(status.status == 0)
        struct Status: Decodable {
            struct Run: Decodable { let id: Int; let state: String }
            struct Unit: Decodable { let unit: String; let state: String; let error_code: String? }
            let schema_version: Int
            let run: Run
            let stages: [String: [String: Int]]
            let units: [Unit]
        }
        let doc = try JSONDecoder().decode(Status.self, from: Data(status.stdout.utf8))
        #expect(doc.schema_version == 1 && doc.run.state == "failed")
        #expect(doc.stages["ingest"] == ["succeeded": 3])
        #expect(doc.stages["refine"] == ["succeeded": 2, "failed": 1])
        #expect(doc.stages["evidence"] == ["succeeded": 2, "skipped": 2])
        #expect(doc.stages["report"] == ["succeeded": 2, "skipped": 2])
        #expect(doc.stages["export"] == ["skipped": 3])
        let skipped = doc.units.filter { $0.state == "skipped" }.map(\.unit).sorted()
        #expect(
            skipped == [
                "evidence:acme/b", "evidence:estate", "export:commits.csv", "export:manifest", "export:metrics.csv",
                "report:acme/b", "report:estate",
            ])

        harness.clearStarts()
        let second = try await harness.run(["m.yaml"])
        #expect(second.status == 0)
        #expect(second.stderr.hasPrefix("continuing run 1 of `e2e` (it ended failed)\n"))
        let resumed = harness.starts().map {
            $0.replacingOccurrences(of: " run=1", with: "").replacingOccurrences(of: "start ", with: "")
        }
        #expect(
            resumed.sorted() == [
                "evidence:acme/b", "evidence:estate", "export:commits.csv", "export:manifest",
                "export:metrics.csv", "refine:acme/b", "report:acme/b", "report:estate",
            ])
        #expect(try writtenTwice(harness) == [])
        #expect(try storeRows(harness, "SELECT COUNT(*) AS n FROM test_effects").first?.int("n") == 17)

        // A third invocation finds everything up to date: a new run, nothing executed.
        harness.clearStarts()
        let third = try await harness.run(["m.yaml", "--output", "json"])
        #expect(third.status == 0)
        #expect(harness.starts() == [])
        #expect(third.stdout.contains("\"ending\" : \"succeeded\""))
        #expect(third.stderr == "starting run 2 of `e2e` (run 1 succeeded)\n")
    }

    @Test func rerunAndFromForceUnitsAndOnlyRestricts() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        #expect(try await harness.run(["m.yaml", "-q"]).status == 0)

        // Same output from a forced ingest: downstream is reused, not rerun.
        harness.clearStarts()
        #expect(try await harness.run(["m.yaml", "--new", "--rerun", "ingest:acme/a", "-q"]).status == 0)
        #expect(harness.starts().map { String($0.split(separator: " ")[1]) } == ["ingest:acme/a"])

        // New data behind a forced ingest ripples to everything downstream of it.
        harness.clearStarts()
        #expect(
            try await harness.run(
                ["m.yaml", "--new", "--rerun", "ingest:acme/a", "-q"],
                environment: ["GHILLIE_TEST_SALT": "new data"]
            ).status == 0)
        #expect(
            Set(harness.starts().map { String($0.split(separator: " ")[1]) }) == [
                "ingest:acme/a", "refine:acme/a", "evidence:acme/a", "evidence:estate", "report:acme/a", "report:estate",
                "export:commits.csv", "export:metrics.csv", "export:manifest",
            ])

        harness.clearStarts()
        #expect(
            try await harness.run(
                ["m.yaml", "--new", "--from", "report", "-q"],
                environment: ["GHILLIE_TEST_SALT": "new data"]
            ).status == 0)
        #expect(
            Set(harness.starts().map { String($0.split(separator: " ")[1]) }) == [
                "report:acme/a", "report:acme/b", "report:acme/c", "report:estate",
            ])

        harness.clearStarts()
        // Only one unit, with new data: its dependents keep stale outputs, so the run is incomplete.
        let only = try await harness.run(
            [
                "m.yaml", "--new", "--only", "ingest:acme/c", "--rerun", "ingest:acme/c",
                "--output", "json",
            ], environment: ["GHILLIE_TEST_SALT": "newer data"])
        #expect(only.status == 0)
        #expect(harness.starts().map { String($0.split(separator: " ")[1]) } == ["ingest:acme/c"])
        #expect(only.stdout.contains("\"ending\" : \"incomplete\""))
    }

    @Test func aSecondInvocationExits4NamingTheHolder() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let holder = harness.process(Harness.withTestStages, ["m.yaml", "-q"], environment: ["GHILLIE_TEST_DELAY_MS": "400"])
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        #expect(await harness.waitUntil { !harness.starts().isEmpty })
        let second = try await harness.run(["m.yaml"])
        #expect(second.status == 4)
        #expect(second.stderr.hasPrefix("error: manifest `e2e` is locked by pid \(holder.processIdentifier) on "))
        #expect(
            second.stderr.contains(
                "(run 1)\n  hint: wait for that run to finish; a lock whose process died is taken over automatically\n"))
    }

    @Test func sigkillAtAnyMomentLeavesAResumableStoreAndNothingIsDoneTwice() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let victim = harness.process(
            Harness.withTestStages, ["m.yaml", "-q", "--jobs", "2"],
            environment: ["GHILLIE_TEST_DELAY_MS": "150"])
        victim.standardError = FileHandle.nullDevice
        try victim.run()
        #expect(await harness.waitUntil { harness.starts().count >= 6 })
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let doneBefore = try storeRows(harness, "SELECT unit FROM test_effects").map { try $0.string("unit") }
        let startedBefore = Set(harness.starts().map { String($0.split(separator: " ")[1]) })
        #expect(!doneBefore.isEmpty && doneBefore.count < 17)
        // Units that had started but not committed when the process died.
        let cutOff = startedBefore.subtracting(doneBefore)

        harness.clearStarts()
        let resumed = try await harness.run(["m.yaml"])
        #expect(resumed.status == 0)
        #expect(resumed.stderr.contains("note: took over the lock of `e2e` from pid \(victim.processIdentifier)"))
        #expect(resumed.stderr.contains("continuing run 1 of `e2e` (it ended running"))
        let rerun = Set(harness.starts().map { String($0.split(separator: " ")[1]) })
        #expect(rerun.isDisjoint(with: doneBefore))
        #expect(cutOff.isSubset(of: rerun))
        #expect(try writtenTwice(harness) == [])
        #expect(try storeRows(harness, "SELECT COUNT(*) AS n FROM test_effects").first?.int("n") == 17)
        let interrupted = try storeRows(harness, "SELECT stage, unit FROM unit_attempts WHERE state = 'interrupted'")
            .map { "\(try $0.string("stage")):\(try $0.string("unit"))" }
        #expect(Set(interrupted) == cutOff)
    }

    @Test func sigintStopsSchedulingRecordsInterruptedAndExits130() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let process = harness.process(
            Harness.withTestStages, ["m.yaml", "--jobs", "1"],
            environment: ["GHILLIE_TEST_DELAY_MS": "2000"])
        let err = Pipe()
        process.standardError = err
        try process.run()
        #expect(await harness.waitUntil { !harness.starts().isEmpty })
        kill(process.processIdentifier, SIGINT)
        let stderr = try await Harness.offPool {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
        #expect(process.terminationStatus == 130)
        #expect(stderr.contains("stopping: no new units will start; waiting for 1 running (Ctrl-C again to quit now)"))
        #expect(stderr.contains("STOP  ingest:acme/a interrupted"))
        #expect(stderr.contains("run 1 of `e2e` interrupted"))
        #expect(stderr.hasSuffix("interrupted; rerun `ghillie-run m.yaml` to resume\n"))

        let status = try await harness.run(["status", "m.yaml"])
        #expect(status.stdout.hasPrefix("run 1 of `e2e`: interrupted\n"))
        #expect(
            status.stdout.contains(
                "ingest:acme/a  interrupted  1        stopped by a signal before the unit finished [interrupted]"))
        let resumed = try await harness.run(["m.yaml", "-q"])
        #expect(resumed.status == 0)
        #expect(try writtenTwice(harness) == [])
    }

    @Test func secretsNeverReachOutputOrTheLedger() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        let secret = "ghp_SuperSecretToken123"
        let result = try await harness.run(
            ["m.yaml"],
            environment: [
                "GHILLIE_GITHUB_TOKEN": secret, "GHILLIE_TEST_SECRET_ECHO": "ingest:acme/b",
            ])
        #expect(result.status == 3)
        #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret))
        #expect(result.stderr.contains("FAIL  ingest:acme/b: server rejected token *** [auth]"))
        let store = try Data(contentsOf: URL(fileURLWithPath: harness.path(".ghillie/ghillie.sqlite")))
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: harness.path(".ghillie/ghillie.sqlite-wal")))) ?? Data()
        #expect(store.range(of: Data(secret.utf8)) == nil && wal.range(of: Data(secret.utf8)) == nil)
        let status = try await harness.run(["status", "m.yaml", "--output", "json"])
        #expect(!status.stdout.contains(secret))
    }

    @Test func runsListsRunsNewestFirst() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        #expect(try await harness.run(["m.yaml", "-q"]).status == 0)
        #expect(try await harness.run(["m.yaml", "-q", "--new"]).status == 0)
        let result = try await harness.run(["runs", "--output", "json"])
        struct Runs: Decodable {
            struct Run: Decodable { let id: Int; let state: String; let window_end: String }
            let schema_version: Int
            let runs: [Run]
        }
        let doc = try JSONDecoder().decode(Runs.self, from: Data(result.stdout.utf8))
        #expect(doc.runs.map(\.id) == [2, 1])
        #expect(doc.runs.allSatisfy { $0.state == "succeeded" && $0.window_end == "2026-11-15T00:00:00.000Z" })
    }
}

/// The same resume story on a PostgreSQL store (`GHILLIE_STORE`), when `make test` provides one.
@Test(.enabled(if: TestDatabase.postgresEnabled))
func resumeWorksOnPostgres() async throws {
    let url = try TestDatabase.requirePostgres()
    let harness = try Harness()
    let name = "pg-e2e-\(UInt32.random(in: 0...UInt32.max))"
    try harness.write("m.yaml", Harness.manifest.replacingOccurrences(of: "name: e2e", with: "name: \(name)"))
    let environment = ["GHILLIE_STORE": url]
    let first = try await harness.run(
        ["m.yaml", "-q"], environment: environment.merging(["GHILLIE_TEST_FAIL": "ingest:acme/c"]) { $1 })
    #expect(first.status == 3)
    #expect(!FileManager.default.fileExists(atPath: harness.path(".ghillie")))
    harness.clearStarts()
    let second = try await harness.run(["m.yaml", "-q"], environment: environment)
    #expect(second.status == 0)
    #expect(
        Set(harness.starts().map { String($0.split(separator: " ")[1]) }) == [
            "ingest:acme/c", "refine:acme/c", "evidence:acme/c", "evidence:estate", "report:acme/c", "report:estate",
            "export:commits.csv", "export:metrics.csv", "export:manifest",
        ])
    let database = Database(connection: try PostgresConnection(url: url), displayName: "pg")
    let rows = try database.query(
        """
        SELECT unit, COUNT(*) AS n FROM test_effects
        WHERE run_id IN (SELECT id FROM runs WHERE name = \(name)) GROUP BY unit
        """)
    #expect(rows.count == 17)
    #expect(try rows.allSatisfy { try $0.int("n") == 1 })
    let status = try await harness.run(["status", "m.yaml", "--output", "json"], environment: environment)
    #expect(status.stdout.contains("\"state\" : \"succeeded\""))
}

/// The manifests shipped in `pipelines/` stay valid.
@Test(arguments: ["demo.yaml", "mvp.yaml", "example-catalogue.yaml"])
func shippedPipelinesValidate(_ name: String) async throws {
    let pipelines = SourceTree.url("pipelines")
    let harness = try Harness()
    let path = pipelines.appendingPathComponent(name).path
    let result = try await harness.run(Harness.product, ["validate", path])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.hasPrefix("\(path): ok ("))
    #expect(result.stderr == "")
}

/// Every error ends in one place: text on stderr and, with `--output json`, one JSON document
/// on stdout with the same exit code — and a store password appears in neither.
@Test(arguments: [["runs"], ["runs", "--output", "json"], ["runs", "--output=json"]])
func anUnreachableStoreIsExit5AndItsPasswordIsNowhere(_ arguments: [String]) async throws {
    let harness = try Harness()
    let result = try await harness.run(
        Harness.product, arguments, environment: ["GHILLIE_STORE": "postgres://user:s3cretpass@127.0.0.1:9/db"])
    #expect(result.status == 5)
    #expect(result.stderr.hasPrefix("error: cannot open the store postgres://user:***@127.0.0.1:9/db"))
    #expect(!result.stdout.contains("s3cretpass") && !result.stderr.contains("s3cretpass"))
    if arguments.contains(where: { $0.contains("json") }) {
        let document = try JSONValue(parsing: result.stdout)
        #expect(document["error"]?["exit_code"] == 5 && document["schema_version"] == 1)
        #expect(document["error"]?["hint"]?.string?.contains("GHILLIE_STORE") == true)
    } else {
        #expect(result.stdout == "")
    }
}

/// A command line that does not parse is the usage code, as a JSON document too when asked.
@Test func aBadOptionIsExit2EvenAsJSON() async throws {
    let harness = try Harness()
    let result = try await harness.run(Harness.product, ["runs", "--limit", "0", "--output", "json"])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("error: --limit must be at least 1\n  hint: Usage: ghillie-run runs "))
    #expect(try JSONValue(parsing: result.stdout)["error"]?["exit_code"] == 2)
}
