import ArgumentParser
import Foundation
public import Pipeline

#if canImport(Glibc)
    import Glibc
#endif

/// The one place that parses the command line, runs the command and renders errors.
public enum Entry {
    /// Runs `ghillie-run` with the stage runners this binary ships; returns the exit status.
    public static func main(stages: StageSet, arguments: [String] = Array(CommandLine.arguments.dropFirst())) async
        -> Int32
    {
        signal(SIGPIPE, SIG_IGN)
        let terminal = Terminal(color: colorChoice(arguments))
        let command: any ParsableCommand
        do {
            command = try Root.parseAsRoot(arguments)
        } catch {
            let code = Root.exitCode(for: error)
            let message = Root.fullMessage(for: error)
            if code == .success {
                terminal.out(message)
                return 0
            }
            terminal.err(terminal.paint("error:", .error) + " " + message)
            return ExitStatus.invalid.rawValue
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
        } catch let exit as Exit {
            return exit.status.rawValue
        } catch let failure as Failure {
            for diagnostic in failure.diagnostics { terminal.err(render(diagnostic, terminal: terminal)) }
            terminal.err(terminal.paint("error:", .error) + " " + failure.message)
            if let hint = failure.hint { terminal.err("  " + terminal.paint("hint:", .dim) + " " + hint) }
            return failure.status.rawValue
        } catch {
            if Root.exitCode(for: error) == .success {
                terminal.out(Root.fullMessage(for: error))
                return 0
            }
            terminal.err(terminal.paint("error:", .error) + " " + Root.fullMessage(for: error))
            return ExitStatus.invalid.rawValue
        }
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
