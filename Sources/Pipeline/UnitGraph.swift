import Digest
public import Foundation
import JSON
public import Manifest

/// The frozen window of a run: [start, end), UTC.
public struct Window: Sendable, Hashable, Codable {
    public let start: Date
    public let end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }
}

/// The units of a run and their dependencies, built from a manifest before anything runs.
///
/// Units are stored in a topological order (a dependency always precedes its dependents), so
/// the scheduler and planner can walk the array once. A unit graph built from a validated
/// manifest cannot have cycles: stages only read from earlier stages.
public struct UnitGraph: Sendable {
    public let units: [Unit]
    let index: [UnitID: Int]
    let dependents: [[Int]]
    let dependencyIndices: [[Int]]

    init(units: [Unit]) {
        self.units = units
        var index: [UnitID: Int] = [:]
        index.reserveCapacity(units.count)
        for (position, unit) in units.enumerated() { index[unit.id] = position }
        var dependents = [[Int]](repeating: [], count: units.count)
        var dependencyIndices = [[Int]](repeating: [], count: units.count)
        for (position, unit) in units.enumerated() {
            for dependency in unit.dependencies {
                guard let upstream = index[dependency] else {
                    preconditionFailure("unit \(unit.id) depends on \(dependency), which is not in the graph")
                }
                precondition(upstream < position, "unit graph is not in topological order at \(unit.id)")
                dependents[upstream].append(position)
                dependencyIndices[position].append(upstream)
            }
        }
        self.index = index
        self.dependents = dependents
        self.dependencyIndices = dependencyIndices
    }

    public func unit(_ id: UnitID) -> Unit? { index[id].map { units[$0] } }

    public var stages: [Stage] { Array(Set(units.map(\.id.stage))).sorted() }

    /// Every unit downstream of `ids` (transitively), `ids` included.
    public func downstream(of ids: Set<UnitID>) -> Set<UnitID> {
        var marked = [Bool](repeating: false, count: units.count)
        for id in ids { if let position = index[id] { marked[position] = true } }
        for position in units.indices where marked[position] {
            for dependent in dependents[position] { marked[dependent] = true }
        }
        return Set(units.indices.filter { marked[$0] }.map { units[$0].id })
    }
}

/// Builds the unit graph of a manifest for a frozen window.
public enum GraphBuilder {
    public static func build(_ manifest: Manifest, window: Window) -> UnitGraph {
        var units: [Unit] = []
        let repositories = manifest.estate.repositories
        let windowSlice = Slice.window(window)
        // Each repository's canonical encoding, computed once and shared by its units.
        let encoded = Dictionary(repositories.map { ($0.slug, Slice.encode($0)) }, uniquingKeysWith: { first, _ in first })
        let githubSlice = Slice.encode(GitHubSlice(manifest.github))
        let noiseSlice = Slice.encode(manifest.estate.noise)
        let metricsSlice = Slice.encode(manifest.metrics)
        let respondersSlice = Slice.encode(manifest.estate.noise.ignoreResponders)
        var projectNoise: [String: String] = [:]
        for project in manifest.estate.catalogue?.projects ?? [] { projectNoise[project.key] = Slice.encode(project.noise) }

        for repo in repositories {
            units.append(
                Unit(
                    id: UnitID(.ingest, repo.slug), subject: .repository(repo), dependencies: [],
                    sliceHash: Slice.hash([
                        "repository": encoded[repo.slug] ?? "", "window": windowSlice,
                        "github": githubSlice,
                    ])))
        }
        for repo in repositories {
            units.append(
                Unit(
                    id: UnitID(.refine, repo.slug), subject: .repository(repo),
                    dependencies: [UnitID(.ingest, repo.slug)],
                    sliceHash: Slice.hash([
                        "repository": encoded[repo.slug] ?? "", "noise": noiseSlice,
                        "project_noise": repo.project.flatMap { projectNoise[$0] } ?? "",
                    ])))
        }
        for repo in repositories {
            units.append(
                Unit(
                    id: UnitID(.evidence, repo.slug), subject: .repository(repo),
                    dependencies: [UnitID(.refine, repo.slug)],
                    sliceHash: Slice.hash([
                        "repository": encoded[repo.slug] ?? "", "window": windowSlice,
                        "metrics": metricsSlice, "responders": respondersSlice,
                    ])))
        }
        // Estate metrics come from every repository's entities at once (exact percentiles,
        // not an average of averages).
        let estateEvidence = UnitID(.evidence, "estate")
        units.append(
            Unit(
                id: estateEvidence, subject: .estate, dependencies: repositories.map { UnitID(.refine, $0.slug) },
                sliceHash: Slice.hash([
                    "estate": manifest.estate.key, "window": windowSlice, "metrics": metricsSlice,
                    "responders": respondersSlice,
                    "repositories": repositories.map(\.slug).joined(separator: ","),
                ])))

        var reportIDs: [UnitID] = []
        if let report = manifest.report {
            let reportSlice = Slice.encode(report.model)
            let scopes = Set(report.scopes)
            func repoInput(_ repo: Repository) -> UnitID {
                scopes.contains(.repository) ? UnitID(.report, repo.slug) : UnitID(.evidence, repo.slug)
            }
            if scopes.contains(.repository) {
                for repo in repositories {
                    let id = UnitID(.report, repo.slug)
                    reportIDs.append(id)
                    units.append(
                        Unit(
                            id: id, subject: .repository(repo), dependencies: [UnitID(.evidence, repo.slug)],
                            sliceHash: Slice.hash([
                                "scope": "repository", "repository": encoded[repo.slug] ?? "",
                                "window": windowSlice, "model": reportSlice,
                            ])))
                }
            }
            var projectIDs: [UnitID] = []
            var covered: Set<String> = []
            if scopes.contains(.project), let catalogue = manifest.estate.catalogue {
                for project in catalogue.projects {
                    let members = repositories.filter { $0.project == project.key }
                    covered.formUnion(members.map(\.slug))
                    let id = UnitID(.report, "project:" + project.key)
                    projectIDs.append(id)
                    reportIDs.append(id)
                    units.append(
                        Unit(
                            id: id, subject: .project(project.key), dependencies: members.map(repoInput),
                            sliceHash: Slice.hash([
                                "scope": "project", "project": Slice.encode(project),
                                "window": windowSlice, "model": reportSlice,
                            ])))
                }
            }
            if scopes.contains(.estate) {
                let loose = repositories.filter { !covered.contains($0.slug) }.map(repoInput)
                let id = UnitID(.report, "estate")
                reportIDs.append(id)
                units.append(
                    Unit(
                        id: id, subject: .estate, dependencies: projectIDs + loose + [estateEvidence],
                        sliceHash: Slice.hash([
                            "scope": "estate", "estate": manifest.estate.key,
                            "window": windowSlice, "model": reportSlice,
                        ])))
            }
        }

        if let export = manifest.export {
            let refineIDs = repositories.map { UnitID(.refine, $0.slug) }
            let evidenceIDs = repositories.map { UnitID(.evidence, $0.slug) } + [estateEvidence]
            let exportSlice = [
                "path": export.path, "name": manifest.name, "window": windowSlice,
                "repositories": repositories.map(\.slug).joined(separator: ","),
            ]
            var files: [UnitID] = []
            for dataset in export.datasets {
                let dependencies: [UnitID]
                switch dataset {
                case _ where dataset.isEntity: dependencies = refineIDs
                case .repositories: dependencies = refineIDs
                case .reports, .report_accounting: dependencies = reportIDs
                case .bundle: dependencies = refineIDs + evidenceIDs + reportIDs
                default: dependencies = evidenceIDs
                }
                // The bundle is one JSON document whatever the formats.
                for format in dataset == .bundle ? [.json] : export.formats {
                    let id = UnitID(.export, dataset == .bundle ? "bundle" : "\(dataset.rawValue).\(format.rawValue)")
                    files.append(id)
                    var slice = exportSlice.merging(["dataset": dataset.rawValue, "format": format.rawValue]) { $1 }
                    // Only where it changes a file (and not at all when off, so older fingerprints hold).
                    if format == .csv && export.csvFormulaGuard { slice["csv_formula_guard"] = "on" }
                    units.append(
                        Unit(
                            id: id, subject: .export(dataset, format), dependencies: dependencies,
                            sliceHash: Slice.hash(slice)))
                }
            }
            units.append(
                Unit(
                    id: UnitID(.export, "manifest"), subject: .exportManifest, dependencies: files,
                    sliceHash: Slice.hash(exportSlice)))
        }
        return UnitGraph(units: units)
    }
}

/// The GitHub settings that change what ingest fetches (not the token's variable name).
struct GitHubSlice: Encodable {
    let endpoint: String
    let collect: [String]

    init(_ config: GitHubConfig) {
        endpoint = config.endpoint
        collect = config.collect.map(\.rawValue).sorted()
    }
}

/// Canonical encodings of manifest slices, for fingerprints.
enum Slice {
    /// A repository's slice: the same bytes `encode(_:)` gives (sorted keys, `/` unescaped),
    /// written by hand because JSONEncoder per repository dominated planning large estates.
    static func encode(_ repository: Repository) -> String {
        var out = "{"
        if let branch = repository.defaultBranch {
            out += "\"defaultBranch\":"
            FlatJSON.quote(branch, into: &out)
            out += ","
        }
        out += "\"documentationPaths\":["
        for (index, path) in repository.documentationPaths.enumerated() {
            if index > 0 { out += "," }
            FlatJSON.quote(path, into: &out)
        }
        out += "],\"name\":"
        FlatJSON.quote(repository.name, into: &out)
        out += ",\"owner\":"
        FlatJSON.quote(repository.owner, into: &out)
        if let project = repository.project {
            out += ",\"project\":"
            FlatJSON.quote(project, into: &out)
        }
        return out + "}"
    }

    /// A manifest part as sorted-key JSON; dates (none today) in the one timestamp codec's
    /// whole-second form, the bytes `.iso8601` gave, so slice hashes did not move.
    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.seconds(date))
        }
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            // Never the same text twice: a part that cannot be hashed makes its units run
            // rather than reuse an output they may not match.
            return "unencodable \(error) \(UUID().uuidString)"
        }
    }

    static func window(_ window: Window) -> String {
        "\(window.start.timeIntervalSince1970)..\(window.end.timeIntervalSince1970)"
    }

    static func hash(_ parts: [String: String]) -> String { Fingerprint.hash(parts) }
}
