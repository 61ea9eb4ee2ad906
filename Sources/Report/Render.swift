import Foundation
import JSON
import Mustache

/// Markdown and HTML renderings of reports: pure functions of what is stored, no clocks.
enum Render {
    static func day(_ timestamp: String) -> String { String(timestamp.prefix(10)) }

    static func markdown(
        _ template: MustacheTemplate, title: String, content: ReportContent, windowStart: String,
        windowEnd: String, model: String, checked: (numbers: Int, references: Int)
    ) -> String {
        let context: [String: Any] = [
            "title": title, "start_day": day(windowStart), "end_day": day(windowEnd), "status": content.status.rawValue,
            "status_title": content.status.title, "summary": content.summary,
            "highlights": content.highlights, "has_highlights": !content.highlights.isEmpty,
            "risks": content.risks, "has_risks": !content.risks.isEmpty,
            "next_steps": content.nextSteps, "has_next_steps": !content.nextSteps.isEmpty,
            "model": model, "numbers_checked": checked.numbers, "references_checked": checked.references,
        ]
        return template.render(context)
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
        rows: [Row]
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
