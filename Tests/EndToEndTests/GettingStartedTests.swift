import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue #27: docs/getting-started.md as a user follows it. Every `ghillie-devserver` and
/// `ghillie-run` command of its console blocks runs, in order, against the fakes it starts,
/// and prints what the guide shows (`…` stands for text that differs from run to run); every
/// manifest fragment it shows is valid in the guide's manifest.
@Suite("Getting started", .serialized)
struct GettingStartedTests {
    static let guide = SourceTree.url("docs/getting-started.md")

    /// A free port on 127.0.0.1, for the devserver's fakes (so the test never meets a
    /// devserver someone left running on the guide's ports).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socket, socketAddress, length) == 0 && getsockname(socket, socketAddress, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func everyCommandOfTheGuideRunsAndPrintsWhatItShows() async throws {
        let text = try String(contentsOf: Self.guide, encoding: .utf8)
        let steps = Transcript.steps(text)
        #expect(steps.filter { $0.command.hasPrefix("ghillie-run ") }.count >= 5)
        let harness = try Harness()
        let (github, model) = (try Self.freePort(), try Self.freePort())
        /// The guide's text with the fakes on the ports of this test.
        func ported(_ text: String) -> String {
            text.replacingOccurrences(of: "127.0.0.1:8787", with: "127.0.0.1:\(github)")
                .replacingOccurrences(of: "127.0.0.1:8788", with: "127.0.0.1:\(model)")
        }
        try FileManager.default.createDirectory(atPath: harness.path("pipelines"), withIntermediateDirectories: true)
        try harness.write(
            "pipelines/getting-started.yaml",
            ported(try String(contentsOf: SourceTree.url("pipelines/getting-started.yaml"), encoding: .utf8)))
        let binaries = URL(fileURLWithPath: Harness.product).deletingLastPathComponent()
        var environment: [String: String] = [:]
        var devserver: Process?
        defer {
            if let devserver {
                kill(devserver.processIdentifier, SIGKILL)
                devserver.waitUntilExit()
            }
        }
        for step in steps {
            var words = step.command.split(separator: " ").map(String.init)
            switch words.first {
            case "export":
                for assignment in words.dropFirst() {
                    let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
                    environment[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
            case "ghillie-devserver":
                #expect(words.last == "&", "the guide starts the fakes in the background")
                words.removeLast()
                let process = harness.process(
                    binaries.appendingPathComponent("ghillie-devserver").path,
                    Array(words.dropFirst()) + ["--port", String(github), "--model-port", String(model)])
                // Both streams in one file, as a terminal shows them.
                _ = FileManager.default.createFile(atPath: harness.path("devserver.out"), contents: nil)
                let output = FileHandle(forWritingAtPath: harness.path("devserver.out"))
                process.standardOutput = output
                process.standardError = output
                try process.run()
                devserver = process
                // The last line it prints, once both fakes listen, is the GraphQL URL alone.
                let started = await harness.waitUntil {
                    ((try? String(contentsOfFile: harness.path("devserver.out"), encoding: .utf8)) ?? "").contains("\nhttp://")
                }
                #expect(started, "the devserver did not start")
                let printed = try String(contentsOfFile: harness.path("devserver.out"), encoding: .utf8)
                #expect(Transcript.matches(step.output.map(ported), printed), "`\(step.command)` printed:\n\(printed)")
            case "ghillie-run":
                let result = try await harness.run(Harness.product, Array(words.dropFirst()), environment: environment)
                #expect(result.status == 0, "`\(step.command)` exited \(result.status):\n\(result.stdout)\(result.stderr)")
                #expect(
                    Transcript.matches(step.output.map(ported), result.stdout + result.stderr),
                    "`\(step.command)` printed:\n\(result.stdout)\(result.stderr)")
            default:
                Issue.record("the guide runs `\(step.command)`, which this test does not know how to run")
            }
        }
        #expect(devserver != nil)
        #expect(FileManager.default.fileExists(atPath: harness.path("out/first/reports/acme/repo-000/latest.md")))
    }

    /// Every YAML fragment the guide shows, put in place of its top-level key in the guide's
    /// manifest, gives a valid manifest.
    @Test func everyManifestFragmentOfTheGuideIsValid() async throws {
        let text = try String(contentsOf: Self.guide, encoding: .utf8)
        var fragments: [String] = []
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "```yaml" {
                current = []
            } else if trimmed == "```", let lines = current {
                let indent = lines.first.map { $0.prefix { $0 == " " }.count } ?? 0
                fragments.append(
                    lines.map { String($0.dropFirst(min(indent, $0.prefix { $0 == " " }.count))) }.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current?.append(line)
            }
        }
        #expect(fragments.count >= 6)
        let manifest = try String(contentsOf: SourceTree.url("pipelines/getting-started.yaml"), encoding: .utf8)
        let harness = try Harness()
        for fragment in fragments {
            let key = try #require(fragment.split(separator: ":").first.map(String.init))
            // The manifest without the fragment's top-level section, then the fragment.
            var kept: [String] = []
            var skipping = false
            for line in manifest.split(separator: "\n").map(String.init) {
                if !line.hasPrefix(" ") && !line.hasPrefix("#") { skipping = line.hasPrefix(key + ":") }
                if !skipping { kept.append(line) }
            }
            try harness.write("fragment.yaml", (kept + [fragment]).joined(separator: "\n") + "\n")
            let result = try await harness.run(Harness.product, ["validate", "fragment.yaml"])
            #expect(result.status == 0, "the fragment\n\(fragment)\ngives\n\(result.stdout)\(result.stderr)")
        }
    }
}
