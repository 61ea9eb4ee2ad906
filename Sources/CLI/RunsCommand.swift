import ArgumentParser
import Foundation
import JSON
import Manifest
import Pipeline
import Store

/// `ghillie-run runs [MANIFEST]`: past runs, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List past runs, newest first.")

    @Argument(help: "The run manifest (optional: without it, runs of every manifest in the store).")
    var manifest: String?

    @Option(help: "How many runs to list.")
    var limit = 20

    @OptionGroup var global: GlobalOptions

    struct Output: Encodable {
        let schemaVersion: Int
        let runs: [Documents.RunDoc]

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case runs
        }
    }

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let terminal = global.terminal
        let loaded = try manifest.map { try loadManifest($0, terminal: terminal, verbosity: global.verbosity) }
        let spec = try StoreOpener.spec(manifest: loaded, environment: ProcessInfo.processInfo.environment)
        var runs: [RunRecord] = []
        if StoreOpener.exists(spec) {
            let ledger = Ledger(database: try StoreOpener.open(spec))
            runs = try storeCall { try ledger.runs(name: loaded?.name, limit: limit) }
        }
        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion,
                        runs: runs.map(Documents.RunDoc.init))))
            return
        }
        guard !runs.isEmpty else {
            terminal.out("no runs yet")
            return
        }
        terminal.out(
            TextTable.render(
                ["RUN", "NAME", "STATE", "WINDOW END", "STARTED", "DURATION"],
                runs.map { run in
                    [
                        String(run.id), run.name, run.state.rawValue,
                        Timestamp.string(run.windowEnd)
                            + (RunChoice.override(inWindowSpec: run.windowSpec) == nil ? "" : " (--window-end)"),
                        Timestamp.string(run.startedAt),
                        run.finishedAt.map { formatDuration($0.timeIntervalSince(run.startedAt)) } ?? "-",
                    ]
                }))
    }
}
