import Digest
import Foundation
public import GitHub
import JSON
public import Manifest
public import Pipeline
public import Store
import Synchronization

/// The ingest stage: one unit per repository, GitHub GraphQL → raw nodes (Bronze).
///
/// A unit reads several *streams* (default-branch commits; pull requests and issues updated
/// since the window start; every open pull request and issue; documentation changes; inline
/// review comments, the one stream read from the REST API). After each page, one transaction
/// stores the page's nodes (deduplicated by content hash) and the stream's checkpoint, so a
/// killed run resumes at the page it was on. A completed stream records the time range it
/// covered, so the next run fetches only what is new; a window reaching further back
/// backfills. A read is reconciled with what GitHub holds at its end (counts, the items it
/// listed, the branch's tip): a shortfall fails the unit instead of reporting success with
/// gaps, and the failed stream is read again by the rerun.
public struct IngestStage: StageRunner {
    public let stage = Stage.ingest
    /// Bump when what ingest stores for the same GitHub data changes.
    public let version = "ingest-4"
    let environment: [String: String]
    private let clients = ClientCache()
    private let prober = Prober()

    /// How far before the window start to fetch, so clock skew and late pushes are not missed.
    static let overlap: TimeInterval = 5 * 60

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func preflight(_ manifest: Manifest, environment: [String: String]) throws(ConfigurationProblem) {
        if let app = manifest.github.app {
            if case .failure(let problem) = app.privateKey(environment: environment) {
                throw ConfigurationProblem(problem.message, hint: problem.hint)
            }
            guard URL(string: manifest.github.endpoint) != nil else {
                throw ConfigurationProblem("`github.endpoint` is not a URL")
            }
            return
        }
        // Every token the estate's owners are read with: the default one and each owner's own.
        let owners = Set(manifest.estate.repositories.map { $0.owner.lowercased() })
        let variables = Set(owners.map { manifest.github.tokenEnv(forOwner: $0) })
        for variable in variables.sorted() {
            guard let token = environment[variable], !token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                let owned = owners.filter { manifest.github.ownerTokens[$0] == variable }.sorted()
                throw ConfigurationProblem(
                    "the GitHub token variable `\(variable)` is not set"
                        + (owned.isEmpty ? "" : " (it reads " + owned.map { "`\($0)`" }.joined(separator: ", ") + ")"),
                    hint: "export \(variable)=<a token with read access to "
                        + (owned.isEmpty
                            ? "the estate's repositories> (or name another variable in `github.token_env`)"
                            : "those repositories> (or change `github.owner_tokens`)"))
            }
        }
        guard URL(string: manifest.github.endpoint) != nil else {
            throw ConfigurationProblem("`github.endpoint` is not a URL")
        }
    }

    /// GitHub requests and points, REST apart.
    public func summary(_ counters: [String: Int64], manifest: Manifest?) -> String? {
        guard let requests = counters["requests"] else { return nil }
        let rest = counters["rest_requests"] ?? 0
        let graphQL = requests - rest
        let points = counters["points"] ?? 0
        guard rest > 0 else { return "GitHub: \(requests) request\(requests == 1 ? "" : "s"), \(points) points" }
        return "GitHub: \(graphQL) GraphQL request\(graphQL == 1 ? "" : "s") (\(points) points), "
            + "\(rest) REST request\(rest == 1 ? "" : "s")"
    }

    /// The client policy a manifest's `github:` section asks for.
    public static func policy(_ github: GitHubConfig) -> RetryPolicy {
        RetryPolicy(
            attempts: github.maxAttempts, maximumRateLimitWait: .seconds(github.maxRateLimitWaitMinutes * 60),
            secondaryLimitWait: .seconds(github.secondaryLimitWaitSeconds), timeout: .seconds(github.timeoutSeconds),
            limits: TrafficLimits(
                inFlight: github.maxRequestsInFlight, graphQLPerMinute: github.maxRequestsPerMinute,
                restPerMinute: max(1, github.maxRequestsPerMinute * 9 / 20)))
    }

    /// Repositories with stored nodes refine could not read (``RawHealth``): their units read
    /// those streams again.
    public func rereads(_ units: [Pipeline.Unit], database: Database) throws -> [UnitID: String] {
        let pending = try RawHealth(database: database).pending()
        guard !pending.isEmpty else { return [:] }
        var rereads: [UnitID: String] = [:]
        for unit in units {
            guard case .repository(let repository) = unit.subject, let why = pending[repository.slug] else { continue }
            rereads[unit.id] = why
        }
        return rereads
    }

    /// The credential an ingest unit reads with: workers claim it only while that credential's
    /// shared budget is above its floor.
    public func credential(for unit: Pipeline.Unit, manifest: Manifest) -> String? {
        guard case .repository(let repository) = unit.subject else { return nil }
        return CredentialName.of(manifest, owner: repository.owner, environment: environment)?.key
    }

    public func run(_ context: UnitContext) async throws -> UnitResult {
        guard case .repository(let repository) = context.unit.subject else {
            throw UnitError(code: "internal", message: "ingest unit \(context.unit.id) is not a repository")
        }
        let github = context.manifest.github
        let client = try clients.client(
            for: context.manifest, owner: repository.owner, environment: environment, database: context.database)
        // An App's installation token, or an owner's own token, reads that owner's repositories
        // only: batched probes stay within the repositories read with the same credential.
        let scope = CredentialName.scope(github, owner: repository.owner)
        let estate = context.manifest.estate.repositories.filter { CredentialName.scope(github, owner: $0.owner) == scope }
        var session = IngestSession(context: context, repository: repository, client: client, pageSize: github.pageSize)
        do {
            try await session.ingest(
                RepositoryStream.streams(for: github.collect, documentationPaths: repository.documentationPaths),
                prober: prober, estate: estate)
        } catch let error as GitHubError {
            // A spent budget whose reset is too far away stops the unit cleanly: it resumes at
            // its page on a rerun after the reset.
            throw UnitError(
                code: error.code.rawValue, message: error.message,
                counters: session.counters, interrupted: error.code == .rateLimitExhausted)
        } catch let error as IngestFailure {
            throw UnitError(code: error.code, message: error.message, counters: session.counters)
        } catch let error as StoreError {
            throw UnitError(code: "store", message: error.description, counters: session.counters)
        }
        let output = try session.store.outputHash()
        let healed = session.store.healing
        let slug = repository.slug
        return UnitResult(outputHash: output, counters: session.counters, warnings: session.warnings) { tx in
            if healed { try RawHealth.clear(slug, in: tx) }
        }
    }
}

/// Which GitHub credential reads an owner's repositories: its key in the ledger's
/// `credential_budgets` (a name and a fingerprint, never the secret) and how people know it.
struct CredentialName: Sendable, Hashable {
    let key: String
    let label: String

    /// What tells owners read with different credentials apart, without reading a secret: the
    /// App's installation is per owner, a token is per variable.
    static func scope(_ github: GitHubConfig, owner: String) -> String {
        github.app == nil ? "token:" + github.tokenEnv(forOwner: owner) : "app:" + owner.lowercased()
    }

    /// The credential `manifest` reads `owner` with: the App's installation there, that owner's
    /// token, or the default token. Nil when its secret is not set (preflight says so).
    static func of(_ manifest: Manifest, owner: String, environment: [String: String]) -> CredentialName? {
        let github = manifest.github
        // The server (with its port: two GitHub Enterprise servers may share a host) and the
        // secret's fingerprint tell credentials apart.
        let url = URL(string: github.endpoint)
        let host = url.flatMap { url in url.host.map { host in url.port.map { "\(host):\($0)" } ?? host } } ?? github.endpoint
        if let app = github.app {
            return CredentialName(
                key: "app:\(app.appID):\(owner.lowercased())@\(host)", label: "app \(app.appID) on \(owner.lowercased())")
        }
        let variable = github.tokenEnv(forOwner: owner)
        guard let token = environment[variable], !token.isEmpty else { return nil }
        let fingerprint = SHA256.hex("ghillie-run credential\n\(host)\n\(token)").prefix(16)
        return CredentialName(key: "token:\(variable):\(fingerprint)@\(host)", label: "token \(variable) on \(host)")
    }
}

/// A credential's budget in the ledger, shared by every worker of the store.
struct LedgerBudget: SharedBudget {
    let budgets: CredentialBudgets
    let credential: String
    /// `github.max_requests_per_minute`, for every worker together.
    let perMinute: Int

    func reserve(points: Int) throws -> BudgetHold? {
        switch try budgets.reserve(credential, points: points, perMinute: perMinute) {
        case nil: return nil
        case .spent(let until)?: return .spent(until: until)
        case .throttled(let until)?: return .throttled(until: until)
        }
    }

    func settle(points: Int, remaining: Int?, resetAt: Date?) throws {
        try budgets.settle(credential, points: points, remaining: remaining, resetAt: resetAt)
    }
}

/// One GitHub client per credential, shared by the units of a run so that they share what
/// GitHub said about the budget and one gate on what the credential sends; its budget is
/// shared with other processes through the ledger.
final class ClientCache: Sendable {
    private let clients = Mutex<[String: GitHubClient]>([:])

    /// The client a manifest's `github:` section asks for on `owner`: the App's installation
    /// there (one per owner and run, so every unit of that owner shares the installation token
    /// it mints), that owner's token, or the default token.
    func client(for manifest: Manifest, owner: String, environment: [String: String], database: Database) throws
        -> GitHubClient
    {
        let github = manifest.github
        guard let endpoint = URL(string: github.endpoint) else {
            throw UnitError(code: "configuration", message: "`github.endpoint` is not a URL")
        }
        let restEndpoint = github.restEndpoint.flatMap(URL.init(string:))
        guard let name = CredentialName.of(manifest, owner: owner, environment: environment) else {
            throw UnitError(
                code: "configuration", message: "the GitHub token variable `\(github.tokenEnv(forOwner: owner))` is not set")
        }
        let cacheKey = name.key + "\n" + (restEndpoint?.absoluteString ?? "") + "\n" + github.endpoint
        if let client = clients.withLock({ $0[cacheKey] }) { return client }
        // A new client: its credential is built (an App's key read) once, here.
        let credential: Credential
        if let app = github.app {
            let key: String
            switch app.privateKey(environment: environment) {
            case .success(let text): key = text
            case .failure(let problem): throw UnitError(code: "configuration", message: problem.message)
            }
            credential = .app(
                AppInstallation(
                    appID: String(app.appID), privateKey: key, installationID: app.installationID,
                    repository: manifest.estate.repositories.first { $0.owner.lowercased() == owner.lowercased() }?.slug
                        ?? "",
                    restEndpoint: restEndpoint ?? GitHubClient.restRoot(for: endpoint)))
        } else {
            credential = .token(environment[github.tokenEnv(forOwner: owner)] ?? "")
        }
        let budgets = CredentialBudgets(database: database)
        do {
            try budgets.register(name.key, label: name.label, floor: github.budgetFloor)
        } catch {
            throw UnitError(code: "store", message: "cannot record the credential's budget: \(error)")
        }
        return clients.withLock { clients in
            if let client = clients[cacheKey] { return client }
            let client = GitHubClient(
                endpoint: endpoint, restEndpoint: restEndpoint, credential: credential, policy: IngestStage.policy(github),
                shared: LedgerBudget(budgets: budgets, credential: name.key, perMinute: github.maxRequestsPerMinute))
            clients[cacheKey] = client
            return client
        }
    }
}
