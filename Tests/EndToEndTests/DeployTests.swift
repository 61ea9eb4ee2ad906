import Foundation
import TestSupport
import Testing

/// Issue #14, items 3 and 5: what can be checked of the container image and the Helm chart
/// without a registry or a cluster.
@Suite("Deploy: container image and Helm chart")
struct DeployTests {
    static let containerfile = SourceTree.url("deploy/Containerfile")

    @Test func theImageInstallsExactlyTheLibrariesTheBinaryLinks() async throws {
        let result = try await ChildProcess.script("check-container.py", [Self.containerfile.path, Harness.product])
        #expect(result.status == 0, "\(result.output)\(result.stderr)")
    }

    /// The check can fail: each of these edits to the Containerfile is caught.
    @Test(arguments: [
        (" libpq5", "", "the runtime stage does not install libpq5, which ghillie-run links"),
        ("libstdc++6", "libstdc++6 libxml2", "the runtime stage installs libxml2, which ghillie-run does not link"),
        ("USER 10001:10001", "USER root", "the runtime stage must end as a numeric non-root USER, not root"),
    ])
    func aContainerfileThatDriftsIsCaught(find: String, replace: String, problem: String) async throws {
        let harness = try Harness()
        let text = try String(contentsOf: Self.containerfile, encoding: .utf8)
        #expect(text.contains(find))
        try harness.write("Containerfile", text.replacingOccurrences(of: find, with: replace))
        let result = try await ChildProcess.script(
            "check-container.py", [harness.path("Containerfile"), Harness.product])
        #expect(result.status == 1)
        #expect(result.output.split(separator: "\n").contains(Substring(problem)), "\(result.output)")
    }

    @Test func theChartRendersValidatesAndRunsOnlyCommandsTheBinaryAccepts() async throws {
        let result = try await ChildProcess.script("check-chart.py", [Harness.product])
        #expect(result.status == 0, "\(result.output)\(result.stderr)")
        #expect(
            result.stderr.contains(
                "12 value sets rendered (5 from docs/deploy.md), 42 container command lines run on 42 manifests that "
                    + "validate, 9 value sets refused"), "\(result.stderr)")
    }

    /// Issue #27: the deploy guide's steps are checked, so each of these edits to it is caught —
    /// a catalogue placed where the manifest does not look, a file that does not exist, a past
    /// window that is not one of the anchored manifest's, App credentials without the App.
    @Test(arguments: [
        (
            "--set manifest.paths.estate=catalogues/estate.yaml", "--set manifest.paths.estate=estate.yaml",
            "error: catalogue file `catalogues/estate.yaml` not found"
        ),
        (
            "--from-file=estate=deploy/examples/catalogues/estate.yaml", "--from-file=estate=deploy/examples/estate.yaml",
            "docs/deploy.md: configmap ghillie-run-manifest: deploy/examples/estate.yaml does not exist"
        ),
        ("\"--window-end\",\"2026-11-09\"", "\"--window-end\",\"2026-11-13\"", "refuses"),
        ("--set secrets.githubApp.optional=false", "", "at '/secrets': 'anyOf' failed"),
    ])
    func aDeployGuideThatDriftsIsCaught(find: String, replace: String, problem: String) async throws {
        let harness = try Harness()
        let text = try String(contentsOf: SourceTree.url("docs/deploy.md"), encoding: .utf8)
        #expect(text.contains(find))
        try harness.write("deploy.md", text.replacingOccurrences(of: find, with: replace))
        let result = try await ChildProcess.script("check-chart.py", [Harness.product, harness.path("deploy.md")])
        #expect(result.status == 1)
        #expect(result.output.contains(problem), "\(result.output)")
    }
}
