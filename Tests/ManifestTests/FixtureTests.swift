import Foundation
import JSON
import TestSupport
import Testing

@testable import Manifest

/// The fixture folder, and fixture names found in it.
enum Fixtures {
    static let root: String = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("Fixtures resource missing from the test bundle")
        }
        return url.path
    }()

    static var repository: URL { SourceTree.root }

    /// The fixtures of a folder. A folder that cannot be read, or holds none, gives one case
    /// that fails naming it — never an empty table that passes.
    static func names(in folder: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.source(folder))) ?? []
        let names = files.filter { $0.hasSuffix(".yaml") }.sorted()
        return names.isEmpty ? ["(no fixtures in Tests/ManifestTests/Fixtures/\(folder))"] : names
    }

    /// Fixtures read from the source tree, so the table of cases is known when tests are listed.
    static func source(_ folder: String) -> String {
        repository.appendingPathComponent("Tests/ManifestTests/Fixtures/\(folder)").path
    }

    static func text(of diagnostics: [Diagnostic], relativeTo base: String) -> String {
        diagnostics.map(\.description).joined(separator: "\n").replacingOccurrences(of: base + "/", with: "")
    }
}

@Suite("Manifest fixtures")
struct FixtureTests {
    @Test("every bad manifest fails with exactly the recorded diagnostics", arguments: Fixtures.names(in: "bad"))
    func badManifest(_ name: String) throws {
        let path = Fixtures.root + "/bad/" + name
        let expected = try String(
            contentsOfFile: path.replacingOccurrences(of: ".yaml", with: ".expected"),
            encoding: .utf8
        ).trimmingCharacters(in: .newlines)
        let error = #expect(throws: ManifestError.self) { try ManifestLoader().load(path: path) }
        #expect(Fixtures.text(of: error?.diagnostics ?? [], relativeTo: Fixtures.root) == expected)
    }

    @Test(
        "every good manifest and every shipped pipeline loads",
        arguments:
            Fixtures.names(in: "good").map { "good/" + $0 }
            + ((try? FileManager.default.contentsOfDirectory(atPath: Fixtures.repository.appendingPathComponent("pipelines").path))
            ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "pipelines/" + $0 })
    func goodManifest(_ name: String) throws {
        let path =
            name.hasPrefix("pipelines/")
            ? Fixtures.repository.appendingPathComponent(name).path : Fixtures.root + "/" + name
        let loaded = try ManifestLoader().load(path: path)
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        #expect(!loaded.manifest.estate.repositories.isEmpty)
    }

    @Test func catalogueEstateMergesInlineRepositoriesAndExclusions() throws {
        let manifest = try ManifestLoader().load(path: Fixtures.root + "/good/catalogue-estate.yaml").manifest
        let repositories = manifest.estate.repositories
        #expect(repositories.map(\.slug) == ["leynos/femtologging", "leynos/wildside"])
        let wildside = try #require(repositories.last)
        #expect(wildside.defaultBranch == "develop")
        #expect(wildside.documentationPaths == ["docs/adr/", "docs/roadmap.md"])
        #expect(wildside.project == "wildside")
        #expect(repositories.first?.project == nil)
        #expect(manifest.estate.catalogue?.projects.map(\.key) == ["wildside", "ledger"])
        #expect(manifest.store == .postgres(url: "postgres://ghillie@127.0.0.1:5432/ghillie"))
        #expect(manifest.github.collect == [.commits, .pull_requests, .issues])
        #expect(manifest.export?.formats == [.json])
        #expect(manifest.report?.model.backend == .heuristic)
        let start = try #require(Timestamp.date("2026-11-01T00:00:00Z"))
        let end = try #require(Timestamp.date("2026-11-15T00:00:00Z"))
        #expect(manifest.window == .range(start: start, end: .instant(end)))
    }

    @Test func ownersWithTokensOfTheirOwnAreReadWithThem() throws {
        let loaded = try ManifestLoader().load(path: Fixtures.root + "/good/owner-tokens.yaml")
        let github = loaded.manifest.github
        #expect(github.tokenEnv(forOwner: "Globex") == "GLOBEX_GITHUB_TOKEN")
        #expect(github.tokenEnv(forOwner: "acme") == "GHILLIE_GITHUB_TOKEN")
        #expect(github.tokenEnvs == ["GHILLIE_GITHUB_TOKEN", "GLOBEX_GITHUB_TOKEN"])
        #expect(github.budgetFloor == 500)
    }

    @Test func aTokenForAnOwnerOutsideTheEstateIsAWarning() throws {
        let path = NSTemporaryDirectory() + "owner-tokens-\(UUID().uuidString).yaml"
        try """
        version: 1
        name: owner-tokens
        estate:
          key: acme
          repositories:
            - slug: acme/api
        github:
          owner_tokens: {initech: INITECH_GITHUB_TOKEN}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ManifestLoader().load(path: path)
        #expect(
            loaded.warnings.map(\.description) == [
                "\(path):8:18: warning: no repository of the estate belongs to `initech`\n  hint: owners in the estate: acme"
            ])
    }

    @Test func minimalManifestGetsTheDocumentedDefaults() throws {
        let manifest = try ManifestLoader().load(path: Fixtures.root + "/good/minimal.yaml").manifest
        #expect(manifest.window == .days(14, end: .now))
        #expect(manifest.github.endpoint == "https://api.github.com/graphql")
        #expect(manifest.github.tokenEnv == "GHILLIE_GITHUB_TOKEN")
        #expect(manifest.github.ownerTokens.isEmpty && manifest.github.budgetFloor == 0)
        #expect(manifest.github.collect == CollectKind.allCases)
        #expect(manifest.store == .sqlite(path: ".ghillie/ghillie.sqlite"))
        #expect(manifest.export == nil)
        #expect(manifest.report == nil)
        // No `default_branch`: the repository's own default branch on GitHub.
        #expect(manifest.estate.repositories.first?.defaultBranch == nil)
    }

    /// The JSON Schema and the Swift validator must agree on every manifest we ship or test,
    /// except where a fixture says the schema cannot see the problem (`# schema-blind:`).
    @Test func jsonSchemaAgreesWithTheValidator() async throws {
        var paths = Fixtures.names(in: "bad").map { Fixtures.root + "/bad/" + $0 }
        paths += Fixtures.names(in: "good").map { Fixtures.root + "/good/" + $0 }
        let pipelines = Fixtures.repository.appendingPathComponent("pipelines").path
        paths += try FileManager.default.contentsOfDirectory(atPath: pipelines).filter { $0.hasSuffix(".yaml") }
            .map { pipelines + "/" + $0 }
        let result = try await ChildProcess.script("check-manifest-schema.py", paths)
        let data = result.stdout
        #expect(result.status == 0, "\(result.stderr)")
        struct Verdict: Decodable { let valid: Bool; let errors: [String] }
        let verdicts = try JSONDecoder().decode([String: Verdict].self, from: data)
        #expect(verdicts.count == paths.count)
        for path in paths {
            let swiftValid = (try? ManifestLoader().load(path: path)) != nil
            let schemaBlind = (try String(contentsOfFile: path, encoding: .utf8)).hasPrefix("# schema-blind:")
            let schema = try #require(verdicts[path])
            if schemaBlind {
                #expect(!swiftValid && schema.valid, "\(path): schema-blind fixtures are schema-valid but rejected")
            } else {
                #expect(
                    swiftValid == schema.valid, "\(path): Swift says \(swiftValid), schema says \(schema.valid): \(schema.errors)"
                )
            }
        }
    }
}

/// docs/manifest.md documents exactly the keys of the JSON Schema.
@Test func manifestReferenceMatchesTheSchema() throws {
    let schemaData = try Data(contentsOf: Fixtures.repository.appendingPathComponent("schemas/run-manifest.schema.json"))
    let schema = try #require(try JSONSerialization.jsonObject(with: schemaData) as? [String: Any])
    var keys: [String] = []
    func walk(_ node: [String: Any], _ prefix: String) {
        if let items = node["items"] as? [String: Any] { walk(items, prefix + "[]") }
        guard let properties = node["properties"] as? [String: Any] else { return }
        for (key, value) in properties {
            let path = prefix.isEmpty ? key : prefix + "." + key
            keys.append(path)
            if let child = value as? [String: Any] { walk(child, path) }
        }
    }
    walk(schema, "")
    let reference = try String(contentsOf: Fixtures.repository.appendingPathComponent("docs/manifest.md"), encoding: .utf8)
    for key in keys.sorted() {
        let documented = reference.contains("| `\(key)` |") || (!key.contains(".") && reference.contains("## `\(key)`"))
        #expect(documented, "docs/manifest.md does not document `\(key)`")
    }
    // And nothing documented in the tables is missing from the schema.
    let documentedKeys = reference.split(separator: "\n").compactMap { line -> String? in
        guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
        return String(line[line.index(line.startIndex, offsetBy: 3)..<end])
    }
    #expect(
        Set(documentedKeys).subtracting(keys).isEmpty,
        "documented but not in the schema: \(Set(documentedKeys).subtracting(keys))")
}
