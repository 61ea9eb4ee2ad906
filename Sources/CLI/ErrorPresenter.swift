import ArgumentParser
import Foundation
import Manifest
import Pipeline
import Store

/// The one place an error becomes what the user sees and the exit code (design §2): text on
/// stderr, or with `--output json` also one JSON document on stdout; every message through the
/// one ``Redaction`` filter.
struct ErrorPresenter {
    let terminal: Terminal
    let json: Bool
    let redact: Redaction

    /// What an error says, and the exit status it ends the command with.
    struct Presentation {
        var status: ExitStatus
        var message: String
        var hint: String?
        var diagnostics: [Diagnostic] = []
    }

    /// Shows `error` and returns the process's exit status.
    func present(_ error: any Error) -> Int32 {
        if let exit = error as? Exit { return exit.status.rawValue }
        // `--help`, `--version`: ArgumentParser's clean exits print to stdout and succeed.
        if Root.exitCode(for: error) == .success {
            terminal.out(Root.fullMessage(for: error))
            return ExitStatus.success.rawValue
        }
        let shown = Self.presentation(of: error)
        let message = redact(shown.message)
        let hint = shown.hint.map { redact($0) }
        for diagnostic in shown.diagnostics { terminal.err(redact(render(diagnostic, terminal: terminal))) }
        terminal.err(terminal.paint("error:", .error) + " " + message)
        if let hint { terminal.err("  " + terminal.paint("hint:", .dim) + " " + hint) }
        if json {
            terminal.out(
                Documents.encode(
                    Document(
                        schemaVersion: Documents.schemaVersion,
                        error: .init(
                            message: message, hint: hint, exitCode: shown.status.rawValue,
                            diagnostics: shown.diagnostics.map(Documents.DiagnosticDoc.init)))))
        }
        return shown.status.rawValue
    }

    /// Every error the commands can end with, mapped once.
    static func presentation(of error: any Error) -> Presentation {
        switch error {
        case let failure as Failure:
            return Presentation(
                status: failure.status, message: failure.message, hint: failure.hint,
                diagnostics: failure.diagnostics)
        case let store as StoreError:
            return presentation(of: Failure.store(store))
        case is CancellationError:
            return Presentation(status: .interrupted, message: "interrupted", hint: "rerun the same command to resume")
        default:
            // A command line ArgumentParser refused (a bad option or value): the usage code.
            if Root.exitCode(for: error) != .failure || error is ValidationError {
                return presentation(of: usage(error))
            }
            return Presentation(
                status: .unavailable, message: "unexpected error: \(error)",
                hint: "this is a bug or an environment problem ghillie-run does not know; rerunning resumes where it stopped")
        }
    }

    /// A command line ArgumentParser refused: its message, with the usage line as the hint.
    static func usage(_ error: any Error) -> Failure {
        let usage = Root.fullMessage(for: error).split(separator: "\n").dropFirst()
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return Failure(.invalid, Root.message(for: error), hint: usage.isEmpty ? nil : usage)
    }

    struct Document: Encodable {
        let schemaVersion: Int
        let error: ErrorDoc

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case error
        }
    }

    struct ErrorDoc: Encodable {
        let message: String
        let hint: String?
        let exitCode: Int32
        let diagnostics: [Documents.DiagnosticDoc]

        enum CodingKeys: String, CodingKey {
            case message, hint, diagnostics
            case exitCode = "exit_code"
        }
    }
}
