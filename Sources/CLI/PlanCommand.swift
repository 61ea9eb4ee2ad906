import ArgumentParser
import Foundation
import JSON
import Manifest
import Pipeline
import Store

/// `ghillie-run plan MANIFEST`: the unit graph and, per unit, run or skip and why.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the units a run would execute or skip, and why. Changes nothing.")

    @Argument(help: "The run manifest.")
    var manifest: String

    @OptionGroup var selection: SelectionOptions
    @OptionGroup var global: GlobalOptions

    struct UnitDoc: Encodable {
        let unit: String
        let stage: String
        let key: String
        let action: String
        let reason: String
        let dependsOn: [String]

        enum CodingKeys: String, CodingKey {
            case unit
            case stage
            case key
            case action
            case reason
            case dependsOn = "depends_on"
        }
    }

    struct Output: Encodable {
        let schemaVersion: Int
        let manifest: String
        let name: String
        let run: RunChoiceDoc
        let windowStart: String
        let windowEnd: String
        let totals: [String: Int]
        let units: [UnitDoc]

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case manifest
            case name
            case run
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case totals
            case units
        }
    }

    struct RunChoiceDoc: Encodable {
        let action: String
        let runId: Int64?
        let reason: String

        enum CodingKeys: String, CodingKey {
            case action
            case runId = "run_id"
            case reason
        }
    }

    func run() async throws {
        let terminal = global.terminal
        let manifest = try selection.window(try loadManifest(self.manifest, terminal: terminal, verbosity: global.verbosity))
        let spec = try StoreOpener.spec(manifest: manifest, environment: ProcessInfo.processInfo.environment)
        var ledger: Ledger?
        if StoreOpener.exists(spec) { ledger = Ledger(database: try StoreOpener.open(spec)) }

        let latest = try storeCall { try ledger?.latestRun(name: manifest.name) }
        let choice = RunChoice.choose(latest: latest, manifest: manifest, forceNew: selection.new)
        let window: Window
        let choiceDoc: RunChoiceDoc
        switch choice {
        case .continueRun(let run):
            window = Window(start: run.windowStart, end: run.windowEnd)
            choiceDoc = RunChoiceDoc(
                action: "continue", runId: run.id,
                reason: "run \(run.id) is \(run.state.rawValue) and its window is unchanged")
        case .newRun(let reason):
            let resolved = manifest.window.resolve(now: Date())
            window = Window(start: resolved.start, end: resolved.end)
            choiceDoc = RunChoiceDoc(action: "new", runId: nil, reason: reason)
        case .windowDone(let run):
            window = Window(start: run.windowStart, end: run.windowEnd)
            choiceDoc = RunChoiceDoc(
                action: "done", runId: run.id, reason: WindowDone.reason(run, manifest: manifest))
        }
        let graph = GraphBuilder.build(manifest, window: window)
        var chosen = try selection.resolve(in: graph)
        chosen.outputsGone = Injected.stages.outputsGone(in: graph, manifest: manifest, window: window)
        if let ledger {
            chosen.rereads = try storeCall { try Injected.stages.rereads(in: graph, database: ledger.database) }
            chosen.contexts = try storeCall {
                try Injected.stages.contexts(in: graph, manifest: manifest, window: window, database: ledger.database)
            }
        }
        var continuing: RunRecord?
        if case .continueRun(let run) = choice { continuing = run }
        let history = try storeCall {
            try ledger.map {
                try HistoryLoader.load(ledger: $0, name: manifest.name, continuing: continuing, window: window)
            } ?? [:]
        }
        let stages = Injected.stages
        var versions = stages.versions
        for stage in Stage.allCases where versions[stage] == nil { versions[stage] = "unavailable" }
        let planned = Planner.plan(graph: graph, versions: versions, history: history, selection: chosen)

        let docs = planned.map { item -> UnitDoc in
            let (action, reason) = describe(item.verdict)
            return UnitDoc(
                unit: item.unit.id.description, stage: item.unit.id.stage.rawValue, key: item.unit.id.key,
                action: action, reason: reason, dependsOn: item.unit.dependencies.map(\.description))
        }
        var totals: [String: Int] = [:]
        for doc in docs { totals[doc.action, default: 0] += 1 }

        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion, manifest: self.manifest, name: manifest.name, run: choiceDoc,
                        windowStart: Timestamp.string(window.start), windowEnd: Timestamp.string(window.end),
                        totals: totals, units: docs)))
        } else {
            let header =
                choiceDoc.action == "continue"
                ? "would continue run \(choiceDoc.runId ?? 0) (\(choiceDoc.reason))"
                : choiceDoc.action == "done"
                    ? "nothing to do (\(choiceDoc.reason))" : "would start a new run (\(choiceDoc.reason))"
            terminal.out("plan for `\(manifest.name)`: \(header)")
            terminal.out(
                "window \(Timestamp.string(window.start)) → \(Timestamp.string(window.end))"
                    + (manifest.windowOverride == nil ? "" : " (moved by --window-end)"))
            terminal.out("")
            terminal.out(TextTable.render(["UNIT", "ACTION", "WHY"], docs.map { [$0.unit, $0.action, $0.reason] }))
            terminal.out("")
            let order = ["run", "run-if-changed", "up-to-date", "not-selected", "blocked"]
            terminal.out(order.compactMap { key in totals[key].map { "\($0) \(key)" } }.joined(separator: ", "))
            let missing = stages.missing(for: graph)
            if !missing.isEmpty {
                terminal.err(
                    terminal.paint("note:", .warning) + " this build cannot run stage"
                        + (missing.count == 1 ? " " : "s ") + missing.map { "`\($0.rawValue)`" }.joined(separator: ", "))
            }
        }
    }

    func describe(_ verdict: PlannedUnit.Verdict) -> (String, String) {
        switch verdict {
        case .run(let reason): return ("run", reason.description)
        case .runIfChanged(let upstream): return ("run-if-changed", "runs if \(upstream) produces a different output")
        case .upToDate(let run): return ("up-to-date", run.map { "reuses the output of run \($0)" } ?? "succeeded in this run")
        case .notSelected: return ("not-selected", "not named by --only")
        case .blocked(let upstream): return ("blocked", "\(upstream) has no output and is not selected")
        }
    }
}

/// Runs a store call, turning store errors into exit-5 failures.
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as StoreError {
        throw Failure.store(error)
    }
}
