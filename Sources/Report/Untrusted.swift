import Foundation

/// Text written by strangers — titles, commit headlines, labels, paths — as reports may show it.
///
/// Anyone who can open a pull request on a watched repository writes text that reaches briefs,
/// reports and pages. It is cleaned once, where it enters a brief, so every later output holds
/// the same inert text: control characters become spaces (a title cannot start a line, ring
/// a terminal's bell or colour it), bidirectional and other invisible formatting characters
/// are removed (a right-to-left override cannot reorder what a reader sees), runs of
/// whitespace become one space, curly double quotes become straight ones (so data cannot
/// close the “…” that mark it as data), and long text is cut with an ellipsis. What each
/// output then escapes is the renderer's job (``Render/markdownText(_:)``, ``Render/escape(_:)``).
enum Untrusted {
    /// The most characters of a title or headline a brief or report shows.
    static let limit = 100

    /// The characters that mark data in briefs and answers: data inside them is quoted, never
    /// read as fact keys, references or numbers.
    static let open: Character = "\u{201C}"
    static let close: Character = "\u{201D}"

    /// The text cleaned and cut to `limit` characters (then ending in "…"); a cut inside a word
    /// (a `#123` say) backs off to the space before it, when there is one in the last 20.
    static func clean(_ text: String, limit: Int = limit) -> String {
        var out = ""
        out.reserveCapacity(min(text.utf8.count, limit * 4))
        var count = 0
        var pendingSpace = false
        for character in text {
            guard let shown = shown(character) else {
                pendingSpace = !out.isEmpty
                continue
            }
            if shown.isEmpty { continue }
            // A space at the cut is not kept before the ellipsis.
            if count == limit || (pendingSpace && count + 1 >= limit) {
                return cut(out, midWord: !pendingSpace && (character.isLetter || character.isNumber)) + "…"
            }
            if pendingSpace {
                out.append(" ")
                count += 1
                pendingSpace = false
            }
            out.append(shown)
            count += 1
        }
        return out
    }

    /// `text` cut where it was cut, or — inside a word — before that word.
    private static func cut(_ text: String, midWord: Bool) -> String {
        guard midWord, let last = text.last, last.isLetter || last.isNumber,
            let space = text.lastIndex(of: " "), text.distance(from: space, to: text.endIndex) <= 20
        else { return text }
        return String(text[..<space])
    }

    /// What one character becomes: nil for a space (white space and controls), an empty
    /// string when it is only invisible formatting or a blank that looks like nothing, else the
    /// character without its formatting scalars, with at most four combining marks, and with
    /// straight quotes for curly double ones (wherever they stand in the character).
    private static func shown(_ character: Character) -> String? {
        if character.isWhitespace || character.isNewline { return nil }
        let scalars = character.unicodeScalars
        if scalars.allSatisfy({ $0.properties.generalCategory == .control }) { return nil }
        guard scalars.count > 1 || isInvisible(scalars[scalars.startIndex]) || isQuote(scalars[scalars.startIndex]) else {
            return String(character)
        }
        var kept = String.UnicodeScalarView()
        var marks = 0
        for scalar in scalars where !isInvisible(scalar) {
            if isQuote(scalar) {
                kept.append("\"")
                continue
            }
            let category = scalar.properties.generalCategory
            if category == .nonspacingMark || category == .enclosingMark {
                marks += 1
                if marks > 4 { continue }
            }
            kept.append(scalar)
        }
        return kept.allSatisfy { $0 == "\u{200D}" } ? "" : String(kept)
    }

    private static func isQuote(_ scalar: Unicode.Scalar) -> Bool { scalar == "\u{201C}" || scalar == "\u{201D}" }

    /// Blanks that render as nothing though they are letters or symbols (Hangul fillers, the
    /// blank Braille pattern): a title of them would look empty.
    private static let blanks: Set<Unicode.Scalar> = ["\u{115F}", "\u{1160}", "\u{3164}", "\u{FFA0}", "\u{2800}"]

    /// Controls, bidirectional controls and other invisible formatting (category Cf) but the
    /// zero-width joiner, which belongs to the emoji it joins, and blanks that look like nothing.
    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control: return true
        case .format: return scalar != "\u{200D}"
        default: return blanks.contains(scalar)
        }
    }

    /// The text as a brief shows it: cleaned and inside “…”, marking it as data.
    static func quoted(_ cleaned: String) -> String { "\(open)\(cleaned)\(close)" }
}
