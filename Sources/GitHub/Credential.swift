import Digest
public import Foundation
import HTTP
import JSON
import Synchronization

/// What a client authenticates with: a token, or a GitHub App's installation.
public enum Credential: Sendable {
    case token(String)
    case app(AppInstallation)

    /// The token for the next request.
    func token() async throws -> String {
        switch self {
        case .token(let token): return token
        case .app(let app): return try await app.token()
        }
    }

    /// GitHub rejected the token: an installation token is minted afresh for the retry.
    func rejected() async -> Bool {
        guard case .app(let app) = self else { return false }
        await app.invalidate()
        return true
    }
}

/// A GitHub App's installation: the installation tokens it mints, refreshed before they expire.
///
/// GitHub's documented flow: a JSON Web Token signed RS256 with the App's private key (`iss`
/// the App's id, `iat` a minute in the past for clock drift, `exp` at most ten minutes on)
/// authenticates as the App; `POST /app/installations/{id}/access_tokens` with it mints an
/// installation token that expires after an hour (`expires_at`). Without an installation id,
/// `GET /repos/{owner}/{repo}/installation` finds the App's installation on the estate's
/// owner. A token is replaced when a quarter of its life (at most five minutes) remains, or at
/// once when GitHub rejects it.
public final class AppInstallation: Sendable {
    public let appID: String
    let privateKey: String
    let restEndpoint: URL
    /// A repository of the estate, to find the installation by when no id is given.
    let repository: String
    private let installation: Mutex<Int64?>
    private let tokens = Minted()

    public init(appID: String, privateKey: String, installationID: Int64?, repository: String, restEndpoint: URL) {
        self.appID = appID
        self.privateKey = privateKey
        self.repository = repository
        self.restEndpoint = restEndpoint
        installation = Mutex(installationID)
    }

    /// A token that is not about to expire. Units asking at once while a token is minted wait
    /// for that one instead of minting their own.
    public func token() async throws -> String {
        try await tokens.token { try await self.mint() }
    }

    func invalidate() async {
        await tokens.invalidate()
    }

    /// The App's JSON Web Token (RS256), valid for nine minutes from a minute ago.
    public static func webToken(appID: String, privateKey: String, now: Date = Date()) -> String? {
        let issued = Int64(now.timeIntervalSince1970) - 60
        let header = base64URL(Data(#"{"alg":"RS256","typ":"JWT"}"#.utf8))
        let claims: JSONValue = ["iat": .int(issued), "exp": .int(issued + 600), "iss": .string(appID)]
        let signed = header + "." + base64URL(Data(claims.canonical.utf8))
        guard let signature = RS256.sign(Data(signed.utf8), privateKeyPEM: privateKey) else { return nil }
        return signed + "." + base64URL(signature)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func mint() async throws -> (token: String, minted: Date, expires: Date) {
        guard let jwt = Self.webToken(appID: appID, privateKey: privateKey) else {
            throw GitHubError(
                .configuration, "the GitHub App's private key is not an RSA key in PEM; use the .pem file GitHub generated")
        }
        let id: Int64
        if let known = installation.withLock({ $0 }) {
            id = known
        } else {
            let found = try await request("GET", "repos/\(repository)/installation", jwt: jwt)
            guard let number = found["id"]?.int else {
                throw GitHubError(.malformed, "GitHub's answer about the App's installation has no id")
            }
            installation.withLock { $0 = number }
            id = number
        }
        let minted = Date()
        let answer = try await request("POST", "app/installations/\(id)/access_tokens", jwt: jwt)
        guard let token = answer["token"]?.string, let expires = answer["expires_at"]?.string.flatMap(Timestamp.date)
        else {
            throw GitHubError(.malformed, "GitHub's installation token answer has no token or expiry")
        }
        return (token, minted, expires)
    }

    private func request(_ method: String, _ path: String, jwt: String) async throws -> JSONValue {
        var request = Request(method, restEndpoint.appendingPathComponent(path), timeout: .seconds(30))
        request.setHeader("Accept", "application/vnd.github+json")
        request.setHeader("X-GitHub-Api-Version", "2022-11-28")
        request.setHeader("Authorization", "Bearer \(jwt)")
        let response: Response
        do {
            response = try await Transport.shared.send(request)
        } catch let error as TransportError {
            throw GitHubError(.transport, "cannot reach GitHub to authenticate the App: \(error.message)")
        }
        let data = response.body
        let status = response.status
        switch status {
        case 200..<300:
            guard let body = try? JSONValue(parsing: data) else {
                throw GitHubError(.malformed, "GitHub's App authentication answer is not JSON")
            }
            return body
        case 401:
            throw GitHubError(
                .configuration,
                "GitHub rejected the App's signed token (HTTP 401); check `github.app.app_id` and that the private key is "
                    + "the App's current one", status: status)
        case 404:
            throw GitHubError(
                .configuration,
                "the GitHub App \(appID) is not installed where this manifest reads (\(path)); install it on the "
                    + "organisation, or set `github.app.installation_id`", status: status)
        default:
            throw GitHubError(.http, "GitHub answered HTTP \(status) to the App's \(method) \(path)", status: status)
        }
    }
}

/// The installation token in hand, and the one being minted: one mint at a time.
private actor Minted {
    typealias Token = (token: String, minted: Date, expires: Date)
    private var current: Token?
    private var pending: Task<Token, any Error>?

    func token(mint: @escaping @Sendable () async throws -> Token) async throws -> String {
        if let held = current {
            let margin = min(300, held.expires.timeIntervalSince(held.minted) / 4)
            if Date() < held.expires.addingTimeInterval(-margin) { return held.token }
        }
        if let pending { return try await pending.value.token }
        // Awaited below and by every caller that arrives meanwhile: a single flight, not a
        // task left to run on its own.
        let task = Task { try await mint() }
        pending = task
        defer { pending = nil }
        let minted = try await task.value
        current = minted
        return minted.token
    }

    func invalidate() {
        current = nil
    }
}
