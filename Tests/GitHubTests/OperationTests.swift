import Foundation
import GitHub
import JSON
import TestSupport
import Testing

/// The repository's copy of GitHub's published GraphQL schema.
let githubSchema = SourceTree.url("schemas/github/schema.graphql")

/// Every operation the client can send validates against GitHub's published schema
/// (`schemas/github/schema.graphql`) and uses no deprecated field, so a misspelt or deprecated
/// field fails here, not in a user's run.
@Test func everyOperationValidatesAgainstGitHubsSchema() async throws {
    let schema = githubSchema
    try #require(FileManager.default.fileExists(atPath: schema.path), "GitHub's schema is expected at \(schema.path)")
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ghillie-ops-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var paths: [String: String] = [:]
    for (index, operation) in (Operation.all + Operation.samples).enumerated() {
        let path = folder.appendingPathComponent("\(index)-\(operation.name).graphql").path
        try operation.document.write(toFile: path, atomically: true, encoding: .utf8)
        paths[path] = operation.name
    }
    let result = try await ChildProcess.script("check-graphql.py", [schema.path] + paths.keys.sorted())
    let data = result.stdout
    #expect(result.status == 0, "\(result.stderr)")
    let results = try JSONDecoder().decode([String: [String]].self, from: data)
    #expect(results.count == Operation.all.count + Operation.samples.count)
    for (path, errors) in results {
        #expect(errors.isEmpty, "\(paths[path] ?? path): \(errors)")
    }
}

/// The validator really rejects a misspelt field and a deprecated one (the test above cannot
/// pass vacuously): `databaseId` is deprecated on pull requests (it cannot hold ids past 2³¹).
@Test(arguments: [("committedDate", "commitedDate", "commitedDate"), ("fullDatabaseId", "databaseId", "deprecated")])
func theValidatorRejectsUnknownAndDeprecatedFields(_ field: String, _ replacement: String, _ complaint: String) async throws {
    let path = NSTemporaryDirectory() + "ghillie-bad-\(UUID().uuidString).graphql"
    let source = field == "committedDate" ? Operation.commits : Operation.openPullRequests
    try source.document.replacingOccurrences(of: field, with: replacement)
        .write(toFile: path, atomically: true, encoding: .utf8)
    let data = try await ChildProcess.script("check-graphql.py", [githubSchema.path, path]).stdout
    let results = try JSONDecoder().decode([String: [String]].self, from: data)
    #expect(results[path]?.contains { $0.contains(complaint) } == true, "\(results)")
}

/// The combined first request's variables say exactly which lists it carries: every list and
/// documentation slot left out is switched off, and times are RFC 3339 in whole seconds.
struct FirstPagesTests {
    static let until = Date(timeIntervalSince1970: 1_794_528_000.75) // 2026-11-13T00:00:00.75Z

    @Test func timesAreWholeSecondsInUTC() {
        #expect(Timestamp.seconds(Self.until) == "2026-11-13T00:00:00Z")
    }

    @Test(arguments: FirstPages.List.allCases)
    func aListIsAskedForOnlyWhenIncluded(_ list: FirstPages.List) {
        let sizes = FirstPages.Sizes(commits: 100, pulls: 12, openPulls: 12, updatedIssues: 14, openIssues: 18, documentation: 6)
        var request = FirstPages(owner: "acme", name: "repo", branch: nil, until: Self.until, sizes: sizes)
        let flags = [
            "withUpdatedPulls", "withOpenPulls", "withUpdatedIssues", "withOpenIssues", "withCommits", "withDoc0", "withDoc1",
        ]
        #expect(flags.allSatisfy { request.variables[$0] == false })
        request.include(list, since: Self.until.addingTimeInterval(-86_400))
        let flag: [FirstPages.List: String] = [
            .updatedPulls: "withUpdatedPulls", .openPulls: "withOpenPulls",
            .updatedIssues: "withUpdatedIssues", .openIssues: "withOpenIssues",
        ]
        #expect(flags.filter { request.variables[$0] == true } == [flag[list]])
        #expect(request.variables["ref"] == nil && request.operation.name == "RepositoryFirstPages")
        if list == .updatedIssues { #expect(request.variables["issuesSince"] == "2026-11-12T00:00:00Z") }
    }
}
