import Foundation
import JSON
import Testing

@testable import Ingest
@testable import Store

/// Multi-row statements (``Store/SQL/values(_:_:_:)``) and the page writes of ingest built on
/// them: one round trip for a page, with the results one statement per row gave.
@Suite("Many rows in one statement")
struct ManyRowsTests {
    @Test(arguments: TestEngine.available)
    func manyRowsAreBoundAndConflictsCountOnlyNewRows(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        let hostile = "x'); DROP TABLE runs; -- ünïcødé \t\n\\N $1 ?1"
        try database.transaction { tx in
            try tx.execute("CREATE TABLE many (id BIGINT PRIMARY KEY, label TEXT, score DOUBLE PRECISION)")
        }
        // 450 rows (three statements), the first 50 twice: the repeats within one statement and
        // across statements are both conflicts.
        let rows: [[SQLValue]] = (0..<450).map { index in
            let id = Int64(index < 50 ? index : index - 50)
            return [.integer(id), index % 7 == 0 ? .null : .text(hostile + String(id)), .real(Double(id) / 4)]
        }
        let inserted = try database.transaction { tx in
            var count = 0
            for chunk in SQL.chunks(rows) {
                count += try tx.query(
                    SQL.values("INSERT INTO many (id, label, score)", Array(chunk), "ON CONFLICT (id) DO NOTHING RETURNING id")
                ).count
            }
            return count
        }
        #expect(SQL.chunks(rows).count == 3)
        #expect(inserted == 400)
        let row = try #require(try database.query("SELECT label, score FROM many WHERE id = \(Int64(8))").first)
        #expect(try row.optionalString("label") == hostile + "8")
        #expect(try row.value("score") == .real(2))
        #expect(try database.query("SELECT COUNT(*) AS n FROM runs").first?.int("n") == 0)
    }

    /// A page may list an item twice (an item that moved to the head during the read is taken
    /// again from the page's head): its newest state wins, as it did with a statement per item,
    /// and an older snapshot landing later never overwrites it.
    @Test(arguments: TestEngine.available)
    func aPageThatListsAnItemTwiceKeepsItsNewestState(_ engine: TestEngine) throws {
        let database = try engine.openMigrated()
        let store = IngestStore(database: database, runID: 1, slug: "acme/widgets", windowStart: Date(timeIntervalSince1970: 0))
        func state(_ number: Int64, _ state: String, at seconds: Double) -> ItemState {
            ItemState(
                kind: "pull_request", key: "pr\(number)", nodeId: "PR_\(number)", number: number, state: state,
                updatedAt: Date(timeIntervalSince1970: 1_700_000_000 + seconds))
        }
        var write = PageWrite(
            stream: .pullRequestsUpdated, checkpoint: Checkpoint(since: Date(timeIntervalSince1970: 0)),
            items: [
                state(1, "OPEN", at: 10), state(2, "OPEN", at: 5), state(1, "MERGED", at: 20), state(1, "CLOSED", at: 15),
                state(3, "OPEN", at: 1), state(3, "CLOSED", at: 1),
            ],
            seen: ["pr1", "pr2", "pr1", "pr3"])
        try store.save(write)
        write.items = [state(2, "CLOSED", at: 4)]
        write.seen = ["pr2"]
        try store.save(write)
        let states = try database.query("SELECT item_key, state FROM item_states ORDER BY item_key").map {
            (try $0.string("item_key"), try $0.string("state"))
        }
        #expect(states.map(\.0) == ["pr1", "pr2", "pr3"])
        // The newest time wins; of equal times, the later in the page (as a statement each).
        #expect(states.map(\.1) == ["MERGED", "OPEN", "CLOSED"])
        #expect(try store.seen(.pullRequestsUpdated) == 3)
    }
}
