import Foundation
import JSON

/// A report's status, as the design defines it.
public enum Status: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case onTrack = "on_track"
    case atRisk = "at_risk"
    case blocked
    case unknown

    /// Worse statuses sort later: a roll-up takes the worst of its parts.
    var severity: Int {
        switch self {
        case .onTrack: return 0
        case .unknown: return 1
        case .atRisk: return 2
        case .blocked: return 3
        }
    }

    public static func < (lhs: Status, rhs: Status) -> Bool { lhs.severity < rhs.severity }

    var title: String {
        switch self {
        case .onTrack: return "On track"
        case .atRisk: return "At risk"
        case .blocked: return "Blocked"
        case .unknown: return "Unknown"
        }
    }
}

/// What a report says: the model narrates, the numbers come from the metrics.
public struct ReportContent: Sendable, Hashable {
    public var status: Status
    public var summary: String
    public var highlights: [String]
    public var risks: [String]
    public var nextSteps: [String]

    public static let maxItems = 5

    var json: JSONValue {
        [
            "status": .string(status.rawValue), "summary": .string(summary),
            "highlights": .array(highlights.map(JSONValue.string)), "risks": .array(risks.map(JSONValue.string)),
            "next_steps": .array(nextSteps.map(JSONValue.string)),
        ]
    }

    /// Every piece of text, for checks that look at all of it.
    var texts: [String] { [summary] + highlights + risks + nextSteps }

    /// The content with every fact key of its own words filled in with its value and words
    /// (after verification); quoted text stays as it is, braces and all.
    func filled(by brief: Brief) -> ReportContent {
        ReportContent(
            status: status, summary: brief.fill(summary), highlights: highlights.map(brief.fill),
            risks: risks.map(brief.fill), nextSteps: nextSteps.map(brief.fill))
    }

    /// Reads a model's answer: one JSON object, optionally inside a Markdown code fence.
    /// Prose around the JSON, a missing key or a wrong type is a problem, stated so that the
    /// model can correct it.
    static func parse(_ answer: String) -> Result<ReportContent, Problems> {
        var text = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("```") {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count >= 2, lines.last?.trimmingCharacters(in: .whitespaces) == "```" {
                lines.removeFirst()
                lines.removeLast()
                text = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        guard text.hasPrefix("{"), text.hasSuffix("}"),
            let value = try? JSONValue(parsing: text),
            case .object(let object) = value
        else {
            return .failure(Problems([Problem("invalid_json", "the answer is not one JSON object (no text around it)")]))
        }
        var problems: [Problem] = []
        let statusText = object["status"]?.string ?? ""
        let status = Status(rawValue: statusText.lowercased().replacingOccurrences(of: "-", with: "_"))
        if status == nil {
            problems.append(
                Problem("unknown_status", "`status` is `\(statusText)`; use one of on_track, at_risk, blocked, unknown"))
        }
        let summary = object["summary"]?.string
        if summary == nil { problems.append(Problem("missing_summary", "`summary` must be a string")) }
        func list(_ key: String) -> [String] {
            guard let value = object[key] else { return [] }
            guard let items = value.array, items.allSatisfy({ $0.string != nil }) else {
                problems.append(Problem("bad_list", "`\(key)` must be a list of strings"))
                return []
            }
            return items.compactMap(\.string)
        }
        let content = ReportContent(
            status: status ?? .unknown, summary: summary ?? "", highlights: list("highlights"),
            risks: list("risks"), nextSteps: list("next_steps"))
        return problems.isEmpty ? .success(content) : .failure(Problems(problems))
    }
}

/// One thing wrong with an answer: a stable code and a sentence a model (and a person) can act on.
public struct Problem: Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// The problems of one answer.
public struct Problems: Error, Sendable, Hashable {
    public let items: [Problem]

    init(_ items: [Problem]) { self.items = items }

    var json: JSONValue { .array(items.map { ["code": .string($0.code), "message": .string($0.message)] }) }
}
