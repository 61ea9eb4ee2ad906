import Evidence
import Foundation
import Testing

/// Review flow's rules on one pull request at a time (docs/metrics.md, "Review flow"): when it
/// became ready, its time as a draft, and clocks out of order, which never give a negative
/// duration. The end-to-end cases through the fake GitHub are in EndToEndTests.
struct ReviewFlowTests {
    static let created = at("2026-11-14T00:00:00Z")
    static let hour = 3_600.0

    static func moment(_ hours: Double) -> Date { created.addingTimeInterval(hours * hour) }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let isDraftNow: Bool
        /// Hours after creation, ready (true) or converted to draft.
        let transitions: [(Double, Bool)]
        let openedAsDraft: Bool
        /// Hours after creation; nil: no ready_at.
        let readyAt: Double?
        /// Hours as a draft before hour 100 (a merge).
        let draftHours: Double
        /// A draft at hour 50?
        let draftAt50: Bool

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "never a draft", isDraftNow: false, transitions: [], openedAsDraft: false, readyAt: 0, draftHours: 0,
            draftAt50: false),
        Case(
            name: "a draft never readied", isDraftNow: true, transitions: [], openedAsDraft: true, readyAt: nil,
            draftHours: 100, draftAt50: true),
        Case(
            name: "readied, converted back, readied again: the first ready counts", isDraftNow: false,
            transitions: [(10, true), (20, false), (60, true)], openedAsDraft: true, readyAt: 10, draftHours: 50,
            draftAt50: true),
        Case(
            name: "ready at creation, converted to draft later", isDraftNow: true, transitions: [(30, false)],
            openedAsDraft: false, readyAt: 0, draftHours: 70, draftAt50: true),
        Case(
            name: "a ready-for-review clocked before the creation is taken at it", isDraftNow: false,
            transitions: [(-2, true)], openedAsDraft: true, readyAt: 0, draftHours: 0, draftAt50: false),
        Case(
            name: "a repeated ready-for-review changes nothing", isDraftNow: false, transitions: [(5, true), (8, true)],
            openedAsDraft: true, readyAt: 5, draftHours: 5, draftAt50: false),
        Case(
            name: "readied after the merge: a draft until it", isDraftNow: false, transitions: [(120, true)],
            openedAsDraft: true, readyAt: 120, draftHours: 100, draftAt50: true),
    ]

    @Test(arguments: cases)
    func readyAtDraftTimeAndDraftStateFollowTheTransitions(_ example: Case) throws {
        let facts = FlowFacts(
            isDraftNow: example.isDraftNow,
            transitions: example.transitions.map { FlowFacts.Transition(at: Self.moment($0.0), ready: $0.1) },
            responses: [], reviews: [], changedLines: 0)
        #expect(facts.openedAsDraft == example.openedAsDraft)
        #expect(facts.readyAt(created: Self.created) == example.readyAt.map(Self.moment))
        #expect(facts.isDraft(at: Self.moment(50), created: Self.created) == example.draftAt50)
        let pull = PullRequestFacts(
            number: 1, createdAt: Self.created, mergedAt: Self.moment(100), closedAt: Self.moment(100), flow: facts)
        let row = try #require(ReviewFlow.row(pull, author: "ada"))
        #expect(row.draftSeconds == (example.openedAsDraft ? example.draftHours * Self.hour : nil))
    }

    /// A review clocked before the pull request was created: it is before the merge, so the
    /// pull request was reviewed (one round), but it is before ready, so no pickup — never a
    /// negative one.
    @Test func aReviewBeforeTheCreationReviewsButPicksNothingUp() {
        let facts = FlowFacts(
            isDraftNow: false, transitions: [], responses: [Self.moment(-1)],
            reviews: [FlowFacts.Review(at: Self.moment(-1), approved: true)], changedLines: 12)
        let pull = PullRequestFacts(
            number: 7, createdAt: Self.created, mergedAt: Self.moment(5), closedAt: Self.moment(5), flow: facts)
        let flow = ReviewFlow.compute(start: windowStart, end: windowEnd, pullRequests: [pull], issues: [])
        #expect(flow.pullRequestsReady == 1 && flow.pullRequestsAwaitingFirstResponse == 1)
        #expect(flow.pickupSeconds.count == 0 && flow.approvalSeconds.count == 0)
        #expect(flow.mergedWithoutReview == 0 && flow.reviewRounds.median == 1)
        #expect(flow.sizes?["s"] == 1)
    }

    @Test(arguments: [
        (0, "xs"), (9, "xs"), (10, "s"), (29, "s"), (30, "m"), (99, "m"), (100, "l"), (499, "l"),
        (500, "xl"), (999, "xl"), (1_000, "xxl"), (250_000, "xxl"),
    ])
    func sizesAreBucketedByChangedLines(lines: Int, size: String) {
        #expect(ReviewFlow.size(lines) == size)
    }
}
