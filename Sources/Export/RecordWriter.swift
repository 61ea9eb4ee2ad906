import Entities
import JSON
import Manifest
import Store

/// Writes records of one dataset in one format, field by field, straight into an output buffer.
///
/// Every record begins with `schema_version`. CSV: a header row, RFC 4180 quoting (a field
/// with a comma, quote, CR or LF is quoted and its quotes doubled), CRLF line ends, empty for
/// null, JSON text for lists and objects. JSON: an array with one record per line. JSONL: one
/// record per line. `embedded` writes comma-separated objects for a larger document (the bundle).
final class RecordWriter {
    enum Layout { case csv, jsonl, jsonArray, embedded }

    let layout: Layout
    let columns: [Column]
    let schemaVersion: Int
    let out: OutputFile
    /// CSV text cells a spreadsheet would run as a formula get a leading `'` (`export.csv_formula_guard`).
    let formulaGuard: Bool
    /// `"name":` per column, with the separator before it.
    private let keys: [[UInt8]]
    private var column = 0
    private(set) var records = 0

    convenience init(
        format: ExportFormat, columns: [Column], schemaVersion: Int, out: OutputFile, formulaGuard: Bool = false
    ) {
        self.init(
            layout: format == .csv ? .csv : format == .jsonl ? .jsonl : .jsonArray,
            columns: columns, schemaVersion: schemaVersion, out: out, formulaGuard: formulaGuard)
    }

    init(layout: Layout, columns: [Column], schemaVersion: Int, out: OutputFile, formulaGuard: Bool = false) {
        self.layout = layout
        self.columns = columns
        self.schemaVersion = schemaVersion
        self.out = out
        self.formulaGuard = formulaGuard && layout == .csv
        keys = columns.map { Array(",\"\($0.name)\":".utf8) }
    }

    /// The header row or the array's opening bracket.
    func begin() {
        switch layout {
        case .csv:
            out.append("schema_version")
            for column in columns {
                out.append(UInt8(ascii: ","))
                out.append(column.name)
            }
            out.append("\r\n")
        case .jsonArray: out.append(UInt8(ascii: "["))
        case .jsonl, .embedded: break
        }
    }

    func end() {
        if layout == .jsonArray { out.append(records == 0 ? "]\n" : "\n]\n") }
    }

    func beginRecord() {
        column = 0
        switch layout {
        case .csv:
            out.append(String(schemaVersion))
        case .jsonl:
            out.append("{\"schema_version\":\(schemaVersion)")
        case .jsonArray, .embedded:
            if records > 0 { out.append(UInt8(ascii: ",")) }
            out.append("\n{\"schema_version\":\(schemaVersion)")
        }
    }

    func endRecord() throws(ExportError) {
        switch layout {
        case .csv: out.append("\r\n")
        case .jsonl: out.append("}\n")
        case .jsonArray, .embedded: out.append(UInt8(ascii: "}"))
        }
        records += 1
        try out.flushIfFull()
    }

    @inline(__always)
    private func key() {
        if layout == .csv {
            out.append(UInt8(ascii: ","))
        } else {
            keys[column].withUnsafeBytes { out.append($0) }
        }
        column += 1
    }

    func null() {
        key()
        if layout != .csv { out.append("null") }
    }

    func int(_ value: Int64) {
        key()
        out.append(String(value))
    }

    func bool(_ value: Bool) {
        key()
        out.append(value ? "true" : "false")
    }

    func bool(_ value: Bool?) {
        guard let value else { return null() }
        bool(value)
    }

    func double(_ value: Double?) {
        key()
        guard let value, value.isFinite else {
            if layout != .csv { out.append("null") }
            return
        }
        out.append(JSONValue.number(value))
    }

    func text(_ bytes: UnsafeRawBufferPointer) {
        key()
        if layout == .csv {
            if formulaGuard, let first = bytes.first, Self.formulaStarts.contains(first) {
                return guardedField(bytes)
            }
            csvField(bytes)
        } else {
            jsonString(bytes)
        }
    }

    /// What a spreadsheet reads as the start of a formula (OWASP's list): `=`, `+`, `-`, `@`, tab, CR.
    static let formulaStarts: Set<UInt8> = [
        UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D,
    ]

    /// A text cell with a `'` before it, so a spreadsheet shows it as text; always quoted.
    private func guardedField(_ bytes: UnsafeRawBufferPointer) {
        var prefixed = [UInt8(ascii: "'")]
        prefixed.append(contentsOf: bytes)
        prefixed.withUnsafeBytes { csvField($0, alwaysQuoted: true) }
    }

    func text(_ value: String?) {
        guard var value else { return null() }
        value.withUTF8 { text(UnsafeRawBufferPointer($0)) }
    }

    /// A value that is already JSON text.
    func json(_ bytes: UnsafeRawBufferPointer) {
        key()
        if layout == .csv { csvField(bytes) } else { out.append(bytes) }
    }

    func json(_ value: String) {
        var value = value
        value.withUTF8 { json(UnsafeRawBufferPointer($0)) }
    }

    private func csvField(_ bytes: UnsafeRawBufferPointer, alwaysQuoted: Bool = false) {
        let needsQuotes =
            alwaysQuoted
            || bytes.contains { byte in
                byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0A || byte == 0x0D
            }
        guard needsQuotes else { return out.append(bytes) }
        out.append(UInt8(ascii: "\""))
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\"") {
            out.append(UnsafeRawBufferPointer(rebasing: bytes[start...index]))
            out.append(UInt8(ascii: "\""))
            start = index + 1
        }
        out.append(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        out.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private func jsonString(_ bytes: UnsafeRawBufferPointer) {
        out.append(UInt8(ascii: "\""))
        var start = 0
        for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            out.append(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            switch byte {
            case UInt8(ascii: "\""): out.append("\\\"")
            case UInt8(ascii: "\\"): out.append("\\\\")
            case 0x0A: out.append("\\n")
            case 0x0D: out.append("\\r")
            case 0x09: out.append("\\t")
            default:
                out.append("\\u00")
                out.append(Self.hex[Int(byte >> 4)])
                out.append(Self.hex[Int(byte & 0x0F)])
            }
            start = index + 1
        }
        out.append(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        out.append(UInt8(ascii: "\""))
    }

    /// Writes the current row of `cursor` as one record, column by column.
    func record(from cursor: any RowCursor) throws(ExportError) {
        beginRecord()
        for (index, column) in columns.enumerated() {
            if cursor.isNull(index) {
                null()
                continue
            }
            switch column.kind {
            case .int: int(cursor.int(index))
            case .bool: bool(cursor.int(index) != 0)
            case .text: cursor.withBytes(index) { text($0) }
            case .json: cursor.withBytes(index) { json($0) }
            case .double: double(cursor.withBytes(index) { Double(String(decoding: $0, as: UTF8.self)) })
            }
        }
        try endRecord()
    }
}
