import ArgumentParser
import Foundation

extension ColorChoice: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}

/// Options every command takes.
/// How progress and diagnostics of a run are written to stderr.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Result format on stdout: text or json (json has a schema_version).")
    var output: OutputFormat = .text

    @Option(name: .long, help: "Colour: auto (TTY without NO_COLOR), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Show only errors on stderr.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Show every unit as it starts, is reused or is skipped.")
    var verbose = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Progress on stderr: text, or json (one object per event, for log collectors; default from GHILLIE_LOG_FORMAT).",
            valueName: "text|json"))
    var logFormat: LogFormat?

    /// `--log-format`, else `GHILLIE_LOG_FORMAT`, else text.
    var progressFormat: LogFormat {
        logFormat ?? ProcessInfo.processInfo.environment["GHILLIE_LOG_FORMAT"].flatMap(LogFormat.init(rawValue:)) ?? .text
    }

    var terminal: Terminal { Terminal(color: color) }

    /// -1 quiet, 0 normal, 1 verbose.
    var verbosity: Int { quiet ? -1 : (verbose ? 1 : 0) }
}
