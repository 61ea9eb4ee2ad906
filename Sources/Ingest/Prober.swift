import Foundation
import GitHub
import JSON
import Manifest
import Pipeline
import Store
import Synchronization

/// Batches "has anything changed?" for many repositories into one GraphQL request.
///
/// On a later run most repositories of a large estate are quiet, and each would still cost
/// its combined first request (1 point, answered empty). The first unit that could be quiet
/// asks, in one request with an alias per repository, about itself and the next repositories
/// of the estate that no unit has claimed: the branch's tip (any commit landing on it moves the
/// tip, whatever its date), the most recently updated pull request, how many issues were
/// updated since a time, and how many pull requests and issues are open (an item that left the
/// repository changes the count and nothing else). About four connections a repository, so
/// some 37 repositories share 1 point. A unit whose repository is in a probe still in flight
/// waits for its answer; units whose repository came back quiet settle their streams without a
/// request of their own, the rest read as usual. A probe that fails changes nothing: its
/// repositories read as usual.
final class Prober: Sendable {
    enum Outcome: Sendable {
        /// A probe that includes the repository is in flight.
        case claimed
        /// Nothing changed up to this time (the probe's start).
        case quiet(Date)
        /// Something changed, or the probe failed: read as usual (the branch's tip, if known).
        case active(tip: String?)
    }

    /// Connections one probe may ask for: 1 point.
    static let budget = 148
    /// Repositories one probe may ask about.
    static let aliases = 100

    private let outcomes = Mutex<[String: Outcome]>([:])

    static func key(run: Int64, slug: String) -> String { "\(run) \(slug)" }

    /// What one repository's probe asks, and what a quiet answer must say.
    struct Target {
        let repository: Repository
        /// The tip the history streams' coverage was read from (nil: none asked; `.some(nil)`:
        /// unknown, so never quiet).
        var tip: String??
        var pullsSince: Date?
        var issuesSince: Date?
        var openPulls: Int64 = 0
        var openIssues: Int64 = 0

        init(repository: Repository) {
            self.repository = repository
        }

        init(repository: Repository, plan: StreamPlan, store: IngestStore) throws {
            self.repository = repository
            for pending in plan.pending {
                switch pending.stream.kind {
                case .commit, .documentation:
                    let tip = pending.coverage?.tip
                    if let known = self.tip {
                        if known != tip { self.tip = .some(nil) }
                    } else {
                        self.tip = .some(tip)
                    }
                case .pullRequest, .reviewComment:
                    // Writing a review comment moves its pull request's `updatedAt`.
                    pullsSince = min(pullsSince ?? pending.checkpoint.since, pending.checkpoint.since)
                case .issue:
                    issuesSince = min(issuesSince ?? pending.checkpoint.since, pending.checkpoint.since)
                }
            }
            if pullsSince != nil { openPulls = try store.believedOpen(.pullRequest) }
            if issuesSince != nil { openIssues = try store.believedOpen(.issue) }
        }

        var connections: Int { (pullsSince == nil ? 0 : 2) + (issuesSince == nil ? 0 : 2) }
    }

    /// The unit that asks: enough to plan its peers and send a probe.
    struct Unit: Sendable {
        let context: UnitContext
        let repository: Repository
        let client: GitHubClient
        let pageSize: Int
    }

    /// What asking cost the unit: the probe it sent, if any, and what it learnt.
    struct Asked {
        /// Nothing changed in the unit's repository up to this time; nil: read as usual.
        var quietUntil: Date?
        /// The branch's tip as the probe saw it.
        var tip: String?
        var cost = CallCost()
        var probed = 0
    }

    /// Whether the unit's repository is quiet (and up to when), probing it with the next
    /// unclaimed repositories of `estate` when nobody has yet.
    func ask(_ session: Unit, plan: StreamPlan, estate: [Repository]) async throws -> Asked {
        let run = session.context.runID
        let own = Self.key(run: run, slug: session.repository.slug)
        if !claim(own) {
            // Another unit's probe includes this repository: wait for its answer (one request).
            while true {
                switch outcomes.withLock({ $0[own] }) {
                case .quiet(let until): return Asked(quietUntil: until)
                case .active(let tip): return Asked(tip: tip)
                case nil: return Asked()
                case .claimed: try await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        let store = { (repository: Repository) in
            IngestStore(
                database: session.context.database, runID: run, slug: repository.slug,
                windowStart: session.context.window.start)
        }
        var batch = [try Target(repository: session.repository, plan: plan, store: store(session.repository))]
        var connections = batch[0].connections
        // Claim the candidates at once (the repositories after this one in estate order, then
        // those before it), so that units starting together share one probe; release those
        // that cannot join (nothing to probe, or past the budget).
        let position = estate.firstIndex { $0.slug == session.repository.slug } ?? estate.count
        let order = estate.suffix(from: min(position + 1, estate.count)) + estate.prefix(upTo: min(position, estate.count))
        let candidates: [Repository] = outcomes.withLock { outcomes in
            var taken: [Repository] = []
            for other in order where taken.count < Self.aliases - 1 {
                let key = Self.key(run: run, slug: other.slug)
                guard outcomes[key] == nil else { continue }
                outcomes[key] = .claimed
                taken.append(other)
            }
            return taken
        }
        var released: [String] = []
        for other in candidates {
            let streams = RepositoryStream.streams(
                for: session.context.manifest.github.collect, documentationPaths: other.documentationPaths)
            let peerStore = store(other)
            let peerPlan = try? Planner.plan(streams, window: session.context.window, overlap: IngestStage.overlap) { stream in
                (try peerStore.checkpoint(stream), try peerStore.coverage(stream))
            }
            let target = peerPlan.flatMap { peerPlan in
                peerPlan.incremental && !peerPlan.pending.isEmpty
                    ? try? Target(repository: other, plan: peerPlan, store: peerStore) : nil
            }
            guard let target, connections + target.connections <= Self.budget else {
                released.append(Self.key(run: run, slug: other.slug))
                continue
            }
            batch.append(target)
            connections += target.connections
        }
        // A released repository's unit reads as usual (or asks again, if it has not started).
        outcomes.withLock { outcomes in for key in released { outcomes[key] = nil } }
        if batch.count == 1 {
            // Alone, a probe costs what the repository's own first request costs and says less.
            outcomes.withLock { $0[own] = .active(tip: nil) }
            return Asked()
        }
        let started = Date()
        var asked = Asked(probed: batch.count)
        var answers: JSONValue?
        var cancelled = false
        do {
            answers = try await send(batch, session: session, cost: &asked.cost)
        } catch is CancellationError {
            cancelled = true
        } catch {
            // Any other failure: every repository of the batch reads as usual.
        }
        var results: [String: Outcome] = [:]
        for (index, target) in batch.enumerated() {
            let answer = answers?["r\(index)"]
            let quiet = answer.map { Self.isQuiet($0, target: target) } ?? false
            results[Self.key(run: run, slug: target.repository.slug)] =
                quiet
                ? .quiet(started) : .active(tip: answer?["branch"]?["target"]?["oid"]?.string)
        }
        outcomes.withLock { outcomes in outcomes.merge(results) { _, new in new } }
        if cancelled { throw CancellationError() }
        switch results[own] {
        case .quiet(let until): asked.quietUntil = until
        case .active(let tip): asked.tip = tip
        default: break
        }
        return asked
    }

    /// Claims a repository for a probe; false when some unit already has.
    private func claim(_ key: String) -> Bool {
        outcomes.withLock { outcomes in
            guard outcomes[key] == nil else { return false }
            outcomes[key] = .claimed
            return true
        }
    }

    /// Sends one probe. A repository that is gone or that the token may not read is null in the
    /// answer (a `NOT_FOUND` or `FORBIDDEN` error for its alias) and not quiet; the others count.
    private func send(_ batch: [Target], session: Unit, cost: inout CallCost) async throws -> JSONValue {
        let request = ProbeRequest(
            targets: batch.map { target in
                ProbeRequest.Target(
                    owner: target.repository.owner, name: target.repository.name, branch: target.repository.defaultBranch,
                    issuesSince: target.issuesSince, commits: target.tip != nil, pulls: target.pullsSince != nil)
            }, epoch: session.context.window.start)
        return try await session.client.executeBatch(request, cost: &cost).data
    }

    /// Quiet: the branch's tip is the one the history was read from (or the repository is still
    /// empty), no pull request updated since, no issue updated since, and as many pull
    /// requests and issues open as ingest believes. Anything missing from the answer counts as
    /// a change.
    static func isQuiet(_ answer: JSONValue, target: Target) -> Bool {
        guard !answer.isNull else { return false }
        if let expected = target.tip {
            let tip = answer["branch"]?["target"]?["oid"]?.string
            if answer["isEmpty"]?.bool == true {
                // Still empty: nothing was read and nothing is there.
                guard tip == nil, expected == nil else { return false }
            } else {
                // An unknown tip (coverage from before tips were kept) is never quiet.
                guard let expected, let tip, expected == tip else { return false }
            }
        }
        if let since = target.pullsSince {
            guard let nodes = answer["pullRequests"]?["nodes"]?.array,
                answer["openPulls"]?["totalCount"]?.int == target.openPulls
            else { return false }
            if let newest = nodes.first {
                guard let updated = newest["updatedAt"]?.string.flatMap(Timestamp.date), updated < since else { return false }
            }
        }
        if target.issuesSince != nil {
            guard answer["issues"]?["totalCount"]?.int == 0, answer["openIssues"]?["totalCount"]?.int == target.openIssues
            else { return false }
        }
        return true
    }
}
