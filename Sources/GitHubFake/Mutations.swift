import Foundation
import JSON
import Synchronization

/// Answers mangled the way a broken proxy, a partial-data error or an API change mangles
/// them: a selected field missing, a scalar of another type, a field GitHub's schema declares
/// non-null set to null (with a partial-data error beside it, or without), a paged list's
/// `totalCount` moved, a body cut in half.
///
/// Seeded: the same seed and the same requests give the same mutations. A rate of 0.15 mangles
/// about one answer in seven; every mutation is logged (``FakeGitHub/mutations``). A client
/// that checks answers against the schema refuses every one of them. Left out, because no
/// client can check them: a count that stands alone (a pull request's `commits { totalCount }`,
/// the open-item counts), and null where the schema allows it (a deleted author) — consistent
/// lies, answers GitHub could give.
public struct Mutations: Sendable {
    public var seed: UInt64
    public var rate: Double
    /// Told of every mutation as it is made (the devserver prints them).
    public var report: (@Sendable (Mutation) -> Void)?

    public init(seed: UInt64, rate: Double = 0.15, report: (@Sendable (Mutation) -> Void)? = nil) {
        self.seed = seed
        self.rate = rate
        self.report = report
    }

    /// The kinds of mutation, drawn in turn by the seeded generator.
    public enum Kind: String, Sendable, CaseIterable {
        case missingField = "missing field"
        case wrongType = "wrong type"
        case nulledField = "non-null field nulled"
        case partialData = "partial data"
        case movedCount = "totalCount moved"
        case truncatedBody = "body cut in half"
    }

    /// Fields GitHub's schema allows to be null among those the client's documents select (a
    /// test keeps this list equal to `schemas/github/schema.graphql`). Nulling one of these is
    /// an answer GitHub may give, not a mangled one, so the mutator never does.
    public static let nullable: Set<String> = [
        "rateLimit", "repository", "defaultBranchRef", "target", "branch", "pushedAt", "endCursor", "author", "user",
        "name", "email", "changedFilesIfAvailable", "fullDatabaseId", "mergedAt", "closedAt", "labels", "reviews", "files",
        "stateReason", "submittedAt", "file", "object", "entries", "tip", "pullRequest", "issue", "headNode", "doc0",
        "doc1", "named", "nodes", "in_reply_to_id", "pull_request_review_id",
    ]
}

/// One mutation the fake made: which request, what, where.
public struct Mutation: Sendable, CustomStringConvertible {
    public let request: Int
    public let operation: String
    public let kind: Mutations.Kind
    public let path: String

    public var description: String { "request \(request) (\(operation)): \(kind.rawValue) at \(path)" }
}

/// The seeded state of a fake's mutations.
struct Mutator {
    var config: Mutations
    var random: SeededGenerator
    var requests = 0
    var log: [Mutation] = []

    init(_ config: Mutations) {
        self.config = config
        random = SeededGenerator(seed: config.seed)
    }

    /// The body as answered, or mangled (and logged).
    mutating func mangle(_ body: String, operation: String) -> String {
        requests += 1
        guard Double.random(in: 0..<1, using: &random) < config.rate, let answer = try? JSONValue(parsing: body) else {
            return body
        }
        let kind = Mutations.Kind.allCases[Int.random(in: 0..<Mutations.Kind.allCases.count, using: &random)]
        if kind == .truncatedBody {
            record(Mutation(request: requests, operation: operation, kind: kind, path: "(body)"))
            return String(body.prefix(body.count / 2))
        }
        // Fields under `data` (GraphQL) or the whole list (REST), as key paths.
        let root: [JSONKey] = answer["data"] != nil ? [.key("data")] : []
        var fields: [[JSONKey]] = []
        Self.collect(root.isEmpty ? answer : answer["data"] ?? .null, at: root, into: &fields)
        let candidates: [[JSONKey]]
        switch kind {
        case .missingField: candidates = fields
        case .wrongType: candidates = fields.filter { Self.isScalar(answer.at($0)) }
        case .nulledField, .partialData:
            candidates = fields.filter { path in
                guard case .key(let name)? = path.last else { return false }
                return !Mutations.nullable.contains(name) && !(answer.at(path)?.isNull ?? true)
            }
        case .movedCount:
            // Only a count beside the list it counts: a count alone (a pull request's
            // `commits { totalCount }`, the open-item counts) is a lie no client can check.
            candidates = fields.filter { path in
                path.last == .key("totalCount") && answer.at(Array(path.dropLast()) + [.key("nodes")]) != nil
            }
        case .truncatedBody: candidates = []
        }
        guard !candidates.isEmpty else { return body }
        let path = candidates[Int.random(in: 0..<candidates.count, using: &random)]
        var mangled = answer
        switch kind {
        case .missingField: mangled.remove(at: path)
        case .wrongType: mangled.set(Self.retyped(answer.at(path) ?? .null), at: path)
        case .nulledField: mangled.set(.null, at: path)
        case .partialData:
            mangled.set(.null, at: path)
            let location = JSONValue.array(path.dropFirst().map { $0.json })
            mangled.set(
                [
                    [
                        "message":
                            "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug.",
                        "path": location,
                    ]
                ], at: [.key("errors")])
        case .movedCount:
            let count = answer.at(path)?.int ?? 0
            mangled.set(
                .int(max(0, count + (Bool.random(using: &random) ? 1 : -1) * Int64.random(in: 1...3, using: &random))), at: path)
        case .truncatedBody: break
        }
        record(Mutation(request: requests, operation: operation, kind: kind, path: JSONKey.describe(path)))
        return mangled.canonical
    }

    mutating func record(_ mutation: Mutation) {
        log.append(mutation)
        config.report?(mutation)
    }

    static func isScalar(_ value: JSONValue?) -> Bool {
        switch value {
        case .string?, .int?, .double?, .bool?: return true
        default: return false
        }
    }

    /// A scalar of another type: a string becomes a number, a number a string, a boolean a string.
    static func retyped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string: return .int(7)
        case .int(let number): return .string(String(number))
        case .double(let number): return .string(String(number))
        case .bool(let flag): return .string(flag ? "true" : "false")
        default: return .int(7)
        }
    }

    /// Every field under `value` (object keys, through lists), as paths from the answer's top.
    static func collect(_ value: JSONValue, at path: [JSONKey], into fields: inout [[JSONKey]]) {
        switch value {
        case .object(let object):
            for (key, child) in object.sorted(by: { $0.key < $1.key }) {
                let next = path + [.key(key)]
                fields.append(next)
                collect(child, at: next, into: &fields)
            }
        case .array(let items):
            for (index, item) in items.enumerated() { collect(item, at: path + [.index(index)], into: &fields) }
        default: break
        }
    }
}

/// One step of a path into a JSON value.
enum JSONKey: Equatable {
    case key(String)
    case index(Int)

    var json: JSONValue {
        switch self {
        case .key(let key): return .string(key)
        case .index(let index): return .int(Int64(index))
        }
    }

    static func describe(_ path: [JSONKey]) -> String {
        path.map { step in
            switch step {
            case .key(let key): return "." + key
            case .index(let index): return "[\(index)]"
            }
        }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }
}

extension JSONValue {
    func at(_ path: [JSONKey]) -> JSONValue? {
        var value: JSONValue? = self
        for step in path {
            switch step {
            case .key(let key): value = value?[key]
            case .index(let index): value = value?.array.flatMap { index < $0.count ? $0[index] : nil }
            }
        }
        return value
    }

    mutating func set(_ new: JSONValue?, at path: [JSONKey]) {
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

    mutating func remove(at path: [JSONKey]) { set(nil, at: path) }
}

extension FakeGitHub {
    /// Mangles answers from now on; nil stops (the log of what was mangled stays).
    public func mangle(_ mutations: Mutations?) {
        state.withLock { state in
            if let mutations {
                state.mutator = Mutator(mutations)
            } else {
                state.mutator?.config.rate = 0
            }
        }
    }

    /// Every mutation made so far, in order.
    public var mutations: [Mutation] { state.withLock { $0.mutator?.log ?? [] } }

    /// The body of a 200 answer, mangled when mutations are on.
    func mangled(_ body: String, operation: String) -> String {
        state.withLock { state in
            guard state.mutator != nil else { return body }
            return state.mutator?.mangle(body, operation: operation) ?? body
        }
    }
}
