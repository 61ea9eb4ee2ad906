import Foundation
import GitHubFake
import JSON
import TestSupport
import Testing

@testable import GitHub

/// Issue #25: every request the client sends is typed, and every answer decodes into types
/// whose optionality follows GitHub's schema — proven here by cases generated from the
/// schema, not a hand list.
@Suite("Typed requests and answers")
struct AnswerShapeTests {
    static let estate = EstateGenerator(seed: 11, repositories: 6).generate()

    /// One request of every kind the client sends, with variables that make the fake answer
    /// every field its document can hold (every list asked for, in pages of a few items).
    static func samples(_ client: GitHubClient) async throws -> [any GraphRequest] {
        let until = estate.windowEnd
        let since = estate.windowStart.addingTimeInterval(-40 * 86_400)
        let sizes = FirstPages.Sizes(commits: 3, pulls: 3, openPulls: 3, updatedIssues: 3, openIssues: 3, documentation: 3)
        // repo-005 reads the folder `docs/` (sub-folders and all); repo-000 two paths.
        let folder = try #require(estate.repository(owner: "acme", name: "repo-005"))
        let plain = try #require(estate.repository(owner: "acme", name: "repo-000"))
        var requests: [any GraphRequest] = []
        for (repository, branch) in [(folder, nil as String?), (plain, plain.defaultBranch)] {
            var first = FirstPages(owner: "acme", name: repository.name, branch: branch, until: until, sizes: sizes)
            first.commitsSince = since
            first.include(.updatedPulls)
            first.include(.openPulls)
            first.include(.updatedIssues, since: since)
            first.include(.openIssues)
            first.documentation = repository.documentationPaths.prefix(2).map {
                (String($0.hasSuffix("/") ? $0.dropLast() : Substring($0)), since)
            }
            requests.append(first)
        }
        let tip = try #require(folder.tip?.oid)
        requests.append(HistoryPage(owner: "acme", name: folder.name, tip: tip, since: since, until: until, first: 3, after: nil))
        let documentation = HistoryPage(
            owner: "acme", name: folder.name, tip: tip, since: since, until: until, first: 10, after: nil, path: "docs")
        requests.append(documentation)
        for list in [ListPage.List.pullRequests, .openPullRequests, .openIssues, .issues(since: since)] {
            requests.append(ListPage(owner: "acme", name: folder.name, list: list, first: 3, after: nil))
        }
        let pull = try #require(folder.pullRequests.first { !$0.reviews.isEmpty && !$0.comments.isEmpty })
        for list in [NestedPage.List.reviews, .comments, .files] {
            requests.append(
                NestedPage(owner: "acme", name: folder.name, number: Int64(pull.number), list: list, first: 3, after: nil))
        }
        let issue = try #require(folder.issues.first { !$0.comments.isEmpty })
        requests.append(
            NestedPage(owner: "acme", name: folder.name, number: Int64(issue.number), list: .issueComments, first: 3, after: nil))
        // The sub-folders the documentation history names, looked up by id.
        var cost = CallCost()
        let history = try await client.execute(documentation, cost: &cost)
        var trees: [String] = []
        for node in history["repository"]?["tip"]?["history"]?["nodes"]?.array ?? [] {
            for entry in node["file"]?["object"]?["entries"]?.array ?? [] where entry["type"]?.string == "tree" {
                if let oid = entry["oid"]?.string, !trees.contains(oid) { trees.append(oid) }
            }
        }
        try #require(!trees.isEmpty)
        requests.append(TreeLookup(owner: "acme", name: folder.name, oids: Array(trees.prefix(2))))
        requests.append(NodeLookup(pullRequests: true, ids: [pull.nodeId]))
        requests.append(NodeLookup(pullRequests: false, ids: [issue.nodeId]))
        requests.append(
            ProbeRequest(
                targets: [
                    .init(owner: "acme", name: folder.name, branch: nil, issuesSince: since, commits: true, pulls: true),
                    .init(
                        owner: "acme", name: plain.name, branch: plain.defaultBranch, issuesSince: since, commits: true,
                        pulls: true),
                ], epoch: since))
        requests.append(
            EstateCheckRequest(
                repositories: [("acme", folder.name, nil), ("acme", plain.name, plain.defaultBranch)],
                probes: Set(EstateCheckRequest.Probe.allCases)))
        requests.append(BudgetRequest(viewer: true))
        requests.append(BudgetRequest(viewer: false))
        return requests
    }

    /// A document's declared variables: name → type (`String!`, `[ID!]!`).
    static func declarations(_ document: String) -> [String: String] {
        guard let open = document.firstIndex(of: "("), let close = document.firstIndex(of: ")"), open < close,
            document[..<open].range(of: "{") == nil
        else { return [:] }
        var declared: [String: String] = [:]
        for part in document[document.index(after: open)..<close].split(separator: ",") {
            let pieces = part.split(separator: ":").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard pieces.count == 2, pieces[0].hasPrefix("$") else { continue }
            declared[String(pieces[0].dropFirst())] = pieces[1]
        }
        return declared
    }

    /// Whether a JSON value is what a GraphQL input type takes.
    static func fits(_ value: JSONValue, _ type: String) -> Bool {
        let base = type.trimmingCharacters(in: CharacterSet(charactersIn: "!"))
        if value.isNull { return !type.hasSuffix("!") }
        if base.hasPrefix("[") {
            let item = String(base.dropFirst().dropLast())
            return value.array?.allSatisfy { fits($0, item) } ?? false
        }
        switch base {
        case "Int": return value.int != nil
        case "Boolean": return value.bool != nil
        default: return value.string != nil
        }
    }

    /// Every request fills exactly the variables its document declares, each of the JSON type
    /// its declared type takes: none undeclared, none required left out, none mistyped.
    @Test func everyRequestFillsExactlyTheVariablesItsDocumentDeclares() async throws {
        try await withFake(estate: Self.estate) { _, url in
            let samples = try await Self.samples(GitHubClient(endpoint: url, token: "t0ken", policy: quick))
            #expect(Set(samples.map(\.operation.name)) == Set((Operation.all + Operation.samples).map(\.name)))
            for request in samples {
                let declared = Self.declarations(request.operation.document)
                let sent = request.variables
                let name = request.operation.name
                #expect(
                    Set(sent.keys).isSubset(of: declared.keys),
                    "\(name) sends undeclared \(Set(sent.keys).subtracting(declared.keys))")
                for (variable, type) in declared {
                    let value = sent[variable] ?? .null
                    #expect(Self.fits(value, type), "\(name): $\(variable) of type \(type) is \(value.canonical)")
                }
            }
        }
    }

    /// The schema's word on every field of every document's answer (`scripts/answer-shapes.py`).
    struct Shape: Decodable {
        let nullable: Bool
        let type: String
        let list: Bool
    }

    /// Every field of a real answer, once per place in the document (list items collapsed to `[]`).
    static func fields(_ value: JSONValue, at path: [JSONKeyStep] = [], into fields: inout [String: [JSONKeyStep]]) {
        switch value {
        case .object(let object):
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                let next = path + [.key(key)]
                let pattern = JSONKeyStep.pattern(next)
                if fields[pattern] == nil { fields[pattern] = next }
                Self.fields(child, at: next, into: &fields)
            }
        case .array(let items):
            for (index, item) in items.enumerated() {
                let next = path + [.index(index)]
                let pattern = JSONKeyStep.pattern(next)
                if fields[pattern] == nil { fields[pattern] = next }
                Self.fields(item, at: next, into: &fields)
            }
        default: break
        }
    }

    /// Each field of each document's real answer is taken out, set to null and given another
    /// type, one at a time: the typed answer must refuse every missing field, every null where
    /// the schema says non-null and every mistyped scalar, and keep a null the schema allows
    /// (but for a null node of a list, which cannot be stored, and a null `endCursor` on a page
    /// that says more follow).
    @Test func everyTypedAnswerRefusesWhatTheSchemaDoesNotAllow() async throws {
        try await withFake(estate: Self.estate) { _, url in
            let client = GitHubClient(endpoint: url, token: "t0ken", policy: quick)
            let samples = try await Self.samples(client)
            let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ghillie-shapes-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            var paths: [String] = []
            for (index, request) in samples.enumerated() {
                let path = folder.appendingPathComponent("\(index).graphql").path
                try request.operation.document.write(toFile: path, atomically: true, encoding: .utf8)
                paths.append(path)
            }
            let result = try await ChildProcess.script("answer-shapes.py", [githubSchema.path] + paths)
            #expect(result.status == 0, "\(result.stderr)")
            let shapes = try JSONDecoder().decode([String: [String: Shape]].self, from: result.stdout)
            var refused = 0
            for (index, request) in samples.enumerated() {
                let operation = request.operation
                var cost = CallCost()
                // The answer as sent, unchecked (a document of the test's own, by the same name).
                let raw = try await client.executeBatch(
                    Operation(name: operation.name, document: operation.document), variables: request.variables,
                    cost: &cost
                ).data
                let shape = try #require(shapes[paths[index]])
                #expect(throws: Never.self, "\(operation.name) as answered") {
                    try operation.check(raw, variables: request.variables)
                }
                var fields: [String: [JSONKeyStep]] = [:]
                Self.fields(raw, into: &fields)
                for (pattern, path) in fields.sorted(by: { $0.key < $1.key }) {
                    let schema = try #require(shape[pattern], "\(operation.name): \(pattern) is not in the schema's shape")
                    let value = raw.at(path) ?? .null
                    func refuses(_ mutated: JSONValue) -> Bool {
                        (try? operation.check(mutated, variables: request.variables)) == nil
                    }
                    if case .key = path.last {
                        var missing = raw
                        missing.set(nil, at: path)
                        #expect(refuses(missing), "\(operation.name): \(pattern) missing was accepted")
                        refused += 1
                    }
                    guard !value.isNull else { continue }
                    var nulled = raw
                    nulled.set(.null, at: path)
                    let storable = !pattern.hasSuffix("[]") && !pattern.hasSuffix(".nodes") && !pattern.hasSuffix(".endCursor")
                    if !schema.nullable {
                        #expect(refuses(nulled), "\(operation.name): \(pattern) (\(schema.type)!) null was accepted")
                        refused += 1
                    } else if storable {
                        #expect(!refuses(nulled), "\(operation.name): \(pattern) (\(schema.type)) null was refused")
                    }
                    if let other = Self.retyped(value) {
                        var mistyped = raw
                        mistyped.set(other, at: path)
                        #expect(refuses(mistyped), "\(operation.name): \(pattern) as \(other.canonical) was accepted")
                        refused += 1
                    }
                }
            }
            // Thousands of generated cases, not a hand list.
            #expect(refused > 1_000, "\(refused)")
        }
    }

    /// A scalar of another JSON type (nil for objects and lists).
    static func retyped(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .string: return .int(7)
        case .int, .double: return .string("7")
        case .bool: return .string("true")
        default: return nil
        }
    }
}

/// One step of a path into a JSON answer.
enum JSONKeyStep: Equatable {
    case key(String)
    case index(Int)

    /// The path as the schema's shapes name it: keys joined by `.`, list levels as `[]`.
    static func pattern(_ path: [JSONKeyStep]) -> String {
        var text = ""
        for step in path {
            switch step {
            case .key(let key): text += (text.isEmpty ? "" : ".") + key
            case .index: text += "[]"
            }
        }
        return text
    }
}

extension JSONValue {
    func at(_ path: [JSONKeyStep]) -> JSONValue? {
        var value: JSONValue? = self
        for step in path {
            switch step {
            case .key(let key): value = value?[key]
            case .index(let index): value = value?.array.flatMap { index < $0.count ? $0[index] : nil }
            }
        }
        return value
    }

    mutating func set(_ new: JSONValue?, at path: [JSONKeyStep]) {
        guard let step = path.first else {
            if let new { self = new }
            return
        }
        let rest = Array(path.dropFirst())
        switch (self, step) {
        case (.object(var object), .key(let key)):
            if rest.isEmpty {
                object[key] = new
            } else if var child = object[key] {
                child.set(new, at: rest)
                object[key] = child
            }
            self = .object(object)
        case (.array(var items), .index(let index)) where index < items.count:
            if rest.isEmpty {
                if let new { items[index] = new }
            } else {
                items[index].set(new, at: rest)
            }
            self = .array(items)
        default: break
        }
    }
}
