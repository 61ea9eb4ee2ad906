import Digest
import Foundation
public import GitHub
import JSON
public import Manifest
public import Pipeline
import Store
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
    public let version = "ingest-3"
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
        let variable = manifest.github.tokenEnv
        guard let token = environment[variable], !token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ConfigurationProblem(
                "the GitHub token variable `\(variable)` is not set",
                hint: "export \(variable)=<a token with read access to the estate's repositories> "
                    + "(or name another variable in `github.token_env`)")
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

    public func run(_ context: UnitContext) async throws -> UnitResult {
        guard case .repository(let repository) = context.unit.subject else {
            throw UnitError(code: "internal", message: "ingest unit \(context.unit.id) is not a repository")
        }
        let github = context.manifest.github
        let client = try clients.client(for: context.manifest, owner: repository.owner, environment: environment)
        // An App's installation token reads its own owner's repositories only, so batched
        // probes stay within the owner.
        let estate = context.manifest.estate.repositories.filter {
            github.app == nil || $0.owner.lowercased() == repository.owner.lowercased()
        }
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
        return UnitResult(outputHash: output, counters: session.counters, warnings: session.warnings)
    }
}

/// One GitHub client per endpoint and token, shared by the units of a run so that they share
/// what GitHub said about the budget, and one gate on what the token sends.
final class ClientCache: Sendable {
    private let clients = Mutex<[String: GitHubClient]>([:])

    /// The client a manifest's `github:` section asks for: its token, or its App's installation
    /// on `owner` (one per owner and run, so every unit of that owner shares the installation
    /// token it mints).
    func client(for manifest: Manifest, owner: String, environment: [String: String]) throws -> GitHubClient {
        let github = manifest.github
        guard let endpoint = URL(string: github.endpoint) else {
            throw UnitError(code: "configuration", message: "`github.endpoint` is not a URL")
        }
        let restEndpoint = github.restEndpoint.flatMap(URL.init(string:))
        guard let app = github.app else {
            guard let token = environment[github.tokenEnv], !token.isEmpty else {
                throw UnitError(code: "configuration", message: "the GitHub token variable `\(github.tokenEnv)` is not set")
            }
            return client(endpoint: endpoint, restEndpoint: restEndpoint, token: token, policy: IngestStage.policy(github))
        }
        let key: String
        switch app.privateKey(environment: environment) {
        case .success(let text): key = text
        case .failure(let problem): throw UnitError(code: "configuration", message: problem.message)
        }
        let cacheKey = endpoint.absoluteString + "\napp:\(app.appID):\(owner.lowercased())\n" + SHA256.hex(key)
        return clients.withLock { clients in
            if let client = clients[cacheKey] { return client }
            let installation = AppInstallation(
                appID: String(app.appID), privateKey: key, installationID: app.installationID,
                repository: manifest.estate.repositories.first { $0.owner.lowercased() == owner.lowercased() }?.slug ?? "",
                restEndpoint: restEndpoint ?? GitHubClient.restRoot(for: endpoint))
            let client = GitHubClient(
                endpoint: endpoint, restEndpoint: restEndpoint, credential: .app(installation),
                policy: IngestStage.policy(github))
            clients[cacheKey] = client
            return client
        }
    }

    func client(endpoint: URL, restEndpoint: URL?, token: String, policy: RetryPolicy) -> GitHubClient {
        let key = endpoint.absoluteString + "\n" + (restEndpoint?.absoluteString ?? "") + "\n" + SHA256.hex(token)
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            let client = GitHubClient(endpoint: endpoint, restEndpoint: restEndpoint, token: token, policy: policy)
            clients[key] = client
            return client
        }
    }
}
