import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// When to colour output.
enum ColorChoice: String, CaseIterable, Sendable {
    case auto, always, never
}

/// Output format for results.
enum OutputFormat: String, CaseIterable, Sendable {
    case text, json
}

/// Semantic colour roles; code asks for a role, never for raw ANSI.
enum Role {
    case error, warning, success, dim, emphasis

    var code: String {
        switch self {
        case .error: return "\u{1B}[31m"
        case .warning: return "\u{1B}[33m"
        case .success: return "\u{1B}[32m"
        case .dim: return "\u{1B}[2m"
        case .emphasis: return "\u{1B}[1m"
        }
    }
}

/// The process's two output streams, with TTY-aware colour.
///
/// Results go to stdout; progress and diagnostics to stderr.
struct Terminal: Sendable {
    let colorOut: Bool
    let colorErr: Bool
    let stderrIsTTY: Bool

    init(color: ColorChoice, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty || environment["TERM"] == "dumb"
        stderrIsTTY = isatty(STDERR_FILENO) == 1
        switch color {
        case .always:
            colorOut = true
            colorErr = true
        case .never:
            colorOut = false
            colorErr = false
        case .auto:
            colorOut = !noColor && isatty(STDOUT_FILENO) == 1
            colorErr = !noColor && stderrIsTTY
        }
    }

    func paint(_ text: String, _ role: Role, stderr: Bool = true) -> String {
        (stderr ? colorErr : colorOut) ? role.code + text + "\u{1B}[0m" : text
    }

    // Writes ignore failures: a closed pipe (`ghillie-run M 2>&1 | head`) must not stop a
    // run halfway; SIGPIPE is ignored in `Entry` so such a write just fails.
    func out(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
    }

    func err(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
    }

    /// Writes without a newline (for redrawing a progress line).
    func errRaw(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }
}

/// Formats a plain-text table with padded columns.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                // Swift padding, not Foundation's `padding(toLength:)`: an NSString round trip per
                // cell dominated `plan` on large estates.
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Durations as people read them: `0.42s`, `3m12s`, `1h04m`.
func formatDuration(_ seconds: TimeInterval) -> String {
    if seconds < 60 { return String(format: "%.2fs", seconds) }
    let total = Int(seconds.rounded())
    if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
    return "\(total / 3600)h\(String(format: "%02d", (total % 3600) / 60))m"
}
