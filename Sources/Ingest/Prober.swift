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
/// of the estate that no unit has claimed: commits and documentation paths since their
/// coverage (`totalCount`), the most recently updated pull request, issues updated since.
/// About five connections a repository, so some 29 repositories share 1 point. A unit whose
/// repository is in a probe still in flight waits for its answer; units whose repository came
/// back quiet settle their streams without a request of their own, the rest read as usual.
/// A probe that fails changes nothing: its repositories read as usual.
final class Prober: Sendable {
    enum Outcome: Sendable {
        /// A probe that includes the repository is in flight.
        case claimed
        /// Nothing changed up to this time (the probe's start).
        case quiet(Date)
        /// Something changed, or the probe failed: read as usual.
        case active
    }

    /// Connections one probe may ask for: 1 point.
    static let budget = 148

    private let outcomes = Mutex<[String: Outcome]>([:])

    static func key(run: Int64, slug: String) -> String { "\(run) \(slug)" }

    /// What one repository's probe asks: where each of its pending streams starts.
    struct Target {
        let repository: Repository
        var commitsSince: Date?
        var pullsSince: Date?
        var issuesSince: Date?
        var documentation: [(path: String, since: Date)] = []

        init(repository: Repository, plan: IngestSession.Plan) {
            self.repository = repository
            for (stream, checkpoint) in plan.pending {
                switch stream.kind {
                case .commit: commitsSince = checkpoint.since
                case .pullRequest, .reviewComment:
                    // Writing a review comment moves its pull request's `updatedAt`.
                    pullsSince = min(pullsSince ?? checkpoint.since, checkpoint.since)
                case .issue: issuesSince = checkpoint.since
                case .documentation: documentation.append((stream.path ?? "", checkpoint.since))
                }
            }
        }

        var connections: Int {
            (commitsSince == nil ? 0 : 1) + (pullsSince == nil ? 0 : 1) + (issuesSince == nil ? 0 : 1) + documentation.count
        }
    }

    /// The unit that asks: enough to plan its peers and send a probe.
    struct Unit: Sendable {
        let context: UnitContext
        let repository: Repository
        let client: GitHubClient
        let pageSize: Int
        let database: Database
    }

    /// What asking cost the unit: the probe it sent, if any.
    struct Asked {
        /// Nothing changed in the unit's repository up to this time; nil: read as usual.
        var quietUntil: Date?
        var cost = CallCost()
        var probed = 0
    }

    /// Whether `session`'s repository is quiet (and up to when), probing it with the next
    /// unclaimed repositories of `estate` when nobody has yet.
    func ask(_ session: Unit, plan: IngestSession.Plan, estate: [Repository]) async throws -> Asked {
        let run = session.context.runID
        let own = Self.key(run: run, slug: session.repository.slug)
        if !claim(own) {
            // Another unit's probe includes this repository: wait for its answer (one request).
            while true {
                switch outcomes.withLock({ $0[own] }) {
                case .quiet(let until): return Asked(quietUntil: until)
                case .active, nil: return Asked()
                case .claimed: try await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        var batch = [Target(repository: session.repository, plan: plan)]
        var connections = batch[0].connections
        // Claim the candidates at once (the repositories after this one in estate order, then
        // those before it), so that units starting together share one probe; release those
        // that cannot join (nothing to probe, or past the budget).
        let position = estate.firstIndex { $0.slug == session.repository.slug } ?? estate.count
        let order = estate.suffix(from: min(position + 1, estate.count)) + estate.prefix(upTo: min(position, estate.count))
        let candidates: [Repository] = outcomes.withLock { outcomes in
            var taken: [Repository] = []
            for other in order where taken.count < Self.budget / 3 {
                let key = Self.key(run: run, slug: other.slug)
                guard outcomes[key] == nil else { continue }
                outcomes[key] = .claimed
                taken.append(other)
            }
            return taken
        }
        var released: [String] = []
        for other in candidates {
            let peer = IngestSession(context: session.context, repository: other, client: session.client,
                                     pageSize: session.pageSize, database: session.database)
            let streams = Stream.streams(for: session.context.manifest.github.collect,
                                         documentationPaths: other.documentationPaths)
            let target = (try? peer.plan(streams)).flatMap { peerPlan in
                peerPlan.incremental && !peerPlan.pending.isEmpty ? Target(repository: other, plan: peerPlan) : nil
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
            outcomes.withLock { $0[own] = .active }
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
            let quiet = answers.map { Self.isQuiet($0["r\(index)"], target: target) } ?? false
            results[Self.key(run: run, slug: target.repository.slug)] = quiet ? .quiet(started) : .active
        }
        outcomes.withLock { outcomes in outcomes.merge(results) { _, new in new } }
        if cancelled { throw CancellationError() }
        if case .quiet(let until) = results[own] { asked.quietUntil = until }
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

    /// Sends one probe.
    private func send(_ batch: [Target], session: Unit, cost: inout CallCost) async throws -> JSONValue {
        var variables: [String: JSONValue] = ["until": .string(GitHubTime.string(session.context.window.end))]
        let epoch = GitHubTime.string(session.context.window.start)
        for (index, target) in batch.enumerated() {
            let repository = target.repository
            variables["o\(index)"] = .string(repository.owner)
            variables["n\(index)"] = .string(repository.name)
            variables["r\(index)"] = .string("refs/heads/" + repository.defaultBranch)
            variables["c\(index)"] = .string(target.commitsSince.map(GitHubTime.string) ?? epoch)
            variables["s\(index)"] = .string(target.issuesSince.map(GitHubTime.string) ?? epoch)
            variables["wc\(index)"] = .bool(target.commitsSince != nil)
            variables["wp\(index)"] = .bool(target.pullsSince != nil)
            variables["wi\(index)"] = .bool(target.issuesSince != nil)
            for (path, item) in target.documentation.enumerated() {
                variables["d\(index)_\(path)"] = .string(item.path)
                variables["e\(index)_\(path)"] = .string(GitHubTime.string(item.since))
            }
        }
        let operation = GitHub.Operation.probe(documentationPaths: batch.map(\.documentation.count))
        // A repository that is gone is null in the answer (and not quiet); the others still count.
        return try await session.client.execute(operation, variables: variables, cost: &cost, partial: true)
    }

    /// Quiet: the branch exists (or the repository is empty), and no commit, documentation
    /// change, pull request update or issue update since each stream's start. Anything
    /// missing from the answer counts as a change.
    static func isQuiet(_ answer: JSONValue?, target: Target) -> Bool {
        guard let answer, !answer.isNull else { return false }
        let empty = answer["isEmpty"]?.bool == true
        let histories = answer["ref"]?["target"]
        func count(_ alias: String) -> Int64? { histories?[alias]?["totalCount"]?.int }
        if !empty {
            // A missing branch is for the repository's own read to report.
            if target.commitsSince != nil && count("c") != 0 { return false }
            for index in target.documentation.indices where count("d\(index)") != 0 { return false }
        }
        if let since = target.pullsSince {
            guard let nodes = answer["pullRequests"]?["nodes"]?.array else { return false }
            if let newest = nodes.first {
                guard let updated = newest["updatedAt"]?.string.flatMap(Timestamp.date), updated < since else { return false }
            }
        }
        if target.issuesSince != nil && answer["issues"]?["totalCount"]?.int != 0 { return false }
        return true
    }
}
