import Foundation
import GitHubFake
import JSON
import ModelFake
import PostgresDriver
import Store
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rows from the test PostgreSQL database (the one the binaries under test use).
private func postgresRows(_ sql: SQL) throws -> [Row] {
    let database = Database(connection: try PostgresConnection(url: try TestDatabase.requirePostgres()), displayName: "pg")
    return try database.query(sql)
}

private func count(_ sql: SQL) throws -> Int64 {
    try postgresRows(sql).first?.int("n") ?? -1
}

/// `ghillie-run submit` and any number of `ghillie-run worker` processes sharing one run through
/// PostgreSQL: every unit once, the same bytes as one process, a dead or paused worker's units
/// taken over, and its late completion rejected.
@Suite("Worker pool on PostgreSQL", .enabled(if: TestDatabase.postgresEnabled), .serialized)
struct PoolTests {
    static let token = "pool-token"

    /// A new estate with an owner of its own, so runs of concurrent tests never meet.
    static func estate(repositories: Int) -> FakeEstate {
        EstateGenerator(seed: 11, repositories: repositories, owner: "pool\(UInt32.random(in: 0...UInt32.max))").generate()
    }

    /// The exports of one process running the manifest on SQLite, without the export manifest
    /// (it names the run id).
    static func reference(_ text: String, name: String) async throws -> [String: Data] {
        let harness = try Harness()
        try harness.write("m.yaml", text)
        let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: ["GHILLIE_GITHUB_TOKEN": token])
        #expect(result.status == 0, "\(result.stderr)")
        var files = try exportFiles(try exportFolder(harness, name: name))
        files["export-manifest.json"] = nil
        return files
    }

    /// What a pool test works with: a fake GitHub serving a new estate, the manifest of it in
    /// a harness of its own, the environment with the PostgreSQL store, and (when asked) the
    /// exports one process makes of it on SQLite.
    struct Scenario {
        let estate: FakeEstate
        let fake: FakeGitHub
        let url: URL
        let name: String
        let harness: Harness
        let environment: [String: String]
        let expected: [String: Data]
    }

    static func withScenario(
        repositories: Int, reference: Bool = false, _ body: (Scenario) async throws -> Void
    ) async throws {
        let estate = Self.estate(repositories: repositories)
        let fake = FakeGitHub(estate: estate, token: token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let name = "pool-\(estate.repositories[0].owner)"
            let text = ExportTests.manifest(url, name: name, estate: estate)
            let expected = reference ? try await Self.reference(text, name: name) : [:]
            let harness = try Harness()
            try harness.write("m.yaml", text)
            try await body(
                Scenario(
                    estate: estate, fake: fake, url: url, name: name, harness: harness,
                    environment: ["GHILLIE_GITHUB_TOKEN": token, "GHILLIE_STORE": try TestDatabase.requirePostgres()],
                    expected: expected))
        }
    }

    static func exports(_ harness: Harness, name: String) throws -> [String: Data] {
        var files = try exportFiles(try exportFolder(harness, name: name))
        files["export-manifest.json"] = nil
        return files
    }

    @Test func fourWorkersRunEveryUnitOnceAndExportWhatOneProcessExports() async throws {
        try await Self.withScenario(repositories: 8, reference: true) { scenario in
            let (fake, harness, name, environment) = (scenario.fake, scenario.harness, scenario.name, scenario.environment)
            let expected = scenario.expected
            // Every answer takes a while, so the four workers overlap.
            fake.inject(Fault(.delay(.milliseconds(40)), times: 100_000))
            let submitted = try await harness.run(Harness.product, ["submit", "m.yaml", "-q"], environment: environment)
            #expect(submitted.status == 0 && submitted.stderr.isEmpty, "\(submitted.stderr)")
            let runID = try #require(Int64(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            // Submitting again finds the same run.
            let again = try await harness.run(Harness.product, ["submit", "m.yaml", "-q"], environment: environment)
            #expect(again.status == 0 && again.stdout == submitted.stdout)

            let arguments = ["worker", "m.yaml", "-q", "--jobs", "2"]
            async let first = harness.run(Harness.product, arguments, environment: environment)
            async let second = harness.run(Harness.product, arguments, environment: environment)
            async let third = harness.run(Harness.product, arguments, environment: environment)
            async let fourth = harness.run(Harness.product, arguments, environment: environment)
            for result in try await [first, second, third, fourth] {
                #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(result.stderr)")
            }

            // Every unit ran, and succeeded, exactly once.
            let perUnit = try postgresRows(
                """
                SELECT stage, unit, COUNT(*) AS n, SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS ok
                FROM unit_attempts WHERE run_id = \(runID) GROUP BY stage, unit
                """)
            #expect(perUnit.count > 30)
            for row in perUnit {
                let unit = "\(try row.string("stage")):\(try row.string("unit"))"
                #expect(try row.int("n") == 1 && row.int("ok") == 1, "\(unit)")
            }
            #expect(try postgresRows("SELECT state FROM runs WHERE id = \(runID)").first?.string("state") == "succeeded")
            // The units were shared: more than one worker did some.
            let workers = try postgresRows("SELECT state, units_done FROM run_workers WHERE run_id = \(runID)")
            #expect(workers.count == 4 && workers.allSatisfy { (try? $0.string("state")) == "finished" })
            #expect(workers.filter { ((try? $0.int("units_done")) ?? 0) > 0 }.count >= 2)
            #expect(workers.reduce(0) { $0 + ((try? $1.int("units_done")) ?? 0) } == Int64(perUnit.count))
            #expect(try Self.exports(harness, name: name) == expected)

            // `status` shows the pool, in JSON too.
            let status = try await harness.run(
                Harness.product, ["status", "m.yaml", "--output", "json"], environment: environment)
            let document = try JSONValue(parsing: status.stdout)
            #expect(document["pool"]?["mode"]?.string == "pool")
            #expect(document["pool"]?["workers"]?.array?.count == 4)
            #expect(document["pool"]?["leases_taken_over"] == 0)
            // A worker started after the run finished has nothing to do.
            let late = try await harness.run(Harness.product, arguments, environment: environment)
            #expect(late.status == 0 && late.stdout.isEmpty)
        }
    }

    @Test func aKilledWorkersUnitsAreTakenOverAndTheRunFinishesTheSame() async throws {
        try await Self.withScenario(repositories: 4, reference: true) { scenario in
            let (fake, harness, name, environment) = (scenario.fake, scenario.harness, scenario.name, scenario.environment)
            let expected = scenario.expected
            fake.inject(Fault(.delay(.milliseconds(150)), times: 100_000))
            let arguments = ["worker", "m.yaml", "-q", "--submit-if-absent", "--lease", "2", "--jobs", "2"]
            let victim = harness.process(Harness.product, arguments, environment: environment)
            victim.standardError = FileHandle.nullDevice
            try victim.run()
            let holding = await harness.waitUntil(timeout: 60) {
                ((try? count(
                    """
                    SELECT COUNT(*) AS n FROM run_units u JOIN runs r ON r.id = u.run_id
                    WHERE r.name = \(name) AND u.state = 'running'
                    """)) ?? 0) >= 1
            }
            #expect(holding)
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()

            let rescuer = try await harness.run(Harness.product, arguments, environment: environment)
            #expect(rescuer.status == 0, "\(rescuer.stderr)")
            let runID = try #require(try postgresRows("SELECT MAX(id) AS id FROM runs WHERE name = \(name)").first?.int("id"))
            // The killed worker's units were taken over: their first attempt ended `lease_expired`,
            // a later one succeeded.
            let takenOver = try postgresRows(
                """
                SELECT stage, unit, attempt FROM unit_attempts
                WHERE run_id = \(runID) AND state = 'interrupted' AND error_code = 'lease_expired'
                """)
            #expect(!takenOver.isEmpty)
            for row in takenOver {
                let later = try count(
                    """
                    SELECT COUNT(*) AS n FROM unit_attempts WHERE run_id = \(runID) AND stage = \(try row.string("stage"))
                      AND unit = \(try row.string("unit")) AND state = 'succeeded' AND attempt > \(try row.int("attempt"))
                    """)
                #expect(later == 1)
            }
            #expect(try count("SELECT SUM(takeovers) AS n FROM run_workers WHERE run_id = \(runID)") == Int64(takenOver.count))
            #expect(
                try count(
                    """
                    SELECT COUNT(*) AS n FROM (SELECT stage, unit FROM unit_attempts WHERE run_id = \(runID) AND state = 'succeeded'
                                               GROUP BY stage, unit HAVING COUNT(*) > 1) AS twice
                    """) == 0)
            #expect(try Self.exports(harness, name: name) == expected)
        }
    }

    @Test func aPausedWorkersLateCompletionIsRejectedAndRecorded() async throws {
        try await Self.withScenario(repositories: 3, reference: true) { scenario in
            let (fake, harness, name, environment) = (scenario.fake, scenario.harness, scenario.name, scenario.environment)
            let expected = scenario.expected
            let slow = scenario.estate.repositories[0].slug
            // One repository answers slowly, so its ingest is still running when the worker is paused.
            fake.inject(Fault(.delay(.milliseconds(700)), repository: slow, times: 100_000))
            let submitted = try await harness.run(Harness.product, ["submit", "m.yaml", "-q"], environment: environment)
            let runID = try #require(Int64(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let victim = harness.process(
                Harness.product, ["worker", "m.yaml", "-q", "--lease", "1", "--jobs", "4"], environment: environment)
            let victimErr = harness.folder.appendingPathComponent("victim.err")
            _ = FileManager.default.createFile(atPath: victimErr.path, contents: nil)
            victim.standardError = try FileHandle(forWritingTo: victimErr)
            try victim.run()
            let slowUnit = "ingest:\(slow)"
            let holding = await harness.waitUntil(timeout: 60) {
                ((try? count(
                    """
                    SELECT COUNT(*) AS n FROM run_units WHERE run_id = \(runID) AND stage = 'ingest'
                      AND unit = \(slow) AND state = 'running' AND owner LIKE \("%:\(victim.processIdentifier):%")
                    """)) ?? 0) == 1
            }
            #expect(holding, "\(slowUnit) never ran on the victim")
            kill(victim.processIdentifier, SIGSTOP)

            // Another worker takes the unit over once the paused one's lease expires, and finishes the run.
            let rescuer = try await harness.run(
                Harness.product, ["worker", "m.yaml", "-q", "--lease", "1"], environment: environment)
            #expect(rescuer.status == 0, "\(rescuer.stderr)")
            kill(victim.processIdentifier, SIGCONT)
            let ended = await harness.waitUntil(timeout: 60) { !victim.isRunning }
            #expect(ended)
            // It exits as the run ended; its late end of the unit was rejected and recorded.
            #expect(victim.terminationStatus == 0)
            let victimAttempt = try #require(
                try postgresRows(
                    """
                    SELECT state, error_code, error_message FROM unit_attempts
                    WHERE run_id = \(runID) AND stage = 'ingest' AND unit = \(slow) AND attempt = 1
                    """
                ).first)
            #expect(try victimAttempt.string("state") == "interrupted" && victimAttempt.string("error_code") == "lease_expired")
            #expect(try victimAttempt.string("error_message").contains("late completion (succeeded)"))
            // The worker counts each rejected late completion (other units it held may have had one too).
            let rejected = try count(
                """
                SELECT COUNT(*) AS n FROM unit_attempts WHERE run_id = \(runID) AND error_message LIKE '%late completion%'
                """)
            #expect(
                try count(
                    """
                    SELECT late_completions AS n FROM run_workers WHERE run_id = \(runID)
                      AND id LIKE \("%:\(victim.processIdentifier):%")
                    """) == rejected && rejected >= 1)
            let log = try String(contentsOf: victimErr, encoding: .utf8)
            #expect(log.contains("LOST  \(slowUnit) attempt 1: its lease was taken over while it ran; its end was not written"))
            // Nothing was written twice: one success, one output.
            #expect(
                try count(
                    """
                    SELECT COUNT(*) AS n FROM unit_attempts WHERE run_id = \(runID) AND stage = 'ingest' AND unit = \(slow)
                      AND state = 'succeeded'
                    """) == 1)
            #expect(try Self.exports(harness, name: name) == expected)
        }
    }

    @Test func sigtermGivesTheWorkersUnitsBackAndExits130() async throws {
        try await Self.withScenario(repositories: 3, reference: false) { scenario in
            let (fake, harness, environment) = (scenario.fake, scenario.harness, scenario.environment)
            fake.inject(Fault(.delay(.milliseconds(300)), times: 100_000))
            let submitted = try await harness.run(Harness.product, ["submit", "m.yaml", "-q"], environment: environment)
            let runID = try #require(Int64(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let worker = harness.process(Harness.product, ["worker", "m.yaml", "-q"], environment: environment)
            let errors = harness.folder.appendingPathComponent("worker.err")
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            worker.standardError = try FileHandle(forWritingTo: errors)
            try worker.run()
            let holding = await harness.waitUntil(timeout: 60) {
                ((try? count("SELECT COUNT(*) AS n FROM run_units WHERE run_id = \(runID) AND state = 'running'")) ?? 0) >= 1
            }
            #expect(holding)
            kill(worker.processIdentifier, SIGTERM)
            let ended = await harness.waitUntil(timeout: 30) { !worker.isRunning }
            #expect(ended && worker.terminationStatus == 130)
            let said = try String(contentsOf: errors, encoding: .utf8)
            #expect(
                said.hasSuffix(
                    "\nstopped; this worker's units went back to the queue; `ghillie-run worker m.yaml` joins again\n"), "\(said)"
            )
            // Nothing is held: the units are queued again, their attempts interrupted; the run goes on.
            #expect(try count("SELECT COUNT(*) AS n FROM run_units WHERE run_id = \(runID) AND state = 'running'") == 0)
            #expect(try count("SELECT COUNT(*) AS n FROM run_units WHERE run_id = \(runID) AND state = 'queued'") >= 1)
            #expect(try postgresRows("SELECT state FROM runs WHERE id = \(runID)").first?.string("state") == "running")
            #expect(try postgresRows("SELECT state FROM run_workers WHERE run_id = \(runID)").first?.string("state") == "stopped")
            // One process cannot take over a run a pool works while a worker is alive; with none, it can.
            fake.clearFaults()
            let next = try await harness.run(Harness.product, ["worker", "m.yaml", "-q"], environment: environment)
            #expect(next.status == 0, "\(next.stderr)")
            #expect(
                try count("SELECT COUNT(*) AS n FROM unit_attempts WHERE run_id = \(runID) AND error_code = 'lease_expired'") == 0
            )
            #expect(
                try count("SELECT COUNT(*) AS n FROM unit_attempts WHERE run_id = \(runID) AND error_code = 'interrupted'") >= 1)
        }
    }

    @Test func oneProcessDoesNotTakeARunAPoolIsWorking() async throws {
        try await Self.withScenario(repositories: 2, reference: false) { scenario in
            let (fake, harness, name, environment) = (scenario.fake, scenario.harness, scenario.name, scenario.environment)
            fake.inject(Fault(.delay(.milliseconds(500)), times: 100_000))
            let submitted = try await harness.run(Harness.product, ["submit", "m.yaml", "-q"], environment: environment)
            let runID = try #require(Int64(submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            let worker = harness.process(Harness.product, ["worker", "m.yaml", "-q"], environment: environment)
            worker.standardError = FileHandle.nullDevice
            try worker.run()
            let joined = await harness.waitUntil(timeout: 60) {
                ((try? count("SELECT COUNT(*) AS n FROM run_workers WHERE run_id = \(runID)")) ?? 0) == 1
            }
            #expect(joined)
            let alone = try await harness.run(Harness.product, ["m.yaml"], environment: environment)
            kill(worker.processIdentifier, SIGTERM)
            worker.waitUntilExit()
            #expect(alone.status == 4)
            #expect(
                alone.stderr.hasSuffix(
                    """
                    error: run \(runID) of `\(name)` is being worked by 1 worker
                      hint: `ghillie-run worker m.yaml` joins it; `ghillie-run status m.yaml` watches it

                    """), "\(alone.stderr)")
        }
    }

    /// Two owners, each read with a token of its own whose account has a small budget that
    /// resets every few seconds: two workers share each budget through the ledger, never take
    /// either below the floor, and finish once the budgets have reset often enough.
    @Test func twoTokensKeepTheirFloorsAndTheRunFinishesAsTheirBudgetsReset() async throws {
        var estate = Self.estate(repositories: 6)
        let alpha = estate.repositories[0].owner
        let beta = alpha + "-b"
        for index in 3..<6 { estate.repositories[index].owner = beta }
        let fake = FakeGitHub(estate: estate, token: Self.token, budget: 16, resetIn: 2)
        fake.configure { $0.ownerTokens["beta-token"] = OwnerToken(owner: beta, budget: 16, resetIn: 2) }
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let name = "pool-\(alpha)"
            let harness = try Harness()
            try harness.write(
                "m.yaml",
                estate.manifest(
                    name: name, endpoint: url,
                    settings: [
                        "collect: [commits, pull_requests, issues]", "owner_tokens: {\(beta): BETA_TOKEN}", "budget_floor: 10",
                    ]))
            let environment = [
                "GHILLIE_GITHUB_TOKEN": Self.token, "BETA_TOKEN": "beta-token",
                "GHILLIE_STORE": try TestDatabase.requirePostgres(),
            ]
            let arguments = ["worker", "m.yaml", "-q", "--submit-if-absent", "--jobs", "2"]
            async let first = harness.run(Harness.product, arguments, environment: environment)
            async let second = harness.run(Harness.product, arguments, environment: environment)
            for result in try await [first, second] {
                #expect(result.status == 0, "\(result.stderr)")
                #expect(!result.stderr.contains("beta-token") && !result.stderr.contains(Self.token))
            }
            let stats = fake.stats
            // Both tokens were used, and neither went below its floor or was refused.
            #expect(stats.lowestRemaining.keys.sorted() == ["beta-token", Self.token].sorted())
            #expect(stats.lowestRemaining.values.allSatisfy { $0 >= 10 }, "\(stats.lowestRemaining)")
            #expect(stats.exhaustedRefusals.isEmpty, "\(stats.exhaustedRefusals)")
            // More points than two windows allow without a reset: requests waited for resets.
            #expect(stats.pointsCharged > 2 * (16 - 10), "\(stats.pointsCharged) points")
            let status = try await harness.run(
                Harness.product, ["status", "m.yaml", "--output", "json"], environment: environment)
            let document = try JSONValue(parsing: status.stdout)
            let labels = (document["credentials"]?.array ?? []).compactMap { $0["label"]?.string }
            let server = "127.0.0.1:\(url.port ?? 0)"
            #expect(
                labels.contains("token BETA_TOKEN on \(server)") && labels.contains("token GHILLIE_GITHUB_TOKEN on \(server)"))
            let used = (document["credentials"]?.array ?? []).filter {
                ($0["label"]?.string ?? "").hasSuffix(" on \(server)") && ($0["floor"]?.int ?? 0) == 10
                    && ($0["requests"]?.int ?? 0) > 0
            }
            #expect(used.count == 2)
            #expect(!status.stdout.contains("beta-token") && !status.stdout.contains(Self.token))
        }
    }

    /// `report.model.max_in_flight` holds for every worker together: two workers run a report
    /// unit each at the same time, and the model still sees one request at a time.
    @Test func theModelsInFlightCapHoldsForEveryWorkerTogether() async throws {
        // Each answer takes 6 s: the other worker's report unit starts while the first waits.
        let scenario = try await ReportScenario.start([.patient], modelSettings: "    max_in_flight: 1\n")
        try await afterwards({ await scenario.stop() }) {
            // A store of its own: the scenario's estate and manifest name are shared with other tests.
            let url = try TestDatabase.requirePostgres()
            let schema = "slots_\(UInt32.random(in: 0...UInt32.max))"
            try PostgresConnection(url: url).executeScript("CREATE SCHEMA \(schema)")
            let store = url + "?options=-csearch_path%3D\(schema)"
            let environment = [
                "GHILLIE_GITHUB_TOKEN": ReportScenario.token, "GHILLIE_OPENAI_API_KEY": ReportScenario.key,
                "GHILLIE_STORE": store,
            ]
            let arguments = ["worker", "m.yaml", "-q", "--submit-if-absent", "--jobs", "1"]
            async let first = scenario.harness.run(Harness.product, arguments, environment: environment)
            async let second = scenario.harness.run(Harness.product, arguments, environment: environment)
            for result in try await [first, second] { #expect(result.status == 0, "\(result.stderr)") }
            #expect(scenario.model.requests.count == 2)
            #expect(scenario.model.peakInFlight == 1)
            // The two report units did run at the same time, in different workers.
            let database = Database(connection: try PostgresConnection(url: store), displayName: "pg")
            let spans = try database.query(
                "SELECT started_at, finished_at FROM unit_attempts WHERE stage = 'report' AND started_at IS NOT NULL ORDER BY started_at"
            ).map { (try $0.string("started_at"), try $0.string("finished_at")) }
            #expect(spans.count == 2 && spans[1].0 < spans[0].1, "\(spans)")
        }
    }
}

/// A pool spans machines, which an SQLite file does not: `submit` and `worker` say so.
@Test(arguments: [["submit", "m.yaml"], ["worker", "m.yaml"]])
func poolCommandsRefuseSQLiteWithTheFix(_ arguments: [String]) async throws {
    let harness = try Harness()
    try harness.write("m.yaml", Harness.manifest)
    let result = try await harness.run(Harness.product, arguments, environment: ["GHILLIE_GITHUB_TOKEN": "t"])
    #expect(result.status == 5)
    #expect(result.stdout.isEmpty)
    #expect(
        result.stderr == """
            error: `ghillie-run \(arguments[0])` needs a PostgreSQL store; sqlite:.ghillie/ghillie.sqlite is SQLite, which one machine's processes share only through its lock
              hint: run `ghillie-run m.yaml` for one process on this machine, or set `store:` or GHILLIE_STORE to a postgres:// URL

            """)
}
