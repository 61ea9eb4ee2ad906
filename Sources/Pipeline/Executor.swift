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
    /// This worker took the unit over from `worker`, whose lease had expired.
    case tookOver(UnitID, from: String, attempt: Int)
    /// This worker's end of the unit came after its lease was taken over: it was not written.
    case leaseLost(UnitID, attempt: Int)
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
    /// This worker stopped on a signal (its units went back to the queue); other workers may
    /// still be working the run.
    public let stopped: Bool
}

/// The thin async driver: one worker of a run, carrying out the scheduler's decisions through
/// the run's queue.
///
/// Every worker (the one in `ghillie-run M`, or each `ghillie-run worker M`) runs the same pure
/// scheduler over the same graph and ledger history, so they make the same decisions; the
/// queue in the store makes each one happen once. A unit the scheduler makes ready is queued
/// (once, whoever queues it first); units that end without running (reused, skipped) are
/// recorded once; the worker claims up to `jobs` queued units at a time, runs them, and ends
/// each in the transaction that makes its output durable — fenced, so a worker that lost its
/// lease writes nothing. What other workers ended reaches the scheduler when the worker syncs
/// with the queue: when it has nothing to claim, and when the store announces a change.
///
/// One task group holds the running units, a waiter for the stop signal, the heartbeat that
/// renews this worker's leases, and (when idle) a waiter for the queue to change. Ledger
/// writes happen here, on the driver, never inside unit tasks (except through `persist`, which
/// the ledger runs in its success transaction). A store failure stops the worker: one that
/// cannot record what it did must not carry on.
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
    public let queue: WorkQueue
    /// Wakes an idle worker when another one changes the queue; without one it polls.
    public let listener: (any QueueListener)?
    /// How long an idle worker waits before looking at the queue again.
    public let pollInterval: Duration

    public init(
        graph: UnitGraph, stages: StageSet, ledger: Ledger, manifest: Manifest, run: RunRecord, jobs: Int,
        observer: any RunObserver, redaction: Redaction, queue: WorkQueue, listener: (any QueueListener)? = nil,
        pollInterval: Duration = .seconds(1)
    ) {
        self.graph = graph
        self.stages = stages
        self.ledger = ledger
        self.manifest = manifest
        self.run = run
        self.jobs = jobs
        self.observer = observer
        self.redact = redaction
        self.queue = queue
        self.listener = listener
        self.pollInterval = pollInterval
    }

    enum Event: Sendable {
        case finished(UnitID, Claim, started: Date, Result<UnitResult, any Error>)
        case stop
        /// The queue may have changed (a notification, or the poll interval passed).
        case wake
        case heartbeatFailed(any Error)
        /// A helper task ended because the group was cancelled.
        case done
    }

    /// Works the run until it is finished (nothing queued, nothing running anywhere) or stopped.
    /// Throws only for store failures.
    public func execute(history: [UnitID: UnitHistory], selection: Selection, stop: StopSignal) async throws
        -> ExecutionResult
    {
        let began = Date()
        var spans: [Stage: (Date, Date)] = [:]
        // The scheduler decides; how many units run here at once is this worker's claims.
        var scheduler = Scheduler(
            graph: graph, versions: stages.versions, history: history, selection: selection, jobs: Int.max)
        var counts: [Stage: [UnitState: Int]] = [:]
        var totals: [Stage: [String: Int64]] = [:]
        var stopRequested = false
        let window = Window(start: run.windowStart, end: run.windowEnd)
        let queue = self.queue
        let heartbeatEvery = max(queue.lease / 3, .milliseconds(100))

        func count(_ id: UnitID, _ state: UnitState) {
            counts[id.stage, default: [:]][state, default: 0] += 1
        }

        try await withThrowingTaskGroup(of: Event.self) { group in
            group.addTask {
                await stop.wait()
                return .stop
            }
            group.addTask {
                while true {
                    do { try await Task.sleep(for: heartbeatEvery) } catch { return .done }
                    do { try queue.heartbeat() } catch { return .heartbeatFailed(error) }
                }
            }
            var local: [UnitID: Claim] = [:]
            var waking = false
            /// Units made ready and not yet queued: the next claim queues them in its transaction.
            var ready: [QueueEntry] = []

            func entry(_ id: UnitID, _ fingerprint: Fingerprint?, reason: String) -> QueueEntry {
                QueueEntry(
                    unit: id.ledgerKey, priority: priority(id), reason: reason,
                    fingerprint: fingerprint?.value ?? "", fingerprintParts: fingerprint?.parts ?? [:],
                    credential: graph.unit(id).flatMap { stages.runners[id.stage]?.credential(for: $0, manifest: manifest) })
            }

            func apply(_ actions: [Scheduler.Action]) throws {
                var finals: [(entry: QueueEntry, attempt: NewAttempt)] = []
                var announced: [UnitKey: (UnitID, UnitState, RunEvent)] = [:]
                for action in actions {
                    switch action {
                    case .settle(let id):
                        count(id, .succeeded)
                        observer.event(.settled(id))
                    case .keepStale(let id):
                        count(id, .pending)
                        observer.event(.settled(id))
                    case .reuse(let id, let fingerprint, let hash, let fromRun):
                        finals.append(
                            (
                                entry(id, fingerprint, reason: "up to date"),
                                NewAttempt(
                                    runID: run.id, unit: id.ledgerKey, state: .succeeded, reason: "up to date",
                                    fingerprint: fingerprint.value, fingerprintParts: fingerprint.parts,
                                    reusedFromRun: fromRun, outputHash: hash)
                            ))
                        announced[id.ledgerKey] = (id, .succeeded, .reused(id, fromRun: fromRun))
                    case .skip(let id, let fingerprint, let upstream, let reason):
                        let why =
                            reason == .upstreamFailed
                            ? "upstream \(upstream) failed"
                            : "upstream \(upstream) has no output (not selected by --only)"
                        finals.append(
                            (
                                entry(id, fingerprint, reason: why),
                                NewAttempt(
                                    runID: run.id, unit: id.ledgerKey, state: .skipped, reason: why,
                                    fingerprint: fingerprint?.value ?? "", fingerprintParts: fingerprint?.parts ?? [:],
                                    errorCode: "upstream_failed", errorMessage: why)
                            ))
                        announced[id.ledgerKey] = (id, .skipped, .skipped(id, upstream: upstream))
                    case .run(let id, let fingerprint, let reason):
                        ready.append(entry(id, fingerprint, reason: reason.description))
                    }
                }
                // Recorded once across workers: another worker may have recorded some already.
                for key in try queue.recordFinal(finals) {
                    guard let (id, state, event) = announced[key] else { continue }
                    count(id, state)
                    observer.event(event)
                }
            }

            /// Feeds the scheduler what other workers ended, until nothing new follows.
            func sync() throws {
                while true {
                    var fed = false
                    let outcomes = try queue.outcomes()
                    let ended = outcomes.keys.compactMap { UnitID(ledgerKey: $0) }
                        .filter { local[$0] == nil && scheduler.isAwaiting($0) }
                        .sorted { (graph.index[$0] ?? 0) < (graph.index[$1] ?? 0) }
                    for id in ended where scheduler.isAwaiting(id) {
                        let outcome: Scheduler.Outcome
                        switch outcomes[id.ledgerKey] {
                        case .succeeded(let hash): outcome = .succeeded(outputHash: hash)
                        case .interrupted: outcome = .interrupted
                        case .failed, .skipped, .none: outcome = .failed
                        }
                        try apply(scheduler.finished(id, outcome))
                        fed = true
                    }
                    if !fed { return }
                }
            }

            /// Queues what was made ready and claims what this worker has room for.
            func fill() throws {
                // Until nothing made ready is left unqueued: starting a unit may sync, and so
                // make more ready, which other workers must be able to claim now.
                repeat {
                    let free = stopRequested ? 0 : max(0, jobs - local.count)
                    var claims = try queue.claim(limit: free, enqueueing: ready)
                    ready.removeAll()
                    if claims.isEmpty && free > 0 && scheduler.running > local.count {
                        // Others may have ended units this worker's scheduler waits on.
                        try sync()
                        claims = try queue.claim(limit: free, enqueueing: ready)
                        ready.removeAll()
                    }
                    for claim in claims { try start(claim) }
                } while !ready.isEmpty
            }

            func start(_ claim: Claim) throws {
                guard let id = UnitID(ledgerKey: claim.fence.unit), let unit = graph.unit(id),
                    let runner = stages.runners[id.stage]
                else {
                    // Queued by a worker whose graph differs (another version of the manifest).
                    try ledger.end(
                        attemptID: claim.attempt.id, state: .failed, errorCode: "unknown_unit",
                        errorMessage:
                            "`\(claim.fence.unit)` is not a unit of this worker's graph; are all workers on the same manifest and version?",
                        counters: [:], fence: claim.fence)
                    return
                }
                if !scheduler.isAwaiting(id) || !scheduler.knowsUpstream(of: id) { try sync() }
                if let from = claim.takenFrom {
                    observer.event(.tookOver(id, from: from, attempt: claim.attempt.attempt))
                }
                let reason = scheduler.reason(of: id) ?? (claim.takenFrom == nil ? .neverRan : .interrupted)
                observer.event(.started(id, reason, attempt: claim.attempt.attempt))
                let upstream = Dictionary(scheduler.upstreamOutputs(of: id), uniquingKeysWith: { first, _ in first })
                let context = UnitContext(
                    unit: unit, runID: run.id, attempt: claim.attempt.attempt, window: window, manifest: manifest,
                    database: ledger.database, upstream: upstream,
                    progress: { [observer] message in observer.event(.progress(id, message)) },
                    budget: { [observer] remaining, reset in observer.event(.budget(remaining: remaining, resetAt: reset)) })
                let started = Date()
                local[id] = claim
                group.addTask {
                    do {
                        try Task.checkCancellation()
                        let result = try await runner.run(context)
                        return .finished(id, claim, started: started, .success(result))
                    } catch {
                        return .finished(id, claim, started: started, .failure(error))
                    }
                }
            }

            try apply(scheduler.start())
            try sync()
            try fill()
            while !local.isEmpty || (!stopRequested && !scheduler.isIdle) {
                if local.isEmpty && !waking {
                    // Nothing to do here: wait for another worker to change the queue.
                    waking = true
                    group.addTask { [listener, pollInterval] in
                        if let listener {
                            await listener.wait(timeout: pollInterval)
                        } else {
                            do { try await Task.sleep(for: pollInterval) } catch { return .done }
                        }
                        return .wake
                    }
                }
                guard let event = try await group.next() else { break }
                switch event {
                case .stop:
                    guard !stopRequested else { continue }
                    stopRequested = true
                    scheduler.stop()
                    observer.event(.stopping)
                    group.cancelAll()
                case .finished(let id, let claim, let started, let result):
                    local[id] = nil
                    let span = spans[id.stage] ?? (started, Date())
                    spans[id.stage] = (min(span.0, started), max(span.1, Date()))
                    guard
                        let outcome = try record(
                            id, claim: claim, started: started, result: result, stopping: stopRequested,
                            totals: &totals)
                    else { continue }
                    switch outcome {
                    case .succeeded: count(id, .succeeded)
                    case .failed: count(id, .failed)
                    case .interrupted: count(id, .interrupted)
                    }
                    // Given back to the queue on a stop: another worker ends it, not this one.
                    if !stopRequested && scheduler.isAwaiting(id) { try apply(scheduler.finished(id, outcome)) }
                case .wake:
                    waking = false
                    if !stopRequested { try sync() }
                case .heartbeatFailed(let error):
                    throw error
                case .done:
                    break
                }
                try fill()
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
            stageDurations: spans.mapValues { $0.1.timeIntervalSince($0.0) }, stopped: stopRequested)
    }

    /// A unit's place in the queue: later stages first, then graph order (as the scheduler
    /// prefers), so work started on a repository finishes before new work begins.
    func priority(_ id: UnitID) -> Int {
        id.stage.rank * 1_000_000 - (graph.index[id] ?? 0)
    }

    /// Writes a finished unit's outcome to the ledger and tells the observer; nil when this
    /// worker had lost the unit (its late end is recorded, not written).
    private func record(
        _ id: UnitID, claim: Claim, started: Date, result: Result<UnitResult, any Error>, stopping: Bool,
        totals: inout [Stage: [String: Int64]]
    ) throws -> Scheduler.Outcome? {
        let attemptID = claim.attempt.id
        func late(_ outcome: String) throws -> Scheduler.Outcome? {
            try queue.recordLateCompletion(attemptID: attemptID, outcome: outcome)
            observer.event(.leaseLost(id, attempt: claim.attempt.attempt))
            return nil
        }
        switch result {
        case .success(let output):
            do {
                try ledger.succeed(
                    attemptID: attemptID, name: manifest.name, outputHash: output.outputHash,
                    counters: output.counters, warnings: output.warnings.map { redact($0) }, fence: claim.fence,
                    persist: output.persist)
            } catch let error as StoreError where error.code == .unavailable {
                throw error
            } catch let error as StoreError where error.code == .fenced {
                return try late("succeeded")
            } catch {
                let message = redact("could not save the unit's output: \(error)")
                do {
                    try ledger.end(
                        attemptID: attemptID, state: .failed, errorCode: "persist_failed",
                        errorMessage: message, counters: output.counters, fence: claim.fence)
                } catch let error as StoreError where error.code == .fenced {
                    return try late("failed")
                }
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
            do {
                if stopping && (error is CancellationError || Task.isCancelled || unitError?.code == "interrupted") {
                    // Stopped by a signal: the unit goes back to the queue for any worker.
                    try ledger.end(
                        attemptID: attemptID, state: .interrupted, errorCode: "interrupted",
                        errorMessage: "stopped by a signal before the unit finished", counters: counters,
                        fence: claim.fence, requeue: true)
                    for (key, value) in counters { totals[id.stage, default: [:]][key, default: 0] += value }
                    observer.event(.interrupted(id, reason: nil))
                    return .interrupted
                }
                if let unitError, unitError.interrupted {
                    let message = redact(unitError.message)
                    try ledger.end(
                        attemptID: attemptID, state: .interrupted, errorCode: unitError.code, errorMessage: message,
                        counters: counters, fence: claim.fence)
                    for (key, value) in counters { totals[id.stage, default: [:]][key, default: 0] += value }
                    observer.event(.interrupted(id, reason: "\(message) [\(unitError.code)]"))
                    return .interrupted
                }
                let code = unitError?.code ?? "internal"
                let message = redact(unitError?.message ?? String(describing: error))
                try ledger.end(
                    attemptID: attemptID, state: .failed, errorCode: code, errorMessage: message,
                    counters: counters, fence: claim.fence)
                for (key, value) in counters { totals[id.stage, default: [:]][key, default: 0] += value }
                observer.event(.failed(id, code: code, message: message))
                return .failed
            } catch let error as StoreError where error.code == .fenced {
                return try late(unitError?.interrupted == true ? "interrupted" : "failed")
            }
        }
    }
}
