import ArgumentParser

extension ColorChoice: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Result format on stdout: text or json (json has a schema_version).")
    var output: OutputFormat = .text

    @Option(name: .long, help: "Colour: auto (TTY without NO_COLOR), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Show only errors on stderr.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Show every unit as it starts, is reused or is skipped.")
    var verbose = false

    var terminal: Terminal { Terminal(color: color) }

    /// -1 quiet, 0 normal, 1 verbose.
    var verbosity: Int { quiet ? -1 : (verbose ? 1 : 0) }
}
