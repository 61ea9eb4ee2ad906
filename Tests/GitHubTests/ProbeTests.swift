import Foundation
import JSON
import Manifest
import Testing

@testable import Ingest

/// A batched probe calls a repository quiet only when every stream it would read has nothing
/// new: the branch's tip is the one its history was read from, no pull request or issue was
/// updated since, and as many are open as ingest believes. Any change, or anything missing
/// from the answer, means "read it".
struct ProbeTests {
    static let since = Date(timeIntervalSince1970: 1_795_000_000)

    static var target: Prober.Target {
        var target = Prober.Target(
            repository: Repository(
                owner: "acme", name: "a", defaultBranch: nil,
                documentationPaths: ["docs"], project: nil))
        target.tip = .some("tip1")
        target.pullsSince = since
        target.issuesSince = since
        target.openPulls = 3
        target.openIssues = 7
        return target
    }

    static func answer(
        tip: String? = "tip1", newestPull: String? = "2026-11-01T00:00:00Z", openPulls: Int64 = 3,
        issues: Int64 = 0, openIssues: Int64 = 7, empty: Bool = false
    ) -> JSONValue {
        [
            "isEmpty": .bool(empty), "branch": tip.map { ["target": ["oid": .string($0)]] } ?? .null,
            "pullRequests": ["nodes": .array(newestPull.map { [["updatedAt": .string($0)]] } ?? [])],
            "openPulls": ["totalCount": .int(openPulls)],
            "issues": ["totalCount": .int(issues)], "openIssues": ["totalCount": .int(openIssues)],
        ]
    }

    static let cases: [(String, JSONValue, Bool)] = [
        ("nothing changed", answer(), true),
        ("no pull requests at all", answer(newestPull: nil), true),
        ("the branch moved (a commit landed, whatever its date)", answer(tip: "tip2"), false),
        ("a pull request updated at the stream's start", answer(newestPull: "2026-11-18T11:06:40Z"), false),
        ("a pull request updated after it", answer(newestPull: "2026-11-20T00:00:00Z"), false),
        ("an issue updated", answer(issues: 1), false),
        ("an issue left the repository (one fewer open, nothing updated)", answer(openIssues: 6), false),
        ("a pull request closed without a visible update", answer(openPulls: 2), false),
        ("the branch is missing", answer(tip: nil), false),
        ("no answer", JSONValue.null, false),
        (
            "an answer without the issues part",
            [
                "isEmpty": false, "branch": ["target": ["oid": "tip1"]],
                "pullRequests": ["nodes": []], "openPulls": ["totalCount": 3],
            ], false
        ),
    ]

    @Test(arguments: cases)
    func quietOnlyWhenNothingChanged(_ case: String, _ answer: JSONValue, _ quiet: Bool) {
        #expect(Prober.isQuiet(answer, target: Self.target) == quiet, "\(`case`)")
    }

    @Test func onlyTheStreamsAskedForCount() {
        var target = Self.target
        target.issuesSince = nil
        #expect(Prober.isQuiet(Self.answer(issues: 5, openIssues: 1), target: target))
        #expect(target.connections == 2)
    }

    /// History read from a tip nobody recorded (coverage from before tips were kept) is never
    /// quiet; an empty repository that is still empty is.
    @Test func anUnknownTipIsNeverQuietAndAnEmptyRepositoryStaysQuiet() {
        var unknown = Self.target
        unknown.tip = .some(nil)
        #expect(!Prober.isQuiet(Self.answer(), target: unknown))
        #expect(Prober.isQuiet(Self.answer(tip: nil, empty: true), target: unknown))
        #expect(!Prober.isQuiet(Self.answer(tip: nil, empty: true), target: Self.target))
    }
}
