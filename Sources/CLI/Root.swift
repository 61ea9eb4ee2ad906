import ArgumentParser
import Foundation
import Manifest
import Pipeline

/// `ghillie-run`: the command tree. `run` is the default, so `ghillie-run MANIFEST` runs it.
struct Root: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ghillie-run",
        abstract: "Run a declarative GitHub-estate pipeline from a YAML run manifest.",
        discussion: """
            Exit codes: 0 success; 2 invalid command line or manifest; 3 some units failed (rerun resumes); \
            4 another run holds this manifest's lock; 5 configuration or store unavailable; 130 interrupted \
            (rerun resumes).
            Environment: GHILLIE_STORE overrides the manifest's `store:`; NO_COLOR turns colour off.
            """,
        version: Version.current,
        subcommands: [
            RunCommand.self, BackfillCommand.self, ValidateCommand.self, PlanCommand.self, StatusCommand.self, CheckCommand.self,
            RunsCommand.self, SubmitCommand.self, WorkerCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}

/// The version printed by `--version` and recorded with runs.
public enum Version {
    public static let current = "0.1.0"
}

/// Loads a manifest or fails with exit code 2 and every diagnostic.
func loadManifest(_ path: String, terminal: Terminal, verbosity: Int) throws -> Manifest {
    do {
        let loaded = try ManifestLoader().load(path: path)
        if verbosity >= 0 {
            for warning in loaded.warnings { terminal.err(render(warning, terminal: terminal)) }
        }
        return loaded.manifest
    } catch {
        let count = error.errors.count
        throw Failure(.invalid, "\(path) has \(count) error\(count == 1 ? "" : "s")", diagnostics: error.diagnostics)
    }
}

/// One diagnostic as `file:line:col: error: message` plus an indented hint.
func render(_ diagnostic: Diagnostic, terminal: Terminal) -> String {
    let role: Role = diagnostic.severity == .error ? .error : .warning
    var text =
        "\(diagnostic.location): " + terminal.paint("\(diagnostic.severity.rawValue):", role)
        + " \(diagnostic.message)"
    if let hint = diagnostic.hint { text += "\n  " + terminal.paint("hint:", .dim) + " \(hint)" }
    return text
}

/// The stages this binary can run, set once by ``Entry``.
enum Injected {
    @TaskLocal static var stages = StageSet([])
}
