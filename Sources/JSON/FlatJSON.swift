/// Encodes and decodes the ledger's flat JSON objects (`{"key":"value"}`, `{"key":3}`).
///
/// Fingerprint parts and counters are written and read for every unit; Foundation's JSON
/// coders cost tens of microseconds per call on Linux, which dominated a no-op rerun. These
/// objects are flat with string keys, so a small exact codec suffices. Output is sorted by key.
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
        var parser = Parser(Array(text.utf8))
        return parser.object { parser in parser.string() }
    }

    /// A flat object of integers; nil when the text is not one.
    public static func decodeIntegers(_ text: String) -> [String: Int64]? {
        var parser = Parser(Array(text.utf8))
        return parser.object { parser in parser.integer() }
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func object<Value>(_ value: (inout Parser) -> Value?) -> [String: Value]? {
            guard expect(UInt8(ascii: "{")) else { return nil }
            var result: [String: Value] = [:]
            if expect(UInt8(ascii: "}")) { return finished(result) }
            repeat {
                guard let key = string(), expect(UInt8(ascii: ":")), let item = value(&self) else { return nil }
                result[key] = item
            } while expect(UInt8(ascii: ","))
            return expect(UInt8(ascii: "}")) ? finished(result) : nil
        }

        mutating func finished<T>(_ value: T) -> T? {
            skipSpace()
            return index == bytes.count ? value : nil
        }

        mutating func integer() -> Int64? {
            skipSpace()
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return Int64(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        mutating func string() -> String? {
            guard expect(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "n"): out.append(0x0a)
                    case UInt8(ascii: "r"): out.append(0x0d)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0c)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                              var code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
                        else { return nil }
                        index += 4
                        // A surrogate pair encodes one scalar beyond the BMP.
                        if (0xD800..<0xDC00).contains(code), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                           bytes[index + 1] == UInt8(ascii: "u"),
                           let low = UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16),
                           (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            index += 6
                        }
                        guard let scalar = Unicode.Scalar(code) else { return nil }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: out.append(escape)
                    }
                default: out.append(byte)
                }
            }
            return nil
        }
    }
}
