import Foundation

/// Checks an answer against the brief it was written from, before anything is stored.
///
/// Rules (docs/reports.md): the status the rules decide from the facts (``StatusRules``); a
/// non-empty, untruncated summary; at most five highlights, risks and next steps, none empty;
/// every number is written as a fact's `{key}` of the brief (filled in afterwards with the
/// words that say what it counts), so a typed number — digits or spelled out — is rejected;
/// every `#N` is a pull request or issue of the brief; no repository of the estate outside the
/// report's scope is named. All of these read the answer's own words only: data quoted inside
/// “…” exactly as the brief shows it, and earlier report text repeated as it is, are inert
/// (``Brief/parts(of:)``) — a title's braces, `#N` and digits are never keys, references or claims.
enum Verifier {
    private static let reference = try? NSRegularExpression(pattern: #"(?<![\w/])#(\d+)"#)
    private static let slug = try? NSRegularExpression(pattern: #"[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+"#)
    /// Numbers written as words: a way round "no typed numbers" the verifier closes too.
    /// ("one" is left alone: "one of", "no one".)
    private static let spelled = try? NSRegularExpression(
        pattern: #"\b(zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"#
            + #"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"#
            + #"million|billion|dozen)s?\b"#,
        options: [.caseInsensitive])

    /// Words that state a direction of change; the text must fill the change in, and it must agree.
    private static let direction = try? NSRegularExpression(
        pattern:
            #"\b(rose|grew|increased|higher|more than|went up|up from|doubled|tripled|fell|dropped|decreased|declined|lower|fewer|"#
            + #"went down|down from|halved)\b"#,
        options: [.caseInsensitive])
    private static let downWords: Set<String> = [
        "fell", "dropped", "decreased", "declined", "lower", "fewer", "went down", "down from", "halved",
    ]

    static func check(_ content: ReportContent, brief: Brief) -> [Problem] {
        var problems: [Problem] = []
        let verdict = brief.verdict
        if content.status != verdict.status {
            problems.append(
                Problem(
                    "status_rule",
                    "`status` is \(content.status.rawValue), but the rules decide \(verdict.status.rawValue) "
                        + "(\(verdict.reason)); answer with status \(verdict.status.rawValue)"))
        }
        if [.atRisk, .blocked].contains(verdict.status) && content.status == verdict.status && content.risks.isEmpty {
            problems.append(
                Problem(
                    "missing_risk",
                    "the status is \(verdict.status.rawValue) but `risks` is empty: state why (\(verdict.reason))"))
        }
        let summary = content.summary.trimmingCharacters(in: .whitespacesAndNewlines)
        if summary.isEmpty { problems.append(Problem("empty_summary", "`summary` is empty")) }
        // A summary may end with a quoted title that was cut; its own words may not.
        if case .own(let last)? = brief.parts(of: summary).last, last.hasSuffix("...") || last.hasSuffix("…") {
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
        var reported: Set<String> = []
        for text in content.texts {
            var bare = ""
            var keys: [String] = []
            for part in brief.parts(of: text) {
                guard case .own(let words) = part else {
                    bare += " "
                    continue
                }
                var own = words
                for (key, range) in FactSheet.placeholders(in: words).reversed() {
                    own.replaceSubrange(range, with: " ")
                    keys.append(key)
                    if brief.sheet[key] == nil && reported.insert("{\(key)}").inserted {
                        problems.append(
                            Problem(
                                "unknown_fact",
                                "{\(key)} is not a fact of the evidence; use only the keys of the Facts section"
                                    + (brief.data.contains(where: { $0.contains("{\(key)}") }) ? quoteHint : "")))
                    }
                }
                bare += own
            }
            for claim in NumberClaims.find(in: bare) where reported.insert(claim.text + (claim.percent ? "%" : "")).inserted {
                problems.append(Problem("typed_number", typed(claim.text + (claim.percent ? "%" : ""), in: text, brief: brief)))
            }
            problems += directions(in: bare, keys: keys, text: text, brief: brief, reported: &reported)
            if let spelled {
                for match in spelled.matches(in: bare, range: NSRange(bare.startIndex..., in: bare)) {
                    guard let range = Range(match.range, in: bare) else { continue }
                    let word = String(bare[range])
                    if reported.insert(word.lowercased()).inserted {
                        problems.append(Problem("typed_number", typed(word, in: text, brief: brief)))
                    }
                }
            }
            for number in references(in: bare) {
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
            for match in slug.matches(in: bare, range: NSRange(bare.startIndex..., in: bare)) {
                guard let range = Range(match.range, in: bare) else { continue }
                let word = bare[range].lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
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

    /// Direction words the answer typed: each needs a `{KEY:change}` among the text's own `keys`,
    /// going the way the word says.
    static func directions(in bare: String, keys: [String], text: String, brief: Brief, reported: inout Set<String>)
        -> [Problem]
    {
        guard let direction else { return [] }
        let changes = keys.compactMap { key in key.hasSuffix(":change") ? brief.sheet[key] : nil }
        var problems: [Problem] = []
        for match in direction.matches(in: bare, range: NSRange(bare.startIndex..., in: bare)) {
            guard let range = Range(match.range, in: bare) else { continue }
            let word = bare[range].lowercased()
            let sign = downWords.contains(word) ? -1 : 1
            if changes.isEmpty {
                if reported.insert("change " + word).inserted {
                    problems.append(
                        Problem(
                            "typed_change",
                            "\"\(word)\" in \"\(excerpt(text))\" states a change the text does not fill in: "
                                + "write it as a {key:change} of the Facts section"))
                }
            } else if let wrong = changes.first(where: { $0.value.sign != sign }), reported.insert("wrong " + word).inserted {
                problems.append(
                    Problem(
                        "wrong_direction",
                        "\"\(word)\" in \"\(excerpt(text))\" goes against {\(wrong.key)}, which is \"\(wrong.phrase)\""))
            }
        }
        return problems
    }

    /// The problem of a number the answer typed, naming the fact keys with that value if any.
    static func typed(_ number: String, in text: String, brief: Brief) -> String {
        let same = brief.sheet.facts.filter { $0.number == number }.prefix(3).map { "{\($0.key)} (\($0.phrase))" }
        let unquoted = brief.data.contains { $0.contains(number) && text.contains($0) }
        return "`\(number)` in \"\(excerpt(text))\" is typed, not a fact: write every number as its {key} from "
            + "the Facts section" + (same.isEmpty ? "" : "; this value is " + same.joined(separator: " or "))
            + (unquoted ? quoteHint : "")
    }

    /// Said of a problem inside text the brief quotes: data is quoted with its marks.
    static let quoteHint =
        " (to quote a title, headline or path, copy it with its \(Untrusted.quoted("…")) exactly as the brief shows it)"

    /// A text of the answer as a problem quotes it (to the model, the ledger and a terminal):
    /// cleaned of controls and invisible formatting, and cut.
    private static func excerpt(_ text: String) -> String { Untrusted.clean(text, limit: 80) }
}
