import Foundation
import JSON
import Testing

@testable import Manifest

/// Ghillie's catalogue rules (reference §1.2), one case each, with exact messages.
struct CatalogueTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let yaml: String
        let expected: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "valid catalogue",
            yaml: """
                version: 1
                projects:
                  - key: p
                    name: P
                    components:
                      - key: c
                        name: C
                        repository: {owner: acme, name: c}
                """, expected: []),
        Case(name: "empty file", yaml: "", expected: ["c.yaml:1:1: error: catalogue file is empty"]),
        Case(
            name: "version below 1", yaml: "version: 0\nprojects: []",
            expected: [
                "c.yaml:1:10: error: `version` must be between 1 and \(Int.max), found 0"
            ]),
        Case(
            name: "projects required", yaml: "version: 1",
            expected: [
                "c.yaml:1:1: error: the catalogue is missing the required key `projects`"
            ]),
        Case(
            name: "unknown key rejected", yaml: "version: 1\nprojects: []\nprogrammez: []",
            expected: [
                "c.yaml:3:1: error: unknown key `programmez` at the top level"
            ]),
        Case(
            name: "key pattern",
            yaml: """
                version: 1
                projects:
                  - {key: -bad, name: B, components: []}
                """, expected: ["c.yaml:3:11: error: `projects[0].key` `-bad` is not a valid key"]),
        Case(
            name: "blank name",
            yaml: """
                version: 1
                projects:
                  - {key: p, name: "  ", components: []}
                """, expected: ["c.yaml:3:20: error: project `p` is missing a name"]),
        Case(
            name: "duplicate project key",
            yaml: """
                version: 1
                projects:
                  - {key: p, name: A, components: []}
                  - {key: p, name: B, components: []}
                """, expected: ["c.yaml:4:5: error: duplicate project key `p`"]),
        Case(
            name: "duplicate programme key",
            yaml: """
                version: 1
                programmes:
                  - {key: g, name: G}
                  - {key: g, name: H}
                projects: []
                """, expected: ["c.yaml:4:5: error: duplicate programme key `g`"]),
        Case(
            name: "component key unique across projects",
            yaml: """
                version: 1
                projects:
                  - {key: a, name: A, components: [{key: x, name: X}]}
                  - {key: b, name: B, components: [{key: x, name: X}]}
                """, expected: ["c.yaml:4:36: error: duplicate component key `x` used by projects a and b"]),
        Case(
            name: "programme references",
            yaml: """
                version: 1
                programmes:
                  - {key: g, name: G, projects: [nope]}
                projects:
                  - {key: p, name: P, programme: h, components: []}
                """,
            expected: [
                "c.yaml:3:34: error: programme `g` lists unknown project `nope`",
                "c.yaml:5:34: error: project `p` names unknown programme `h`",
            ]),
        Case(
            name: "repository parts and branch",
            yaml: """
                version: 1
                projects:
                  - key: p
                    name: P
                    components:
                      - key: c
                        name: C
                        repository: {owner: "ac me", name: c, default_branch: " "}
                """,
            expected: [
                "c.yaml:8:29: error: `projects[0].components[0].repository.owner` `ac me` is not a valid GitHub owner",
                "c.yaml:8:63: error: `projects[0].components[0].repository.default_branch` must not be blank",
            ]),
        Case(
            name: "edges: unknown target, self edge, cross-project allowed",
            yaml: """
                version: 1
                projects:
                  - key: a
                    name: A
                    components:
                      - key: x
                        name: X
                        depends_on: [{component: y}, {component: x}, {component: zz}]
                  - key: b
                    name: B
                    components: [{key: y, name: Y}]
                """,
            expected: [
                "c.yaml:8:54: error: component `x` links to unknown component `zz`",
                "c.yaml:8:38: error: component `x` links to itself",
            ]),
        Case(
            name: "enums",
            yaml: """
                version: 1
                projects:
                  - key: p
                    name: P
                    components:
                      - {key: c, name: C, type: daemon, lifecycle: retired, blocked_by: [{component: c2, kind: prod}]}
                      - {key: c2, name: C2}
                """,
            expected: [
                "c.yaml:6:33: error: `daemon` is not a valid component type",
                "c.yaml:6:52: error: `retired` is not a valid lifecycle",
                "c.yaml:6:96: error: `prod` is not a valid link kind",
            ]),
        Case(
            name: "blocked_by cycle is an error with its path",
            yaml: """
                version: 1
                projects:
                  - key: p
                    name: P
                    components:
                      - {key: a, name: A, blocked_by: [{component: b}]}
                      - {key: b, name: B, blocked_by: [{component: c}]}
                      - {key: c, name: C, blocked_by: [{component: a}]}
                """, expected: ["c.yaml:8:40: error: components form a `blocked_by` cycle: `a` → `b` → `c` → `a`"]),
        Case(
            name: "depends_on cycle is a warning",
            yaml: """
                version: 1
                projects:
                  - key: p
                    name: P
                    components:
                      - {key: a, name: A, depends_on: [{component: b}]}
                      - {key: b, name: B, depends_on: [{component: a}]}
                """, expected: ["c.yaml:7:40: warning: components form a `depends_on` cycle: `a` → `b` → `a`"]),
    ]

    @Test(arguments: cases)
    func catalogue(_ testCase: Case) {
        var parser = CatalogueParser(file: "c.yaml")
        let catalogue = parser.parse(testCase.yaml)
        let messages = parser.reader.diagnostics.map { "\($0.location): \($0.severity.rawValue): \($0.message)" }
        #expect(messages.sorted() == testCase.expected.sorted())
        #expect((catalogue != nil) == !testCase.expected.contains { $0.contains(": error: ") })
    }

    @Test func noiseAndStatusSettingsAreRead() throws {
        var parser = CatalogueParser(file: "c.yaml")
        let parsed = parser.parse(
            """
            version: 1
            projects:
              - key: p
                name: P
                noise: {enabled: false, ignore_labels: [deps], toggles: {ignore_labels: false}}
                status: {prefer_long_form: true}
                documentation_paths: [a.md, a.md]
                components: []
            """)
        let catalogue = try #require(parsed)
        let project = try #require(catalogue.projects.first)
        #expect(project.noise.enabled == false)
        #expect(project.noise.ignoreLabels == ["deps"])
        #expect(project.noise.toggles == ["ignore_labels": false])
        #expect(project.documentationPaths == ["a.md"])
    }
}

/// Window resolution: days before an end, `today` is the latest UTC midnight, fixed ranges.
struct WindowTests {
    @Test(arguments: [
        (WindowSpec.days(14, end: .now), "2026-11-13T10:30:00Z", "2026-11-27T10:30:00Z"),
        (WindowSpec.days(14, end: .today), "2026-11-13T00:00:00Z", "2026-11-27T00:00:00Z"),
        (
            WindowSpec.days(1, end: .instant(date("2026-01-01T00:00:00Z"))), "2025-12-31T00:00:00Z",
            "2026-01-01T00:00:00Z"
        ),
        (
            WindowSpec.range(start: date("2026-11-01T00:00:00+02:00"), end: .today), "2026-10-31T22:00:00Z",
            "2026-11-27T00:00:00Z"
        ),
    ])
    func resolve(_ spec: WindowSpec, _ start: String, _ end: String) throws {
        let now = try #require(Timestamp.date("2026-11-27T10:30:00Z"))
        let window = spec.resolve(now: now)
        #expect(window.start == Timestamp.date(start))
        #expect(window.end == Timestamp.date(end))
    }
}

private func date(_ text: String) -> Date {
    Timestamp.date(text) ?? .distantPast
}
