import Foundation
import PostgresDriver
import SQLiteDriver
import Store
import TestSupport
import Testing

extension TestEngine {
    /// `count` connections to one fresh, migrated store: what that many worker processes have.
    func openShared(_ count: Int) throws -> [Database] {
        switch self {
        case .sqlite:
            let path = NSTemporaryDirectory() + "ghillie-queue-\(UUID().uuidString).sqlite"
            let databases = try (0..<count).map { _ in
                Database(connection: try SQLiteConnection(path: path), displayName: path)
            }
            try Migrator().migrate(databases[0])
            return databases
        case .postgres:
            let url = try TestDatabase.requirePostgres()
            let schema = "q_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            let databases = try (0..<count).map { index in
                let connection = try PostgresConnection(url: url)
                try connection.executeScript(
                    (index == 0 ? "CREATE SCHEMA \(schema); " : "") + "SET search_path TO \(schema)")
                return Database(connection: connection, displayName: "postgres")
            }
            try Migrator().migrate(databases[0])
            return databases
        }
    }
}

private func entry(_ unit: String, priority: Int = 0) -> QueueEntry {
    QueueEntry(
        unit: UnitKey(stage: "ingest", unit: unit), priority: priority, reason: "never ran", fingerprint: "fp-" + unit,
        fingerprintParts: ["code": "v1"])
}

/// The run's unit queue: what makes several workers safe on one run.
@Suite("Work queue")
struct WorkQueueTests {
    func queues(_ databases: [Database], run: Int64, lease: Duration = .seconds(60)) throws -> [WorkQueue] {
        let round = try WorkQueue.startRound(database: databases[0], runID: run, mode: .pool, host: "h", pid: 1)
        return try databases.enumerated().map { index, database in
            let queue = WorkQueue(
                database: database, runID: run, round: round, worker: "w\(index)", host: "h", pid: index, lease: lease)
            try queue.join()
            return queue
        }
    }

    @Test(arguments: TestEngine.available)
    func aUnitIsQueuedOnceAndClaimedByPriority(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let run = try Ledger(database: databases[0]).createRun(newRun())
        let queues = try queues(databases, run: run.id)
        try queues[0].enqueue([entry("a", priority: 1), entry("b", priority: 5)])
        // Another worker's scheduler makes the same unit ready: it is not queued twice.
        try queues[1].enqueue([entry("b", priority: 5), entry("c", priority: 3)])
        #expect(try databases[0].query("SELECT COUNT(*) AS n FROM run_units").first?.int("n") == 3)
        let claimed = try queues[1].claim(limit: 2)
        #expect(claimed.map(\.fence.unit.unit) == ["b", "c"])
        #expect(claimed.allSatisfy { $0.attempt.attempt == 1 && $0.attempt.state == .running && $0.takenFrom == nil })
        #expect(try queues[0].claim(limit: 5).map(\.fence.unit.unit) == ["a"])
        #expect(try queues[0].claim(limit: 5).isEmpty)
    }

    /// PostgreSQL: `FOR UPDATE SKIP LOCKED` hands each unit to exactly one of several claimers
    /// claiming at the same moment, none waiting on another.
    @Test(.enabled(if: TestDatabase.postgresEnabled))
    func concurrentClaimersNeverGetTheSameUnit() async throws {
        let databases = try TestEngine.postgres.openShared(4)
        let run = try Ledger(database: databases[0]).createRun(newRun())
        let queues = try queues(databases, run: run.id)
        try queues[0].enqueue((0..<200).map { entry(String(format: "u%03d", $0)) })
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for queue in queues {
                group.addTask {
                    try await Harness.offPool {
                        var mine: [String] = []
                        while true {
                            let batch = try queue.claim(limit: 3)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.fence.unit.unit)
                        }
                    }
                }
            }
            var all: [[String]] = []
            for try await mine in group { all.append(mine) }
            return all
        }
        let units = claimed.flatMap { $0 }
        #expect(units.count == 200 && Set(units).count == 200)
        #expect(claimed.filter { !$0.isEmpty }.count >= 2)
    }

    @Test(arguments: TestEngine.available)
    func anExpiredLeaseIsTakenOverAndTheLateCompletionIsFenced(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let ledger = Ledger(database: databases[0])
        let run = try ledger.createRun(newRun())
        let queues = try queues(databases, run: run.id, lease: .milliseconds(300))
        try queues[0].enqueue([entry("a")])
        let first = try #require(try queues[0].claim(limit: 1).first)
        // Not before the lease expires.
        #expect(try queues[1].claim(limit: 1).isEmpty)
        Thread.sleep(forTimeInterval: 0.4)
        let second = try #require(try queues[1].claim(limit: 1).first)
        #expect(second.attempt.attempt == 2 && second.takenFrom == "w0")
        let old = try #require(try ledger.attempts(runID: run.id).first { $0.id == first.attempt.id })
        #expect(old.state == .interrupted && old.errorCode == "lease_expired")

        // The first worker's late completion writes nothing, its output included.
        try databases[0].transaction { tx in try tx.execute("CREATE TABLE effects (unit TEXT NOT NULL)") }
        let late = #expect(throws: StoreError.self) {
            try Ledger(database: databases[0]).succeed(
                attemptID: first.attempt.id, name: "estate", outputHash: "h1", counters: [:], fence: first.fence
            ) { tx in try tx.execute("INSERT INTO effects (unit) VALUES ('late')") }
        }
        #expect(late?.code == .fenced)
        #expect(throws: StoreError.self) {
            try Ledger(database: databases[0]).end(
                attemptID: first.attempt.id, state: .failed, errorCode: "x", errorMessage: "late failure", counters: [:],
                fence: first.fence)
        }
        try queues[0].recordLateCompletion(attemptID: first.attempt.id, outcome: "succeeded")
        try Ledger(database: databases[1]).succeed(
            attemptID: second.attempt.id, name: "estate", outputHash: "h2", counters: [:], fence: second.fence
        ) { tx in try tx.execute("INSERT INTO effects (unit) VALUES ('a')") }
        #expect(try databases[0].query("SELECT unit FROM effects").map { try $0.string("unit") } == ["a"])
        #expect(try ledger.unitOutputs(name: "estate")[second.fence.unit]?.outputHash == "h2")
        #expect(try queues[0].outcomes() == [second.fence.unit: .succeeded(outputHash: "h2")])
        let workers = try WorkQueue.workers(database: databases[0], runID: run.id)
        #expect(workers.map(\.takeovers) == [0, 1] && workers.map(\.lateCompletions) == [1, 0])
        #expect(workers.map(\.unitsDone) == [0, 1])
        let recorded = try #require(try ledger.attempts(runID: run.id).first { $0.id == first.attempt.id })
        #expect(recorded.errorMessage?.contains("late completion (succeeded)") == true && recorded.state == .interrupted)
    }

    @Test(arguments: TestEngine.available)
    func aHeartbeatKeepsTheLease(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let run = try Ledger(database: databases[0]).createRun(newRun())
        let queues = try queues(databases, run: run.id, lease: .milliseconds(400))
        try queues[0].enqueue([entry("a"), entry("b")])
        #expect(try queues[0].claim(limit: 2).count == 2)
        for _ in 0..<4 {
            Thread.sleep(forTimeInterval: 0.15)
            #expect(try queues[0].heartbeat() == 2)
        }
        #expect(try queues[1].claim(limit: 2).isEmpty)
        let held = try WorkQueue.workers(database: databases[0], runID: run.id).map(\.unitsHeld)
        #expect(held == [2, 0])
    }

    @Test(arguments: TestEngine.available)
    func aStoppedWorkersUnitGoesBackToTheQueue(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let ledger = Ledger(database: databases[0])
        let run = try ledger.createRun(newRun())
        let queues = try queues(databases, run: run.id)
        try queues[0].enqueue([entry("a")])
        let first = try #require(try queues[0].claim(limit: 1).first)
        try ledger.end(
            attemptID: first.attempt.id, state: .interrupted, errorCode: "interrupted", errorMessage: "SIGTERM",
            counters: [:], fence: first.fence, requeue: true)
        let second = try #require(try queues[1].claim(limit: 1).first)
        #expect(second.attempt.attempt == 2 && second.takenFrom == nil)
        #expect(try queues[0].outcomes().isEmpty)
    }

    @Test(arguments: TestEngine.available)
    func unitsThatEndWithoutRunningAreRecordedOnce(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let ledger = Ledger(database: databases[0])
        let run = try ledger.createRun(newRun())
        let queues = try queues(databases, run: run.id)
        var reused = newAttempt(run.id, "a", .succeeded)
        reused.reusedFromRun = 1
        reused.outputHash = "h"
        #expect(try queues[0].recordFinal([(entry("a"), reused)]) == [reused.unit])
        // Another worker decides the same: nothing more is recorded.
        #expect(try queues[1].recordFinal([(entry("a"), reused)]).isEmpty)
        #expect(try ledger.attempts(runID: run.id).count == 1)
        #expect(try queues[1].outcomes() == [reused.unit: .succeeded(outputHash: "h")])
    }

    @Test(arguments: TestEngine.available)
    func aRunEndsOnceAndOnlyInItsNewestRound(_ engine: TestEngine) throws {
        let databases = try engine.openShared(1)
        let ledger = Ledger(database: databases[0])
        let run = try ledger.createRun(newRun())
        let first = try WorkQueue.startRound(database: databases[0], runID: run.id, mode: .pool, host: "h", pid: 1)
        let second = try WorkQueue.startRound(database: databases[0], runID: run.id, mode: .pool, host: "h", pid: 1)
        #expect(second == first + 1)
        #expect(try ledger.finishRun(id: run.id, state: .failed, round: first) == false)
        #expect(try ledger.finishRun(id: run.id, state: .succeeded, round: second) == true)
        #expect(try ledger.finishRun(id: run.id, state: .failed, round: second) == false)
        #expect(try ledger.run(id: run.id)?.state == .succeeded)
    }
}

/// GitHub credentials' budgets in the ledger: what keeps every worker together above a floor.
@Suite("Credential budgets")
struct CredentialBudgetTests {
    @Test(arguments: TestEngine.available)
    func reservationsKeepTheFloorAndReportsOnlyGoDownWithinAWindow(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let budgets = CredentialBudgets(database: databases[0])
        let other = CredentialBudgets(database: databases[1])
        try budgets.register("token:A", label: "token A", floor: 10)
        // Unknown until GitHub says: the first request goes.
        #expect(try budgets.reserve("token:A", points: 1) == nil)
        let reset = Date().addingTimeInterval(600)
        try budgets.settle("token:A", points: 1, remaining: 12, resetAt: reset)
        #expect(try other.reserve("token:A", points: 1) == nil) // 12 − 0 − 1 = 11 ≥ 10
        // 12 − 1 in flight − 2 = 9 < 10: wait for the reset, whichever worker asks.
        guard case .spent(let refused)? = try budgets.reserve("token:A", points: 2) else {
            Issue.record("a reservation past the floor was granted")
            return
        }
        #expect(abs(refused.timeIntervalSince(reset)) < 0.01)
        // A report from the same window never raises the number (answers arrive out of order)…
        try other.settle("token:A", points: 1, remaining: 11, resetAt: reset)
        try budgets.settle("token:A", points: 0, remaining: 20, resetAt: reset)
        var seen = try #require(try budgets.all().first)
        #expect(seen.remaining == 11 && seen.inFlight == 0 && seen.requests == 2 && seen.waits == 1)
        #expect(seen.label == "token A" && seen.floor == 10)
        // …a later window replaces it.
        try budgets.settle("token:A", points: 0, remaining: 50, resetAt: reset.addingTimeInterval(3600))
        seen = try #require(try budgets.all().first)
        #expect(seen.remaining == 50)
        // A credential nobody registered is not held back.
        #expect(try budgets.reserve("token:unknown", points: 5) == nil)
    }

    @Test(arguments: TestEngine.available)
    func aBudgetWhoseResetPassedIsUnknownAgain(_ engine: TestEngine) throws {
        let budgets = CredentialBudgets(database: try engine.openShared(1)[0])
        try budgets.register("token:A", label: "token A", floor: 10)
        try budgets.settle("token:A", points: 0, remaining: 10, resetAt: Date().addingTimeInterval(0.3))
        #expect(try budgets.reserve("token:A", points: 1) != nil)
        Thread.sleep(forTimeInterval: 0.4)
        #expect(try budgets.reserve("token:A", points: 1) == nil)
        #expect(try budgets.all().first?.remaining == nil)
    }

    @Test(arguments: TestEngine.available)
    func aUnitIsNotClaimedWhileItsCredentialIsAtItsFloor(_ engine: TestEngine) throws {
        let databases = try engine.openShared(1)
        let run = try Ledger(database: databases[0]).createRun(newRun())
        let round = try WorkQueue.startRound(database: databases[0], runID: run.id, mode: .pool, host: "h", pid: 1)
        let queue = WorkQueue(
            database: databases[0], runID: run.id, round: round, worker: "w", host: "h", pid: 1, lease: .seconds(60))
        try queue.join()
        let budgets = CredentialBudgets(database: databases[0])
        try budgets.register("token:A", label: "token A", floor: 10)
        try budgets.settle("token:A", points: 0, remaining: 10, resetAt: Date().addingTimeInterval(0.5))
        func entry(_ unit: String, _ credential: String?, priority: Int) -> QueueEntry {
            QueueEntry(
                unit: UnitKey(stage: "ingest", unit: unit), priority: priority, reason: "never ran", fingerprint: unit,
                fingerprintParts: [:], credential: credential)
        }
        try queue.enqueue([
            entry("a/x", "token:A", priority: 9), entry("b/y", "token:B", priority: 1), entry("c", nil, priority: 0),
        ])
        #expect(try queue.claim(limit: 5).map(\.fence.unit.unit) == ["b/y", "c"])
        Thread.sleep(forTimeInterval: 0.6)
        #expect(try queue.claim(limit: 5).map(\.fence.unit.unit) == ["a/x"])
    }

    /// `github.max_requests_per_minute` holds for every worker together: two workers' requests
    /// of one credential share one sliding window (here 5 a second instead of a minute), each
    /// request past it is told when the oldest leaves the window and reserves no points, and
    /// another credential is counted apart.
    @Test(arguments: TestEngine.available)
    func workersShareACredentialsRequestsPerMinute(_ engine: TestEngine) throws {
        let databases = try engine.openShared(2)
        let workers = databases.map { CredentialBudgets(database: $0) }
        for credential in ["token:A", "token:B"] { try workers[0].register(credential, label: credential, floor: 0) }
        let window = Duration.seconds(1)
        var granted = 0
        var throttled: [Date] = []
        let began = Date()
        for index in 0..<8 {
            switch try workers[index % 2].reserve("token:A", points: 1, perMinute: 5, window: window) {
            case nil: granted += 1
            case .throttled(let until)?: throttled.append(until)
            case .spent?: Issue.record("the budget is unknown: nothing is spent")
            }
        }
        #expect(granted == 5 && throttled.count == 3)
        let next = try #require(throttled.first)
        #expect(next > began && next <= Date().addingTimeInterval(1.01))
        // Only the granted requests hold points; the refused ones rolled theirs back.
        let seen = try #require(try workers[1].all().first { $0.credential == "token:A" })
        #expect(seen.inFlight == 5 && seen.requests == 5)
        #expect(try workers[0].reserve("token:B", points: 1, perMinute: 5, window: window) == nil)
        Thread.sleep(forTimeInterval: max(0, next.timeIntervalSinceNow) + 0.05)
        #expect(try workers[1].reserve("token:A", points: 1, perMinute: 5, window: window) == nil)
    }
}

/// A worker paused inside a transaction must not hold every other worker up: its session is
/// ended by the server after the idle limit, and the worker, running again, reconnects and
/// runs the transaction anew (it never committed).
@Test(.enabled(if: TestDatabase.postgresEnabled))
func aWorkerPausedInATransactionIsCutOffAndReconnects() throws {
    let url = try TestDatabase.requirePostgres()
    let connection = try PostgresConnection(url: url)
    try connection.reconnecting(idleInTransaction: .seconds(1))
    let paused = Database(connection: connection, displayName: "pg")
    let other = Database(connection: try PostgresConnection(url: url), displayName: "pg")
    let table = "paused_\(UInt32.random(in: 0...UInt32.max))"
    try other.transaction { tx in try tx.execute(SQL(unsafeSQL: "CREATE TABLE \(table) (id BIGINT PRIMARY KEY, v TEXT)")) }
    try other.transaction { tx in try tx.execute(SQL(unsafeSQL: "INSERT INTO \(table) VALUES (1, 'before')")) }
    var attempts = 0
    let written = try paused.transaction { tx in
        attempts += 1
        try tx.execute(SQL(unsafeSQL: "UPDATE \(table) SET v = 'paused' WHERE id = 1"))
        if attempts == 1 {
            // Paused holding the row: another session is not held up past the idle limit.
            Thread.sleep(forTimeInterval: 1.5)
        }
        return try tx.query(SQL(unsafeSQL: "SELECT v FROM \(table) WHERE id = 1")).first?.string("v")
    }
    #expect(written == "paused" && attempts == 2)
    try other.transaction { tx in try tx.execute(SQL(unsafeSQL: "UPDATE \(table) SET v = 'other' WHERE id = 1")) }
    #expect(try other.query(SQL(unsafeSQL: "SELECT v FROM \(table) WHERE id = 1")).first?.string("v") == "other")
    try other.transaction { tx in try tx.execute(SQL(unsafeSQL: "DROP TABLE \(table)")) }
}
