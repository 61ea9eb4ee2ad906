/// Encodes and decodes the ledger's flat JSON objects (`{"key":"value"}`, `{"key":3}`).
///
/// Fingerprint parts and counters are written and read for every unit; Foundation's JSON
/// coders cost tens of microseconds per call on Linux, which dominated a no-op rerun. These
/// objects are flat with string keys: written directly, sorted by key, and read with
/// ``JSONValue/init(parsing:)-(String)``.
public enum FlatJSON {
    public static func encode(_ object: [String: String]) -> String {
        var out = "{"
        for (index, key) in object.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            quote(key, into: &out)
            out += ":"
            quote(object[key] ?? "", into: &out)
        }
        return out + "}"
    }

    public static func encode(_ object: [String: Int64]) -> String {
        var out = "{"
        for (index, key) in object.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            quote(key, into: &out)
            out += ":" + String(object[key] ?? 0)
        }
        return out + "}"
    }

    /// Appends `text` as a JSON string literal.
    public static func quote(_ text: String, into out: inout String) {
        // Most keys and values (hashes, unit names) need no escaping: append them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += "\""
            out += text
            out += "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// A flat object of strings; nil when the text is not one.
    public static func decodeStrings(_ text: String) -> [String: String]? {
        flat(text) { $0.string }
    }

    /// A flat object of integers; nil when the text is not one.
    public static func decodeIntegers(_ text: String) -> [String: Int64]? {
        flat(text) { value in
            if case .int(let number) = value { return number }
            return nil
        }
    }

    /// An object whose every value `value` takes; nil otherwise.
    static func flat<Value>(_ text: String, _ value: (JSONValue) -> Value?) -> [String: Value]? {
        guard case .object(let object)? = try? JSONValue(parsing: text) else { return nil }
        var result: [String: Value] = [:]
        for (key, item) in object {
            guard let converted = value(item) else { return nil }
            result[key] = converted
        }
        return result
    }
}
