public import Foundation
public import JSON

/// Why an answer is not what its document asked for: where, and what is wrong.
///
/// A GraphQL answer carries every field it was asked for, so a missing field is malformed even
/// where the schema allows null; a null where the schema says non-null, or a value of another
/// type, is malformed too. Nothing of a malformed answer is stored.
public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case missing
        case null
        /// A value of another JSON type, or text that is not what its scalar says.
        case type(expected: String)
        /// A value the schema allows that cannot be stored (a null node of a list).
        case unusable(String)
    }

    /// Where, as response keys: `repository.updatedPulls.nodes[3].title`.
    public let path: String
    public let problem: Problem

    public init(_ path: String, _ problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .missing: return "`\(path)` is missing"
        case .null: return "`\(path)` is null where GitHub's schema says it never is"
        case .type(let expected): return "`\(path)` is not \(expected)"
        case .unusable(let why): return "`\(path)` \(why)"
        }
    }
}

/// One JSON object of an answer, read field by field as GitHub's schema types it.
///
/// Each accessor says what the schema says of the field: `string` for `String!`,
/// `nullableString` for `String` (present, but null allowed), and so on. Every field is
/// required to be present — null and missing are told apart.
public struct Fields: Sendable {
    public let object: [String: JSONValue]
    /// Where this object is in the answer (for messages only).
    public let path: String
    /// A raw node stored by an earlier version, read back: the few fields later versions
    /// added to the documents (`__typename` on actors and on a documentation path's object)
    /// may be missing, and each node type says what that means. An answer from GitHub is
    /// never read this way.
    public let stored: Bool
    /// Whether paths are built as the answer is read. Reading checks every field of every
    /// page, and building a path string for each object would cost more than the checks: a
    /// first pass reads without them, and only an answer it refuses is read again with them,
    /// for the message (``Fields/reading(_:stored:_:)``).
    public let tracking: Bool

    public init(_ value: JSONValue, path: String, stored: Bool = false, tracking: Bool = true) throws(Malformed) {
        guard case .object(let object) = value else {
            throw Malformed(path, value.isNull ? .null : .type(expected: "an object"))
        }
        self.object = object
        self.path = path
        self.stored = stored
        self.tracking = tracking
    }

    /// Reads `value` with `body`: fast, and — when it is refused — once more with paths, so
    /// that the ``Malformed`` says where.
    public static func reading<T>(
        _ value: JSONValue, stored: Bool = false, _ body: (Fields) throws(Malformed) -> T
    ) throws(Malformed) -> T {
        do {
            return try body(try Fields(value, path: "", stored: stored, tracking: false))
        } catch {
            return try body(try Fields(value, path: "", stored: stored, tracking: true))
        }
    }

    func at(_ key: String) -> String { tracking ? (path.isEmpty ? key : path + "." + key) : "" }

    /// The field's value, present (null or not).
    public func value(_ key: String) throws(Malformed) -> JSONValue {
        guard let value = object[key] else { throw Malformed(at(key), .missing) }
        return value
    }

    /// The field's value, present and not null.
    func nonNull(_ key: String) throws(Malformed) -> JSONValue {
        let value = try value(key)
        if value.isNull { throw Malformed(at(key), .null) }
        return value
    }

    public func has(_ key: String) -> Bool { object[key] != nil }

    // MARK: Scalars

    public func string(_ key: String) throws(Malformed) -> String {
        guard case .string(let text) = try nonNull(key) else { throw Malformed(at(key), .type(expected: "a string")) }
        return text
    }

    public func nullableString(_ key: String) throws(Malformed) -> String? {
        switch try value(key) {
        case .null: return nil
        case .string(let text): return text
        default: throw Malformed(at(key), .type(expected: "a string or null"))
        }
    }

    public func int(_ key: String) throws(Malformed) -> Int64 {
        guard let number = try nonNull(key).int else { throw Malformed(at(key), .type(expected: "an integer")) }
        return number
    }

    public func nullableInt(_ key: String) throws(Malformed) -> Int64? {
        let value = try value(key)
        if value.isNull { return nil }
        guard let number = value.int else { throw Malformed(at(key), .type(expected: "an integer or null")) }
        return number
    }

    public func bool(_ key: String) throws(Malformed) -> Bool {
        guard case .bool(let flag) = try nonNull(key) else { throw Malformed(at(key), .type(expected: "true or false")) }
        return flag
    }

    /// A `DateTime` or `GitTimestamp`: ISO 8601 text.
    public func date(_ key: String) throws(Malformed) -> Date {
        guard case .string(let text) = try nonNull(key), let date = Timestamp.date(text) else {
            throw Malformed(at(key), .type(expected: "a timestamp"))
        }
        return date
    }

    public func nullableDate(_ key: String) throws(Malformed) -> Date? {
        let value = try value(key)
        if value.isNull { return nil }
        guard case .string(let text) = value, let date = Timestamp.date(text) else {
            throw Malformed(at(key), .type(expected: "a timestamp or null"))
        }
        return date
    }

    /// A `BigInt` (GitHub sends digits in a JSON string), nullable in the schema.
    public func nullableBigInt(_ key: String) throws(Malformed) -> Int64? {
        switch try value(key) {
        case .null: return nil
        case .string(let text):
            guard let number = Int64(text) else { throw Malformed(at(key), .type(expected: "a BigInt")) }
            return number
        default: throw Malformed(at(key), .type(expected: "a BigInt (digits in a string) or null"))
        }
    }

    // MARK: Objects and lists

    public func object(_ key: String) throws(Malformed) -> Fields {
        try Fields(try nonNull(key), path: at(key), stored: stored, tracking: tracking)
    }

    public func nullableObject(_ key: String) throws(Malformed) -> Fields? {
        let value = try value(key)
        if value.isNull { return nil }
        return try Fields(value, path: at(key), stored: stored, tracking: tracking)
    }

    /// A list of objects, none of them null (a null item of a nullable list cannot be stored).
    public func objects(_ key: String) throws(Malformed) -> [Fields] {
        guard case .array(let items) = try nonNull(key) else { throw Malformed(at(key), .type(expected: "a list")) }
        var fields: [Fields] = []
        fields.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let path = tracking ? at(key) + "[\(index)]" : ""
            if item.isNull { throw Malformed(path, .unusable("is a null node, which cannot be stored")) }
            fields.append(try Fields(item, path: path, stored: stored, tracking: tracking))
        }
        return fields
    }

    public func decode<T: GraphNode>(_ key: String, as type: T.Type = T.self) throws(Malformed) -> T {
        try T(try object(key))
    }

    public func nullable<T: GraphNode>(_ key: String, as type: T.Type = T.self) throws(Malformed) -> T? {
        try nullableObject(key).map { fields throws(Malformed) in try T(fields) }
    }

    public func list<T: GraphNode>(_ key: String, of type: T.Type = T.self) throws(Malformed) -> [T] {
        var nodes: [T] = []
        for fields in try objects(key) { nodes.append(try T(fields)) }
        return nodes
    }

    /// The object's `__typename`, when the document selects it.
    public var typename: String? { object["__typename"]?.string }
}

/// A node or object of an answer, read from its fields exactly as the document selects them.
public protocol GraphNode: Sendable {
    init(_ fields: Fields) throws(Malformed)
}

extension GraphNode {
    /// Reads a whole JSON value as this node: a part of an answer, or (`stored`) a raw node as
    /// stored, perhaps by an earlier version.
    public init(json: JSONValue, stored: Bool = false) throws(Malformed) {
        self = try Fields.reading(json, stored: stored) { fields throws(Malformed) in try Self(fields) }
    }
}
