import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which kind of change a file path is, for changed-lines metrics.
///
/// The rules are one ordered table; the first category with a matching glob wins (`*`
/// matches across `/`). Anything unmatched is `code`.
public enum PathCategory: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case code, tests, docs, build, generated

    public static func < (lhs: PathCategory, rhs: PathCategory) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    public static let rules: [(category: PathCategory, patterns: [String])] = [
        (
            .generated,
            [
                "vendor/*", "*/vendor/*", "third_party/*", "*/third_party/*", "node_modules/*", "*/node_modules/*",
                "*.lock", "*.lockfile", "*.lockb", "Package.resolved", "*/Package.resolved", "package-lock.json",
                "*/package-lock.json", "npm-shrinkwrap.json", "*/npm-shrinkwrap.json", "pnpm-lock.yaml", "*/pnpm-lock.yaml",
                "packages.lock.json", "*/packages.lock.json", "go.sum", "*/go.sum", "*.min.js", "*.generated.*", "*.pb.go",
                "*_pb2.py",
            ]
        ),
        (
            .tests,
            [
                "Tests/*", "*/Tests/*", "tests/*", "*/tests/*", "test/*", "*/test/*", "spec/*", "*/spec/*",
                "*Tests.swift", "*_test.go", "test_*.py", "*/test_*.py", "*.test.ts", "*.test.js", "*.spec.ts", "*.spec.js",
            ]
        ),
        (.docs, ["docs/*", "*/docs/*", "doc/*", "*.md", "*.rst", "*.adoc", "*.txt"]),
        (
            .build,
            [
                ".github/*", ".ci/*", "ci/*", "scripts/*", "deploy/*", "Makefile", "*/Makefile", "*.mk", "Dockerfile",
                "*/Dockerfile", "Package.swift", "*.yml", "*.yaml", "*.toml", "*.cfg", "*.ini", "*.json", "*.gradle",
                "pom.xml", "CMakeLists.txt", "*.cmake",
            ]
        ),
    ]

    public static func of(_ path: String) -> PathCategory {
        of(path, rules: rules)
    }

    public static func of(_ path: String, rules: [(category: PathCategory, patterns: [String])]) -> PathCategory {
        for rule in rules where rule.patterns.contains(where: { fnmatch($0, path, 0) == 0 }) {
            return rule.category
        }
        return .code
    }

    /// The built-in rules with the manifest's `metrics.path_categories` replacing categories it lists.
    public static func rules(overriding overrides: [String: [String]]) -> [(category: PathCategory, patterns: [String])] {
        rules.map { rule in (rule.category, overrides[rule.category.rawValue] ?? rule.patterns) }
    }
}
