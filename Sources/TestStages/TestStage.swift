import Digest
public import Foundation
public import Pipeline
import Store

/// A stage runner for exercising the runner itself; never part of the product.
///
/// Behaviour comes from the environment so that end-to-end tests can drive the real binary:
/// - `GHILLIE_TEST_FAIL`: comma-separated unit ids (`refine:acme/b`) that fail.
/// - `GHILLIE_TEST_DELAY_MS`: how long each unit works (cancellable), default 0.
/// - `GHILLIE_TEST_LOG`: a file to which each unit appends `start <unit> run=<id>` when it starts.
/// - `GHILLIE_TEST_SALT`: mixed into ingest outputs, to make "new data" arrive.
/// - `GHILLIE_TEST_VERSION_<STAGE>`: overrides the stage's code version.
/// - `GHILLIE_TEST_SECRET_ECHO`: a unit id whose failure message contains `$GHILLIE_GITHUB_TOKEN`.
///
/// Each success writes one row into `test_effects` in the success transaction, so tests can
/// check that no unit's output was written twice.
public struct TestStage: StageRunner {
    public let stage: Stage
    public let version: String
    let environment: [String: String]

    public init(stage: Stage, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.stage = stage
        self.environment = environment
        version = environment["GHILLIE_TEST_VERSION_\(stage.rawValue.uppercased())"] ?? "test-1"
    }

    /// One runner per stage.
    public static func all(environment: [String: String] = ProcessInfo.processInfo.environment) -> StageSet {
        StageSet(Stage.allCases.map { TestStage(stage: $0, environment: environment) })
    }

    public func run(_ context: UnitContext) async throws -> UnitResult {
        let id = context.unit.id.description
        if let log = environment["GHILLIE_TEST_LOG"] { append("start \(id) run=\(context.runID)\n", to: log) }
        context.progress("working")
        let delay = Int(environment["GHILLIE_TEST_DELAY_MS"] ?? "") ?? 0
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        let failing = Set(
            (environment["GHILLIE_TEST_FAIL"] ?? "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            })
        if failing.contains(id) {
            throw UnitError(code: "test_failure", message: "injected failure for \(id)", counters: ["requests": 1])
        }
        if environment["GHILLIE_TEST_SECRET_ECHO"] == id {
            let token = environment["GHILLIE_GITHUB_TOKEN"] ?? ""
            throw UnitError(code: "auth", message: "server rejected token \(token)")
        }
        var hasher = SHA256()
        hasher.update(id)
        for key in context.upstream.keys.sorted() { hasher.update(context.upstream[key] ?? "") }
        if stage == .ingest { hasher.update(environment["GHILLIE_TEST_SALT"] ?? "") }
        let output = hasher.hexDigest()
        let runID = context.runID
        let attempt = context.attempt
        return UnitResult(outputHash: output, counters: ["requests": 1, "rows": 10]) { tx in
            try tx.execute(
                """
                CREATE TABLE IF NOT EXISTS test_effects (unit TEXT NOT NULL, run_id BIGINT NOT NULL,
                                                         attempt BIGINT NOT NULL, output TEXT NOT NULL)
                """)
            try tx.execute(
                """
                INSERT INTO test_effects (unit, run_id, attempt, output) VALUES (\(id), \(runID), \(attempt), \(output))
                """)
        }
    }

    private func append(_ line: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    }
}
