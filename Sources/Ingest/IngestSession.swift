import Foundation
import GitHub
import GitHubNodes
import JSON
import Manifest
import Pipeline
import Store

/// The work of one ingest unit: its streams, page by page, with checkpoints.
///
/// Order of work: plan from the store (``Planner``); ask a batched probe when every stream
/// continues an earlier run (``Prober``); send the combined first request (the repository's
/// facts and the first page of every stream not started); page each stream to its end; then
/// confirm the open items (``reconcileOpenItems(_:)``). Every page is stored with its
/// checkpoint in one transaction (``IngestStore``).
struct IngestSession: Sendable {
    let context: UnitContext
    let repository: Repository
    let client: GitHubClient
    var store: IngestStore
    var sizes: PageSizes
    private(set) var counters: [String: Int64] = [:]
    /// Things the run should tell the user (recorded in the ledger with the unit).
    private(set) var warnings: [String] = []
    /// GitHub's count of open items per kind, from the first request, for reused snapshots.
    var openCounts: [RepositoryStream.Kind: Int64] = [:]
    /// The branch's tip, once known (the probe or the first request).
    var tip: String?
    /// Looks at the head per ordered stream in this attempt.
    var headPasses: [String: Int] = [:]
    /// Ordered streams read again from the start in this attempt after their check failed.
    var rereads: Set<String> = []

    /// Looks at the head of one stream, at most, before the unit gives up on a repository that
    /// will not hold still (each look reads only what changed since the one before).
    static let maximumHeadPasses = 5
    /// GitHub says the repository has no commits at all.
    var empty = false
    let started = Date()

    init(context: UnitContext, repository: Repository, client: GitHubClient, pageSize: Int) {
        self.context = context
        self.repository = repository
        self.client = client
        store = IngestStore(
            database: context.database, runID: context.runID, slug: repository.slug,
            windowStart: context.window.start)
        sizes = PageSizes(pageSize: pageSize)
    }

    mutating func add(_ key: String, _ value: Int64) {
        counters[key, default: 0] += value
    }

    mutating func warn(_ message: String) {
        if !warnings.contains(message) { warnings.append(message) }
    }

    /// A copy that reads part of the unit alongside this session: its counters and warnings
    /// start empty, so that ``absorb(_:)`` adds back exactly what it did.
    func forked() -> IngestSession {
        var copy = self
        copy.counters = [:]
        copy.warnings = []
        return copy
    }

    /// Adds what requests cost to the unit's counters: requests, points, retries and secondary
    /// limits met, and the requests again under each of `alsoAs` (`rest_requests`…).
    mutating func count(_ cost: CallCost, alsoAs: [String] = []) {
        add("requests", Int64(cost.requests))
        add("points", Int64(cost.points))
        add("retries", Int64(cost.retries))
        if cost.secondaryLimits > 0 { add("secondary_limits", Int64(cost.secondaryLimits)) }
        for key in alsoAs { add(key, Int64(cost.requests)) }
    }

    /// Progress lines for a client's retries and waits, labelled with the stream.
    func reportWaits(_ label: String, limit: String = "rate limit") -> @Sendable (ClientEvent) -> Void {
        let progress = context.progress
        return { event in
            switch event {
            case .retrying(let attempt, let after, let reason):
                progress("\(label): retry \(attempt) in \(after) (\(reason))")
            case .waitingForReset(let until):
                progress("\(label): \(limit) spent, waiting until \(until)")
            case .pausedBySecondaryLimit(let until):
                progress("\(label): GitHub's secondary rate limit; every request of this token waits until \(until)")
            case .throttled(let until):
                progress("\(label): github.max_requests_per_minute reached by every worker together; waiting until \(until)")
            }
        }
    }

    /// The window start less the overlap: where a stream starts without earlier coverage.
    var base: Date { context.window.start.addingTimeInterval(-IngestStage.overlap) }

    // MARK: The unit

    /// Ingests `streams`: when a batched probe (``Prober``) says nothing changed since the last
    /// ingest, no request of its own; otherwise the first pages of those not yet started come
    /// in one request (a quiet repository is done in that one request), then each unfinished
    /// stream pages on, and open items are confirmed.
    mutating func ingest(_ streams: [RepositoryStream], prober: Prober? = nil, estate: [Repository] = []) async throws {
        try rereadWhatRefineRefused(streams)
        let plan = try Planner.plan(streams, window: context.window, overlap: IngestStage.overlap) { stream in
            (try store.checkpoint(stream), try store.coverage(stream))
        }
        if plan.resumed > 0 { add("resumed_streams", Int64(plan.resumed)) }
        var pending = plan.pending
        if pending.isEmpty { return }
        if plan.incremental, let prober {
            let asked = try await ask(prober, plan: plan, estate: estate)
            if asked.probed > 0 {
                count(asked.cost, alsoAs: ["probe_requests"])
                add("probed_repositories", Int64(asked.probed))
            }
            if let quietUntil = asked.quietUntil {
                try settleQuiet(pending, until: quietUntil)
                return
            }
            tip = asked.tip
        }
        if let tip {
            // The probe saw the branch move: history streams read the window again from its
            // start (a commit that landed since may carry any date).
            for index in pending.indices where pending[index].stream.readsHistory {
                restartIfMoved(&pending[index], tip: tip)
            }
        }
        if pending.contains(where: { $0.unstarted && $0.stream.kind != .reviewComment }) {
            try await firstRequest(&pending)
        }
        try await pageAll(&pending)
        while pending.contains(where: \.checkpoint.awaitsHeadLook) {
            try await lookAtHeads(&pending)
            try await pageAll(&pending)
        }
        try await reconcileOpenItems(&pending)
    }

    /// Streams whose stored nodes refine could not read are read again from the window's start
    /// (``RawHealth``); the unit's success clears the request.
    mutating func rereadWhatRefineRefused(_ streams: [RepositoryStream]) throws {
        let rereads = try RawHealth(database: context.database).rereads(repository.slug)
        guard !rereads.isEmpty else { return }
        store.healing = true
        let kinds = Set(rereads.map(\.kind))
        for stream in streams where kinds.contains(stream.kind.raw.rawValue) {
            try store.forget(stream)
            add("reread_streams", 1)
        }
        context.progress("reading again what refine could not read: \(rereads.map(\.reason).joined(separator: "; "))")
    }

    /// A quiet repository (the probe saw nothing new): every stream is read up to the probe.
    mutating func settleQuiet(_ pending: [PendingStream], until: Date) throws {
        for item in pending {
            var done = item.checkpoint
            done.done = true
            done.total = 0
            done.tip = item.coverage?.tip
            let to = item.stream.readsHistory ? context.window.end : until
            try store.save(
                PageWrite(
                    stream: item.stream, checkpoint: done,
                    coverage: item.reusesSnapshot ? nil : (to, item.coverage?.tip)))
        }
        add("quiet_by_probe", 1)
        let reused = pending.filter(\.reusesSnapshot).count
        if reused > 0 { add("open_snapshot_reused", Int64(reused)) }
    }

    /// A history stream that continued an earlier run's coverage from another tip starts again at
    /// the window's start (less the overlap).
    mutating func restartIfMoved(_ pending: inout PendingStream, tip: String) {
        guard pending.stream.readsHistory, pending.unstarted, pending.checkpoint.since > base,
            pending.coverage?.tip != tip
        else { return }
        pending.checkpoint.since = base
        add("tip_moved", 1)
    }

    /// Asks the prober whether the repository is quiet (see ``Prober``).
    func ask(_ prober: Prober, plan: StreamPlan, estate: [Repository]) async throws -> Prober.Asked {
        try await prober.ask(
            Prober.Unit(
                context: context, repository: repository, client: client,
                pageSize: sizes.largest), plan: plan, estate: estate)
    }

    // MARK: The first request

    /// The combined first request: the repository's facts, and the first page of every stream
    /// not started. A timeout halves every size in it, down to 1.
    mutating func firstRequest(_ pending: inout [PendingStream]) async throws {
        var request = FirstPages(
            owner: repository.owner, name: repository.name, branch: repository.defaultBranch,
            until: context.window.end, sizes: sizes.first)
        var slots: [String: String] = [:]
        for item in pending where item.unstarted && !item.reusesSnapshot {
            if item.stream.name == RepositoryStream.commits.name {
                request.commitsSince = item.checkpoint.since
            } else if let list = item.stream.firstPagesList {
                request.include(list, since: item.checkpoint.since)
            } else if item.stream.kind == .documentation && request.documentation.count < GitHub.Operation.documentationSlots {
                slots[item.stream.name] = "doc\(request.documentation.count)"
                request.documentation.append((item.stream.path ?? "", item.checkpoint.since))
            }
        }
        let repo = try await send(&request, label: "first pages")
        try readFacts(repo)
        if let count = repo["openPullsCount"]?["totalCount"]?.int { openCounts[.pullRequest] = count }
        if let count = repo["openIssuesCount"]?["totalCount"]?.int { openCounts[.issue] = count }
        for index in pending.indices {
            let asked = pending[index].checkpoint.since
            if pending[index].stream.readsHistory {
                if let tip { restartIfMoved(&pending[index], tip: tip) }
                pending[index].checkpoint.tip = tip
            }
            let item = pending[index]
            guard item.unstarted, !item.reusesSnapshot else { continue }
            if item.stream.readsHistory && empty {
                // An empty repository has no history: nothing to read, and not a failure.
                var done = item.checkpoint
                done.done = true
                done.total = 0
                try store.save(PageWrite(stream: item.stream, checkpoint: done, coverage: (context.window.end, nil)))
                pending[index].checkpoint = done
                continue
            }
            let field: String?
            switch item.stream.kind {
            // A history stream restarted at the window's start (its tip moved) pages from there.
            case .commit: field = asked == item.checkpoint.since ? "branch" : nil
            case .documentation: field = asked == item.checkpoint.since ? slots[item.stream.name] : nil
            case .pullRequest, .issue: field = item.stream.firstPagesList?.rawValue
            case .reviewComment: field = nil
            }
            guard let field else { continue }
            let connection = item.stream.readsHistory ? repo[field]?["target"]?["history"] : repo[field]
            let page = try Page(connection, stream: item.stream)
            try await land(page, into: &pending[index])
        }
    }

    /// Sends a combined request (``GitHub/FirstPages``) and returns its `repository`; a timeout
    /// halves every size in it, down to 1, for the rest of the unit.
    mutating func send(_ request: inout FirstPages, label: String, alsoAs: [String] = []) async throws -> JSONValue {
        while true {
            do {
                let data = try await call(request, label: label, shrinkable: sizes.first.halved() != nil, alsoAs: alsoAs)
                guard let repo = data["repository"], !repo.isNull else {
                    throw GitHubError(.notFound, "repository not found, or the token cannot see it")
                }
                return repo
            } catch let error as GitHubError where error.code == .timeout {
                guard let smaller = sizes.first.halved() else { throw error }
                sizes.first = smaller
                request.sizes = smaller
                add("page_size_reductions", 1)
            }
        }
    }

    /// Looks at the head of every ordered stream whose pass saw items move (``Checkpoint/awaitsHeadLook``)
    /// in one request: the combined request again, with only those streams in it. A busy
    /// repository's change usually moves an item in two lists at once (an open pull request
    /// commented on is both updated and open), so one look serves both; a look that does not
    /// reach down to where its pass began pages on as usual.
    mutating func lookAtHeads(_ pending: inout [PendingStream]) async throws {
        let waiting = pending.indices.filter { pending[$0].checkpoint.awaitsHeadLook }
        var request = FirstPages(
            owner: repository.owner, name: repository.name, branch: repository.defaultBranch,
            until: context.window.end, sizes: sizes.first)
        for index in waiting {
            if let list = pending[index].stream.firstPagesList { request.include(list, since: pending[index].checkpoint.since) }
        }
        let repo = try await send(&request, label: "heads", alsoAs: ["head_requests"])
        for index in waiting {
            guard let list = pending[index].stream.firstPagesList else { continue }
            try await land(try Page(repo[list.rawValue], stream: pending[index].stream), into: &pending[index])
        }
    }

    /// The repository's facts from the first request: stored as a raw `repository` node; the
    /// branch and its tip checked against the manifest.
    mutating func readFacts(_ repo: JSONValue) throws {
        var facts = repo
        if case .object(var object) = repo {
            // Only the repository's own fields: the streams' connections are stored as nodes.
            object = object.filter {
                [
                    "id", "nameWithOwner", "isEmpty", "isArchived", "isFork", "visibility", "pushedAt",
                    "defaultBranchRef",
                ].contains($0.key)
            }
            facts = .object(object)
        }
        try store.save(rows: [
            RawRow(
                kind: .repository, key: repository.slug, payload: facts, operation: "RepositoryFirstPages",
                cursor: nil)
        ])
        empty = repo["isEmpty"]?.bool == true
        let github = repo["defaultBranchRef"]?["name"]?.string
        let branch = repo["branch"]
        if let named = repository.defaultBranch {
            if branch == nil || branch?.isNull == true, !empty {
                throw GitHubError(
                    .notFound,
                    """
                    branch `\(named)` not found in \(repository.slug)\(github.map { "; GitHub's default branch is `\($0)`" } ?? ""): \
                    remove `default_branch` to follow GitHub's, or name a branch that exists
                    """)
            }
            if let github, github != named {
                warn(
                    "`default_branch` is `\(named)` but GitHub's default branch of \(repository.slug) is `\(github)`; "
                        + "collecting `\(named)` as the manifest says (remove `default_branch` to follow GitHub)")
                add("default_branch_differs", 1)
            }
        }
        tip = branch?["target"]?["oid"]?.string ?? tip
        if repo["isArchived"]?.bool == true { add("archived", 1) }
    }

    // MARK: Paging

    /// Pages every stream that is not done, each to its end or to a look at its head.
    mutating func pageAll(_ pending: inout [PendingStream]) async throws {
        for index in pending.indices
        where !pending[index].checkpoint.done && !pending[index].reusesSnapshot
            && !pending[index].checkpoint.awaitsHeadLook
        {
            try await page(&pending[index])
        }
    }

    /// Pages one stream from its checkpoint to its end, or until its pass saw items move and it
    /// waits for a look at the head (``lookAtHeads(_:)``).
    mutating func page(_ pending: inout PendingStream) async throws {
        let stream = pending.stream
        if stream.kind == .reviewComment { return try await pageReviewComments(&pending) }
        if stream.readsHistory && pending.checkpoint.tip == nil {
            // Not started by the first request (a documentation path beyond its slots): from the tip.
            pending.checkpoint.tip = tip
            if empty || tip == nil {
                pending.checkpoint.done = true
                pending.checkpoint.total = 0
                try store.save(PageWrite(stream: stream, checkpoint: pending.checkpoint, coverage: (context.window.end, nil)))
                return
            }
        }
        while !pending.checkpoint.done && !pending.checkpoint.awaitsHeadLook {
            let size = sizes.size(stream)
            let data: JSONValue
            do {
                data = try await call(try request(for: pending, size: size), label: stream.name, shrinkable: size > 1)
            } catch let error as GitHubError where error.code == .timeout {
                guard sizes.shrink(stream, from: size) != nil else { throw error }
                add("page_size_reductions", 1)
                continue
            }
            guard let repo = data["repository"], !repo.isNull else {
                throw GitHubError(.notFound, "repository not found, or the token cannot see it")
            }
            let connection: JSONValue?
            switch stream.kind {
            case .commit, .documentation: connection = repo["tip"]?["history"]
            case .pullRequest: connection = repo["pullRequests"]
            case .issue: connection = repo["issues"]
            case .reviewComment: connection = nil
            }
            var page = try Page(connection, stream: stream)
            page.heads = repo["head"]?["nodes"]?.array ?? []
            page.headNode = repo["headNode"]?["nodes"]?.array?.first
            try await land(page, into: &pending)
        }
    }

    /// The request of a stream's next page after its first: its history from the commit it
    /// started at, or its list from its cursor.
    func request(for pending: PendingStream, size: Int) throws -> any GraphRequest {
        let checkpoint = pending.checkpoint
        let stream = pending.stream
        switch stream.kind {
        case .commit, .documentation:
            guard let tip = checkpoint.tip else {
                throw IngestFailure(code: "internal", message: "\(stream.name): a history page without the commit it started at")
            }
            return HistoryPage(
                owner: repository.owner, name: repository.name, tip: tip, since: checkpoint.since, until: context.window.end,
                first: size, after: checkpoint.cursor, path: stream.kind == .documentation ? stream.path : nil)
        case .pullRequest, .issue, .reviewComment:
            let list: ListPage.List
            switch (stream.kind, stream.readsSummaries) {
            case (.pullRequest, false): list = .pullRequests
            case (.pullRequest, true): list = .openPullRequests
            case (.issue, true): list = .openIssues
            default: list = .issues(since: checkpoint.since)
            }
            return ListPage(owner: repository.owner, name: repository.name, list: list, first: size, after: checkpoint.cursor)
        }
    }

    /// Sends one request, adding its cost to the unit's counters and telling progress of waits.
    mutating func call(
        _ request: some GraphRequest, label: String, shrinkable: Bool = false, alsoAs: [String] = []
    ) async throws -> JSONValue {
        var cost = CallCost()
        defer { count(cost, alsoAs: alsoAs) }
        return try await client.execute(request, cost: &cost, shrinkable: shrinkable, events: reportWaits(label))
    }

    // MARK: Landing a page

    /// One page of a connection, as GitHub answered it.
    struct Page {
        let totalCount: Int64?
        let hasNextPage: Bool
        let endCursor: String?
        let nodes: [JSONValue]
        /// The two most recently updated items of the stream's list at the time of this page
        /// (number and time), and the most recent one whole: ordered streams' later pages ask
        /// for them (``GitHub/Operation/sentinel(_:filter:fragment:)``).
        var heads: [JSONValue] = []
        var headNode: JSONValue?

        init(_ connection: JSONValue?, stream: RepositoryStream) throws {
            guard let connection, let nodes = connection["nodes"]?.array,
                let hasNext = connection["pageInfo"]?["hasNextPage"]?.bool
            else {
                throw GitHubError(.malformed, "GitHub's \(stream.name) page does not have the expected shape", retryable: true)
            }
            totalCount = connection["totalCount"]?.int
            hasNextPage = hasNext
            endCursor = connection["pageInfo"]?["endCursor"]?.string
            self.nodes = nodes
        }
    }

    /// What a page gives to store: raw rows, and for ordered streams the items' states and keys.
    struct Landed {
        var rows: [RawRow] = []
        var items: [ItemState] = []
        var seen: [String] = []
        /// Items whose nested lists may not have fit (``readNested(_:stream:)``).
        var nested: [(node: JSONValue, key: String)] = []
    }

    /// Takes one node of a page: checked, keyed, stored as a raw row, and for ordered streams
    /// listed with its state and its nested lists kept for reading (``readNested(_:stream:)``).
    mutating func take(_ node: JSONValue, stream: RepositoryStream, cursor: String?, into landed: inout Landed) throws {
        try checkLabels(node, stream: stream)
        let key = try nodeKey(node, stream: stream)
        landed.rows.append(
            RawRow(kind: stream.kind.raw, key: key, payload: node, operation: stream.name, cursor: cursor, checked: true))
        if stream.isOrdered {
            landed.seen.append(key)
            if let item = itemState(node, kind: stream.kind, key: key) { landed.items.append(item) }
            landed.nested.append((node, key))
        }
    }

    /// Whether a head item moved there during the pass: updated after the head the pass began
    /// with, or as recently but another item (`updatedAt` has whole seconds).
    static func moved(_ head: JSONValue, since pass: Checkpoint) -> Bool {
        guard let updated = head["updatedAt"]?.string.flatMap(Timestamp.date) else { return true }
        let start = pass.readStart ?? .distantPast
        return updated > start || (updated == start && head["number"]?.int != pass.headNumber)
    }

    /// The item that moved to the head during the pass, whole from the page's head, when it is
    /// the only one: the second most recent item did not move (or there is none).
    static func onlyMovedItem(_ page: Page, pass: Checkpoint) -> JSONValue? {
        guard let node = page.headNode, let first = page.heads.first, node["number"]?.int == first["number"]?.int,
            page.heads.count < 2 || !moved(page.heads[1], since: pass)
        else { return nil }
        return node
    }

    /// Stores one page of a stream with its checkpoint in one transaction; when the stream
    /// ended, checks that it is complete first, and only then marks it done with its coverage.
    ///
    /// Ordered streams (pull requests, issues by `updatedAt`, newest first): an item updated
    /// while the stream pages moves to the head, behind the cursor, where this read would miss
    /// it. Later pages carry the list's head; when it is newer than the head the read began
    /// with, the stream ends with a second look at the head, down to where the read began.
    mutating func land(_ page: Page, into pending: inout PendingStream) async throws {
        let stream = pending.stream
        var checkpoint = pending.checkpoint
        var reachedEnd = false
        if stream.isOrdered {
            if checkpoint.cursor == nil {
                // The first page of a pass: its first item is the list's head now.
                checkpoint.readStart = page.nodes.first?["updatedAt"]?.string.flatMap(Timestamp.date)
                checkpoint.headNumber = page.nodes.first?["number"]?.int
            }
            // The list's head now, against the head the pass began with: newer means something
            // moved behind the cursor.
            if let head = page.heads.first, Self.moved(head, since: checkpoint) { checkpoint.moved = true }
        }
        var landed = Landed()
        for node in page.nodes {
            if stream.isOrdered {
                guard let updated = node["updatedAt"]?.string.flatMap(Timestamp.date) else {
                    throw IngestFailure(code: "malformed", message: "\(stream.name): a node has no updatedAt")
                }
                if stream.stopsAtSince && updated < checkpoint.since {
                    reachedEnd = true
                    break
                }
                if let stopAt = checkpoint.stopAt, updated < stopAt {
                    // Everything from here on was read by an earlier pass, unchanged since.
                    reachedEnd = true
                    break
                }
            }
            try take(node, stream: stream, cursor: checkpoint.cursor, into: &landed)
        }
        if stream.kind == .documentation, let path = stream.path {
            try await subtrees(of: page.nodes, path: path)
        }
        checkpoint.pages += 1
        var ended = !page.hasNextPage || reachedEnd
        if ended && stream.isOrdered && checkpoint.moved, let node = Self.onlyMovedItem(page, pass: checkpoint) {
            // The one item that moved during the pass is whole in this page's head: no more looks.
            try take(node, stream: stream, cursor: checkpoint.cursor, into: &landed)
            checkpoint.moved = false
            add("moved_items_from_head", 1)
        }
        // Lists nested in the page's items that did not fit, read before the page is stored: a
        // page is done only with everything it holds.
        try await readNested(landed.nested, stream: stream)
        checkpoint.nodes += Int64(landed.rows.filter { $0.kind == stream.kind.raw }.count)
        checkpoint.total = page.totalCount
        checkpoint.cursor = page.endCursor ?? checkpoint.cursor
        if ended && stream.isOrdered && checkpoint.moved {
            // Something moved to the head during the pass: look at the head again, down to where
            // the pass began — and again while a look itself sees things move.
            headPasses[stream.name, default: 0] += 1
            guard headPasses[stream.name, default: 0] <= Self.maximumHeadPasses else {
                try store.restart(stream, checkpoint.restarted())
                throw IngestFailure(
                    code: "incomplete",
                    message: """
                        \(stream.name) kept changing through \(Self.maximumHeadPasses) looks at its head; the unit fails \
                        rather than report a gap (a rerun reads the stream again)
                        """)
            }
            checkpoint.stopAt = checkpoint.readStart ?? checkpoint.stopAt
            checkpoint.readStart = nil
            checkpoint.headNumber = nil
            checkpoint.moved = false
            checkpoint.headStart = Date()
            checkpoint.cursor = nil
            ended = false
            add("head_passes", 1)
        }
        add("pages", 1)
        add(stream.kind.rawValue + "s", Int64(landed.rows.filter { $0.kind == stream.kind.raw }.count))
        var write = PageWrite(stream: stream, checkpoint: checkpoint, rows: landed.rows, items: landed.items, seen: landed.seen)
        if !ended {
            add("new_nodes", Int64(try store.save(write)))
            pending.checkpoint = checkpoint
            report(stream, checkpoint)
            return
        }
        // The stream ended: store the page, then check it is complete before calling it done.
        add("new_nodes", Int64(try store.save(write)))
        if let problem = try incompleteness(stream, checkpoint: checkpoint) {
            try store.restart(stream, checkpoint.restarted())
            guard stream.isOrdered, rereads.insert(stream.name).inserted else {
                throw IngestFailure(code: "incomplete", message: problem)
            }
            // An item left the list or slipped past the read while the list changed (closed,
            // merged, transferred): read the list again at once, from its head; items believed
            // open that the new read does not list are then looked up by id. A second failure
            // fails the unit.
            context.progress("\(stream.name): \(problem.prefix { $0 != ";" }); reading it again")
            add("stream_rereads", 1)
            headPasses[stream.name] = 0
            pending.checkpoint = checkpoint.restarted()
            return
        }
        checkpoint.done = true
        write = PageWrite(
            stream: stream, checkpoint: checkpoint,
            coverage: (stream.readsHistory ? context.window.end : checkpoint.headStart ?? started, checkpoint.tip))
        try store.save(write)
        pending.checkpoint = checkpoint
        report(stream, checkpoint)
    }

    func report(_ stream: RepositoryStream, _ checkpoint: Checkpoint) {
        context.progress("\(stream.name) page \(checkpoint.pages) · \(checkpoint.nodes) nodes")
        if let budget = client.lastBudget { context.budget(budget.remaining, budget.resetAt) }
    }

    /// Why a stream that ended is not complete, or nil when it is.
    ///
    /// A history stream reads an immutable history (from one commit): it must land exactly
    /// the commits GitHub counted. An ordered stream's count moves while the repository
    /// changes, so the read is reconciled by the items it listed: as many as GitHub counts at
    /// the end (exactly, when nothing moved during the read; at least, when items came and went).
    func incompleteness(_ stream: RepositoryStream, checkpoint: Checkpoint) throws -> String? {
        guard let total = checkpoint.total else { return nil }
        if stream.readsHistory {
            guard checkpoint.nodes != total else { return nil }
            return """
                \(stream.name) landed \(checkpoint.nodes) of the \(total) commits GitHub counted; \
                the unit fails rather than report a gap (a rerun reads the stream again)
                """
        }
        // The updated pull request list counts every pull request, not those since the window.
        guard stream.isOrdered, !(stream.stopsAtSince) else { return nil }
        // More listed than counted is no better than fewer: an item listed open and closed
        // during the read is stale in what was read.
        let listed = try store.seen(stream)
        let changed = checkpoint.headStart != nil
        if listed == total { return nil }
        return """
            \(stream.name) listed \(listed) distinct items where GitHub counts \(total)\
            \(changed ? " after items changed during the read" : ""); the unit fails rather than report a gap \
            (a rerun reads the stream again)
            """
    }

    func checkLabels(_ node: JSONValue, stream: RepositoryStream) throws {
        guard let labels = node["labels"], let total = labels["totalCount"]?.int,
            let read = labels["nodes"]?.array?.count, total > read
        else { return }
        let number = node["number"]?.int.map(String.init) ?? "?"
        throw IngestFailure(
            code: "incomplete",
            message: """
                \(stream.kind.rawValue) #\(number) has \(total) labels and ingest reads \(read); \
                refusing to store it with labels missing
                """)
    }

    /// A node's key: a commit's oid; a pull request's or issue's `fullDatabaseId` (a 64-bit id
    /// GitHub sends as a JSON string), else its node id; a documentation commit's path and oid.
    func nodeKey(_ node: JSONValue, stream: RepositoryStream) throws -> String {
        switch stream.kind {
        case .commit:
            if let oid = node["oid"]?.string { return oid }
        case .pullRequest, .issue:
            if let id = Self.databaseId(node) { return String(id) }
            if let id = node["id"]?.string { return id }
        case .documentation:
            if let oid = node["oid"]?.string, let path = stream.path { return path + ":" + oid }
        case .reviewComment:
            if let id = node["id"]?.int { return String(id) }
        }
        throw IngestFailure(code: "malformed", message: "\(stream.name): a node has no identifier")
    }

    /// `fullDatabaseId` (a `BigInt`: a JSON string of digits) as a 64-bit integer.
    static func databaseId(_ node: JSONValue) -> Int64? {
        node["fullDatabaseId"]?.string.flatMap { Int64($0) } ?? node["fullDatabaseId"]?.int
    }

    /// What a pull request or issue node says of its state, for the item states.
    func itemState(_ node: JSONValue, kind: RepositoryStream.Kind, key: String) -> ItemState? {
        guard let nodeId = node["id"]?.string, let number = node["number"]?.int, let state = node["state"]?.string,
            let updated = node["updatedAt"]?.string.flatMap(Timestamp.date)
        else { return nil }
        return ItemState(kind: kind.rawValue, key: key, nodeId: nodeId, number: number, state: state, updatedAt: updated)
    }
}

/// A failure found by ingest itself (not by GitHub or the store).
struct IngestFailure: Error {
    let code: String
    let message: String
}
