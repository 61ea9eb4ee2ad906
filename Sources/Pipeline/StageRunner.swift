public import Foundation
public import Manifest
public import Store

/// The code behind one stage: runs one unit at a time, possibly several concurrently.
///
/// A runner reads its inputs from the store, does its work, and returns a ``UnitResult``
/// whose `persist` closure writes the unit's output. The executor runs `persist` in the same
/// transaction that marks the unit succeeded, so a crash can never leave a unit marked done
/// without its output, nor output marked as belonging to a unit that failed.
public protocol StageRunner: Sendable {
    var stage: Stage { get }
    /// Changes whenever the runner's logic changes what it writes; part of every fingerprint.
    var version: String { get }
    func run(_ context: UnitContext) async throws -> UnitResult
    /// Checks, before anything runs, that the stage's configuration is usable (a token is set,
    /// an endpoint parses). A problem here stops the command with exit code 5.
    func preflight(_ manifest: Manifest, environment: [String: String]) throws(ConfigurationProblem)
    /// Units of this stage whose output lives outside the store (files) and is gone, so that
    /// an otherwise up-to-date unit runs again instead of being reused.
    func outputsGone(_ units: [Unit], manifest: Manifest, window: Window) -> Set<UnitID>
    /// Units of this stage that must run again because the store asks for it (stored data
    /// that could not be read and is to be read again), with why: they run even when up to date.
    func rereads(_ units: [Unit], database: Database) throws -> [UnitID: String]
    /// What each of `units` reads beyond its upstream's outputs — a report's earlier windows —
    /// as a digest, part of its fingerprint: a unit is not reused when that changed (a window run
    /// again after a backfill filled in the ones before it). No entry: it reads nothing else.
    func contexts(_ units: [Unit], manifest: Manifest, window: Window, database: Database) throws -> [UnitID: String]
    /// Where this stage's units write files, for the run's summary: none for a stage that
    /// writes only to the store.
    func outputs(_ manifest: Manifest, window: Window) -> [StageOutput]
    /// One line summing up the stage's counters over a run (requests and points, tokens and
    /// cost) for the run's summary and `status` (which may not have the manifest); nil when the
    /// counters say it all.
    func summary(_ counters: [String: Int64], manifest: Manifest?) -> String?
    /// The key of the rate-limited credential a unit spends (a GitHub token or installation),
    /// if any: workers claim the unit only while that credential's shared budget is above its
    /// floor.
    func credential(for unit: Unit, manifest: Manifest) -> String?
}

extension StageRunner {
    public func preflight(_ manifest: Manifest, environment: [String: String]) throws(ConfigurationProblem) {}
    public func outputsGone(_ units: [Unit], manifest: Manifest, window: Window) -> Set<UnitID> { [] }
    public func rereads(_ units: [Unit], database: Database) throws -> [UnitID: String] { [:] }
    public func contexts(_ units: [Unit], manifest: Manifest, window: Window, database: Database) throws -> [UnitID: String] {
        [:]
    }
    public func outputs(_ manifest: Manifest, window: Window) -> [StageOutput] { [] }
    public func summary(_ counters: [String: Int64], manifest: Manifest?) -> String? { nil }
    public func credential(for unit: Unit, manifest: Manifest) -> String? { nil }
}

/// A place a stage writes files (a folder of exports, a report page).
public struct StageOutput: Sendable, Equatable {
    /// Its key in the run's JSON document (`exports`, `estate_page`).
    public let key: String
    /// How the run's summary names it (`report files`).
    public let label: String
    public let location: URL
    /// Shown only after a run that succeeded whole (a page that sums up every unit).
    public let afterWholeRun: Bool

    public init(key: String, label: String, location: URL, afterWholeRun: Bool = false) {
        self.key = key
        self.label = label
        self.location = location
        self.afterWholeRun = afterWholeRun
    }
}

/// A stage's configuration cannot work: what, and what to do.
public struct ConfigurationProblem: Error, Sendable, Equatable {
    public let message: String
    public let hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

/// Everything a runner may use for one unit.
public struct UnitContext: Sendable {
    public let unit: Unit
    public let runID: Int64
    public let attempt: Int
    public let window: Window
    public let manifest: Manifest
    public let database: Database
    /// Output hashes of the unit's dependencies.
    public let upstream: [UnitID: String]
    /// Reports progress (pages fetched, rows written) to the progress display.
    public let progress: @Sendable (String) -> Void
    /// Reports the API budget left (and when it resets), for the progress display's footer.
    public let budget: @Sendable (Int, Date) -> Void
}

/// What a successful unit produced.
public struct UnitResult: Sendable {
    /// A hash of the unit's output; dependents' fingerprints include it.
    public let outputHash: String
    /// Counters for the ledger: pages, requests, points, rows, tokens...
    public let counters: [String: Int64]
    /// What the user should know although the unit succeeded (a branch other than GitHub's
    /// default, say): recorded with the attempt and shown in the run's output. No secrets.
    public let warnings: [String]
    /// Writes the unit's output inside the transaction that marks it succeeded.
    public let persist: @Sendable (borrowing Transaction) throws -> Void

    public init(
        outputHash: String, counters: [String: Int64] = [:], warnings: [String] = [],
        persist: @escaping @Sendable (borrowing Transaction) throws -> Void = { _ in }
    ) {
        self.outputHash = outputHash
        self.counters = counters
        self.warnings = warnings
        self.persist = persist
    }
}

/// A unit's failure as a runner reports it: a stable code, a message, counters so far.
///
/// Messages reach the ledger and the terminal; they must not hold secrets. The executor also
/// removes the values of the manifest's secret variables from every message it records.
public struct UnitError: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String
    public let counters: [String: Int64]
    /// The unit stopped cleanly before its end (e.g. waiting would exceed a limit): it is
    /// recorded `interrupted`, not `failed`, its dependents wait, and a rerun resumes it.
    public let interrupted: Bool

    public init(code: String, message: String, counters: [String: Int64] = [:], interrupted: Bool = false) {
        self.code = code
        self.message = message
        self.counters = counters
        self.interrupted = interrupted
    }

    public var description: String { "\(code): \(message)" }
}

/// The runners a binary has, by stage.
public struct StageSet: Sendable {
    public let runners: [Stage: any StageRunner]

    public init(_ runners: [any StageRunner]) {
        var byStage: [Stage: any StageRunner] = [:]
        for runner in runners { byStage[runner.stage] = runner }
        self.runners = byStage
    }

    public var versions: [Stage: String] { runners.mapValues(\.version) }

    /// Where the stages write files, in stage order.
    public func outputs(_ manifest: Manifest, window: Window) -> [(stage: Stage, output: StageOutput)] {
        Stage.allCases.flatMap { stage in (runners[stage]?.outputs(manifest, window: window) ?? []).map { (stage, $0) } }
    }

    /// Each stage's summary of its counters, in stage order.
    public func summaries(_ counters: [Stage: [String: Int64]], manifest: Manifest?) -> [String] {
        Stage.allCases.compactMap { stage in counters[stage].flatMap { runners[stage]?.summary($0, manifest: manifest) } }
    }

    /// Units of `graph` whose files are gone, by asking each stage's runner.
    public func outputsGone(in graph: UnitGraph, manifest: Manifest, window: Window) -> Set<UnitID> {
        var gone: Set<UnitID> = []
        for (stage, runner) in runners {
            gone.formUnion(runner.outputsGone(graph.units.filter { $0.id.stage == stage }, manifest: manifest, window: window))
        }
        return gone
    }

    /// Units of `graph` the store asks to run again, and why, by asking each stage's runner.
    public func rereads(in graph: UnitGraph, database: Database) throws -> [UnitID: String] {
        var rereads: [UnitID: String] = [:]
        for (stage, runner) in runners {
            let units = graph.units.filter { $0.id.stage == stage }
            rereads.merge(try runner.rereads(units, database: database)) { first, _ in first }
        }
        return rereads
    }

    /// What units of `graph` read beyond their upstream's outputs, by asking each stage's runner.
    public func contexts(in graph: UnitGraph, manifest: Manifest, window: Window, database: Database) throws
        -> [UnitID: String]
    {
        var contexts: [UnitID: String] = [:]
        for (stage, runner) in runners {
            let units = graph.units.filter { $0.id.stage == stage }
            contexts.merge(try runner.contexts(units, manifest: manifest, window: window, database: database)) { first, _ in
                first
            }
        }
        return contexts
    }

    /// Stages of `graph` that have no runner in this binary.
    public func missing(for graph: UnitGraph) -> [Stage] {
        graph.stages.filter { runners[$0] == nil }
    }
}
