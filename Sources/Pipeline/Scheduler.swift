/// The pure state machine that decides what runs next.
///
/// It does no I/O: the executor feeds it unit outcomes and carries out the actions it returns.
/// A unit is decided when all its dependencies have outputs: it runs, or is done/reused/kept
/// without running. At most `jobs` units run at once; among units ready to run, later stages
/// go first so that work started on a repository finishes before new work begins. A failed
/// unit skips everything downstream of it and nothing else.
public struct Scheduler: Sendable {
    public enum Action: Sendable, Hashable {
        /// Start the unit.
        case run(UnitID, Fingerprint, RunReason)
        /// Record the unit as succeeded by reusing an earlier run's output.
        case reuse(UnitID, Fingerprint, outputHash: String, fromRun: Int64)
        /// The unit needs nothing (done in this run, or kept up to date under `--only`).
        case settle(UnitID)
        /// Not selected by `--only`; its last output is used but no longer matches its inputs.
        case keepStale(UnitID)
        /// Record the unit as skipped because `upstream` failed or has no output.
        case skip(UnitID, Fingerprint?, upstream: UnitID, reason: SkipReason)
    }

    public enum SkipReason: Sendable, Hashable {
        case upstreamFailed, upstreamMissing
    }

    /// How a unit that ran ended.
    public enum Outcome: Sendable, Hashable {
        case succeeded(outputHash: String)
        case failed
        case interrupted
    }

    enum Status: Sendable, Hashable {
        case waiting, queued, running, succeeded, stale, failed, skipped, missing, interrupted
    }

    let graph: UnitGraph
    let versions: [Stage: String]
    let history: [UnitID: UnitHistory]
    let selection: Selection
    let jobs: Int

    private var status: [Status]
    private var outputs: [String?]
    private var fingerprints: [Fingerprint?]
    private var reasons: [RunReason?]
    private var waitingOn: [Int]
    /// Indices ready to run, kept sorted so that `removeLast()` yields the highest priority.
    private var queue: [Int] = []
    private(set) public var running = 0
    private(set) public var stopped = false

    public init(
        graph: UnitGraph, versions: [Stage: String], history: [UnitID: UnitHistory], selection: Selection, jobs: Int
    ) {
        precondition(jobs >= 1, "jobs must be at least 1")
        self.graph = graph
        self.versions = versions
        self.history = history
        self.selection = selection
        self.jobs = jobs
        status = Array(repeating: .waiting, count: graph.units.count)
        outputs = Array(repeating: nil, count: graph.units.count)
        fingerprints = Array(repeating: nil, count: graph.units.count)
        reasons = Array(repeating: nil, count: graph.units.count)
        waitingOn = graph.dependencyIndices.map(\.count)
    }

    /// The first actions: everything with no dependencies is decided.
    public mutating func start() -> [Action] {
        var actions: [Action] = []
        for position in graph.units.indices where waitingOn[position] == 0 && status[position] == .waiting {
            decide(position, into: &actions)
        }
        dispatch(into: &actions)
        return actions
    }

    /// Records how a running unit ended and returns what follows from it.
    public mutating func finished(_ id: UnitID, _ outcome: Outcome) -> [Action] {
        guard let position = graph.index[id], status[position] == .running else {
            preconditionFailure("finished(\(id)) for a unit that is not running")
        }
        running -= 1
        var actions: [Action] = []
        switch outcome {
        case .succeeded(let hash):
            settle(position, status: .succeeded, output: hash, into: &actions)
        case .failed:
            status[position] = .failed
            skipDownstream(of: position, reason: .upstreamFailed, into: &actions)
        case .interrupted:
            status[position] = .interrupted
        }
        dispatch(into: &actions)
        return actions
    }

    /// Stops starting units; those running finish, nothing new begins.
    public mutating func stop() {
        stopped = true
    }

    /// True when nothing runs and nothing more will start.
    public var isIdle: Bool { running == 0 && (queue.isEmpty || stopped) }

    /// Units that were never decided or never started (stopped, or blocked by an interruption).
    public var unfinished: [UnitID] {
        graph.units.indices.filter { [.waiting, .queued].contains(status[$0]) }.map { graph.units[$0].id }
    }

    public var hasFailures: Bool { status.contains { $0 == .failed || $0 == .skipped } }
    /// Units that stopped cleanly before their end (their dependents still wait).
    public var hasInterruptions: Bool { status.contains(.interrupted) }
    /// Units `--only` left without an up-to-date output.
    public var hasMissing: Bool { status.contains(.missing) || status.contains(.stale) }

    /// Whether the unit was made ready and its end is not known yet (it runs, here or elsewhere).
    public func isAwaiting(_ id: UnitID) -> Bool { graph.index[id].map { status[$0] == .running } ?? false }

    /// Whether every dependency of the unit has a known output.
    public func knowsUpstream(of id: UnitID) -> Bool {
        guard let position = graph.index[id] else { return false }
        return graph.dependencyIndices[position].allSatisfy { outputs[$0] != nil }
    }

    public func fingerprint(of id: UnitID) -> Fingerprint? { graph.index[id].flatMap { fingerprints[$0] } }
    public func reason(of id: UnitID) -> RunReason? { graph.index[id].flatMap { reasons[$0] } }

    /// Output hashes of a unit's dependencies, in dependency order.
    public func upstreamOutputs(of id: UnitID) -> [(UnitID, String)] {
        guard let position = graph.index[id] else { return [] }
        return graph.dependencyIndices[position].map { (graph.units[$0].id, outputs[$0] ?? "") }
    }

    // MARK: Internals

    private mutating func decide(_ position: Int, into actions: inout [Action]) {
        let unit = graph.units[position]
        let upstream = graph.dependencyIndices[position].map { (graph.units[$0].id, outputs[$0] ?? "") }
        let fingerprint = Fingerprint(
            sliceHash: unit.sliceHash, version: versions[unit.id.stage] ?? "", upstream: upstream,
            context: selection.contexts[unit.id])
        fingerprints[position] = fingerprint
        switch Decision.decide(
            unit.id, fingerprint: fingerprint, history: history[unit.id] ?? UnitHistory(),
            selection: selection)
        {
        case .run(let reason):
            reasons[position] = reason
            status[position] = .queued
            let index = queue.partitioningIndex { priority($0) > priority(position) }
            queue.insert(position, at: index)
        case .done(let hash), .keep(let hash, current: true):
            actions.append(.settle(unit.id))
            settle(position, status: .succeeded, output: hash, into: &actions)
        case .keep(let hash, current: false):
            actions.append(.keepStale(unit.id))
            settle(position, status: .stale, output: hash, into: &actions)
        case .reuse(let hash, let run):
            actions.append(.reuse(unit.id, fingerprint, outputHash: hash, fromRun: run))
            settle(position, status: .succeeded, output: hash, into: &actions)
        case .missing:
            status[position] = .missing
            skipDownstream(of: position, reason: .upstreamMissing, into: &actions)
        }
    }

    /// Lower first: `queue.last` is the best. Later stages first, then graph order.
    private func priority(_ position: Int) -> (Int, Int) {
        (graph.units[position].id.stage.rank, -position)
    }

    private mutating func settle(_ position: Int, status newStatus: Status, output: String, into actions: inout [Action]) {
        status[position] = newStatus
        outputs[position] = output
        for dependent in graph.dependents[position] where status[dependent] == .waiting {
            waitingOn[dependent] -= 1
            if waitingOn[dependent] == 0 { decide(dependent, into: &actions) }
        }
    }

    private mutating func skipDownstream(of position: Int, reason: SkipReason, into actions: inout [Action]) {
        let cause = graph.units[position].id
        var marked: Set<Int> = [position]
        for candidate in (position + 1)..<max(position + 1, graph.units.count) {
            guard graph.dependencyIndices[candidate].contains(where: marked.contains) else { continue }
            marked.insert(candidate)
            guard status[candidate] == .waiting || status[candidate] == .queued else { continue }
            if status[candidate] == .queued { queue.removeAll { $0 == candidate } }
            if let only = selection.only, !only.contains(graph.units[candidate].id) {
                status[candidate] = .missing // not asked for: nothing to record
                continue
            }
            status[candidate] = .skipped
            actions.append(.skip(graph.units[candidate].id, fingerprints[candidate], upstream: cause, reason: reason))
        }
    }

    private mutating func dispatch(into actions: inout [Action]) {
        while !stopped, running < jobs, let position = queue.popLast() {
            status[position] = .running
            running += 1
            guard let fingerprint = fingerprints[position], let reason = reasons[position] else {
                preconditionFailure("queued unit without a decision")
            }
            actions.append(.run(graph.units[position].id, fingerprint, reason))
        }
    }
}

extension Array {
    /// The first index whose element satisfies `belongsInSecondPartition`, for a partitioned array.
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsInSecondPartition(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
