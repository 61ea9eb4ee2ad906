import ArgumentParser
import Foundation
import JSON
import Manifest
import Pipeline
import Store

/// `ghillie-run backfill MANIFEST --windows N`: the last N windows of the manifest's length,
/// oldest first, each its own run in the ledger.
///
/// Each window is `ghillie-run MANIFEST --window-end END`, so it resumes, locks and reports like
/// any run. The oldest window's ingest reads the whole span up to now; the later windows find it
/// covered and read only what changed since, so N windows cost about one ingest of the span.
/// A window whose run already succeeded is not run again, so a rerun after a kill or a failure
/// resumes where the backfill stopped.
struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Run the last N windows of the manifest's length, oldest first, each its own run; a rerun resumes.",
        discussion: """
            The newest window ends where the manifest's window ends; for `end: now` that is the last UTC midnight, \
            so a rerun on the same day resumes the same windows.
            """)

    @Argument(help: "The run manifest.")
    var manifest: String

    @Option(help: "How many windows, the newest last (1 to 52).")
    var windows: Int

    @Option(name: .shortAndLong, help: "Units to run at once in each window's run.")
    var jobs: Int?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if !(1...52).contains(windows) { throw ValidationError("--windows must be between 1 and 52") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// One window of the backfill and what became of it.
    struct WindowDoc: Encodable {
        let windowStart: String
        let windowEnd: String
        let runId: Int64?
        let state: String
        /// `ran`, `done before` (an earlier run of this window succeeded) or `not reached`.
        let action: String

        enum CodingKeys: String, CodingKey {
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case runId = "run_id"
            case state, action
        }
    }

    struct Output: Encodable {
        let schemaVersion: Int
        let name: String
        let windows: [WindowDoc]
        let exitCode: Int32

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case name, windows
            case exitCode = "exit_code"
        }
    }

    /// The window ends, oldest first: the manifest's end (a `now` end at the last UTC midnight),
    /// then back by the window's length.
    static func ends(_ manifest: Manifest, windows: Int, now: Date) -> [Date] {
        var anchored = now
        if case .days(_, .now, _) = manifest.window {
            anchored = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        }
        let resolved = manifest.window.resolve(now: anchored)
        let length = resolved.end.timeIntervalSince(resolved.start)
        return (0..<windows).map { resolved.end.addingTimeInterval(-Double(windows - 1 - $0) * length) }
    }

    func run() async throws {
        let terminal = global.terminal
        let environment = ProcessInfo.processInfo.environment
        let manifest = try loadManifest(self.manifest, terminal: terminal, verbosity: global.verbosity)
        let now = Date()
        let ends = Self.ends(manifest, windows: windows, now: now)
        let spec = try StoreOpener.spec(manifest: manifest, environment: environment)

        /// The latest run of one window, read fresh before and after it runs.
        func latest(_ moved: Manifest) throws -> RunRecord? {
            guard StoreOpener.exists(spec) else { return nil }
            let ledger = Ledger(database: try StoreOpener.open(spec))
            return try storeCall { try ledger.latestRun(name: moved.name, windowSpec: RunChoice.windowSpec(of: moved)) }
        }

        var docs: [WindowDoc] = []
        var status = ExitStatus.success
        for (index, end) in ends.enumerated() {
            let moved = manifest.ending(at: end, now: now)
            let window = moved.window.resolve(now: now)
            func doc(_ run: RunRecord?, _ action: String) -> WindowDoc {
                WindowDoc(
                    windowStart: Timestamp.string(window.start), windowEnd: Timestamp.string(window.end), runId: run?.id,
                    state: run?.state.rawValue ?? "none", action: action)
            }
            if status != .success {
                docs.append(doc(nil, "not reached"))
                continue
            }
            if let done = try latest(moved), done.state == .succeeded {
                docs.append(doc(done, "done before"))
                continue
            }
            if global.verbosity >= 0 {
                terminal.err(
                    "backfill window \(index + 1) of \(ends.count): "
                        + "\(Timestamp.string(window.start)) → \(Timestamp.string(window.end))")
            }
            var arguments = [self.manifest, "--window-end", Timestamp.seconds(end), "--color", global.color.rawValue]
            if let jobs { arguments += ["--jobs", String(jobs)] }
            if global.quiet { arguments.append("-q") }
            if global.verbose { arguments.append("-v") }
            let command = try RunCommand.parse(arguments)
            do {
                try await command.run()
            } catch let exit as Exit {
                status = exit.status
            }
            docs.append(doc(try latest(moved), "ran"))
        }

        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion, name: manifest.name, windows: docs,
                        exitCode: status.rawValue)))
        } else {
            terminal.out(
                TextTable.render(
                    ["WINDOW START", "WINDOW END", "RUN", "STATE", "ACTION"],
                    docs.map { [$0.windowStart, $0.windowEnd, $0.runId.map(String.init) ?? "-", $0.state, $0.action] }))
        }
        if status != .success {
            if global.verbosity >= 0 {
                terminal.err("backfill stopped; rerun `ghillie-run backfill \(self.manifest) --windows \(windows)` to resume")
            }
            throw Exit(status: status)
        }
    }
}
