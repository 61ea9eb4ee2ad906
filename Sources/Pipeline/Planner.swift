/// What `plan` says about one unit.
public struct PlannedUnit: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        /// Will run, for this reason.
        case run(RunReason)
        /// Depends on a unit that will run; runs only if that unit's output changes.
        case runIfChanged(upstream: UnitID)
        /// Up to date: succeeded in this run, or reused from an earlier one.
        case upToDate(fromRun: Int64?)
        /// Not selected by `--only`; keeps its last output.
        case notSelected
        /// Cannot run: an upstream unit has no output and is not selected.
        case blocked(upstream: UnitID)
    }

    public let unit: Unit
    public let verdict: Verdict
}

/// The static counterpart of ``Scheduler``: what a run would do, without running anything.
///
/// It applies the same ``Decision`` rule. Where an upstream unit will run, its new output is
/// unknown, so its dependents are reported as `runIfChanged` rather than guessed.
public enum Planner {
    public static func plan(
        graph: UnitGraph, versions: [Stage: String], history: [UnitID: UnitHistory], selection: Selection
    ) -> [PlannedUnit] {
        var outputs = [String?](repeating: nil, count: graph.units.count)
        var pendingCause = [UnitID?](repeating: nil, count: graph.units.count)
        var blockedCause = [UnitID?](repeating: nil, count: graph.units.count)
        var planned: [PlannedUnit] = []
        planned.reserveCapacity(graph.units.count)
        for (position, unit) in graph.units.enumerated() {
            let dependencies = graph.dependencyIndices[position]
            if let blocked = dependencies.lazy.compactMap({ blockedCause[$0] }).first {
                blockedCause[position] = blocked
                let selected = selection.only?.contains(unit.id) ?? true
                planned.append(PlannedUnit(unit: unit, verdict: selected ? .blocked(upstream: blocked) : .notSelected))
                continue
            }
            if let cause = dependencies.lazy.compactMap({ pendingCause[$0] }).first {
                pendingCause[position] = unit.id
                let verdict: PlannedUnit.Verdict
                if let only = selection.only, !only.contains(unit.id) {
                    verdict = .notSelected
                } else if selection.forced.contains(unit.id) {
                    verdict = .run(.forced)
                } else {
                    verdict = .runIfChanged(upstream: cause)
                }
                planned.append(PlannedUnit(unit: unit, verdict: verdict))
                continue
            }
            let upstream = dependencies.map { (graph.units[$0].id, outputs[$0] ?? "") }
            let fingerprint = Fingerprint(
                sliceHash: unit.sliceHash, version: versions[unit.id.stage] ?? "", upstream: upstream,
                context: selection.contexts[unit.id])
            switch Decision.decide(
                unit.id, fingerprint: fingerprint, history: history[unit.id] ?? UnitHistory(),
                selection: selection)
            {
            case .run(let reason):
                pendingCause[position] = unit.id
                planned.append(PlannedUnit(unit: unit, verdict: .run(reason)))
            case .done(let hash):
                outputs[position] = hash
                planned.append(PlannedUnit(unit: unit, verdict: .upToDate(fromRun: nil)))
            case .reuse(let hash, let run):
                outputs[position] = hash
                planned.append(PlannedUnit(unit: unit, verdict: .upToDate(fromRun: run)))
            case .keep(let hash, _):
                outputs[position] = hash
                planned.append(PlannedUnit(unit: unit, verdict: .notSelected))
            case .missing:
                blockedCause[position] = unit.id
                planned.append(PlannedUnit(unit: unit, verdict: .notSelected))
            }
        }
        return planned
    }
}
