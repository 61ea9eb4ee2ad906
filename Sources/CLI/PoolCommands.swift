import ArgumentParser
import Foundation
import Manifest
import Pipeline
import PostgresDriver
import Store

/// `ghillie-run submit MANIFEST`: create (or find) the run a pool of workers will work.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Create or find the run of a manifest for `ghillie-run worker` processes to work (PostgreSQL store).",
        discussion: """
            Idempotent: a run that workers are working is found, not duplicated; a run that ended \
            failed or interrupted is continued (its failed units run again), as `ghillie-run MANIFEST` \
            would. Prints the run's id on stdout.
            """)

    @Argument(help: "The run manifest.")
    var manifest: String

    @Flag(help: "Start a new run even if the latest one can be continued.")
    var new = false

    @OptionGroup var windowEnd: WindowEndOption
    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        let schemaVersion: Int
        let run: Documents.RunDoc
        let round: Int
        let created: Bool
        let reason: String

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case run, round, created, reason
        }
    }

    func run() async throws {
        let terminal = global.terminal
        let manifest = try windowEnd.window(try loadManifest(self.manifest, terminal: terminal, verbosity: global.verbosity))
        try RunCommand.preflight(manifest, selection: nil, global: global)
        let (database, _) = try Pool.open(manifest, command: "submit")
        let ledger = Ledger(database: database)
        let submission = try Pool.submit(
            manifest: manifest, ledger: ledger, forceNew: new, ifAbsent: false,
            invocation: (["ghillie-run", "submit", self.manifest] + (new ? ["--new"] : [])
                + (windowEnd.windowEnd.map { ["--window-end", $0] } ?? [])).joined(separator: " "))
        guard case .ready(let run, let round, let created, let reason) = submission else {
            preconditionFailure("submit without --submit-if-absent always has a run")
        }
        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion, run: Documents.RunDoc(run), round: round,
                        created: created, reason: reason)))
            return
        }
        terminal.out("\(run.id)")
        if global.verbosity >= 0 {
            terminal.err(
                "run \(run.id) of `\(manifest.name)` " + (created ? "submitted" : "found") + " (\(reason)); "
                    + "`ghillie-run worker \(self.manifest)` works it, `ghillie-run status \(self.manifest)` watches it")
        }
    }
}

/// `ghillie-run worker MANIFEST`: one of any number of processes working a submitted run.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Work the submitted run of a manifest with any number of other workers (PostgreSQL store).",
        discussion: """
            Claims ready units in short transactions, each a lease on the database clock renewed by a \
            heartbeat; a worker that dies loses only its leases, which another worker takes over. Exits \
            when the run is finished: 0 succeeded, 3 units failed; on SIGTERM it gives its units back to \
            the queue and exits 130.
            """)

    @Argument(help: "The run manifest.")
    var manifest: String

    @Flag(help: "Submit the run first when no run of the manifest is being worked (for a Job's pods).")
    var submitIfAbsent = false

    @Option(name: .shortAndLong, help: "Units this worker runs at once (default: twice the CPU count, 2 to 16).")
    var jobs: Int?

    @Option(help: "Seconds a claim lasts without a heartbeat (renewed every third of it).")
    var lease: Int = 60

    /// The run of that window (as `submit --window-end` made it), or with `--submit-if-absent` submitted.
    @OptionGroup var windowEnd: WindowEndOption

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if lease < 1 { throw ValidationError("--lease must be at least 1 second") }
    }

    func run() async throws {
        let terminal = global.terminal
        let manifest = try windowEnd.window(try loadManifest(self.manifest, terminal: terminal, verbosity: global.verbosity))
        try RunCommand.preflight(manifest, selection: nil, global: global)
        let (database, url) = try Pool.open(manifest, command: "worker")
        let ledger = Ledger(database: database)
        let holder = LockHolder.current()
        let joined: (run: RunRecord, round: Int, opening: String)
        let window = windowEnd.windowEnd == nil ? nil : RunChoice.windowSpec(of: manifest)
        if let (run, round) = try Pool.workable(ledger: ledger, name: manifest.name, windowSpec: window) {
            joined = (run, round.round, "joined run \(run.id) of `\(manifest.name)` (round \(round.round))")
        } else if submitIfAbsent {
            switch try Pool.submit(
                manifest: manifest, ledger: ledger, forceNew: false, ifAbsent: true,
                invocation: "ghillie-run worker \(self.manifest) --submit-if-absent")
            {
            case .ready(let run, let round, let created, let reason):
                joined = (
                    run, round,
                    (created ? "submitted" : "joined") + " run \(run.id) of `\(manifest.name)` (\(reason))"
                )
            case .alreadyDone(let run):
                if global.verbosity >= 0 {
                    terminal.err(
                        "run \(run.id) of `\(manifest.name)` already succeeded over this window; nothing to do")
                }
                return
            }
        } else {
            let latest = try storeCall { try ledger.latestRun(name: manifest.name) }
            if let latest, latest.state != .running {
                if global.verbosity >= 0 {
                    terminal.err("run \(latest.id) of `\(manifest.name)` ended \(latest.state.rawValue); nothing to do")
                }
                let status = Working.status(of: latest.state)
                if status != .success { throw Exit(status: status) }
                return
            }
            throw Failure(
                .unavailable, "no run of `\(manifest.name)` is waiting for workers",
                hint: "`ghillie-run submit \(self.manifest)` creates one, or add --submit-if-absent")
        }
        // Waking on the queue's notifications and heartbeats each need a connection of their
        // own; both are opened when first needed (a worker with nothing to claim needs neither).
        let listener = PostgresListener(url: url, channel: WorkQueue.channel(runID: joined.run.id))
        // A worker paused inside a transaction must not hold the others up: the server ends such
        // a session after the lease (at least 30 s, so a unit computing between the statements
        // of its output is not cut short), and the worker, once it runs again, reconnects.
        let idle = Duration.seconds(max(lease, 30))
        try storeCall {
            try database.withConnection { connection in
                try (connection as? PostgresConnection)?.reconnecting(idleInTransaction: idle)
            }
        }
        // Heartbeats on a connection of their own: a long unit transaction must not cost a lease.
        // (The store is migrated already: a plain connection.)
        let displayName = database.displayName
        let heartbeats: @Sendable () throws -> Database = {
            let connection = try PostgresConnection(url: url)
            try connection.reconnecting(idleInTransaction: idle)
            return Database(connection: connection, displayName: displayName)
        }
        let worker = "\(holder.host):\(holder.pid):\(holder.token.prefix(8).lowercased())"
        let working = Working(
            manifestArgument: self.manifest, global: global, jobs: jobs ?? RunCommand.defaultJobs,
            lease: .seconds(lease), kind: .worker)
        try await working.work(
            manifest: manifest, ledger: ledger, run: joined.run, round: joined.round, continued: true,
            opening: ("worker_joined", "worker \(worker) " + joined.opening), selection: nil, worker: worker,
            lock: nil, listener: listener, heartbeats: heartbeats)
    }
}

/// What `submit` and `worker --submit-if-absent` share.
enum Pool {
    enum Submission {
        case ready(RunRecord, round: Int, created: Bool, reason: String)
        /// `--submit-if-absent` found the manifest's window already done.
        case alreadyDone(RunRecord)
    }

    /// Opens the store, which must be PostgreSQL: a pool spans machines.
    static func open(_ manifest: Manifest, command: String) throws -> (Database, String) {
        let spec = try StoreOpener.spec(manifest: manifest, environment: ProcessInfo.processInfo.environment)
        guard case .postgres(let url) = spec else {
            throw Failure(
                .unavailable,
                "`ghillie-run \(command)` needs a PostgreSQL store; \(spec) is SQLite, which one machine's processes share only through its lock",
                hint:
                    "run `ghillie-run \(manifest.path)` for one process on this machine, or set `store:` or GHILLIE_STORE to a postgres:// URL"
            )
        }
        return (try StoreOpener.open(spec), url)
    }

    /// The run of `name` that a pool is working now (of one window spec, when given), if any.
    static func workable(ledger: Ledger, name: String, windowSpec: String? = nil) throws -> (RunRecord, RoundRecord)? {
        try storeCall {
            guard let latest = try ledger.latestRun(name: name), latest.state == .running,
                windowSpec == nil || latest.windowSpec == windowSpec,
                let round = try WorkQueue.currentRound(database: ledger.database, runID: latest.id),
                round.mode == .pool
            else { return nil }
            return (latest, round)
        }
    }

    /// Creates or finds the run a pool works, holding the manifest's lock only for the decision.
    ///
    /// Several pods of one Job start at once: one takes the lock and submits, the others wait
    /// for it briefly and then find the run. A run another pool is working is joined, never
    /// reset; a run whose process or workers died is continued in a new round.
    static func submit(manifest: Manifest, ledger: Ledger, forceNew: Bool, ifAbsent: Bool, invocation: String) throws
        -> Submission
    {
        let holder = LockHolder.current()
        let lock = RunLock(database: ledger.database, name: manifest.name, holder: holder)
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                _ = try lock.acquire()
                break
            } catch let error as StoreError where error.code == .locked && Date() < deadline {
                if !forceNew,
                    let (run, round) = try workable(
                        ledger: ledger, name: manifest.name, windowSpec: RunChoice.windowSpec(of: manifest))
                {
                    return .ready(run, round: round.round, created: false, reason: "another process submitted it")
                }
                Thread.sleep(forTimeInterval: 0.25)
            } catch let error as StoreError {
                throw Failure.store(error)
            }
        }
        defer { try? lock.release() }
        return try storeCall {
            let latest = try ledger.latestRun(name: manifest.name)
            if let latest, latest.state == .running, !forceNew,
                let round = try WorkQueue.currentRound(database: ledger.database, runID: latest.id), round.mode == .pool,
                latest.windowSpec == RunChoice.windowSpec(of: manifest)
            {
                return .ready(latest, round: round.round, created: false, reason: "workers are working it")
            }
            if ifAbsent, let latest, latest.state == .succeeded, latest.manifestSHA256 == manifest.sha256,
                latest.windowSpec == RunChoice.windowSpec(of: manifest)
            {
                let window = manifest.window.resolve(now: Date())
                if window.start == latest.windowStart && window.end == latest.windowEnd { return .alreadyDone(latest) }
            }
            let run: RunRecord
            let reason: String
            let created: Bool
            switch RunChoice.choose(latest: latest, manifest: manifest, forceNew: forceNew) {
            case .windowDone(let done):
                return .alreadyDone(done)
            case .continueRun(let previous):
                try ledger.interruptUnfinished(
                    runID: previous.id,
                    message: "the process working it (pid \(previous.pid) on \(previous.host)) stopped before the unit finished")
                try ledger.reopenRun(id: previous.id, host: holder.host, pid: holder.pid)
                run = try ledger.run(id: previous.id) ?? previous
                reason = "continuing it: it ended \(previous.state.rawValue)"
                created = false
            case .newRun(let why):
                let window = manifest.window.resolve(now: Date())
                run = try ledger.createRun(
                    NewRun(
                        name: manifest.name, manifestPath: manifest.path, manifestSHA256: manifest.sha256,
                        windowSpec: RunChoice.windowSpec(of: manifest), gitCommit: GitInfo.commit(of: manifest.path),
                        windowStart: window.start, windowEnd: window.end, host: holder.host, pid: holder.pid,
                        invocation: invocation))
                reason = why
                created = true
            }
            let round = try WorkQueue.startRound(
                database: ledger.database, runID: run.id, mode: .pool, host: holder.host, pid: holder.pid)
            return .ready(run, round: round, created: created, reason: reason)
        }
    }
}
