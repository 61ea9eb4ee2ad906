public import Foundation
public import Manifest
public import Store

/// Something that happened during a run, for progress display and summaries.
public enum RunEvent: Sendable {
    /// A unit began its attempt number `attempt` (1 for its first in this run).
    case started(UnitID, RunReason, attempt: Int)
    case progress(UnitID, String)
    /// The API budget left after a unit's latest request, and when it resets.
    case budget(remaining: Int, resetAt: Date)
    case succeeded(UnitID, duration: TimeInterval, counters: [String: Int64])
    case failed(UnitID, code: String, message: String)
    /// A unit that succeeded has something the user should know.
    case warning(UnitID, message: String)
    /// The unit stopped before its end: by a signal (no reason), or cleanly on its own.
    case interrupted(UnitID, reason: String?)
    case reused(UnitID, fromRun: Int64)
    case settled(UnitID)
    case skipped(UnitID, upstream: UnitID)
    case stopping
}

/// Receives run events. Implementations must be cheap and thread-safe.
public protocol RunObserver: Sendable {
    func event(_ event: RunEvent)
}

/// Tells the executor to stop scheduling (SIGINT/SIGTERM), once.
public final class StopSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func stop() { continuation.yield() }

    /// Returns when a stop is requested, or when the waiting task is cancelled.
    func wait() async {
        for await _ in stream { return }
    }
}

/// How a run ended.
public struct ExecutionResult: Sendable {
    public enum Ending: Sendable, Equatable {
        /// Every unit succeeded (ran, was reused or was already done).
        case succeeded
        /// Some units failed or were skipped; a rerun resumes them.
        case failed
        /// `--only` left units of the graph not run.
        case incomplete
        /// Stopped by a signal; a rerun resumes.
        case interrupted
    }

    public let ending: Ending
    public let counts: [Stage: [UnitState: Int]]
    /// Counters summed over the units that ran, per stage.
    public let counters: [Stage: [String: Int64]]
    public let duration: TimeInterval
    /// Per stage, the time from its first unit's start to its last unit's end in this run.
    public let stageDurations: [Stage: TimeInterval]
}

/// The thin async driver: carries out the scheduler's actions with bounded concurrency.
///
/// One task group holds the running units and a waiter for the stop signal. Ledger writes
/// happen here, on the driver, never inside unit tasks (except through `persist`, which the
/// ledger runs in its success transaction). A store failure stops the run: a run that cannot
/// record what it did must not carry on.
public struct Executor: Sendable {
    public let graph: UnitGraph
    public let stages: StageSet
    public let ledger: Ledger
    public let manifest: Manifest
    public let run: RunRecord
    public let jobs: Int
    public let observer: any RunObserver
    /// Scrubs secret values (tokens, keys, a store password) from every recorded message.
    public let redact: Redaction

    public init(
        graph: UnitGraph, stages: StageSet, ledger: Ledger, manifest: Manifest, run: RunRecord, jobs: Int,
        observer: any RunObserver, redaction: Redaction
    ) {
        self.graph = graph
        self.stages = stages
        self.ledger = ledger
        self.manifest = manifest
        self.run = run
        self.jobs = jobs
        self.observer = observer
        self.redact = redaction
    }

    enum Event: Sendable {
        case finished(UnitID, attemptID: Int64, started: Date, Result<UnitResult, any Error>)
        case stop
    }

    /// Runs the graph. Throws only for store failures.
    public func execute(history: [UnitID: UnitHistory], selection: Selection, stop: StopSignal) async throws
        -> ExecutionResult
    {
        let began = Date()
        var spans: [Stage: (Date, Date)] = [:]
        var scheduler = Scheduler(
            graph: graph, versions: stages.versions, history: history, selection: selection, jobs: jobs)
        var counts: [Stage: [UnitState: Int]] = [:]
        var totals: [Stage: [String: Int64]] = [:]
        var stopRequested = false
        let window = Window(start: run.windowStart, end: run.windowEnd)

        func count(_ id: UnitID, _ state: UnitState) {
            counts[id.stage, default: [:]][state, default: 0] += 1
        }

        try await withThrowingTaskGroup(of: Event.self) { group in
            group.addTask {
                await stop.wait()
                return .stop
            }
            var running = 0

            func apply(_ actions: [Scheduler.Action]) throws {
                var batch: [NewAttempt] = []
                for action in actions {
                    switch action {
                    case .settle(let id):
                        count(id, .succeeded)
                        observer.event(.settled(id))
                    case .keepStale(let id):
                        count(id, .pending)
                        observer.event(.settled(id))
                    case .reuse(let id, let fingerprint, let hash, let fromRun):
                        batch.append(
                            NewAttempt(
                                runID: run.id, unit: id.ledgerKey, state: .succeeded, reason: "up to date",
                                fingerprint: fingerprint.value, fingerprintParts: fingerprint.parts,
                                reusedFromRun: fromRun, outputHash: hash))
                        count(id, .succeeded)
                        observer.event(.reused(id, fromRun: fromRun))
                    case .skip(let id, let fingerprint, let upstream, let reason):
                        let why =
                            reason == .upstreamFailed
                            ? "upstream \(upstream) failed"
                            : "upstream \(upstream) has no output (not selected by --only)"
                        batch.append(
                            NewAttempt(
                                runID: run.id, unit: id.ledgerKey, state: .skipped, reason: why,
                                fingerprint: fingerprint?.value ?? "", fingerprintParts: fingerprint?.parts ?? [:],
                                errorCode: "upstream_failed", errorMessage: why))
                        count(id, .skipped)
                        observer.event(.skipped(id, upstream: upstream))
                    case .run(let id, let fingerprint, let reason):
                        try ledger.record(batch)
                        batch.removeAll()
                        try start(id, fingerprint: fingerprint, reason: reason, scheduler: scheduler)
                    }
                }
                try ledger.record(batch)
            }

            func start(_ id: UnitID, fingerprint: Fingerprint, reason: RunReason, scheduler: Scheduler) throws {
                guard let unit = graph.unit(id), let runner = stages.runners[id.stage] else {
                    preconditionFailure("no runner for \(id); the CLI checks this before running")
                }
                let attempt = try ledger.start(
                    NewAttempt(
                        runID: run.id, unit: id.ledgerKey, state: .running, reason: reason.description,
                        fingerprint: fingerprint.value, fingerprintParts: fingerprint.parts))
                observer.event(.started(id, reason, attempt: Int(attempt.attempt)))
                let upstream = Dictionary(scheduler.upstreamOutputs(of: id), uniquingKeysWith: { first, _ in first })
                let context = UnitContext(
                    unit: unit, runID: run.id, attempt: attempt.attempt, window: window, manifest: manifest,
                    database: ledger.database, upstream: upstream,
                    progress: { [observer] message in observer.event(.progress(id, message)) },
                    budget: { [observer] remaining, reset in observer.event(.budget(remaining: remaining, resetAt: reset)) })
                let started = Date()
                running += 1
                group.addTask {
                    do {
                        try Task.checkCancellation()
                        let result = try await runner.run(context)
                        return .finished(id, attemptID: attempt.id, started: started, .success(result))
                    } catch {
                        return .finished(id, attemptID: attempt.id, started: started, .failure(error))
                    }
                }
            }

            try apply(scheduler.start())
            while running > 0 || !scheduler.isIdle {
                guard let event = try await group.next() else { break }
                switch event {
                case .stop:
                    guard !stopRequested else { continue }
                    stopRequested = true
                    scheduler.stop()
                    observer.event(.stopping)
                    group.cancelAll()
                case .finished(let id, let attemptID, let started, let result):
                    running -= 1
                    let span = spans[id.stage] ?? (started, Date())
                    spans[id.stage] = (min(span.0, started), max(span.1, Date()))
                    let outcome = try record(
                        id, attemptID: attemptID, started: started, result: result, stopping: stopRequested,
                        totals: &totals)
                    switch outcome {
                    case .succeeded: count(id, .succeeded)
                    case .failed: count(id, .failed)
                    case .interrupted: count(id, .interrupted)
                    }
                    try apply(scheduler.finished(id, outcome))
                }
            }
            group.cancelAll()
        }

        let ending: ExecutionResult.Ending
        if stopRequested || scheduler.hasInterruptions {
            ending = .interrupted
        } else if scheduler.hasFailures {
            ending = .failed
        } else if scheduler.hasMissing || !scheduler.unfinished.isEmpty {
            ending = .incomplete
        } else {
            ending = .succeeded
        }
        return ExecutionResult(
            ending: ending, counts: counts, counters: totals, duration: Date().timeIntervalSince(began),
            stageDurations: spans.mapValues { $0.1.timeIntervalSince($0.0) })
    }

    /// Writes a finished unit's outcome to the ledger and tells the observer.
    private func record(
        _ id: UnitID, attemptID: Int64, started: Date, result: Result<UnitResult, any Error>, stopping: Bool,
        totals: inout [Stage: [String: Int64]]
    ) throws -> Scheduler.Outcome {
        switch result {
        case .success(let output):
            do {
                try ledger.succeed(
                    attemptID: attemptID, name: manifest.name, outputHash: output.outputHash,
                    counters: output.counters, warnings: output.warnings.map { redact($0) }, persist: output.persist)
            } catch let error as StoreError where error.code == .unavailable {
                throw error
            } catch {
                let message = redact("could not save the unit's output: \(error)")
                try ledger.end(
                    attemptID: attemptID, state: .failed, errorCode: "persist_failed",
                    errorMessage: message, counters: output.counters)
                observer.event(.failed(id, code: "persist_failed", message: message))
                return .failed
            }
            for (key, value) in output.counters { totals[id.stage, default: [:]][key, default: 0] += value }
            for warning in output.warnings { observer.event(.warning(id, message: redact(warning))) }
            observer.event(.succeeded(id, duration: Date().timeIntervalSince(started), counters: output.counters))
            return .succeeded(outputHash: output.outputHash)
        case .failure(let error):
            let unitError = error as? UnitError
            let counters = unitError?.counters ?? [:]
            for (key, value) in counters { totals[id.stage, default: [:]][key, default: 0] += value }
            if stopping && (error is CancellationError || Task.isCancelled || unitError?.code == "interrupted") {
                try ledger.end(
                    attemptID: attemptID, state: .interrupted, errorCode: "interrupted",
                    errorMessage: "stopped by a signal before the unit finished", counters: counters)
                observer.event(.interrupted(id, reason: nil))
                return .interrupted
            }
            if let unitError, unitError.interrupted {
                let message = redact(unitError.message)
                try ledger.end(
                    attemptID: attemptID, state: .interrupted, errorCode: unitError.code, errorMessage: message,
                    counters: counters)
                observer.event(.interrupted(id, reason: "\(message) [\(unitError.code)]"))
                return .interrupted
            }
            let code = unitError?.code ?? "internal"
            let message = redact(unitError?.message ?? String(describing: error))
            try ledger.end(
                attemptID: attemptID, state: .failed, errorCode: code, errorMessage: message,
                counters: counters)
            observer.event(.failed(id, code: code, message: message))
            return .failed
        }
    }
}
