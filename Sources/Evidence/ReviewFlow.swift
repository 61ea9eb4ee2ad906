public import Foundation
import JSON

/// What review flow needs to know of a pull request beyond its dates (docs/metrics.md,
/// "Review flow"): its transitions between draft and ready, and what people other than its
/// author did on it. Responders are already filtered (``Entities/Responders``): no author, no
/// bot, no ignored login is among `responses` or `reviews`.
public struct FlowFacts: Sendable, Hashable {
    /// A ready-for-review (`ready == true`) or convert-to-draft transition.
    public struct Transition: Sendable, Hashable {
        public let at: Date
        public let ready: Bool

        public init(at: Date, ready: Bool) {
            self.at = at
            self.ready = ready
        }
    }

    /// A submitted review by a responder (not a reply container).
    public struct Review: Sendable, Hashable {
        public let at: Date
        public let approved: Bool
        public let changesRequested: Bool

        public init(at: Date, approved: Bool = false, changesRequested: Bool = false) {
            self.at = at
            self.approved = approved
            self.changesRequested = changesRequested
        }
    }

    public let isDraftNow: Bool
    /// In time order.
    public let transitions: [Transition]
    /// Reviews, issue comments and inline comments by responders, whenever made.
    public let responses: [Date]
    public let reviews: [Review]
    /// Additions + deletions outside generated/vendored/lock files and noise paths; nil when
    /// the pull request's files were not collected, or not needed (merged outside the windows
    /// measured, which no size counts).
    public let changedLines: Int?

    public init(
        isDraftNow: Bool, transitions: [Transition], responses: [Date], reviews: [Review], changedLines: Int?
    ) {
        self.isDraftNow = isDraftNow
        self.transitions = transitions
        self.responses = responses.sorted()
        self.reviews = reviews.sorted { $0.at < $1.at }
        self.changedLines = changedLines
    }

    /// Opened as a draft: its first transition readies it, or it has none and is a draft now.
    public var openedAsDraft: Bool { transitions.first.map(\.ready) ?? isDraftNow }

    /// When it became ready for review: its creation, or — opened as a draft — its first
    /// ready-for-review (never before its creation, whatever the clocks say); nil for a draft
    /// never readied.
    public func readyAt(created: Date) -> Date? {
        guard openedAsDraft else { return created }
        return transitions.first { $0.ready }.map { max($0.at, created) }
    }

    /// The spans it was a draft: [from, to), `to` nil while it still is.
    public func draftSpans(created: Date) -> [(from: Date, to: Date?)] {
        var spans: [(from: Date, to: Date?)] = []
        var open: Date? = openedAsDraft ? created : nil
        for transition in transitions {
            let at = max(transition.at, created)
            if transition.ready, let from = open {
                spans.append((from, at))
                open = nil
            } else if !transition.ready, open == nil {
                open = at
            }
        }
        if let from = open { spans.append((from, nil)) }
        return spans
    }

    /// Whether it was a draft at `moment`.
    public func isDraft(at moment: Date, created: Date) -> Bool {
        draftSpans(created: created).contains { $0.from <= moment && $0.to.map { moment < $0 } ?? true }
    }
}

/// Review flow of people's pull requests and issues over a window (docs/metrics.md, "Review
/// flow"). Each duration is in wall-clock seconds.
public struct ReviewFlow: Sendable, Hashable, Codable {
    public var pullRequestsReady = 0
    public var pullRequestsAwaitingFirstResponse = 0
    public var pullRequestFirstResponseSeconds = Summary([])
    public var pickupSeconds = Summary([])
    public var approvalSeconds = Summary([])
    public var approvalToMergeSeconds = Summary([])
    public var mergedWithoutReview = 0
    /// The numbers of the pull requests merged without review, ascending.
    public var mergedWithoutReviewNumbers: [Int] = []
    public var reviewRounds = Summary([])
    public var draftSeconds = Summary([])
    /// Merged pull requests by size (`xs` … `xxl`); nil when changed files were not collected.
    public var sizes: [String: Int]?
    public var awaitingReviewSeconds = Summary([])
    public var issuesOpened = 0
    public var issuesAwaitingFirstResponse = 0
    public var issueFirstResponseSeconds = Summary([])

    enum CodingKeys: String, CodingKey {
        case pullRequestsReady = "pull_requests_ready"
        case pullRequestsAwaitingFirstResponse = "pull_requests_awaiting_first_response"
        case pullRequestFirstResponseSeconds = "pull_request_first_response_seconds"
        case pickupSeconds = "pickup_seconds"
        case approvalSeconds = "approval_seconds"
        case approvalToMergeSeconds = "approval_to_merge_seconds"
        case mergedWithoutReview = "merged_without_review"
        case mergedWithoutReviewNumbers = "merged_without_review_numbers"
        case reviewRounds = "review_rounds"
        case draftSeconds = "draft_seconds"
        case sizes
        case awaitingReviewSeconds = "awaiting_review_seconds"
        case issuesOpened = "issues_opened"
        case issuesAwaitingFirstResponse = "issues_awaiting_first_response"
        case issueFirstResponseSeconds = "issue_first_response_seconds"
    }

    /// Size buckets by changed lines: XS 0–9, S 10–29, M 30–99, L 100–499, XL 500–999, XXL 1000+.
    public static let sizeBuckets: [(name: String, from: Int)] = [
        ("xs", 0), ("s", 10), ("m", 30), ("l", 100), ("xl", 500), ("xxl", 1000),
    ]

    public static func size(_ lines: Int) -> String {
        sizeBuckets.last { lines >= $0.from }?.name ?? "xs"
    }

    /// One pull request's flow, as the `pull_request_flow` dataset lists it.
    public struct Row: Sendable, Hashable, Codable {
        public let number: Int
        public let author: String
        public let createdAt: String
        public let readyAt: String?
        public let firstResponseAt: String?
        public let firstReviewAt: String?
        public let firstApprovalAt: String?
        public let mergedAt: String?
        /// Merged: reviewed by another person at or before the merge; open or closed: reviewed at all.
        public let reviewed: Bool
        public let rounds: Int?
        public let draftSeconds: Double?
        public let changedLines: Int?
        public let size: String?

        enum CodingKeys: String, CodingKey {
            case number, author
            case createdAt = "created_at"
            case readyAt = "ready_at"
            case firstResponseAt = "first_response_at"
            case firstReviewAt = "first_review_at"
            case firstApprovalAt = "first_approval_at"
            case mergedAt = "merged_at"
            case reviewed, rounds
            case draftSeconds = "draft_seconds"
            case changedLines = "changed_lines"
            case size
        }
    }

    /// An item waiting at the window's end, and for how long.
    public struct Waiting: Sendable, Hashable {
        public let number: Int
        public let seconds: Double
    }

    /// The flow of `pullRequests` and `issues` (people's, not noise: the caller filters) over [start, end).
    public static func compute(
        start: Date, end: Date, pullRequests: [PullRequestFacts], issues: [IssueFacts]
    ) -> ReviewFlow {
        func inWindow(_ date: Date?) -> Bool { date.map { start <= $0 && $0 < end } ?? false }
        var flow = ReviewFlow()
        var firstResponse: [Double] = []
        var pickup: [Double] = []
        var approval: [Double] = []
        var approvalToMerge: [Double] = []
        var rounds: [Double] = []
        var draft: [Double] = []
        var sizes: [String: Int] = Dictionary(uniqueKeysWithValues: sizeBuckets.map { ($0.name, 0) })
        var sized = true
        for pull in pullRequests {
            guard let facts = pull.flow else { continue }
            let ready = facts.readyAt(created: pull.createdAt)
            if let ready, inWindow(ready) {
                flow.pullRequestsReady += 1
                if let response = facts.responses.first(where: { $0 >= ready }), response < end {
                    firstResponse.append(response.timeIntervalSince(ready))
                } else {
                    flow.pullRequestsAwaitingFirstResponse += 1
                }
            }
            if let merged = pull.mergedAt, inWindow(merged) {
                let before = facts.reviews.filter { $0.at <= merged }
                if let ready {
                    if let review = before.first(where: { $0.at >= ready }) { pickup.append(review.at.timeIntervalSince(ready)) }
                    if let approved = before.first(where: { $0.approved && $0.at >= ready }) {
                        approval.append(approved.at.timeIntervalSince(ready))
                        approvalToMerge.append(merged.timeIntervalSince(approved.at))
                    }
                }
                if before.isEmpty {
                    flow.mergedWithoutReview += 1
                    flow.mergedWithoutReviewNumbers.append(pull.number)
                } else {
                    rounds.append(Double(1 + before.count { $0.changesRequested }))
                }
                if facts.openedAsDraft { draft.append(Self.draftSeconds(facts, created: pull.createdAt, until: merged)) }
                if let lines = facts.changedLines { sizes[size(lines), default: 0] += 1 } else { sized = false }
            }
        }
        flow.mergedWithoutReviewNumbers.sort()
        flow.pullRequestFirstResponseSeconds = Summary(firstResponse)
        flow.pickupSeconds = Summary(pickup)
        flow.approvalSeconds = Summary(approval)
        flow.approvalToMergeSeconds = Summary(approvalToMerge)
        flow.reviewRounds = Summary(rounds)
        flow.draftSeconds = Summary(draft)
        flow.sizes = sized ? sizes : nil
        flow.awaitingReviewSeconds = Summary(awaitingReview(at: end, pullRequests: pullRequests).map(\.seconds))

        var issueResponse: [Double] = []
        for issue in issues where inWindow(issue.createdAt) {
            flow.issuesOpened += 1
            if let response = issue.firstResponseAt, response < end {
                issueResponse.append(response.timeIntervalSince(issue.createdAt))
            } else {
                flow.issuesAwaitingFirstResponse += 1
            }
        }
        flow.issueFirstResponseSeconds = Summary(issueResponse)
        return flow
    }

    /// Pull requests open, ready and not a draft at `end` with no review by another person
    /// before it, and how long each has waited since ready.
    public static func awaitingReview(at end: Date, pullRequests: [PullRequestFacts]) -> [Waiting] {
        pullRequests.compactMap { pull in
            guard let facts = pull.flow, let ready = facts.readyAt(created: pull.createdAt), ready < end,
                pull.createdAt < end, !(pull.mergedAt.map { $0 < end } ?? false), !(pull.closedAt.map { $0 < end } ?? false),
                !facts.isDraft(at: end, created: pull.createdAt), !facts.reviews.contains(where: { $0.at < end })
            else { return nil }
            return Waiting(number: pull.number, seconds: end.timeIntervalSince(ready))
        }
    }

    /// Issues outstanding at `end` with no response by another person before it, and how long
    /// each has waited since it was opened.
    public static func awaitingResponse(at end: Date, issues: [IssueFacts]) -> [Waiting] {
        issues.compactMap { issue in
            guard !(issue.firstResponseAt.map { $0 < end } ?? false), issue.outstanding(at: end) else { return nil }
            return Waiting(number: issue.number, seconds: end.timeIntervalSince(issue.createdAt))
        }
    }

    /// The `count` longest waits, longest first (then by number).
    public static func longest(_ items: [Waiting], count: Int = 5) -> [Waiting] {
        Array(items.sorted { ($0.seconds, -$0.number) > ($1.seconds, -$1.number) }.prefix(count))
    }

    /// Time spent as a draft before `until` (the merge): every draft span, cut at it.
    static func draftSeconds(_ facts: FlowFacts, created: Date, until: Date) -> Double {
        facts.draftSpans(created: created).reduce(0) { total, span in
            let to = min(span.to ?? until, until)
            return total + max(0, to.timeIntervalSince(span.from))
        }
    }

    /// The `pull_request_flow` row of a pull request.
    public static func row(_ pull: PullRequestFacts, author: String) -> Row? {
        guard let facts = pull.flow else { return nil }
        let ready = facts.readyAt(created: pull.createdAt)
        let until = pull.mergedAt
        let reviews = facts.reviews.filter { review in until.map { review.at <= $0 } ?? true }
        let afterReady = ready.map { ready in reviews.filter { $0.at >= ready } } ?? []
        return Row(
            number: pull.number, author: author, createdAt: Timestamp.string(pull.createdAt),
            readyAt: ready.map(Timestamp.string),
            firstResponseAt: ready.flatMap { ready in facts.responses.first { $0 >= ready } }.map(Timestamp.string),
            firstReviewAt: afterReady.first.map { Timestamp.string($0.at) },
            firstApprovalAt: afterReady.first { $0.approved }.map { Timestamp.string($0.at) },
            mergedAt: pull.mergedAt.map(Timestamp.string), reviewed: !reviews.isEmpty,
            rounds: until != nil && !reviews.isEmpty ? 1 + reviews.count { $0.changesRequested } : nil,
            draftSeconds: until.flatMap { merged in
                facts.openedAsDraft ? draftSeconds(facts, created: pull.createdAt, until: merged) : nil
            },
            changedLines: facts.changedLines, size: facts.changedLines.map(size))
    }
}
