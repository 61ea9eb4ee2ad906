import Digest
import FlyingFox
import Foundation
import JSON
import Synchronization

extension FakeGitHub {
    /// What a request's token may read: everything (the fake's token, an installation on every
    /// owner) or one owner's repositories (an installation token).
    struct Access {
        /// The only owner the token sees (an installation's, a fine-grained token's).
        let owner: String?
        /// A fine-grained token of another account, which spends that account's budget.
        var account: String?
        /// An App's installation token: no user, so no `viewer`.
        var installation = false
    }

    /// The access an `Authorization` header carries: the fake's token, or an installation token
    /// that has not expired (an expired one is counted); nil for anything else.
    func access(_ authorization: String?) -> Access? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        let presented = String(authorization.dropFirst("Bearer ".count))
        if presented == token { return Access(owner: nil) }
        return state.withLock { state in
            if let scoped = state.behaviour.ownerTokens[presented] {
                return Access(owner: scoped.owner.lowercased(), account: presented)
            }
            guard let issued = state.installationTokens[presented] else { return nil }
            if issued.expires > Date() { return Access(owner: issued.owner, installation: true) }
            state.stats.expiredTokens += 1
            return nil
        }
    }

    /// The App a JSON Web Token authenticates, as GitHub checks it; nil (and counted) when it
    /// does not.
    func app(authenticatedBy authorization: String?) -> GitHubApp? {
        guard let app = state.withLock({ $0.behaviour.app }), let authorization, authorization.hasPrefix("Bearer ") else {
            return nil
        }
        let parts = authorization.dropFirst("Bearer ".count).split(separator: ".", omittingEmptySubsequences: false)
        func decode(_ part: Substring) -> Data? {
            var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while text.count % 4 != 0 { text += "=" }
            return Data(base64Encoded: text)
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard parts.count == 3, let header = decode(parts[0]).flatMap({ try? JSONValue(parsing: $0) }),
            let claims = decode(parts[1]).flatMap({ try? JSONValue(parsing: $0) }), let signature = decode(parts[2]),
            header["alg"]?.string == "RS256",
            RS256.verify(signature, of: Data("\(parts[0]).\(parts[1])".utf8), publicKeyPEM: app.publicKey),
            claims["iss"]?.string == app.appID || claims["iss"]?.int.map(String.init) == app.appID,
            let issued = claims["iat"]?.int, let expires = claims["exp"]?.int,
            issued <= now + 60, expires > now, expires - issued <= 600
        else {
            state.withLock { $0.stats.refusedWebTokens += 1 }
            return nil
        }
        return app
    }

    /// GitHub's answer to a JSON Web Token it does not accept.
    func refusedWebToken() -> HTTPResponse {
        response(
            401, headers: restHeaders(),
            body: Data(
                #"{"message":"A JSON web token could not be decoded","documentation_url":"https://docs.github.com/rest"}"#.utf8))
    }

    /// `POST /app/installations/{id}/access_tokens`: an installation token for the App.
    func mintInstallationToken(_ request: HTTPRequest) -> HTTPResponse {
        guard let app = app(authenticatedBy: request.headers[.authorization]) else { return refusedWebToken() }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[3] == "access_tokens", let id = Int64(parts[2]),
            let installed = app.installations.first(where: { $0.value == id })
        else {
            return response(404, headers: restHeaders(), body: Data(#"{"message":"Not Found"}"#.utf8))
        }
        let expires = Date().addingTimeInterval(app.tokenLifetime)
        let token = "ghs_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        state.withLock { state in
            state.installationTokens[token] = (expires, installed.key == "*" ? nil : installed.key)
            state.stats.installationTokens += 1
        }
        let body: JSONValue = [
            "token": .string(token), "expires_at": .string(Timestamp.seconds(expires)),
            "permissions": ["contents": "read", "issues": "read", "pull_requests": "read", "metadata": "read"],
            "repository_selection": "all",
        ]
        return response(201, headers: restHeaders(), body: Data(body.canonical.utf8))
    }

    /// `GET /repos/{owner}/{repo}/installation`: the App's installation that covers it.
    func installation(_ request: HTTPRequest, repository: String) -> HTTPResponse {
        guard let app = app(authenticatedBy: request.headers[.authorization]) else { return refusedWebToken() }
        let parts = repository.split(separator: "/").map(String.init)
        guard parts.count == 2, estate.repository(owner: parts[0], name: parts[1]) != nil,
            let id = app.installation(on: parts[0])
        else {
            return response(404, headers: restHeaders(), body: Data(#"{"message":"Not Found"}"#.utf8))
        }
        let body: JSONValue = [
            "id": .int(id), "app_id": .int(Int64(app.appID) ?? 0),
            "account": ["login": .string(parts[0])], "target_type": "Organization",
        ]
        return response(200, headers: restHeaders(), body: Data(body.canonical.utf8))
    }
}
