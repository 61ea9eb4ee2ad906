import Digest
import Foundation
import GitHub
import JSON
import Manifest
import Pipeline
import Store

/// The work of one ingest unit: its streams, page by page, with checkpoints.
struct IngestSession {
    let context: UnitContext
    let repository: Repository
    let client: GitHubClient
    var pageSize: Int
    let database: Database
    private(set) var counters: [String: Int64] = [:]

    init(context: UnitContext, repository: Repository, client: GitHubClient, pageSize: Int, database: Database) {
        self.context = context
        self.repository = repository
        self.client = client
        self.pageSize = pageSize
        self.database = database
    }

    struct Checkpoint {
        var since: Date
        var cursor: String?
        var done: Bool
        var pages: Int64
        var nodes: Int64
        var total: Int64?
        var requests: Int64
        var points: Int64
    }

    mutating func add(_ key: String, _ value: Int64) {
        counters[key, default: 0] += value
    }

    /// Adds what requests cost to the unit's counters: requests, points and retries, and the
    /// requests again under each of `alsoAs` (`rest_requests`, `nested_requests`…).
    mutating func count(_ cost: CallCost, alsoAs: [String] = []) {
        add("requests", Int64(cost.requests))
        add("points", Int64(cost.points))
        add("retries", Int64(cost.retries))
        for key in alsoAs { add(key, Int64(cost.requests)) }
    }

    /// Progress lines for a client's retries and rate-limit waits, labelled with the stream.
    func reportWaits(_ label: String, limit: String = "rate limit") -> @Sendable (ClientEvent) -> Void {
        let progress = context.progress
        return { event in
            switch event {
            case .retrying(let attempt, let after, let reason):
                progress("\(label): retry \(attempt) in \(after) (\(reason))")
            case .waitingForReset(let until):
                progress("\(label): \(limit) spent, waiting until \(until)")
            }
        }
    }

    // MARK: Streams

    /// What a unit's streams need: those still to read (fresh or resumed), and those settled
    /// without a request (an open-item snapshot reused, history already read to the window's end).
    struct Plan {
        var pending: [(stream: Stream, checkpoint: Checkpoint)] = []
        var settled: [(stream: Stream, checkpoint: Checkpoint, snapshotReused: Bool)] = []
        var resumed = 0
        /// Whether every pending stream is fresh and none is an open-item snapshot to take
        /// (which a first ingest needs): then a batched probe can tell that nothing changed.
        var incremental = true
    }

    /// Plans `streams` from the store, without writing anything.
    func plan(_ streams: [Stream]) throws -> Plan {
        var plan = Plan()
        for stream in streams {
            if let saved = try loadCheckpoint(stream) {
                // Counters are per attempt: what an earlier attempt fetched is in its own ledger row.
                if saved.done { continue }
                plan.resumed += 1
                plan.incremental = false
                plan.pending.append((stream, saved))
                continue
            }
            let covered = try coveredSince(for: stream)
            var fresh = Checkpoint(since: covered ?? base, cursor: nil, done: false, pages: 0, nodes: 0,
                                   total: nil, requests: 0, points: 0)
            if let updated = stream.updatedCounterpart, let snapshot = try snapshotTime(stream),
               try since(for: updated) <= snapshot {
                // Every open item was read at `snapshot`, and this run's updated-since stream reads
                // every item that changed after it (a change moves `updatedAt`), so re-reading the
                // open items would fetch nothing new.
                fresh.done = true
                fresh.total = 0
                plan.settled.append((stream, fresh, true))
                continue
            }
            if stream.readsHistory, fresh.since >= context.window.end {
                // Everything up to the window's end was ingested by an earlier run.
                fresh.done = true
                fresh.total = 0
                plan.settled.append((stream, fresh, false))
                continue
            }
            if stream.readsSummaries { plan.incremental = false }
            plan.pending.append((stream, fresh))
        }
        return plan
    }

    /// Ingests `streams`: when a batched probe (``Prober``) says nothing changed since the last
    /// ingest, no request of its own; otherwise the first pages of those not yet started come
    /// in one request (a quiet repository is done in that one request), then each unfinished
    /// stream pages on.
    mutating func ingest(_ streams: [Stream], prober: Prober? = nil, estate: [Repository] = []) async throws {
        let started = Date()
        let plan = try self.plan(streams)
        for settled in plan.settled {
            try save(settled.stream, checkpoint: settled.checkpoint, rows: [], coverageTo: nil)
            if settled.snapshotReused { add("open_snapshot_reused", 1) }
        }
        if plan.resumed > 0 { add("resumed_streams", Int64(plan.resumed)) }
        var pending = plan.pending
        if pending.isEmpty { return }
        var quietUntil: Date?
        if plan.incremental, let prober {
            let asked = try await ask(prober, plan: plan, estate: estate)
            if asked.probed > 0 {
                count(asked.cost, alsoAs: ["probe_requests"])
                add("probed_repositories", Int64(asked.probed))
            }
            quietUntil = asked.quietUntil
        }
        if let quietSince = quietUntil {
            // Nothing changed since the last ingest: every stream is read up to the probe.
            for (stream, checkpoint) in pending {
                var done = checkpoint
                done.done = true
                done.total = 0
                try save(stream, checkpoint: done, rows: [], coverageTo: stream.readsHistory ? context.window.end : quietSince)
            }
            add("quiet_by_probe", 1)
            return
        }
        // The combined first request is GraphQL; the REST stream of review comments pages alone.
        let unstarted = pending.indices.filter {
            pending[$0].checkpoint.pages == 0 && pending[$0].stream.kind != .reviewComment
        }
        if unstarted.count > 1 {
            try await firstPages(&pending, indices: unstarted, started: started)
        }
        for index in pending.indices where !pending[index].checkpoint.done {
            try await page(pending[index].stream, from: pending[index].checkpoint, started: started)
        }
    }

    /// Aliases of the combined first-page request, by stream.
    static let aliases = [
        Stream.pullRequestsUpdated.name: "updatedPulls", Stream.pullRequestsOpen.name: "openPulls",
        Stream.issuesUpdated.name: "updatedIssues", Stream.issuesOpen.name: "openIssues",
    ]

    /// Page sizes in the combined first request. GitHub charges (connections requested) / 100,
    /// rounded, where a connection nested in a list counts once per `first` of the list (see
    /// ``Stream/connectionsPerNode``). These sizes keep the whole request at 149 connections or
    /// fewer — 1 point: 1 + (1+5×12) + (1+2×12) + (1+2×14) + (1+1×18) + 2×(1+6) = 149. Each is
    /// near the 90th percentile of its stream's length in the reference estate (`make bench`),
    /// so most repositories need no second request; see docs/benchmarks.md.
    static let firstPullRequests: Int64 = 12
    static let firstOpenPullRequests: Int64 = 12
    static let firstUpdatedIssues: Int64 = 14
    static let firstOpenIssues: Int64 = 18
    static let firstDocumentationCommits: Int64 = 6

    mutating func firstPages(
        _ pending: inout [(stream: Stream, checkpoint: Checkpoint)], indices: [Int], started: Date
    ) async throws {
        // Documentation streams ride in the request's slots; any beyond them page on their own.
        let documentation = indices.filter { pending[$0].stream.kind == .documentation }
        let slotted = Array(documentation.prefix(GitHub.Operation.documentationSlots))
        let included = indices.filter { pending[$0].stream.kind != .documentation } + slotted
        let names = Set(included.map { pending[$0].stream.name })
        func since(_ stream: Stream) -> Date {
            pending.first { $0.stream.name == stream.name }?.checkpoint.since ?? context.window.start
        }
        var variables: [String: JSONValue] = [
            "owner": .string(repository.owner), "name": .string(repository.name),
            "ref": .string("refs/heads/" + repository.defaultBranch),
            "since": .string(GitHubTime.string(since(.commits))), "until": .string(GitHubTime.string(context.window.end)),
            "issuesSince": .string(GitHubTime.string(since(.issuesUpdated))),
            "commitsFirst": .int(Int64(pageSize)), "first": .int(Self.firstPullRequests),
            "openPullsFirst": .int(Self.firstOpenPullRequests),
            "updatedIssuesFirst": .int(Self.firstUpdatedIssues), "openIssuesFirst": .int(Self.firstOpenIssues),
            "docsFirst": .int(Self.firstDocumentationCommits),
            "withCommits": .bool(names.contains(Stream.commits.name)),
            "withUpdatedPulls": .bool(names.contains(Stream.pullRequestsUpdated.name)),
            "withOpenPulls": .bool(names.contains(Stream.pullRequestsOpen.name)),
            "withUpdatedIssues": .bool(names.contains(Stream.issuesUpdated.name)),
            "withOpenIssues": .bool(names.contains(Stream.issuesOpen.name)),
        ]
        var slots: [String: String] = [:]
        for slot in 0..<GitHub.Operation.documentationSlots {
            let assigned = slot < slotted.count ? pending[slotted[slot]] : nil
            variables["withDoc\(slot)"] = .bool(assigned != nil)
            variables["doc\(slot)Path"] = .string(assigned?.stream.path ?? "")
            variables["doc\(slot)Since"] = .string(GitHubTime.string(assigned?.checkpoint.since ?? context.window.start))
            if let assigned { slots[assigned.stream.name] = "doc\(slot)" }
        }
        let data = try await call(.firstPages, variables: variables, label: "first pages")
        guard let repo = data["repository"], !repo.isNull else {
            throw GitHubError(.notFound, "repository not found, or the token cannot see it")
        }
        for index in included {
            let stream = pending[index].stream
            let field = slots[stream.name] ?? Self.aliases[stream.name] ?? "ref"
            let page = try connection(repository: repo, field: field, stream: stream)
            try await land(page, stream: stream, checkpoint: &pending[index].checkpoint, started: started)
        }
    }

    /// Pages one stream from its checkpoint to its end.
    mutating func page(_ stream: Stream, from saved: Checkpoint, started: Date) async throws {
        guard let operation = Self.operation(for: stream) else {
            return try await pageReviewComments(stream, from: saved, started: started)
        }
        var checkpoint = saved
        // Later pages grow, but never past the size GitHub still charges 1 point for.
        let largest = min(pageSize, Self.onePointPageSize(stream))
        var size = min(largest, 25)
        while !checkpoint.done {
            let variables = variables(for: stream, since: checkpoint.since, cursor: checkpoint.cursor, size: size)
            let data: JSONValue
            do {
                data = try await call(operation, variables: variables, label: stream.name)
            } catch let error as GitHubError
                where (error.status == 502 || error.status == 504 || error.code == .transport) && size > 10 {
                // A heavy page that keeps failing: ask for fewer nodes.
                size = max(10, size / 2)
                add("page_size_reductions", 1)
                continue
            }
            guard let repo = data["repository"], !repo.isNull else {
                throw GitHubError(.notFound, "repository not found, or the token cannot see it")
            }
            let field = stream.kind == .pullRequest ? "pullRequests" : stream.kind == .issue ? "issues" : "ref"
            let page = try connection(repository: repo, field: field, stream: stream)
            try await land(page, stream: stream, checkpoint: &checkpoint, started: started)
            size = min(largest, size * 2)
        }
    }

    /// Pages the REST list of inline review comments updated since the stream's `since`, newest
    /// update first: an update during the read moves a comment to the front (read again by the
    /// next run, whose `since` is this read's start), so pages shift towards the end and nothing
    /// is skipped.
    mutating func pageReviewComments(_ stream: Stream, from saved: Checkpoint, started: Date) async throws {
        var checkpoint = saved
        if checkpoint.pages == 0, let pulls = try loadCheckpoint(.pullRequestsUpdated), pulls.done, pulls.nodes == 0,
           pulls.since <= checkpoint.since {
            // Writing a review comment moves its pull request's `updatedAt`; no pull request
            // changed since `since`, so neither did any review comment.
            checkpoint.done = true
            try save(stream, checkpoint: checkpoint, rows: [], coverageTo: started)
            add("review_comments_skipped", 1)
            return
        }
        let path = "repos/\(repository.owner)/\(repository.name)/pulls/comments"
        let query = [
            URLQueryItem(name: "sort", value: "updated"), URLQueryItem(name: "direction", value: "desc"),
            URLQueryItem(name: "since", value: GitHubTime.string(checkpoint.since)),
            URLQueryItem(name: "per_page", value: String(Self.restPageSize)),
        ]
        let progress = context.progress
        while !checkpoint.done {
            var cost = CallCost()
            let page: RESTPage
            do {
                defer { count(cost, alsoAs: ["rest_requests"]) }
                page = try await client.list(path, query: query, next: checkpoint.cursor.flatMap(URL.init(string:)),
                                             cost: &cost, events: reportWaits(stream.name, limit: "REST rate limit"))
            }
            if page.next != nil && page.items.count < Self.restPageSize {
                throw IngestFailure(code: "incomplete", message: """
                    \(stream.name): GitHub sent \(page.items.count) of \(Self.restPageSize) items on a page that is \
                    not the last; the unit fails rather than report a gap (a rerun reads the stream again)
                    """)
            }
            let fetchedAt = Timestamp.now()
            var rows: [[SQLValue]] = []
            for item in page.items {
                guard let id = item["id"]?.int else {
                    throw IngestFailure(code: "malformed", message: "\(stream.name): a review comment has no id")
                }
                rows.append(row(kind: stream.kind.rawValue, key: String(id), node: Self.reviewCommentNode(item),
                                fetchedAt: fetchedAt, operation: stream.name, cursor: checkpoint.cursor))
            }
            checkpoint.pages += 1
            checkpoint.nodes += Int64(rows.count)
            checkpoint.cursor = page.next?.absoluteString ?? checkpoint.cursor
            checkpoint.done = page.next == nil
            add("pages", 1)
            add(stream.kind.rawValue + "s", Int64(rows.count))
            let inserted = try save(stream, checkpoint: checkpoint, rows: rows, coverageTo: checkpoint.done ? started : nil)
            add("new_nodes", Int64(inserted))
            progress("\(stream.name) page \(checkpoint.pages) · \(checkpoint.nodes) nodes")
        }
    }

    /// REST list pages hold at most 100 items.
    static let restPageSize = 100

    /// The fields of a REST review comment that refine reads: identity, author, times, where it
    /// sits (pull request, review, reply-to, file). Bodies, diff hunks and links are not stored.
    static func reviewCommentNode(_ item: JSONValue) -> JSONValue {
        var node: [String: JSONValue] = [:]
        for key in ["id", "node_id", "pull_request_review_id", "in_reply_to_id", "created_at", "updated_at", "path",
                    "pull_request_url"] {
            if let value = item[key] { node[key] = value }
        }
        if let user = item["user"], !user.isNull {
            node["user"] = .object(["login": user["login"] ?? .null, "type": user["type"] ?? .null])
        } else {
            node["user"] = .null
        }
        return .object(node)
    }

    /// The largest page that costs 1 point. GitHub charges (1 + first × nested connections)
    /// / 100, rounded: one page of 50 full pull requests (5 connections each) costs 3 points
    /// where two pages of 25 cost 2.
    static func onePointPageSize(_ stream: Stream) -> Int {
        min(100, 148 / max(1, stream.connectionsPerNode))
    }

    /// Sends one request, adding its cost to the unit's counters and telling progress of waits.
    mutating func call(_ operation: GitHub.Operation, variables: [String: JSONValue], label: String) async throws
        -> JSONValue {
        var cost = CallCost()
        defer { count(cost) }
        return try await client.execute(operation, variables: variables, cost: &cost, events: reportWaits(label))
    }

    /// Stores one page of a stream with its checkpoint (and coverage, when the stream ends)
    /// in one transaction, then checks completeness when it ended.
    mutating func land(_ page: Page, stream: Stream, checkpoint: inout Checkpoint, started: Date) async throws {
        var rows: [[SQLValue]] = []
        var reachedSince = false
        let fetchedAt = Timestamp.now()
        for node in page.nodes {
            if stream.stopsAtSince {
                guard let updated = node["updatedAt"]?.string.flatMap(Timestamp.date) else {
                    throw IngestFailure(code: "malformed", message: "\(stream.name): a node has no updatedAt")
                }
                if updated < checkpoint.since {
                    reachedSince = true
                    break
                }
            }
            try checkLabels(node, stream: stream)
            let key = try nodeKey(node, stream: stream)
            rows.append(row(kind: stream.kind.rawValue, key: key, node: node, fetchedAt: fetchedAt,
                            operation: stream.name, cursor: checkpoint.cursor))
            try await nestedOverflow(of: node, key: key, stream: stream, fetchedAt: fetchedAt)
        }
        checkpoint.pages += 1
        checkpoint.nodes += Int64(rows.count)
        checkpoint.total = page.totalCount
        checkpoint.cursor = page.endCursor ?? checkpoint.cursor
        checkpoint.done = !page.hasNextPage || reachedSince
        add("pages", 1)
        add(stream.kind.rawValue + "s", Int64(rows.count))
        let coverageTo = stream.readsHistory ? context.window.end : started
        let inserted = try save(stream, checkpoint: checkpoint, rows: rows,
                                coverageTo: checkpoint.done ? coverageTo : nil)
        add("new_nodes", Int64(inserted))
        context.progress("\(stream.name) page \(checkpoint.pages) · \(checkpoint.nodes) nodes")
        if let budget = client.lastBudget { context.budget(budget.remaining, budget.resetAt) }
        if checkpoint.done { try checkComplete(stream, checkpoint: checkpoint, endedBySince: reachedSince) }
    }

    func row(kind: String, key: String, node: JSONValue, fetchedAt: String, operation: String, cursor: String?)
        -> [SQLValue] {
        let payload = node.canonical
        // The repository is part of the hash: a fork and its upstream (or two mirrors) hold
        // byte-identical commits, and each repository must keep its own row.
        let hash = SHA256.hex(repository.slug + "\n" + kind + "\n" + payload)
        return [.text(repository.slug), .text(kind), .text(key), .text(hash), .text(payload), .text(fetchedAt),
                .integer(context.runID), .text(operation), cursor.map(SQLValue.text) ?? .null]
    }

    /// Nested connections that did not fit their first page (a pull request's reviews,
    /// comments or files; an issue's comments), read whole and stored one node per row.
    ///
    /// Each connection is stored with a checkpoint of its own (`nested:KIND:KEY`) as soon as it
    /// is complete, so a page whose nested reads outlast the rate-limit budget still makes
    /// progress: the rerun lands the page again but skips the connections already read.
    mutating func nestedOverflow(of node: JSONValue, key: String, stream: Stream, fetchedAt: String) async throws {
        guard let number = node["number"]?.int else { return }
        let nested: [(field: String, kind: String)]
        switch stream.kind {
        case .pullRequest:
            nested = [("reviews", "pull_request_review"), ("comments", "pull_request_comment"), ("files", "pull_request_file")]
        case .issue:
            nested = [("comments", "issue_comment")]
        case .commit, .documentation, .reviewComment:
            return
        }
        for (field, kind) in nested {
            guard let connection = node[field], let total = connection["totalCount"]?.int,
                  let read = connection["nodes"]?.array?.count, total > read
            else { continue }
            let progress = Stream(name: "nested:\(kind):\(key)", kind: stream.kind, stopsAtSince: false, tracksCoverage: false)
            if let saved = try loadCheckpoint(progress), saved.done, saved.total == total { continue }
            var rows: [[SQLValue]] = []
            var pages: Int64 = 0
            var spent = CallCost()
            var after: JSONValue = .null
            var landed: Int64 = 0
            while true {
                var variables: [String: JSONValue] = [
                    "owner": .string(repository.owner), "name": .string(repository.name), "number": .int(number), "after": after,
                ]
                let operation: GitHub.Operation
                if stream.kind == .pullRequest {
                    operation = .pullRequestConnection
                    for flag in ["reviews", "comments", "files"] { variables[flag] = .bool(flag == field) }
                } else {
                    operation = .issueComments
                }
                var cost = CallCost()
                let data = try await client.execute(operation, variables: variables, cost: &cost)
                count(cost, alsoAs: ["nested_requests"])
                spent += cost
                let parent = stream.kind == .pullRequest ? data["repository"]?["pullRequest"] : data["repository"]?["issue"]
                guard let page = parent?[field], let items = page["nodes"]?.array,
                      let hasNext = page["pageInfo"]?["hasNextPage"]?.bool
                else {
                    throw GitHubError(.malformed, "GitHub's \(field) page for #\(number) does not have the expected shape",
                                      retryable: true)
                }
                for item in items {
                    let itemKey = item["databaseId"]?.int.map(String.init) ?? item["path"]?.string ?? item.canonical
                    rows.append(row(kind: kind, key: key + ":" + itemKey, node: item, fetchedAt: fetchedAt,
                                    operation: operation.name, cursor: after.string))
                }
                landed += Int64(items.count)
                pages += 1
                guard hasNext, let next = page["pageInfo"]?["endCursor"]?.string else { break }
                after = .string(next)
            }
            guard landed == total else {
                throw IngestFailure(code: "incomplete", message: """
                    \(stream.kind.rawValue) #\(number) has \(total) \(field) and ingest landed \(landed); \
                    the unit fails rather than report a gap
                    """)
            }
            add(kind + "s", landed)
            let done = Checkpoint(since: context.window.start, cursor: nil, done: true, pages: pages, nodes: landed,
                                  total: total, requests: Int64(spent.requests), points: Int64(spent.points))
            add("new_nodes", Int64(try save(progress, checkpoint: done, rows: rows, coverageTo: nil)))
        }
    }

    /// Asks the prober whether the repository is quiet (see ``Prober``).
    func ask(_ prober: Prober, plan: Plan, estate: [Repository]) async throws -> Prober.Asked {
        let unit = Prober.Unit(context: context, repository: repository, client: client, pageSize: pageSize,
                               database: database)
        return try await prober.ask(unit, plan: plan, estate: estate)
    }

    /// The window start less the overlap: where a stream starts without earlier coverage.
    var base: Date { context.window.start.addingTimeInterval(-IngestStage.overlap) }

    /// Where a stream starts: the window start less the overlap, or — when an earlier run
    /// already covered from before the window start — where that coverage ends.
    func since(for stream: Stream) throws -> Date {
        try coveredSince(for: stream) ?? base
    }

    /// Where an earlier run's coverage of the stream ends (less the overlap), when it reaches
    /// back to the window start; nil when the stream must start at ``base``.
    func coveredSince(for stream: Stream) throws -> Date? {
        guard stream.tracksCoverage else { return nil }
        let rows = try database.query("""
            SELECT covered_from, covered_to FROM ingest_coverage
            WHERE repository = \(repository.slug) AND stream = \(stream.name)
            """)
        guard let row = rows.first, let from = Timestamp.date(try row.string("covered_from")),
              let to = Timestamp.date(try row.string("covered_to")), from <= context.window.start
        else { return nil }
        return max(base, to.addingTimeInterval(-IngestStage.overlap))
    }

    /// When an earlier run last read every open item of an open-item stream.
    func snapshotTime(_ stream: Stream) throws -> Date? {
        guard let row = try database.query("""
            SELECT covered_to FROM ingest_coverage WHERE repository = \(repository.slug) AND stream = \(stream.name)
            """).first else { return nil }
        return Timestamp.date(try row.string("covered_to"))
    }

    func loadCheckpoint(_ stream: Stream) throws -> Checkpoint? {
        guard let row = try database.query("""
            SELECT since, cursor, done, pages, nodes, total_count, requests, points FROM ingest_checkpoints
            WHERE run_id = \(context.runID) AND repository = \(repository.slug) AND stream = \(stream.name)
            """).first, let since = Timestamp.date(try row.string("since"))
        else { return nil }
        return Checkpoint(
            since: since, cursor: row.optionalString("cursor"), done: try row.int("done") != 0,
            pages: try row.int("pages"), nodes: try row.int("nodes"), total: try row.optionalInt("total_count"),
            requests: try row.int("requests"), points: try row.int("points"))
    }

    /// One page's nodes and the stream's checkpoint (and, when done, its coverage): one transaction.
    @discardableResult
    func save(_ stream: Stream, checkpoint: Checkpoint, rows: [[SQLValue]], coverageTo: Date?) throws -> Int {
        let runID = context.runID
        let slug = repository.slug
        let windowStart = context.window.start
        return try database.transaction { tx in
            var inserted = 0
            for row in rows {
                inserted += try tx.query(SQL(unsafeSQL: """
                    INSERT INTO raw_nodes (repository, kind, node_key, content_hash, payload, fetched_at, run_id,
                                           operation, page_cursor)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (content_hash) DO NOTHING
                    RETURNING id
                    """, bindings: row)).count
            }
            try tx.execute("""
                INSERT INTO ingest_checkpoints (run_id, repository, stream, since, cursor, done, pages, nodes,
                                                total_count, requests, points, updated_at)
                VALUES (\(runID), \(slug), \(stream.name), \(Timestamp.string(checkpoint.since)), \(checkpoint.cursor),
                        \(checkpoint.done ? 1 : 0), \(checkpoint.pages), \(checkpoint.nodes), \(checkpoint.total),
                        \(checkpoint.requests), \(checkpoint.points), \(Timestamp.now()))
                ON CONFLICT (run_id, repository, stream) DO UPDATE SET
                    cursor = excluded.cursor, done = excluded.done, pages = excluded.pages, nodes = excluded.nodes,
                    total_count = excluded.total_count, requests = excluded.requests, points = excluded.points,
                    updated_at = excluded.updated_at
                """)
            if let coverageTo, stream.tracksCoverage {
                let existing = try tx.query("""
                    SELECT covered_from, covered_to FROM ingest_coverage
                    WHERE repository = \(slug) AND stream = \(stream.name)
                    """).first
                var from = windowStart
                var to = coverageTo
                if let existing, let oldFrom = Timestamp.date(try existing.string("covered_from")),
                   let oldTo = Timestamp.date(try existing.string("covered_to")) {
                    // The fetched range joins the old one (it starts at or before its end), so they merge.
                    from = min(oldFrom, windowStart)
                    to = max(oldTo, coverageTo)
                }
                try tx.execute("""
                    INSERT INTO ingest_coverage (repository, stream, covered_from, covered_to, updated_at)
                    VALUES (\(slug), \(stream.name), \(Timestamp.string(from)), \(Timestamp.string(to)), \(Timestamp.now()))
                    ON CONFLICT (repository, stream) DO UPDATE SET
                        covered_from = excluded.covered_from, covered_to = excluded.covered_to,
                        updated_at = excluded.updated_at
                    """)
            }
            return inserted
        }
    }

    /// A stream that ended must have landed every node GitHub counted.
    func checkComplete(_ stream: Stream, checkpoint: Checkpoint, endedBySince: Bool) throws {
        guard !endedBySince, let total = checkpoint.total else { return }
        guard checkpoint.nodes == total else {
            throw IngestFailure(code: "incomplete", message: """
                \(stream.name) landed \(checkpoint.nodes) of the \(total) nodes GitHub counted; \
                the unit fails rather than report a gap (a rerun fetches the stream again)
                """)
        }
    }

    func checkLabels(_ node: JSONValue, stream: Stream) throws {
        guard let labels = node["labels"], let total = labels["totalCount"]?.int,
              let read = labels["nodes"]?.array?.count, total > read
        else { return }
        let number = node["number"]?.int.map(String.init) ?? "?"
        throw IngestFailure(code: "incomplete", message: """
            \(stream.kind.rawValue) #\(number) has \(total) labels and ingest reads \(read); \
            refusing to store it with labels missing
            """)
    }

    func nodeKey(_ node: JSONValue, stream: Stream) throws -> String {
        switch stream.kind {
        case .commit:
            if let oid = node["oid"]?.string { return oid }
        case .pullRequest, .issue:
            if let id = node["databaseId"]?.int { return String(id) }
            if let id = node["id"]?.string { return id }
        case .documentation:
            if let oid = node["oid"]?.string, let path = stream.path { return path + ":" + oid }
        case .reviewComment:
            if let id = node["id"]?.int { return String(id) }
        }
        throw IngestFailure(code: "malformed", message: "\(stream.name): a node has no identifier")
    }

    // MARK: Operations and responses

    /// The GraphQL operation that pages a stream; nil for the REST stream.
    static func operation(for stream: Stream) -> GitHub.Operation? {
        switch stream.kind {
        case .commit: return .commits
        case .pullRequest: return stream.readsSummaries ? .openPullRequests : .pullRequests
        case .issue: return stream.readsSummaries ? .openIssues : .issues
        case .documentation: return .documentationHistory
        case .reviewComment: return nil
        }
    }

    func variables(for stream: Stream, since: Date, cursor: String?, size: Int) -> [String: JSONValue] {
        var variables: [String: JSONValue] = [
            "owner": .string(repository.owner), "name": .string(repository.name), "first": .int(Int64(size)),
            "after": cursor.map(JSONValue.string) ?? .null,
        ]
        switch stream.name {
        case Stream.commits.name:
            variables["ref"] = .string("refs/heads/" + repository.defaultBranch)
            variables["since"] = .string(GitHubTime.string(since))
            variables["until"] = .string(GitHubTime.string(context.window.end))
        case Stream.issuesUpdated.name:
            variables["since"] = .string(GitHubTime.string(since))
        case _ where stream.kind == .documentation:
            variables["ref"] = .string("refs/heads/" + repository.defaultBranch)
            variables["path"] = .string(stream.path ?? "")
            variables["since"] = .string(GitHubTime.string(since))
            variables["until"] = .string(GitHubTime.string(context.window.end))
        default:
            break
        }
        return variables
    }

    struct Page {
        let totalCount: Int64?
        let hasNextPage: Bool
        let endCursor: String?
        let nodes: [JSONValue]
    }

    func connection(repository repo: JSONValue, field: String, stream: Stream) throws -> Page {
        let connection: JSONValue?
        if stream.readsHistory {
            if repo["isEmpty"]?.bool == true { return Page(totalCount: 0, hasNextPage: false, endCursor: nil, nodes: []) }
            guard let ref = repo[field], !ref.isNull else {
                throw GitHubError(.notFound, "branch `\(repository.defaultBranch)` not found; set `default_branch` for it")
            }
            connection = ref["target"]?["history"]
        } else {
            connection = repo[field]
        }
        guard let connection, let nodes = connection["nodes"]?.array,
              let hasNext = connection["pageInfo"]?["hasNextPage"]?.bool
        else {
            throw GitHubError(.malformed, "GitHub's \(stream.name) page does not have the expected shape", retryable: true)
        }
        return Page(totalCount: connection["totalCount"]?.int, hasNextPage: hasNext,
                    endCursor: connection["pageInfo"]?["endCursor"]?.string, nodes: nodes)
    }

    /// A hash of every raw node stored for the repository: changes exactly when new data lands.
    func outputHash() throws -> String {
        let rows = try database.query("""
            SELECT content_hash FROM raw_nodes WHERE repository = \(repository.slug) ORDER BY content_hash
            """)
        var hasher = SHA256()
        hasher.update(repository.slug)
        for row in rows { hasher.update(try row.string("content_hash")) }
        return hasher.hexDigest()
    }
}

/// Timestamps as GitHub's GraphQL API takes them: `2026-11-13T00:00:00Z`.
enum GitHubTime {
    static func string(_ date: Date) -> String {
        let text = Timestamp.string(date)
        // Drop the milliseconds: `2026-11-13T00:00:00.000Z` → `2026-11-13T00:00:00Z`.
        return String(text.prefix(19)) + "Z"
    }
}
