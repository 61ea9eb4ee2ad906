// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "ghillie-run",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ghillie-run", targets: ["ghillie-run"]),
        .executable(name: "ghillie-devserver", targets: ["ghillie-devserver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Report templates (prompt and Markdown) that a manifest can override.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Test support only (fake GitHub server, ghillie-devserver); never linked into ghillie-run.
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // System libraries, each behind a tiny module map.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CDigest", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // SHA-256 over the system libcrypto; used for fingerprints, content hashes, export digests.
        .target(name: "Digest", dependencies: ["CDigest"], swiftSettings: strict),
        // JSON values kept whole (raw GitHub nodes) and the canonical/flat encodings.
        .target(name: "JSON", swiftSettings: strict),
        // Run manifest v1 and Ghillie catalogues: parse, validate, resolve.
        .target(
            name: "Manifest", dependencies: ["Digest", "JSON", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // The SQL interface, frozen migrations, the ledger and the run lock. No driver imports.
        .target(name: "Store", dependencies: ["Digest", "JSON"], swiftSettings: strict),
        .target(name: "SQLiteDriver", dependencies: ["Store", "CSQLite"], swiftSettings: strict),
        .target(name: "PostgresDriver", dependencies: ["Store", "CLibPQ"], swiftSettings: strict),
        // Units, DAG, pure scheduler, resume planner, async executor.
        .target(name: "Pipeline", dependencies: ["Manifest", "Store", "Digest", "JSON"], swiftSettings: strict),
        // HTTP over libcurl: one event loop thread for the process's every request.
        .target(name: "HTTP", dependencies: ["CCurl"], swiftSettings: strict),
        // The nodes GitHub answers with, typed as its schema says (missing, null and mistyped
        // fields refused), and the raw kinds ingest stores them as and refine reads them back as.
        .target(name: "GitHubNodes", dependencies: ["JSON"], swiftSettings: strict),
        // GitHub GraphQL client: operations, retries, rate limits, answers checked before they
        // are returned. No database access.
        .target(name: "GitHub", dependencies: ["HTTP", "JSON", "Digest", "GitHubNodes"], swiftSettings: strict),
        // The ingest stage: GitHub → raw nodes (Bronze), page checkpoints, coverage.
        .target(
            name: "Ingest", dependencies: ["GitHub", "GitHubNodes", "Pipeline", "Store", "Manifest", "JSON", "Digest"],
            swiftSettings: strict),
        // The entity tables (Silver), one typed row per table: the one place each table's
        // columns are named, encoded and decoded, for refine, evidence and export.
        .target(name: "Entities", dependencies: ["Store", "JSON"], swiftSettings: strict),
        // The refine stage: raw nodes → entities (Silver), noise marked, newest snapshot wins.
        .target(
            name: "Refine", dependencies: ["GitHubNodes", "Entities", "Pipeline", "Store", "Manifest", "JSON", "Digest"],
            swiftSettings: strict),
        // Evidence and metrics: pure computations over entities for a window.
        .target(
            name: "Evidence", dependencies: ["Entities", "Pipeline", "Store", "Manifest", "JSON", "Digest"],
            swiftSettings: strict),
        // The export stage: datasets × formats streamed from the store, atomic files, export manifest.
        .target(
            name: "Export", dependencies: ["Entities", "Pipeline", "Store", "Manifest", "JSON", "Digest", "Evidence"],
            swiftSettings: strict),
        // The report stage: briefs, backends (heuristic, OpenAI-compatible), verification, files.
        .target(
            name: "Report",
            dependencies: [
                "Pipeline", "Store", "Manifest", "JSON", "Digest", "Evidence", "HTTP",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict),
        // Command line: the only composition root.
        .target(
            name: "CLI",
            dependencies: [
                "Manifest", "Pipeline", "Store", "SQLiteDriver", "PostgresDriver", "JSON", "GitHub", "HTTP", "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ghillie-run", dependencies: ["CLI", "Pipeline", "Ingest", "Refine", "Evidence", "Export", "Report"],
            swiftSettings: strict),

        // Test support: an HTTP server on 127.0.0.1 that the fake servers share.
        .target(
            name: "LoopbackServer",
            dependencies: [
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            swiftSettings: strict),
        // Test support: a generated estate served by a fake GitHub GraphQL server on 127.0.0.1.
        .target(
            name: "GitHubFake",
            dependencies: ["JSON", "Digest", "LoopbackServer", .product(name: "FlyingFox", package: "FlyingFox")],
            swiftSettings: strict
        ),
        // Test support: a fake OpenAI-compatible Chat Completions server on 127.0.0.1.
        .target(
            name: "ModelFake", dependencies: ["JSON", "LoopbackServer", .product(name: "FlyingFox", package: "FlyingFox")],
            swiftSettings: strict),
        .executableTarget(name: "ghillie-devserver", dependencies: ["GitHubFake", "ModelFake", "JSON"], swiftSettings: strict),
        // Test support: stages that exist only to exercise the runner. Never part of a product.
        .target(name: "TestStages", dependencies: ["Pipeline", "Store", "Digest"], swiftSettings: strict),
        .executableTarget(name: "ghillie-run-teststages", dependencies: ["CLI", "TestStages"], swiftSettings: strict),
        // `make bench`: ledger transition cost and no-op rerun, printed as a table.
        .executableTarget(
            name: "Bench",
            dependencies: [
                "Store", "SQLiteDriver", "PostgresDriver", "GitHubFake", "ModelFake", "JSON", "HTTP", "LoopbackServer",
                .product(name: "FlyingFox", package: "FlyingFox"),
            ],
            swiftSettings: strict
        ),

        // Test support shared by the test targets: the binary harness, child processes, golden
        // files, the PostgreSQL test database.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "ManifestTests", dependencies: ["Manifest", "JSON", "TestSupport"], resources: [.copy("Fixtures")],
            swiftSettings: strict),
        .testTarget(
            name: "PipelineTests", dependencies: ["Pipeline", "Manifest", "Store", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "Entities", "SQLiteDriver", "PostgresDriver", "JSON", "TestSupport", "Ingest"],
            swiftSettings: strict),
        .testTarget(
            name: "RefineTests", dependencies: ["Refine", "Entities", "GitHubNodes", "JSON", "Store"], swiftSettings: strict),
        .testTarget(name: "EvidenceTests", dependencies: ["Evidence", "Pipeline"], swiftSettings: strict),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strict),
        .testTarget(
            name: "ReportTests", dependencies: ["Report", "Evidence", "JSON", "Manifest", "Pipeline", "TestSupport"],
            swiftSettings: strict),
        .testTarget(name: "ExportTests", dependencies: ["Export", "Entities", "Manifest"], swiftSettings: strict),
        .testTarget(
            name: "HTTPTests",
            dependencies: ["HTTP", "LoopbackServer", .product(name: "FlyingFox", package: "FlyingFox")],
            swiftSettings: strict),
        .testTarget(
            name: "GitHubTests",
            dependencies: [
                "GitHub", "GitHubNodes", "GitHubFake", "JSON", "Ingest", "Refine", "Pipeline", "Manifest", "TestSupport",
                "Digest",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ghillie-run", "ghillie-run-teststages", "TestSupport", "Store", "SQLiteDriver", "PostgresDriver", "GitHubFake",
                "ModelFake",
                "JSON", "GitHub", "Ingest", "Refine", "Evidence", "Digest",
            ],
            // Golden files are read from the source tree by path, not bundled.
            exclude: ["Golden"],
            swiftSettings: strict
        ),
    ]
)
