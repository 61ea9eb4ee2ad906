import Foundation
import JSON

/// A GraphQL request document as the fake server reads it: the selection sets of its
/// operations and fragments, with arguments and `@include`/`@skip` directives.
///
/// GitHub answers exactly the fields a query selects, and prices a query by the connections
/// it asks for. The fake does both from the document the client sent — not from what the
/// client is assumed to ask — so a client that forgets to select a field (`__typename` on an
/// actor, say) gets no such field, as it would from GitHub.
struct QueryDocument: Sendable {
    indirect enum Value: Equatable, Sendable {
        case variable(String)
        case int(Int64)
        case string(String)
        case bool(Bool)
        case enumeration(String)
        case list([Value])
        case object([String: Value])
        case null

        /// The value with variables substituted, as JSON.
        func resolved(_ variables: JSONValue) -> JSONValue {
            switch self {
            case .variable(let name): return variables[name] ?? .null
            case .int(let value): return .int(value)
            case .string(let value): return .string(value)
            case .bool(let value): return .bool(value)
            case .enumeration(let value): return .string(value)
            case .list(let items): return .array(items.map { $0.resolved(variables) })
            case .object(let fields): return .object(fields.mapValues { $0.resolved(variables) })
            case .null: return .null
            }
        }
    }

    struct Directive: Equatable, Sendable {
        let name: String
        let arguments: [String: Value]
    }

    struct Field: Equatable, Sendable {
        let alias: String?
        let name: String
        let arguments: [String: Value]
        let directives: [Directive]
        let selections: [Selection]

        /// The key the field has in the response.
        var responseKey: String { alias ?? name }
    }

    indirect enum Selection: Equatable, Sendable {
        case field(Field)
        case spread(name: String, directives: [Directive])
        case inline(typeCondition: String?, directives: [Directive], selections: [Selection])

        var directives: [Directive] {
            switch self {
            case .field(let field): return field.directives
            case .spread(_, let directives), .inline(_, let directives, _): return directives
            }
        }
    }

    struct Fragment: Sendable {
        let typeCondition: String
        let selections: [Selection]
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    /// A variable an operation declares: `$name: Type = default`.
    struct Declaration: Equatable, Sendable {
        let name: String
        /// As written: `String!`, `[ID!]!`, `GitTimestamp`.
        let type: String
        let defaultValue: Value?

        var nonNull: Bool { type.hasSuffix("!") }
    }

    private(set) var operations: [String: [Selection]] = [:]
    private(set) var fragments: [String: Fragment] = [:]
    /// Each operation's declared variables, in order.
    private(set) var declarations: [String: [Declaration]] = [:]

    init(_ text: String) throws {
        var parser = Parser(tokens: try Self.tokens(text))
        while !parser.atEnd {
            if parser.peek == "fragment" {
                parser.advance()
                let name = try parser.name()
                guard parser.take("on") else { throw ParseError(description: "fragment \(name) has no type condition") }
                let type = try parser.name()
                fragments[name] = Fragment(typeCondition: type, selections: try parser.selectionSet())
            } else {
                var name = ""
                if parser.peek == "query" {
                    parser.advance()
                    if let next = parser.peek, next != "(", next != "{" { name = try parser.name() }
                    if parser.peek == "(" { declarations[name] = try parser.declarations() }
                }
                operations[name] = try parser.selectionSet()
            }
        }
    }

    /// What GitHub says of a request whose variables do not fit the operation's declarations,
    /// as GraphQL errors (empty when they fit): a variable used but not declared ("Variable $x
    /// is used by Q but not declared"), a non-null one missing or null, or one of another type
    /// ("Variable $owner of type String! was provided invalid value", with the problem), and an
    /// `@include`/`@skip` whose `if` is not a boolean. Variables sent but not declared are
    /// ignored, as GitHub ignores them.
    func variableProblems(operation name: String?, variables: JSONValue) -> [JSONValue] {
        let key = name.flatMap { operations[$0] != nil ? $0 : nil } ?? operations.keys.first ?? ""
        let declared = declarations[key] ?? []
        var problems: [JSONValue] = []
        let names = Set(declared.map(\.name))
        for used in Self.variablesUsed(operations[key] ?? [], fragments: fragments) where !names.contains(used) {
            problems.append(["message": .string("Variable $\(used) is used by \(key) but not declared")])
        }
        for declaration in declared {
            let value = variables[declaration.name] ?? declaration.defaultValue?.resolved(variables) ?? .null
            var explanation: String?
            if value.isNull {
                if declaration.nonNull { explanation = "Expected value to not be null" }
            } else if !Self.coerces(value, to: declaration.type) {
                explanation =
                    "Could not coerce value \(value.canonical) to \(declaration.type.trimmingCharacters(in: CharacterSet(charactersIn: "[]!")))"
            }
            guard let explanation else { continue }
            problems.append([
                "message": .string("Variable $\(declaration.name) of type \(declaration.type) was provided invalid value"),
                "extensions": ["value": value, "problems": [["path": [], "explanation": .string(explanation)]]],
            ])
        }
        for directive in Self.directivesUsed(operations[key] ?? [], fragments: fragments)
        where directive.name == "include" || directive.name == "skip" {
            let flag = directive.arguments["if"]?.resolved(variables) ?? .null
            if flag.bool == nil {
                problems.append([
                    "message": .string(
                        "Argument 'if' on Directive '\(directive.name)' has an invalid value (\(flag.canonical)). Expected type 'Boolean!'."
                    )
                ])
            }
        }
        return problems
    }

    /// Whether a JSON value is what an input type takes: strings for string-like scalars and
    /// enums, integers for `Int`, booleans for `Boolean`, lists item by item.
    static func coerces(_ value: JSONValue, to type: String) -> Bool {
        var base = type
        if base.hasSuffix("!") { base.removeLast() }
        if value.isNull { return !type.hasSuffix("!") }
        if base.hasPrefix("[") {
            let item = String(base.dropFirst().dropLast())
            guard let items = value.array else { return coerces(value, to: item) }
            return items.allSatisfy { coerces($0, to: item) }
        }
        switch base {
        case "Int": return value.int != nil
        case "Float": return value.int != nil || { if case .double = value { return true } else { return false } }()
        case "Boolean": return value.bool != nil
        case "ID": return value.string != nil || value.int != nil
        default: return value.string != nil
        }
    }

    /// The variables a selection set (and the fragments it spreads) uses.
    static func variablesUsed(_ selections: [Selection], fragments: [String: Fragment]) -> Set<String> {
        var used: Set<String> = []
        func values(_ value: Value) {
            switch value {
            case .variable(let name): used.insert(name)
            case .list(let items): items.forEach(values)
            case .object(let fields): fields.values.forEach(values)
            default: break
            }
        }
        var seen: Set<String> = []
        func walk(_ selections: [Selection]) {
            for selection in selections {
                selection.directives.forEach { $0.arguments.values.forEach(values) }
                switch selection {
                case .field(let field):
                    field.arguments.values.forEach(values)
                    walk(field.selections)
                case .spread(let name, _):
                    if seen.insert(name).inserted { walk(fragments[name]?.selections ?? []) }
                case .inline(_, _, let inner): walk(inner)
                }
            }
        }
        walk(selections)
        return used
    }

    /// Every directive of a selection set and the fragments it spreads.
    static func directivesUsed(_ selections: [Selection], fragments: [String: Fragment]) -> [Directive] {
        var found: [Directive] = []
        var seen: Set<String> = []
        func walk(_ selections: [Selection]) {
            for selection in selections {
                found += selection.directives
                switch selection {
                case .field(let field): walk(field.selections)
                case .spread(let name, _):
                    if seen.insert(name).inserted { walk(fragments[name]?.selections ?? []) }
                case .inline(_, _, let inner): walk(inner)
                }
            }
        }
        walk(selections)
        return found
    }

    /// The selection set of the operation called `name` (or the only one).
    func operation(_ name: String?) -> [Selection]? {
        if let name, let selections = operations[name] { return selections }
        return operations.count == 1 ? operations.values.first : nil
    }

    /// Whether `@include`/`@skip` keep a selection, given the request's variables.
    static func included(_ directives: [Directive], variables: JSONValue) -> Bool {
        for directive in directives {
            let flag = directive.arguments["if"]?.resolved(variables).bool ?? true
            if directive.name == "include" && !flag { return false }
            if directive.name == "skip" && flag { return false }
        }
        return true
    }

    // MARK: Projection

    /// `data` reduced to what `selections` ask for, as GitHub answers: each selected field
    /// under its response key (alias or name), unselected fields left out, `__typename` only
    /// when asked for, fragments applied when their type condition matches the object's
    /// `__typename`.
    ///
    /// The fake's resolvers build objects with every field they model, keyed by response key
    /// for aliased fields; a selected field the object does not model is answered `null`.
    func project(_ data: JSONValue, _ selections: [Selection], variables: JSONValue) -> JSONValue {
        switch data {
        case .array(let items):
            return .array(items.map { project($0, selections, variables: variables) })
        case .object(let object):
            var result: [String: JSONValue] = [:]
            collect(object, selections, variables: variables, into: &result)
            return .object(result)
        default:
            return data
        }
    }

    private func collect(
        _ object: [String: JSONValue], _ selections: [Selection], variables: JSONValue,
        into result: inout [String: JSONValue]
    ) {
        let typename = object["__typename"]?.string
        for selection in selections where Self.included(selection.directives, variables: variables) {
            switch selection {
            case .field(let field):
                let key = field.responseKey
                if field.name == "__typename" {
                    result[key] = typename.map(JSONValue.string) ?? .null
                    continue
                }
                var value = object[key] ?? object[field.name] ?? .null
                if value["__all"] != nil {
                    value = Self.page(value, arguments: field.arguments.mapValues { $0.resolved(variables) })
                }
                let projected = field.selections.isEmpty ? value : project(value, field.selections, variables: variables)
                result[key] = Self.merge(result[key], projected)
            case .spread(let name, _):
                guard let fragment = fragments[name], Self.matches(fragment.typeCondition, typename) else { continue }
                collect(object, fragment.selections, variables: variables, into: &result)
            case .inline(let condition, _, let selections):
                guard condition.map({ Self.matches($0, typename) }) ?? true else { continue }
                collect(object, selections, variables: variables, into: &result)
            }
        }
    }

    // MARK: Connections

    /// A connection's page as a query's arguments ask for it. Resolvers give a connection as
    /// `{"__all": [every node, in the list's order], "totalCount": N}`, each node with a
    /// `__sort` key that increases along the list; `first` and `after` are applied here, for
    /// every connection alike. Cursors are keyset cursors, opaque to clients as GitHub's are
    /// (`cursor:v2:` and a packed sort key, base64): the page after a cursor holds the items
    /// whose sort key comes after it, so an item that moves in the list while a client pages
    /// (updated, so ahead of the cursor) is not read again, and one that leaves shifts nothing.
    ///
    /// `itemTypes` (a timeline's) keeps the nodes of those types (each node's `__itemType`) and,
    /// as on GitHub, leaves `totalCount` counting the whole timeline.
    static func page(_ connection: JSONValue, arguments: [String: JSONValue]) -> JSONValue {
        var all = connection["__all"]?.array ?? []
        if let types = arguments["itemTypes"]?.array?.compactMap(\.string) {
            all = all.filter { node in node["__itemType"]?.string.map(types.contains) ?? false }
        }
        var result = page(
            keys: all.map { $0["__sort"]?.string ?? "" },
            totalCount: connection["totalCount"]?.int.map(Int.init) ?? all.count, arguments: arguments
        ) {
            stripSortKey(all[$0])
        }
        if case .object(let extra) = connection, case .object(var object) = result {
            for (key, value) in extra where !key.hasPrefix("__") && object[key] == nil { object[key] = value }
            result = .object(object)
        }
        return result
    }

    /// The page `arguments` ask for of a list whose items have increasing sort `keys`; only the
    /// page's nodes are built (`node` takes an item's index).
    static func page(keys: [String], totalCount: Int, arguments: [String: JSONValue], node: (Int) -> JSONValue) -> JSONValue {
        let first = Int(arguments["first"]?.int ?? arguments["last"]?.int ?? 0)
        let after = arguments["after"]?.string.flatMap(decodeCursor)
        let remaining = keys.indices.filter { index in after.map { keys[index] > $0 } ?? true }
        let slice = Array(remaining.prefix(max(0, first)))
        return [
            "totalCount": .int(Int64(totalCount)),
            "pageInfo": [
                "hasNextPage": .bool(remaining.count > slice.count),
                "endCursor": slice.last.map { .string(encodeCursor(keys[$0])) } ?? .null,
            ],
            "nodes": .array(slice.map(node)),
        ]
    }

    /// The arguments of the field at a path of response keys (through fragments), with the
    /// request's variables; nil when the query does not select it.
    func arguments(operation name: String?, path: [String], variables: JSONValue) -> [String: JSONValue]? {
        var selections = operation(name) ?? []
        var found: Field?
        for key in path {
            guard let field = field(key, in: selections, variables: variables) else { return nil }
            found = field
            selections = field.selections
        }
        return found?.arguments.mapValues { $0.resolved(variables) }
    }

    /// The fields selected under the field at `path` (through fragments), as (response key,
    /// field name); empty when the query does not select it.
    func fields(operation name: String?, path: [String], variables: JSONValue) -> [(key: String, name: String)] {
        var selections = operation(name) ?? []
        for key in path {
            guard let field = field(key, in: selections, variables: variables) else { return [] }
            selections = field.selections
        }
        var found: [(key: String, name: String)] = []
        func walk(_ selections: [Selection]) {
            for selection in selections where Self.included(selection.directives, variables: variables) {
                switch selection {
                case .field(let field): found.append((field.responseKey, field.name))
                case .spread(let name, _): walk(fragments[name]?.selections ?? [])
                case .inline(_, _, let inner): walk(inner)
                }
            }
        }
        walk(selections)
        return found
    }

    private func field(_ key: String, in selections: [Selection], variables: JSONValue) -> Field? {
        for selection in selections where Self.included(selection.directives, variables: variables) {
            switch selection {
            case .field(let field) where field.responseKey == key: return field
            case .field: continue
            case .spread(let name, _):
                if let found = field(key, in: fragments[name]?.selections ?? [], variables: variables) { return found }
            case .inline(_, _, let inner):
                if let found = field(key, in: inner, variables: variables) { return found }
            }
        }
        return nil
    }

    static func stripSortKey(_ node: JSONValue) -> JSONValue {
        guard case .object(var object) = node else { return node }
        object["__sort"] = nil
        return .object(object)
    }

    static func encodeCursor(_ key: String) -> String { Data("cursor:v2:\(key)".utf8).base64EncodedString() }

    static func decodeCursor(_ cursor: String) -> String? {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("cursor:v2:")
        else { return nil }
        return String(text.dropFirst("cursor:v2:".count))
    }

    /// Every field the query selects (through fragments, as `@include`/`@skip` leave them):
    /// its path of response keys from the root, and its name.
    func selectedFields(operation name: String?, variables: JSONValue) -> [(path: [String], name: String)] {
        var found: [(path: [String], name: String)] = []
        func walk(_ selections: [Selection], at path: [String]) {
            for selection in selections where Self.included(selection.directives, variables: variables) {
                switch selection {
                case .field(let field):
                    found.append((path + [field.responseKey], field.name))
                    walk(field.selections, at: path + [field.responseKey])
                case .spread(let fragment, _): walk(fragments[fragment]?.selections ?? [], at: path)
                case .inline(_, _, let selections): walk(selections, at: path)
                }
            }
        }
        walk(operation(name) ?? [], at: [])
        return found
    }

    /// Every connection field's page size the query asks for, for GitHub's limit of 100.
    func pageSizes(operation name: String?, variables: JSONValue) -> [(field: String, size: Int)] {
        var sizes: [(String, Int)] = []
        func walk(_ selections: [Selection]) {
            for selection in selections where Self.included(selection.directives, variables: variables) {
                switch selection {
                case .field(let field):
                    for argument in ["first", "last"] {
                        if let size = field.arguments[argument]?.resolved(variables).int { sizes.append((field.name, Int(size))) }
                    }
                    walk(field.selections)
                case .spread(let fragment, _): walk(fragments[fragment]?.selections ?? [])
                case .inline(_, _, let selections): walk(selections)
                }
            }
        }
        walk(operation(name) ?? [])
        return sizes
    }

    /// Abstract types (interfaces and unions) the fake's objects belong to.
    static let abstractTypes: [String: Set<String>] = [
        "Actor": ["User", "Bot", "Organization", "Mannequin", "EnterpriseUserAccount"],
        "GitObject": ["Commit", "Tree", "Blob", "Tag"],
        "Node": ["Issue", "PullRequest", "Discussion", "User", "Bot", "Commit", "Tree", "Blob"],
        "IssueOrPullRequest": ["Issue", "PullRequest"],
        "PullRequestTimelineItems": [
            "ReadyForReviewEvent", "ConvertToDraftEvent", "IssueComment", "PullRequestReview", "LabeledEvent",
            "MergedEvent", "ClosedEvent",
        ],
    ]

    static func matches(_ condition: String, _ typename: String?) -> Bool {
        guard let typename else { return true }
        return condition == typename || abstractTypes[condition]?.contains(typename) == true
    }

    static func merge(_ existing: JSONValue?, _ new: JSONValue) -> JSONValue {
        guard case .object(var left)? = existing, case .object(let right) = new else { return new }
        for (key, value) in right { left[key] = merge(left[key], value) }
        return .object(left)
    }

    // MARK: Pricing

    /// What GitHub's published formula counts for a query: the requests needed to fulfil every
    /// connection (a connection nested in lists is fetched once per node of each enclosing
    /// connection) and the nodes it may return (every connection's page size, times its
    /// parents'). Connections are recognised by field name (`connectionFields`).
    func price(operation name: String?, variables: JSONValue) -> (requests: Int, nodes: Int) {
        guard let selections = operation(name) else { return (0, 0) }
        var requests = 0
        var nodes = 0
        func walk(_ selections: [Selection], multiplier: Int) {
            for selection in selections where Self.included(selection.directives, variables: variables) {
                switch selection {
                case .field(let field):
                    var child = multiplier
                    if Self.connectionFields.contains(field.name) {
                        requests += multiplier
                        let page = Int(
                            field.arguments["first"]?.resolved(variables).int
                                ?? field.arguments["last"]?.resolved(variables).int ?? 0)
                        child = multiplier * page
                        nodes += child
                    }
                    walk(field.selections, multiplier: child)
                case .spread(let fragment, _):
                    walk(fragments[fragment]?.selections ?? [], multiplier: multiplier)
                case .inline(_, _, let selections):
                    walk(selections, multiplier: multiplier)
                }
            }
        }
        walk(selections, multiplier: 1)
        return (requests, nodes)
    }

    /// Fields of GitHub's schema that are connections (their type's name ends in
    /// `Connection`), among those the fake serves.
    static let connectionFields: Set<String> = [
        "history", "pullRequests", "issues", "reviews", "comments", "files", "labels", "commits", "refs", "parents",
        "timelineItems",
    ]

    // MARK: Reading

    private struct Parser {
        let tokens: [String]
        var index = 0

        var atEnd: Bool { index >= tokens.count }
        var peek: String? { atEnd ? nil : tokens[index] }

        mutating func advance() { index += 1 }

        mutating func take(_ token: String) -> Bool {
            guard peek == token else { return false }
            index += 1
            return true
        }

        mutating func expect(_ token: String) throws {
            guard take(token) else { throw ParseError(description: "expected `\(token)`, found `\(peek ?? "end")`") }
        }

        mutating func name() throws -> String {
            guard let token = peek, let first = token.unicodeScalars.first,
                first == "_" || first.properties.isAlphabetic
            else { throw ParseError(description: "expected a name, found `\(peek ?? "end")`") }
            index += 1
            return token
        }

        /// `($name: Type = default, …)`: a type is a name or a list, each perhaps `!`.
        mutating func declarations() throws -> [Declaration] {
            try expect("(")
            var declared: [Declaration] = []
            while !take(")") {
                try expect("$")
                let variable = try name()
                try expect(":")
                let type = try typeReference()
                let defaultValue = take("=") ? try value() : nil
                declared.append(Declaration(name: variable, type: type, defaultValue: defaultValue))
            }
            return declared
        }

        mutating func typeReference() throws -> String {
            var type: String
            if take("[") {
                type = "[" + (try typeReference())
                try expect("]")
                type += "]"
            } else {
                type = try name()
            }
            if take("!") { type += "!" }
            return type
        }

        mutating func selectionSet() throws -> [Selection] {
            try expect("{")
            var selections: [Selection] = []
            while !take("}") {
                guard !atEnd else { throw ParseError(description: "unclosed selection set") }
                if take("...") {
                    if peek == "on" {
                        advance()
                        let type = try name()
                        let directives = try self.directives()
                        selections.append(.inline(typeCondition: type, directives: directives, selections: try selectionSet()))
                    } else if peek == "@" || peek == "{" {
                        let directives = try self.directives()
                        selections.append(.inline(typeCondition: nil, directives: directives, selections: try selectionSet()))
                    } else {
                        let fragment = try name()
                        selections.append(.spread(name: fragment, directives: try directives()))
                    }
                    continue
                }
                var alias: String?
                var fieldName = try name()
                if take(":") {
                    alias = fieldName
                    fieldName = try name()
                }
                let arguments = peek == "(" ? try self.arguments() : [:]
                let directives = try self.directives()
                let children = peek == "{" ? try selectionSet() : []
                selections.append(
                    .field(
                        Field(
                            alias: alias, name: fieldName, arguments: arguments, directives: directives,
                            selections: children)))
            }
            return selections
        }

        mutating func arguments() throws -> [String: Value] {
            try expect("(")
            var arguments: [String: Value] = [:]
            while !take(")") {
                let key = try name()
                try expect(":")
                arguments[key] = try value()
            }
            return arguments
        }

        mutating func directives() throws -> [Directive] {
            var directives: [Directive] = []
            while take("@") {
                let directive = try name()
                directives.append(Directive(name: directive, arguments: peek == "(" ? try arguments() : [:]))
            }
            return directives
        }

        mutating func value() throws -> Value {
            guard let token = peek else { throw ParseError(description: "expected a value") }
            switch token {
            case "$":
                advance()
                return .variable(try name())
            case "[":
                advance()
                var items: [Value] = []
                while !take("]") { items.append(try value()) }
                return .list(items)
            case "{":
                advance()
                var fields: [String: Value] = [:]
                while !take("}") {
                    let key = try name()
                    try expect(":")
                    fields[key] = try value()
                }
                return .object(fields)
            default:
                advance()
                if token.hasPrefix("\"") { return .string(String(token.dropFirst().dropLast())) }
                if let number = Int64(token) { return .int(number) }
                switch token {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default: return .enumeration(token)
                }
            }
        }
    }

    /// GraphQL's lexical tokens: punctuators, names, numbers and strings (quotes kept);
    /// commas, white space and comments dropped.
    static func tokens(_ text: String) throws -> [String] {
        var tokens: [String] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case " ", "\t", "\n", "\r", ",", "\u{FEFF}":
                index += 1
            case "#":
                while index < scalars.count && scalars[index] != "\n" { index += 1 }
            case "{", "}", "(", ")", "[", "]", ":", "!", "$", "@", "=", "|", "&":
                tokens.append(String(scalar))
                index += 1
            case ".":
                guard index + 2 < scalars.count, scalars[index + 1] == ".", scalars[index + 2] == "." else {
                    throw ParseError(description: "unexpected `.`")
                }
                tokens.append("...")
                index += 3
            case "\"":
                var text = "\""
                index += 1
                while index < scalars.count && scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count {
                        index += 1
                    }
                    text.unicodeScalars.append(scalars[index])
                    index += 1
                }
                guard index < scalars.count else { throw ParseError(description: "unterminated string") }
                text += "\""
                index += 1
                tokens.append(text)
            default:
                guard isNameScalar(scalar) || scalar == "-" else {
                    throw ParseError(description: "unexpected character `\(scalar)`")
                }
                var text = String(scalar)
                let number = scalar == "-" || ("0"..."9").contains(scalar)
                index += 1
                while index < scalars.count, isNameScalar(scalars[index]) || (number && scalars[index] == ".") {
                    text.unicodeScalars.append(scalars[index])
                    index += 1
                }
                tokens.append(text)
            }
        }
        return tokens
    }
}
