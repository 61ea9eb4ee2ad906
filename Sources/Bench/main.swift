import Foundation
import GitHubFake
import JSON
import ModelFake
import PostgresDriver
import SQLiteDriver
import Store

// `make bench`: ledger transition cost per engine, and the wall time of a no-op rerun of a
// finished 200-repository manifest, printed as a Markdown table for docs/benchmarks.md.

struct Options {
    var binary = ".build/release/ghillie-run-teststages"
    var product = ".build/release/ghillie-run"
    var ingestRepositories = 200
    var repositories = 200
    var transitions = 2000
    var reruns = 7
    /// Only the HTTP rows (seconds, not minutes).
    var httpOnly = false

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--bin": binary = iterator.next() ?? binary
            case "--product": product = iterator.next() ?? product
            case "--ingest-repositories": ingestRepositories = Int(iterator.next() ?? "") ?? ingestRepositories
            case "--repositories": repositories = Int(iterator.next() ?? "") ?? repositories
            case "--transitions": transitions = Int(iterator.next() ?? "") ?? transitions
            case "--reruns": reruns = Int(iterator.next() ?? "") ?? reruns
            case "--http-only": httpOnly = true
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }

/// A migrated store's ledger with a new run of a manifest of its own.
func benchRun(_ database: Database) throws -> (Ledger, RunRecord) {
    try Migrator().migrate(database)
    let ledger = Ledger(database: database)
    let run = try ledger.createRun(
        NewRun(
            name: "bench-\(UUID().uuidString)", manifestPath: "bench.yaml", manifestSHA256: "x", windowSpec: "{}",
            gitCommit: nil, windowStart: Date(), windowEnd: Date(), host: "bench", pid: 1, invocation: "bench"))
    return (ledger, run)
}

/// One start + one success per unit, each its own transaction, as the executor does.
func ledgerTransitions(_ database: Database, count: Int) throws -> Double {
    let (ledger, run) = try benchRun(database)
    let began = Date()
    for index in 0..<count {
        let attempt = try ledger.start(
            NewAttempt(
                runID: run.id, unit: UnitKey(stage: "ingest", unit: "acme/repo-\(index)"), state: .running,
                reason: "never ran", fingerprint: "fp\(index)", fingerprintParts: ["manifest": "m", "code": "v1"]))
        try ledger.succeed(attemptID: attempt.id, name: run.name, outputHash: "h\(index)", counters: ["pages": 3])
    }
    return Date().timeIntervalSince(began) / Double(count * 2)
}

/// One claim and one fenced completion per unit through a run's queue, as a worker does them
/// (each its own transaction), per unit.
func queueTransitions(_ database: Database, count: Int) throws -> Double {
    let (ledger, run) = try benchRun(database)
    let round = try WorkQueue.startRound(database: database, runID: run.id, mode: .pool, host: "bench", pid: 1)
    let queue = WorkQueue(
        database: database, runID: run.id, round: round, worker: "bench", host: "bench", pid: 1, lease: .seconds(60))
    try queue.join()
    try queue.enqueue(
        (0..<count).map { index in
            QueueEntry(
                unit: UnitKey(stage: "ingest", unit: "acme/repo-\(index)"), priority: 0, reason: "never ran",
                fingerprint: "fp\(index)", fingerprintParts: ["manifest": "m", "code": "v1"])
        })
    let began = Date()
    while let claim = try queue.claim(limit: 1).first {
        try ledger.succeed(
            attemptID: claim.attempt.id, name: run.name, outputHash: "h", counters: ["pages": 3], fence: claim.fence)
    }
    return Date().timeIntervalSince(began) / Double(count)
}

/// Runs `workers` copies of a command at once; the wall time until the last one ends.
func runTogether(_ binary: String, in folder: URL, _ arguments: [String], workers: Int, environment: [String: String])
    throws -> Double
{
    let began = Date()
    let processes = try (0..<workers).map { index in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let log = folder.appendingPathComponent("worker-\(index).txt")
        try Data().write(to: log)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return process
    }
    for (index, process) in processes.enumerated() {
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            fail(
                "worker \(index) exited \(process.terminationStatus): "
                    + ((try? String(contentsOf: folder.appendingPathComponent("worker-\(index).txt"), encoding: .utf8)) ?? ""))
        }
    }
    return Date().timeIntervalSince(began)
}

func manifest(repositories: Int) -> String {
    var text = """
        version: 1
        name: bench
        estate:
          key: bench
          repositories:

        """
    for index in 0..<repositories { text += "    - slug: bench/repo-\(String(format: "%03d", index))\n" }
    text += """
        window:
          start: "2026-11-13T00:00:00Z"
          end: "2026-11-27T00:00:00Z"
        export:
          formats: [jsonl, csv]
          datasets: [commits, pull_requests, metrics]
        report:
          scopes: [repository, estate]

        """
    return text
}

func runBinary(_ binary: String, in folder: URL, _ arguments: [String], environment: [String: String]? = nil) throws
    -> (Double, Int32)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = folder
    if let environment { process.environment = environment }
    process.standardOutput = FileHandle.nullDevice
    // Kept for a run that fails: the bench says why.
    let log = folder.appendingPathComponent("stderr.txt")
    try Data().write(to: log)
    let errors = try FileHandle(forWritingTo: log)
    defer { try? errors.close() }
    process.standardError = errors
    let began = Date()
    try process.run()
    process.waitUntilExit()
    return (Date().timeIntervalSince(began), process.terminationStatus)
}

var options = Options(Array(CommandLine.arguments.dropFirst()))
// Children run in their own folders: give them absolute paths.
let here = FileManager.default.currentDirectoryPath
if !options.binary.hasPrefix("/") { options.binary = here + "/" + options.binary }
if !options.product.hasPrefix("/") { options.product = here + "/" + options.product }

/// Stops the benchmark with a reason.
/// The ingest units' counters that explain a run's cost and time, summed over the ledger in `folder`.
func ingestCounters(_ folder: URL) throws -> String {
    let ledger = Database(
        connection: try SQLiteConnection(path: folder.appendingPathComponent(".ghillie/ghillie.sqlite").path),
        displayName: "bench")
    var totals: [String: Int64] = [:]
    for row in try ledger.query("SELECT counters FROM unit_attempts WHERE counters IS NOT NULL") {
        let text = try row.string("counters")
        guard let counters = try? JSONValue(parsing: text) else { continue }
        for key in [
            "head_passes", "head_requests", "moved_items_from_head", "stream_rereads", "nested_requests", "page_size_reductions",
            "resolve_requests", "retries",
            "secondary_limits", "tree_requests",
        ] {
            totals[key, default: 0] += counters[key]?.int ?? 0
        }
    }
    return totals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
    exit(1)
}
var rows: [(String, String)] = []
rows += try await httpRows()
if options.httpOnly {
    for (name, value) in rows { print("| \(name) | \(value) |") }
    exit(0)
}

let sqlitePath = NSTemporaryDirectory() + "ghillie-bench-\(UUID().uuidString).sqlite"
let sqlite = Database(connection: try SQLiteConnection(path: sqlitePath), displayName: "sqlite")
rows.append(
    (
        "ledger transition, SQLite (WAL, synchronous=NORMAL)",
        milliseconds(try ledgerTransitions(sqlite, count: options.transitions))
    ))
if let url = ProcessInfo.processInfo.environment["PG_TEST_CONNINFO"] {
    let connection = try PostgresConnection(url: url)
    let schema = "bench_\(UInt32.random(in: 0...UInt32.max))"
    try connection.executeScript("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
    let postgres = Database(connection: connection, displayName: "postgres")
    rows.append(
        (
            "ledger transition, PostgreSQL (loopback, fsync=off)",
            milliseconds(try ledgerTransitions(postgres, count: options.transitions))
        ))
    let queueConnection = try PostgresConnection(url: url)
    try queueConnection.executeScript("SET search_path TO \(schema)")
    rows.append(
        (
            "queue claim + fenced completion per unit, PostgreSQL (loopback; against 2 ledger transitions)",
            milliseconds(
                try queueTransitions(
                    Database(connection: queueConnection, displayName: "postgres"), count: options.transitions / 2))
        ))
    try connection.executeScript("DROP SCHEMA \(schema) CASCADE")
}
rows.append(
    (
        "queue claim + fenced completion per unit, SQLite (against 2 ledger transitions)",
        milliseconds(try queueTransitions(sqlite, count: options.transitions / 2))
    ))

let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ghillie-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
try manifest(repositories: options.repositories).write(
    to: folder.appendingPathComponent("bench.yaml"), atomically: true, encoding: .utf8)
let (first, firstStatus) = try runBinary(options.binary, in: folder, ["bench.yaml", "-q"])
guard firstStatus == 0 else {
    FileHandle.standardError.write(Data("first run failed with exit code \(firstStatus)\n".utf8))
    exit(1)
}
let units = options.repositories * 4 + 1 + 6
rows.append(("first run, \(options.repositories) repositories (\(units) units, no-op test stages)", milliseconds(first)))
var reruns: [Double] = []
for _ in 0..<options.reruns {
    let (time, status) = try runBinary(options.binary, in: folder, ["bench.yaml", "-q"])
    guard status == 0 else { fail("no-op rerun failed with exit code \(status)") }
    reruns.append(time)
}
rows.append(
    (
        "no-op rerun of the finished manifest (median of \(options.reruns), whole process)",
        milliseconds(median(reruns))
    ))
var plans: [Double] = []
for _ in 0..<options.reruns {
    plans.append(try runBinary(options.binary, in: folder, ["plan", "bench.yaml"]).0)
}
rows.append(("`plan` of the finished manifest (median of \(options.reruns))", milliseconds(median(plans))))
if let url = ProcessInfo.processInfo.environment["PG_TEST_CONNINFO"] {
    // The same manifest on PostgreSQL: one process, then the pool path (`submit --new` and one
    // `worker`), each a no-op rerun of the finished manifest.
    let name = "bench-\(UInt32.random(in: 0...UInt32.max))"
    try manifest(repositories: options.repositories).replacingOccurrences(of: "name: bench", with: "name: \(name)")
        .write(to: folder.appendingPathComponent("pg.yaml"), atomically: true, encoding: .utf8)
    let environment = ["PATH": "/usr/bin:/bin", "GHILLIE_STORE": url, "NO_COLOR": "1"]
    guard try runBinary(options.binary, in: folder, ["pg.yaml", "-q"], environment: environment).1 == 0 else {
        fail("first run on PostgreSQL failed")
    }
    var process: [Double] = []
    var pool: [Double] = []
    for _ in 0..<options.reruns {
        let (time, status) = try runBinary(options.binary, in: folder, ["pg.yaml", "-q"], environment: environment)
        guard status == 0 else { fail("no-op rerun on PostgreSQL failed with exit code \(status)") }
        process.append(time)
        let (submit, submitted) = try runBinary(
            options.binary, in: folder, ["submit", "pg.yaml", "-q", "--new"], environment: environment)
        guard submitted == 0 else { fail("submit failed with exit code \(submitted)") }
        let (work, worked) = try runBinary(options.binary, in: folder, ["worker", "pg.yaml", "-q"], environment: environment)
        guard worked == 0 else { fail("worker failed with exit code \(worked)") }
        pool.append(submit + work)
    }
    rows.append(
        (
            "no-op rerun on PostgreSQL (median of \(options.reruns), whole process): `ghillie-run M`; `submit --new` + one `worker`",
            "\(milliseconds(median(process))); \(milliseconds(median(pool)))"
        ))
}

// MARK: Ingest against the fake GitHub

/// Runs a binary under GNU time to learn its own peak resident memory (MiB).
func runMeasured(_ binary: String, in folder: URL, _ arguments: [String], environment: [String: String]) throws
    -> (seconds: Double, status: Int32, peakMiB: Double)
{
    let report = folder.appendingPathComponent(".time-\(UUID().uuidString)")
    let (seconds, status) = try runBinary(
        "/usr/bin/time", in: folder, ["-f", "%M", "-o", report.path, binary] + arguments,
        environment: environment)
    let text = (try? String(contentsOf: report, encoding: .utf8)) ?? ""
    let kilobytes = Double(text.split(separator: "\n").last.map(String.init) ?? "") ?? 0
    try? FileManager.default.removeItem(at: report)
    return (seconds, status, kilobytes / 1024)
}

let estate = EstateGenerator(seed: 2026, repositories: options.ingestRepositories).generate()
let active = estate.repositories.filter { repo in
    repo.commits.contains { $0.committedDate >= estate.windowStart }
        || repo.pullRequests.contains { $0.updatedAt >= estate.windowStart }
        || repo.issues.contains { $0.updatedAt >= estate.windowStart }
}.count
let token = "bench-token"
let environment = ["PATH": "/usr/bin:/bin", "GHILLIE_GITHUB_TOKEN": token, "NO_COLOR": "1"]
do {
    let fake = FakeGitHub(estate: estate, token: token, budget: 1_000_000)
    let url = try await fake.start()
    let ingestFolder = folder.appendingPathComponent("ingest")
    try FileManager.default.createDirectory(at: ingestFolder, withIntermediateDirectories: true)
    try estate.manifest(name: "ingest-bench", endpoint: url).write(
        to: ingestFolder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
    // GNU time reads the ingest process's own peak: `getrusage(RUSAGE_CHILDREN)` here would
    // also count this process's pages (the in-process fake's estate), which a child spawned
    // with vfork shares until it execs.
    let (wall, status, ingestPeak) = try runMeasured(
        options.product, in: ingestFolder, ["m.yaml", "-q", "--only", "ingest"],
        environment: environment)
    guard status == 0 else {
        FileHandle.standardError.write(Data("ingest run failed with exit code \(status)\n".utf8))
        exit(1)
    }
    let stats = fake.stats
    rows.append(("ingest, \(options.ingestRepositories) repositories (\(active) active), wall time", milliseconds(wall)))
    rows.append(("ingest, peak memory (RSS of the ingest process)", String(format: "%.1f MiB", ingestPeak)))
    rows.append(
        (
            "ingest, GraphQL requests per active repository",
            String(format: "%.2f (%d in all)", Double(stats.requests) / Double(active), stats.requests)
        ))
    rows.append(
        (
            "ingest, REST requests (review comments) per active repository",
            String(format: "%.2f (%d in all)", Double(stats.restRequests) / Double(active), stats.restRequests)
        ))
    rows.append(
        (
            "ingest, requests by operation",
            stats.byOperation.sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        ))
    rows.append(("ingest, counters", try ingestCounters(ingestFolder)))
    rows.append(
        (
            "ingest, GraphQL points per active repository",
            String(format: "%.2f (%d in all)", Double(stats.pointsCharged) / Double(active), stats.pointsCharged)
        ))
    // What the client before review flow (821c6ca) spent on this estate (docs/benchmarks.md,
    // "Review flow"): its budget is 1.2 times that.
    if options.ingestRepositories == 200 {
        rows.append(
            (
                "ingest, GraphQL points of the first run against the client before review flow (621)",
                String(format: "%.3f× (goal ≤ 1.2×)", Double(stats.pointsCharged) / 621)
            ))
    }
    // The estate's one pull request over GitHub's 3,000-file list costs 30 requests of files
    // (pages of 100); without it the estate is the shape earlier measurements used.
    let oversizedPages = estate.repositories.flatMap(\.pullRequests).filter { $0.files.count > 3000 }.count * 30
    rows.append(
        (
            "ingest, GraphQL points per active repository without the 3,000-file pull request's \(oversizedPages) file pages",
            String(format: "%.2f", Double(stats.pointsCharged - oversizedPages) / Double(active))
        ))
    do {
        let ingested = Database(
            connection: try SQLiteConnection(
                path: ingestFolder.appendingPathComponent(".ghillie/ghillie.sqlite").path), displayName: "bench")
        let documentationCommits =
            try ingested.query("SELECT COUNT(DISTINCT node_key) AS n FROM raw_nodes WHERE kind = 'doc_commit'")
            .first?.int("n") ?? 0
        let treeRequests = stats.byOperation["DocumentationTrees"] ?? 0
        rows.append(
            (
                "ingest, documentation: commits read, sub-tree requests, requests per documentation commit",
                String(
                    format: "%lld commits, %d requests, %.3f", documentationCommits, treeRequests,
                    Double(treeRequests) / Double(max(1, documentationCommits)))
            ))
    }

    // The same first ingest while the repositories change between the pages of every read
    // (6 changes each: comments, merges, issues opened and closed, pull requests opened).
    let live = FakeGitHub(estate: estate, token: token, budget: 1_000_000)
    live.configure { $0.live = LiveChanges(perRepository: 6) }
    let liveURL = try await live.start()
    let liveFolder = folder.appendingPathComponent("live")
    try FileManager.default.createDirectory(at: liveFolder, withIntermediateDirectories: true)
    try estate.manifest(name: "ingest-bench", endpoint: liveURL).write(
        to: liveFolder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
    let (_, liveStatus) = try runBinary(
        options.product, in: liveFolder, ["m.yaml", "-q", "--only", "ingest"],
        environment: environment)
    guard liveStatus == 0 else {
        fail(
            "live ingest failed with exit code \(liveStatus): "
                + ((try? String(contentsOf: liveFolder.appendingPathComponent("stderr.txt"), encoding: .utf8)) ?? ""))
    }
    rows.append(
        (
            "ingest over a live estate (\(live.stats.liveChanges) changes between pages): GraphQL points, against the still one",
            String(
                format: "%d (%.3f × the still estate's %d)", live.stats.pointsCharged,
                Double(live.stats.pointsCharged) / Double(stats.pointsCharged), stats.pointsCharged)
        ))
    rows.append(
        (
            "ingest over a live estate, requests by operation",
            live.stats.byOperation.sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        ))
    rows.append(("ingest over a live estate, counters", try ingestCounters(liveFolder)))
    await live.stop()

    // A later run of the same estate with no new activity: the open-item snapshot is reused.
    let (requestsBefore, pointsBefore, restBefore) = (fake.stats.requests, fake.stats.pointsCharged, fake.stats.restRequests)
    let (_, againStatus) = try runBinary(
        options.product, in: ingestFolder,
        ["m.yaml", "-q", "--only", "ingest", "--new", "--rerun", "ingest"],
        environment: environment)
    guard againStatus == 0 else { fail("second ingest run failed with exit code \(againStatus)") }
    rows.append(
        (
            "ingest, a later run with no new activity: requests and points per repository",
            String(
                format: "%.2f GraphQL requests, %.2f points, %.2f REST requests (%d probes)",
                Double(fake.stats.requests - requestsBefore) / Double(options.ingestRepositories),
                Double(fake.stats.pointsCharged - pointsBefore) / Double(options.ingestRepositories),
                Double(fake.stats.restRequests - restBefore) / Double(options.ingestRepositories),
                (fake.stats.byOperation["ProbeRepositories"] ?? 0) - (stats.byOperation["ProbeRepositories"] ?? 0))
        ))

    // Refine the ingested raw nodes, against the floor of merely reading and decoding them.
    let (refineWall, refineStatus, refinePeak) = try runMeasured(
        options.product, in: ingestFolder, ["m.yaml", "-q", "--only", "refine"], environment: environment)
    guard refineStatus == 0 else { fail("refine run failed with exit code \(refineStatus)") }
    let store = Database(
        connection: try SQLiteConnection(path: ingestFolder.appendingPathComponent(".ghillie/ghillie.sqlite").path),
        displayName: "bench")
    let decodeStart = Date()
    let rawRows = try store.query("SELECT payload FROM raw_nodes")
    var decoded = 0
    for row in rawRows {
        let text = try row.string("payload")
        if (try? JSONValue(parsing: text)) != nil { decoded += 1 }
    }
    let decodeWall = Date().timeIntervalSince(decodeStart)
    var entityCount: Int64 = 0
    for table in ["commits", "pull_requests", "issues", "reviews", "comments", "pr_files", "documentation_changes"] {
        entityCount += try store.query("SELECT COUNT(*) AS n FROM \(try SQL.Identifier(table))").first?.int("n") ?? 0
    }
    rows.append(
        (
            "refine, \(rawRows.count) raw nodes → \(entityCount) entities, wall time (whole process)",
            milliseconds(refineWall)
        ))
    rows.append(("refine, raw nodes per second (whole process)", String(format: "%.0f", Double(rawRows.count) / refineWall)))
    rows.append(
        (
            "floor: read and JSON-decode the same raw nodes, per second (in process)",
            String(
                format: "%.0f (refine reaches %.0f %% of it)", Double(decoded) / decodeWall,
                (Double(rawRows.count) / refineWall) / (Double(decoded) / decodeWall) * 100)
        ))
    rows.append(("refine, peak memory (RSS of the refine process)", String(format: "%.1f MiB", refinePeak)))
    let (evidenceWall, evidenceStatus, evidencePeak) = try runMeasured(
        options.product, in: ingestFolder, ["m.yaml", "-q", "--only", "evidence"], environment: environment)
    guard evidenceStatus == 0 else { fail("evidence run failed with exit code \(evidenceStatus)") }
    rows.append(
        (
            "evidence, \(options.ingestRepositories) bundles and metrics from \(entityCount) entities, wall time (whole process)",
            milliseconds(evidenceWall)
        ))
    rows.append(("evidence, entities per second (whole process)", String(format: "%.0f", Double(entityCount) / evidenceWall)))
    rows.append(("evidence, peak memory (RSS of the evidence process)", String(format: "%.1f MiB", evidencePeak)))

    // Backfill of 4 windows against one run over a window 4 times as long, each on a fresh
    // store and a fresh fake: GitHub points and wall time (ingest, refine and evidence).
    let spanFake = FakeGitHub(estate: estate, token: token, budget: 1_000_000)
    let spanURL = try await spanFake.start()
    let spanFolder = folder.appendingPathComponent("span")
    try FileManager.default.createDirectory(at: spanFolder, withIntermediateDirectories: true)
    try estate.manifest(name: "span-bench", endpoint: spanURL).replacingOccurrences(of: "days: 14", with: "days: 56")
        .write(to: spanFolder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
    let (spanWall, spanStatus) = try runBinary(options.product, in: spanFolder, ["m.yaml", "-q"], environment: environment)
    guard spanStatus == 0 else { fail("56-day run failed with exit code \(spanStatus)") }
    await spanFake.stop()
    let backfillFake = FakeGitHub(estate: estate, token: token, budget: 1_000_000)
    let backfillURL = try await backfillFake.start()
    let backfillFolder = folder.appendingPathComponent("backfill")
    try FileManager.default.createDirectory(at: backfillFolder, withIntermediateDirectories: true)
    try estate.manifest(name: "backfill-bench", endpoint: backfillURL).write(
        to: backfillFolder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
    let (backfillWall, backfillStatus) = try runBinary(
        options.product, in: backfillFolder, ["backfill", "m.yaml", "--windows", "4", "-q"], environment: environment)
    guard backfillStatus == 0 else { fail("backfill failed with exit code \(backfillStatus)") }
    rows.append(
        (
            "backfill --windows 4 (14 days each) against one 56-day run: GraphQL points",
            String(
                format: "%d against %d (%.2f ×)", backfillFake.stats.pointsCharged, spanFake.stats.pointsCharged,
                Double(backfillFake.stats.pointsCharged) / Double(max(1, spanFake.stats.pointsCharged)))
        ))
    rows.append(
        (
            "backfill --windows 4 against one 56-day run: wall time (ingest, refine, evidence)",
            "\(milliseconds(backfillWall)) against \(milliseconds(spanWall))"
        ))
    await backfillFake.stop()

    // Reports: the heuristic's rate, then an OpenAI-compatible model (the fake one) for prompt
    // sizes and an estimated cost at a stated price.
    try (estate.manifest(name: "ingest-bench", endpoint: url) + "report:\n  scopes: [repository, estate]\n")
        .write(to: ingestFolder.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
    let (heuristicWall, heuristicStatus, _) = try runMeasured(
        options.product, in: ingestFolder, ["r.yaml", "-q", "--only", "report"], environment: environment)
    guard heuristicStatus == 0 else { fail("heuristic report run failed with exit code \(heuristicStatus)") }
    let reportCount = options.ingestRepositories + 1
    rows.append(("report (heuristic), \(reportCount) reports, wall time (whole process)", milliseconds(heuristicWall)))
    rows.append(
        (
            "report (heuristic), reports per second (whole process)",
            String(format: "%.0f", Double(reportCount) / heuristicWall)
        ))
    let model = FakeModel()
    let modelURL = try await model.start()
    try
        (estate.manifest(name: "ingest-bench", endpoint: url) + """
            report:
              scopes: [repository, estate]
              model: {backend: openai, endpoint: \(modelURL.absoluteString), model: fake-model,
                      price: {prompt_per_million: 0.4, completion_per_million: 1.6}}

            """).write(to: ingestFolder.appendingPathComponent("o.yaml"), atomically: true, encoding: .utf8)
    let (_, modelStatus) = try runBinary(
        options.product, in: ingestFolder, ["o.yaml", "-q", "--only", "report"],
        environment: environment.merging(["GHILLIE_OPENAI_API_KEY": "bench"]) { $1 })
    guard modelStatus == 0 else { fail("model report run failed with exit code \(modelStatus)") }
    // Tokens estimated as UTF-8 bytes / 4 over the system and user messages of each request.
    let promptTokens = model.requests.filter { request in
        request.body["messages"]?.array?.last?["content"]?.string?.hasPrefix("# Repository status report") == true
    }.map { request in
        (request.body["messages"]?.array ?? []).reduce(0) { $0 + ($1["content"]?.string?.utf8.count ?? 0) } / 4
    }.sorted()
    if !promptTokens.isEmpty {
        rows.append(
            (
                "report, prompt tokens per repository report (bytes / 4): median, p90, max",
                "\(promptTokens[promptTokens.count / 2]), \(promptTokens[min(promptTokens.count - 1, promptTokens.count * 9 / 10)]), \(promptTokens.last ?? 0)"
            ))
        let total = model.requests.reduce(0) { sum, request in
            sum + (request.body["messages"]?.array ?? []).reduce(0) { $0 + ($1["content"]?.string?.utf8.count ?? 0) } / 4
        }
        let cost = (Double(total) * 0.4 + Double(model.requests.count * 300) * 1.6) / 1_000_000
        rows.append(
            (
                "report, estimated cost of the estate's reports at $0.40/M prompt, $1.60/M completion tokens "
                    + "(300 completion tokens per report assumed)",
                String(format: "$%.4f for %d reports (%d prompt tokens)", cost, model.requests.count, total)
            ))
    }
    await model.stop()

    // CSV export of commits and pull requests, against `sqlite3 -csv` dumping the same rows.
    let exportManifest =
        estate.manifest(name: "ingest-bench", endpoint: url)
        + "export:\n  path: out\n  formats: [csv]\n  datasets: [commits, pull_requests]\n"
    try exportManifest.write(to: ingestFolder.appendingPathComponent("x.yaml"), atomically: true, encoding: .utf8)
    var exportWalls: [Double] = []
    var exportPeak = 0.0
    for attempt in 0..<5 {
        let (wall, status, peak) = try runMeasured(
            options.product, in: ingestFolder,
            ["x.yaml", "-q", "--only", "export"] + (attempt == 0 ? [] : ["--rerun", "export"]),
            environment: environment)
        guard status == 0 else { fail("export run failed with exit code \(status)") }
        exportWalls.append(wall)
        exportPeak = max(exportPeak, peak)
    }
    let exportWall = median(exportWalls)
    let windowStart = Timestamp.string(estate.windowStart), windowEnd = Timestamp.string(estate.windowEnd)
    let floorSQL = """
        SELECT 1, repository, oid, headline, message, authored_at, committed_at, author_name, author_email, author_login,
               additions, deletions, changed_files, is_bot, noise FROM commits
        WHERE committed_at >= '\(windowStart)' AND committed_at < '\(windowEnd)' ORDER BY repository, committed_at, oid;
        SELECT 1, repository, database_id, number, title, state, is_draft, author_login, created_at, updated_at, merged_at,
               closed_at, base_ref, head_ref, additions, deletions, changed_files, commit_count, labels, is_bot, noise
        FROM pull_requests WHERE created_at < '\(windowEnd)' AND (updated_at >= '\(windowStart)' OR closed_at IS NULL)
        ORDER BY repository, number;
        """
    let floorOut = ingestFolder.appendingPathComponent("floor.csv")
    var floorWalls: [Double] = []
    for _ in 0..<5 {
        _ = FileManager.default.createFile(atPath: floorOut.path, contents: nil)
        let floorProcess = Process()
        floorProcess.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        floorProcess.arguments = [
            "-csv", "-header", ingestFolder.appendingPathComponent(".ghillie/ghillie.sqlite").path, floorSQL,
        ]
        floorProcess.standardOutput = try FileHandle(forWritingTo: floorOut)
        let floorStart = Date()
        try floorProcess.run()
        floorProcess.waitUntilExit()
        floorWalls.append(Date().timeIntervalSince(floorStart))
    }
    let floorWall = median(floorWalls)
    let exportedRows =
        try String(contentsOf: ingestFolder.appendingPathComponent("out/commits.csv"), encoding: .utf8)
        .split(separator: "\r\n").count
        + (try String(
            contentsOf: ingestFolder.appendingPathComponent("out/pull_requests.csv"),
            encoding: .utf8
        ).split(separator: "\r\n").count) - 2
    rows.append(
        (
            "export, commits + pull requests as CSV (\(exportedRows) rows), wall time (whole process, median of 5)",
            milliseconds(exportWall)
        ))
    rows.append(
        (
            "floor: `sqlite3 -csv` dumping the same rows from the same store (whole process, median of 5)",
            milliseconds(floorWall) + String(format: " (export reaches %.0f %% of its speed)", floorWall / exportWall * 100)
        ))
    rows.append(("export, peak memory (RSS of the export process)", String(format: "%.1f MiB", exportPeak)))

    // The worker pool on PostgreSQL: the whole pipeline of the estate with every GitHub answer
    // 150 ms late, one worker against four (each --jobs 4), each on a fresh fake.
    if let store = ProcessInfo.processInfo.environment["PG_TEST_CONNINFO"] {
        var results: [(seconds: Double, points: Int, requests: Int)] = []
        var ingestSpans: [(Double, (Double, String, String))] = []
        for workers in [1, 4] {
            let poolFake = FakeGitHub(estate: estate, token: token, budget: 1_000_000)
            let poolURL = try await poolFake.start()
            poolFake.inject(Fault(.delay(.milliseconds(150)), times: 1_000_000))
            let poolFolder = folder.appendingPathComponent("pool-\(workers)")
            try FileManager.default.createDirectory(at: poolFolder, withIntermediateDirectories: true)
            try estate.manifest(name: "pool-bench-\(UInt32.random(in: 0...UInt32.max))", endpoint: poolURL).write(
                to: poolFolder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
            // A store of its own (a schema): ingest is incremental across runs of a repository.
            let schema = "bench_pool_\(UInt32.random(in: 0...UInt32.max))"
            try PostgresConnection(url: store).executeScript("CREATE SCHEMA \(schema)")
            let poolEnvironment = environment.merging(
                ["GHILLIE_STORE": store + "?options=-csearch_path%3D\(schema)"]) { $1 }
            let (submitted, status) = try runBinary(
                options.product, in: poolFolder, ["submit", "m.yaml", "-q"], environment: poolEnvironment)
            guard status == 0 else { fail("submit failed with exit code \(status)") }
            let wall = try runTogether(
                options.product, in: poolFolder, ["worker", "m.yaml", "-q", "--jobs", "4"], workers: workers,
                environment: poolEnvironment)
            results.append((submitted + wall, poolFake.stats.pointsCharged, poolFake.stats.requests))
            await poolFake.stop()
            // From the ledger: the ingest stage's span, and its longest unit (the critical path:
            // one repository's pages are read one after another).
            let ledger = try PostgresConnection(url: store)
            try ledger.executeScript("SET search_path TO \(schema)")
            let spans = try Database(connection: ledger, displayName: "pool").query(
                """
                SELECT stage, unit, started_at, finished_at, counters FROM unit_attempts
                WHERE stage = 'ingest' AND started_at IS NOT NULL
                """)
            var first = Date.distantFuture, last = Date.distantPast, longest = (0.0, "", "")
            for row in spans {
                guard let start = Timestamp.date(try row.string("started_at")),
                    let end = Timestamp.date(try row.string("finished_at"))
                else { continue }
                first = min(first, start)
                last = max(last, end)
                if end.timeIntervalSince(start) > longest.0 {
                    let requests = (try? JSONValue(parsing: try row.string("counters")))?["requests"]?.int ?? 0
                    longest = (end.timeIntervalSince(start), try row.string("unit"), "\(requests) requests")
                }
            }
            ingestSpans.append((last.timeIntervalSince(first), longest))
        }
        rows.append(
            (
                "pool on PostgreSQL, \(options.ingestRepositories) repositories, GitHub answers 150 ms late: "
                    + "1 worker against 4 (--jobs 4 each), wall time of the whole pipeline",
                String(
                    format: "%@ against %@ (%.2f × faster)", milliseconds(results[0].seconds), milliseconds(results[1].seconds),
                    results[0].seconds / results[1].seconds)
            ))
        rows.append(
            (
                "pool on PostgreSQL, the ingest stage alone (first start to last end): 1 worker against 4; "
                    + "the longest ingest unit with 4",
                String(
                    format: "%@ against %@ (%.2f ×); %@ %.1f s (%@)", milliseconds(ingestSpans[0].0),
                    milliseconds(ingestSpans[1].0), ingestSpans[0].0 / ingestSpans[1].0, ingestSpans[1].1.1,
                    ingestSpans[1].1.0, ingestSpans[1].1.2)
            ))
        rows.append(
            (
                "pool on PostgreSQL, GraphQL points and requests: 1 worker; 4 workers",
                "\(results[0].points) points, \(results[0].requests) requests; \(results[1].points) points, \(results[1].requests) requests"
            ))
    }

    // Kill at about half the units, resume, and count the extra requests over a clean run.
    let resumeFolder = folder.appendingPathComponent("resume")
    try FileManager.default.createDirectory(at: resumeFolder, withIntermediateDirectories: true)
    let slow = FakeGitHub(estate: estate, token: token, budget: 1_000_000)
    let slowURL = try await slow.start()
    slow.inject(Fault(.delay(.milliseconds(5)), times: 1_000_000))
    try estate.manifest(name: "ingest-bench", endpoint: slowURL).write(
        to: resumeFolder.appendingPathComponent("m.yaml"), atomically: true, encoding: .utf8)
    let victim = Process()
    victim.executableURL = URL(fileURLWithPath: options.product)
    victim.arguments = ["m.yaml", "-q", "--only", "ingest"]
    victim.currentDirectoryURL = resumeFolder
    victim.environment = environment
    victim.standardError = FileHandle.nullDevice
    try victim.run()
    while slow.stats.requests < stats.requests / 2 { try await Task.sleep(for: .milliseconds(2)) }
    kill(victim.processIdentifier, SIGKILL)
    victim.waitUntilExit()
    slow.clearFaults()
    let (_, resumedStatus) = try runBinary(
        options.product, in: resumeFolder, ["m.yaml", "-q", "--only", "ingest"],
        environment: environment)
    guard resumedStatus == 0 else { fail("resumed ingest failed with exit code \(resumedStatus)") }
    let clean = stats.requests + stats.restRequests
    let extra = slow.stats.requests + slow.stats.restRequests - clean
    rows.append(
        (
            "ingest, extra requests (GraphQL and REST) of a resume after SIGKILL at 50 %",
            String(format: "%d (%.1f %% over a clean run)", extra, Double(extra) * 100 / Double(clean))
        ))
    await fake.stop()
    await slow.stop()
}

print("| measurement | result |")
print("|---|---|")
for (name, value) in rows { print("| \(name) | \(value) |") }
try? FileManager.default.removeItem(at: folder)
try? FileManager.default.removeItem(atPath: sqlitePath)
