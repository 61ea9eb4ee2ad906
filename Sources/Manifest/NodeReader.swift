import Foundation
import Yams

/// Reads a composed YAML tree field by field, collecting every problem instead of stopping.
///
/// Codable would stop at the first error and ignore unknown keys; this reader reports each
/// unknown key (with a did-you-mean), each type mismatch and each bad value at its own
/// `line:col`, and lets the caller carry on with what it could read.
struct NodeReader {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
    }

    func location(_ node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func error(_ node: Node, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, at: location(node), message, hint: hint))
    }

    mutating func warning(_ node: Node, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(.warning, at: location(node), message, hint: hint))
    }

    /// A mapping's entries by key, with unknown keys reported. `path` names the mapping in messages.
    /// The value of `key` in a mapping node, if it is a mapping and has the key (no diagnostics).
    func mappingValue(_ node: Node, key: String) -> Node? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.first { $0.key.scalar?.string == key }?.value
    }

    mutating func mapping(_ node: Node, path: String, allowed: [String]) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(path) must be a mapping, found \(describe(node))")
            return nil
        }
        var fields = Fields(node: node, path: path)
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                error(key, "\(path) has a key that is not a string")
                continue
            }
            if allowed.contains(name) {
                fields.values[name] = value
                fields.keys[name] = key
            } else {
                let within = path == "the manifest" || path == "the catalogue" ? "at the top level" : "in `\(path)`"
                error(
                    key, "unknown key `\(name)` \(within)",
                    hint: Suggestion.hint(for: name, in: allowed, noun: "allowed keys"))
            }
        }
        return fields
    }

    mutating func require(_ fields: Fields, _ key: String) -> Node? {
        if let node = fields.values[key] { return node }
        error(fields.node, "\(fields.path) is missing the required key `\(key)`")
        return nil
    }

    /// A string scalar. Unquoted numbers, booleans and nulls are rejected: quote them.
    mutating func string(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error(node, "`\(path)` must be a string, found \(describe(node))")
            return nil
        }
        if (scalar.style == .plain || scalar.style == .any) && Self.mightResolveToNonString(scalar.string) {
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int, .float, .bool, .null:
                error(
                    node, "`\(path)` must be a string, found \(describe(node))",
                    hint: "put the value in quotes: `\"\(scalar.string)\"`")
                return nil
            default: break
            }
        }
        return scalar.string
    }

    /// Whether a plain scalar could resolve to a number, boolean or null. Resolving a tag runs
    /// Yams' regular expressions, the bulk of loading a manifest of thousands of repositories;
    /// a scalar starting with any other character is a string whatever the resolver says.
    static func mightResolveToNonString(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return true }
        return "0123456789+-.~nNtTfFyYoO".unicodeScalars.contains(first)
    }

    mutating func nonEmptyString(_ node: Node, path: String) -> String? {
        guard let value = string(node, path: path) else { return nil }
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            error(node, "`\(path)` must not be empty")
            return nil
        }
        return value
    }

    mutating func int(_ node: Node, path: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, Tag.Name(rawValue: node.tag.rawValue) == .int, let value = Int(scalar.string)
        else {
            error(node, "`\(path)` must be an integer, found \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            error(node, "`\(path)` must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    /// Reads the integer keys of `fields` that `limits` names into `value`; false if any is invalid.
    mutating func ints<Value>(
        _ fields: Fields, path: String, limits: [(String, ClosedRange<Int>, WritableKeyPath<Value, Int>)],
        into value: inout Value
    ) -> Bool {
        var ok = true
        for (key, range, keyPath) in limits {
            guard let node = fields[key] else { continue }
            if let number = int(node, path: "\(path).\(key)", range: range) {
                value[keyPath: keyPath] = number
            } else {
                ok = false
            }
        }
        return ok
    }

    mutating func number(_ node: Node, path: String, range: ClosedRange<Double>) -> Double? {
        let tag = Tag.Name(rawValue: node.tag.rawValue)
        guard case .scalar(let scalar) = node, tag == .int || tag == .float, let value = Double(scalar.string) else {
            error(node, "`\(path)` must be a number, found \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            error(node, "`\(path)` must be between \(range.lowerBound) and \(range.upperBound), found \(scalar.string)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, path: String) -> Bool? {
        guard case .scalar = node, Tag.Name(rawValue: node.tag.rawValue) == .bool, let value = node.bool else {
            error(node, "`\(path)` must be true or false, found \(describe(node))")
            return nil
        }
        return value
    }

    /// A sequence's items; reports a non-sequence.
    mutating func sequence(_ node: Node, path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(node, "`\(path)` must be a list, found \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    /// A list of strings; `unique` reports repeats.
    mutating func strings(_ node: Node, path: String, unique: Bool = true) -> [String]? {
        guard let items = sequence(node, path: path) else { return nil }
        var values: [String] = []
        var seen: Set<String> = []
        var failed = false
        for (index, item) in items.enumerated() {
            guard let value = nonEmptyString(item, path: "\(path)[\(index)]") else {
                failed = true
                continue
            }
            if unique && !seen.insert(value).inserted {
                error(item, "`\(value)` is listed twice in `\(path)`")
                failed = true
                continue
            }
            values.append(value)
        }
        return failed ? nil : values
    }

    /// One value of a closed set, with a did-you-mean.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: Node, path: String, noun: String) -> T?
    where T.RawValue == String {
        guard let text = string(node, path: path) else { return nil }
        if let value = T(rawValue: text) { return value }
        let allowed = T.allCases.map(\.rawValue)
        error(node, "`\(text)` is not a valid \(noun)", hint: Suggestion.hint(for: text, in: allowed, noun: "allowed"))
        return nil
    }

    /// A list of values of a closed set, without repeats.
    mutating func choices<T: RawRepresentable & CaseIterable & Hashable>(_ node: Node, path: String, noun: String)
        -> [T]? where T.RawValue == String
    {
        guard let items = sequence(node, path: path) else { return nil }
        var values: [T] = []
        var failed = false
        for (index, item) in items.enumerated() {
            guard let value: T = choice(item, path: "\(path)[\(index)]", noun: noun) else {
                failed = true
                continue
            }
            if values.contains(value) {
                error(item, "`\(value.rawValue)` is listed twice in `\(path)`")
                failed = true
                continue
            }
            values.append(value)
        }
        return failed ? nil : values
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int: return "integer `\(scalar.string)`"
            case .float: return "number `\(scalar.string)`"
            case .bool: return "boolean `\(scalar.string)`"
            case .null: return "null"
            default: return "string `\(scalar.string)`"
            }
        }
    }
}

/// The known fields of one mapping.
struct Fields {
    let node: Node
    let path: String
    var values: [String: Node] = [:]
    var keys: [String: Node] = [:]

    init(node: Node, path: String) {
        self.node = node
        self.path = path
    }

    subscript(_ key: String) -> Node? { values[key] }
}

/// Composes a YAML file into a node tree, turning syntax errors into diagnostics.
enum YAMLFile {
    /// The tags a manifest distinguishes: booleans, numbers and nulls; everything else is a
    /// string. Yams' default also resolves timestamps, merge keys and `=`, each a regular
    /// expression run on every scalar (and every mapping key, when checking duplicates).
    static let resolver = Resolver.default.removing(.timestamp).removing(.merge).removing(.value)

    static func compose(_ text: String, file: String) -> Result<Node?, DiagnosticFailure> {
        do {
            return .success(try Yams.compose(yaml: text, resolver))
        } catch let error as YamlError {
            return .failure(DiagnosticFailure(diagnostic: diagnostic(error, file: file)))
        } catch {
            return .failure(
                DiagnosticFailure(
                    diagnostic: Diagnostic(
                        at: SourceLocation(file: file, line: 1, column: 1),
                        "cannot parse YAML: \(error)")))
        }
    }

    static func diagnostic(_ error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return Diagnostic(
                at: SourceLocation(file: file, line: mark.line, column: mark.column),
                "invalid YAML: \(problem)", hint: "check the indentation and quoting on this line")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return Diagnostic(
                at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                "duplicate key \(names) in one mapping", hint: "keep one of them; YAML keys must be unique")
        case .reader(let problem, _, _, _):
            return Diagnostic(
                at: SourceLocation(file: file, line: 1, column: 1), "cannot read YAML: \(problem)",
                hint: "the file must be UTF-8 text")
        default:
            return Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "invalid YAML: \(error)")
        }
    }
}

/// A diagnostic carried through `Result`.
struct DiagnosticFailure: Error {
    let diagnostic: Diagnostic
}
