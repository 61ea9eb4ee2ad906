import Foundation

extension FakeGitHub {
    /// One change to a repository between the pages of a read (``LiveChanges``), in turn:
    /// touch an item (a comment moves its `updatedAt`, so it jumps to the head of a list ordered
    /// by it), merge an open pull request, open an issue, close an open issue, open a pull
    /// request, touch an issue. Changes happen now (`Date()`), as on GitHub.
    func change(_ state: inout State, repository slug: String) {
        guard let live = state.behaviour.live, let index = state.estate.index(of: slug),
            state.changes[slug, default: 0] < live.perRepository
        else { return }
        let turn = state.changes[slug, default: 0]
        state.changes[slug] = turn + 1
        state.stats.liveChanges += 1
        let now = Date()
        state.nextId += 1
        let id = state.nextId
        var repo = state.estate.repositories[index]
        let byAge: (Date, Date) -> Bool = { $0 < $1 }
        let openPulls = repo.pullRequests.indices.filter { repo.pullRequests[$0].state == .open }
            .sorted { byAge(repo.pullRequests[$0].updatedAt, repo.pullRequests[$1].updatedAt) }
        let openIssues = repo.issues.indices.filter { repo.issues[$0].state == .open }
            .sorted { byAge(repo.issues[$0].updatedAt, repo.issues[$1].updatedAt) }
        /// Oldest first: the newest, or one spread over the list (often one a reader has
        /// already listed as open).
        func pick(_ open: [Int], newest: Bool) -> Int? {
            guard let last = open.last else { return nil }
            return newest ? last : open[Self.spread(slug, turn, open.count)]
        }
        switch live.changes[turn % live.changes.count] {
        case .commentOnPullRequest:
            guard let target = openPulls.first else { break }
            repo.pullRequests[target].updatedAt = now
            repo.pullRequests[target].comments.append(
                FakeComment(
                    databaseId: id, author: EstateGenerator.humans[1],
                    createdAt: now))
        case .mergePullRequest(let newest):
            guard let target = pick(openPulls, newest: newest) else { break }
            repo.pullRequests[target].updatedAt = now
            repo.pullRequests[target].state = .merged
            repo.pullRequests[target].mergedAt = now
            repo.pullRequests[target].closedAt = now
            repo.pullRequests[target].isDraft = false
        case .openIssue:
            let number = (repo.issues.map(\.number).max() ?? 1000) + 1
            repo.issues.append(
                FakeIssue(
                    databaseId: id, number: number, title: "Opened while you read", state: .open,
                    stateReason: nil, createdAt: now, updatedAt: now, closedAt: nil,
                    author: EstateGenerator.humans[2], labels: ["bug"]))
        case .closeIssue(let newest):
            guard let target = pick(openIssues, newest: newest) else { break }
            repo.issues[target].state = .closed
            repo.issues[target].stateReason = .completed
            repo.issues[target].closedAt = now
            repo.issues[target].updatedAt = now
        case .openPullRequest:
            let number = (repo.pullRequests.map(\.number).max() ?? 0) + 1
            repo.pullRequests.append(
                FakePullRequest(
                    databaseId: id, number: number, title: "Opened while you read", state: .open, isDraft: false,
                    createdAt: now, updatedAt: now, mergedAt: nil, closedAt: nil, baseRefName: repo.defaultBranch,
                    headRefName: "feature/live-\(number)", additions: 3, deletions: 1, changedFiles: 1,
                    author: EstateGenerator.humans[3], labels: [], commitCount: 1,
                    files: [FakeFile(path: "Sources/Live.swift", additions: 3, deletions: 1, changeType: "ADDED")]))
        case .commentOnIssue:
            guard let target = repo.issues.indices.min(by: { byAge(repo.issues[$0].updatedAt, repo.issues[$1].updatedAt) })
            else { break }
            repo.issues[target].updatedAt = now
            repo.issues[target].comments.append(FakeComment(databaseId: id, author: EstateGenerator.humans[4], createdAt: now))
        }
        state.estate.repositories[index] = repo
    }

    /// A position in a list of `count`, spread over the list by repository and turn (the same
    /// each time: runs are repeatable).
    static func spread(_ slug: String, _ turn: Int, _ count: Int) -> Int {
        let seed = slug.unicodeScalars.reduce(UInt64(turn) &* 0x9E37_79B9) { ($0 &* 31) &+ UInt64($1.value) }
        return Int(seed % UInt64(count))
    }
}

extension FakeEstate {
    /// Transfers issue `number` of `slug` to `target` (another repository of the same owner),
    /// where it gets the next free number and keeps its node id; it is gone from `slug`.
    @discardableResult
    public mutating func transferIssue(_ number: Int, of slug: String, to target: String) -> Int? {
        guard let from = index(of: slug), let issue = repositories[from].issues.first(where: { $0.number == number })
        else { return nil }
        repositories[from].issues.removeAll { $0.number == number }
        var moved = issue
        let newNumber: Int
        if let to = index(of: target) {
            newNumber = (repositories[to].issues.map(\.number).max() ?? 0) + 1
            moved.number = newNumber
            repositories[to].issues.append(moved)
        } else {
            newNumber = number
        }
        gone[issue.nodeId] = .transferred(to: target, number: newNumber)
        return newNumber
    }

    /// Converts issue `number` of `slug` to a discussion: gone from the issues; its node id
    /// resolves to a `Discussion`.
    public mutating func convertIssueToDiscussion(_ number: Int, of slug: String) {
        guard let from = index(of: slug), let issue = repositories[from].issues.first(where: { $0.number == number })
        else { return }
        repositories[from].issues.removeAll { $0.number == number }
        gone[issue.nodeId] = .convertedToDiscussion(repository: repositories[from].slug, number: number)
    }

    /// Deletes issue `number` of `slug`: its node id resolves to nothing.
    public mutating func deleteIssue(_ number: Int, of slug: String) {
        guard let from = index(of: slug), let issue = repositories[from].issues.first(where: { $0.number == number })
        else { return }
        repositories[from].issues.removeAll { $0.number == number }
        gone[issue.nodeId] = .deleted
    }
}

extension FakeRepository {
    /// Every change to a file under `path` on the default branch, commit by commit as they
    /// landed: (commit, file, `added` | `modified` | `removed`) — the ground truth of
    /// documentation changes, derived from what each commit wrote, not from git trees.
    public func fileChanges(under path: String) -> [(commit: FakeCommit, path: String, kind: String)] {
        var existing: Set<String> = []
        var changes: [(FakeCommit, String, String)] = []
        let prefix = path.hasSuffix("/") ? String(path.dropLast()) : path
        func under(_ file: String) -> Bool { file == prefix || file.hasPrefix(prefix + "/") }
        for commit in landed {
            for file in commit.paths {
                if under(file) { changes.append((commit, file, existing.contains(file) ? "modified" : "added")) }
                existing.insert(file)
            }
            for file in commit.removed where existing.contains(file) {
                if under(file) { changes.append((commit, file, "removed")) }
                existing.remove(file)
            }
        }
        return changes
    }
}
