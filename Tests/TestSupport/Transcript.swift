import Foundation

/// A document's console transcripts (` ```console ` blocks): each `$ command` with the lines
/// it shows, and whether a real command printed them — `…` alone on a line stands for any
/// lines, and within a line for any text (times, dates, hashes).
public enum Transcript {
    public struct Step: Sendable {
        public let command: String
        public let output: [String]
    }

    /// The steps of every console block of `markdown`, or only of those between a line that
    /// starts with `from` and one that starts with `to`.
    public static func steps(_ markdown: String, from start: String? = nil, to end: String? = nil) -> [Step] {
        var steps: [Step] = []
        var inside = false
        var reading = start == nil
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let start, line.hasPrefix(start) { reading = true }
            if let end, line.hasPrefix(end) { reading = false }
            guard reading else { continue }
            if line == "```console" {
                inside = true
            } else if inside && line == "```" {
                inside = false
            } else if inside && line.hasPrefix("$ ") {
                steps.append(Step(command: String(line.dropFirst(2)), output: []))
            } else if inside, let last = steps.popLast() {
                steps.append(Step(command: last.command, output: last.output + [line]))
            }
        }
        return steps
    }

    /// Whether `printed` is what `expected` shows.
    public static func matches(_ expected: [String], _ printed: String) -> Bool {
        var lines = printed.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return matches(expected[...], lines[...])
    }

    static func matches(_ expected: ArraySlice<String>, _ lines: ArraySlice<String>) -> Bool {
        guard let first = expected.first else { return lines.isEmpty }
        if first == "…" {
            return (lines.startIndex...lines.endIndex).contains { matches(expected.dropFirst(), lines[$0...]) }
        }
        guard let line = lines.first, matches(line: first, line) else { return false }
        return matches(expected.dropFirst(), lines.dropFirst())
    }

    static func matches(line pattern: String, _ line: String) -> Bool {
        let parts = pattern.components(separatedBy: "…")
        guard parts.count > 1 else { return pattern == line }
        guard line.hasPrefix(parts[0]), line.dropFirst(parts[0].count).hasSuffix(parts[parts.count - 1]) else { return false }
        var rest = Substring(line.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}
