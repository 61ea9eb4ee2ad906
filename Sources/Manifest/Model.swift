public import Foundation

/// A validated run manifest, with its catalogue (if any) read and merged into the estate.
///
/// Only ``ManifestLoader`` makes one, so holding a `Manifest` means every check passed.
public struct Manifest: Sendable {
    /// The path as given on the command line.
    public let path: String
    /// SHA-256 of the manifest file's bytes.
    public let sha256: String
    public let name: String
    public let estate: Estate
    /// The window as written, or as `--window-end` moved it (``ending(at:now:)``).
    public private(set) var window: WindowSpec
    /// Where `--window-end` put the window's end, when it did: recorded with the run.
    public private(set) var windowOverride: Date?
    public let github: GitHubConfig
    /// The store as written in the manifest; `GHILLIE_STORE` may override it when opening.
    public let store: StoreSpec
    public let export: ExportConfig?
    public let report: ReportConfig?
    public var metrics = MetricsConfig()

    /// This manifest for one window ending at `end` (`--window-end`, `backfill`): the window's
    /// length as written, everything else as the file says. A `start:`/`end:` window keeps its
    /// length as resolved at `now`.
    public func ending(at end: Date, now: Date) -> Manifest {
        var copy = self
        switch window {
        case .days(let days, _, let anchor): copy.window = .days(days, end: .instant(end), anchor: anchor)
        case .range:
            let resolved = window.resolve(now: now)
            copy.window = .range(
                start: end.addingTimeInterval(-resolved.end.timeIntervalSince(resolved.start)), end: .instant(end))
        }
        copy.windowOverride = end
        return copy
    }
}

/// Metric settings: path-category globs that replace the built-in ones, per category.
public struct MetricsConfig: Sendable, Hashable, Codable {
    /// Categories that can be overridden (`code` is what matches none of them).
    public static let categories = ["generated", "tests", "docs", "build"]
    public var pathCategories: [String: [String]] = [:]

    public init() {}
}

/// A GitHub repository of the estate.
public struct Repository: Sendable, Hashable, Codable {
    public let owner: String
    public let name: String
    /// The branch whose commits are collected, as the manifest (or catalogue) names it; nil:
    /// the repository's own default branch on GitHub (`defaultBranchRef`).
    public let defaultBranch: String?
    public let documentationPaths: [String]
    /// The catalogue project that owns it, if it came from a catalogue.
    public let project: String?

    public var slug: String { "\(owner)/\(name)" }

    public init(owner: String, name: String, defaultBranch: String?, documentationPaths: [String], project: String?) {
        self.owner = owner
        self.name = name
        self.defaultBranch = defaultBranch
        self.documentationPaths = documentationPaths
        self.project = project
    }
}

/// Filters that mark entities as noise at refine time (never before raw storage).
public struct Noise: Sendable, Hashable, Codable {
    public var ignoreAuthors: [String] = []
    public var ignoreLabels: [String] = []
    public var ignoreTitlePrefixes: [String] = []
    public var ignorePaths: [String] = []
    /// Logins whose activity never counts as a response in review flow (an AI reviewer that
    /// runs as a user, say): their items are not noise, their comments and reviews are not responses.
    public var ignoreResponders: [String] = []

    public init() {}
}

/// The repositories of a run and how they group into catalogue projects.
public struct Estate: Sendable {
    public let key: String
    /// The catalogue path as written, relative to the manifest's folder.
    public let cataloguePath: String?
    /// In slug order, exclusions removed.
    public let repositories: [Repository]
    public let noise: Noise
    public let catalogue: Catalogue?
}

/// When the run's window ends.
public enum WindowEnd: Sendable, Hashable, Codable {
    /// The moment the run starts (frozen in the ledger for resumes).
    case now
    /// The most recent UTC midnight.
    case today
    case instant(Date)
}

/// The lookback window as written; ``resolve(now:)`` freezes it for one run.
public enum WindowSpec: Sendable, Hashable, Codable {
    /// A window of `days` days ending at `end`. With an `anchor`, windows tile time from it:
    /// every window is `[anchor + k·days, anchor + (k+1)·days)`, and an end of `now` or `today`
    /// is the last boundary at or before it — so a schedule that runs more often than the
    /// window's length covers every day exactly once.
    case days(Int, end: WindowEnd, anchor: Date? = nil)
    case range(start: Date, end: WindowEnd)

    /// The boundary of windows of `days` days from `anchor` at or before `date`.
    public static func boundary(atOrBefore date: Date, anchor: Date, days: Int) -> Date {
        let length = Double(days) * 86_400
        let steps = (date.timeIntervalSince(anchor) / length).rounded(.down)
        return anchor.addingTimeInterval(steps * length)
    }

    /// Whether `date` is a boundary of windows of `days` days from `anchor`.
    public static func isBoundary(_ date: Date, anchor: Date, days: Int) -> Bool {
        boundary(atOrBefore: date, anchor: anchor, days: days) == date
    }

    /// The anchor, for an anchored window.
    public var anchor: Date? {
        if case .days(_, _, let anchor) = self { return anchor }
        return nil
    }

    /// The concrete [start, end) for a run starting at `now`.
    public func resolve(now: Date) -> (start: Date, end: Date) {
        func endDate(_ end: WindowEnd) -> Date {
            switch end {
            case .now: return now
            case .today:
                let day = floor(now.timeIntervalSince1970 / 86_400) * 86_400
                return Date(timeIntervalSince1970: day)
            case .instant(let date): return date
            }
        }
        switch self {
        case .days(let days, let end, let anchor):
            var stop = endDate(end)
            if let anchor { stop = Self.boundary(atOrBefore: stop, anchor: anchor, days: days) }
            return (stop.addingTimeInterval(-Double(days) * 86_400), stop)
        case .range(let start, let end):
            return (start, endDate(end))
        }
    }
}

/// Kinds of GitHub data the ingest stage collects.
public enum CollectKind: String, Sendable, Hashable, Codable, CaseIterable {
    case commits, pull_requests, issues, documentation, reviews, comments, pull_request_files
    /// Inline review comments (on a pull request's diff), read from GitHub's REST API.
    case review_comments

    /// The repository permissions reading this kind needs, beyond Metadata (which every token
    /// and App has): comments come with the issues and pull requests they are on.
    public var permissions: [Permission] {
        switch self {
        case .commits, .documentation: return [.contents]
        case .issues: return [.issues]
        case .comments: return [.issues, .pullRequests]
        case .pull_requests, .reviews, .pull_request_files, .review_comments: return [.pullRequests]
        }
    }
}

/// A repository permission of a fine-grained token or a GitHub App, always read-only: the one
/// list of what ghillie-run needs granted (docs/getting-started.md shows it; `check` names the
/// ones a token lacks).
public enum Permission: String, Sendable, Hashable, CaseIterable, Comparable {
    case metadata = "Metadata"
    case contents = "Contents"
    case issues = "Issues"
    case pullRequests = "Pull requests"

    /// As GitHub's settings page words the grant: "Pull requests: read".
    public var grant: String { rawValue + ": read" }

    /// The permissions `collect` needs, in this list's order (Metadata first: always granted).
    public static func needed(for collect: [CollectKind]) -> [Permission] {
        let needed = Set(collect.flatMap(\.permissions)).union([.metadata])
        return allCases.filter(needed.contains)
    }

    public static func < (lhs: Permission, rhs: Permission) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

public struct GitHubConfig: Sendable, Hashable, Codable {
    public let endpoint: String
    /// The name of the environment variable holding the token; never the token.
    public let tokenEnv: String
    public let collect: [CollectKind]
    /// The REST API's root, for inline review comments; nil: the one GitHub pairs with `endpoint`
    /// (`https://api.github.com`, or `https://HOST/api/v3` for `https://HOST/api/graphql`).
    public var restEndpoint: String?
    /// Nodes per page (1-100); ingest halves it for a page that times out or fails with 502.
    public var pageSize = 100
    /// Seconds before a request times out.
    public var timeoutSeconds = 30
    /// Attempts per request, the first included, for 5xx, timeouts and secondary limits.
    public var maxAttempts = 5
    /// How long a unit may wait for the primary rate limit to reset, or one request for a
    /// secondary limit to lift, before it stops (interrupted, resumable).
    public var maxRateLimitWaitMinutes = 60
    /// The shortest pause after a secondary rate limit that names no `Retry-After` (GitHub
    /// documents "at least one minute"); it doubles while the limit persists.
    public var secondaryLimitWaitSeconds = 60
    /// Requests in flight at once for this token (GitHub allows 100, REST and GraphQL together).
    public var maxRequestsInFlight = 8
    /// GraphQL requests per minute for this token (GitHub allows 2,000 points a minute, a query
    /// being 1); REST requests are held to half of it (GitHub allows 900).
    public var maxRequestsPerMinute = 1_000
    /// Authenticate as a GitHub App's installation instead of with a token.
    public var app: AppConfig?
    /// Tokens of their own for some owners (lower-cased owner → the variable holding it): a
    /// fine-grained token reads one owner's repositories. Other owners use `tokenEnv`.
    public var ownerTokens: [String: String] = [:]
    /// GraphQL points each credential keeps in reserve: no request is sent that would take its
    /// budget below this, whichever worker sends it (the budget is shared through the ledger).
    public var budgetFloor = 0

    /// The variable holding the token that reads `owner`'s repositories.
    public func tokenEnv(forOwner owner: String) -> String {
        ownerTokens[owner.lowercased()] ?? tokenEnv
    }

    /// Every token variable the manifest names: the default one and each owner's.
    public var tokenEnvs: [String] { [tokenEnv] + ownerTokens.values.sorted() }

    public init(endpoint: String, tokenEnv: String, collect: [CollectKind]) {
        self.endpoint = endpoint
        self.tokenEnv = tokenEnv
        self.collect = collect
    }

    public static let defaultEndpoint = "https://api.github.com/graphql"
    public static let defaultTokenEnv = "GHILLIE_GITHUB_TOKEN"
}

/// A secret the manifest names that is missing or unreadable: what, and what to do.
public struct SecretProblem: Error, Sendable {
    public let message: String
    public let hint: String

    public init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }
}

/// A GitHub App to authenticate as (`github.app`): its id, where its private key is, and
/// optionally its installation (else found on the estate's owner).
public struct AppConfig: Sendable, Hashable, Codable {
    public let appID: Int64
    public let installationID: Int64?
    /// The environment variable holding the private key's PEM text; never the key.
    public let privateKeyEnv: String?
    /// A file holding the private key's PEM text (resolved against the manifest's folder).
    public let privateKeyFile: String?

    public init(appID: Int64, installationID: Int64?, privateKeyEnv: String?, privateKeyFile: String?) {
        self.appID = appID
        self.installationID = installationID
        self.privateKeyEnv = privateKeyEnv
        self.privateKeyFile = privateKeyFile
    }

    /// The private key's PEM text from the environment or the file, or a problem to show.
    public func privateKey(environment: [String: String]) -> Result<String, SecretProblem> {
        if let variable = privateKeyEnv {
            guard let key = environment[variable], !key.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                return .failure(
                    SecretProblem(
                        "the GitHub App's private key variable `\(variable)` is not set",
                        hint: "export \(variable)=\"$(cat app.private-key.pem)\" (the key GitHub generated for the App)"))
            }
            return .success(key)
        }
        guard let path = privateKeyFile, let data = FileManager.default.contents(atPath: path),
            let key = String(data: data, encoding: .utf8)
        else {
            return .failure(
                SecretProblem(
                    "the GitHub App's private key file `\(privateKeyFile ?? "")` cannot be read",
                    hint: "point `github.app.private_key_file` at the .pem file GitHub generated for the App"))
        }
        return .success(key)
    }
}

/// Where the ledger and data live.
public enum StoreSpec: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    public static let defaultSpec = StoreSpec.sqlite(path: ".ghillie/ghillie.sqlite")

    /// Parses `sqlite:PATH` or a `postgres://` / `postgresql://` URL.
    public static func parse(_ text: String) -> StoreSpec? {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            return path.isEmpty ? nil : .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return .postgres(url: text)
        }
        return nil
    }

    /// The spec with any password hidden; safe for output and logs.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url): return Self.redact(url)
        }
    }

    /// The password of a PostgreSQL URL (`postgres://user:PASSWORD@host/db`), if it has one.
    public var password: String? {
        guard case .postgres(let url) = self, let range = Self.passwordRange(url) else { return nil }
        return range.isEmpty ? nil : String(url[range])
    }

    static func redact(_ url: String) -> String {
        guard let range = passwordRange(url) else { return url }
        return url.replacingCharacters(in: range, with: "***")
    }

    private static func passwordRange(_ url: String) -> Range<String.Index>? {
        guard let scheme = url.range(of: "://"),
            let at = url.range(of: "@", range: scheme.upperBound..<url.endIndex),
            let colon = url[scheme.upperBound..<at.lowerBound].firstIndex(of: ":")
        else { return nil }
        return url.index(after: colon)..<at.lowerBound
    }
}

public enum ExportFormat: String, Sendable, Hashable, Codable, CaseIterable {
    case json, jsonl, csv
}

public enum Dataset: String, Sendable, Hashable, Codable, CaseIterable {
    case commits, pull_requests, issues, reviews, comments, review_comments, pr_files, documentation_changes
    /// What GitHub reported of each repository and what ingest collected of it.
    case repositories
    case evidence, metrics, reports
    /// One row per people's pull request touched in the window, with its review-flow times.
    case pull_request_flow
    /// What writing each report cost (attempts, tokens, estimated cost, latency): per run, so
    /// apart from the reproducible `reports`.
    case report_accounting
    case bundle

    /// Datasets made of refined entities (Silver).
    public var isEntity: Bool {
        switch self {
        case .commits, .pull_requests, .issues, .reviews, .comments, .review_comments, .pr_files, .documentation_changes:
            return true
        case .repositories, .evidence, .metrics, .reports, .report_accounting, .bundle, .pull_request_flow: return false
        }
    }
}

public struct ExportConfig: Sendable, Hashable, Codable {
    /// Path template; placeholders `{name}`, `{estate}`, `{window_start}`, `{window_end}`.
    public let path: String
    public let formats: [ExportFormat]
    public let datasets: [Dataset]
    /// Whether an export may replace files that no export of this manifest wrote.
    public let overwrite: Bool
    /// Whether CSV text cells that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`,
    /// tab, carriage return first) start with a `'` (opt-in: the file no longer holds the data
    /// exactly as GitHub does).
    public let csvFormulaGuard: Bool

    public static let defaultPath = "out/{name}/{window_end}"

    public init(
        path: String, formats: [ExportFormat], datasets: [Dataset], overwrite: Bool = false, csvFormulaGuard: Bool = false
    ) {
        self.path = path
        self.formats = formats
        self.datasets = datasets
        self.overwrite = overwrite
        self.csvFormulaGuard = csvFormulaGuard
    }
}

public enum ReportScope: String, Sendable, Hashable, Codable, CaseIterable {
    case repository, project, estate
}

public enum ModelBackend: String, Sendable, Hashable, Codable, CaseIterable {
    case openai, heuristic
}

public struct ModelConfig: Sendable, Hashable, Codable {
    public let backend: ModelBackend
    public let endpoint: String?
    public let model: String?
    /// The name of the environment variable holding the API key; never the key.
    public let apiKeyEnv: String?
    public var temperature = 0.2
    public var maxTokens = 1_200
    public var timeoutSeconds = 120
    /// Answers tried per report (a rejected answer is retried with its problems stated).
    public var maxAttempts = 3
    /// Requests to the endpoint in flight at once, whatever `--jobs` says: report units wait
    /// their turn rather than meet the endpoint's rate limit together.
    public var maxInFlight = 4
    /// US dollars per million prompt and completion tokens, for the cost estimate.
    public var price = ModelPrice(prompt: 0, completion: 0)

    public static let defaultEndpoint = "https://api.openai.com/v1"
    public static let defaultAPIKeyEnv = "GHILLIE_OPENAI_API_KEY"

    public init(backend: ModelBackend, endpoint: String?, model: String?, apiKeyEnv: String?) {
        self.backend = backend
        self.endpoint = endpoint
        self.model = model
        self.apiKeyEnv = apiKeyEnv
    }
}

/// What a model's tokens cost, in US dollars per million.
public struct ModelPrice: Sendable, Hashable, Codable {
    public var prompt: Double
    public var completion: Double

    public init(prompt: Double, completion: Double) {
        self.prompt = prompt
        self.completion = completion
    }

    /// The estimated cost of a number of tokens, in US dollars.
    public func cost(promptTokens: Int, completionTokens: Int) -> Double {
        (Double(promptTokens) * prompt + Double(completionTokens) * completion) / 1_000_000
    }
}

public struct ReportConfig: Sendable, Hashable, Codable {
    public let scopes: [ReportScope]
    public let model: ModelConfig
    /// Path template for report files; same placeholders as ``ExportConfig/path``.
    public let output: String
    /// Template texts that replace the built-in ones, by name (`system`, `brief`, `markdown`);
    /// read from the files `report.templates` names, so editing one reruns the reports.
    public var templates: [String: String] = [:]

    public static let templateNames = ["system", "brief", "markdown"]

    public init(scopes: [ReportScope], model: ModelConfig, output: String, templates: [String: String] = [:]) {
        self.scopes = scopes
        self.model = model
        self.output = output
        self.templates = templates
    }

    public static let defaultOutput = "out/{name}/reports"
}

/// Placeholders allowed in output path templates.
public enum PathTemplate {
    public static let placeholders = ["name", "estate", "window_start", "window_end"]

    /// The template with its placeholders filled in: `{name}`, `{estate}`, and the window's
    /// bounds as `YYYY-MM-DD` (at midnight UTC) or `YYYY-MM-DDTHHMMSSZ` (no colons, so the
    /// path is also valid on file systems that forbid them).
    public static func expand(_ template: String, name: String, estate: String, start: Date, end: Date) -> String {
        template.replacingOccurrences(of: "{name}", with: name)
            .replacingOccurrences(of: "{estate}", with: estate)
            .replacingOccurrences(of: "{window_start}", with: stamp(start))
            .replacingOccurrences(of: "{window_end}", with: stamp(end))
    }

    /// A date as it appears in paths.
    public static func stamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let day = "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day))"
        if parts.hour == 0 && parts.minute == 0 && parts.second == 0 { return day }
        return "\(day)T\(two(parts.hour))\(two(parts.minute))\(two(parts.second))Z"
    }

    /// Problems with a template's braces: unknown placeholders and unmatched braces, in order.
    static func problems(in template: String) -> [(message: String, hint: String?)] {
        var problems: [(String, String?)] = []
        var rest = Substring(template)
        while !rest.isEmpty {
            guard let brace = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) else { break }
            guard rest[brace] == "{", let close = rest[brace...].firstIndex(of: "}") else {
                problems.append(("has an unmatched `\(rest[brace])`", "placeholders look like `{window_end}`"))
                break
            }
            let name = String(rest[rest.index(after: brace)..<close])
            if name.contains("{") {
                problems.append(("has an unmatched `{`", "placeholders look like `{window_end}`"))
                break
            }
            if !placeholders.contains(name) {
                problems.append(
                    (
                        "uses unknown placeholder `{\(name)}`",
                        Suggestion.hint(for: name, in: placeholders, noun: "placeholders")
                    ))
            }
            rest = rest[rest.index(after: close)...]
        }
        return problems
    }
}
