import Foundation
import Manifest
import TestSupport
import Testing

/// Issue #27: the permissions a fine-grained token or a GitHub App needs are listed once
/// (``Permission``, ``CollectKind/permissions``); the guide's table says the same.
@Suite("Permissions")
struct PermissionTests {
    @Test func theGuidesTableIsThePermissionsList() throws {
        let text = try String(contentsOf: SourceTree.url("docs/getting-started.md"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let marker = try #require(lines.firstIndex { $0.hasPrefix("<!-- permissions:") })
        let rows = lines[(marker + 3)...].prefix { $0.hasPrefix("|") }
        var table: [String: Set<String>] = [:]
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let kinds = cells[0].split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 1 }.map { String($0.element) }
            let grant = cells[1].replacingOccurrences(of: " (always granted)", with: "")
            table[grant] = Set(kinds)
        }
        var expected: [String: Set<String>] = [:]
        for permission in Permission.allCases {
            expected[permission.grant] = Set(
                CollectKind.allCases.filter { $0.permissions.contains(permission) }.map(\.rawValue))
        }
        #expect(table == expected)
    }

    @Test(arguments: [
        ([CollectKind.commits], [Permission.metadata, .contents]),
        ([.issues, .comments], [.metadata, .issues, .pullRequests]),
        (CollectKind.allCases, Permission.allCases),
    ])
    func whatIsCollectedNeedsItsPermissions(collect: [CollectKind], needed: [Permission]) {
        #expect(Permission.needed(for: collect) == needed)
    }
}
