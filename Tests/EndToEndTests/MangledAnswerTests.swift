import Digest
import Foundation
import GitHubFake
import JSON
import SQLiteDriver
import Store
import TestSupport
import Testing

/// Issue #25: a GitHub server that mangles 15 % of its answers (fields missing, mistyped or
/// nulled against the schema, counts moved, bodies cut in half) never makes a run succeed with
/// data unlike a clean run's, and a plain rerun against a correct server always ends equal to
/// a clean run.
@Suite("Mangled answers", .serialized)
struct MangledAnswerTests {
    static let token = "ghp_mangledSecretToken0123456789"
    /// Five repositories (one empty), without the generator's busy one: its 35-page pull request
    /// would make each of the 25 runs wait on it.
    static let estate: FakeEstate = {
        var estate = EstateGenerator(seed: 5, repositories: 6).generate()
        estate.repositories.remove(at: 2)
        return estate
    }()
    static let seeds: [UInt64] = Array(1...12)

    /// Every export file of a run, by name (`export-manifest.json` aside: it names the run).
    static func exports(_ harness: Harness) throws -> [String: Data] {
        let folder = harness.folder.appendingPathComponent("out/mangled/2026-11-27")
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name != "export-manifest.json" {
            files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return files
    }

    /// What one seed gave: the first run's exit code and whether its exports were a clean run's,
    /// the rerun's, and the mutations made.
    struct Outcome: Sendable {
        let seed: UInt64
        let first: Int32
        let firstEqual: Bool?
        let rerun: Int32
        let rerunEqual: Bool
        let mutations: [String]
    }

    /// Runs the estate with answers mangled (`seed`; nil: never), then — when `seed` is set —
    /// a plain rerun against the correct server.
    static func run(_ seed: UInt64?, clean: [String: Data]) async throws -> (outcome: Outcome?, exports: [String: Data]) {
        let fake = FakeGitHub(estate: estate, token: token)
        if let seed { fake.mangle(Mutations(seed: seed, rate: 0.15)) }
        let url = try await fake.start()
        return try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write(
                "m.yaml",
                estate.manifest(
                    name: "mangled", endpoint: url,
                    // Small pages: more requests to mangle, and every kind of continuation page.
                    settings: ["collect: [commits, pull_requests, issues, documentation, review_comments]", "page_size: 10"])
                    + "export:\n  formats: [jsonl]\n")
            let environment = ["GHILLIE_GITHUB_TOKEN": token]
            let first = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            guard let seed else { return (nil, try exports(harness)) }
            let firstEqual = first.status == 0 ? try exports(harness) == clean : nil
            fake.mangle(nil)
            let rerun = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            let healed = try exports(harness) == clean
            let outcome = Outcome(
                seed: seed, first: first.status, firstEqual: firstEqual, rerun: rerun.status,
                rerunEqual: rerun.status == 0 && healed,
                mutations: fake.mutations.map(\.description))
            return (outcome, [:])
        }
    }

    @Test func mangledAnswersNeverSucceedWithWrongDataAndAPlainRerunHeals() async throws {
        let (_, clean) = try await Self.run(nil, clean: [:])
        #expect(clean.count > 10)
        var outcomes: [Outcome] = []
        // Four seeds at a time: the runs wait on backoff more than they work.
        for batch in stride(from: 0, to: Self.seeds.count, by: 4) {
            let seeds = Self.seeds[batch..<min(batch + 4, Self.seeds.count)]
            try await withThrowingTaskGroup(of: Outcome?.self) { group in
                for seed in seeds { group.addTask { try await Self.run(seed, clean: clean).outcome } }
                for try await outcome in group { if let outcome { outcomes.append(outcome) } }
            }
        }
        #expect(outcomes.count == Self.seeds.count)
        for outcome in outcomes.sorted(by: { $0.seed < $1.seed }) {
            let log = "seed \(outcome.seed): \(outcome.mutations.joined(separator: "; "))"
            // No crash and no hang: the run succeeds, or fails resumably.
            #expect([0, 3].contains(outcome.first), "\(log)")
            // A run that succeeds has exactly a clean run's data.
            #expect(outcome.firstEqual != false, "\(log)")
            #expect(outcome.rerun == 0 && outcome.rerunEqual, "\(log)")
        }
        // Every kind of mutation was made, many times over.
        let made = outcomes.flatMap(\.mutations)
        for kind in Mutations.Kind.allCases {
            #expect(made.contains { $0.contains(": \(kind.rawValue) at ") }, "\(kind.rawValue) never made")
        }
        #expect(made.count >= 40, "\(made.count) mutations")
        // Most first runs get through what they got (answers are asked again); a moved count
        // fails its unit, which the rerun reads again.
        #expect(outcomes.contains { $0.first == 0 })
    }

    /// A stored node refine cannot read (an older version's, a bug's) fails the refine unit with
    /// the node named, is set aside, and its kind of node is read again by the next plain run,
    /// which then ends equal to a clean run. `plan` and `status` say what will be read again.
    @Test func aStoredNodeRefineCannotReadIsSetAsideAndReadAgainByThePlainRerun() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write(
                "m.yaml",
                Self.estate.manifest(
                    name: "mangled", endpoint: url,
                    settings: ["collect: [commits, pull_requests, issues, documentation, review_comments]"])
                    + "export:\n  formats: [jsonl]\n")
            let environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            #expect(try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment).status == 0)
            let clean = try Self.exports(harness)

            // A pull request stored without its title, as a bug (or an older version) could have.
            let database = Database(
                connection: try SQLiteConnection(path: harness.path(".ghillie/ghillie.sqlite")), displayName: "store")
            let row = try #require(
                try database.query(
                    """
                    SELECT node_key, payload FROM raw_nodes WHERE repository = 'acme/repo-000' AND kind = 'pull_request'
                    ORDER BY node_key LIMIT 1
                    """
                ).first)
            guard case .object(var payload) = try JSONValue(parsing: try row.string("payload")) else {
                Issue.record("a raw pull request is not an object")
                return
            }
            payload["title"] = nil
            let key = try row.string("node_key")
            let text = JSONValue.object(payload).canonical
            let hash = SHA256.hex("acme/repo-000\npull_request\n" + text)
            try database.transaction { tx in
                try tx.execute(
                    """
                    INSERT INTO raw_nodes (repository, kind, node_key, content_hash, payload, fetched_at, run_id, operation)
                    VALUES ('acme/repo-000', 'pull_request', \(key), \(hash), \(text), '2026-11-27T00:00:00.000Z', 1, 'a bug')
                    """)
            }

            let failed = try await harness.run(Harness.product, ["m.yaml", "--rerun", "refine"], environment: environment)
            #expect(failed.status == 3)
            let named =
                "raw pull_request \(key): `title` is missing; the node is set aside and the next run reads its "
                + "pull_request nodes again [undecodable]"
            #expect(failed.stderr.contains("FAIL  refine:acme/repo-000: " + named), "\(failed.stderr)")

            let plan = try await harness.run(Harness.product, ["plan", "m.yaml"], environment: environment)
            #expect(
                plan.stdout.contains(
                    "reads again what refine could not read: raw pull_request \(key): `title` is missing"), "\(plan.stdout)")
            let status = try await harness.run(Harness.product, ["status", "m.yaml"], environment: environment)
            #expect(
                status.stdout.contains(
                    "the next run reads again what refine could not read (the nodes are set aside):\n"
                        + "  acme/repo-000: raw pull_request \(key): `title` is missing\n"), "\(status.stdout)")

            let healed = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(healed.status == 0, "\(healed.stderr)")
            #expect(try Self.exports(harness) == clean)
            #expect(try database.query("SELECT COUNT(*) AS n FROM raw_rereads").first?.int("n") == 0)
            #expect(try database.query("SELECT content_hash FROM raw_refused").map { try $0.string("content_hash") } == [hash])
            // Only the repository whose node was refused read anything again.
            let reread = try database.query(
                """
                SELECT unit FROM unit_attempts WHERE stage = 'ingest' AND reason LIKE 'reads again%'
                """
            ).map { try $0.string("unit") }
            #expect(reread == ["acme/repo-000"])
        }
    }
}
