import ArgumentParser
import Foundation
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
