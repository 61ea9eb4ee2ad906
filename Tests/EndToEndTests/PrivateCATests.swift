import Foundation
import GitHubFake
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue #27: GitHub Enterprise Server behind a private CA. An HTTPS front signed by a CA made
/// for the test (`scripts/tls-proxy.py`) stands in for it: refused by default with the fix
/// named, trusted with `GHILLIE_CA_BUNDLE` (the system's certificates kept), and a bundle that
/// cannot be used stops a command before it starts.
@Suite("A private CA", .serialized)
struct PrivateCATests {
    /// The fake GitHub behind an HTTPS front: its endpoint, the CA's file, and the harness.
    func withPrivateCA(_ body: (URL, String, Harness) async throws -> Void) async throws {
        let estate = EstateGenerator(seed: 5, repositories: 2).generate()
        let fake = FakeGitHub(estate: estate, token: "ca-token")
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            let proxy = harness.process(
                "/usr/bin/env", ["python3", SourceTree.url("scripts/tls-proxy.py").path, url.absoluteString, harness.path("")])
            try proxy.run()
            defer {
                // SIGKILL: a child of the test process inherits its blocked signals, SIGTERM among them.
                kill(proxy.processIdentifier, SIGKILL)
                proxy.waitUntilExit()
            }
            #expect(await harness.waitUntil { FileManager.default.fileExists(atPath: harness.path("port")) })
            let port = try String(contentsOfFile: harness.path("port"), encoding: .utf8)
            let endpoint = try #require(URL(string: "https://127.0.0.1:\(port)/graphql"))
            try harness.write(
                "m.yaml",
                estate.manifest(name: "enterprise", endpoint: endpoint, settings: ["collect: [commits, pull_requests, issues]"])
            )
            try await body(endpoint, harness.path("ca.pem"), harness)
        }
    }

    @Test func aPrivateCAIsRefusedUntilItsBundleIsGivenAndThenARunGoesThrough() async throws {
        try await withPrivateCA { endpoint, ca, harness in
            let token = ["GHILLIE_GITHUB_TOKEN": "ca-token"]
            let refused = try await harness.run(Harness.product, ["check", "m.yaml"], environment: token)
            #expect(refused.status == 5)
            #expect(
                refused.stdout.contains(
                    "FAIL  github: 127.0.0.1's certificate is not trusted: SSL certificate problem: unable to get local "
                        + "issuer certificate (a private CA: set GHILLIE_CA_BUNDLE to its PEM file)"),
                "\(refused.stdout)")

            let trusted = token.merging(["GHILLIE_CA_BUNDLE": ca]) { $1 }
            let check = try await harness.run(Harness.product, ["check", "m.yaml"], environment: trusted)
            #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
            #expect(
                check.stdout.hasPrefix(
                    "ok    tls: peers verified with the system's certificates and 1 from GHILLIE_CA_BUNDLE (\(ca))\n"),
                "\(check.stdout)")
            let run = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: trusted)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(endpoint.scheme == "https")
        }
    }

    @Test(arguments: [
        ("missing.pem", "error: GHILLIE_CA_BUNDLE=FOLDER/missing.pem: the file cannot be read"),
        (
            "m.yaml",
            "error: GHILLIE_CA_BUNDLE=FOLDER/m.yaml: the file holds no PEM certificate (no `-----BEGIN CERTIFICATE-----`)"
        ),
    ])
    func aBundleThatCannotBeUsedStopsTheCommandBeforeItStarts(file: String, message: String) async throws {
        let harness = try Harness()
        try harness.write("m.yaml", Harness.manifest)
        for command in [["m.yaml"], ["check", "m.yaml"]] {
            let result = try await harness.run(
                Harness.product, command, environment: ["GHILLIE_CA_BUNDLE": harness.path(file)])
            #expect(result.status == 5)
            let folder = harness.path("").hasSuffix("/") ? String(harness.path("").dropLast()) : harness.path("")
            #expect(
                result.stderr.split(separator: "\n").first.map(String.init)
                    == message.replacingOccurrences(of: "FOLDER", with: folder), "\(result.stderr)")
            #expect(result.stdout == "")
        }
        // Commands that reach no server do not read it.
        #expect(
            try await harness.run(
                Harness.product, ["validate", "m.yaml"], environment: ["GHILLIE_CA_BUNDLE": harness.path(file)]
            )
            .status == 0)
    }
}
