import ArgumentParser
import Foundation
import JSON
import Manifest
import Pipeline

/// `--new`, `--from`, `--only`, `--rerun`: shared by `run` and `plan`.
struct SelectionOptions: ParsableArguments {
    @Flag(help: "Start a new run even if the latest one can be continued.")
    var new = false

    @Option(name: .customLong("from"), help: "Rerun STAGE and everything downstream of it.")
    var from: String?

    @Option(name: .customLong("only"), help: "Run only STAGE or STAGE:UNIT (repeatable); others keep their last output.")
    var only: [String] = []

    @Option(name: .customLong("rerun"), help: "Force STAGE or STAGE:UNIT to run again (repeatable).")
    var rerun: [String] = []

    @OptionGroup var windowEndOption: WindowEndOption

    var windowEnd: String? { windowEndOption.windowEnd }

    /// The manifest, moved to `--window-end` when given.
    func window(_ manifest: Manifest, now: Date = Date()) throws -> Manifest {
        try windowEndOption.window(manifest, now: now)
    }

    func resolve(in graph: UnitGraph) throws -> Selection {
        do {
            var selection = Selection()
            if let from {
                guard !from.contains(":") else {
                    throw Failure(
                        .invalid, "--from takes a stage, not a unit: `\(from)`",
                        hint: "use `--rerun \(from)` to rerun one unit")
                }
                selection.forced.formUnion(graph.downstream(of: try SelectionParser.units(from, in: graph)))
            }
            for text in rerun { selection.forced.formUnion(try SelectionParser.units(text, in: graph)) }
            if !only.isEmpty {
                var chosen: Set<UnitID> = []
                for text in only { chosen.formUnion(try SelectionParser.units(text, in: graph)) }
                selection.only = chosen
            }
            return selection
        } catch let problem as SelectionParser.Problem {
            throw Failure(.invalid, problem.message, hint: problem.hint)
        }
    }
}

/// `--window-end DATE`: a past window of the manifest's length (run, plan, submit, worker).
struct WindowEndOption: ParsableArguments {
    @Option(
        name: .customLong("window-end"),
        help: ArgumentHelp(
            "Run the window of the manifest's length that ends at DATE (RFC 3339, or YYYY-MM-DD for UTC midnight).",
            valueName: "DATE"))
    var windowEnd: String?

    /// The manifest, moved to `--window-end` when given.
    func window(_ manifest: Manifest, now: Date = Date()) throws -> Manifest {
        guard let windowEnd else { return manifest }
        guard let end = Self.date(windowEnd) else {
            throw Failure(
                .invalid, "--window-end `\(windowEnd)` is not a date",
                hint: "give an RFC 3339 time (2026-11-13T00:00:00Z) or a day (2026-11-13, UTC midnight)")
        }
        guard end <= now else {
            throw Failure(.invalid, "--window-end \(windowEnd) is in the future", hint: "a window can end now at the latest")
        }
        if case .days(let days, _, let anchor?) = manifest.window, !WindowSpec.isBoundary(end, anchor: anchor, days: days) {
            let before = WindowSpec.boundary(atOrBefore: end, anchor: anchor, days: days)
            throw Failure(
                .invalid,
                "--window-end \(windowEnd) is not a boundary of the manifest's windows (\(days) days from \(Timestamp.seconds(anchor)))",
                hint:
                    "give \(Timestamp.seconds(before)) or \(Timestamp.seconds(before.addingTimeInterval(Double(days) * 86_400)))")
        }
        return manifest.ending(at: end, now: now)
    }

    /// An RFC 3339 time, or a day as its UTC midnight.
    static func date(_ text: String) -> Date? {
        Timestamp.date(text) ?? (text.count == 10 ? Timestamp.date(text + "T00:00:00Z") : nil)
    }
}
