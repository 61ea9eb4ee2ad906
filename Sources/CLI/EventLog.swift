import Foundation
import JSON
import Pipeline
import Store
import Synchronization

/// Run events as JSON lines on stderr (`--log-format json`), one object per event, so a log
/// collector (Loki, ELK) can follow a run across processes and pods.
///
/// Every line carries the time, the run, the worker (`host:pid`) and the event; unit events add
/// the unit, its stage and what the event says (attempt, reason, duration, counters, error).
/// Messages pass through the run's redaction filter like every other output. Progress within
/// a unit and the API budget after each request are logged with `-v`; `-q` keeps failures,
/// warnings, interruptions and the run's start and end.
final class EventLog: RunObserver {
    let terminal: Terminal
    let run: RunRecord
    let worker: String
    let redact: Redaction
    let verbosity: Int

    init(terminal: Terminal, run: RunRecord, redact: Redaction, verbosity: Int) {
        self.terminal = terminal
        self.run = run
        self.redact = redact
        self.verbosity = verbosity
        worker = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    func event(_ event: RunEvent) {
        switch event {
        case .progress, .budget: guard verbosity > 0 else { return }
        case .started, .succeeded, .reused, .settled, .skipped: guard verbosity >= 0 else { return }
        case .failed, .warning, .interrupted, .stopping, .tookOver, .leaseLost: break
        }
        var fields = base()
        func unit(_ id: UnitID, _ name: String) {
            fields["event"] = .string(name)
            fields["unit"] = .string(id.description)
            fields["stage"] = .string(id.stage.rawValue)
        }
        switch event {
        case .started(let id, let reason, let attempt):
            unit(id, "unit_started")
            fields["attempt"] = .int(Int64(attempt))
            fields["reason"] = .string(redact(reason.description))
        case .progress(let id, let message):
            unit(id, "unit_progress")
            fields["message"] = .string(redact(message))
        case .budget(let remaining, let resetAt):
            fields["event"] = "rate_limit"
            fields["remaining"] = .int(Int64(remaining))
            fields["reset_at"] = .string(Timestamp.string(resetAt))
        case .succeeded(let id, let duration, let counters):
            unit(id, "unit_succeeded")
            fields["duration_seconds"] = .double((duration * 1000).rounded() / 1000)
            fields["counters"] = .object(counters.mapValues { .int($0) })
        case .failed(let id, let code, let message):
            unit(id, "unit_failed")
            fields["code"] = .string(code)
            fields["message"] = .string(redact(message))
        case .warning(let id, let message):
            unit(id, "unit_warning")
            fields["message"] = .string(redact(message))
        case .interrupted(let id, let reason):
            unit(id, "unit_interrupted")
            if let reason { fields["message"] = .string(redact(reason)) }
        case .reused(let id, let fromRun):
            unit(id, "unit_reused")
            fields["from_run"] = .int(fromRun)
        case .settled(let id):
            unit(id, "unit_settled")
        case .skipped(let id, let upstream):
            unit(id, "unit_skipped")
            fields["upstream"] = .string(upstream.description)
        case .tookOver(let id, let worker, let attempt):
            unit(id, "unit_taken_over")
            fields["attempt"] = .int(Int64(attempt))
            fields["from_worker"] = .string(worker)
        case .leaseLost(let id, let attempt):
            unit(id, "unit_lease_lost")
            fields["attempt"] = .int(Int64(attempt))
        case .stopping:
            fields["event"] = "stopping"
        }
        terminal.err(JSONValue.object(fields).canonical)
    }

    /// What every line carries: when, which run, which worker.
    private func base(_ run: RunRecord? = nil) -> [String: JSONValue] {
        let run = run ?? self.run
        return [
            "time": .string(Timestamp.now()), "run_id": .int(run.id), "manifest": .string(run.name),
            "worker": .string(worker),
        ]
    }

    /// A line about the run itself (started, continued), with the text a person would read.
    func note(_ event: String, message: String) {
        var fields = base()
        fields["event"] = .string(event)
        fields["message"] = .string(redact(message))
        fields["window_start"] = .string(Timestamp.string(run.windowStart))
        fields["window_end"] = .string(Timestamp.string(run.windowEnd))
        terminal.err(JSONValue.object(fields).canonical)
    }

    /// The run's last line: how it ended.
    func finished(_ run: RunRecord, exitCode: Int32, duration: TimeInterval) {
        var fields = base(run)
        fields["event"] = "run_finished"
        fields["state"] = .string(run.state.rawValue)
        fields["exit_code"] = .int(Int64(exitCode))
        fields["duration_seconds"] = .double((duration * 1000).rounded() / 1000)
        terminal.err(JSONValue.object(fields).canonical)
    }
}
