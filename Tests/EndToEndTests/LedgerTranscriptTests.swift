import Foundation
import TestSupport
import Testing

/// Issue #27: docs/ledger.md's transcripts of a failed run, `status` and `plan` are the
/// binary's own: each command runs, in order, with the test stages the document names, and
/// prints what the document shows (`…` for times, dates and hashes).
@Suite("docs/ledger.md transcripts")
struct LedgerTranscriptTests {
    @Test func theLedgerGuidesTranscriptsAreWhatTheBinaryPrints() async throws {
        let text = try String(contentsOf: SourceTree.url("docs/ledger.md"), encoding: .utf8)
        let steps = Transcript.steps(text, from: "<!-- transcript:", to: "<!-- end transcript -->")
        #expect(
            steps.map(\.command) == [
                "ghillie-run pipelines/mvp.yaml", "echo $?", "ghillie-run status pipelines/mvp.yaml",
                "ghillie-run plan pipelines/mvp.yaml",
            ])
        let harness = try Harness()
        try FileManager.default.createDirectory(atPath: harness.path("pipelines"), withIntermediateDirectories: true)
        try harness.write("pipelines/mvp.yaml", try String(contentsOf: SourceTree.url("pipelines/mvp.yaml"), encoding: .utf8))
        let environment = ["GHILLIE_TEST_FAIL": "refine:leynos/wildside"]
        var status: Int32 = 0
        for step in steps {
            if step.command == "echo $?" {
                #expect(step.output == [String(status)])
                continue
            }
            let arguments = step.command.split(separator: " ").dropFirst().map(String.init)
            let result = try await harness.run(Harness.withTestStages, arguments, environment: environment)
            status = result.status
            #expect(
                Transcript.matches(step.output, result.stdout + result.stderr),
                "`\(step.command)` printed:\n\(result.stdout)\(result.stderr)")
        }
    }
}
