import Entities
import Foundation
import Manifest
import Testing

@testable import Export

/// Writes one record with a single text column and returns the file's bytes as text.
func written(_ value: String?, kind: ColumnKind = .text, format: ExportFormat, formulaGuard: Bool = false) throws
    -> String
{
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("export-\(UUID().uuidString)")
    let file = try OutputFile(folder.appendingPathComponent("x.\(format.rawValue)"))
    let writer = RecordWriter(
        format: format, columns: [Column("v", kind)], schemaVersion: 1, out: file, formulaGuard: formulaGuard)
    writer.begin()
    writer.beginRecord()
    if kind == .json, let value { writer.json(value) } else { writer.text(value) }
    try writer.endRecord()
    writer.end()
    _ = try file.finish()
    try file.commit()
    return try String(contentsOf: file.url, encoding: .utf8)
}

struct RecordWriterTests {
    @Test(arguments: [
        ("plain", "schema_version,v\r\n1,plain\r\n"),
        ("a,b", "schema_version,v\r\n1,\"a,b\"\r\n"),
        ("say \"hi\"", "schema_version,v\r\n1,\"say \"\"hi\"\"\"\r\n"),
        ("two\nlines", "schema_version,v\r\n1,\"two\nlines\"\r\n"),
        ("cr\rhere", "schema_version,v\r\n1,\"cr\rhere\"\r\n"),
        ("naïve ✓", "schema_version,v\r\n1,naïve ✓\r\n"),
        ("", "schema_version,v\r\n1,\r\n"),
    ])
    func csvQuotesPerRFC4180(value: String, expected: String) throws {
        #expect(try written(value, format: .csv) == expected)
    }

    /// Issue #21: with `export.csv_formula_guard`, a text cell a spreadsheet would run as a
    /// formula starts with `'`; without it, and in JSON, the data is as GitHub holds it.
    @Test(
        arguments: [
            ("=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")"),
            ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tindented", "'\tindented"), ("\rcr", "'\rcr"),
            ("a=b", nil), ("plain", nil),
        ] as [(String, String?)])
    func theFormulaGuardMarksCellsASpreadsheetWouldRun(value: String, guarded: String?) throws {
        let expected = guarded.map { "schema_version,v\r\n1,\"\($0)\"\r\n" }
        #expect(try written(value, format: .csv, formulaGuard: true) == expected ?? written(value, format: .csv))
        #expect(try written(value, format: .jsonl, formulaGuard: true) == written(value, format: .jsonl))
        #expect(try !written(value, format: .csv).contains("'"))
    }

    @Test(arguments: [
        ("plain", #"{"schema_version":1,"v":"plain"}"#),
        ("say \"hi\" \\ back", #"{"schema_version":1,"v":"say \"hi\" \\ back"}"#),
        ("tab\tnew\nline\r", #"{"schema_version":1,"v":"tab\tnew\nline\r"}"#),
        ("bell\u{07}", #"{"schema_version":1,"v":"bell\u0007"}"#),
        ("naïve ✓ </script>", #"{"schema_version":1,"v":"naïve ✓ </script>"}"#),
    ])
    func jsonlEscapesWhatJSONRequires(value: String, expected: String) throws {
        let text = try written(value, format: .jsonl)
        #expect(text == expected + "\n")
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(decoded?["v"] as? String == value)
    }

    @Test func nullIsEmptyInCSVAndNullInJSON() throws {
        #expect(try written(nil, format: .csv) == "schema_version,v\r\n1,\r\n")
        #expect(try written(nil, format: .json) == "[\n{\"schema_version\":1,\"v\":null}\n]\n")
    }

    @Test func listsAreJSONTextInCSVAndValuesInJSON() throws {
        #expect(try written(#"["a","b"]"#, kind: .json, format: .csv) == "schema_version,v\r\n1,\"[\"\"a\"\",\"\"b\"\"]\"\r\n")
        #expect(try written(#"["a","b"]"#, kind: .json, format: .jsonl) == "{\"schema_version\":1,\"v\":[\"a\",\"b\"]}\n")
    }

    @Test func anEmptyJSONDatasetIsAnEmptyArray() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("export-\(UUID().uuidString)")
        let file = try OutputFile(folder.appendingPathComponent("x.json"))
        let writer = RecordWriter(format: .json, columns: [Column("v")], schemaVersion: 1, out: file)
        writer.begin()
        writer.end()
        _ = try file.finish()
        try file.commit()
        #expect(try String(contentsOf: file.url, encoding: .utf8) == "[]\n")
    }
}

struct OutputFileTests {
    @Test func theFinalNameAppearsOnlyOnCommitAndLeftoversAreCleared() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let target = folder.appendingPathComponent("commits.csv")
        // A killed export's temporary file.
        try Data("half".utf8).write(to: folder.appendingPathComponent(".commits.csv.999999.tmp"))
        try Data("old".utf8).write(to: target)
        let file = try OutputFile(target)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                == [file.temporary.lastPathComponent, "commits.csv"].sorted())
        file.append("new contents")
        let sha = try file.finish()
        #expect(try String(contentsOf: target, encoding: .utf8) == "old")
        try file.commit()
        #expect(try String(contentsOf: target, encoding: .utf8) == "new contents")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["commits.csv"])
        #expect(sha == (try ExportStage.hash(of: target)))
        #expect(sha == "6a5f63424a0c878f3b23b7a85dd453523605762e73f536f968f874e57f565d7e")
    }

    static let offsets: [(Double, String)] = [(0, "2026-11-27"), (55_805, "2026-11-27T153005Z")]

    @Test(arguments: offsets)
    func windowBoundsInPathsHaveNoColons(offset: Double, expected: String) {
        let midnight = Date(timeIntervalSince1970: 1_795_737_600)
        #expect(PathTemplate.stamp(midnight.addingTimeInterval(offset)) == expected)
        #expect(
            PathTemplate.expand(
                "out/{name}/{estate}/{window_start}..{window_end}", name: "n", estate: "e",
                start: midnight, end: midnight.addingTimeInterval(offset))
                == "out/n/e/2026-11-27..\(expected)")
    }
}
