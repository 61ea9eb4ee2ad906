import Foundation
import JSON
import Mustache

/// Markdown and HTML renderings of reports: pure functions of what is stored, no clocks.
enum Render {
    static func day(_ timestamp: String) -> String { String(timestamp.prefix(10)) }

    /// A report as Markdown: every text the template receives is ``markdownText(_:)``, so what a
    /// title or a model wrote renders as the text it is.
    static func markdown(
        _ template: MustacheTemplate, title: String, content: ReportContent, windowStart: String,
        windowEnd: String, model: String, checked: (numbers: Int, references: Int),
        comparisons: [FactSheet.Comparison] = []
    ) -> String {
        let text = markdownText
        let context: [String: Any] = [
            "title": text(title), "start_day": day(windowStart), "end_day": day(windowEnd), "status": content.status.rawValue,
            "status_title": content.status.title, "summary": text(content.summary),
            "highlights": content.highlights.map(text), "has_highlights": !content.highlights.isEmpty,
            "risks": content.risks.map(text), "has_risks": !content.risks.isEmpty,
            "next_steps": content.nextSteps.map(text), "has_next_steps": !content.nextSteps.isEmpty,
            "model": text(model), "numbers_checked": checked.numbers, "references_checked": checked.references,
            "has_changes": !comparisons.isEmpty,
            "changes": comparisons.map {
                ["metric": text($0.metric), "now": text($0.now), "previous": text($0.previous), "change": text($0.change)]
            },
        ]
        return template.render(context)
    }

    /// Characters that start Markdown (CommonMark and GitHub's extensions: emphasis, code,
    /// links and images, raw HTML, entities, tables, strikethrough, math): each is shown
    /// literally with a backslash before it.
    private static let markdownPunctuation: Set<Character> = ["\\", "`", "*", "_", "[", "]", "<", ">", "|", "~", "&", "$"]
    private static let blockStart = try? NSRegularExpression(
        pattern: #"^(#{1,6}(?=\s|$)|=|\+(?=\s|$)|-(?=\s|$|-)|\d{1,9}(?=[.)](\s|$)))"#)
    /// Anything an e-mail autolink could start from: a run without spaces holding `@` and a dot after it.
    private static let email = try? NSRegularExpression(pattern: #"[^\s`@]+@[^\s`@]*\.[^\s`]*"#)
    private static let autolink = try? NSRegularExpression(pattern: #"(?i)(?<=[a-z])(:)(?=//)|(?<=www)(\.)"#)

    /// Text as Markdown shows it literally, on one line: white space runs become one space; what
    /// could start markup is escaped; a leading `# `, `-`, `+`, `=` or `1.` cannot open a block;
    /// a URL or `www.` cannot become a link (its `:` or `.` is escaped, whatever comes before
    /// `www`) and a word holding `@` and a dot after it, which GitHub links as an e-mail
    /// address whatever is escaped, is a code span.
    static func markdownText(_ text: String) -> String {
        let line = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
        let nsLine = line as NSString
        let emails = email?.matches(in: line, range: NSRange(location: 0, length: nsLine.length)).map(\.range) ?? []
        var out = ""
        var at = 0
        func escaped(_ piece: String) -> String {
            var result = ""
            for character in piece {
                if markdownPunctuation.contains(character) { result.append("\\") }
                result.append(character)
            }
            guard let autolink else { return result }
            return autolink.stringByReplacingMatches(
                in: result, range: NSRange(result.startIndex..., in: result), withTemplate: "\\\\$1$2")
        }
        for range in emails {
            out += escaped(nsLine.substring(with: NSRange(location: at, length: range.location - at)))
            out += "`" + nsLine.substring(with: range) + "`"
            at = range.location + range.length
        }
        out += escaped(nsLine.substring(from: at))
        if let blockStart, let match = blockStart.firstMatch(in: out, range: NSRange(out.startIndex..., in: out)),
            let range = Range(match.range, in: out)
        {
            // `1.` keeps its digits and escapes the `.` or `)` after them.
            if out[range].first?.isNumber == true {
                out.insert("\\", at: range.upperBound)
            } else {
                out.insert("\\", at: range.lowerBound)
            }
        }
        return out
    }

    /// One repository's row on the estate page.
    struct Row {
        let slug: String
        let status: Status
        let summary: String
        let merged: Int
        let medianOpenToMergeDays: Double?
        let outstanding: Int
        let outstandingP90Days: Double?
        /// Review flow, people's pull requests: median pickup and time to first response.
        var medianPickupDays: Double? = nil
        var medianFirstResponseDays: Double? = nil
        /// This repository's windows of the same length, oldest first, ending with this one.
        var trend: [Point] = []
    }

    /// One window of a trend.
    struct Point: Equatable, Sendable {
        let windowEnd: String
        let merged: Int
        let medianOpenToMergeDays: Double?
        let outstanding: Int
        let outstandingP90Days: Double?
        var medianPickupDays: Double? = nil
        var medianFirstResponseDays: Double? = nil
    }

    /// The metrics a trend shows: a name, the words of its unit, and how to read a point.
    static let trendMetrics: [(key: String, title: String, unit: String, value: @Sendable (Point) -> Double?)] = [
        ("merged", "Pull requests merged", "", { Double($0.merged) }),
        ("open-to-merge", "Median open-to-merge time", "d", { $0.medianOpenToMergeDays }),
        ("outstanding", "Outstanding issues", "", { Double($0.outstanding) }),
        ("oldest-outstanding", "Age of the oldest tenth of outstanding issues (p90)", "d", { $0.outstandingP90Days }),
        ("pickup", "Median pickup (ready to first review)", "d", { $0.medianPickupDays }),
        ("first-response", "Median first response (pull requests)", "d", { $0.medianFirstResponseDays }),
    ]

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
    }

    /// A sparkline as inline SVG: one point per window, the current (last) one marked and its
    /// value written beside it; the label states every value for readers and tests.
    static func sparkline(_ label: String, metric: (key: String, title: String, unit: String), _ values: [(String, Double?)])
        -> String
    {
        let known = values.compactMap { $0.1 }
        let described = values.map { "\(day($0.0)): \($0.1.map(number) ?? "none")" }.joined(separator: ", ")
        let aria = "\(label), \(metric.title.lowercased()) by window: \(described) (current last)"
        let width = 100, height = 28, pad = 3
        var svg = "<svg class=\"spark\" data-metric=\"\(metric.key)\" data-points=\"\(values.count)\" "
        svg += "xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width + 60)\" height=\"\(height)\" role=\"img\" "
        svg += "aria-label=\"\(escape(aria))\"><title>\(escape(aria))</title>"
        guard let last = values.last?.1, !known.isEmpty else {
            return svg + "<text x=\"0\" y=\"18\">no data</text></svg>"
        }
        let top = max(known.max() ?? 0, 1)
        let step = values.count > 1 ? Double(width - 2 * pad) / Double(values.count - 1) : 0
        func y(_ value: Double) -> Int { height - pad - Int((value / top * Double(height - 2 * pad)).rounded()) }
        let points = values.enumerated().compactMap { index, value in
            value.1.map { "\(pad + Int((Double(index) * step).rounded())),\(y($0))" }
        }
        svg += "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
        let x = pad + Int((Double(values.count - 1) * step).rounded())
        svg += "<circle class=\"current\" cx=\"\(x)\" cy=\"\(y(last))\" r=\"3\" fill=\"#c62828\"/>"
        svg += "<text x=\"\(width + 4)\" y=\"18\">\(number(last))\(metric.unit.isEmpty ? "" : " " + metric.unit)</text></svg>"
        return svg
    }

    /// The trends section: per project (its repositories' counts added up, over the windows every
    /// one of them has) and per repository, one sparkline per metric.
    static func trends(_ rows: [Row], projects: [(name: String, members: [String])]) -> String {
        let windows = rows.map(\.trend.count).max() ?? 0
        guard windows > 1 else { return "" }
        var html = "<h2>Trends over the last \(windows) windows</h2>\n"
        // Six sparklines a line are wider than a narrow window: the table scrolls, the page does not.
        html += "<div style=\"overflow-x:auto\"><table class=\"trends\"><thead><tr><th>repository or project</th>"
        html += trendMetrics.map { "<th>\(escape($0.title))</th>" }.joined() + "</tr></thead><tbody>\n"
        func line(_ label: String, _ points: [Point], project: Bool) -> String {
            var row =
                "<tr class=\"\(project ? "project" : "repository")\"><td>\(project ? "<strong>\(escape(label))</strong>" : escape(label))</td>"
            for metric in trendMetrics {
                let values = points.map { ($0.windowEnd, metric.value($0)) }
                // A project adds up counts; its medians and percentiles would be guesses.
                let shown =
                    project && metric.unit == "d"
                    ? "" : sparkline(label, metric: (metric.key, metric.title, metric.unit), values)
                row += "<td>\(shown)</td>"
            }
            return row + "</tr>\n"
        }
        let bySlug = Dictionary(rows.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })
        var placed: Set<String> = []
        for project in projects {
            let members = project.members.compactMap { bySlug[$0] }
            guard !members.isEmpty else { continue }
            let ends = members.map { Set($0.trend.map(\.windowEnd)) }.reduce(Set(members[0].trend.map(\.windowEnd))) {
                $0.intersection($1)
            }
            let summed = ends.sorted().map { end in
                let points = members.compactMap { $0.trend.first { $0.windowEnd == end } }
                return Point(
                    windowEnd: end, merged: points.reduce(0) { $0 + $1.merged }, medianOpenToMergeDays: nil,
                    outstanding: points.reduce(0) { $0 + $1.outstanding }, outstandingP90Days: nil)
            }
            html += line(project.name, summed, project: true)
            for member in members {
                html += line(member.slug, member.trend, project: false)
                placed.insert(member.slug)
            }
        }
        for row in rows where !placed.contains(row.slug) { html += line(row.slug, row.trend, project: false) }
        return html + "</tbody></table></div>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let colours: [Status: String] = [.onTrack: "#2e7d32", .atRisk: "#ef6c00", .blocked: "#c62828", .unknown: "#757575"]

    /// A horizontal bar chart as inline SVG: one bar per label, value written at its end.
    static func bars(
        _ title: String, unit: (one: String, many: String), _ items: [(label: String, value: Double, colour: String)]
    )
        -> String
    {
        let shown = items.prefix(40)
        let maximum = max(shown.map(\.value).max() ?? 0, 1)
        let rowHeight = 22, labelWidth = 220, barWidth = 420
        let height = rowHeight * max(shown.count, 1) + 8
        var svg = "<figure><figcaption>\(escape(title))</figcaption>"
        svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 90)\" height=\"\(height)\" "
        svg += "role=\"img\" aria-label=\"\(escape(title))\">"
        if shown.isEmpty { svg += "<text x=\"0\" y=\"18\">No data in this window.</text>" }
        for (index, item) in shown.enumerated() {
            let y = index * rowHeight + 4
            let width = Int((item.value / maximum * Double(barWidth)).rounded())
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 14)\" text-anchor=\"end\">\(escape(item.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(max(width, 1))\" height=\"16\" fill=\"\(item.colour)\"/>"
            svg +=
                "<text x=\"\(labelWidth + max(width, 1) + 6)\" y=\"\(y + 14)\">\(format(item.value)) \(escape(item.value == 1 ? unit.one : unit.many))</text>"
        }
        return svg + "</svg></figure>\n"
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// The estate page: one static HTML file, no external assets, charts as inline SVG.
    static func estatePage(
        estate: String, content: ReportContent, windowStart: String, windowEnd: String,
        rows: [Row], projects: [(name: String, members: [String])] = []
    ) -> String {
        let byMerged = rows.sorted { ($0.merged, $1.slug) > ($1.merged, $0.slug) }
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(estate)) — estate status \(day(windowStart)) to \(day(windowEnd))</title>
            <style>
            body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;color:#1b1b1b;padding:0 1rem}
            h1{font-size:1.6rem;margin-bottom:.2rem}.window{color:#555;margin-top:0}
            .badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;color:#fff;font-size:.85rem;white-space:nowrap}
            table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
            td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.4rem}
            svg text{font-size:12px;fill:#1b1b1b}.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
            </style></head><body>
            <h1>Estate \(escape(estate)) <span class="badge" style="background:\(colours[content.status] ?? "#757575")">\(content.status.title)</span></h1>
            <p class="window">Window \(day(windowStart)) to \(day(windowEnd)) (end exclusive)</p>
            <p>\(escape(content.summary))</p>

            """
        var counts: [Status: Int] = [:]
        for row in rows { counts[row.status, default: 0] += 1 }
        html += bars(
            "Repositories by status", unit: ("repository", "repositories"),
            Status.allCases.compactMap { status in
                counts[status].map { (status.title, Double($0), colours[status] ?? "#757575") }
            })
        html += bars(
            "Pull requests merged per repository", unit: ("merged", "merged"),
            byMerged.filter { $0.merged > 0 }.map { ($0.slug, Double($0.merged), "#1565c0") })
        html += bars(
            "Median open-to-merge time per repository", unit: ("day", "days"),
            rows.compactMap { row in row.medianOpenToMergeDays.map { (row.slug, $0, "#6a1b9a") } }
                .sorted { ($0.1, $1.0) > ($1.1, $0.0) })
        html += bars(
            "Outstanding issues: age of the oldest tenth (p90) per repository", unit: ("day", "days"),
            rows.compactMap { row in row.outstandingP90Days.map { (row.slug, $0, "#ad1457") } }
                .sorted { ($0.1, $1.0) > ($1.1, $0.0) })
        html += bars(
            "Review flow: median pickup time (ready to first review) per repository", unit: ("day", "days"),
            rows.compactMap { row in row.medianPickupDays.map { (row.slug, $0, "#2e7d32") } }
                .sorted { ($0.1, $1.0) > ($1.1, $0.0) })
        html += bars(
            "Review flow: median time to a first response on pull requests per repository", unit: ("day", "days"),
            rows.compactMap { row in row.medianFirstResponseDays.map { (row.slug, $0, "#00838f") } }
                .sorted { ($0.1, $1.0) > ($1.1, $0.0) })
        html += trends(rows, projects: projects)
        for (heading, items) in [("Highlights", content.highlights), ("Risks", content.risks), ("Next steps", content.nextSteps)]
        where !items.isEmpty {
            html += "<h2>\(heading)</h2><ul>" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
        }
        html += "<h2>Repositories</h2><table><thead><tr><th>repository</th><th>status</th><th>merged</th>"
        html += "<th>outstanding issues</th><th>summary</th></tr></thead><tbody>\n"
        for row in rows {
            html +=
                "<tr><td>\(escape(row.slug))</td><td><span class=\"badge\" style=\"background:\(colours[row.status] ?? "#757575")\">"
            html += "\(row.status.title)</span></td><td class=\"n\">\(row.merged)</td><td class=\"n\">\(row.outstanding)</td>"
            html += "<td>\(escape(row.summary))</td></tr>\n"
        }
        html +=
            "</tbody></table>\n<p class=\"window\">Written by ghillie-run from verified reports; numbers come from the metrics.</p>\n"
        return html + "</body></html>\n"
    }
}
