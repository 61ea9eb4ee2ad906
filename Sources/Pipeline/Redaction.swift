import Foundation
public import Manifest

/// The one redaction filter: every value of a secret the manifest names (the GitHub tokens, a
/// GitHub App's private key, the model's API key) and the password of a store URL become `***` in any text that leaves the
/// process — messages recorded in the ledger, lines on the terminal, JSON documents.
public struct Redaction: Sendable {
    /// Values shorter than this are left alone: they would mangle ordinary words, and no real
    /// token or key is that short.
    static let shortest = 4

    let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets = Array(Set(secrets.filter { $0.count >= Self.shortest })).sorted { $0.count > $1.count }
    }

    /// The secrets a manifest names, as set in `environment`, and a store URL's password.
    public init(_ manifest: Manifest?, environment: [String: String]) {
        var values: [String] = []
        if let manifest {
            values += (manifest.github.tokenEnvs + [manifest.report?.model.apiKeyEnv, manifest.github.app?.privateKeyEnv])
                .compactMap { $0 }.compactMap { environment[$0] }
            // A PEM key is also redacted line by line, in case a message quotes part of it.
            if let key = manifest.github.app.flatMap({ try? $0.privateKey(environment: environment).get() }) {
                values += key.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count >= 16 }
            }
        }
        for spec in [environment["GHILLIE_STORE"].flatMap(StoreSpec.parse), manifest?.store].compactMap({ $0 }) {
            if let password = spec.password { values.append(password) }
        }
        self.init(secrets: values)
    }

    public func callAsFunction(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}
