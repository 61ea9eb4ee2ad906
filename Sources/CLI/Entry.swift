import ArgumentParser
import Foundation
import HTTP
import Manifest
public import Pipeline

#if canImport(Glibc)
    import Glibc
#endif

/// The one place that parses the command line, runs the command and hands any error to the
/// ``ErrorPresenter``.
public enum Entry {
    /// Runs `ghillie-run` with the stage runners this binary ships; returns the exit status.
    public static func main(stages: StageSet, arguments: [String] = Array(CommandLine.arguments.dropFirst())) async
        -> Int32
    {
        signal(SIGPIPE, SIG_IGN)
        let terminal = Terminal(color: colorChoice(arguments))
        let environment = ProcessInfo.processInfo.environment
        // Before a manifest is read, the secrets known are those in the default variables.
        let redaction = Redaction(
            secrets: ["GHILLIE_GITHUB_TOKEN", "GHILLIE_OPENAI_API_KEY"].compactMap { environment[$0] }
                + (environment["GHILLIE_STORE"].flatMap(StoreSpec.parse)?.password.map { [$0] } ?? []))
        let presenter = ErrorPresenter(terminal: terminal, json: outputsJSON(arguments), redact: redaction)
        let command: any ParsableCommand
        do {
            command = try Root.parseAsRoot(arguments)
        } catch {
            // A command line that does not parse is always the usage code (or a clean exit).
            if Root.exitCode(for: error) == .success { return presenter.present(error) }
            return presenter.present(ErrorPresenter.usage(error))
        }
        // A CA bundle that cannot be used stops a command that talks to GitHub or a model before
        // it starts, not at its first request.
        if command is RunCommand || command is WorkerCommand || command is BackfillCommand || command is CheckCommand {
            do {
                _ = try Trust.fromEnvironment(environment)
            } catch {
                return presenter.present(Failure(.unavailable, error.message, hint: error.hint))
            }
        }
        do {
            try await Injected.$stages.withValue(stages) {
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    var syncCommand = command
                    try syncCommand.run()
                }
            }
            return 0
        } catch {
            return presenter.present(error)
        }
    }

    /// `--output json` read before full parsing, so an error that stops parsing is a JSON
    /// document too.
    static func outputsJSON(_ arguments: [String]) -> Bool {
        for (index, argument) in arguments.enumerated() {
            if argument == "--output=json" { return true }
            if argument == "--output", index + 1 < arguments.count, arguments[index + 1] == "json" { return true }
        }
        return false
    }

    /// `--color` read before full parsing, so parse errors are coloured as asked.
    static func colorChoice(_ arguments: [String]) -> ColorChoice {
        for (index, argument) in arguments.enumerated() {
            if argument.hasPrefix("--color=") { return ColorChoice(rawValue: String(argument.dropFirst(8))) ?? .auto }
            if argument == "--color", index + 1 < arguments.count {
                return ColorChoice(rawValue: arguments[index + 1]) ?? .auto
            }
        }
        return .auto
    }
}
