import Foundation
import JSON
import Testing

/// The hand-written timestamp codec agrees with Foundation's ISO 8601 formatter.
struct TimestampTests {
    @Test(arguments: [0.0, 1_700_000_000.123, 951_782_400.5, -86_400.25, 4_102_444_799.999, 1_798_761_600])
    func roundTripsAndMatchesFoundation(_ seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let text = Timestamp.string(date)
        #expect(text == formatter.string(from: Date(timeIntervalSince1970: (seconds * 1000).rounded(.down) / 1000)))
        let parsed = try #require(Timestamp.date(text))
        #expect(abs(parsed.timeIntervalSince1970 - (seconds * 1000).rounded(.down) / 1000) < 0.0005)
        // GitHub's form: whole seconds, rounded down.
        formatter.formatOptions = [.withInternetDateTime]
        #expect(Timestamp.seconds(date) == formatter.string(from: Date(timeIntervalSince1970: seconds.rounded(.down))))
    }

    @Test(arguments: [
        ("2026-11-27T10:56:35Z", 1_795_776_995.0),
        ("2026-11-27T12:56:35+02:00", 1_795_776_995.0),
        ("2026-11-27T10:56:35.5Z", 1_795_776_995.5),
    ])
    func parsesOffsetsAndFractions(_ text: String, _ seconds: Double) {
        #expect(Timestamp.date(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "", "2026-11-27", "2026-13-01T00:00:00Z", "2026-11-27T10:56:35", "2026-11-27T10:56:35.Z",
        "2026-11-27T10:56:35+0200",
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(Timestamp.date(text) == nil)
    }
}

/// The ledger's flat JSON codec round-trips anything a key or value can hold, and reads JSON
/// written by other tools (spacing, `\u` escapes, surrogate pairs).
struct FlatJSONTests {
    @Test(
        arguments: [
            [:], ["a": "b"], ["upstream ingest:acme/a": "f00d", "quote\"back\\slash": "tab\tnew\nline\u{01}"],
            ["ünï": "c😀de", "": ""],
        ] as [[String: String]])
    func stringsRoundTrip(_ object: [String: String]) {
        #expect(FlatJSON.decodeStrings(FlatJSON.encode(object)) == object)
    }

    @Test func integersRoundTripSorted() {
        let text = FlatJSON.encode(["rows": 10, "pages": -3, "a": Int64.max])
        #expect(text == "{\"a\":9223372036854775807,\"pages\":-3,\"rows\":10}")
        #expect(FlatJSON.decodeIntegers(text) == ["rows": 10, "pages": -3, "a": Int64.max])
    }

    @Test func readsForeignJSON() {
        #expect(FlatJSON.decodeStrings(#" { "k" : "\u00e9\ud83d\ude00" , "n":"x\/y" } "#) == ["k": "é😀", "n": "x/y"])
        #expect(FlatJSON.decodeStrings("{\"k\":1}") == nil)
        #expect(FlatJSON.decodeStrings("{\"k\":\"v\"") == nil)
        #expect(FlatJSON.decodeIntegers("{\"k\":1} x") == nil)
    }
}
