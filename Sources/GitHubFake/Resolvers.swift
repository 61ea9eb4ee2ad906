import Foundation
import JSON

/// What the fake answers for each operation, from the estate: objects with every field it
/// models and connections as whole lists; the query's selection and page sizes are applied
/// afterwards (``QueryDocument``), so nothing here assumes what a client asks.
struct Resolver {
    let estate: FakeEstate
    let variables: JSONValue
    /// The request's document and operation: lists are paged as the query asks, building only
    /// the page's nodes.
    let document: QueryDocument
    let operation: String
    /// Repositories the token may not read, and whether because of SAML single sign-on.
    let forbidden: [String: Bool]

    /// Top-level fields and the errors GitHub would report beside them.
    struct Answer {
        var data: [String: JSONValue] = [:]
        var errors: [JSONValue] = []
    }

    func resolve(_ operation: String) -> Answer? {
        switch operation {
        case "Viewer":
            return Answer(data: ["viewer": ["login": "ghillie-test"]])
        case "Budget":
            return Answer()
        case "ProbeRepositories", "EstateCheck":
            return aliasedRepositories(operation)
        case "ResolveIssues", "ResolvePullRequests":
            return resolveItems()
        case "RepositoryFirstPages", "RepositoryCommits", "DocumentationHistory", "RepositoryPullRequests",
            "RepositoryOpenPullRequests", "RepositoryIssues", "RepositoryOpenIssues", "PullRequestConnection",
            "IssueComments", "DocumentationTrees":
            let owner = variables["owner"]?.string ?? ""
            let name = variables["name"]?.string ?? ""
            var answer = Answer()
            if let problem = problem(owner: owner, name: name, alias: "repository") {
                answer.data["repository"] = .null
                answer.errors.append(problem)
                return answer
            }
            guard let repo = estate.repository(owner: owner, name: name) else { return answer }
            answer.data["repository"] = repository(operation, repo, errors: &answer.errors)
            return answer
        default:
            return nil
        }
    }

    /// The page of a list the query asks for at `path` (response keys), or nil when it does not
    /// select the list. `keys` increase along the list; `node` builds the item at an index.
    func paged(_ path: [String], keys: [String], node: (Int) -> JSONValue) -> JSONValue? {
        guard let arguments = document.arguments(operation: operation, path: path, variables: variables) else { return nil }
        return QueryDocument.page(keys: keys, totalCount: keys.count, arguments: arguments, node: node)
    }

    /// `NOT_FOUND` for a repository that does not exist, `FORBIDDEN` for one the token may not
    /// read (with `extensions.saml_failure` when the organisation enforces SAML SSO), as GitHub
    /// reports them: the alias is null and the error names its path.
    func problem(owner: String, name: String, alias: String) -> JSONValue? {
        let slug = "\(owner)/\(name)"
        if let saml = forbidden[slug.lowercased()] {
            var error: [String: JSONValue] = ["type": "FORBIDDEN", "path": [.string(alias)]]
            if saml {
                error["message"] =
                    "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization."
                error["extensions"] = ["saml_failure": true]
            } else {
                error["message"] = "Resource not accessible by personal access token"
            }
            return .object(error)
        }
        guard estate.repository(owner: owner, name: name) == nil else { return nil }
        return [
            "type": "NOT_FOUND", "path": [.string(alias)],
            "message": .string("Could not resolve to a Repository with the name '\(slug)'."),
        ]
    }

    // MARK: One repository

    func repository(_ operation: String, _ repo: FakeRepository, errors: inout [JSONValue]) -> JSONValue {
        var node = Nodes.repository(repo)
        let slug = repo.slug
        node.merge(lists(repo, at: ["repository"], errors: &errors)) { _, list in list }
        let since = variables["since"]?.string.flatMap(Nodes.parse)
        switch operation {
        case "RepositoryFirstPages":
            let branch = variables["ref"]?.string.map(FakeRepository.branchName)
            node["branch"] = self.branch(repo, named: branch, since: since, path: nil, at: ["repository", "branch"])
            for slot in 0..<4 where variables["doc\(slot)Path"] != nil {
                let path = variables["doc\(slot)Path"]?.string ?? ""
                let slotSince = variables["doc\(slot)Since"]?.string.flatMap(Nodes.parse)
                node["doc\(slot)"] = self.branch(
                    repo, named: branch, since: slotSince, path: path, at: ["repository", "doc\(slot)"])
            }
        case "RepositoryCommits", "DocumentationHistory":
            let tip = variables["tip"]?.string ?? ""
            let path = operation == "DocumentationHistory" ? variables["path"]?.string : nil
            node["tip"] =
                history(repo, from: tip, since: since, path: path, at: ["repository", "tip", "history"])
                .map { ["__typename": "Commit", "oid": .string(tip), "history": $0] } ?? .null
        case "PullRequestConnection":
            let number = Int(variables["number"]?.int ?? 0)
            node["pullRequest"] =
                repo.pullRequests.first { $0.number == number }.map { Nodes.pullRequest($0, repository: slug) }
                ?? .null
        case "IssueComments":
            let number = Int(variables["number"]?.int ?? 0)
            node["issue"] = repo.issues.first { $0.number == number }.map { Nodes.issue($0, repository: slug) } ?? .null
        case "DocumentationTrees":
            let git = FakeGit(landed: repo.landed + repo.otherBranches.values.joined())
            var index = 0
            while let oid = variables["t\(index)"]?.string {
                node["t\(index)"] = Nodes.tree(oid, git: git)
                index += 1
            }
        default:
            break
        }
        return .object(node)
    }

    /// Every pull request and issue list the query selects on the repository at `path`, each
    /// filtered and ordered as its own arguments say (`states`, `filterBy: { states, since }`,
    /// `orderBy`): the fake reads a list's filters from the query, never from what it expects a
    /// client to send, so two aliases of one list with different arguments get different
    /// answers, as on GitHub.
    func lists(_ repo: FakeRepository, at path: [String], errors: inout [JSONValue]) -> [String: JSONValue] {
        var lists: [String: JSONValue] = [:]
        for (key, name) in document.fields(operation: operation, path: path, variables: variables)
        where name == "pullRequests" || name == "issues" {
            guard let arguments = document.arguments(operation: operation, path: path + [key], variables: variables) else {
                continue
            }
            let states = Set((arguments["states"] ?? arguments["filterBy"]?["states"])?.array?.compactMap(\.string) ?? [])
            let since = arguments["filterBy"]?["since"]?.string.flatMap(Nodes.parse)
            let order = arguments["orderBy"]
            let newestFirst: Bool
            switch (order?["field"]?.string, order?["direction"]?.string) {
            case (nil, _): newestFirst = false
            case ("UPDATED_AT", "DESC"): newestFirst = true
            default:
                errors.append([
                    "message": .string("The fake GitHub does not model orderBy \(order?.canonical ?? "") on \(name)"),
                    "path": .array((path + [key]).map(JSONValue.string)),
                ])
                lists[key] = .null
                continue
            }
            // Without `orderBy`, GitHub lists in creation order (numbers rise with it).
            func sorted<Item>(_ items: [Item], updated: (Item) -> Date, number: (Item) -> Int) -> ([Item], [String]) {
                let items =
                    newestFirst
                    ? items.sorted { (updated($0), number($0)) > (updated($1), number($1)) }
                    : items.sorted { number($0) < number($1) }
                return (
                    items,
                    items.map { newestFirst ? Nodes.newestFirst(updated($0), number($0)) : Nodes.ascending(Int64(number($0))) }
                )
            }
            if name == "pullRequests" {
                let (pulls, keys) = sorted(
                    repo.pullRequests.filter { states.isEmpty || states.contains($0.state.rawValue) },
                    updated: \.updatedAt, number: \.number)
                lists[key] = paged(path + [key], keys: keys) { Nodes.pullRequest(pulls[$0], repository: repo.slug) }
            } else {
                let matching = repo.issues.filter { issue in
                    (states.isEmpty || states.contains(issue.state.rawValue)) && (since.map { issue.updatedAt >= $0 } ?? true)
                }
                let (issues, keys) = sorted(matching, updated: \.updatedAt, number: \.number)
                lists[key] = paged(path + [key], keys: keys) { Nodes.issue(issues[$0], repository: repo.slug) }
            }
        }
        return lists
    }

    /// A branch (`ref(qualifiedName:)`, or `defaultBranchRef` when `named` is nil) with its tip's
    /// history since a time (`path`: only commits that touched it, as documentation nodes).
    func branch(_ repo: FakeRepository, named: String?, since: Date?, path: String?, at field: [String]) -> JSONValue {
        let name = named ?? repo.defaultBranch
        guard let commits = repo.branch(name), let tip = commits.last else { return .null }
        var target: [String: JSONValue] = ["__typename": "Commit", "oid": .string(tip.oid)]
        target["history"] = history(repo, from: tip.oid, since: since, path: path, at: field + ["target", "history"]) ?? .null
        return ["name": .string(name), "target": .object(target)]
    }

    /// `Commit.history` from `tip`: the commits reachable from it (those that landed on its
    /// branch up to it) with `committedDate` in [since, until], newest first — git filters on
    /// the committer date — and, with `path`, only those that changed something under it.
    /// Pages of a history are stable: the commits reachable from a commit never change.
    func history(_ repo: FakeRepository, from tip: String, since: Date?, path: String?, at field: [String]) -> JSONValue? {
        let branches = [repo.landed] + Array(repo.otherBranches.values)
        guard let commits = branches.first(where: { $0.contains { $0.oid == tip } }),
            let end = commits.firstIndex(where: { $0.oid == tip })
        else { return nil }
        let reachable = Array(commits[...end])
        let until = variables["until"]?.string.flatMap(Nodes.parse)
        let matching =
            reachable
            .filter { commit in
                (since.map { commit.committedDate >= $0 } ?? true) && (until.map { commit.committedDate <= $0 } ?? true)
                    && (path.map { path in (commit.paths + commit.removed).contains { Self.isUnder($0, path) } } ?? true)
            }
            .sorted { ($0.committedDate, $0.oid) > ($1.committedDate, $1.oid) }
        var git: FakeGit?
        return paged(field, keys: matching.indices.map { String(format: "%08d", $0) }) { index in
            let commit = matching[index]
            var node = Nodes.commit(commit)
            if let path {
                let tree = git ?? FakeGit(landed: reachable)
                git = tree
                node["file"] = tree.entry(path, at: commit.oid).map { Nodes.entry($0, path: path, git: tree) } ?? .null
                let parent = tree.parents[commit.oid]
                let before = parent.flatMap { tree.entry(path, at: $0) }.map { Nodes.entry($0, path: path, git: tree) } ?? .null
                node["parents"] = Nodes.connection(
                    parent.map { [["__typename": "Commit", "oid": .string($0), "file": before]] } ?? [],
                    keys: parent.map { [$0] } ?? [])
            }
            return .object(node)
        } ?? .null
    }

    static func isUnder(_ file: String, _ path: String) -> Bool {
        file == path || file.hasPrefix(path + "/")
    }

    // MARK: Many repositories

    /// `ProbeRepositories` and `EstateCheck`: an alias `rI` per repository (`oI`/`nI`).
    func aliasedRepositories(_ operation: String) -> Answer {
        var answer = Answer()
        var index = 0
        while let owner = variables["o\(index)"]?.string, let name = variables["n\(index)"]?.string {
            let alias = "r\(index)"
            defer { index += 1 }
            if let problem = problem(owner: owner, name: name, alias: alias) {
                answer.data[alias] = .null
                answer.errors.append(problem)
                continue
            }
            guard let repo = estate.repository(owner: owner, name: name) else { continue }
            var node = Nodes.repository(repo)
            let branch = (variables["r\(index)"] ?? variables["b\(index)"])?.string.map(FakeRepository.branchName)
            let ref = self.branch(repo, named: branch, since: .distantFuture, path: nil, at: [alias, "branch"])
            node["branch"] = ref
            node["named"] = ref
            node.merge(lists(repo, at: [alias], errors: &answer.errors)) { _, list in list }
            answer.data[alias] = .object(node)
        }
        return answer
    }

    /// `nodes(ids:)`: pull requests and issues wherever they are now (a transferred issue keeps
    /// its node id in its new repository), a discussion an issue became, or null with a
    /// `NOT_FOUND` error for a deleted one.
    func resolveItems() -> Answer {
        var answer = Answer()
        var nodes: [JSONValue] = []
        for (index, id) in (variables["ids"]?.array ?? []).compactMap(\.string).enumerated() {
            if let found = find(id) {
                nodes.append(found)
                continue
            }
            if case .convertedToDiscussion(let home, let number)? = estate.gone[id] {
                nodes.append([
                    "__typename": "Discussion", "id": .string("D_\(id)"), "number": .int(Int64(number)),
                    "repository": ["nameWithOwner": .string(home)],
                ])
                continue
            }
            nodes.append(.null)
            answer.errors.append([
                "type": "NOT_FOUND", "path": ["nodes", .int(Int64(index))],
                "message": .string("Could not resolve to a node with the global id of '\(id)'"),
            ])
        }
        answer.data["nodes"] = .array(nodes)
        return answer
    }

    func find(_ id: String) -> JSONValue? {
        for repo in estate.repositories {
            if let issue = repo.issues.first(where: { $0.nodeId == id }) { return Nodes.issue(issue, repository: repo.slug) }
            if let pull = repo.pullRequests.first(where: { $0.nodeId == id }) {
                return Nodes.pullRequest(pull, repository: repo.slug)
            }
        }
        return nil
    }
}
