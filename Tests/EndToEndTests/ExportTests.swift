import Foundation
import GitHubFake
import TestSupport
import Testing

/// Every file of a finished export folder, by name.
func exportFiles(_ folder: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
        files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
    }
    return files
}

/// The one export folder under `out/NAME/`.
func exportFolder(_ harness: Harness, name: String) throws -> URL {
    let parent = harness.folder.appendingPathComponent("out/\(name)")
    // The newest window's folder (folders are named by window end).
    let windows = try FileManager.default.contentsOfDirectory(atPath: parent.path).sorted()
    return parent.appendingPathComponent(try #require(windows.last))
}

/// Runs `scripts/check-export.py` (Python's json and csv modules, jsonschema) over a folder.
func checkExport(_ folder: URL) async throws -> (status: Int32, output: String) {
    let result = try await ChildProcess.script("check-export.py", [folder.path])
    return (result.status, result.output + result.stderr)
}

@Suite("Export against a fake GitHub", .serialized)
struct ExportTests {
    static let token = "ghp_exportSecretToken0123456789"
    static let estate = EstateGenerator(seed: 5, repositories: 4).generate()
    static let datasets = """
        [commits, pull_requests, issues, reviews, comments, review_comments, pr_files, documentation_changes, repositories, \
        evidence, metrics, bundle]
        """
    static let golden = SourceTree.url("Tests/EndToEndTests/Golden/export")

    static func manifest(_ url: URL, name: String = "export-e2e", estate: FakeEstate = estate, extra: String = "") -> String {
        estate.manifest(
            name: name, endpoint: url, settings: ["collect: [commits, pull_requests, issues, documentation, review_comments]"])
            + "export:\n  formats: [json, jsonl, csv]\n  datasets: \(datasets)\n" + extra
    }

    @Test func everyDatasetInEveryFormatLoadsAsIsMatchesItsSchemaAndItsGoldenCopy() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(url))
            let environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let folder = try exportFolder(harness, name: "export-e2e")
            let files = try exportFiles(folder)
            #expect(files.count == 11 * 3 + 2, "\(files.keys.sorted())")
            let check = try await checkExport(folder)
            #expect(check.status == 0, "\(check.output)")
            for (name, data) in files {
                #expect(!String(decoding: data, as: UTF8.self).contains(Self.token), "\(name) holds the token")
            }

            // The checker can fail: one changed byte is caught.
            let copy = harness.folder.appendingPathComponent("tampered")
            try FileManager.default.copyItem(at: folder, to: copy)
            var commits = try #require(files["commits.csv"])
            commits[commits.count - 3] ^= 0x01
            try commits.write(to: copy.appendingPathComponent("commits.csv"))
            #expect(try await checkExport(copy).status == 1)

            // Golden copies; `GHILLIE_RECORD_GOLDEN=1 make test` re-records them. The manifest pins
            // every other file through its SHA-256.
            for name in [
                "export-manifest.json", "metrics.csv", "reviews.jsonl", "review_comments.csv", "issues.csv",
                "documentation_changes.json", "repositories.csv",
            ] {
                try Golden.check(try #require(files[name]), against: Self.golden.appendingPathComponent(name))
            }

            // Exporting the same window again gives the same bytes; only the manifest's run ids
            // name the new run.
            let again = try await harness.run(Harness.product, ["m.yaml", "-q", "--rerun", "export"], environment: environment)
            #expect(again.status == 0, "\(again.stderr)")
            var rewritten = try exportFiles(folder)
            let manifest = String(decoding: rewritten.removeValue(forKey: "export-manifest.json") ?? Data(), as: UTF8.self)
            var original = files
            let first = String(decoding: original.removeValue(forKey: "export-manifest.json") ?? Data(), as: UTF8.self)
            #expect(rewritten == original)
            #expect(manifest.replacingOccurrences(of: "\"run_id\": 2", with: "\"run_id\": 1") == first)

            // A file deleted by hand is written again by the next run; nothing else reruns.
            try FileManager.default.removeItem(at: folder.appendingPathComponent("commits.csv"))
            let plan = try await harness.run(Harness.product, ["plan", "m.yaml"], environment: environment)
            #expect(plan.stdout.contains("export:commits.csv"), "\(plan.stdout)")
            let columns: [[Substring]] = plan.stdout.split(separator: "\n").map { $0.split(separator: " ") }
            let running: [String] = columns.filter { $0.count > 1 && $0[1] == "run" }.map { String($0[0]) }
            #expect(running == ["export:commits.csv"], "\(plan.stdout)")
            #expect(plan.stdout.contains("its output files are gone"))
            let restored = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try Data(contentsOf: folder.appendingPathComponent("commits.csv")) == files["commits.csv"])
        }
    }

    @Test func sigkillDuringExportThenRerunGivesTheCleanRunsBytes() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            let clean = try Harness()
            try clean.write("m.yaml", Self.manifest(url))
            #expect(try await clean.run(Harness.product, ["m.yaml", "-q"], environment: environment).status == 0)
            let reference = try exportFiles(try exportFolder(clean, name: "export-e2e"))

            let harness = try Harness()
            try harness.write("m.yaml", Self.manifest(url))
            #expect(
                try await harness.run(
                    Harness.product, ["m.yaml", "-q", "--only", "ingest", "--only", "refine", "--only", "evidence"],
                    environment: environment
                ).status == 0)
            // Kill the export while a file is being written (a temporary file exists); try again
            // if a run slips through between two looks.
            var killedMidFile = false
            for _ in 0..<8 where !killedMidFile {
                let victim = harness.process(
                    Harness.product, ["m.yaml", "-q", "--rerun", "export", "--jobs", "1"],
                    environment: environment)
                victim.standardError = FileHandle.nullDevice
                try victim.run()
                let out = harness.folder.appendingPathComponent("out/export-e2e")
                let pid = victim.processIdentifier
                let running = victim
                // Polls on a Dispatch thread: a busy loop here would hold a Swift concurrency thread.
                killedMidFile = try await Harness.offPool {
                    let deadline = Date().addingTimeInterval(120)
                    while running.isRunning && Date() < deadline {
                        let writing = FileManager.default.enumerator(atPath: out.path)?
                            .contains { ($0 as? String)?.hasSuffix(".tmp") == true }
                        if writing == true {
                            kill(pid, SIGKILL)
                            return true
                        }
                        usleep(200)
                    }
                    return false
                }
                try await Harness.offPool { running.waitUntilExit() }
            }
            #expect(killedMidFile)
            // Whatever is in place under a final name is complete: the clean run's bytes.
            let folder = try exportFolder(harness, name: "export-e2e")
            for (name, data) in try exportFiles(folder) where !name.hasSuffix(".tmp") && name != "export-manifest.json" {
                #expect(data == reference[name], "\(name) is not the clean run's")
            }
            let resumed = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try exportFiles(folder) == reference)
        }
    }

    @Test func aFileNoExportWroteIsNotOverwrittenUnlessTheManifestSaysSo() async throws {
        let fake = FakeGitHub(estate: Self.estate, token: Self.token)
        let url = try await fake.start()
        try await afterwards({ await fake.stop() }) {
            let harness = try Harness()
            let environment = ["GHILLIE_GITHUB_TOKEN": Self.token]
            try harness.write("m.yaml", Self.manifest(url))
            #expect(
                try await harness.run(
                    Harness.product, ["m.yaml", "-q", "--only", "ingest", "--only", "refine", "--only", "evidence"],
                    environment: environment
                ).status == 0)
            let day = ISO8601DateFormatter.string(
                from: Self.estate.windowEnd, timeZone: TimeZone(identifier: "UTC") ?? .current,
                formatOptions: [.withFullDate])
            let mine = "out/export-e2e/\(day)/commits.csv"
            try harness.write(mine, "my own notes\n")

            let refused = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(refused.status == 3)
            #expect(
                refused.stderr.contains(
                    """
                    FAIL  export:commits.csv: `\(harness.folder.appendingPathComponent(mine).standardizedFileURL.path)` exists and \
                    was not written by an export of `export-e2e`; move it away, point `export.path` elsewhere, or set \
                    `export.overwrite: true` to replace it [export_overwrite_refused]
                    """), "\(refused.stderr)")
            #expect(try String(contentsOfFile: harness.path(mine), encoding: .utf8) == "my own notes\n")

            try harness.write("m.yaml", Self.manifest(url, extra: "  overwrite: true\n"))
            let told = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(told.status == 0, "\(told.stderr)")
            #expect(try String(contentsOfFile: harness.path(mine), encoding: .utf8).hasPrefix("schema_version,repository,oid"))
            // A file this manifest's exports wrote is replaced without being told.
            let rerun = try await harness.run(Harness.product, ["m.yaml", "-q", "--rerun", "export"], environment: environment)
            #expect(rerun.status == 0, "\(rerun.stderr)")
        }
    }
}

/// PostgreSQL gives the same bytes as SQLite: ordering never depends on the engine or its locale.
@Test(.enabled(if: TestDatabase.postgresEnabled))
func exportOnPostgresIsByteIdenticalToSQLite() async throws {
    let owner = "px\(UInt32.random(in: 0...UInt32.max))"
    let estate = EstateGenerator(seed: 5, repositories: 3, owner: owner).generate()
    let fake = FakeGitHub(estate: estate, token: "pg-token")
    let url = try await fake.start()
    try await afterwards({ await fake.stop() }) {
        var folders: [URL] = []
        for store in [nil, try TestDatabase.requirePostgres()] {
            let harness = try Harness()
            try harness.write("m.yaml", ExportTests.manifest(url, name: "export-\(owner)", estate: estate))
            var environment = ["GHILLIE_GITHUB_TOKEN": "pg-token"]
            if let store { environment["GHILLIE_STORE"] = store }
            let result = try await harness.run(Harness.product, ["m.yaml", "-q"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            folders.append(try exportFolder(harness, name: "export-\(owner)"))
        }
        var sqlite = try exportFiles(folders[0]), postgres = try exportFiles(folders[1])
        // Only the manifest differs: it names each store's own run id.
        sqlite["export-manifest.json"] = nil
        postgres["export-manifest.json"] = nil
        #expect(sqlite.count == 34 && sqlite == postgres)
        #expect(try await checkExport(folders[1]).status == 0)
    }
}
