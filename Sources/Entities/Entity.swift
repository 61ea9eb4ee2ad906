public import Foundation
import JSON
public import Store

/// How a column's values read: what the store holds and what an export writes.
public enum ColumnKind: Sendable, Hashable {
    /// An integer.
    case int
    /// `true`/`false`, stored as 0/1.
    case bool
    /// A string: timestamps too, which the store holds as ISO 8601 UTC text.
    case text
    /// A JSON value stored as JSON text (lists, objects): embedded as is in JSON, a JSON
    /// string in CSV.
    case json
    /// A floating-point number.
    case double
}

/// One column of a table or dataset: its name and kind, in output order.
public struct Column: Sendable, Hashable {
    public let name: String
    public let kind: ColumnKind

    public init(_ name: String, _ kind: ColumnKind = .text) {
        self.name = name
        self.kind = kind
    }
}

/// A Swift value a column holds, with its one encoding in the store.
///
/// Decoding is strict: a value of another type (an integer where text belongs, text that is
/// not a timestamp) is refused, never coerced, so a wrong row is an error and not a number.
public protocol ColumnValue: Sendable {
    static var kind: ColumnKind { get }
    /// Whether the column takes null (only `Optional` does).
    static var nullable: Bool { get }
    /// What a value of the type is, for an error: "a timestamp".
    static var expected: String { get }
    var stored: SQLValue { get }
    /// The value `stored` holds; nil when it is not one of this type.
    init?(stored: SQLValue)
}

extension ColumnValue {
    public static var nullable: Bool { false }
}

extension String: ColumnValue {
    public static var kind: ColumnKind { .text }
    public static var expected: String { "text" }
    public var stored: SQLValue { .text(self) }
    public init?(stored: SQLValue) {
        guard case .text(let text) = stored else { return nil }
        self = text
    }
}

extension Int64: ColumnValue {
    public static var kind: ColumnKind { .int }
    public static var expected: String { "an integer" }
    public var stored: SQLValue { .integer(self) }
    public init?(stored: SQLValue) {
        guard case .integer(let value) = stored else { return nil }
        self = value
    }
}

extension Bool: ColumnValue {
    public static var kind: ColumnKind { .bool }
    public static var expected: String { "0 or 1" }
    public var stored: SQLValue { .integer(self ? 1 : 0) }
    public init?(stored: SQLValue) {
        guard case .integer(let value) = stored, value == 0 || value == 1 else { return nil }
        self = value == 1
    }
}

/// A time, stored as ``Timestamp`` text (milliseconds, UTC): text order is time order.
extension Date: ColumnValue {
    public static var kind: ColumnKind { .text }
    public static var expected: String { "a timestamp" }
    public var stored: SQLValue { .text(Timestamp.string(self)) }
    public init?(stored: SQLValue) {
        guard case .text(let text) = stored, let date = Timestamp.date(text) else { return nil }
        self = date
    }
}

/// A list of names (labels), stored as a canonical JSON array.
extension Array: ColumnValue where Element == String {
    public static var kind: ColumnKind { .json }
    public static var expected: String { "a JSON list of strings" }
    public var stored: SQLValue { .text(JSONValue.array(map(JSONValue.string)).canonical) }
    public init?(stored: SQLValue) {
        guard case .text(let text) = stored, let items = (try? JSONValue(parsing: text))?.array else { return nil }
        var names: [String] = []
        names.reserveCapacity(items.count)
        for item in items {
            guard let name = item.string else { return nil }
            names.append(name)
        }
        self = names
    }
}

extension Optional: ColumnValue where Wrapped: ColumnValue {
    public static var kind: ColumnKind { Wrapped.kind }
    public static var expected: String { "null or " + Wrapped.expected }
    public static var nullable: Bool { true }
    public var stored: SQLValue { self?.stored ?? .null }
    public init?(stored: SQLValue) {
        if case .null = stored {
            self = .none
            return
        }
        guard let value = Wrapped(stored: stored) else { return nil }
        self = .some(value)
    }
}

/// One column of an entity, tied to the property that holds it.
///
/// The list of an entity's fields is the one place its table's columns are named, ordered,
/// encoded and decoded: refine writes with it, evidence reads with it, export selects with it.
public struct Field<Entity>: Sendable {
    public let column: Column
    public let nullable: Bool
    /// What the column holds, for an error: "null or a timestamp".
    public let expected: String
    @usableFromInline let encode: @Sendable (Entity) -> SQLValue
    @usableFromInline let decode: @Sendable (inout Entity, SQLValue) -> Bool

    public init<Value: ColumnValue>(_ name: String, _ path: any WritableKeyPath<Entity, Value> & Sendable) {
        column = Column(name, Value.kind)
        nullable = Value.nullable
        expected = Value.expected
        encode = { $0[keyPath: path].stored }
        decode = { entity, stored in
            guard let value = Value(stored: stored) else { return false }
            entity[keyPath: path] = value
            return true
        }
    }
}

/// A row of an entity table (Silver), typed.
///
/// Refine builds entities from typed GitHub nodes and stores their ``values``; evidence reads
/// them back with ``decode(_:)``; export selects ``columns`` and streams them. None of the
/// three lists a column by position.
public protocol Entity: Sendable, Equatable {
    /// The store's table.
    static var table: String { get }
    /// The table's columns and the properties that hold them.
    static var fields: [Field<Self>] { get }
    /// An entity with every property at its default, filled in by decoding.
    init()
    /// Whether `self` sorts before `other` by the table's key: rows are stored and hashed in
    /// key order, so the same raw data always gives the same rows.
    func precedes(_ other: Self) -> Bool
}

extension Entity {
    /// The table's columns, in order.
    ///
    /// Closures, not key paths, in this generic code: a key path over `Field<Self>` is built
    /// by the runtime from its mangled name at every use.
    public static var columns: [Column] { fields.map { $0.column } }

    /// The row's values, in ``columns`` order.
    public var values: [SQLValue] { Self.fields.map { $0.encode(self) } }

    /// `SELECT` of every column `WHERE condition`: what ``decode(_:)`` reads.
    public static func select(where condition: SQL) -> SQL {
        let names = fields.map { $0.column.name }.joined(separator: ", ")
        return SQL(unsafeSQL: "SELECT \(names) FROM \(table) WHERE " + condition.text, bindings: condition.bindings)
    }

    /// The entities of rows selected by ``select(where:)``; a value that is not of its
    /// column's type (or a null where none belongs) is an error naming the column.
    ///
    /// Inlinable, so each reader gets a copy specialised for its entity type: evidence decodes
    /// every row of a repository, twice a run, and unspecialised generic code spent most of
    /// that time looking up type metadata.
    @inlinable
    public static func decode(_ rows: [Row]) throws(StoreError) -> [Self] {
        let fields = Self.fields
        guard let first = rows.first else { return [] }
        guard first.columns.count == fields.count, zip(first.columns, fields).allSatisfy({ $0 == $1.column.name }) else {
            throw columnsDiffer(first.columns)
        }
        var entities: [Self] = []
        entities.reserveCapacity(rows.count)
        for row in rows {
            var entity = Self()
            var index = 0
            while index < fields.count {
                guard fields[index].decode(&entity, row.values[index]) else {
                    throw notOfItsType(fields[index], row.values[index])
                }
                index += 1
            }
            entities.append(entity)
        }
        return entities
    }

    @usableFromInline
    static func columnsDiffer(_ columns: [String]) -> StoreError {
        StoreError(
            .decoding,
            "\(table): expected the columns \(fields.map { $0.column.name }.joined(separator: ", ")), "
                + "got \(columns.joined(separator: ", "))")
    }

    @usableFromInline
    static func notOfItsType(_ field: Field<Self>, _ value: SQLValue) -> StoreError {
        StoreError(.decoding, "\(table).\(field.column.name) holds \(describe(value)), not " + field.expected)
    }

    static func describe(_ value: SQLValue) -> String {
        switch value {
        case .null: return "null"
        case .integer(let int): return "the integer \(int)"
        case .real(let double): return "the number \(double)"
        case .text(let text): return "the text \"\(text.prefix(40))\""
        }
    }
}
