import Foundation

/// Checks an answer against the brief it was written from, before anything is stored.
///
/// Rules (docs/reports.md): a known status; a non-empty, untruncated summary; at most five
/// highlights, risks and next steps, none empty; every number stated in the text is in the
/// brief (rounding to whole numbers, or to the decimals written, is tolerated; hours, days and
/// weeks of a stated duration are the same number), and every percentage is one count of the
/// brief over another; every `#N` is a pull request or issue of the brief; no repository of
/// the estate outside the report's scope is named.
enum Verifier {
    private static let reference = try? NSRegularExpression(pattern: #"(?<![\w/])#(\d+)"#)
    private static let slug = try? NSRegularExpression(pattern: #"[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+"#)

    static func check(_ content: ReportContent, brief: Brief) -> [Problem] {
        var problems: [Problem] = []
        let summary = content.summary.trimmingCharacters(in: .whitespacesAndNewlines)
        if summary.isEmpty { problems.append(Problem("empty_summary", "`summary` is empty")) }
        if summary.hasSuffix("...") || summary.hasSuffix("…") {
            problems.append(Problem("truncated_summary", "`summary` ends in an ellipsis; write it in full"))
        }
        for (name, items) in [("highlights", content.highlights), ("risks", content.risks), ("next_steps", content.nextSteps)] {
            if items.count > ReportContent.maxItems {
                problems.append(
                    Problem("too_many_items", "`\(name)` has \(items.count) items; at most \(ReportContent.maxItems)"))
            }
            if items.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                problems.append(Problem("empty_item", "`\(name)` has an empty item"))
            }
        }
        let allowed = brief.allowedNumbers
        let counts = brief.counts.filter { $0 > 0 }
        var reported: Set<String> = []
        for text in content.texts {
            for claim in NumberClaims.find(in: text) {
                let supported =
                    claim.percent
                    ? counts.contains { base in brief.counts.contains { part in matches(part / base * 100, claim) } }
                    : allowed.contains { matches($0, claim) }
                if !supported && reported.insert(claim.text + (claim.percent ? "%" : "")).inserted {
                    problems.append(
                        Problem(
                            "unsupported_number",
                            "`\(claim.text)\(claim.percent ? "%" : "")` in \"\(excerpt(text))\" is not a number of the evidence; "
                                + "state only the evidence's numbers (rounded if you like)"))
                }
            }
            for number in references(in: text) {
                if !brief.references.contains(number) && reported.insert("#\(number)").inserted {
                    problems.append(
                        Problem(
                            "unknown_reference",
                            "#\(number) is not a pull request or issue of the evidence; refer only to listed ones"))
                }
            }
            // Slug-shaped words of the text that name an estate repository outside the scope.
            guard let slug else { continue }
            let outside = brief.estateRepositories.subtracting(brief.repositories)
            for match in slug.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range, in: text) else { continue }
                let word = text[range].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
                if let named = outside.first(where: { $0.lowercased() == word }), reported.insert(named).inserted {
                    problems.append(Problem("other_repository", "`\(named)` is not part of this report; do not name it"))
                }
            }
        }
        return problems
    }

    /// The `#N` references of a text, in order.
    static func references(in text: String) -> [Int] {
        guard let reference else { return [] }
        return reference.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).flatMap { Int(text[$0]) }
        }
    }

    /// Whether `value` rounds to what the claim wrote.
    static func matches(_ value: Double, _ claim: NumberClaims.Claim) -> Bool {
        if claim.decimals == 0 { return abs(value - claim.value) < 1 }
        return abs(value - claim.value) <= 0.5 * pow(10, -Double(claim.decimals)) + 1e-9
    }

    private static func excerpt(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(77)) + "..."
    }
}
