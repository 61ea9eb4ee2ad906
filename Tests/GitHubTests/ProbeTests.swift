import Foundation
@testable import Ingest
import JSON
import Manifest
import Testing

/// A batched probe calls a repository quiet only when every stream it would read has nothing
/// since its start; any change, or anything missing from the answer, means "read it".
struct ProbeTests {
    static let since = Date(timeIntervalSince1970: 1_795_000_000)

    static var target: Prober.Target {
        var target = Prober.Target(
            repository: Repository(owner: "acme", name: "a", defaultBranch: "main", documentationPaths: ["docs"], project: nil),
            plan: IngestSession.Plan())
        target.commitsSince = since
        target.pullsSince = since
        target.issuesSince = since
        target.documentation = [("docs", since)]
        return target
    }

    static func answer(commits: Int64 = 0, documentation: Int64 = 0, newestPull: String? = "2026-11-01T00:00:00Z",
                       issues: Int64 = 0, empty: Bool = false, branch: Bool = true) -> JSONValue {
        let histories: JSONValue = ["c": ["totalCount": .int(commits)], "d0": ["totalCount": .int(documentation)]]
        return [
            "isEmpty": .bool(empty), "ref": branch ? ["target": histories] : .null,
            "pullRequests": ["nodes": .array(newestPull.map { [["updatedAt": .string($0)]] } ?? [])],
            "issues": ["totalCount": .int(issues)],
        ]
    }

    static let cases: [(String, JSONValue, Bool)] = [
        ("nothing changed", answer(), true),
        ("no pull requests at all", answer(newestPull: nil), true),
        ("an empty repository", answer(empty: true, branch: false), true),
        ("a commit", answer(commits: 1), false),
        ("a documentation change", answer(documentation: 2), false),
        ("a pull request updated at the stream's start", answer(newestPull: "2026-11-18T11:06:40Z"), false),
        ("a pull request updated after it", answer(newestPull: "2026-11-20T00:00:00Z"), false),
        ("an issue updated", answer(issues: 1), false),
        ("the branch is missing", answer(branch: false), false),
        ("no answer", JSONValue.null, false),
        ("an answer without the issues part", ["isEmpty": false, "ref": ["target": ["c": ["totalCount": 0], "d0": ["totalCount": 0]]],
                                               "pullRequests": ["nodes": []]], false),
    ]

    @Test(arguments: cases)
    func quietOnlyWhenNothingChanged(_ case: String, _ answer: JSONValue, _ quiet: Bool) {
        #expect(Prober.isQuiet(answer, target: Self.target) == quiet, "\(`case`)")
    }

    @Test func onlyTheStreamsAskedForCount() {
        var target = Self.target
        target.issuesSince = nil
        target.documentation = []
        #expect(Prober.isQuiet(Self.answer(documentation: 3, issues: 5), target: target))
        #expect(target.connections == 2)
    }
}
