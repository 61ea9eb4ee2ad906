import ArgumentParser
import Foundation
import GitHub
import HTTP
import JSON
import Manifest
import Pipeline
import Report
import Store

/// `ghillie-run check MANIFEST`: are the providers ready? One line per check.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that a manifest's providers are ready: GitHub token and budget, every repository, model, store.",
        discussion: """
            Checks: the GitHub token (login, GraphQL budget, scopes); the REST API, when review comments are \
            collected (GET /rate_limit, free of charge); every repository of the estate, in batched queries of up to \
            100 (about 1 point each): found, readable (not FORBIDDEN by SAML single sign-on or a token's \
            permissions), one item of each kind the manifest collects (naming the repository permissions a \
            fine-grained token or an App lacks), empty, archived, and its default branch (and the manifest's, when \
            it names one); the model endpoint, \
            when reports use one; the store (a write that is rolled back); with GHILLIE_CA_BUNDLE, the extra \
            certificates peers are verified with. Exit code 0 when every check passes, 5 when \
            any fails. Secrets are never printed.
            """)

    @Argument(help: "The run manifest.")
    var manifest: String

    @OptionGroup var global: GlobalOptions

    struct CheckDoc: Encodable {
        let check: String
        let ok: Bool
        let message: String
    }

    /// One repository as the estate check found it.
    struct RepositoryDoc: Encodable {
        let repository: String
        /// `ok`, `empty`, `archived`, `not_found`, `forbidden`, `branch_not_found`.
        let status: String
        let ok: Bool
        let defaultBranch: String?
        let message: String

        enum CodingKeys: String, CodingKey {
            case repository, status, ok, message
            case defaultBranch = "default_branch"
        }
    }

    struct Output: Encodable {
        let schemaVersion: Int
        let checks: [CheckDoc]
        let repositories: [RepositoryDoc]

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case checks
            case repositories
        }
    }

    func run() async throws {
        let terminal = global.terminal
        let loaded = try loadManifest(manifest, terminal: terminal, verbosity: global.verbosity)
        let environment = ProcessInfo.processInfo.environment
        var checks: [CheckDoc] = []
        if let path = environment[Trust.variable], !path.isEmpty, let trust = try? Trust.fromEnvironment(environment) {
            // (One that cannot be used stopped the command before it started.)
            checks.append(
                CheckDoc(
                    check: "tls", ok: true,
                    message: "peers verified with the system's certificates and \(trust.extraCertificates) from "
                        + "\(Trust.variable) (\(path))"))
        }
        let client = githubClient(
            loaded, environment: environment, owner: loaded.estate.repositories.first?.owner ?? "")
        checks.append(await github(loaded, client: client))
        if loaded.github.collect.contains(.review_comments) {
            checks.append(await githubREST(client))
        }
        var repositories: [RepositoryDoc] = []
        if case .success = client {
            // An App's installation, or an owner's own token, reads that owner's repositories:
            // then one client per owner.
            let (check, found) = await estate(loaded) { owner in
                Self.perOwner(loaded) ? githubClient(loaded, environment: environment, owner: owner) : client
            }
            checks.append(check)
            repositories = found
        }
        if let report = loaded.report {
            let result = await ModelCheck.check(report.model, environment: environment)
            checks.append(CheckDoc(check: "model", ok: result.ok, message: result.message))
        }
        checks.append(store(loaded, environment: environment))
        let clean = Redaction(loaded, environment: environment)
        checks = checks.map { CheckDoc(check: $0.check, ok: $0.ok, message: clean($0.message)) }
        if global.output == .json {
            terminal.out(
                Documents.encode(
                    Output(
                        schemaVersion: Documents.schemaVersion, checks: checks,
                        repositories: repositories.map {
                            RepositoryDoc(
                                repository: $0.repository, status: $0.status, ok: $0.ok,
                                defaultBranch: $0.defaultBranch, message: clean($0.message))
                        })))
        } else {
            for check in checks {
                let mark =
                    check.ok ? terminal.paint("ok  ", .success, stderr: false) : terminal.paint("FAIL", .error, stderr: false)
                terminal.out("\(mark)  \(check.check): \(check.message)")
                guard check.check == "estate" else { continue }
                // Every repository with a problem; all of them with -v.
                for repository in repositories where !repository.ok || repository.status != "ok" || global.verbosity > 0 {
                    let mark =
                        repository.ok
                        ? terminal.paint("ok  ", .success, stderr: false)
                        : terminal.paint("FAIL", .error, stderr: false)
                    terminal.out("      \(mark)  \(repository.repository): \(clean(repository.message))")
                }
            }
        }
        if checks.contains(where: { !$0.ok }) { throw Exit(status: .unavailable) }
    }

    /// The client both GitHub checks use, with the manifest's endpoints and a short policy; or
    /// why there is none.
    func githubClient(_ manifest: Manifest, environment: [String: String], owner: String) -> Result<
        GitHubClient, CheckProblem
    > {
        guard let endpoint = URL(string: manifest.github.endpoint) else {
            return .failure(CheckProblem(message: "`\(manifest.github.endpoint)` is not a URL"))
        }
        let restEndpoint = manifest.github.restEndpoint.flatMap(URL.init(string:))
        let credential: Credential
        if let app = manifest.github.app {
            switch app.privateKey(environment: environment) {
            case .success(let key):
                credential = .app(
                    AppInstallation(
                        appID: String(app.appID), privateKey: key, installationID: app.installationID,
                        repository: manifest.estate.repositories.first { $0.owner.lowercased() == owner.lowercased() }?
                            .slug ?? "",
                        restEndpoint: restEndpoint ?? GitHubClient.restRoot(for: endpoint)))
            case .failure(let problem): return .failure(CheckProblem(message: problem.message))
            }
        } else {
            let variable = manifest.github.tokenEnv(forOwner: owner)
            guard let token = environment[variable], !token.isEmpty else {
                return .failure(CheckProblem(message: "the token variable `\(variable)` is not set"))
            }
            credential = .token(token)
        }
        return .success(
            GitHubClient(
                endpoint: endpoint, restEndpoint: restEndpoint, credential: credential,
                policy: RetryPolicy(
                    attempts: 2, maximumRateLimitWait: .zero,
                    secondaryLimitWait: .seconds(manifest.github.secondaryLimitWaitSeconds),
                    timeout: .seconds(min(manifest.github.timeoutSeconds, 30)))))
    }

    /// Whether owners are read with credentials of their own (an App's installations, owners' tokens).
    static func perOwner(_ manifest: Manifest) -> Bool {
        manifest.github.app != nil || !manifest.github.ownerTokens.isEmpty
    }

    struct CheckProblem: Error {
        let message: String
    }

    func github(_ manifest: Manifest, client made: Result<GitHubClient, CheckProblem>) async -> CheckDoc {
        let client: GitHubClient
        switch made {
        case .success(let ready): client = ready
        case .failure(let problem): return CheckDoc(check: "github", ok: false, message: problem.message)
        }
        let variable = manifest.github.tokenEnv(forOwner: manifest.estate.repositories.first?.owner ?? "")
        var cost = CallCost()
        do {
            let app = manifest.github.app
            let data = try await client.execute(BudgetRequest(viewer: app == nil), cost: &cost)
            var message: String
            if let app {
                message =
                    "GitHub App \(app.appID): installation token minted and accepted at \(client.endpoint.host ?? "")"
            } else {
                let login = data["viewer"]?["login"]?.string ?? "?"
                message = "token from `\(variable)` accepted for `\(login)` at \(client.endpoint.host ?? "")"
            }
            if let remaining = data["rateLimit"]?["remaining"]?.int, let limit = data["rateLimit"]?["limit"]?.int {
                message += "; \(remaining) of \(limit) points left"
                if let reset = data["rateLimit"]?["resetAt"]?.string { message += " until \(reset)" }
            }
            if let scopes = client.lastScopes { message += scopes.isEmpty ? "; no OAuth scopes listed" : "; scopes: \(scopes)" }
            return CheckDoc(check: "github", ok: true, message: message)
        } catch let error as GitHubError {
            return CheckDoc(check: "github", ok: false, message: error.message)
        } catch {
            return CheckDoc(check: "github", ok: false, message: "\(error)")
        }
    }

    /// The REST API answers with the token (only when review comments are collected, the one
    /// thing read from it): `GET /rate_limit`, which GitHub does not charge.
    func githubREST(_ client: Result<GitHubClient, CheckProblem>) async -> CheckDoc {
        guard case .success(let client) = client else {
            return CheckDoc(check: "github REST", ok: false, message: "no token or endpoint (see the github check)")
        }
        var cost = CallCost()
        do {
            var message = "\(client.restEndpoint.absoluteString) answers (for review comments)"
            switch try await client.document("rate_limit", cost: &cost) {
            case .found(let data):
                if let core = data["resources"]?["core"], let remaining = core["remaining"]?.int,
                    let limit = core["limit"]?.int
                {
                    message += "; \(remaining) of \(limit) requests left"
                }
            case .notFound(let answer) where answer.lowercased().contains("rate limiting is not enabled"):
                // GitHub Enterprise Server without rate limiting: nothing to spend, nothing to wait for.
                message += "; rate limiting is not enabled on this server"
            case .notFound(let answer):
                return CheckDoc(
                    check: "github REST", ok: false,
                    message: "\(client.restEndpoint.absoluteString): \(answer); "
                        + "set `github.rest_endpoint`, or leave `review_comments` out of `github.collect`")
            }
            return CheckDoc(check: "github REST", ok: true, message: message)
        } catch let error as GitHubError {
            let wrongPlace = error.code == .notFound || error.code == .transport
            return CheckDoc(
                check: "github REST", ok: false,
                message: "\(client.restEndpoint.absoluteString): \(error.message)"
                    + (wrongPlace ? "; set `github.rest_endpoint`, or leave `review_comments` out of `github.collect`" : ""))
        } catch {
            return CheckDoc(check: "github REST", ok: false, message: "\(error)")
        }
    }

    /// Repositories per estate-check request: aliases without connections, 1 point each request.
    static let repositoriesPerRequest = 100

    /// Every repository of the estate, in batched queries: found, readable, empty, archived, its
    /// default branch, and the manifest's branch when it names one.
    func estate(_ manifest: Manifest, clientFor: (String) -> Result<GitHubClient, CheckProblem>) async -> (
        CheckDoc, [RepositoryDoc]
    ) {
        var found: [RepositoryDoc] = []
        var cost = CallCost()
        // Batches mix owners with one token; with an App or owners' own tokens, each owner's go
        // with its credential.
        var groups: [[Repository]] = []
        if !Self.perOwner(manifest) {
            groups = [manifest.estate.repositories]
        } else {
            var byOwner: [String: Int] = [:]
            for repository in manifest.estate.repositories {
                let owner = repository.owner.lowercased()
                if let index = byOwner[owner] {
                    groups[index].append(repository)
                } else {
                    byOwner[owner] = groups.count
                    groups.append([repository])
                }
            }
        }
        for repositories in groups {
            let client: GitHubClient
            switch clientFor(repositories.first?.owner ?? "") {
            case .success(let ready): client = ready
            case .failure(let problem): return (CheckDoc(check: "estate", ok: false, message: problem.message), found)
            }
            var start = 0
            while start < repositories.count {
                let batch = Array(repositories[start..<min(repositories.count, start + Self.repositoriesPerRequest)])
                let request = EstateCheckRequest(
                    repositories: batch.map { ($0.owner, $0.name, $0.defaultBranch) }, probes: Self.probes(manifest))
                do {
                    let answer = try await client.executeBatch(request, cost: &cost)
                    for (index, repository) in batch.enumerated() {
                        found.append(
                            Self.describe(
                                repository, answer: answer.data["r\(index)"],
                                problems: answer.problems.filter { $0.path.first == "r\(index)" }, app: manifest.github.app != nil
                            ))
                    }
                } catch let error as GitHubError {
                    return (
                        CheckDoc(check: "estate", ok: false, message: "could not check the repositories: \(error.message)"), found
                    )
                } catch {
                    return (CheckDoc(check: "estate", ok: false, message: "could not check the repositories: \(error)"), found)
                }
                start += batch.count
            }
        }
        let failing = found.filter { !$0.ok }
        var tally: [String: Int] = [:]
        for repository in found { tally[repository.status, default: 0] += 1 }
        let order = ["ok", "empty", "archived", "not_found", "forbidden", "branch_not_found"]
        let summary = order.compactMap { status in
            tally[status].map { "\($0) \(status.replacingOccurrences(of: "_", with: " "))" }
        }
        .joined(separator: ", ")
        let message =
            "\(found.count) repositor\(found.count == 1 ? "y" : "ies") checked in \(cost.requests) "
            + "request\(cost.requests == 1 ? "" : "s") (\(cost.points) point\(cost.points == 1 ? "" : "s")): \(summary)"
        return (CheckDoc(check: "estate", ok: failing.isEmpty, message: message), found)
    }

    /// What the estate check reads one item of: each repository permission what the manifest
    /// collects needs (``Manifest/Permission``), so a missing one is named.
    static func probes(_ manifest: Manifest) -> Set<EstateCheckRequest.Probe> {
        Set(
            Permission.needed(for: manifest.github.collect).compactMap { permission in
                switch permission {
                case .metadata: return nil
                case .contents: return .contents
                case .issues: return .issues
                case .pullRequests: return .pullRequests
                }
            })
    }

    /// The permission a probe reads under.
    static func permission(_ probe: EstateCheckRequest.Probe) -> Permission {
        switch probe {
        case .contents: return .contents
        case .issues: return .issues
        case .pullRequests: return .pullRequests
        }
    }

    static func describe(_ repository: Repository, answer: JSONValue?, problems: [GraphQLProblem], app: Bool)
        -> RepositoryDoc
    {
        let slug = repository.slug
        // A probe the token may not read: the repository is visible, a permission is missing.
        let missing = Set(
            problems.filter { $0.type == "FORBIDDEN" && $0.path.count > 1 }.compactMap { problem in
                EstateCheckRequest.Probe(rawValue: problem.path[1]).map(Self.permission)
            }
        ).sorted()
        if !missing.isEmpty {
            let what = missing.map { permission in
                switch permission {
                case .contents: return "commits and files"
                case .issues: return "issues"
                case .pullRequests, .metadata: return "pull requests"
                }
            }
            let grants = missing.map(\.grant).joined(separator: ", ")
            return RepositoryDoc(
                repository: slug, status: "forbidden", ok: false, defaultBranch: nil,
                message: app
                    ? "the GitHub App may not read its \(what.joined(separator: " and ")): give the App the repository "
                        + "permissions \(grants), then approve them on its installation"
                    : "the token may not read its \(what.joined(separator: " and ")): give the fine-grained token the "
                        + "repository permissions \(grants)")
        }
        if let problem = problems.first, problem.type == "FORBIDDEN" {
            return RepositoryDoc(
                repository: slug, status: "forbidden", ok: false, defaultBranch: nil,
                message: "the token may not read it: \(problem.message) — \(problem.fix)")
        }
        guard let answer, !answer.isNull else {
            return RepositoryDoc(
                repository: slug, status: "not_found", ok: false, defaultBranch: nil,
                message: "not found, or the token cannot see it: check the slug, and that the token "
                    + "has access (a fine-grained token lists the repositories it may read)")
        }
        let github = answer["defaultBranchRef"]?["name"]?.string
        let empty = answer["isEmpty"]?.bool == true
        if let named = repository.defaultBranch, !empty {
            guard let branch = answer["named"], !branch.isNull else {
                return RepositoryDoc(
                    repository: slug, status: "branch_not_found", ok: false, defaultBranch: github,
                    message: "branch `\(named)` not found\(github.map { "; GitHub's default branch is `\($0)`" } ?? ""): "
                        + "remove `default_branch` to follow GitHub's, or name a branch that exists")
            }
        }
        if empty {
            return RepositoryDoc(
                repository: slug, status: "empty", ok: true, defaultBranch: github,
                message: "empty: no commits yet (nothing to read, not a failure)")
        }
        var message = "default branch `\(github ?? "?")`"
        if let named = repository.defaultBranch, named != github {
            message += "; the manifest reads `\(named)` instead (remove `default_branch` to follow GitHub)"
        }
        if answer["isArchived"]?.bool == true {
            return RepositoryDoc(
                repository: slug, status: "archived", ok: true, defaultBranch: github,
                message: "archived (read-only); " + message)
        }
        return RepositoryDoc(repository: slug, status: "ok", ok: true, defaultBranch: github, message: message)
    }

    func store(_ manifest: Manifest, environment: [String: String]) -> CheckDoc {
        do {
            let spec = try StoreOpener.spec(manifest: manifest, environment: environment)
            let database = try StoreOpener.open(spec)
            // A write that is rolled back: proves the store takes writes without changing it.
            struct Probe: Error {}
            do {
                try database.transaction { tx in
                    try tx.execute("CREATE TABLE check_probe (x INTEGER)")
                    throw Probe()
                }
            } catch is Probe {}
            let version = try database.query("SELECT MAX(version) AS v FROM schema_migrations").first?.int("v") ?? 0
            return CheckDoc(check: "store", ok: true, message: "\(database.displayName) is writable (schema version \(version))")
        } catch let failure as Failure {
            return CheckDoc(check: "store", ok: false, message: failure.message)
        } catch {
            return CheckDoc(check: "store", ok: false, message: "\(error)")
        }
    }
}
