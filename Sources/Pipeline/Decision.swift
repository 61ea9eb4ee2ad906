import Digest
public import Store

/// A unit's fingerprint: a hash of its manifest slice, its stage's code version and its
/// upstream units' output hashes. `parts` keeps each input's hash so a change can be named.
public struct Fingerprint: Sendable, Hashable {
    public let value: String
    public let parts: [String: String]

    /// `context`: a digest of what the unit reads beyond its upstream's outputs (its earlier
    /// windows; the reason a rerun gives is "input changed: earlier windows"), when it reads
    /// anything (``StageRunner/contexts(_:manifest:window:database:)``).
    public init(sliceHash: String, version: String, upstream: [(UnitID, String)], context: String? = nil) {
        var parts = ["manifest": sliceHash, "code": version]
        for (id, hash) in upstream { parts["upstream " + id.description] = hash }
        if let context { parts["earlier windows"] = context }
        self.parts = parts
        value = Self.hash(parts)
    }

    /// The one hash of named parts, for fingerprints and manifest slices alike: SHA-256 of
    /// `key=value` lines in key order. A drift here would rerun, or wrongly reuse, every unit;
    /// a test pins its values.
    public static func hash(_ parts: [String: String]) -> String {
        var hasher = SHA256()
        for key in parts.keys.sorted() {
            hasher.update(key)
            hasher.update("=")
            hasher.update(parts[key] ?? "")
            hasher.update("\n")
        }
        return hasher.hexDigest()
    }

    /// Names of the inputs that differ from `old` (added, removed or changed), sorted.
    public func changedParts(since old: [String: String]) -> [String] {
        Set(parts.keys).union(old.keys).filter { parts[$0] != old[$0] }.sorted()
    }
}

/// Why a unit runs.
public enum RunReason: Sendable, Hashable, CustomStringConvertible {
    case neverRan
    case failed(String)
    case interrupted
    case skippedBefore
    case inputChanged([String])
    case forced
    case outputMissing
    /// Stored data it wrote could not be read and is read again (why).
    case reread(String)

    public var description: String {
        switch self {
        case .neverRan: return "never ran"
        case .failed(let message): return "failed before: \(message)"
        case .interrupted: return "interrupted before"
        case .skippedBefore: return "was skipped before (upstream failed)"
        case .inputChanged(let parts): return "input changed: " + parts.joined(separator: ", ")
        case .forced: return "forced by --from/--rerun"
        case .outputMissing: return "its output files are gone"
        case .reread(let why): return "reads again what refine could not read: \(why)"
        }
    }
}

/// What the ledger already knows about one unit.
public struct UnitHistory: Sendable, Equatable {
    /// The unit's latest attempt in the run being continued, if any.
    public var current: AttemptRecord?
    /// The unit's latest successful output in any run of this manifest name.
    public var output: UnitOutputRecord?
    /// The unit's latest successful output for the run's window, in any run of this manifest
    /// name: a run of a window reuses it even when other windows ran since.
    public var windowOutput: UnitOutputRecord?

    public init(current: AttemptRecord? = nil, output: UnitOutputRecord? = nil, windowOutput: UnitOutputRecord? = nil) {
        self.current = current
        self.output = output
        self.windowOutput = windowOutput
    }
}

/// Which units the command line asks for.
public struct Selection: Sendable, Hashable {
    /// Units that run even when up to date (`--from`, `--rerun`).
    public var forced: Set<UnitID> = []
    /// Units whose output lives outside the store (files) and is no longer there.
    public var outputsGone: Set<UnitID> = []
    /// Units whose stored output is to be made again, and why (``StageRunner/rereads(_:database:)``).
    public var rereads: [UnitID: String] = [:]
    /// What units read beyond their upstream's outputs, as digests, for their fingerprints
    /// (``StageRunner/contexts(_:manifest:window:database:)``).
    public var contexts: [UnitID: String] = [:]
    /// When set, only these units may run (`--only`); others keep their last output.
    public var only: Set<UnitID>?

    public init(forced: Set<UnitID> = [], only: Set<UnitID>? = nil) {
        self.forced = forced
        self.only = only
    }
}

/// The decision for a unit whose inputs are all known.
public enum Decision: Sendable, Hashable {
    /// Run it.
    case run(RunReason)
    /// Already succeeded in this run with this fingerprint: nothing to do or record.
    case done(outputHash: String)
    /// Succeeded in an earlier run with this fingerprint: record it as reused.
    case reuse(outputHash: String, fromRun: Int64)
    /// Not selected by `--only`: use its last output, whatever made it. `current` says whether
    /// that output matches the unit's inputs now; a stale one leaves the run incomplete.
    case keep(outputHash: String, current: Bool)
    /// Not selected by `--only` and it has no output: its dependents cannot run.
    case missing

    /// The one rule that decides; the scheduler and the planner both call it.
    static func decide(
        _ id: UnitID, fingerprint: Fingerprint, history: UnitHistory, selection: Selection
    ) -> Decision {
        if let only = selection.only, !only.contains(id) {
            if let current = history.current, current.state == .succeeded, let hash = current.outputHash {
                return .keep(outputHash: hash, current: current.fingerprint == fingerprint.value)
            }
            if let output = history.output {
                return .keep(outputHash: output.outputHash, current: output.fingerprint == fingerprint.value)
            }
            return .missing
        }
        if selection.forced.contains(id) { return .run(.forced) }
        if selection.outputsGone.contains(id) { return .run(.outputMissing) }
        if let why = selection.rereads[id] { return .run(.reread(why)) }
        if let current = history.current, current.state == .succeeded, current.fingerprint == fingerprint.value,
            let hash = current.outputHash
        {
            return .done(outputHash: hash)
        }
        if let output = history.output, output.fingerprint == fingerprint.value {
            return .reuse(outputHash: output.outputHash, fromRun: output.runID)
        }
        if let output = history.windowOutput, output.fingerprint == fingerprint.value {
            return .reuse(outputHash: output.outputHash, fromRun: output.runID)
        }
        if let current = history.current {
            switch current.state {
            case .failed: return .run(.failed(current.errorMessage ?? current.errorCode ?? "unknown error"))
            case .interrupted, .running, .pending: return .run(.interrupted)
            case .skipped: return .run(.skippedBefore)
            case .succeeded: break
            }
        }
        // What changed since this window's last output, or else since the latest of any window.
        if let output = history.windowOutput ?? history.output {
            return .run(.inputChanged(fingerprint.changedParts(since: output.fingerprintParts)))
        }
        return .run(.neverRan)
    }
}
