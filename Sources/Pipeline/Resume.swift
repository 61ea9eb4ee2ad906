public import Foundation
import JSON
public import Manifest
public import Store

/// Whether an invocation continues the latest run of a manifest or starts a new one.
public enum RunChoice: Sendable, Equatable {
    case continueRun(RunRecord)
    case newRun(reason: String)
    /// An anchored window (`window.anchor`) that a run of this very manifest already did:
    /// nothing to do until the next boundary.
    case windowDone(RunRecord)

    /// Continue the latest run when it did not succeed and its window spec is unchanged.
    ///
    /// Other manifest changes do not force a new run: each unit's fingerprint decides whether
    /// that unit reruns, and `plan` names the input that changed. An anchored window whose run
    /// succeeded with the same manifest is done: a schedule that runs daily does nothing until
    /// the window's next boundary.
    public static func choose(latest: RunRecord?, manifest: Manifest, forceNew: Bool, now: Date = Date()) -> RunChoice {
        if forceNew { return .newRun(reason: "--new") }
        guard let latest else { return .newRun(reason: "first run of `\(manifest.name)`") }
        if latest.state == .succeeded, manifest.window.anchor != nil, latest.manifestSHA256 == manifest.sha256,
            latest.windowSpec == windowSpec(of: manifest)
        {
            let window = manifest.window.resolve(now: now)
            if window.start == latest.windowStart && window.end == latest.windowEnd { return .windowDone(latest) }
        }
        if latest.state == .succeeded { return .newRun(reason: "run \(latest.id) succeeded") }
        if latest.windowSpec != windowSpec(of: manifest) {
            return .newRun(reason: "the window changed since run \(latest.id)")
        }
        return .continueRun(latest)
    }

    /// The canonical text of a manifest's window spec, stored with each run. A `--window-end`
    /// override is recorded as one (`{"override": …, "spec": …}`), so the ledger says which
    /// runs were of a moved window, and only a run with the same override is continued.
    public static func windowSpec(of manifest: Manifest) -> String {
        let spec = Slice.encode(manifest.window)
        guard let end = manifest.windowOverride else { return spec }
        return "{\"override\":\"--window-end \(Timestamp.seconds(end))\",\"spec\":\(spec)}"
    }

    /// The `--window-end` override a stored window spec records, if any.
    public static func override(inWindowSpec spec: String) -> String? {
        guard spec.hasPrefix("{\"override\":\""), let end = spec.dropFirst(13).firstIndex(of: "\"") else { return nil }
        return String(spec[spec.index(spec.startIndex, offsetBy: 13)..<end])
    }
}

/// Loads what the ledger knows about each unit of a manifest.
public enum HistoryLoader {
    public static func load(
        ledger: Ledger, name: String, continuing run: RunRecord?, window: Window? = nil
    ) throws -> [UnitID: UnitHistory] {
        var history: [UnitID: UnitHistory] = [:]
        for (key, output) in try ledger.unitOutputs(name: name) {
            guard let id = UnitID(ledgerKey: key) else { continue }
            history[id, default: UnitHistory()].output = output
        }
        if let window {
            for (key, output) in try ledger.unitOutputs(name: name, windowStart: window.start, windowEnd: window.end) {
                guard let id = UnitID(ledgerKey: key) else { continue }
                history[id, default: UnitHistory()].windowOutput = output
            }
        }
        if let run {
            for (key, attempt) in try ledger.latestAttempts(runID: run.id) {
                guard let id = UnitID(ledgerKey: key) else { continue }
                history[id, default: UnitHistory()].current = attempt
            }
        }
        return history
    }
}

/// Parses `--only`/`--rerun`/`--from` values against a unit graph.
public enum SelectionParser {
    public struct Problem: Error, Sendable, Equatable {
        public let message: String
        public let hint: String?
    }

    /// `STAGE` or `STAGE:UNIT` → the units it names.
    public static func units(_ text: String, in graph: UnitGraph) throws(Problem) -> Set<UnitID> {
        let stageName = text.split(separator: ":", maxSplits: 1).first.map(String.init) ?? text
        guard let stage = Stage(rawValue: stageName) else {
            let names = Stage.allCases.map(\.rawValue)
            throw Problem(
                message: "unknown stage `\(stageName)` in `\(text)`",
                hint: Suggestion.closest(to: stageName, in: names).map { "did you mean `\($0)`?" }
                    ?? "stages: " + names.joined(separator: ", "))
        }
        let ofStage = graph.units.filter { $0.id.stage == stage }.map(\.id)
        guard !ofStage.isEmpty else {
            throw Problem(
                message: "stage `\(stage.rawValue)` has no units in this manifest",
                hint: "stages here: " + graph.stages.map(\.rawValue).joined(separator: ", "))
        }
        guard text.contains(":") else { return Set(ofStage) }
        let key = String(text.dropFirst(stageName.count + 1))
        let id = UnitID(stage, key)
        if graph.unit(id) != nil { return [id] }
        if let match = ofStage.first(where: { $0.key.lowercased() == key.lowercased() }) { return [match] }
        let keys = ofStage.map(\.key)
        throw Problem(
            message: "unknown unit `\(text)`",
            hint: Suggestion.closest(to: key, in: keys).map { "did you mean `\(stage.rawValue):\($0)`?" }
                ?? "run `ghillie-run plan MANIFEST` to list the units")
    }
}
