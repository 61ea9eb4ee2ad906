import Foundation
import Pipeline

/// A stream a unit still has to read (or to confirm), with where it stands.
struct PendingStream: Sendable {
    var stream: RepositoryStream
    var checkpoint: Checkpoint
    /// What earlier runs covered of it.
    var coverage: Coverage?
    /// An open-item stream whose snapshot from an earlier run is reused, once GitHub's count of
    /// open items matches what ingest believes open (an item that left the repository changes
    /// the count and nothing else).
    var reusesSnapshot = false

    /// Not started in this run: its first page comes in the combined first request.
    var unstarted: Bool { checkpoint.pages == 0 && !checkpoint.done && checkpoint.cursor == nil }
}

/// What a unit's streams need.
struct StreamPlan: Sendable {
    var pending: [PendingStream] = []
    /// Streams continued from an earlier attempt of this run.
    var resumed = 0
    /// Whether every pending stream continues an earlier run's coverage, with no open-item
    /// snapshot to take and nothing resumed: then a batched probe can tell that nothing changed.
    var incremental = true
}

/// Decides what each of a unit's streams needs from what the store holds: its checkpoint in
/// this run and what earlier runs covered. Pure: it reads through `state` and writes nothing.
enum Planner {
    static func plan(
        _ streams: [RepositoryStream], window: Window, overlap: TimeInterval,
        state: (RepositoryStream) throws -> (checkpoint: Checkpoint?, coverage: Coverage?)
    ) rethrows -> StreamPlan {
        let base = window.start.addingTimeInterval(-overlap)
        /// Where a fresh read of `stream` starts: where earlier coverage ends (less the
        /// overlap) when it reaches back to the window start, else the window start.
        func since(_ coverage: Coverage?) -> Date {
            guard let coverage, coverage.from <= window.start else { return base }
            return max(base, coverage.to.addingTimeInterval(-overlap))
        }
        var plan = StreamPlan()
        for stream in streams {
            let (saved, coverage) = try state(stream)
            if let saved {
                // Counters are per attempt: what an earlier attempt fetched is in its own ledger row.
                if saved.done { continue }
                plan.resumed += 1
                plan.incremental = false
                plan.pending.append(PendingStream(stream: stream, checkpoint: saved, coverage: coverage))
                continue
            }
            var pending = PendingStream(stream: stream, checkpoint: Checkpoint(since: since(coverage)), coverage: coverage)
            if let updated = stream.updatedCounterpart {
                // Every open item was read when the snapshot was taken, and this run's
                // updated-since stream reads every item that changed after it (a change moves
                // `updatedAt`): reading the open items again would fetch nothing new.
                let counterpart = try state(updated)
                let updatedSince = counterpart.checkpoint?.since ?? since(counterpart.coverage)
                if let snapshot = coverage?.to, updatedSince <= snapshot {
                    pending.reusesSnapshot = true
                } else {
                    plan.incremental = false
                }
            } else if (coverage?.from ?? .distantFuture) > window.start {
                // Nothing covered: a first ingest (or a window reaching further back).
                plan.incremental = false
            }
            plan.pending.append(pending)
        }
        return plan
    }
}
