import Evidence
import Testing

/// Every classification rule, and the reference's quirks that we fixed.
struct WorkTypeTests {
    @Test(
        arguments: [
            // Labels win over titles; first matching label type in table order.
            (["Bug"], "feat: add thing", WorkType.bug), ([" enhancement "], "whatever", .feature),
            (["tech debt"], "x", .refactor), (["docs"], "x", .documentation), (["deps"], "x", .chore),
            (["feature", "bug"], "x", .bug), (["unrelated"], "fix: crash", .bug),
            // Anchored title patterns, in their order: bug > chore > documentation > feature > refactor.
            ([], "fix: crash on start", .bug), ([], "fix(parser): crash", .bug), ([], "bugfix: x", .bug),
            ([], "hotfix: x", .bug), ([], "feat: estate report", .feature), ([], "feat(cli)!: breaking", .feature),
            ([], "Add a flag", .feature), ([], "Implement paging", .feature), ([], "Introduce caching", .feature),
            ([], "refactor: split module", .refactor), ([], "chore: tidy", .chore), ([], "ci: fix pipeline", .chore),
            ([], "build(deps): bump yams", .chore), ([], "docs: fix typo", .documentation),
            ([], "doc(adr): record decision", .documentation), ([], "fix: add X", .bug),
            // Unanchored patterns, in order: bug > feature > refactor > documentation > chore.
            ([], "This fixes the bug", .bug), ([], "Small cleanup of names", .refactor),
            ([], "Update README", .documentation), ([], "Improve the documentation", .documentation),
            ([], "Bump swift-log", .chore), ([], "Update all dependencies", .chore),
            // Not matches.
            ([], "prefix-fix handling", .unknown), ([], "Affix the label", .unknown), ([], "", .unknown),
        ] as [([String], String, WorkType)])
    func classify(_ labels: [String], _ title: String, _ expected: WorkType) {
        #expect(WorkType.classify(labels: labels, title: title) == expected)
    }

    /// Quirk fixed: a commit is classified on its first line, not its whole message.
    @Test func commitsUseTheirFirstLineOnly() {
        #expect(WorkType.classify(title: "feat: estate report\n\nThis fixes the old layout.") == .feature)
        #expect(WorkType.classify(title: "Tidy\n\nfix: nothing") == .unknown)
    }

    /// Quirk fixed: documentation has title patterns, so commits can be documentation.
    @Test func commitsCanBeDocumentation() {
        #expect(WorkType.classify(title: "docs: update the roadmap") == .documentation)
    }
}
