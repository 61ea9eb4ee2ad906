/// A value bound to, or read from, a SQL statement.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// Something that can be bound as a SQL parameter.
public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A SQL statement whose interpolated values become bound parameters.
///
/// `"SELECT * FROM runs WHERE name = \(name)"` becomes `... WHERE name = $1` with `name` bound,
/// so values never reach the SQL text. Both engines accept `$n` placeholders. Raw text can only
/// be spliced in through the deliberately named `unsafeSQL:` interpolation.
public struct SQL: Sendable, Hashable, ExpressibleByStringInterpolation {
    public private(set) var text: String
    public private(set) var bindings: [SQLValue]

    public init(stringLiteral value: String) {
        text = value
        bindings = []
    }

    public init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
        bindings = stringInterpolation.bindings
    }

    /// A statement from text that the caller guarantees holds no untrusted input.
    public init(unsafeSQL text: String, bindings: [SQLValue] = []) {
        self.text = text
        self.bindings = bindings
    }

    /// A multi-row statement: `head`, then `VALUES ($1, $2), ($3, $4)…` with every value of
    /// `rows` bound, then `tail` (`ON CONFLICT …`, `RETURNING …`). One round trip for many rows;
    /// keep `rows` to a few hundred (``maximumRows``) to stay under both engines' limits on
    /// bound parameters. `head` and `tail` are written in the source, never data.
    public static func values(_ head: StaticString, _ rows: [[SQLValue]], _ tail: StaticString = "") -> SQL {
        var text = head.description + " VALUES "
        var bindings: [SQLValue] = []
        bindings.reserveCapacity(rows.count * (rows.first?.count ?? 0))
        for (index, row) in rows.enumerated() {
            text += index == 0 ? "(" : ", ("
            for (column, value) in row.enumerated() {
                bindings.append(value)
                text += column == 0 ? "$\(bindings.count)" : ", $\(bindings.count)"
            }
            text += ")"
        }
        return SQL(unsafeSQL: text + " " + tail.description, bindings: bindings)
    }

    /// Rows per ``values(_:_:_:)`` statement: a few hundred keep any table's statement well
    /// under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
    public static let maximumRows = 200

    /// `items` in slices of at most ``maximumRows``.
    public static func chunks<T>(_ items: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: maximumRows).map { items[$0..<min($0 + maximumRows, items.count)] }
    }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""
        var bindings: [SQLValue] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        public mutating func appendInterpolation(_ value: some SQLBindable) {
            bindings.append(value.sqlValue)
            text += "$\(bindings.count)"
        }

        public mutating func appendInterpolation<Value: SQLBindable>(_ value: Value?) {
            bindings.append(value?.sqlValue ?? .null)
            text += "$\(bindings.count)"
        }

        /// SQL written in the source (a column list kept in a constant): never data.
        public mutating func appendInterpolation(sql fragment: StaticString) { text += fragment.description }

        /// A table or column name, checked to be one when it was made.
        public mutating func appendInterpolation(_ identifier: Identifier) { text += identifier.name }

        public mutating func appendInterpolation(unsafeSQL raw: String) { text += raw }
    }

    /// A table or column name: letters, digits and `_`, not starting with a digit — so it can be
    /// spliced into SQL text where a bound parameter cannot go.
    public struct Identifier: Sendable, Hashable {
        public let name: String

        public init(_ name: String) throws(StoreError) {
            let valid =
                !name.isEmpty
                && name.utf8.allSatisfy { byte in
                    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                        || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                } && !(name.utf8.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? true)
            guard valid else { throw StoreError(.decoding, "`\(name)` is not a table or column name") }
            self.name = name
        }
    }
}

/// One result row: column names shared by the result set, values in column order.
public struct Row: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of `column`. A column the statement did not select is an error, never null:
    /// a misspelt name must not read as a missing value.
    public func value(_ column: String) throws(StoreError) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else {
            throw StoreError(.decoding, "no column `\(column)` in the result (it has \(columns.joined(separator: ", ")))")
        }
        return values[index]
    }

    public func int(_ column: String) throws(StoreError) -> Int64 {
        switch try value(column) {
        case .integer(let value): return value
        case .text(let text):
            if let value = Int64(text) { return value }
        case .real(let value): return Int64(value)
        case .null: break
        }
        throw StoreError(.decoding, "column `\(column)` is not an integer")
    }

    public func optionalInt(_ column: String) throws(StoreError) -> Int64? {
        if case .null = try value(column) { return nil }
        return try int(column)
    }

    public func string(_ column: String) throws(StoreError) -> String {
        guard let value = try optionalString(column) else {
            throw StoreError(.decoding, "column `\(column)` is null")
        }
        return value
    }

    public func optionalString(_ column: String) throws(StoreError) -> String? {
        switch try value(column) {
        case .text(let text): return text
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .null: return nil
        }
    }
}
