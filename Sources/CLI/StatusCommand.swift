import ArgumentParser
import Foundation
import JSON
import Manifest
import Pipeline
import Store

/// `ghillie-run status [MANIFEST] [--run ID]`: one run's state, per stage and per unit.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the latest run of a manifest (or any run by id): per-stage counts, failures, counters.")

    @Argument(help: "The run manifest (optional: without it, the latest run in the store).")
    var manifest: String?

    @Option(name: .customLong("run"), help: "Show this run id instead of the latest.")
    var runID: Int64?

    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        let schemaVersion: Int
        let run: Documents.RunDoc
        let stages: [String: [String: Int]]
        let counters: [String: [String: Int64]]
        let lock: Documents.LockDoc?
        /// Who works the run: its latest round and that round's workers (null for runs from
        /// before rounds were recorded).
        let pool: PoolDoc?
        /// Every GitHub credential's budget as the workers of this store share it.
        let credentials: [CredentialDoc]
        /// Repositories whose stored nodes refine could not read: the next run reads them again.
        let rereads: [RereadDoc]
        let units: [Documents.AttemptDoc]

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case run
            case stages
            case counters
            case lock
            case pool
            case credentials
            case rereads
            case units
        }
    }

    struct RereadDoc: Encodable {
        let repository: String
        let reason: String
    }

    struct PoolDoc: Encodable {
        let round: Int
        let mode: String
        let workers: [WorkerDoc]
        let leasesTakenOver: Int
        let lateCompletionsRejected: Int

        enum CodingKeys: String, CodingKey {
            case round, mode, workers
            case leasesTakenOver = "leases_taken_over"
            case lateCompletionsRejected = "late_completions_rejected"
        }
    }

    struct CredentialDoc: Encodable {
        let credential: String
        let label: String
        let floor: Int
        let remaining: Int?
        let resetAt: String?
        let inFlight: Int
        let requests: Int
        let waits: Int

        enum CodingKeys: String, CodingKey {
            case credential, label, floor, remaining
            case resetAt = "reset_at"
            case inFlight = "in_flight"
            case requests, waits
        }

        init(_ budget: CredentialBudget) {
            credential = budget.credential
            label = budget.label
            floor = budget.floor
            remaining = budget.remaining
            resetAt = budget.resetAt.map(Timestamp.seconds)
            inFlight = budget.inFlight
            requests = budget.requests
            waits = budget.waits
        }
    }

    struct WorkerDoc: Encodable {
        let id: String
        let round: Int
        let host: String
        let pid: Int
        let state: String
        let startedAt: String
        let heartbeatAgeSeconds: Double
        let unitsHeld: Int
        let unitsDone: Int
        let takeovers: Int
        let lateCompletions: Int

        enum CodingKeys: String, CodingKey {
            case id, round, host, pid, state
            case startedAt = "started_at"
            case heartbeatAgeSeconds = "heartbeat_age_seconds"
            case unitsHeld = "units_held"
            case unitsDone = "units_done"
            case takeovers
            case lateCompletions = "late_completions"
        }

        init(_ worker: WorkerRecord) {
            id = worker.id
            round = worker.round
            host = worker.host
            pid = worker.pid
            state = worker.state
            startedAt = Timestamp.string(worker.startedAt)
            heartbeatAgeSeconds = Double(worker.heartbeatAgeMillis) / 1000
            unitsHeld = worker.unitsHeld
            unitsDone = worker.unitsDone
            takeovers = worker.takeovers
            lateCompletions = worker.lateCompletions
        }
    }

    func run() async throws {
        let terminal = global.terminal
        let loaded = try manifest.map { try loadManifest($0, terminal: terminal, verbosity: global.verbosity) }
        let spec = try StoreOpener.spec(manifest: loaded, environment: ProcessInfo.processInfo.environment)
        guard StoreOpener.exists(spec) else {
            throw Failure(.unavailable, "no store at \(spec)", hint: "run a manifest first, or set `GHILLIE_STORE`")
        }
        let ledger = Ledger(database: try StoreOpener.open(spec))
        let run: RunRecord? = try storeCall {
            if let runID { return try ledger.run(id: runID) }
            if let loaded { return try ledger.latestRun(name: loaded.name) }
            return try ledger.runs(name: nil, limit: 1).first
        }
        guard let run else {
            if let runID { throw Failure(.invalid, "no run \(runID) in \(spec)", hint: "`ghillie-run runs` lists runs") }
            throw Failure(
                .unavailable, "no runs yet" + (loaded.map { " of `\($0.name)`" } ?? "") + " in \(spec)",
                hint: "start one with `ghillie-run MANIFEST`")
        }
        let latest = try storeCall { try ledger.latestAttempts(runID: run.id) }.values.sorted { $0.unit < $1.unit }
        let lock = try storeCall {
            try RunLock(database: ledger.database, name: run.name, holder: LockHolder.current()).current()
        }
        var stages: [String: [String: Int]] = [:]
        var counters: [String: [String: Int64]] = [:]
        for attempt in latest {
            stages[attempt.unit.stage, default: [:]][attempt.state.rawValue, default: 0] += 1
        }
        // Counters add up every attempt of the run, failed and interrupted ones too: what a run
        // spent (requests, points, tokens, cost) includes the attempts a resume replaced.
        for attempt in try storeCall({ try ledger.attempts(runID: run.id) }) where attempt.reusedFromRun == nil {
            for (key, value) in attempt.counters { counters[attempt.unit.stage, default: [:]][key, default: 0] += value }
        }
        let lockDoc = lock.map { conflict in
            Documents.LockDoc(
                host: conflict.host, pid: conflict.pid, since: Timestamp.string(conflict.since),
                runId: conflict.runID,
                alive: conflict.host != ProcessInfo.processInfo.hostName
                    || ProcessLiveness.isAlive(pid: conflict.pid, processStart: ""))
        }

        let pool: PoolDoc? = try storeCall {
            guard let round = try WorkQueue.currentRound(database: ledger.database, runID: run.id) else { return nil }
            let workers = try WorkQueue.workers(database: ledger.database, runID: run.id).map(WorkerDoc.init)
            return PoolDoc(
                round: round.round, mode: round.mode.rawValue, workers: workers,
                leasesTakenOver: workers.reduce(0) { $0 + $1.takeovers },
                lateCompletionsRejected: workers.reduce(0) { $0 + $1.lateCompletions })
        }
        let credentials = try storeCall { try CredentialBudgets(database: ledger.database).all() }.map(CredentialDoc.init)
        let rereads = try storeCall { try RawHealth(database: ledger.database).pending() }.sorted { $0.key < $1.key }
            .map { RereadDoc(repository: $0.key, reason: $0.value) }
        let liveWorkers = pool?.workers.filter { $0.state == "working" && $0.heartbeatAgeSeconds < 60 }.count ?? 0

        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion, run: Documents.RunDoc(run), stages: stages,
                        counters: counters, lock: lockDoc, pool: pool, credentials: credentials, rereads: rereads,
                        units: latest.map(Documents.AttemptDoc.init))))
            return
        }
        var state = run.state.rawValue
        if run.state == .running, pool?.mode == RoundMode.pool.rawValue {
            state =
                liveWorkers > 0
                ? "running (\(plural(liveWorkers, "worker", "workers")) working it)"
                : "running, but no worker is alive (`ghillie-run worker` resumes it)"
        } else if run.state == .running, lockDoc?.alive != true || lockDoc?.runId != run.id {
            state = "running, but its process is gone (a rerun resumes it)"
        }
        terminal.out("run \(run.id) of `\(run.name)`: \(state)")
        terminal.out(
            "window   \(Timestamp.string(run.windowStart)) → \(Timestamp.string(run.windowEnd))"
                + (RunChoice.override(inWindowSpec: run.windowSpec).map { " (\($0))" } ?? ""))
        let finished =
            run.finishedAt.map { " · finished \(Timestamp.string($0)) (\(formatDuration($0.timeIntervalSince(run.startedAt))))" }
            ?? ""
        terminal.out("started  \(Timestamp.string(run.startedAt))\(finished)")
        terminal.out(
            "manifest \(run.manifestPath) sha256 \(run.manifestSHA256.prefix(12))"
                + (run.gitCommit.map { " · git \($0.prefix(12))" } ?? ""))
        if let lockDoc, lockDoc.alive {
            terminal.out("lock     held by pid \(lockDoc.pid) on \(lockDoc.host) since \(lockDoc.since)")
        }
        if let pool, pool.mode == RoundMode.pool.rawValue || pool.workers.count > 1 {
            terminal.out(
                "pool     round \(pool.round) · \(plural(pool.workers.count, "worker", "workers")) · "
                    + "\(plural(pool.leasesTakenOver, "lease", "leases")) taken over · "
                    + "\(plural(pool.lateCompletionsRejected, "late completion", "late completions")) rejected")
            terminal.out("")
            terminal.out(
                TextTable.render(
                    ["WORKER", "ROUND", "STATE", "HEARTBEAT", "HELD", "DONE", "TOOK OVER", "LATE"],
                    pool.workers.map { worker in
                        [
                            worker.id, String(worker.round), worker.state,
                            String(format: "%.1fs ago", worker.heartbeatAgeSeconds), String(worker.unitsHeld),
                            String(worker.unitsDone), String(worker.takeovers), String(worker.lateCompletions),
                        ]
                    }))
        }
        if !credentials.isEmpty {
            terminal.out("")
            terminal.out(
                TextTable.render(
                    ["CREDENTIAL", "REMAINING", "FLOOR", "RESETS", "IN FLIGHT", "REQUESTS", "WAITS"],
                    credentials.map { budget in
                        [
                            budget.label, budget.remaining.map(String.init) ?? "-", String(budget.floor), budget.resetAt ?? "-",
                            String(budget.inFlight), String(budget.requests), String(budget.waits),
                        ]
                    }))
        }
        terminal.out("")
        let columns = UnitState.allCases.map(\.rawValue)
        let stageOrder = Stage.allCases.map(\.rawValue).filter { stages[$0] != nil }
        terminal.out(
            TextTable.render(
                ["STAGE"] + columns,
                stageOrder.map { stage in
                    [stage] + columns.map { String(stages[stage]?[$0] ?? 0) }
                }))
        if !counters.isEmpty {
            terminal.out("")
            let byStage = Dictionary(
                uniqueKeysWithValues: counters.compactMap { key, value in Stage(rawValue: key).map { ($0, value) } })
            for line in Injected.stages.summaries(byStage, manifest: loaded) {
                terminal.out(line + " (every attempt of the run)")
            }
            for stage in stageOrder {
                guard let values = counters[stage], !values.isEmpty else { continue }
                terminal.out("\(stage) " + values.keys.sorted().map { "\($0)=\(values[$0] ?? 0)" }.joined(separator: " "))
            }
        }
        // Failures first; units skipped because of them are counted, and listed with -v.
        let shown: Set<UnitState> =
            global.verbose
            ? [.failed, .skipped, .interrupted, .running]
            : [.failed, .interrupted, .running]
        let problems = latest.filter { shown.contains($0.state) }
        if !problems.isEmpty {
            terminal.out("")
            terminal.out(
                TextTable.render(
                    ["UNIT", "STATE", "ATTEMPT", "ERROR"],
                    problems.map { attempt in
                        [
                            attempt.unit.description, attempt.state.rawValue, String(attempt.attempt),
                            attempt.errorMessage.map { "\($0) [\(attempt.errorCode ?? "")]" } ?? "",
                        ]
                    }))
        }
        if !rereads.isEmpty {
            terminal.out("")
            terminal.out("the next run reads again what refine could not read (the nodes are set aside):")
            for reread in rereads { terminal.out("  \(reread.repository): \(reread.reason)") }
        }
        let skipped = latest.filter { $0.state == .skipped }.count
        if skipped > 0 && !global.verbose {
            terminal.out("")
            terminal.out(
                "\(plural(skipped, "unit was", "units were")) skipped because an upstream unit failed "
                    + "(`--verbose` lists them); a rerun runs them once their upstream succeeds")
        }
    }
}
