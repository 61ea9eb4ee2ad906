import ArgumentParser
import Foundation
import JSON
import Manifest
import Pipeline
import Store
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `ghillie-run MANIFEST`: run (or resume) the manifest's pipeline.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a manifest's pipeline; a rerun resumes the latest unfinished run.")

    @Argument(help: "The run manifest.")
    var manifest: String

    @Option(name: .shortAndLong, help: "Units to run at once (default: twice the CPU count, 2 to 16).")
    var jobs: Int?

    @OptionGroup var selection: SelectionOptions
    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        let schemaVersion: Int
        let run: Documents.RunDoc
        let continued: Bool
        let ending: String
        let exitCode: Int32
        let durationSeconds: Double
        let stages: [String: [String: Int]]
        let counters: [String: [String: Int64]]
        let stageSeconds: [String: Double]
        let outputs: [String: String]
        let failures: [Documents.AttemptDoc]
        /// The window of the same length just before the run's: whether a run did it.
        let previousWindow: PreviousWindowDoc

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case run
            case continued
            case ending
            case exitCode = "exit_code"
            case durationSeconds = "duration_seconds"
            case stages
            case counters
            case stageSeconds = "stage_seconds"
            case outputs
            case failures
            case previousWindow = "previous_window"
        }
    }

    struct PreviousWindowDoc: Encodable {
        let windowStart: String
        let windowEnd: String
        let complete: Bool
        let runId: Int64?

        init(run: RunRecord, previous: RunRecord?) {
            let length = run.windowEnd.timeIntervalSince(run.windowStart)
            windowStart = Timestamp.string(run.windowStart.addingTimeInterval(-length))
            windowEnd = Timestamp.string(run.windowStart)
            complete = previous != nil
            runId = previous?.id
        }

        enum CodingKeys: String, CodingKey {
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case complete
            case runId = "run_id"
        }
    }

    /// Where a run's files went (null when the manifest writes none of that kind).
    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        let terminal = global.terminal
        let environment = ProcessInfo.processInfo.environment
        let manifest = try selection.window(
            try loadManifest(self.manifest, terminal: terminal, verbosity: global.verbosity))
        try Self.preflight(manifest, selection: selection, global: global)

        let spec = try StoreOpener.spec(manifest: manifest, environment: environment)
        let database = try StoreOpener.open(spec)
        let ledger = Ledger(database: database)
        let holder = LockHolder.current()
        let lock = RunLock(database: database, name: manifest.name, holder: holder)
        let acquisition = try storeCall { try lock.acquire() }
        if let previous = acquisition.tookOverFrom, global.verbosity >= 0 {
            terminal.err(
                terminal.paint("note:", .warning) + " took over the lock of `\(manifest.name)` from pid "
                    + "\(previous.pid) on \(previous.host), which is no longer running")
        }
        do {
            try await runLocked(manifest: manifest, ledger: ledger, lock: lock, holder: holder, terminal: terminal)
        } catch {
            try? lock.release()
            throw error
        }
        try? lock.release()
    }

    /// Parse, then run: the whole graph and selection are checked, and each stage's
    /// configuration (tokens, endpoints), before the store is touched.
    static func preflight(_ manifest: Manifest, selection: SelectionOptions?, global: GlobalOptions) throws {
        let terminal = global.terminal
        let environment = ProcessInfo.processInfo.environment
        let stages = Injected.stages

        let provisional = manifest.window.resolve(now: Date())
        let probe = GraphBuilder.build(manifest, window: Window(start: provisional.start, end: provisional.end))
        let requested = try selection?.resolve(in: probe) ?? Selection()
        let missing = stages.missing(for: probe)
        let available = probe.stages.filter { !missing.contains($0) }
        guard !available.isEmpty else {
            throw Failure(
                .unavailable,
                "this build of ghillie-run cannot run stage" + (missing.count == 1 ? " " : "s ")
                    + missing.map { "`\($0.rawValue)`" }.joined(separator: ", "),
                hint:
                    "`ghillie-run validate` and `ghillie-run plan` work on this manifest; running it needs a build with these stages"
            )
        }
        if !missing.isEmpty && global.verbosity >= 0 {
            terminal.err(
                terminal.paint("note:", .warning) + " this build runs "
                    + available.map { "`\($0.rawValue)`" }.joined(separator: ", ") + "; "
                    + missing.map { "`\($0.rawValue)`" }.joined(separator: ", ")
                    + (missing.count == 1 ? " is" : " are") + " not built yet, so the run ends incomplete")
        }
        let units = requested.only ?? Set(probe.units.map(\.id))
        for stage in available where units.contains(where: { $0.stage == stage }) {
            do {
                try stages.runners[stage]?.preflight(manifest, environment: environment)
            } catch {
                throw Failure(.unavailable, error.message, hint: error.hint)
            }
        }

    }

    private func runLocked(manifest: Manifest, ledger: Ledger, lock: RunLock, holder: LockHolder, terminal: Terminal)
        async throws
    {
        let latest = try storeCall { try ledger.latestRun(name: manifest.name) }
        let choice = RunChoice.choose(latest: latest, manifest: manifest, forceNew: selection.new)
        if case .windowDone(let done) = choice {
            return WindowDone.report(done, manifest: manifest, global: global)
        }
        let run: RunRecord
        var continued = false
        var opening: (event: String, text: String)
        switch choice {
        case .continueRun(let previous):
            let interrupted = try storeCall {
                try ledger.interruptUnfinished(
                    runID: previous.id,
                    message: "the process running it (pid \(previous.pid) on \(previous.host)) stopped before the unit finished")
            }
            try storeCall { try ledger.reopenRun(id: previous.id, host: holder.host, pid: holder.pid) }
            run = try storeCall { try ledger.run(id: previous.id) } ?? previous
            continued = true
            opening = (
                "run_continued",
                "continuing run \(run.id) of `\(manifest.name)` (it ended \(previous.state.rawValue)"
                    + (interrupted > 0 ? "; \(interrupted) unit\(interrupted == 1 ? " was" : "s were") left running" : "")
                    + ")"
            )
        case .windowDone: return
        case .newRun(let reason):
            let window = manifest.window.resolve(now: Date())
            run = try storeCall {
                try ledger.createRun(
                    NewRun(
                        name: manifest.name, manifestPath: manifest.path, manifestSHA256: manifest.sha256,
                        windowSpec: RunChoice.windowSpec(of: manifest), gitCommit: GitInfo.commit(of: manifest.path),
                        windowStart: window.start, windowEnd: window.end, host: holder.host, pid: holder.pid,
                        invocation: invocation()))
            }
            opening = ("run_started", "starting run \(run.id) of `\(manifest.name)` (\(reason))")
        }
        // A run that a pool of workers is working (`submit`) is theirs: join it, do not reset it.
        if continued, let round = try storeCall({ try WorkQueue.currentRound(database: ledger.database, runID: run.id) }),
            round.mode == .pool
        {
            let live = try storeCall {
                try WorkQueue.liveWorkers(
                    database: ledger.database, runID: run.id, round: round.round, within: Working.defaultLease)
            }
            if live > 0 {
                throw Failure(
                    .locked,
                    "run \(run.id) of `\(manifest.name)` is being worked by \(live) worker\(live == 1 ? "" : "s")",
                    hint: "`ghillie-run worker \(self.manifest)` joins it; `ghillie-run status \(self.manifest)` watches it")
            }
        }
        let round = try storeCall {
            try WorkQueue.startRound(
                database: ledger.database, runID: run.id, mode: .process, host: holder.host, pid: holder.pid)
        }
        try storeCall { try lock.attach(runID: run.id) }
        let working = Working(
            manifestArgument: self.manifest, global: global, jobs: jobs ?? Self.defaultJobs, lease: Working.defaultLease,
            kind: .process)
        try await working.work(
            manifest: manifest, ledger: ledger, run: run, round: round, continued: continued, opening: opening,
            selection: selection, worker: holder.token, lock: lock, listener: nil)
    }

    private func invocation() -> String {
        var parts = ["ghillie-run", manifest]
        if let jobs { parts += ["--jobs", String(jobs)] }
        if selection.new { parts.append("--new") }
        if let from = selection.from { parts += ["--from", from] }
        for only in selection.only { parts += ["--only", only] }
        for rerun in selection.rerun { parts += ["--rerun", rerun] }
        if let windowEnd = selection.windowEnd { parts += ["--window-end", windowEnd] }
        return parts.joined(separator: " ")
    }

    static var defaultJobs: Int {
        min(16, max(2, 2 * ProcessInfo.processInfo.activeProcessorCount))
    }
}

/// SIGINT/SIGTERM: the first asks the executor to stop; the second exits at once (130).
///
/// Exiting at once is safe: every ledger transition is a transaction, and the next run marks
/// units left `running` as `interrupted` and takes over the lock of the dead process.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(stop: StopSignal) {
        let count = Counter()
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if count.increment() > 1 { _exit(ExitStatus.interrupted.rawValue) }
                stop.stop()
            }
            source.resume()
            return source
        }
    }

    func disarm() {
        for source in sources { source.cancel() }
    }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func increment() -> Int {
            value.withLock {
                $0 += 1; return $0
            }
        }
    }
}

/// The git commit of a manifest file, when it is tracked in a work tree (`+dirty` if modified).
enum GitInfo {
    static func commit(of path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        // No `.git` in the folder or above it: no work tree, and no git process to start.
        guard insideWorkTree(url.deletingLastPathComponent()) else { return nil }
        guard let head = git(["-C", folder, "rev-parse", "HEAD"]), !head.isEmpty else { return nil }
        guard git(["-C", folder, "ls-files", "--error-unmatch", url.lastPathComponent]) != nil else { return nil }
        let dirty = git(["-C", folder, "status", "--porcelain", "--", url.lastPathComponent]) ?? ""
        return dirty.isEmpty ? head : head + "+dirty"
    }

    /// Whether `folder` or a folder above it holds `.git` (a directory, or a worktree's file).
    static func insideWorkTree(_ folder: URL) -> Bool {
        var current = folder.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: current.appendingPathComponent(".git").path) { return true }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { return false }
            current = parent
        }
    }

    private static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// An anchored window a run of the same manifest already did (``Pipeline/RunChoice/windowDone(_:)``):
/// what `ghillie-run M` says instead of starting a run.
enum WindowDone {
    struct Document: Encodable {
        let schemaVersion: Int
        let name: String
        let action = "window_done"
        let runId: Int64
        let windowStart: String
        let windowEnd: String
        let nextWindowEnd: String

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case name, action
            case runId = "run_id"
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case nextWindowEnd = "next_window_end"
        }
    }

    /// When the window after `run`'s ends: the earliest time the next run has something to do.
    static func nextEnd(_ run: RunRecord) -> Date {
        run.windowEnd.addingTimeInterval(run.windowEnd.timeIntervalSince(run.windowStart))
    }

    static func reason(_ run: RunRecord, manifest: Manifest) -> String {
        "window \(Timestamp.string(run.windowStart)) → \(Timestamp.string(run.windowEnd)) was done by run \(run.id) "
            + "with this manifest; the next window ends at \(Timestamp.string(nextEnd(run)))"
    }

    static func report(_ run: RunRecord, manifest: Manifest, global: GlobalOptions) {
        let terminal = global.terminal
        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Document(
                        schemaVersion: Documents.schemaVersion, name: manifest.name, runId: run.id,
                        windowStart: Timestamp.string(run.windowStart), windowEnd: Timestamp.string(run.windowEnd),
                        nextWindowEnd: Timestamp.string(nextEnd(run)))))
        } else if global.verbosity >= 0 {
            terminal.err("nothing to do for `\(manifest.name)`: " + reason(run, manifest: manifest))
        }
    }
}
