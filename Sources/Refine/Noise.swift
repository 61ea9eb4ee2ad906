import Foundation
public import Manifest

#if canImport(Glibc)
    import Glibc
#endif

/// The noise filters that apply to one repository: the estate's, plus those of the catalogue
/// project that owns it (when enabled, dimension by dimension as its toggles say).
///
/// Matching entities are marked as noise with the reason, never dropped, so changing a
/// filter and rerunning refine needs no API call and loses nothing. Authors, labels and title
/// prefixes compare trimmed and case-insensitively; paths are globs (`*` crosses `/`).
public struct NoiseRules: Sendable, Hashable {
    public var authors: [String] = []
    public var labels: [String] = []
    public var titlePrefixes: [String] = []
    public var paths: [String] = []

    public init() {}

    public init(manifest: Manifest, repository: Repository) {
        let estate = manifest.estate.noise
        authors = estate.ignoreAuthors
        labels = estate.ignoreLabels
        titlePrefixes = estate.ignoreTitlePrefixes
        paths = estate.ignorePaths
        if let key = repository.project,
            let project = manifest.estate.catalogue?.projects.first(where: { $0.key == key }), project.noise.enabled
        {
            let noise = project.noise
            func on(_ toggle: String) -> Bool { noise.toggles[toggle] ?? true }
            if on("ignore_authors") { authors += noise.ignoreAuthors }
            if on("ignore_labels") { labels += noise.ignoreLabels }
            if on("ignore_title_prefixes") { titlePrefixes += noise.ignoreTitlePrefixes }
            if on("ignore_paths") { paths += noise.ignorePaths }
        }
        authors = Self.normalise(authors)
        labels = Self.normalise(labels)
        titlePrefixes = Self.normalise(titlePrefixes)
        var seen: Set<String> = []
        paths = paths.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    static func normalise(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// Why an entity is noise, or nil. Checked in order: author, label, title prefix. A bot's
    /// candidates include its login with and without `[bot]` (``Actor``), so `ignore_authors`
    /// matches either form.
    public func reason(authors candidates: [String?], labels entityLabels: [String] = [], title: String?) -> String? {
        for candidate in candidates.compactMap({ $0?.lowercased() }) where authors.contains(candidate) {
            return "author \(candidate)"
        }
        for label in entityLabels.map({ $0.lowercased() }) where labels.contains(label) {
            return "label \(label)"
        }
        if let title = title?.trimmingCharacters(in: .whitespaces).lowercased() {
            for prefix in titlePrefixes where title.hasPrefix(prefix) { return "title prefix \(prefix)" }
        }
        return nil
    }

    /// Why a path is noise, or nil.
    public func reason(path: String) -> String? {
        for pattern in paths where fnmatch(pattern, path, 0) == 0 { return "path \(pattern)" }
        return nil
    }
}
