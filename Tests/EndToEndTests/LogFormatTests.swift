import Foundation
import GitHubFake
import JSON
import TestSupport
import Testing

/// Issue #14, item 7: `--log-format json` for log collectors.
@Suite("Logs a cluster can read")
struct LogFormatTests {
    static let token = "ghp_logSecretToken0123456789abcd"

    @Test(arguments: [["--log-format", "json"], ["-q", "--log-format", "json"]])
    func everyLineOnStderrIsOneJSONEventAndTheRunEndsWithItsState(flags: [String]) async throws {
        let estate = EstateGenerator(seed: 11, repositories: 2).generate()
        let fake = FakeGitHub(estate: estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", estate.manifest(name: "logs", endpoint: url))
            let result = try await harness.run(
                Harness.product, ["m.yaml"] + flags, environment: ["GHILLIE_GITHUB_TOKEN": Self.token])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "")
            #expect(!result.stderr.contains(Self.token))
            let events = try result.stderr.split(separator: "\n").map { try JSONValue(parsing: String($0)) }
            #expect(events.allSatisfy { $0["run_id"]?.int == 1 && $0["worker"]?.string?.contains(":") == true })
            let names = events.compactMap { $0["event"]?.string }
            #expect(names.last == "run_finished")
            #expect(events.last?["state"]?.string == "succeeded" && events.last?["exit_code"]?.int == 0)
            let succeeded = events.filter { $0["event"]?.string == "unit_succeeded" }
            if flags.contains("-q") {
                #expect(names == ["run_started", "run_finished"])
            } else {
                #expect(names.first == "run_started")
                // Ingest, refine and evidence of two repositories, and the estate's evidence.
                #expect(succeeded.count == 7)
                #expect(names.filter { $0 == "unit_started" }.count == 7)
                #expect(
                    succeeded.allSatisfy {
                        switch $0["duration_seconds"] {
                        case .double?, .int?: return true
                        default: return false
                        }
                    })
                let ingest = try #require(succeeded.first { $0["stage"]?.string == "ingest" })
                #expect(ingest["counters"]?["requests"]?.int != nil)
                #expect(events.first { $0["event"]?.string == "unit_started" }?["attempt"]?.int == 1)
            }
        }
    }
}
