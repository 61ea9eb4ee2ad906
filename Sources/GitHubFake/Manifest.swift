public import Foundation
import JSON

extension FakeEstate {
    /// A run manifest for this estate served at `endpoint`: every repository with its
    /// documentation paths (and, with `branches`, its default branch named), the estate's
    /// 14-day window, and `github` settings (`settings` are extra `github:` lines, e.g.
    /// `"page_size: 10"`).
    public func manifest(name: String, endpoint: URL, settings: [String] = [], branches: Bool = true) -> String {
        var text = "version: 1\nname: \(name)\nestate:\n  key: estate\n  repositories:\n"
        for repo in repositories {
            text += "    - slug: \(repo.slug)\n"
            if branches { text += "      default_branch: \(repo.defaultBranch)\n" }
            text += "      documentation_paths: [\(repo.documentationPaths.joined(separator: ", "))]\n"
        }
        text += "window:\n  days: 14\n  end: \"\(Timestamp.seconds(windowEnd))\"\n"
        text += "github:\n  endpoint: \(endpoint.absoluteString)\n"
        for line in settings { text += "  \(line)\n" }
        return text
    }
}
