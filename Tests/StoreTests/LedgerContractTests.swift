import Foundation
import JSON
import PostgresDriver
import SQLiteDriver
import TestSupport
import Testing

@testable import Store

/// The engines the contract suite runs against. PostgreSQL runs when `PG_TEST_CONNINFO` is set
/// (`make test` starts a server and sets it); otherwise those cases are left out — except in CI,
/// where they run and fail without a server (``TestSupport/TestDatabase``).
enum TestEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var available: [TestEngine] { TestDatabase.postgresEnabled ? [.sqlite, .postgres] : [.sqlite] }

    /// A fresh, migrated, empty store: a temp file, or a new schema in the test database.
    func open() throws -> Database {
        switch self {
        case .sqlite:
            let path = NSTemporaryDirectory() + "ghillie-test-\(UUID().uuidString).sqlite"
            return Database(connection: try SQLiteConnection(path: path), displayName: path)
        case .postgres:
            let connection = try PostgresConnection(url: try TestDatabase.requirePostgres())
            let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try connection.executeScript("CREATE SCHEMA \(schema); SET search_path TO \(schema)")
            return Database(connection: connection, displayName: "postgres")
        }
    }

    func openMigrated() throws -> Database {
        let database = try open()
        try Migrator().migrate(database)
        return database
    }
}

func newRun(_ name: String = "estate", start: Double = 1_700_000_000) -> NewRun {
    NewRun(
        name: name, manifestPath: "m.yaml", manifestSHA256: "abc", windowSpec: "{\"days\":14}", gitCommit: nil,
        windowStart: Date(timeIntervalSince1970: start), windowEnd: Date(timeIntervalSince1970: start + 1_209_600),
        host: "host", pid: 42, invocation: "ghillie-run m.yaml")
}

func newAttempt(_ run: Int64, _ unit: String, _ state: UnitState = .running) -> NewAttempt {
    NewAttempt(
        runID: run, unit: UnitKey(stage: "ingest", unit: unit), state: state, reason: "never ran",
        fingerprint: "fp-" + unit, fingerprintParts: ["manifest": "m", "code": "v1"])
}

@Suite("Ledger contract")
struct LedgerContractTests {
    @Test(arguments: TestEngine.available)
    func migrationsApplyOnceAndAreVerified(_ engine: TestEngine) throws {
        let database = try engine.open()
        #expect(try Migrator().migrate(database) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        #expect(try Migrator().migrate(database) == [])
        try database.transaction { tx in
            try tx.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        }
        // Every shipped migration is pinned below (shippedMigrationsAreFrozen).
        #expect(Migrations.all.map(\.version) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let altered = #expect(throws: StoreError.self) { try Migrator().migrate(database) }
        #expect(altered?.code == .migration)
    }

    @Test(arguments: TestEngine.available)
    func aNewerSchemaIsRefused(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        try database.transaction { tx in
            try tx.execute(
                """
                INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'x', 'now')
                """)
        }
        let error = #expect(throws: StoreError.self) { try Migrator().migrate(database) }
        #expect(error?.message.contains("version 99") == true)
    }

    @Test(arguments: TestEngine.available)
    func runsAreCreatedListedAndFinished(_ engine: TestEngine) throws {
        let ledger = Ledger(database: try engine.openMigrated())
        let first = try ledger.createRun(newRun())
        let second = try ledger.createRun(newRun())
        _ = try ledger.createRun(newRun("other"))
        #expect(first.state == .running && first.windowStart == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(try ledger.latestRun(name: "estate")?.id == second.id)
        #expect(try ledger.runs(name: "estate", limit: 10).map(\.id) == [second.id, first.id])
        #expect(try ledger.runs(name: nil, limit: 2).count == 2)
        try ledger.finishRun(id: first.id, state: .failed)
        let finished = try #require(try ledger.run(id: first.id))
        #expect(finished.state == .failed && finished.finishedAt != nil)
        try ledger.reopenRun(id: first.id, host: "h2", pid: 7)
        let reopened = try #require(try ledger.run(id: first.id))
        #expect(reopened.state == .running && reopened.finishedAt == nil && reopened.pid == 7)
    }

    @Test(arguments: TestEngine.available)
    func successAndOutputAreOneTransaction(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        let ledger = Ledger(database: database)
        try database.transaction { tx in try tx.execute("CREATE TABLE effects (unit TEXT NOT NULL)") }
        let run = try ledger.createRun(newRun())
        let attempt = try ledger.start(newAttempt(run.id, "acme/a"))
        #expect(attempt.attempt == 1 && attempt.state == .running && attempt.startedAt != nil)

        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try ledger.succeed(attemptID: attempt.id, name: "estate", outputHash: "h", counters: [:]) { tx in
                try tx.execute("INSERT INTO effects (unit) VALUES ('acme/a')")
                throw Boom()
            }
        }
        #expect(try database.query("SELECT unit FROM effects").isEmpty)
        #expect(try ledger.latestAttempts(runID: run.id)[attempt.unit]?.state == .running)
        #expect(try ledger.unitOutputs(name: "estate").isEmpty)

        try ledger.succeed(attemptID: attempt.id, name: "estate", outputHash: "h", counters: ["pages": 3]) { tx in
            try tx.execute("INSERT INTO effects (unit) VALUES ('acme/a')")
        }
        #expect(try database.query("SELECT unit FROM effects").count == 1)
        let done = try #require(try ledger.latestAttempts(runID: run.id)[attempt.unit])
        #expect(done.state == .succeeded && done.outputHash == "h" && done.counters == ["pages": 3])
        let output = try #require(try ledger.unitOutputs(name: "estate")[attempt.unit])
        #expect(output.fingerprint == "fp-acme/a" && output.fingerprintParts == ["manifest": "m", "code": "v1"])

        // A second success for the same attempt is refused: it is no longer running.
        #expect(throws: StoreError.self) {
            try ledger.succeed(attemptID: attempt.id, name: "estate", outputHash: "h2", counters: [:])
        }
    }

    @Test(arguments: TestEngine.available)
    func attemptsNumberFailuresAndInterruptions(_ engine: TestEngine) throws {
        let ledger = Ledger(database: try engine.openMigrated())
        let run = try ledger.createRun(newRun())
        let first = try ledger.start(newAttempt(run.id, "acme/a"))
        try ledger.end(
            attemptID: first.id, state: .failed, errorCode: "http_502", errorMessage: "bad gateway",
            counters: ["requests": 2])
        let second = try ledger.start(newAttempt(run.id, "acme/a"))
        let other = try ledger.start(newAttempt(run.id, "acme/b"))
        #expect(second.attempt == 2 && other.attempt == 1)
        #expect(try ledger.interruptUnfinished(runID: run.id, message: "process died") == 2)
        let attempts = try ledger.attempts(runID: run.id)
        #expect(attempts.map(\.state) == [.failed, .interrupted, .interrupted])
        #expect(attempts[0].errorCode == "http_502" && attempts[0].counters == ["requests": 2])
        #expect(attempts[1].errorMessage == "process died")
    }

    @Test(arguments: TestEngine.available)
    func reusedAndSkippedUnitsAreRecordedInOneBatch(_ engine: TestEngine) throws {
        let ledger = Ledger(database: try engine.openMigrated())
        let run = try ledger.createRun(newRun())
        var reused = newAttempt(run.id, "acme/a", .succeeded)
        reused.reusedFromRun = 1
        reused.outputHash = "h"
        var skipped = newAttempt(run.id, "acme/b", .skipped)
        skipped.errorCode = "upstream_failed"
        try ledger.record([reused, skipped])
        let latest = try ledger.latestAttempts(runID: run.id)
        #expect(latest[reused.unit]?.reusedFromRun == 1 && latest[reused.unit]?.finishedAt != nil)
        #expect(latest[skipped.unit]?.state == .skipped)
    }

    @Test(arguments: TestEngine.available)
    func valuesAreBoundNeverSpliced(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        let hostile = "x'); DROP TABLE runs; -- ünïcødé \t\n\\N"
        var run = newRun(hostile)
        run.invocation = hostile
        let ledger = Ledger(database: database)
        let created = try ledger.createRun(run)
        #expect(created.name == hostile && created.invocation == hostile)
        var bulk: [[SQLValue]] = []
        for index in 0..<1000 {
            let label: SQLValue = index % 10 == 0 ? .null : .text(hostile + String(index))
            bulk.append([.integer(Int64(index)), label, .real(Double(index) / 4)])
        }
        try database.transaction { tx in
            try tx.execute("CREATE TABLE bulk (id BIGINT NOT NULL, label TEXT, score DOUBLE PRECISION)")
            try tx.insertMany(table: "bulk", columns: ["id", "label", "score"], rows: bulk)
        }
        let rows = try database.query("SELECT id, label, score FROM bulk WHERE id = \(Int64(7))")
        #expect(try rows.first?.optionalString("label") == hostile + "7")
        #expect(try rows.first?.value("score") == .real(1.75))
        #expect(throws: StoreError.self) { try rows.first?.value("scroe") }
        #expect(try database.query("SELECT COUNT(*) AS n FROM bulk WHERE label IS NULL").first?.int("n") == 100)
    }
}

@Suite("Run lock")
struct RunLockTests {
    func holder(pid: Int = Int(ProcessInfo.processInfo.processIdentifier), host: String? = nil) -> LockHolder {
        let current = LockHolder.current()
        return LockHolder(
            host: host ?? current.host, pid: pid,
            processStart: ProcessLiveness.startTime(pid: pid) ?? "", token: UUID().uuidString)
    }

    @Test(arguments: TestEngine.available)
    func aSecondHolderIsRefusedWithTheHoldersName(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        let name = "estate-" + UUID().uuidString
        let first = RunLock(database: database, name: name, holder: holder())
        #expect(try first.acquire().tookOverFrom == nil)
        try first.attach(runID: 12)
        let otherDatabase: Database
        switch engine {
        case .sqlite: otherDatabase = database
        case .postgres:
            // A second session; same schema so the lock row is visible.
            let schema = try database.query("SELECT current_schema() AS s").first?.string("s") ?? "public"
            let connection = try PostgresConnection(url: try TestDatabase.requirePostgres())
            try connection.executeScript("SET search_path TO \(schema)")
            otherDatabase = Database(connection: connection, displayName: "second")
        }
        let second = RunLock(database: otherDatabase, name: name, holder: holder())
        let error = #expect(throws: StoreError.self) { try second.acquire() }
        #expect(error?.code == .locked)
        #expect(
            error?.message.contains("pid \(ProcessInfo.processInfo.processIdentifier) on \(LockHolder.current().host)") == true)
        #expect(error?.message.contains("(run 12)") == true)
        #expect(try first.heartbeat())
        try first.release()
        #expect(try second.acquire().tookOverFrom == nil)
        #expect(try !first.heartbeat())
    }

    @Test func aDeadHoldersLockIsTakenOver() throws {
        let database = try TestEngine.sqlite.openMigrated()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = RunLock(database: database, name: "estate", holder: holder(pid: Int(child.processIdentifier)))
        _ = try dead.acquire()
        let next = RunLock(database: database, name: "estate", holder: holder())
        let taken = try next.acquire()
        #expect(taken.tookOverFrom?.pid == Int(child.processIdentifier))
    }

    @Test func anotherHostsStaleHeartbeatIsTakenOver() throws {
        let database = try TestEngine.sqlite.openMigrated()
        let remote = RunLock(database: database, name: "estate", holder: holder(pid: 1, host: "elsewhere"))
        _ = try remote.acquire()
        let fresh = RunLock(database: database, name: "estate", holder: holder(), staleAfter: 600)
        #expect(throws: StoreError.self) { try fresh.acquire() }
        let impatient = RunLock(database: database, name: "estate", holder: holder(), staleAfter: -1)
        #expect(try impatient.acquire().tookOverFrom?.host == "elsewhere")
    }

    @Test(.enabled(if: TestDatabase.postgresEnabled))
    func postgresReleasesTheLockWhenTheSessionDies() throws {
        let url = try TestDatabase.requirePostgres()
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        func session() throws -> Database {
            let connection = try PostgresConnection(url: url)
            try connection.executeScript("CREATE SCHEMA IF NOT EXISTS \(schema); SET search_path TO \(schema)")
            return Database(connection: connection, displayName: "pg")
        }
        do {
            let first = try session()
            try Migrator().migrate(first)
            _ = try RunLock(database: first, name: "pg-estate-\(schema)", holder: holder(pid: 999_999)).acquire()
        } // `first` closes here: its session, and with it the advisory lock, is gone.
        // The server ends the dead session asynchronously; give it a moment.
        let lock = RunLock(database: try session(), name: "pg-estate-\(schema)", holder: holder())
        var taken: LockAcquisition?
        for _ in 0..<50 {
            taken = try? lock.acquire()
            if taken != nil { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(taken?.tookOverFrom?.pid == 999_999)
    }
}

/// Shipped migrations never change: editing one's SQL changes its checksum and fails here
/// (stores in the field would refuse the new binary). Add a migration instead.
@Test(arguments: [
    (1, Engine.sqlite, "6aee70a95d4f1b863a51b452de4e3a4f72e6b0e08f19cfbc03332000473c8e35"),
    (1, Engine.postgres, "abd3d5eebbea6475adfc50273fe41fe07de214fbe9f7b4497e5795e0185e7531"),
    (2, Engine.sqlite, "7847a98f43e265b9f8cbe07f8bbef87773c0059930a367fc8a316144b672116a"),
    (2, Engine.postgres, "4c411b95b5a5c661b0c2f102234fa2020bebf6c6e1a44a2b3cddb522265af82f"),
    (3, Engine.sqlite, "ea5baa32badd7d72c1d898acabe5840990fbf4284509354d54a80fb84f2ec361"),
    (3, Engine.postgres, "e8336ae70a0514dd5473ec51e9877d03fc0e1ce8baf76d86af9ca422aff947f4"),
    (4, Engine.sqlite, "b1667735db3bcc2452912365e697a2f1ecf22e82c085b83e5a87d81982f7867d"),
    (4, Engine.postgres, "b1667735db3bcc2452912365e697a2f1ecf22e82c085b83e5a87d81982f7867d"),
    (5, Engine.sqlite, "518923c2e6ec4fd11a1b5136784a4350067f69110b6ebc2ee0e9fb88befec51d"),
    (5, Engine.postgres, "e6b200a0ece4634b74f6694198480cbde809b46259d138993d228d318af4ec3b"),
    (6, Engine.sqlite, "446f05fe09810e4cdec0b083469768ad6726b8edf9e31133d1569cb8621feeb7"),
    (6, Engine.postgres, "12325e506697e0be0377a7b98c47d8f5dff1ee0b89b7f8a1c71763cd72762c27"),
    (7, Engine.sqlite, "0d8c2d18e0673ef7d786e0003089a53558d240612d00d768f9af8251cdd53075"),
    (7, Engine.postgres, "c324a2ccdc55d76806400699aed2533c68ae064c8ef139da0234f1399c163780"),
    (8, Engine.sqlite, "56848a465b073f485ffcfa69558fce6f92824c1206c965127e8d358c0f9f2911"),
    (8, Engine.postgres, "ad79edfdcbcb3864ef1df1f0acaa7b4ccd9357532706b0b3cdcca5f55c1417f2"),
    (9, Engine.sqlite, "3c945f57bfc7b0bcc73ce0152b52af55005a39839462cced358766b5e27d44a2"),
    (9, Engine.postgres, "e00c86d373506434343555c1a197e366fc5d2691a7bcd640cff180dcc52d3070"),
    (10, Engine.sqlite, "8f46fd8268b1d2c64c99b8793c3dfe0a886469c743fc213647ecf1c983a10721"),
    (10, Engine.postgres, "8f46fd8268b1d2c64c99b8793c3dfe0a886469c743fc213647ecf1c983a10721"),
    (11, Engine.sqlite, "1cd3d5c4326833fb9f129c32534f094565a6274aca0204c623aca6de9777ff82"),
    (11, Engine.postgres, "26ddfaf467e6f1361a2edec370e0b935335bfa61c4cb17a0b2331f29276a0149"),
])
func shippedMigrationsAreFrozen(_ version: Int, _ engine: Engine, _ checksum: String) throws {
    let migration = try #require(Migrations.all.first { $0.version == version })
    #expect(migration.checksum(for: engine) == checksum)
}

/// Names spliced into SQL text are checked to be names.
@Test(arguments: [
    ("runs", true), ("pull_requests", true), ("_x9", true), ("9x", false), ("", false),
    ("runs; DROP TABLE runs", false), ("a-b", false), ("naïve", false),
])
func onlyNamesAreIdentifiers(_ name: String, _ valid: Bool) {
    #expect(((try? SQL.Identifier(name)) != nil) == valid)
}
