import Digest
import Evidence
public import Foundation
import JSON
public import Manifest
public import Pipeline
import Store

/// The export stage: one unit per dataset × format, and `export:manifest` last.
///
/// Each file is streamed from a read snapshot of the store into a temporary file, hashed as it
/// is written, recorded in `export_files`, and only then renamed into place. Files hold no run
/// ids or clocks, so the same window exported twice is the same bytes; `export-manifest.json`
/// (written once every file is) carries the run id, the window and each file's row count,
/// size and SHA-256. See `docs/export.md`.
public struct ExportStage: StageRunner {
    public let stage = Stage.export
    public let version = "export-6"

    public init() {}

    /// The folder a manifest's exports for a window go to (relative to the working directory).
    public static func root(_ manifest: Manifest, window: Window) -> URL? {
        guard let export = manifest.export else { return nil }
        let path = PathTemplate.expand(
            export.path, name: manifest.name, estate: manifest.estate.key,
            start: window.start, end: window.end)
        return URL(fileURLWithPath: path).standardizedFileURL
    }

    public func outputs(_ manifest: Manifest, window: Window) -> [StageOutput] {
        Self.root(manifest, window: window).map { [StageOutput(key: "exports", label: "exports", location: $0)] } ?? []
    }

    /// The file name of an export unit's key (`commits.csv`, `bundle` → `bundle.json`).
    static func fileName(_ key: String) -> String {
        key == "bundle" ? "bundle.json" : key == "manifest" ? "export-manifest.json" : key
    }

    /// Export files deleted (or moved) since they were written: their units run again.
    public func outputsGone(_ units: [Pipeline.Unit], manifest: Manifest, window: Window) -> Set<UnitID> {
        guard let root = Self.root(manifest, window: window) else { return [] }
        return Set(
            units.map(\.id).filter { id in
                !FileManager.default.fileExists(atPath: root.appendingPathComponent(Self.fileName(id.key)).path)
            })
    }

    public func run(_ context: UnitContext) async throws -> UnitResult {
        guard let config = context.manifest.export, let root = Self.root(context.manifest, window: context.window) else {
            throw UnitError(code: "internal", message: "export unit without an `export:` section")
        }
        do {
            let url = root.appendingPathComponent(Self.fileName(context.unit.id.key))
            let file = try OutputFile(url)
            let written: Written
            switch context.unit.subject {
            case .export(let dataset, let format):
                let rows = try context.database.snapshot { snapshot in
                    try Self.write(dataset, format: format, to: file, from: snapshot, context: context)
                }
                written = Written(dataset: dataset.rawValue, format: format.rawValue, rows: rows)
            case .exportManifest:
                let entries = try Self.manifestDocument(root: root, context: context)
                file.append(entries)
                written = Written(dataset: "export-manifest", format: "json", rows: 0)
            default:
                throw UnitError(code: "internal", message: "not an export unit")
            }
            let sha256 = try file.finish()
            try Self.publish(file, sha256: sha256, written: written, overwrite: config.overwrite, context: context)
            return UnitResult(outputHash: sha256, counters: ["rows": Int64(written.rows), "bytes": Int64(file.bytes)])
        } catch let error as ExportError {
            throw UnitError(code: error.code, message: error.hint.map { "\(error.message); \($0)" } ?? error.message)
        }
    }

    struct Written {
        let dataset: String
        let format: String
        let rows: Int
    }

    /// Whether the `export-manifest.json` beside `url` — an export of manifest `name`, perhaps by
    /// another store — lists the file as it is (`sha256`), or is the file: then it is an export of
    /// this manifest's, and may be replaced without `export.overwrite`.
    static func listed(_ url: URL, sha256: String, name: String) -> Bool {
        let manifest = url.deletingLastPathComponent().appendingPathComponent(fileName("manifest"))
        guard let data = try? Data(contentsOf: manifest), let document = try? JSONValue(parsing: data),
            document["name"]?.string == name
        else { return false }
        // The export manifest of an export of this manifest is this manifest's to replace.
        if url.lastPathComponent == manifest.lastPathComponent { return true }
        return (document["files"]?.array ?? []).contains { entry in
            entry["path"]?.string == url.lastPathComponent && entry["sha256"]?.string == sha256
        }
    }

    /// Records the finished file, then renames it into place, refusing to replace a file that
    /// no export of this manifest wrote unless `export.overwrite` says so.
    ///
    /// The record is committed before the rename: a crash between the two leaves a file the
    /// next run recognises as its own.
    static func publish(
        _ file: OutputFile, sha256: String, written: Written, overwrite: Bool,
        context: UnitContext
    ) throws {
        let path = file.url.path
        let name = context.manifest.name
        if FileManager.default.fileExists(atPath: path), !overwrite {
            let existing = try hash(of: file.url)
            let recorded = try context.database.query(
                """
                SELECT 1 AS known FROM export_files WHERE name = \(name) AND path = \(path) AND sha256 = \(existing)
                """)
            let known = existing == sha256 || !recorded.isEmpty || Self.listed(file.url, sha256: existing, name: name)
            guard known else {
                file.discard()
                throw ExportError(
                    "`\(path)` exists and was not written by an export of `\(name)`",
                    hint: "move it away, point `export.path` elsewhere, or set `export.overwrite: true` to replace it",
                    code: "export_overwrite_refused")
            }
        }
        let start = Timestamp.string(context.window.start)
        let end = Timestamp.string(context.window.end)
        try context.database.transaction { tx in
            try tx.execute(
                """
                INSERT INTO export_files (name, path, sha256, run_id, dataset, format, rows, bytes, schema_version,
                                          window_start, window_end)
                VALUES (\(name), \(path), \(sha256), \(context.runID), \(written.dataset), \(written.format),
                        \(written.rows), \(file.bytes),
                        \(written.dataset == Dataset.reports.rawValue ? EvidenceColumns.reportsSchemaVersion : EntityTable.schemaVersion),
                        \(start), \(end))
                ON CONFLICT (name, path, sha256) DO UPDATE SET run_id = excluded.run_id, rows = excluded.rows,
                    bytes = excluded.bytes, window_start = excluded.window_start, window_end = excluded.window_end
                """)
        }
        try file.commit()
    }

    /// The SHA-256 of a file on disk, read in blocks.
    static func hash(of url: URL) throws(ExportError) -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw ExportError("cannot read `\(url.path)` to check whether an export wrote it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try? handle.read(upToCount: 1 << 20), !block.isEmpty {
            hasher.update(block)
        }
        return hasher.hexDigest()
    }
}
