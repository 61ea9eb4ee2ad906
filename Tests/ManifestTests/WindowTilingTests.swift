import Foundation
import JSON
import Manifest
import TestSupport
import Testing

/// Issue #27: windows that tile time. A schedule that runs more often than the window's length,
/// with an anchored window, covers every day exactly once.
struct WindowTilingTests {
    /// A manifest with this `window:` section, loaded.
    static func load(_ window: String) throws(ManifestError) -> Manifest {
        let path = NSTemporaryDirectory() + "ghillie-window-\(UUID().uuidString).yaml"
        let text = "version: 1\nname: w\nestate:\n  key: e\n  repositories:\n    - slug: acme/api\nwindow:\n" + window
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ManifestLoader().load(path: path).manifest
    }

    /// The times a daily (`M H * * *`) or weekly (`M H * * D`) cron fires in [from, to).
    static func firings(_ cron: String, from: Date, to: Date) throws -> [Date] {
        let fields = cron.split(separator: " ").map(String.init)
        try #require(fields.count == 5 && fields[2] == "*" && fields[3] == "*", "only daily or weekly crons: \(cron)")
        let minute = try #require(Int(fields[0])), hour = try #require(Int(fields[1]))
        let weekday = fields[4] == "*" ? nil : Int(fields[4])
        var times: [Date] = []
        var day = from
        while day < to {
            // 1970-01-01 was a Thursday (cron weekday 4).
            let dayNumber = Int(day.timeIntervalSince1970 / 86_400)
            if weekday == nil || (dayNumber + 4) % 7 == weekday {
                times.append(day.addingTimeInterval(Double(hour * 3600 + minute * 60)))
            }
            day = day.addingTimeInterval(86_400)
        }
        return times
    }

    /// The chart's own schedule (`schedule.cron` in values.yaml).
    static func chartCron() throws -> String {
        let values = try String(contentsOf: SourceTree.url("deploy/helm/ghillie-run/values.yaml"), encoding: .utf8)
        let line = try #require(
            values.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("cron:") })
        return line.split(separator: "\"").dropFirst().first.map(String.init) ?? ""
    }

    /// Every day a year of runs of `spec` on `cron` covers, and how many windows cover it.
    static func coverage(_ spec: WindowSpec, cron: String) throws -> (windows: [(Date, Date)], days: [Date: Int]) {
        let from = try #require(Timestamp.date("2026-01-05T00:00:00Z"))
        let to = from.addingTimeInterval(365 * 86_400)
        var windows: [Date: Date] = [:]
        for time in try firings(cron, from: from, to: to) {
            let window = spec.resolve(now: time)
            #expect(window.end <= time, "a run at \(time) reported a window ending after it")
            windows[window.start] = window.end
        }
        var days: [Date: Int] = [:]
        for (start, end) in windows {
            var day = start
            while day < end {
                days[day, default: 0] += 1
                day = day.addingTimeInterval(86_400)
            }
        }
        return (windows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, days)
    }

    @Test func aYearOfTheChartsScheduleWithAnAnchoredWindowCoversEveryDayOnce() throws {
        let manifest = try Self.load("  days: 14\n  anchor: 2026-01-05\n  end: now\n")
        let cron = try Self.chartCron()
        #expect(cron == "0 6 * * *")
        let (windows, days) = try Self.coverage(manifest.window, cron: cron)
        #expect(windows.count >= 25)
        // Contiguous: each window starts where the one before ended, 14 days long.
        for (previous, next) in zip(windows, windows.dropFirst()) {
            #expect(previous.1 == next.0)
            #expect(next.1.timeIntervalSince(next.0) == 14 * 86_400)
        }
        // Every day from the first window's start to the last one's end, once.
        let first = try #require(windows.first?.0), last = try #require(windows.last?.1)
        #expect(days.count == Int(last.timeIntervalSince(first) / 86_400))
        #expect(days.values.allSatisfy { $0 == 1 })
        // A weekly schedule tiles the same way.
        let weekly = try Self.coverage(manifest.window, cron: "0 6 * * 1")
        #expect(weekly.days.values.allSatisfy { $0 == 1 })
        #expect(zip(weekly.windows, weekly.windows.dropFirst()).allSatisfy { $0.1 == $1.0 })
    }

    /// What the old default did: the 1st and 15th with a 14-day window ending `today` leaves days
    /// of most months in no window (and an unanchored daily run would overlap windows).
    @Test func anUnanchoredWindowOnTheFirstAndFifteenthLeavesHoles() throws {
        let manifest = try Self.load("  days: 14\n  end: today\n")
        let from = try #require(Timestamp.date("2026-01-05T00:00:00Z"))
        var covered: Set<Date> = []
        var day = from
        var runs: [Date] = []
        while day < from.addingTimeInterval(365 * 86_400) {
            let dayOfMonth = Calendar(identifier: .gregorian).dateComponents(
                in: TimeZone(identifier: "UTC") ?? .current, from: day
            ).day
            if dayOfMonth == 1 || dayOfMonth == 15 { runs.append(day.addingTimeInterval(6 * 3600)) }
            day = day.addingTimeInterval(86_400)
        }
        for time in runs {
            let window = manifest.window.resolve(now: time)
            var day = window.start
            while day < window.end {
                covered.insert(day)
                day = day.addingTimeInterval(86_400)
            }
        }
        let span = Int((runs.last ?? from).timeIntervalSince(runs.first ?? from) / 86_400)
        #expect(covered.count < span, "\(covered.count) of \(span) days covered")
    }

    @Test(arguments: [
        ("  days: 14\n  anchor: 2026-01-05\n  end: 2026-11-23\n", "2026-11-09T00:00:00Z", "2026-11-23T00:00:00Z"),
        ("  days: 7\n  end: 2026-11-27\n", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"),
        ("  days: 14\n  anchor: 2026-01-05T00:00:00Z\n  end: today\n", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"),
        ("  days: 14\n  anchor: 2026-01-05\n  end: now\n", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"),
    ])
    func anAnchoredOrDayEndedWindowResolvesToItsBoundaries(window: String, start: String, end: String) throws {
        let manifest = try Self.load(window)
        let now = try #require(Timestamp.date("2026-12-07T10:30:00Z"))
        let resolved = manifest.window.resolve(now: now)
        #expect(Timestamp.string(resolved.start) == Timestamp.string(try #require(Timestamp.date(start))))
        #expect(Timestamp.string(resolved.end) == Timestamp.string(try #require(Timestamp.date(end))))
    }

    @Test(
        arguments: [
            (
                "  days: 14\n  anchor: 2026-01-05\n  end: 2026-11-27\n",
                "`window.end` 2026-11-27T00:00:00Z is not a boundary of the windows anchored at 2026-01-05T00:00:00Z",
                "windows of 14 days from the anchor end at 2026-11-23T00:00:00Z or 2026-12-07T00:00:00Z"
            ),
            (
                "  start: 2026-11-01T00:00:00Z\n  anchor: 2026-01-05\n",
                "`window.anchor` tiles windows of `days` days; a `start:`/`end:` window has none",
                "use `days:` with `anchor:`, or drop `anchor:`"
            ),
            (
                "  days: 14\n  anchor: soon\n",
                "`window.anchor` `soon` is not a day (YYYY-MM-DD, UTC midnight) or an RFC 3339 timestamp", nil
            ),
        ] as [(String, String, String?)])
    func aWindowThatCannotTileIsAManifestError(window: String, message: String, hint: String?) {
        let error = #expect(throws: ManifestError.self) { try Self.load(window) }
        let text = error?.diagnostics.map(\.description).joined(separator: "\n") ?? ""
        #expect(text.contains("error: " + message), "\(text)")
        if let hint { #expect(text.contains("hint: " + hint), "\(text)") }
    }
}
