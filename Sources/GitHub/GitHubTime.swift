public import Foundation

/// Times as GitHub's APIs take them in variables and query strings: `2026-11-13T00:00:00Z`
/// (RFC 3339, UTC, whole seconds).
public enum GitHubTime {
    public static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
