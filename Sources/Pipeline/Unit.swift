public import Manifest
public import Store

/// The stages of a pipeline, in the order their units usually run.
public enum Stage: String, Sendable, Hashable, CaseIterable, Comparable {
    case ingest, refine, evidence, report, export

    var rank: Int { Stage.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rank < rhs.rank }
}

/// A unit's identity: `stage:key`, e.g. `ingest:leynos/wildside`, `report:project:wildside`,
/// `report:estate`, `export:commits.csv`.
public struct UnitID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let stage: Stage
    public let key: String

    public init(_ stage: Stage, _ key: String) {
        self.stage = stage
        self.key = key
    }

    public var description: String { "\(stage.rawValue):\(key)" }

    public var ledgerKey: UnitKey { UnitKey(stage: stage.rawValue, unit: key) }

    public init?(ledgerKey: UnitKey) {
        guard let stage = Stage(rawValue: ledgerKey.stage) else { return nil }
        self.init(stage, ledgerKey.unit)
    }

    public static func < (lhs: UnitID, rhs: UnitID) -> Bool {
        (lhs.stage.rank, lhs.key) < (rhs.stage.rank, rhs.key)
    }
}

/// What a unit works on.
public enum Subject: Sendable, Hashable {
    case repository(Repository)
    case project(String)
    case estate
    case export(Dataset, ExportFormat)
    /// The export's `export-manifest.json`, written once every dataset file is.
    case exportManifest
}

/// One node of the unit graph.
public struct Unit: Sendable, Hashable {
    public let id: UnitID
    public let subject: Subject
    /// Units whose outputs this one reads; they always come earlier in ``UnitGraph/units``.
    public let dependencies: [UnitID]
    /// Hash of the part of the manifest (and the frozen window) this unit depends on.
    public let sliceHash: String
}
