import Foundation
import TestSupport
import Testing

@testable import Manifest
@testable import Pipeline

func fixtureManifest(_ name: String) throws -> Manifest {
    try ManifestLoader().load(path: SourceTree.url("Tests/ManifestTests/Fixtures/\(name)").path).manifest
}

let fixedWindow = Window(start: Date(timeIntervalSince1970: 1_700_000_000), end: Date(timeIntervalSince1970: 1_701_209_600))

struct GraphBuilderTests {
    @Test func catalogueEstateGraph() throws {
        let manifest = try fixtureManifest("good/catalogue-estate.yaml")
        let graph = GraphBuilder.build(manifest, window: fixedWindow)
        let ids = graph.units.map(\.id.description)
        #expect(
            ids == [
                "ingest:leynos/femtologging", "ingest:leynos/wildside",
                "refine:leynos/femtologging", "refine:leynos/wildside",
                "evidence:leynos/femtologging", "evidence:leynos/wildside", "evidence:estate",
                "report:leynos/femtologging", "report:leynos/wildside",
                "report:project:wildside", "report:project:ledger", "report:estate",
                "export:pull_requests.json", "export:metrics.json", "export:manifest",
            ])
        let deps = Dictionary(uniqueKeysWithValues: graph.units.map { ($0.id.description, $0.dependencies.map(\.description)) })
        #expect(deps["report:project:wildside"] == ["report:leynos/wildside"])
        #expect(deps["report:project:ledger"] == [])
        #expect(deps["evidence:estate"] == ["refine:leynos/femtologging", "refine:leynos/wildside"])
        #expect(
            deps["report:estate"] == [
                "report:project:wildside", "report:project:ledger", "report:leynos/femtologging",
                "evidence:estate",
            ])
        #expect(deps["export:pull_requests.json"] == ["refine:leynos/femtologging", "refine:leynos/wildside"])
        #expect(deps["export:metrics.json"] == ["evidence:leynos/femtologging", "evidence:leynos/wildside", "evidence:estate"])
        // The export manifest is written last, once every dataset file is.
        #expect(deps["export:manifest"] == ["export:pull_requests.json", "export:metrics.json"])
    }

    @Test func theBundleIsOneJSONFileWhateverTheFormats() throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bundle-\(UUID().uuidString).yaml")
        try Data(
            """
            version: 1
            name: bundled
            estate: {key: e, repositories: [{slug: a/b}]}
            export: {formats: [jsonl, csv], datasets: [commits, bundle]}
            """.utf8
        ).write(to: file)
        let bundled = try ManifestLoader().load(path: file.path).manifest
        let ids = GraphBuilder.build(bundled, window: fixedWindow).units.map(\.id.description).filter { $0.hasPrefix("export:") }
        #expect(ids == ["export:commits.jsonl", "export:commits.csv", "export:bundle", "export:manifest"])
    }

    @Test func slicesChangeWithTheWindowButNotWithUnrelatedSections() throws {
        let manifest = try fixtureManifest("good/minimal.yaml")
        let a = GraphBuilder.build(manifest, window: fixedWindow)
        let b = GraphBuilder.build(manifest, window: Window(start: fixedWindow.start, end: fixedWindow.end.addingTimeInterval(1)))
        let c = GraphBuilder.build(manifest, window: fixedWindow)
        #expect(a.units.map(\.sliceHash) == c.units.map(\.sliceHash))
        let changed = zip(a.units, b.units).filter { $0.sliceHash != $1.sliceHash }.map(\.0.id.stage)
        #expect(changed == [.ingest, .evidence, .evidence]) // the repository's and the estate's
    }

    @Test func downstreamIsTransitive() throws {
        let graph = GraphBuilder.build(try fixtureManifest("good/minimal.yaml"), window: fixedWindow)
        let down = graph.downstream(of: [UnitID(.refine, "acme/widget")])
        #expect(down == [UnitID(.refine, "acme/widget"), UnitID(.evidence, "acme/widget"), UnitID(.evidence, "estate")])
    }

    @Test(
        arguments: [
            ("ingest", nil, nil),
            ("refine:acme/widget", nil, nil),
            ("refine:ACME/Widget", nil, nil),
            ("refin", "unknown stage `refin` in `refin`", "did you mean `refine`?"),
            ("refine:acme/widgit", "unknown unit `refine:acme/widgit`", "did you mean `refine:acme/widget`?"),
            ("export", "stage `export` has no units in this manifest", "stages here: ingest, refine, evidence"),
        ] as [(String, String?, String?)])
    func selectionParsing(_ text: String, _ message: String?, _ hint: String?) throws {
        let graph = GraphBuilder.build(try fixtureManifest("good/minimal.yaml"), window: fixedWindow)
        do {
            let units = try SelectionParser.units(text, in: graph)
            #expect(message == nil)
            #expect(!units.isEmpty)
        } catch {
            #expect(error.message == message)
            #expect(error.hint == hint)
        }
    }
}

/// The hand-written repository slice is byte for byte what JSONEncoder gave, so stores keep
/// their fingerprints.
@Test(arguments: [
    Repository(
        owner: "acme", name: "api", defaultBranch: "main", documentationPaths: ["docs/roadmap.md", "docs/adr/"],
        project: "core"),
    Repository(owner: "a-b", name: "c.d_e", defaultBranch: "release/1.x", documentationPaths: [], project: nil),
    Repository(
        owner: "x", name: "y", defaultBranch: "naïve \"quoted\" \\ tab\t", documentationPaths: ["ü/✓"], project: "p\u{01}"),
])
func repositorySliceMatchesJSONEncoder(_ repository: Repository) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let expected = String(decoding: try encoder.encode(repository), as: UTF8.self)
    #expect(Slice.encode(repository) == expected)
}
