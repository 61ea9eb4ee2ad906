import Foundation
import Testing

@testable import Manifest
@testable import Pipeline
@testable import Store

/// A synthetic graph: `spec` maps `stage:key` to its dependencies, in topological order.
func graph(_ spec: KeyValuePairs<String, [String]>) -> UnitGraph {
    UnitGraph(
        units: spec.map { id, dependencies in
            Unit(id: parse(id), subject: .estate, dependencies: dependencies.map(parse), sliceHash: "slice-" + id)
        })
}

func parse(_ text: String) -> UnitID {
    let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
    return UnitID(Stage(rawValue: parts[0]) ?? .ingest, parts.count > 1 ? parts[1] : "")
}

let versions: [Stage: String] = Dictionary(uniqueKeysWithValues: Stage.allCases.map { ($0, "v1") })

/// Drives a scheduler to the end, failing the units in `failing`; records what happened.
struct Simulation {
    var started: [String] = []
    var reused: [String] = []
    var settled: [String] = []
    var skipped: [String] = []
    var reasons: [String: RunReason] = [:]
    var maxRunning = 0

    init(_ scheduler: inout Scheduler, failing: Set<String> = [], outputs: [String: String] = [:]) {
        var running: [UnitID] = []
        var pending = scheduler.start()
        while true {
            for action in pending {
                switch action {
                case .run(let id, _, let reason):
                    started.append(id.description)
                    reasons[id.description] = reason
                    running.append(id)
                case .reuse(let id, _, _, _): reused.append(id.description)
                case .settle(let id), .keepStale(let id): settled.append(id.description)
                case .skip(let id, _, _, _): skipped.append(id.description)
                }
            }
            maxRunning = max(maxRunning, running.count)
            guard !running.isEmpty else { break }
            let next = running.removeFirst()
            let outcome: Scheduler.Outcome =
                failing.contains(next.description)
                ? .failed : .succeeded(outputHash: outputs[next.description] ?? "out-" + next.description)
            pending = scheduler.finished(next, outcome)
        }
    }
}

/// A history entry for a unit that succeeded in an earlier run with the given fingerprint.
func output(_ id: String, fingerprint: Fingerprint, hash: String? = nil, run: Int64 = 1) -> UnitOutputRecord {
    UnitOutputRecord(
        unit: parse(id).ledgerKey, runID: run, attemptID: 1, fingerprint: fingerprint.value,
        fingerprintParts: fingerprint.parts, outputHash: hash ?? "out-" + id, finishedAt: Date())
}

func attempt(_ id: String, _ state: UnitState, fingerprint: Fingerprint, hash: String? = nil, error: String? = nil)
    -> AttemptRecord
{
    AttemptRecord(
        id: 1, runID: 1, unit: parse(id).ledgerKey, attempt: 1, state: state, reason: "", fingerprint: fingerprint.value,
        fingerprintParts: fingerprint.parts, reusedFromRun: nil, startedAt: nil, finishedAt: nil, counters: [:],
        outputHash: state == .succeeded ? (hash ?? "out-" + id) : nil, errorCode: nil, errorMessage: error)
}

/// The fingerprint a unit gets when its upstream produced the default simulated outputs.
func fingerprint(_ id: String, upstream: [String] = [], version: String = "v1", slice: String? = nil) -> Fingerprint {
    Fingerprint(sliceHash: slice ?? "slice-" + id, version: version, upstream: upstream.map { (parse($0), "out-" + $0) })
}

struct SchedulerTests {
    @Test func dependenciesRunFirstAndLaterStagesAreFavoured() {
        let g = graph(["ingest:a": [], "ingest:b": [], "refine:a": ["ingest:a"], "refine:b": ["ingest:b"]])
        var scheduler = Scheduler(graph: g, versions: versions, history: [:], selection: Selection(), jobs: 1)
        let run = Simulation(&scheduler)
        #expect(run.started == ["ingest:a", "refine:a", "ingest:b", "refine:b"])
        #expect(run.reasons.values.allSatisfy { $0 == .neverRan })
        #expect(scheduler.isIdle && !scheduler.hasFailures && scheduler.unfinished.isEmpty)
    }

    @Test(arguments: [1, 2, 3, 8])
    func parallelismNeverExceedsJobs(jobs: Int) {
        let g = graph(["ingest:a": [], "ingest:b": [], "ingest:c": [], "ingest:d": [], "ingest:e": []])
        var scheduler = Scheduler(graph: g, versions: versions, history: [:], selection: Selection(), jobs: jobs)
        let run = Simulation(&scheduler)
        #expect(run.maxRunning == min(jobs, 5))
        #expect(run.started.count == 5)
    }

    @Test func aFailureSkipsOnlyItsDownstream() {
        let g = graph([
            "ingest:a": [], "ingest:b": [], "refine:a": ["ingest:a"], "refine:b": ["ingest:b"],
            "evidence:a": ["refine:a"], "export:all": ["refine:a", "refine:b"],
        ])
        var scheduler = Scheduler(graph: g, versions: versions, history: [:], selection: Selection(), jobs: 2)
        let run = Simulation(&scheduler, failing: ["ingest:a"])
        #expect(Set(run.started) == ["ingest:a", "ingest:b", "refine:b"])
        #expect(Set(run.skipped) == ["refine:a", "evidence:a", "export:all"])
        #expect(scheduler.hasFailures)
    }

    @Test func resumeRunsOnlyWhatDidNotSucceed() {
        let g = graph(["ingest:a": [], "ingest:b": [], "refine:a": ["ingest:a"], "refine:b": ["ingest:b"]])
        let history: [UnitID: UnitHistory] = [
            parse("ingest:a"): UnitHistory(current: attempt("ingest:a", .succeeded, fingerprint: fingerprint("ingest:a"))),
            parse("ingest:b"): UnitHistory(current: attempt("ingest:b", .succeeded, fingerprint: fingerprint("ingest:b"))),
            parse("refine:a"): UnitHistory(
                current: attempt(
                    "refine:a", .succeeded, fingerprint: fingerprint("refine:a", upstream: ["ingest:a"]))),
            parse("refine:b"): UnitHistory(
                current: attempt(
                    "refine:b", .failed, fingerprint: fingerprint("refine:b", upstream: ["ingest:b"]), error: "boom")),
        ]
        var scheduler = Scheduler(graph: g, versions: versions, history: history, selection: Selection(), jobs: 4)
        let run = Simulation(&scheduler)
        #expect(run.started == ["refine:b"])
        #expect(run.reasons["refine:b"] == .failed("boom"))
        #expect(Set(run.settled) == ["ingest:a", "ingest:b", "refine:a"])
    }

    @Test func interruptedAndSkippedUnitsRunAgainWithTheirReason() {
        let g = graph(["ingest:a": [], "ingest:b": []])
        let history: [UnitID: UnitHistory] = [
            parse("ingest:a"): UnitHistory(current: attempt("ingest:a", .interrupted, fingerprint: fingerprint("ingest:a"))),
            parse("ingest:b"): UnitHistory(current: attempt("ingest:b", .skipped, fingerprint: fingerprint("ingest:b"))),
        ]
        var scheduler = Scheduler(graph: g, versions: versions, history: history, selection: Selection(), jobs: 4)
        let run = Simulation(&scheduler)
        #expect(run.reasons == ["ingest:a": .interrupted, "ingest:b": .skippedBefore])
    }

    @Test func earlierRunsOutputsAreReusedWhenFingerprintsMatch() {
        let g = graph(["ingest:a": [], "refine:a": ["ingest:a"]])
        let history: [UnitID: UnitHistory] = [
            parse("ingest:a"): UnitHistory(output: output("ingest:a", fingerprint: fingerprint("ingest:a"), run: 7)),
            parse("refine:a"): UnitHistory(
                output: output(
                    "refine:a", fingerprint: fingerprint("refine:a", upstream: ["ingest:a"]), run: 7)),
        ]
        var scheduler = Scheduler(graph: g, versions: versions, history: history, selection: Selection(), jobs: 1)
        let run = Simulation(&scheduler)
        #expect(run.started.isEmpty)
        #expect(run.reused == ["ingest:a", "refine:a"])
    }

    @Test(arguments: [
        ("slice", fingerprint("ingest:a", slice: "old slice"), ["manifest"]),
        ("code", fingerprint("ingest:a", version: "v0"), ["code"]),
    ])
    func changedInputsAreNamed(_ label: String, _ old: Fingerprint, _ parts: [String]) {
        let g = graph(["ingest:a": []])
        let history = [parse("ingest:a"): UnitHistory(output: output("ingest:a", fingerprint: old))]
        var scheduler = Scheduler(graph: g, versions: versions, history: history, selection: Selection(), jobs: 1)
        let run = Simulation(&scheduler)
        #expect(run.reasons["ingest:a"] == .inputChanged(parts))
    }

    @Test func upstreamOutputChangeReachesDownstreamFingerprints() {
        let g = graph(["ingest:a": [], "refine:a": ["ingest:a"]])
        let history: [UnitID: UnitHistory] = [
            parse("refine:a"): UnitHistory(
                output: output(
                    "refine:a", fingerprint: fingerprint("refine:a", upstream: ["ingest:a"])))
        ]
        var scheduler = Scheduler(graph: g, versions: versions, history: history, selection: Selection(), jobs: 1)
        let run = Simulation(&scheduler, outputs: ["ingest:a": "new data"])
        #expect(run.started == ["ingest:a", "refine:a"])
        #expect(run.reasons["refine:a"] == .inputChanged(["upstream ingest:a"]))
    }

    @Test func forcedUnitsRunAndUnchangedOutputsStopTheRipple() {
        let g = graph(["ingest:a": [], "refine:a": ["ingest:a"]])
        let history: [UnitID: UnitHistory] = [
            parse("ingest:a"): UnitHistory(current: attempt("ingest:a", .succeeded, fingerprint: fingerprint("ingest:a"))),
            parse("refine:a"): UnitHistory(
                current: attempt(
                    "refine:a", .succeeded, fingerprint: fingerprint("refine:a", upstream: ["ingest:a"]))),
        ]
        var scheduler = Scheduler(
            graph: g, versions: versions, history: history, selection: Selection(forced: [parse("ingest:a")]), jobs: 1)
        let run = Simulation(&scheduler)
        #expect(run.started == ["ingest:a"])
        #expect(run.reasons["ingest:a"] == .forced)
        #expect(run.settled == ["refine:a"])
    }

    @Test func onlyRunsTheSelectionAndKeepsOtherOutputs() {
        let g = graph(["ingest:a": [], "refine:a": ["ingest:a"], "evidence:a": ["refine:a"]])
        let history = [
            parse("ingest:a"): UnitHistory(output: output("ingest:a", fingerprint: fingerprint("ingest:a", slice: "x")))
        ]
        var scheduler = Scheduler(
            graph: g, versions: versions, history: history, selection: Selection(only: [parse("refine:a")]), jobs: 1)
        let run = Simulation(&scheduler)
        #expect(run.started == ["refine:a"])
        #expect(run.settled == ["ingest:a"])
        #expect(scheduler.hasMissing && !scheduler.hasFailures)
    }

    @Test func onlyWithoutUpstreamOutputSkipsTheSelectedUnit() {
        let g = graph(["ingest:a": [], "refine:a": ["ingest:a"], "evidence:a": ["refine:a"]])
        var scheduler = Scheduler(
            graph: g, versions: versions, history: [:], selection: Selection(only: [parse("refine:a")]), jobs: 1)
        let run = Simulation(&scheduler)
        #expect(run.started.isEmpty)
        #expect(run.skipped == ["refine:a"])
    }

    @Test func stopPreventsNewUnits() {
        let g = graph(["ingest:a": [], "ingest:b": [], "ingest:c": []])
        var scheduler = Scheduler(graph: g, versions: versions, history: [:], selection: Selection(), jobs: 1)
        let first = scheduler.start()
        #expect(first.count == 1)
        scheduler.stop()
        guard case .run(let id, _, _) = first[0] else {
            Issue.record("expected a run action")
            return
        }
        #expect(scheduler.finished(id, .interrupted).isEmpty)
        #expect(scheduler.isIdle)
        #expect(scheduler.unfinished.count == 2)
    }
}

struct PlannerTests {
    @Test func planMatchesWhatTheSchedulerWouldDo() {
        let g = graph([
            "ingest:a": [], "ingest:b": [], "refine:a": ["ingest:a"], "refine:b": ["ingest:b"],
            "export:x": ["refine:a", "refine:b"],
        ])
        let history: [UnitID: UnitHistory] = [
            parse("ingest:a"): UnitHistory(current: attempt("ingest:a", .succeeded, fingerprint: fingerprint("ingest:a"))),
            parse("refine:a"): UnitHistory(
                output: output(
                    "refine:a", fingerprint: fingerprint("refine:a", upstream: ["ingest:a"]), run: 3)),
        ]
        let plan = Planner.plan(graph: g, versions: versions, history: history, selection: Selection())
        let verdicts = Dictionary(uniqueKeysWithValues: plan.map { ($0.unit.id.description, $0.verdict) })
        #expect(verdicts["ingest:a"] == .upToDate(fromRun: nil))
        #expect(verdicts["refine:a"] == .upToDate(fromRun: 3))
        #expect(verdicts["ingest:b"] == .run(.neverRan))
        #expect(verdicts["refine:b"] == .runIfChanged(upstream: parse("ingest:b")))
        #expect(verdicts["export:x"] == .runIfChanged(upstream: parse("refine:b")))
    }

    @Test func planShowsBlockedAndUnselectedUnits() {
        let g = graph(["ingest:a": [], "refine:a": ["ingest:a"], "evidence:a": ["refine:a"]])
        let plan = Planner.plan(graph: g, versions: versions, history: [:], selection: Selection(only: [parse("refine:a")]))
        #expect(plan.map(\.verdict) == [.notSelected, .blocked(upstream: parse("ingest:a")), .notSelected])
    }
}

/// The one hash behind fingerprints and manifest slices, pinned: a change to it would rerun,
/// or wrongly reuse, every unit of every store.
@Test(arguments: [
    (["a": "1", "b": "2"], "4a73850fde34aad40ff8649b93a66523a5fe744357a3931caea0f10609d0d930"),
    (
        ["upstream ingest:acme/x": "def", "manifest": "abc", "code": "ingest-3"],
        "9aafc40875832e4e5659e5c4f183881cacf6d08e261b7f5ad7dd6a9ada8234e4"
    ),
])
func partsHashIsPinned(parts: [String: String], expected: String) {
    #expect(Fingerprint.hash(parts) == expected)
    #expect(Slice.hash(parts) == expected)
}

@Test func aFingerprintIsTheHashOfItsParts() {
    let fingerprint = Fingerprint(sliceHash: "abc", version: "ingest-3", upstream: [(UnitID(.ingest, "acme/x"), "def")])
    #expect(fingerprint.value == "9aafc40875832e4e5659e5c4f183881cacf6d08e261b7f5ad7dd6a9ada8234e4")
}

/// The one redaction filter: a manifest's secrets as set and a store URL's password become
/// `***`; values too short to be secrets are left alone.
@Test func redactionHidesEverySecretTheManifestNames() throws {
    let manifest = try fixtureManifest("good/minimal.yaml")
    let redact = Redaction(
        manifest,
        environment: [
            "GHILLIE_GITHUB_TOKEN": "ghp_abcdefghij", "GHILLIE_STORE": "postgres://ghillie:pa55word@db/ghillie",
        ])
    #expect(redact("token ghp_abcdefghij and pa55word") == "token *** and ***")
    #expect(Redaction(secrets: ["abc"])("abc stays") == "abc stays")
}
