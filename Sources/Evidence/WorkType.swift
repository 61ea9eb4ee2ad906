import Foundation

/// What kind of work an item is, from its labels and title.
///
/// Ghillie's rules (reference §1.5), with its quirks fixed: a commit is classified on its
/// first line, not its whole message (a `Co-authored-by` or "fixes" deep in a body no longer
/// makes a feature a bug), and documentation has title patterns of its own (`docs: …`,
/// "documentation", "readme"), so a commit can be `documentation`. All rules are in the two
/// tables below, which the tests enumerate.
public enum WorkType: String, Sendable, Hashable, Codable, CaseIterable {
    case feature, bug, refactor, chore, documentation, unknown

    /// Labels, exact after trimming and lower-casing; the first matching type wins.
    public static let labelRules: [(type: WorkType, labels: [String])] = [
        (.bug, ["bug", "bugfix", "fix", "defect", "hotfix"]),
        (.feature, ["feature", "enhancement", "new feature", "feat"]),
        (.refactor, ["refactor", "refactoring", "tech debt", "technical debt", "cleanup"]),
        (.documentation, ["documentation", "docs", "doc"]),
        (.chore, ["chore", "maintenance", "dependencies", "deps", "ci", "build"]),
    ]

    /// Title patterns (case-insensitive). `anchored` patterns match at the start and are tried
    /// first (in `anchoredOrder`); then every pattern, in `order`.
    public static let titleRules: [(type: WorkType, anchored: [String], anywhere: [String])] = [
        (.bug, [#"^fix(\(.+\))?!?:"#, #"^bugfix:"#, #"^hotfix:"#], [#"(?<![a-zA-Z-])fix(es|ed)?(?![a-zA-Z])"#]),
        (.feature, [#"^feat(\(.+\))?!?:"#, #"^add\s"#, #"^implement\s"#, #"^introduce\s"#], []),
        (.refactor, [#"^refactor(\(.+\))?!?:"#], [#"\brefactor\b"#, #"\bcleanup\b"#]),
        (.documentation, [#"^docs?(\(.+\))?!?:"#], [#"\bdocumentation\b"#, #"\breadme\b"#]),
        (
            .chore, [#"^chore(\(.+\))?!?:"#, #"^ci(\(.+\))?!?:"#, #"^build(\(.+\))?!?:"#],
            [#"\bdependenc(y|ies)\b"#, #"\bbump\b"#, #"^update\s+.*dependenc"#]
        ),
    ]

    /// `ci: fix pipeline` is chore, `docs: fix typo` documentation, `fix: add X` bug.
    public static let anchoredOrder: [WorkType] = [.bug, .chore, .documentation, .feature, .refactor]
    /// `This fixes the bug` is bug; `Update README` documentation.
    public static let order: [WorkType] = [.bug, .feature, .refactor, .documentation, .chore]

    private static let compiled: [WorkType: (anchored: [NSRegularExpression], all: [NSRegularExpression])] = {
        var result: [WorkType: (anchored: [NSRegularExpression], all: [NSRegularExpression])] = [:]
        for rule in titleRules {
            let anchored = rule.anchored.compactMap { try? NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }
            let anywhere = rule.anywhere.compactMap { try? NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }
            precondition(
                anchored.count == rule.anchored.count && anywhere.count == rule.anywhere.count,
                "a work-type pattern does not compile")
            result[rule.type] = (anchored, anchored + anywhere)
        }
        return result
    }()

    /// A pull request's or issue's type: labels first, then the title.
    public static func classify(labels: [String], title: String) -> WorkType {
        let normalised = Set(labels.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        for rule in labelRules where rule.labels.contains(where: normalised.contains) { return rule.type }
        return classify(title: title)
    }

    /// A title's type (a commit's first line).
    public static func classify(title: String) -> WorkType {
        let line = String(title.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        let range = NSRange(line.startIndex..., in: line)
        func matches(_ patterns: [NSRegularExpression]) -> Bool {
            patterns.contains { $0.firstMatch(in: line, range: range) != nil }
        }
        for type in anchoredOrder where matches(compiled[type]?.anchored ?? []) { return type }
        for type in order where matches(compiled[type]?.all ?? []) { return type }
        return .unknown
    }
}
