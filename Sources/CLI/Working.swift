import Foundation
import JSON
import Manifest
import Pipeline
import Store

/// Works one run as one worker of it, then sums up what this worker did.
///
/// Shared by `ghillie-run M` (one in-process worker that holds the manifest's lock) and
/// `ghillie-run worker M` (one of any number of workers of a run `submit` started): the same
/// graph, scheduler, queue and ledger transitions, so one process is the pool with one worker.
struct Working {
    enum Kind {
        /// `ghillie-run M`: the only worker; it ends the run whatever happens.
        case process
        /// `ghillie-run worker M`: on a stop its units go back to the queue for the others.
        case worker
    }

    /// How long a claim lasts without a heartbeat (renewed every third of it).
    static let defaultLease: Duration = .seconds(60)

    let manifestArgument: String
    let global: GlobalOptions
    let jobs: Int
    let lease: Duration
    let kind: Kind

    func work(
        manifest: Manifest, ledger: Ledger, run: RunRecord, round: Int, continued: Bool,
        opening: (event: String, text: String), selection: SelectionOptions?, worker: String, lock: RunLock?,
        listener: (any QueueListener)?, heartbeats: (@Sendable () throws -> Database)? = nil
    ) async throws {
        let terminal = global.terminal
        let stages = Injected.stages
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

        let window = Window(start: run.windowStart, end: run.windowEnd)
        let graph = GraphBuilder.build(manifest, window: window)
        var selected = try selection?.resolve(in: graph) ?? Selection()
        selected.outputsGone = stages.outputsGone(in: graph, manifest: manifest, window: window)
        selected.rereads = try storeCall { try stages.rereads(in: graph, database: ledger.database) }
        selected.contexts = try storeCall {
            try stages.contexts(in: graph, manifest: manifest, window: window, database: ledger.database)
        }
        let missing = Set(stages.missing(for: graph))
        if !missing.isEmpty {
            // Stages this build lacks are left out, as if the user had named only the others.
            let runnable = Set(graph.units.map(\.id).filter { !missing.contains($0.stage) })
            selected.only = (selected.only ?? runnable).intersection(runnable)
        }
        let chosen = selected
        let history = try storeCall {
            try HistoryLoader.load(ledger: ledger, name: manifest.name, continuing: continued ? run : nil, window: window)
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
        let queue = WorkQueue(
            database: ledger.database, runID: run.id, round: round, worker: worker,
            host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier), lease: lease,
            heartbeats: heartbeats, budgetWait: .seconds(manifest.github.maxRateLimitWaitMinutes * 60))
        try storeCall { try queue.join() }
        let executor = Executor(
            graph: graph, stages: stages, ledger: ledger, manifest: manifest, run: run, jobs: jobs,
            observer: observer, redaction: redaction, queue: queue, listener: listener)

        let stop = StopSignal()
        let trap = SignalTrap(stop: stop)
        let result: ExecutionResult
        do {
            result = try await withThrowingTaskGroup(of: ExecutionResult?.self) { group in
                if let lock {
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(30))
                            _ = try? lock.heartbeat()
                        }
                        return nil
                    }
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
        var status: ExitStatus
        switch result.ending {
        case .succeeded: (state, status) = (.succeeded, .success)
        case .failed: (state, status) = (.failed, .unitsFailed)
        case .incomplete: (state, status) = (.incomplete, .success)
        case .interrupted: (state, status) = (.interrupted, .interrupted)
        }
        if kind == .worker && result.stopped {
            // Other workers carry on with the run; this one's units are back in the queue.
            try storeCall { try queue.leave(finished: false) }
        } else {
            try storeCall { _ = try ledger.finishRun(id: run.id, state: state, round: round) }
            try storeCall { try queue.leave(finished: true) }
        }
        let finished = try storeCall { try ledger.run(id: run.id) } ?? run
        if kind == .worker && !result.stopped && finished.state != state && finished.state != .running {
            // Another worker ended the run first; its verdict is the run's.
            status = Self.status(of: finished.state)
        }
        let failures =
            result.ending == .succeeded
            ? []
            : try storeCall { try ledger.latestAttempts(runID: run.id, in: [.failed, .interrupted]) }
        eventLog?.finished(finished, exitCode: status.rawValue, duration: result.duration)
        // The window before this one: is it complete? (A schedule that missed one says so here.)
        let length = run.windowEnd.timeIntervalSince(run.windowStart)
        let before = try storeCall {
            try ledger.succeededRun(
                name: manifest.name, windowStart: run.windowStart.addingTimeInterval(-length), windowEnd: run.windowStart)
        }
        report(
            result, run: finished, continued: continued, status: status, failures: failures, terminal: terminal,
            loadedManifest: manifest, textSummary: eventLog == nil, previous: before)
        if status != .success { throw Exit(status: status) }
    }

    static func status(of state: RunState) -> ExitStatus {
        switch state {
        case .succeeded, .incomplete, .running: return .success
        case .failed: return .unitsFailed
        case .interrupted: return .interrupted
        }
    }

    func report(
        _ result: ExecutionResult, run: RunRecord, continued: Bool, status: ExitStatus, failures: [AttemptRecord],
        terminal: Terminal, loadedManifest: Manifest, textSummary: Bool, previous: RunRecord?
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
                    RunCommand.Output(
                        schemaVersion: Documents.schemaVersion, run: Documents.RunDoc(run), continued: continued,
                        ending: run.state.rawValue, exitCode: status.rawValue, durationSeconds: result.duration,
                        stages: stages,
                        counters: Dictionary(uniqueKeysWithValues: result.counters.map { ($0.key.rawValue, $0.value) }),
                        stageSeconds: Dictionary(uniqueKeysWithValues: result.stageDurations.map { ($0.key.rawValue, $0.value) }),
                        outputs: Dictionary(outputs.map { ($0.output.key, relative($0.output.location) ?? "") }) { first, _ in
                            first
                        },
                        failures: failures.map(Documents.AttemptDoc.init),
                        previousWindow: RunCommand.PreviousWindowDoc(run: run, previous: previous))))
            return
        }
        guard textSummary, global.verbosity >= 0 || status != .success else { return }
        let paint: Role = status == .success ? .success : (status == .interrupted ? .warning : .error)
        terminal.err("")
        terminal.err(
            "run \(run.id) of `\(run.name)` " + terminal.paint(run.state.rawValue, paint)
                + " in \(formatDuration(result.duration))"
                + " (window \(Timestamp.string(run.windowStart)) → \(Timestamp.string(run.windowEnd)))")
        let earlier = RunCommand.PreviousWindowDoc(run: run, previous: previous)
        terminal.err(
            "the window before it (\(earlier.windowStart) → \(earlier.windowEnd)) "
                + (previous.map { "is complete (run \($0.id))" }
                    ?? "has no run that succeeded; `ghillie-run \(manifestArgument) --window-end \(earlier.windowEnd)` runs it"))
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
        case .unitsFailed where kind == .worker:
            terminal.err(
                "\(failures.count) unit\(failures.count == 1 ? "" : "s") failed; "
                    + "`ghillie-run status \(manifestArgument)` shows why; `ghillie-run worker \(manifestArgument) --submit-if-absent` "
                    + "(or `ghillie-run \(manifestArgument)`) resumes")
        case .unitsFailed:
            terminal.err(
                "\(failures.count) unit\(failures.count == 1 ? "" : "s") failed; "
                    + "`ghillie-run status \(manifestArgument)` shows why, and rerunning `ghillie-run \(manifestArgument)` resumes"
            )
        case .interrupted where kind == .worker:
            terminal.err(
                "stopped; this worker's units went back to the queue; `ghillie-run worker \(manifestArgument)` joins again")
        case .interrupted:
            terminal.err("interrupted; rerun `ghillie-run \(manifestArgument)` to resume")
        default: break
        }
    }
}
