import ArgumentParser
import Foundation
import GitHub
import JSON
import Manifest
import Pipeline
import Report
import Store

/// `ghillie-run check MANIFEST`: are the providers ready? One line per check.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that a manifest's providers are ready: GitHub token and budget, model endpoint, store.",
        discussion: """
            Checks: the GitHub token (login, GraphQL budget, scopes); the REST API, when review comments are \
            collected (GET /rate_limit, free of charge); the model endpoint, when reports use one; the store (a write \
            that is rolled back). Exit code 0 when every check passes, 5 when any fails. Secrets are never printed.
            """)

    @Argument(help: "The run manifest.")
    var manifest: String

    @OptionGroup var global: GlobalOptions

    struct CheckDoc: Encodable {
        let check: String
        let ok: Bool
        let message: String
    }

    struct Output: Encodable {
        let schema_version: Int
        let checks: [CheckDoc]
    }

    func run() async throws {
        let terminal = global.terminal
        let loaded = try loadManifest(manifest, terminal: terminal, verbosity: global.verbosity)
        let environment = ProcessInfo.processInfo.environment
        var checks: [CheckDoc] = []
        let client = githubClient(loaded, environment: environment)
        checks.append(await github(loaded, client: client))
        if loaded.github.collect.contains(.review_comments) {
            checks.append(await githubREST(client))
        }
        if let report = loaded.report {
            let result = await ModelCheck.check(report.model, environment: environment)
            checks.append(CheckDoc(check: "model", ok: result.ok, message: result.message))
        }
        checks.append(store(loaded, environment: environment))
        let secrets = [loaded.github.tokenEnv, loaded.report?.model.apiKeyEnv].compactMap { $0 }
            .compactMap { environment[$0] }.filter { !$0.isEmpty }
        func clean(_ text: String) -> String {
            secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
        }
        checks = checks.map { CheckDoc(check: $0.check, ok: $0.ok, message: clean($0.message)) }
        if global.output == .json {
            terminal.out(Documents.encode(Output(schema_version: Documents.schemaVersion, checks: checks)))
        } else {
            for check in checks {
                let mark = check.ok ? terminal.paint("ok  ", .success, stderr: false) : terminal.paint("FAIL", .error, stderr: false)
                terminal.out("\(mark)  \(check.check): \(check.message)")
            }
        }
        if checks.contains(where: { !$0.ok }) { throw Exit(status: .unavailable) }
    }

    /// The client both GitHub checks use, with the manifest's endpoints and a short policy; or
    /// why there is none.
    func githubClient(_ manifest: Manifest, environment: [String: String]) -> Result<GitHubClient, CheckProblem> {
        let variable = manifest.github.tokenEnv
        guard let token = environment[variable], !token.isEmpty else {
            return .failure(CheckProblem(message: "the token variable `\(variable)` is not set"))
        }
        guard let endpoint = URL(string: manifest.github.endpoint) else {
            return .failure(CheckProblem(message: "`\(manifest.github.endpoint)` is not a URL"))
        }
        return .success(GitHubClient(
            endpoint: endpoint, restEndpoint: manifest.github.restEndpoint.flatMap(URL.init(string:)), token: token,
            policy: RetryPolicy(attempts: 2, maximumRateLimitWait: .zero,
                                timeout: .seconds(min(manifest.github.timeoutSeconds, 30)))))
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
        let variable = manifest.github.tokenEnv
        var cost = CallCost()
        do {
            let data = try await client.execute(Operation.viewer, variables: [:], cost: &cost)
            let login = data["viewer"]?["login"]?.string ?? "?"
            var message = "token from `\(variable)` accepted for `\(login)` at \(client.endpoint.host ?? "")"
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
            let data = try await client.document("rate_limit", cost: &cost)
            var message = "\(client.restEndpoint.absoluteString) answers (for review comments)"
            if let core = data["resources"]?["core"], let remaining = core["remaining"]?.int, let limit = core["limit"]?.int {
                message += "; \(remaining) of \(limit) requests left"
            }
            return CheckDoc(check: "github REST", ok: true, message: message)
        } catch let error as GitHubError {
            let wrongPlace = error.code == .notFound || error.code == .transport
            return CheckDoc(check: "github REST", ok: false, message: "\(client.restEndpoint.absoluteString): \(error.message)"
                + (wrongPlace ? "; set `github.rest_endpoint`, or leave `review_comments` out of `github.collect`" : ""))
        } catch {
            return CheckDoc(check: "github REST", ok: false, message: "\(error)")
        }
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
