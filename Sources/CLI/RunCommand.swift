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
        let stages = Injected.stages

        // Parse, then run: the whole graph and selection are checked before the store is touched.
        let provisional = manifest.window.resolve(now: Date())
        let probe = GraphBuilder.build(manifest, window: Window(start: provisional.start, end: provisional.end))
        let requested = try selection.resolve(in: probe)
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

    private func runLocked(manifest: Manifest, ledger: Ledger, lock: RunLock, holder: LockHolder, terminal: Terminal)
        async throws
    {
        let stages = Injected.stages
        let latest = try storeCall { try ledger.latestRun(name: manifest.name) }
        let choice = RunChoice.choose(latest: latest, manifest: manifest, forceNew: selection.new)
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
        let redaction = Redaction(manifest, environment: ProcessInfo.processInfo.environment)
        // `--log-format json`: every event one JSON object on stderr, instead of the display.
        let eventLog =
            global.progressFormat == .json
            ? EventLog(terminal: terminal, run: run, redact: redaction, verbosity: global.verbosity) : nil
        if let eventLog {
            eventLog.note(opening.event, message: opening.text)
        } else if global.verbosity >= 0 {
            terminal.err(opening.text)
        }
        try storeCall { try lock.attach(runID: run.id) }

        let graph = GraphBuilder.build(manifest, window: Window(start: run.windowStart, end: run.windowEnd))
        var selected = try selection.resolve(in: graph)
        selected.outputsGone = stages.outputsGone(
            in: graph, manifest: manifest,
            window: Window(start: run.windowStart, end: run.windowEnd))
        let missing = Set(stages.missing(for: graph))
        if !missing.isEmpty {
            // Stages this build lacks are left out, as if the user had named only the others.
            let runnable = Set(graph.units.map(\.id).filter { !missing.contains($0.stage) })
            selected.only = (selected.only ?? runnable).intersection(runnable)
        }
        let chosen = selected
        let history = try storeCall {
            try HistoryLoader.load(ledger: ledger, name: manifest.name, continuing: continued ? run : nil)
        }
        let display: ProgressDisplay?
        let observer: any RunObserver
        if let eventLog {
            (display, observer) = (nil, eventLog)
        } else {
            let shown = ProgressDisplay(
                terminal: terminal, total: graph.units.filter { !missing.contains($0.id.stage) }.count,
                verbosity: global.verbosity)
            (display, observer) = (shown, shown)
        }
        let executor = Executor(
            graph: graph, stages: stages, ledger: ledger, manifest: manifest, run: run, jobs: jobs ?? Self.defaultJobs,
            observer: observer, redaction: redaction)

        let stop = StopSignal()
        let trap = SignalTrap(stop: stop)
        let result: ExecutionResult
        do {
            result = try await withThrowingTaskGroup(of: ExecutionResult?.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(30))
                        _ = try? lock.heartbeat()
                    }
                    return nil
                }
                group.addTask { try await executor.execute(history: history, selection: chosen, stop: stop) }
                var outcome: ExecutionResult?
                while let next = try await group.next() {
                    if let next {
                        outcome = next
                        group.cancelAll()
                    }
                }
                guard let outcome else { throw CancellationError() }
                return outcome
            }
        } catch let error as StoreError {
            display?.finish()
            trap.disarm()
            throw Failure.store(error)
        }
        trap.disarm()
        display?.finish()

        let state: RunState
        let status: ExitStatus
        switch result.ending {
        case .succeeded: (state, status) = (.succeeded, .success)
        case .failed: (state, status) = (.failed, .unitsFailed)
        case .incomplete: (state, status) = (.incomplete, .success)
        case .interrupted: (state, status) = (.interrupted, .interrupted)
        }
        try storeCall { try ledger.finishRun(id: run.id, state: state) }
        let finished = try storeCall { try ledger.run(id: run.id) } ?? run
        let failures =
            result.ending == .succeeded
            ? []
            : try storeCall { try ledger.latestAttempts(runID: run.id, in: [.failed, .interrupted]) }
        eventLog?.finished(finished, exitCode: status.rawValue, duration: result.duration)
        report(
            result, run: finished, continued: continued, status: status, failures: failures, terminal: terminal,
            loadedManifest: manifest, textSummary: eventLog == nil)
        if status != .success { throw Exit(status: status) }
    }

    private func report(
        _ result: ExecutionResult, run: RunRecord, continued: Bool, status: ExitStatus, failures: [AttemptRecord],
        terminal: Terminal, loadedManifest: Manifest, textSummary: Bool
    ) {
        var stages: [String: [String: Int]] = [:]
        for (stage, counts) in result.counts {
            stages[stage.rawValue] = Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
        }
        let window = Window(start: run.windowStart, end: run.windowEnd)
        let cwd = FileManager.default.currentDirectoryPath + "/"
        func relative(_ url: URL?) -> String? {
            url.map { $0.path.hasPrefix(cwd) ? String($0.path.dropFirst(cwd.count)) : $0.path }
        }
        let stageSet = Injected.stages
        let outputs = stageSet.outputs(loadedManifest, window: window)
        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion, run: Documents.RunDoc(run), continued: continued,
                        ending: run.state.rawValue, exitCode: status.rawValue, durationSeconds: result.duration,
                        stages: stages,
                        counters: Dictionary(uniqueKeysWithValues: result.counters.map { ($0.key.rawValue, $0.value) }),
                        stageSeconds: Dictionary(uniqueKeysWithValues: result.stageDurations.map { ($0.key.rawValue, $0.value) }),
                        outputs: Dictionary(outputs.map { ($0.output.key, relative($0.output.location) ?? "") }) { first, _ in
                            first
                        },
                        failures: failures.map(Documents.AttemptDoc.init))))
            return
        }
        guard textSummary, global.verbosity >= 0 || status != .success else { return }
        let role: Role = status == .success ? .success : (status == .interrupted ? .warning : .error)
        terminal.err("")
        terminal.err(
            "run \(run.id) of `\(run.name)` " + terminal.paint(run.state.rawValue, role)
                + " in \(formatDuration(result.duration))"
                + " (window \(Timestamp.string(run.windowStart)) → \(Timestamp.string(run.windowEnd)))")
        let columns: [UnitState] = [.succeeded, .failed, .skipped, .interrupted]
        let rows = Stage.allCases.compactMap { stage -> [String]? in
            guard let counts = result.counts[stage] else { return nil }
            return [stage.rawValue] + columns.map { String(counts[$0] ?? 0) }
                + [result.stageDurations[stage].map(formatDuration) ?? "-"]
        }
        if !rows.isEmpty { terminal.err(TextTable.render(["STAGE"] + columns.map(\.rawValue) + ["time"], rows)) }
        for line in stageSet.summaries(result.counters, manifest: loadedManifest) { terminal.err(line) }
        // Where files went, for the stages that wrote some in this invocation.
        for (stage, output) in outputs where (result.counts[stage]?[.succeeded] ?? 0) > 0 {
            guard !output.afterWholeRun || run.state == .succeeded, let path = relative(output.location) else { continue }
            terminal.err("\(output.label): \(path)")
        }
        if global.verbosity > 0 {
            for stage in Stage.allCases {
                guard let counters = result.counters[stage], !counters.isEmpty else { continue }
                terminal.err(
                    "\(stage.rawValue) "
                        + counters.keys.sorted().map { "\($0)=\(counters[$0] ?? 0)" }
                        .joined(separator: " "))
            }
        }
        switch status {
        case .unitsFailed:
            terminal.err(
                "\(failures.count) unit\(failures.count == 1 ? "" : "s") failed; "
                    + "`ghillie-run status \(manifest)` shows why, and rerunning `ghillie-run \(manifest)` resumes")
        case .interrupted:
            terminal.err("interrupted; rerun `ghillie-run \(manifest)` to resume")
        default: break
        }
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
        guard let head = git(["-C", folder, "rev-parse", "HEAD"]), !head.isEmpty else { return nil }
        guard git(["-C", folder, "ls-files", "--error-unmatch", url.lastPathComponent]) != nil else { return nil }
        let dirty = git(["-C", folder, "status", "--porcelain", "--", url.lastPathComponent]) ?? ""
        return dirty.isEmpty ? head : head + "+dirty"
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
