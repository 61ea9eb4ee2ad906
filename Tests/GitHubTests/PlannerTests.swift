import Foundation
import Pipeline
import Testing

@testable import Ingest

/// What each stream of a unit needs, decided from what the store holds (pure: no store here).
struct PlannerTests {
    static let window = Window(start: Date(timeIntervalSince1970: 1_000_000), end: Date(timeIntervalSince1970: 2_209_600))
    static let overlap: TimeInterval = 300
    static var base: Date { window.start.addingTimeInterval(-overlap) }
    static let streams: [RepositoryStream] = [.commits, .pullRequestsUpdated, .pullRequestsOpen, .issuesUpdated, .issuesOpen]

    static func plan(checkpoints: [String: Checkpoint] = [:], coverage: [String: Coverage] = [:]) -> StreamPlan {
        Planner.plan(streams, window: window, overlap: overlap) { stream in
            (checkpoints[stream.name], coverage[stream.name])
        }
    }

    @Test func aFirstIngestReadsEveryStreamFromTheWindowStartAndIsNotIncremental() {
        let plan = Self.plan()
        #expect(plan.pending.map(\.stream.name) == Self.streams.map(\.name))
        #expect(plan.pending.allSatisfy { $0.checkpoint.since == Self.base && !$0.reusesSnapshot })
        #expect(!plan.incremental && plan.resumed == 0)
    }

    /// A later run continues each stream where its coverage ends (less the overlap) and reuses
    /// the open-item snapshots its updated-since streams reach back to: a probe can tell.
    @Test func aLaterRunContinuesTheCoverageAndReusesOpenSnapshots() {
        let earlier = Self.window.start.addingTimeInterval(-86_400)
        let covered = Self.window.start.addingTimeInterval(3_600)
        var coverage: [String: Coverage] = [:]
        for stream in Self.streams { coverage[stream.name] = Coverage(from: earlier, to: covered, tip: "t") }
        let plan = Self.plan(coverage: coverage)
        let since = covered.addingTimeInterval(-Self.overlap)
        #expect(plan.pending.filter { !$0.stream.readsSummaries }.allSatisfy { $0.checkpoint.since == since })
        #expect(plan.pending.filter { $0.stream.readsSummaries }.allSatisfy { $0.reusesSnapshot })
        #expect(plan.incremental)
    }

    /// An open snapshot older than where the updated-since stream starts has a gap: take it again.
    @Test func anOpenSnapshotWithAGapIsTakenAgain() {
        let earlier = Self.window.start.addingTimeInterval(-86_400)
        let coverage = [
            RepositoryStream.pullRequestsUpdated.name: Coverage(
                from: earlier, to: Self.window.start.addingTimeInterval(7_200), tip: nil),
            RepositoryStream.pullRequestsOpen.name: Coverage(from: earlier, to: Self.window.start, tip: nil),
        ]
        let plan = Self.plan(coverage: coverage)
        #expect(plan.pending.first { $0.stream.name == RepositoryStream.pullRequestsOpen.name }?.reusesSnapshot == false)
        #expect(!plan.incremental)
    }

    /// A stream done in this run is skipped; one an earlier attempt left half-read resumes at its
    /// cursor, and then no probe is asked.
    @Test func doneStreamsAreSkippedAndHalfReadOnesResume() {
        var done = Checkpoint(since: Self.base)
        done.done = true
        var half = Checkpoint(since: Self.base)
        half.pages = 3
        half.cursor = "c3"
        let plan = Self.plan(checkpoints: [RepositoryStream.commits.name: done, RepositoryStream.issuesUpdated.name: half])
        #expect(!plan.pending.contains { $0.stream.name == RepositoryStream.commits.name })
        #expect(plan.pending.first { $0.stream.name == RepositoryStream.issuesUpdated.name }?.checkpoint == half)
        #expect(plan.resumed == 1 && !plan.incremental)
    }

    /// Coverage that does not reach back to the window start backfills from the start.
    @Test func aWindowReachingFurtherBackThanCoverageBackfills() {
        let coverage = [
            RepositoryStream.commits.name: Coverage(
                from: Self.window.start.addingTimeInterval(86_400),
                to: Self.window.end, tip: "t")
        ]
        let plan = Self.plan(coverage: coverage)
        #expect(plan.pending.first { $0.stream.name == RepositoryStream.commits.name }?.checkpoint.since == Self.base)
    }
}
