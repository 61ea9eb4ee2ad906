import ArgumentParser
import Foundation
import Manifest
import Pipeline

/// `ghillie-run validate MANIFEST...`: every error of every manifest, at once.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check manifests (schema and semantics) and report every problem with file:line:col.")

    @Argument(help: "Run manifests to check.")
    var manifests: [String]

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        let path: String
        let valid: Bool
        let name: String?
        let repositories: Int?
        let units: Int?
        let diagnostics: [Documents.DiagnosticDoc]
    }

    struct Output: Encodable {
        let schemaVersion: Int
        let manifests: [Report]

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case manifests
        }
    }

    func validate() throws {
        guard !manifests.isEmpty else { throw ValidationError("give at least one manifest to validate") }
    }

    func run() async throws {
        let terminal = global.terminal
        var reports: [Report] = []
        for path in manifests {
            do {
                let loaded = try ManifestLoader().load(path: path)
                let manifest = loaded.manifest
                let window = manifest.window.resolve(now: Date())
                let graph = GraphBuilder.build(manifest, window: Window(start: window.start, end: window.end))
                reports.append(
                    Report(
                        path: path, valid: true, name: manifest.name, repositories: manifest.estate.repositories.count,
                        units: graph.units.count, diagnostics: loaded.warnings.map(Documents.DiagnosticDoc.init)))
                if global.output == .text {
                    for warning in loaded.warnings where global.verbosity >= 0 {
                        terminal.err(render(warning, terminal: terminal))
                    }
                    let stages = graph.stages.map(\.rawValue).joined(separator: ", ")
                    terminal.out(
                        "\(path): " + terminal.paint("ok", .success, stderr: false)
                            + " (`\(manifest.name)`: \(plural(manifest.estate.repositories.count, "repository", "repositories")), "
                            + "\(graph.units.count) units in \(stages))")
                }
            } catch {
                reports.append(
                    Report(
                        path: path, valid: false, name: nil, repositories: nil, units: nil,
                        diagnostics: error.diagnostics.map(Documents.DiagnosticDoc.init)))
                if global.output == .text {
                    for diagnostic in error.diagnostics { terminal.err(render(diagnostic, terminal: terminal)) }
                    let count = error.errors.count
                    terminal.out(
                        "\(path): " + terminal.paint("invalid", .error, stderr: false)
                            + " (\(count) error\(count == 1 ? "" : "s"))")
                }
            }
        }
        if global.output == .json {
            terminal.out(Documents.encode(Output(schemaVersion: Documents.schemaVersion, manifests: reports)))
        }
        if reports.contains(where: { !$0.valid }) { throw Exit(status: .invalid) }
    }
}

/// `1 repository`, `3 repositories`.
func plural(_ count: Int, _ one: String, _ many: String) -> String {
    "\(count) \(count == 1 ? one : many)"
}
