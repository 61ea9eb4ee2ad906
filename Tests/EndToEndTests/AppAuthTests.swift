import Digest
import Foundation
import GitHubFake
import JSON
import Store
import TestSupport
import Testing

/// Issue #14, item 2 (first part): authenticating as a GitHub App, against a fake that checks
/// the App's JSON Web Token as GitHub documents it and issues installation tokens that expire.
@Suite("GitHub App authentication", .serialized)
struct AppAuthTests {
    static let estate = EstateGenerator(seed: 13, repositories: 3).generate()
    static let appID = "424242"

    static func manifest(_ url: URL, extra: String = "") -> String {
        estate.manifest(name: "app", endpoint: url, settings: ["collect: [commits, pull_requests, issues]"])
            + """
              app:
                app_id: \(appID)
                private_key_env: GHILLIE_GITHUB_APP_KEY
            \(extra)
            """
    }

    @Test func aRunAsAnAppMintsItsTokenAndMintsAnotherBeforeItExpires() async throws {
        let keys = try #require(RS256.generateKeyPair())
        let fake = FakeGitHub(estate: Self.estate, token: "not-used-by-this-test")
        fake.configure {
            $0.app = GitHubApp(appID: Self.appID, publicKey: keys.publicKey, installationID: 77, tokenLifetime: 2)
        }
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            // Slow answers, so the run outlives a two-second installation token.
            fake.inject(Fault(.delay(.milliseconds(120)), times: 100_000))
            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(url))
            let environment = ["GHILLIE_GITHUB_APP_KEY": keys.privateKey]
            let result = try await harness.run(Harness.product, ["m.yaml", "-q", "--jobs", "2"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let stats = fake.stats
            #expect(stats.refusedWebTokens == 0)
            #expect(stats.installationTokens >= 2, "a run longer than a token's life mints another")
            #expect(try storeRows(harness, "SELECT state FROM runs").first?.string("state") == "succeeded")
            // Neither the key nor an installation token is anywhere the run wrote.
            let ledger = try storeRows(harness, "SELECT counters || COALESCE(error_message, '') AS t FROM unit_attempts")
                .map { try $0.string("t") }.joined()
            let keyLine = try #require(keys.privateKey.split(separator: "\n").dropFirst().first.map(String.init))
            for text in [result.stdout, result.stderr, ledger] {
                #expect(!text.contains(keyLine) && !text.contains("ghs_"))
            }

            // `check` says the App authenticated.
            let check = try await harness.run(Harness.product, ["check", "m.yaml"], environment: environment)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(check.stdout.contains("GitHub App \(Self.appID): installation token minted and accepted"))
        }
    }

    @Test func anAppKeyGitHubDoesNotKnowFailsCheckWithTheFix() async throws {
        let keys = try #require(RS256.generateKeyPair())
        let other = try #require(RS256.generateKeyPair())
        let fake = FakeGitHub(estate: Self.estate, token: "not-used-by-this-test")
        fake.configure { $0.app = GitHubApp(appID: Self.appID, publicKey: keys.publicKey, installationID: 77) }
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(url, extra: "    installation_id: 77"))
            let result = try await harness.run(
                Harness.product, ["check", "m.yaml"], environment: ["GHILLIE_GITHUB_APP_KEY": other.privateKey])
            #expect(result.status == 5)
            #expect(
                result.stdout.contains(
                    "GitHub rejected the App's signed token (HTTP 401); check `github.app.app_id` and that the private key is the App's current one"
                ), "\(result.stdout)")
            #expect(fake.stats.refusedWebTokens >= 1)
            #expect(fake.stats.installationTokens == 0)
        }
    }

    /// An estate over two owners: each owner's repositories are read with the App's
    /// installation on that owner (an installation's token sees nothing else), and an owner
    /// without the App fails alone, with the fix.
    @Test func eachOwnerIsReadWithItsOwnInstallation() async throws {
        let keys = try #require(RS256.generateKeyPair())
        var estate = EstateGenerator(seed: 17, repositories: 3).generate()
        estate.repositories[1].owner = "globex"
        let fake = FakeGitHub(estate: estate, token: "not-used-by-this-test")
        fake.configure {
            $0.app = GitHubApp(appID: Self.appID, publicKey: keys.publicKey, installations: ["acme": 77, "globex": 88])
        }
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            let manifest =
                estate.manifest(name: "owners", endpoint: url, settings: ["collect: [commits, pull_requests, issues]"])
                + "  app:\n    app_id: \(Self.appID)\n    private_key_env: GHILLIE_GITHUB_APP_KEY\n"
            try harness.write("m.yaml", manifest)
            let environment = ["GHILLIE_GITHUB_APP_KEY": keys.privateKey]
            let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(fake.stats.installationTokens == 2, "one installation token per owner")
            let check = try await harness.run(Harness.product, ["check", "m.yaml"], environment: environment)
            #expect(check.status == 0, "\(check.stdout)")
            #expect(check.stdout.contains("3 repositories checked in 2 requests"), "\(check.stdout)")

            // Without the App on globex, its repository fails alone and says what to do.
            fake.configure {
                $0.app = GitHubApp(appID: Self.appID, publicKey: keys.publicKey, installations: ["acme": 77])
            }
            let partial = try await harness.run(
                Harness.product, ["m.yaml", "-q", "--new", "--rerun", "ingest"], environment: environment)
            #expect(partial.status == 3)
            #expect(
                partial.stderr.contains(
                    "the GitHub App \(Self.appID) is not installed where this manifest reads (repos/globex/"),
                "\(partial.stderr)")
            let failed = try storeRows(harness, "SELECT unit FROM unit_attempts WHERE run_id = 2 AND state = 'failed'")
            #expect(try failed.map { try $0.string("unit") } == ["globex/" + estate.repositories[1].name])
        }
    }

    @Test func aMissingAppKeyStopsBeforeAnythingRuns() async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Self.manifest(try #require(URL(string: "http://127.0.0.1:9/graphql"))))
        let result = try await harness.run(Harness.product, ["m.yaml"], environment: [:])
        #expect(result.status == 5)
        #expect(result.stderr.hasPrefix("error: the GitHub App's private key variable `GHILLIE_GITHUB_APP_KEY` is not set\n"))
    }
}
