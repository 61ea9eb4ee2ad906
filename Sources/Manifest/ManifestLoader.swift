import Digest
import Foundation
import JSON
import Yams

/// A manifest that loaded, with any warnings found on the way.
public struct LoadedManifest: Sendable {
    public let manifest: Manifest
    public let warnings: [Diagnostic]
}

/// Reads a run manifest file (and its catalogue), checks everything, and reports every problem.
public struct ManifestLoader: Sendable {
    public init() {}

    /// Loads `path`. On failure the error holds every problem found, warnings included.
    public func load(path: String) throws(ManifestError) -> LoadedManifest {
        let start = SourceLocation(file: path, line: 1, column: 1)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ManifestError([
                Diagnostic(
                    at: start, "manifest file \(reason)",
                    hint: "pass the path of a run manifest, e.g. `pipelines/mvp.yaml`")
            ])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ManifestError([Diagnostic(at: start, "manifest is not UTF-8 text")])
        }
        var parser = ManifestParser(file: path)
        let manifest = parser.parse(text, sha256: SHA256.hex(data))
        let diagnostics = parser.reader.diagnostics
        guard let manifest, !diagnostics.contains(where: { $0.severity == .error }) else {
            throw ManifestError(diagnostics)
        }
        return LoadedManifest(manifest: manifest, warnings: diagnostics.sorted { $0.location < $1.location })
    }
}

/// Walks a manifest's YAML tree into a ``Manifest``.
struct ManifestParser {
    var reader: NodeReader

    init(file: String) {
        reader = NodeReader(file: file)
    }

    static let topKeys = ["version", "name", "estate", "window", "github", "store", "export", "report", "metrics"]

    mutating func parse(_ text: String, sha256: String) -> Manifest? {
        let root: Node
        switch YAMLFile.compose(text, file: reader.file) {
        case .failure(let failure):
            reader.diagnostics.append(failure.diagnostic)
            return nil
        case .success(let node):
            guard let node else {
                reader.diagnostics.append(
                    Diagnostic(
                        at: SourceLocation(file: reader.file, line: 1, column: 1), "manifest is empty",
                        hint: "a manifest needs at least `version: 1`, `name:` and `estate:`"))
                return nil
            }
            root = node
        }
        guard let fields = reader.mapping(root, path: "the manifest", allowed: Self.topKeys) else { return nil }

        if let node = reader.require(fields, "version"), let version = reader.int(node, path: "version", range: 0...Int.max),
            version != 1
        {
            reader.error(node, "unsupported manifest version \(version)", hint: "this ghillie-run reads `version: 1`")
        }
        let name = reader.require(fields, "name").flatMap { parseName($0) }
        let estate = reader.require(fields, "estate").flatMap { parseEstate($0) }
        let window = fields["window"].map { parseWindow($0) } ?? .days(14, end: .now)
        let github =
            fields["github"].map { parseGitHub($0) }
            ?? GitHubConfig(
                endpoint: GitHubConfig.defaultEndpoint, tokenEnv: GitHubConfig.defaultTokenEnv, collect: CollectKind.allCases)
        let store = fields["store"].map { parseStore($0) } ?? .defaultSpec
        let export = fields["export"].flatMap { parseExport($0) }
        let report = fields["report"].flatMap { parseReport($0, estate: estate) }

        let metrics = fields["metrics"].map { parseMetrics($0) } ?? MetricsConfig()
        guard let name, let estate, let window, let github, let store, let metrics else { return nil }
        // One installation id cannot cover repositories of several owners: each owner has its own.
        if github.app?.installationID != nil, Set(estate.repositories.map { $0.owner.lowercased() }).count > 1,
            let appNode = fields["github"].flatMap({ reader.mappingValue($0, key: "app") })
        {
            reader.error(
                appNode, "`github.app.installation_id` names one installation, but the estate's repositories have several owners",
                hint: "leave `installation_id` out: the App's installation on each owner is found by itself")
            return nil
        }
        // A token for an owner with no repository in the estate is a typo or a leftover.
        if let tokensNode = fields["github"].flatMap({ reader.mappingValue($0, key: "owner_tokens") }),
            case .mapping(let mapping) = tokensNode
        {
            let owners = Set(estate.repositories.map { $0.owner.lowercased() })
            for (key, _) in mapping {
                guard let owner = key.scalar?.string, !owners.contains(owner.lowercased()) else { continue }
                reader.warning(
                    key, "no repository of the estate belongs to `\(owner)`",
                    hint: "owners in the estate: " + owners.sorted().joined(separator: ", "))
            }
        }
        if fields["export"] != nil && export == nil { return nil }
        if fields["report"] != nil && report == nil { return nil }
        var manifest = Manifest(
            path: reader.file, sha256: sha256, name: name, estate: estate, window: window,
            github: github, store: store, export: export, report: report)
        manifest.metrics = metrics
        return manifest
    }

    // MARK: Sections

    mutating func parseName(_ node: Node) -> String? {
        guard let name = reader.string(node, path: "name") else { return nil }
        let scalars = Array(name.unicodeScalars)
        let valid =
            (1...64).contains(scalars.count)
            && scalars.allSatisfy {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                    || $0 == "." || $0 == "_" || $0 == "-"
            }
            && scalars.first.map { $0 != "." && $0 != "_" && $0 != "-" } == true
        guard valid else {
            reader.error(
                node, "`name` `\(name)` is not a valid run name",
                hint: "use 1-64 letters, digits, `.`, `_` and `-`, starting with a letter or digit")
            return nil
        }
        return name
    }

    mutating func parseEstate(_ node: Node) -> Estate? {
        guard
            let fields = reader.mapping(
                node, path: "estate", allowed: ["key", "catalogue", "repositories", "exclude", "noise"])
        else { return nil }
        var key: String?
        if let keyNode = reader.require(fields, "key"), let value = reader.string(keyNode, path: "estate.key") {
            if CatalogueParser.isValidKey(value) {
                key = value
            } else {
                reader.error(
                    keyNode, "`estate.key` `\(value)` is not a valid key",
                    hint: "use 1-63 lowercase letters, digits and dashes, not starting or ending with a dash")
            }
        }
        if fields["catalogue"] == nil && fields["repositories"] == nil {
            reader.error(
                node, "estate has no repositories",
                hint: "add `repositories:` with at least one `slug: owner/name`, or a `catalogue:`")
        }
        var catalogue: Catalogue?
        var cataloguePath: String?
        var catalogueFailed = false
        if let catalogueNode = fields["catalogue"], let path = reader.nonEmptyString(catalogueNode, path: "estate.catalogue") {
            cataloguePath = path
            catalogue = loadCatalogue(path, node: catalogueNode)
            catalogueFailed = catalogue == nil
        }

        // Catalogue repositories first, then inline ones merged over them.
        var repositories: [String: Repository] = [:]
        var order: [String] = []
        var lowered: Set<String> = []
        for project in catalogue?.projects ?? [] {
            for component in project.components {
                guard let repo = component.repository else { continue }
                if let existing = repositories[repo.slug.lowercased()] {
                    repositories[repo.slug.lowercased()] = Repository(
                        owner: existing.owner, name: existing.name, defaultBranch: existing.defaultBranch,
                        documentationPaths: CatalogueParser.dedupe(existing.documentationPaths + repo.documentationPaths),
                        project: existing.project)
                    continue
                }
                repositories[repo.slug.lowercased()] = Repository(
                    owner: repo.owner, name: repo.name, defaultBranch: repo.defaultBranch,
                    documentationPaths: repo.documentationPaths, project: project.key)
                order.append(repo.slug.lowercased())
            }
        }
        if let list = fields["repositories"], let items = reader.sequence(list, path: "estate.repositories") {
            if items.isEmpty && catalogue == nil && !catalogueFailed {
                reader.error(list, "`estate.repositories` is empty", hint: "list at least one `slug: owner/name`")
            }
            for (index, item) in items.enumerated() {
                let path = "estate.repositories[\(index)]"
                guard
                    let repoFields = reader.mapping(
                        item, path: path, allowed: ["slug", "default_branch", "documentation_paths"])
                else { continue }
                guard let slugNode = reader.require(repoFields, "slug"),
                    let (owner, name) = parseSlug(slugNode, path: "\(path).slug")
                else { continue }
                let slug = "\(owner)/\(name)".lowercased()
                if !lowered.insert(slug).inserted {
                    reader.error(slugNode, "repository `\(owner)/\(name)` is listed twice in `estate.repositories`")
                    continue
                }
                var branch: String?
                if let branchNode = repoFields["default_branch"],
                    let value = reader.nonEmptyString(branchNode, path: "\(path).default_branch")
                {
                    branch = value
                }
                let docs =
                    repoFields["documentation_paths"].flatMap {
                        reader.strings($0, path: "\(path).documentation_paths")
                    } ?? []
                if let existing = repositories[slug] {
                    repositories[slug] = Repository(
                        owner: existing.owner, name: existing.name, defaultBranch: branch ?? existing.defaultBranch,
                        documentationPaths: CatalogueParser.dedupe(existing.documentationPaths + docs),
                        project: existing.project)
                } else {
                    repositories[slug] = Repository(
                        owner: owner, name: name, defaultBranch: branch, documentationPaths: docs, project: nil)
                    order.append(slug)
                }
            }
        }
        if let list = fields["exclude"], let items = reader.sequence(list, path: "estate.exclude") {
            for (index, item) in items.enumerated() {
                guard let (owner, name) = parseSlug(item, path: "estate.exclude[\(index)]") else { continue }
                let slug = "\(owner)/\(name)".lowercased()
                if repositories.removeValue(forKey: slug) == nil && !catalogueFailed {
                    reader.warning(
                        item, "excluded repository `\(owner)/\(name)` is not in the estate",
                        hint: "remove it from `estate.exclude`, or check its spelling")
                }
            }
        }
        let noise = fields["noise"].flatMap { parseNoise($0) } ?? Noise()
        let resolved = order.compactMap { repositories[$0] }.sorted { $0.slug.lowercased() < $1.slug.lowercased() }
        if resolved.isEmpty && !catalogueFailed && (fields["catalogue"] != nil || fields["repositories"] != nil)
            && reader.diagnostics.allSatisfy({ $0.severity != .error })
        {
            reader.error(
                node, "estate has no repositories left after exclusions",
                hint: "a run needs at least one repository")
        }
        guard let key else { return nil }
        return Estate(key: key, cataloguePath: cataloguePath, repositories: resolved, noise: noise, catalogue: catalogue)
    }

    mutating func parseSlug(_ node: Node, path: String) -> (String, String)? {
        guard let slug = reader.string(node, path: path) else { return nil }
        let parts = slug.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, CatalogueParser.isValidRepoPart(parts[0]), CatalogueParser.isValidRepoPart(parts[1]) else {
            reader.error(
                node, "`\(slug)` is not a repository slug",
                hint: "write `owner/name`, e.g. `leynos/wildside`")
            return nil
        }
        return (parts[0], parts[1])
    }

    mutating func loadCatalogue(_ path: String, node: Node) -> Catalogue? {
        // Relative to the manifest's folder, shown as the user would type it from here.
        let folder = (reader.file as NSString).deletingLastPathComponent
        let joined = path.hasPrefix("/") || folder.isEmpty ? path : folder + "/" + path
        let display = Self.normalize(joined)
        guard let data = FileManager.default.contents(atPath: display) else {
            reader.error(
                node, "catalogue file `\(path)` not found",
                hint: "catalogue paths are relative to the manifest's folder; looked for `\(display)`")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            reader.error(node, "catalogue file `\(path)` is not UTF-8 text")
            return nil
        }
        var parser = CatalogueParser(file: display)
        let catalogue = parser.parse(text)
        reader.diagnostics.append(contentsOf: parser.reader.diagnostics)
        return catalogue
    }

    /// Removes `.` and resolvable `..` components: `bad/../catalogues/x.yaml` → `catalogues/x.yaml`.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if path.hasPrefix("/") { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    mutating func parseNoise(_ node: Node) -> Noise? {
        let keys = ["ignore_authors", "ignore_labels", "ignore_title_prefixes", "ignore_paths", "ignore_responders"]
        guard let fields = reader.mapping(node, path: "estate.noise", allowed: keys) else { return nil }
        var noise = Noise()
        func list(_ key: String) -> [String] {
            fields[key].flatMap { reader.strings($0, path: "estate.noise.\(key)") } ?? []
        }
        noise.ignoreAuthors = list("ignore_authors")
        noise.ignoreLabels = list("ignore_labels")
        noise.ignoreTitlePrefixes = list("ignore_title_prefixes")
        noise.ignorePaths = list("ignore_paths")
        noise.ignoreResponders = list("ignore_responders")
        return noise
    }

    mutating func parseWindow(_ node: Node) -> WindowSpec? {
        guard let fields = reader.mapping(node, path: "window", allowed: ["days", "start", "end", "anchor"]) else {
            return nil
        }
        var end = WindowEnd.now
        var endOK = true
        if let endNode = fields["end"], let text = reader.string(endNode, path: "window.end") {
            switch text {
            case "now": end = .now
            case "today": end = .today
            default:
                if let date = Self.dateOrDay(text) {
                    end = .instant(date)
                } else {
                    reader.error(
                        endNode,
                        "`window.end` `\(text)` is not `now`, `today`, a day (YYYY-MM-DD, UTC midnight) or an RFC 3339 timestamp",
                        hint: "e.g. `2026-11-27` or `2026-11-27T00:00:00Z`")
                    endOK = false
                }
            }
        } else if fields["end"] != nil {
            endOK = false
        }
        var anchor: Date?
        if let anchorNode = fields["anchor"], let text = reader.string(anchorNode, path: "window.anchor") {
            guard let date = Self.dateOrDay(text) else {
                reader.error(
                    anchorNode, "`window.anchor` `\(text)` is not a day (YYYY-MM-DD, UTC midnight) or an RFC 3339 timestamp",
                    hint: "e.g. `2026-01-05`: windows then start on that day and every `days` days from it")
                return nil
            }
            if fields["start"] != nil {
                reader.error(
                    anchorNode, "`window.anchor` tiles windows of `days` days; a `start:`/`end:` window has none",
                    hint: "use `days:` with `anchor:`, or drop `anchor:`")
                return nil
            }
            anchor = date
        } else if fields["anchor"] != nil {
            return nil
        }
        if fields["days"] != nil, fields["start"] != nil, let startKey = fields.keys["start"] {
            reader.error(
                startKey, "`window` has both `days` and `start`",
                hint: "use `days:` for a rolling window, or `start:` and `end:` for a fixed one")
            return nil
        }
        if let startNode = fields["start"] {
            guard let text = reader.string(startNode, path: "window.start") else { return nil }
            guard let start = Timestamp.date(text) else {
                reader.error(
                    startNode, "`window.start` `\(text)` is not an RFC 3339 timestamp",
                    hint: "e.g. `2026-11-13T00:00:00Z`")
                return nil
            }
            if case .instant(let stop) = end, stop <= start, let endNode = fields["end"] {
                reader.error(endNode, "`window.end` is not after `window.start`")
                return nil
            }
            return endOK ? .range(start: start, end: end) : nil
        }
        var days = 14
        if let daysNode = fields["days"] {
            guard let value = reader.int(daysNode, path: "window.days", range: 1...3660) else { return nil }
            days = value
        }
        if let anchor, case .instant(let stop) = end, !WindowSpec.isBoundary(stop, anchor: anchor, days: days),
            let endNode = fields["end"]
        {
            let before = WindowSpec.boundary(atOrBefore: stop, anchor: anchor, days: days)
            reader.error(
                endNode,
                "`window.end` \(Timestamp.seconds(stop)) is not a boundary of the windows anchored at \(Timestamp.seconds(anchor))",
                hint: "windows of \(days) days from the anchor end at \(Timestamp.seconds(before)) or "
                    + Timestamp.seconds(before.addingTimeInterval(Double(days) * 86_400)))
            return nil
        }
        return endOK ? .days(days, end: end, anchor: anchor) : nil
    }

    /// An RFC 3339 time, or a day (`YYYY-MM-DD`) as its UTC midnight.
    static func dateOrDay(_ text: String) -> Date? {
        Timestamp.date(text) ?? (text.count == 10 ? Timestamp.date(text + "T00:00:00Z") : nil)
    }

    mutating func parseGitHub(_ node: Node) -> GitHubConfig? {
        let allowed = [
            "endpoint", "rest_endpoint", "token_env", "collect", "page_size", "timeout_seconds", "max_attempts",
            "max_rate_limit_wait_minutes", "secondary_limit_wait_seconds", "max_requests_in_flight",
            "max_requests_per_minute", "app", "owner_tokens", "budget_floor",
        ]
        guard let fields = reader.mapping(node, path: "github", allowed: allowed) else { return nil }
        var ok = true
        var endpoint = GitHubConfig.defaultEndpoint
        if let endpointNode = fields["endpoint"] {
            if let value = parseURL(endpointNode, path: "github.endpoint") { endpoint = value } else { ok = false }
        }
        var restEndpoint: String?
        if let restNode = fields["rest_endpoint"] {
            if let value = parseURL(restNode, path: "github.rest_endpoint") { restEndpoint = value } else { ok = false }
        }
        var tokenEnv = GitHubConfig.defaultTokenEnv
        if let envNode = fields["token_env"] {
            if let value = parseEnvName(envNode, path: "github.token_env") { tokenEnv = value } else { ok = false }
        }
        var collect = CollectKind.allCases
        if let collectNode = fields["collect"] {
            let values: [CollectKind]? = reader.choices(collectNode, path: "github.collect", noun: "collect kind")
            if let values, !values.isEmpty {
                collect = values
            } else {
                if values != nil {
                    reader.error(
                        collectNode, "`github.collect` is empty",
                        hint: "list what to collect, e.g. `[commits, pull_requests, issues]`")
                }
                ok = false
            }
        }
        var config = GitHubConfig(endpoint: endpoint, tokenEnv: tokenEnv, collect: collect)
        config.restEndpoint = restEndpoint
        if let appNode = fields["app"] {
            if let app = parseApp(appNode) { config.app = app } else { ok = false }
        }
        if let tokensNode = fields["owner_tokens"] {
            if let tokens = parseOwnerTokens(tokensNode) { config.ownerTokens = tokens } else { ok = false }
            if fields["app"] != nil {
                reader.error(
                    tokensNode, "`github.owner_tokens` and `github.app` cannot both be set",
                    hint: "a GitHub App reads each owner with its installation there; keep one of the two")
                ok = false
            }
        }
        ok =
            reader.ints(
                fields, path: "github",
                limits: [
                    ("page_size", 1...100, \.pageSize), ("timeout_seconds", 1...600, \.timeoutSeconds),
                    ("max_attempts", 1...20, \.maxAttempts), ("max_rate_limit_wait_minutes", 0...1440, \.maxRateLimitWaitMinutes),
                    ("secondary_limit_wait_seconds", 1...3600, \.secondaryLimitWaitSeconds),
                    ("max_requests_in_flight", 1...100, \.maxRequestsInFlight),
                    ("max_requests_per_minute", 1...2000, \.maxRequestsPerMinute),
                    ("budget_floor", 0...1_000_000, \.budgetFloor),
                ], into: &config) && ok
        return ok ? config : nil
    }

    /// `github.owner_tokens`: owner → the variable holding that owner's token.
    mutating func parseOwnerTokens(_ node: Node) -> [String: String]? {
        guard case .mapping(let mapping) = node else {
            reader.error(
                node, "`github.owner_tokens` must be a mapping of owner to variable name, found \(reader.describe(node))",
                hint: "e.g. `owner_tokens: {globex: GLOBEX_GITHUB_TOKEN}`")
            return nil
        }
        var tokens: [String: String] = [:]
        var ok = true
        for (key, value) in mapping {
            guard let owner = key.scalar?.string, Self.isLogin(owner) else {
                reader.error(
                    key, "`github.owner_tokens` has a key that is not a GitHub owner",
                    hint: "owners are logins of users or organisations: letters, digits and `-`")
                ok = false
                continue
            }
            if let env = parseEnvName(value, path: "github.owner_tokens.\(owner)") {
                tokens[owner.lowercased()] = env
            } else {
                ok = false
            }
        }
        return ok ? tokens : nil
    }

    /// A GitHub login: 1 to 39 letters, digits and `-`.
    static func isLogin(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 39
            && text.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
            }
    }

    /// `github.app`: an App id, its private key from a variable or a file (exactly one), and
    /// optionally the installation.
    mutating func parseApp(_ node: Node) -> AppConfig? {
        let allowed = ["app_id", "installation_id", "private_key_env", "private_key_file"]
        guard let fields = reader.mapping(node, path: "github.app", allowed: allowed) else { return nil }
        guard let idNode = reader.require(fields, "app_id") else { return nil }
        let appID = reader.int(idNode, path: "github.app.app_id", range: 1...999_999_999_999)
        let installation = fields["installation_id"].map {
            reader.int($0, path: "github.app.installation_id", range: 1...999_999_999_999)
        }
        let keyEnv = fields["private_key_env"].map { parseEnvName($0, path: "github.app.private_key_env") }
        var keyFile: String??
        if let fileNode = fields["private_key_file"] {
            keyFile = reader.nonEmptyString(fileNode, path: "github.app.private_key_file").map { path in
                let folder = (reader.file as NSString).deletingLastPathComponent
                return Self.normalize(path.hasPrefix("/") || folder.isEmpty ? path : folder + "/" + path)
            }
        }
        if (keyEnv == nil) == (keyFile == nil) {
            reader.error(
                node, "`github.app` needs exactly one of `private_key_env` and `private_key_file`",
                hint: "name the variable holding the App's private key, or the .pem file")
            return nil
        }
        guard let appID, installation ?? 1 != nil, keyEnv ?? "" != nil, keyFile ?? "" != nil else { return nil }
        return AppConfig(
            appID: Int64(appID), installationID: installation.flatMap { $0 }.map(Int64.init), privateKeyEnv: keyEnv ?? nil,
            privateKeyFile: keyFile ?? nil)
    }

    /// An http(s) URL. A secret (token or key) travels to it, so plain `http://` is allowed only
    /// to this machine (`127.0.0.1`, `::1`, `localhost`): anywhere else it would cross the
    /// network readable by anyone on the way.
    mutating func parseURL(_ node: Node, path: String) -> String? {
        guard let text = reader.nonEmptyString(node, path: path) else { return nil }
        guard text.hasPrefix("https://") || text.hasPrefix("http://"), let url = URL(string: text), let host = url.host else {
            reader.error(node, "`\(path)` `\(text)` is not an http(s) URL", hint: "e.g. `https://api.github.com/graphql`")
            return nil
        }
        let loopback = ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host.lowercased())
        if text.hasPrefix("http://") && !loopback {
            reader.error(
                node,
                "`\(path)` `\(text)` is plain http to another machine: the secret sent to it would cross the network unencrypted",
                hint: "use https:// (plain http is allowed only to 127.0.0.1, ::1 or localhost)")
            return nil
        }
        return text
    }

    mutating func parseEnvName(_ node: Node, path: String) -> String? {
        guard let text = reader.string(node, path: path) else { return nil }
        let scalars = Array(text.unicodeScalars)
        let valid =
            !scalars.isEmpty && scalars.count <= 128
            && scalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
            && !("0"..."9").contains(scalars[0])
        guard valid else {
            // Never echo the value: it may be a secret pasted by mistake.
            reader.error(
                node, "`\(path)` must name an environment variable (upper-case letters, digits, `_`)",
                hint: "put the secret itself in the environment, never in the manifest")
            return nil
        }
        return text
    }

    mutating func parseStore(_ node: Node) -> StoreSpec? {
        guard let text = reader.nonEmptyString(node, path: "store") else { return nil }
        guard let spec = StoreSpec.parse(text) else {
            reader.error(
                node, "`store` `\(StoreSpec.redact(text))` is not a store",
                hint: "use `sqlite:PATH` (e.g. `sqlite:.ghillie/ghillie.sqlite`) or a `postgres://` URL")
            return nil
        }
        return spec
    }

    mutating func parseTemplate(_ node: Node, path: String) -> String? {
        guard let text = reader.nonEmptyString(node, path: path) else { return nil }
        let problems = PathTemplate.problems(in: text)
        guard problems.isEmpty else {
            for problem in problems { reader.error(node, "`\(path)` \(problem.message)", hint: problem.hint) }
            return nil
        }
        return text
    }

    mutating func parseExport(_ node: Node) -> ExportConfig? {
        guard
            let fields = reader.mapping(
                node, path: "export", allowed: ["path", "formats", "datasets", "overwrite", "csv_formula_guard"])
        else {
            return nil
        }
        var ok = true
        var path = ExportConfig.defaultPath
        if let pathNode = fields["path"] {
            if let value = parseTemplate(pathNode, path: "export.path") { path = value } else { ok = false }
        }
        var formats: [ExportFormat] = [.jsonl, .csv]
        if let formatsNode = fields["formats"] {
            let values: [ExportFormat]? = reader.choices(formatsNode, path: "export.formats", noun: "export format")
            if let values, !values.isEmpty {
                formats = values
            } else {
                if values != nil { reader.error(formatsNode, "`export.formats` is empty", hint: "e.g. `[jsonl, csv]`") }
                ok = false
            }
        }
        var datasets = Dataset.allCases
        if let datasetsNode = fields["datasets"] {
            let values: [Dataset]? = reader.choices(datasetsNode, path: "export.datasets", noun: "dataset")
            if let values, !values.isEmpty {
                datasets = values
            } else {
                if values != nil {
                    reader.error(datasetsNode, "`export.datasets` is empty", hint: "e.g. `[commits, pull_requests]`")
                }
                ok = false
            }
        }
        var overwrite = false
        if let overwriteNode = fields["overwrite"] {
            if let value = reader.bool(overwriteNode, path: "export.overwrite") { overwrite = value } else { ok = false }
        }
        var formulaGuard = false
        if let guardNode = fields["csv_formula_guard"] {
            if let value = reader.bool(guardNode, path: "export.csv_formula_guard") { formulaGuard = value } else { ok = false }
        }
        return ok
            ? ExportConfig(
                path: path, formats: formats, datasets: datasets, overwrite: overwrite, csvFormulaGuard: formulaGuard)
            : nil
    }

    mutating func parseReport(_ node: Node, estate: Estate?) -> ReportConfig? {
        guard let fields = reader.mapping(node, path: "report", allowed: ["scopes", "model", "output", "templates"]) else {
            return nil
        }
        var ok = true
        var scopes = ReportScope.allCases
        if let scopesNode = fields["scopes"] {
            let values: [ReportScope]? = reader.choices(scopesNode, path: "report.scopes", noun: "report scope")
            if let values, !values.isEmpty {
                scopes = values
                if values.contains(.project), let estate, estate.catalogue == nil, estate.cataloguePath == nil {
                    reader.warning(
                        scopesNode, "report scope `project` has no projects to report on",
                        hint: "projects come from the estate's `catalogue:`")
                }
            } else {
                if values != nil { reader.error(scopesNode, "`report.scopes` is empty", hint: "e.g. `[repository, estate]`") }
                ok = false
            }
        }
        var model = ModelConfig(backend: .heuristic, endpoint: nil, model: nil, apiKeyEnv: nil)
        if let modelNode = fields["model"] {
            if let value = parseModel(modelNode) { model = value } else { ok = false }
        }
        var output = ReportConfig.defaultOutput
        if let outputNode = fields["output"] {
            if let value = parseTemplate(outputNode, path: "report.output") { output = value } else { ok = false }
        }
        var templates: [String: String] = [:]
        if let templatesNode = fields["templates"] {
            if let files = reader.mapping(templatesNode, path: "report.templates", allowed: ReportConfig.templateNames) {
                for name in ReportConfig.templateNames {
                    guard let fileNode = files[name] else { continue }
                    if let text = loadTemplate(fileNode, path: "report.templates.\(name)") {
                        templates[name] = text
                    } else {
                        ok = false
                    }
                }
            } else {
                ok = false
            }
        }
        return ok ? ReportConfig(scopes: scopes, model: model, output: output, templates: templates) : nil
    }

    /// A template file's text; relative paths are relative to the manifest's folder.
    mutating func loadTemplate(_ node: Node, path: String) -> String? {
        guard let file = reader.nonEmptyString(node, path: path) else { return nil }
        let folder = (reader.file as NSString).deletingLastPathComponent
        let joined = file.hasPrefix("/") || folder.isEmpty ? file : folder + "/" + file
        let display = Self.normalize(joined)
        guard let data = FileManager.default.contents(atPath: display), let text = String(data: data, encoding: .utf8) else {
            reader.error(
                node, "template file `\(file)` not found or not UTF-8 text",
                hint: "template paths are relative to the manifest's folder; looked for `\(display)`; "
                    + "the built-in templates are in the repository's `templates/` folder")
            return nil
        }
        return text
    }

    mutating func parseMetrics(_ node: Node) -> MetricsConfig? {
        guard let fields = reader.mapping(node, path: "metrics", allowed: ["path_categories"]) else { return nil }
        var config = MetricsConfig()
        guard let categoriesNode = fields["path_categories"] else { return config }
        guard
            let categories = reader.mapping(
                categoriesNode, path: "metrics.path_categories", allowed: MetricsConfig.categories)
        else { return nil }
        var ok = true
        for category in MetricsConfig.categories {
            guard let list = categories[category] else { continue }
            if let patterns = reader.strings(list, path: "metrics.path_categories.\(category)") {
                config.pathCategories[category] = patterns
            } else {
                ok = false
            }
        }
        return ok ? config : nil
    }

    mutating func parseModel(_ node: Node) -> ModelConfig? {
        guard
            let fields = reader.mapping(
                node, path: "report.model",
                allowed: [
                    "backend", "endpoint", "model", "api_key_env", "temperature", "max_tokens", "timeout_seconds",
                    "max_attempts", "max_in_flight", "price",
                ])
        else { return nil }
        guard let backendNode = reader.require(fields, "backend"),
            let backend: ModelBackend = reader.choice(backendNode, path: "report.model.backend", noun: "model backend")
        else { return nil }
        var ok = true
        var endpoint: String?
        if let endpointNode = fields["endpoint"] {
            endpoint = parseURL(endpointNode, path: "report.model.endpoint")
            ok = ok && endpoint != nil
        }
        var model: String?
        if let modelNode = fields["model"] {
            model = reader.nonEmptyString(modelNode, path: "report.model.model")
            ok = ok && model != nil
        }
        var apiKeyEnv: String?
        if let envNode = fields["api_key_env"] {
            apiKeyEnv = parseEnvName(envNode, path: "report.model.api_key_env")
            ok = ok && apiKeyEnv != nil
        }
        switch backend {
        case .openai:
            if fields["model"] == nil {
                reader.error(node, "`report.model` with backend `openai` needs `model`", hint: "e.g. `model: gpt-4.1-mini`")
                ok = false
            }
            endpoint = endpoint ?? ModelConfig.defaultEndpoint
            apiKeyEnv = apiKeyEnv ?? ModelConfig.defaultAPIKeyEnv
        case .heuristic:
            for key in ["endpoint", "model", "api_key_env"] {
                if let keyNode = fields.keys[key] {
                    reader.warning(keyNode, "`report.model.\(key)` is ignored by backend `heuristic`")
                }
            }
            endpoint = nil
            model = nil
            apiKeyEnv = nil
        }
        var config = ModelConfig(backend: backend, endpoint: endpoint, model: model, apiKeyEnv: apiKeyEnv)
        if let node = fields["temperature"] {
            if let value = reader.number(node, path: "report.model.temperature", range: 0...2) {
                config.temperature = value
            } else {
                ok = false
            }
        }
        ok =
            reader.ints(
                fields, path: "report.model",
                limits: [
                    ("max_tokens", 16...100_000, \.maxTokens), ("timeout_seconds", 1...600, \.timeoutSeconds),
                    ("max_attempts", 1...10, \.maxAttempts), ("max_in_flight", 1...64, \.maxInFlight),
                ], into: &config) && ok
        if let priceNode = fields["price"] {
            if let prices = reader.mapping(
                priceNode, path: "report.model.price",
                allowed: ["prompt_per_million", "completion_per_million"])
            {
                for (key, path) in [
                    ("prompt_per_million", \ModelPrice.prompt), ("completion_per_million", \ModelPrice.completion),
                ] {
                    guard let valueNode = prices[key] else { continue }
                    if let value = reader.number(valueNode, path: "report.model.price.\(key)", range: 0...10_000) {
                        config.price[keyPath: path] = value
                    } else {
                        ok = false
                    }
                }
            } else {
                ok = false
            }
        }
        return ok ? config : nil
    }
}
