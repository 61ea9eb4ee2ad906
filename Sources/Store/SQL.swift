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

        public mutating func appendInterpolation(unsafeSQL raw: String) { text += raw }
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

    public subscript(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    public func int(_ column: String) throws(StoreError) -> Int64 {
        switch self[column] {
        case .integer(let value): return value
        case .text(let text):
            if let value = Int64(text) { return value }
        case .real(let value): return Int64(value)
        case .null: break
        }
        throw StoreError(.decoding, "column `\(column)` is not an integer")
    }

    public func optionalInt(_ column: String) throws(StoreError) -> Int64? {
        if case .null = self[column] { return nil }
        return try int(column)
    }

    public func string(_ column: String) throws(StoreError) -> String {
        guard let value = optionalString(column) else {
            throw StoreError(.decoding, "column `\(column)` is null")
        }
        return value
    }

    public func optionalString(_ column: String) -> String? {
        switch self[column] {
        case .text(let text): return text
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .null: return nil
        }
    }
}
