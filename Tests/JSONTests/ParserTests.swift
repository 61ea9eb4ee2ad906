import Foundation
import JSON
import Testing

/// The parser reads what `JSONDecoder` read before it (the same values, so raw nodes and
/// fingerprints keep their bytes), and refuses what is not JSON with the offset of the fault.
struct ParserTests {
    static let values: [(String, JSONValue)] = [
        ("null", .null),
        ("true", true),
        (" false ", false),
        ("0", 0),
        ("-0", 0),
        ("-0.0", 0),
        ("3.0", 3),
        ("3e2", 300),
        ("0.1e1", 1),
        ("1E2", 100),
        ("1.5", .double(1.5)),
        ("-2.25e-3", .double(-0.00225)),
        ("9223372036854775807", .int(Int64.max)),
        ("-9223372036854775808", .int(Int64.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
        ("9007199254740993.0", .int(9_007_199_254_740_993)),
        ("1e19", .double(1e19)),
        (#""plain""#, "plain"),
        (#""a\"b\\c\/d\b\f\n\r\t""#, "a\"b\\c/d\u{8}\u{C}\n\r\t"),
        (#""\u00e9\u0000""#, "é\u{0}"),
        (#""\ud83d\ude00 grin""#, "😀 grin"),
        ("\"caf\u{e9} \u{1F600}\"", "café 😀"),
        (#"[]"#, []),
        (#"{}"#, [:]),
        (#"[1, [2, {"a": null}], "x"]"#, [1, [2, ["a": nil]], "x"]),
        (#"{"a":1,"a":2}"#, ["a": 1]),
        ("\n{ \"data\" : { \"n\" : [ ] } }\r\n", ["data": ["n": []]]),
    ]

    @Test(arguments: values)
    func readsWhatJSONDecoderRead(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
        #expect(try JSONValue(parsing: Data(text.utf8)) == expected)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == expected)
    }

    static let faults: [(String, Int)] = [
        ("", 0),
        ("   ", 3),
        ("tru", 0),
        ("nul", 0),
        ("01", 1),
        ("1.", 2),
        (".5", 0),
        ("-", 1),
        ("1e", 2),
        ("1e400", 0),
        ("[1,]", 3),
        ("[1 2]", 3),
        (#"{"a" 1}"#, 5),
        (#"{"a":1,}"#, 7),
        (#"{a:1}"#, 1),
        (#""open"#, 5),
        ("\"tab\there\"", 4),
        (#""\x""#, 3),
        (#""\u12""#, 3),
        (#""\ud800""#, 7),
        (#""\udc00x""#, 7),
        (#"{"a":1}x"#, 7),
    ]

    @Test(arguments: faults)
    func refusesWhatIsNotJSONAndSaysWhere(text: String, offset: Int) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
        do {
            _ = try JSONValue(parsing: text)
        } catch {
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test func refusesInvalidUTF8InAString() {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data([0x22, 0xFF, 0x22])) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: Data([0x22, 0x5C, 0x6E, 0xC3, 0x22])) }
    }

    @Test func boundsNestingInsteadOfExhaustingTheStack() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: deep) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(try JSONValue(parsing: fine) != .null)
    }

    /// Random documents: the canonical text of what is parsed is the text parsed, and
    /// `JSONDecoder` agrees on every value.
    @Test(arguments: 0..<8)
    func canonicalTextRoundTrips(seed: UInt64) throws {
        var generator = Seeded(seed: seed)
        for _ in 0..<50 {
            let value = Self.random(depth: 0, &generator)
            let text = value.canonical
            let parsed = try JSONValue(parsing: text)
            #expect(parsed.canonical == text)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == parsed)
        }
    }

    static func random(depth: Int, _ generator: inout Seeded) -> JSONValue {
        switch Int.random(in: depth > 3 ? 0...4 : 0...6, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &generator))
        case 3: return .double(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / 64 + 1 / 128)
        case 4:
            let alphabet = Array("aé\"\\\n\t/😀z\u{1}\u{7F}")
            return .string(
                String(
                    (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                        alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
                    }))
        case 5:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth: depth + 1, &generator) })
        default:
            var object: [String: JSONValue] = [:]
            for index in 0..<Int.random(in: 0...4, using: &generator) {
                object["k\(index)\(["", "é", "\""][index % 3])"] = random(depth: depth + 1, &generator)
            }
            return .object(object)
        }
    }
}

/// A seeded generator (Knuth's MMIX linear congruential one, high bits), so that a failing
/// document can be made again.
struct Seeded: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 1 }
    mutating func next() -> UInt64 {
        var result: UInt64 = 0
        for _ in 0..<2 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            result = result << 32 | state >> 32
        }
        return result
    }
}
