import JSON

/// What a fine-grained personal access token, or a GitHub App's installation, may not read
/// without a repository permission, withheld as GitHub withholds it.
///
/// GitHub: a fine-grained token (or an App) is granted repository permissions one by one —
/// Contents for a repository's commits and files, Issues, Pull requests, Metadata always —
/// and a GraphQL field behind a permission it lacks is answered with a `FORBIDDEN` error
/// whose path names the field ("Resource not accessible by personal access token", "… by
/// integration" for an App), the field null. As the GraphQL specification has it, a field
/// that may not be null (`pullRequests: PullRequestConnection!`, `issues`, `history`) takes
/// its parent with it: the nearest field that may be null (the repository, a ref's `target`)
/// is null instead.
struct Withholding {
    let granted: Set<String>
    /// An App's installation (GitHub words the message for it differently).
    let app: Bool

    /// Field name → the permission it needs, and whether the schema lets it be null.
    static let guarded: [String: (permission: String, nullable: Bool)] = [
        "pullRequests": ("Pull requests", false), "pullRequest": ("Pull requests", true),
        "issues": ("Issues", false), "issue": ("Issues", true),
        "history": ("Contents", false), "object": ("Contents", true),
    ]

    /// Withholds in `data` what the selection asks for without the permission; the errors
    /// GitHub reports beside it.
    func apply(to data: inout JSONValue, document: QueryDocument, operation: String, variables: JSONValue) -> [JSONValue] {
        var errors: [JSONValue] = []
        // Every guarded field is resolved, and reports its error, before nulls propagate (as
        // GraphQL executors do): two siblings withheld are two errors, one parent nulled.
        let resolved = data
        for (path, name) in document.selectedFields(operation: operation, variables: variables) {
            guard let rule = Self.guarded[name], !granted.contains(rule.permission), path.count > 1,
                Self.value(resolved, at: path) != nil
            else { continue }
            errors.append([
                "type": "FORBIDDEN", "path": .array(path.map(JSONValue.string)),
                "message": .string("Resource not accessible by \(app ? "integration" : "personal access token")"),
            ])
            data = Self.nulling(data, at: rule.nullable ? path : Array(path.dropLast()))
        }
        return errors
    }

    /// The value at a path of object keys (nil when the path leaves objects or meets null).
    static func value(_ data: JSONValue, at path: [String]) -> JSONValue? {
        var current = data
        for key in path {
            guard case .object(let object) = current, let next = object[key], !next.isNull else { return nil }
            current = next
        }
        return current
    }

    static func nulling(_ data: JSONValue, at path: [String]) -> JSONValue {
        guard let key = path.first, case .object(var object) = data else { return data }
        object[key] = path.count == 1 ? .null : nulling(object[key] ?? .null, at: Array(path.dropFirst()))
        return .object(object)
    }
}
