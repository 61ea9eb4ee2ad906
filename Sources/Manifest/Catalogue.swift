import Foundation
import Yams

/// A Ghillie-format catalogue: programmes, projects, components and their repositories.
///
/// Read as Ghillie reads it, with its validation rules, except that unknown keys are errors
/// here (Ghillie silently ignored them).
public struct Catalogue: Sendable, Hashable, Encodable {
    public let version: Int
    public let programmes: [Programme]
    public let projects: [Project]

    public struct Programme: Sendable, Hashable, Encodable {
        public let key: String
        public let name: String
        public let description: String?
        public let projects: [String]
    }

    public struct Project: Sendable, Hashable, Encodable {
        public let key: String
        public let name: String
        public let description: String?
        public let programme: String?
        public let components: [Component]
        public let noise: NoiseFilters
        public let documentationPaths: [String]
    }

    public enum ComponentType: String, Sendable, Hashable, CaseIterable, Encodable {
        case service, ui, library, dataPipeline = "data-pipeline", job, tooling, other
    }

    public enum Lifecycle: String, Sendable, Hashable, CaseIterable, Encodable {
        case planned, active, deprecated
    }

    public enum LinkKind: String, Sendable, Hashable, CaseIterable, Encodable {
        case runtime, dev, test, ops
    }

    public struct Link: Sendable, Hashable, Encodable {
        public let component: String
        public let kind: LinkKind
        public let rationale: String?
    }

    public struct Component: Sendable, Hashable, Encodable {
        public let key: String
        public let name: String
        public let type: ComponentType
        public let description: String?
        public let lifecycle: Lifecycle
        public let repository: CatalogueRepository?
        public let dependsOn: [Link]
        public let blockedBy: [Link]
        public let emitsEventsTo: [Link]
        public let notes: [String]
    }

    public struct CatalogueRepository: Sendable, Hashable, Encodable {
        public let owner: String
        public let name: String
        /// nil: the repository's default branch on GitHub (Ghillie assumed `main`).
        public let defaultBranch: String?
        public let documentationPaths: [String]
        public var slug: String { "\(owner)/\(name)" }
    }

    public struct NoiseFilters: Sendable, Hashable, Encodable {
        public var enabled = true
        public var ignoreAuthors: [String] = []
        public var ignoreLabels: [String] = []
        public var ignorePaths: [String] = []
        public var ignoreTitlePrefixes: [String] = []
        public var toggles: [String: Bool] = [:]
    }
}

/// Parses and validates a catalogue file, reporting every problem with its location.
struct CatalogueParser {
    /// `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`: 1-63 lowercase letters, digits and inner dashes.
    static func isValidKey(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
        }
    }

    /// `^[A-Za-z0-9_.-]+$`, and not `.` or `..`: a GitHub owner or repository name.
    static func isValidRepoPart(_ text: String) -> Bool {
        guard !text.isEmpty, text != ".", text != ".." else { return false }
        return text.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                || $0 == "_" || $0 == "." || $0 == "-"
        }
    }

    var reader: NodeReader

    init(file: String) {
        reader = NodeReader(file: file)
    }

    /// Parses `text`; returns the catalogue only if it has no errors.
    mutating func parse(_ text: String) -> Catalogue? {
        let root: Node
        switch YAMLFile.compose(text, file: reader.file) {
        case .failure(let failure):
            reader.diagnostics.append(failure.diagnostic)
            return nil
        case .success(let node):
            guard let node else {
                reader.diagnostics.append(
                    Diagnostic(
                        at: SourceLocation(file: reader.file, line: 1, column: 1),
                        "catalogue file is empty",
                        hint: "a catalogue needs `version: 1` and `projects:`"))
                return nil
            }
            root = node
        }
        guard let fields = reader.mapping(root, path: "the catalogue", allowed: ["version", "projects", "programmes"])
        else { return nil }
        var version = 1
        if let node = reader.require(fields, "version"), let value = reader.int(node, path: "version", range: 1...Int.max) {
            version = value
        }
        var programmes: [Catalogue.Programme] = []
        if let node = fields["programmes"], let items = reader.sequence(node, path: "programmes") {
            for (index, item) in items.enumerated() {
                if let programme = parseProgramme(item, path: "programmes[\(index)]") { programmes.append(programme) }
            }
        }
        var projects: [Catalogue.Project] = []
        var projectNodes: [String: Node] = [:]
        if let node = reader.require(fields, "projects"), let items = reader.sequence(node, path: "projects") {
            for (index, item) in items.enumerated() {
                if let project = parseProject(item, path: "projects[\(index)]") {
                    projects.append(project)
                    projectNodes[project.key] = projectNodes[project.key] ?? item
                }
            }
        }
        let before = reader.diagnostics.filter { $0.severity == .error }.count
        validate(root: root, programmes: programmes, projects: projects)
        let errors = reader.diagnostics.filter { $0.severity == .error }.count
        guard errors == 0, before == 0 else { return nil }
        return Catalogue(version: version, programmes: programmes, projects: projects)
    }

    // Nodes for references, kept to place reference errors.
    private var keyNodes: [String: Node] = [:]
    private var programmeRefs: [(project: String, programme: String, node: Node)] = []
    private var programmeProjectRefs: [(programme: String, project: String, node: Node)] = []
    private var linkRefs: [(from: String, to: String, relation: String, node: Node)] = []
    private var componentOwners: [String: [(project: String, node: Node)]] = [:]

    mutating func key(_ fields: Fields, path: String) -> String? {
        guard let node = reader.require(fields, "key"), let key = reader.string(node, path: "\(path).key") else {
            return nil
        }
        guard Self.isValidKey(key) else {
            reader.error(
                node, "`\(path).key` `\(key)` is not a valid key",
                hint: "use 1-63 lowercase letters, digits and dashes, not starting or ending with a dash")
            return nil
        }
        return key
    }

    mutating func name(_ fields: Fields, path: String, what: String) -> String? {
        guard let node = reader.require(fields, "name"), let name = reader.string(node, path: "\(path).name") else {
            return nil
        }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            reader.error(node, "\(what) is missing a name")
            return nil
        }
        return name
    }

    mutating func optionalString(_ fields: Fields, _ key: String, path: String) -> String? {
        fields[key].flatMap { reader.string($0, path: "\(path).\(key)") }
    }

    mutating func parseProgramme(_ node: Node, path: String) -> Catalogue.Programme? {
        guard let fields = reader.mapping(node, path: path, allowed: ["key", "name", "description", "projects"])
        else { return nil }
        let key = key(fields, path: path)
        let name = name(fields, path: path, what: "programme `\(key ?? path)`")
        let description = optionalString(fields, "description", path: path)
        var projects: [String] = []
        if let list = fields["projects"], let items = reader.sequence(list, path: "\(path).projects") {
            for (index, item) in items.enumerated() {
                if let project = reader.string(item, path: "\(path).projects[\(index)]") {
                    projects.append(project)
                    if let key { programmeProjectRefs.append((key, project, item)) }
                }
            }
        }
        guard let key, let name else { return nil }
        if let first = keyNodes["programme:" + key] {
            reader.error(node, "duplicate programme key `\(key)`", hint: "first defined at \(reader.location(first))")
            return nil
        }
        keyNodes["programme:" + key] = node
        return Catalogue.Programme(key: key, name: name, description: description, projects: projects)
    }

    mutating func parseProject(_ node: Node, path: String) -> Catalogue.Project? {
        let allowed = ["key", "name", "description", "programme", "components", "noise", "status", "documentation_paths"]
        guard let fields = reader.mapping(node, path: path, allowed: allowed) else { return nil }
        let key = key(fields, path: path)
        let name = name(fields, path: path, what: "project `\(key ?? path)`")
        let description = optionalString(fields, "description", path: path)
        let programme = optionalString(fields, "programme", path: path)
        if let programme, let key, let programmeNode = fields["programme"] {
            programmeRefs.append((key, programme, programmeNode))
        }
        var components: [Catalogue.Component] = []
        if let list = reader.require(fields, "components"),
            let items = reader.sequence(list, path: "\(path).components")
        {
            for (index, item) in items.enumerated() {
                if let component = parseComponent(item, path: "\(path).components[\(index)]", project: key ?? path) {
                    components.append(component)
                }
            }
        }
        let noise = fields["noise"].flatMap { parseNoise($0, path: "\(path).noise") } ?? Catalogue.NoiseFilters()
        if let status = fields["status"] {
            let flags = ["summarise_dependency_prs", "emphasise_documentation", "prefer_long_form"]
            if let statusFields = reader.mapping(status, path: "\(path).status", allowed: flags) {
                for flag in flags { if let value = statusFields[flag] { _ = reader.bool(value, path: "\(path).status.\(flag)") } }
            }
        }
        let docs =
            fields["documentation_paths"].flatMap {
                reader.strings($0, path: "\(path).documentation_paths", unique: false)
            } ?? []
        guard let key, let name else { return nil }
        if let first = keyNodes["project:" + key] {
            reader.error(node, "duplicate project key `\(key)`", hint: "first defined at \(reader.location(first))")
            return nil
        }
        keyNodes["project:" + key] = node
        return Catalogue.Project(
            key: key, name: name, description: description, programme: programme, components: components,
            noise: noise, documentationPaths: Self.dedupe(docs))
    }

    mutating func parseComponent(_ node: Node, path: String, project: String) -> Catalogue.Component? {
        let allowed = [
            "key", "name", "type", "description", "lifecycle", "repository", "depends_on", "blocked_by",
            "emits_events_to", "notes",
        ]
        guard let fields = reader.mapping(node, path: path, allowed: allowed) else { return nil }
        let key = key(fields, path: path)
        let name = name(fields, path: path, what: "component `\(key ?? path)`")
        let type: Catalogue.ComponentType? =
            fields["type"].map {
                reader.choice($0, path: "\(path).type", noun: "component type")
            } ?? .service
        let lifecycle: Catalogue.Lifecycle? =
            fields["lifecycle"].map {
                reader.choice($0, path: "\(path).lifecycle", noun: "lifecycle")
            } ?? .active
        let description = optionalString(fields, "description", path: path)
        let repository = fields["repository"].flatMap { parseRepository($0, path: "\(path).repository") }
        var links: [String: [Catalogue.Link]] = [:]
        for relation in ["depends_on", "blocked_by", "emits_events_to"] {
            guard let list = fields[relation], let items = reader.sequence(list, path: "\(path).\(relation)") else {
                continue
            }
            for (index, item) in items.enumerated() {
                if let link = parseLink(item, path: "\(path).\(relation)[\(index)]") {
                    links[relation, default: []].append(link)
                    linkRefs.append((key ?? path, link.component, relation, item))
                }
            }
        }
        let notes = fields["notes"].flatMap { reader.strings($0, path: "\(path).notes", unique: false) } ?? []
        guard let key, let name, let type, let lifecycle else { return nil }
        componentOwners[key, default: []].append((project, node))
        return Catalogue.Component(
            key: key, name: name, type: type, description: description, lifecycle: lifecycle, repository: repository,
            dependsOn: links["depends_on"] ?? [], blockedBy: links["blocked_by"] ?? [],
            emitsEventsTo: links["emits_events_to"] ?? [], notes: notes)
    }

    mutating func parseRepository(_ node: Node, path: String) -> Catalogue.CatalogueRepository? {
        guard
            let fields = reader.mapping(
                node, path: path, allowed: ["owner", "name", "default_branch", "documentation_paths"])
        else { return nil }
        var parts: [String] = []
        for part in ["owner", "name"] {
            guard let partNode = reader.require(fields, part), let value = reader.string(partNode, path: "\(path).\(part)")
            else { continue }
            guard Self.isValidRepoPart(value) else {
                reader.error(
                    partNode, "`\(path).\(part)` `\(value)` is not a valid GitHub \(part)",
                    hint: "use letters, digits, `_`, `.` and `-` only")
                continue
            }
            parts.append(value)
        }
        var branch: String?
        if let branchNode = fields["default_branch"], let value = reader.string(branchNode, path: "\(path).default_branch") {
            if value.trimmingCharacters(in: .whitespaces).isEmpty {
                reader.error(branchNode, "`\(path).default_branch` must not be blank")
            } else {
                branch = value
            }
        }
        let docs =
            fields["documentation_paths"].flatMap {
                reader.strings($0, path: "\(path).documentation_paths", unique: false)
            } ?? []
        guard parts.count == 2 else { return nil }
        return Catalogue.CatalogueRepository(
            owner: parts[0], name: parts[1], defaultBranch: branch, documentationPaths: Self.dedupe(docs))
    }

    mutating func parseLink(_ node: Node, path: String) -> Catalogue.Link? {
        guard let fields = reader.mapping(node, path: path, allowed: ["component", "kind", "rationale"]) else {
            return nil
        }
        guard let target = reader.require(fields, "component"),
            let component = reader.string(target, path: "\(path).component")
        else { return nil }
        let kind: Catalogue.LinkKind? =
            fields["kind"].map { reader.choice($0, path: "\(path).kind", noun: "link kind") }
            ?? .runtime
        let rationale = optionalString(fields, "rationale", path: path)
        guard let kind else { return nil }
        return Catalogue.Link(component: component, kind: kind, rationale: rationale)
    }

    mutating func parseNoise(_ node: Node, path: String) -> Catalogue.NoiseFilters? {
        let lists = ["ignore_authors", "ignore_labels", "ignore_paths", "ignore_title_prefixes"]
        guard let fields = reader.mapping(node, path: path, allowed: ["enabled", "toggles"] + lists) else { return nil }
        var noise = Catalogue.NoiseFilters()
        if let enabled = fields["enabled"], let value = reader.bool(enabled, path: "\(path).enabled") {
            noise.enabled = value
        }
        if let toggles = fields["toggles"], let toggleFields = reader.mapping(toggles, path: "\(path).toggles", allowed: lists) {
            for name in lists {
                if let value = toggleFields[name], let flag = reader.bool(value, path: "\(path).toggles.\(name)") {
                    noise.toggles[name] = flag
                }
            }
        }
        func list(_ name: String) -> [String] {
            fields[name].flatMap { reader.strings($0, path: "\(path).\(name)", unique: false) } ?? []
        }
        noise.ignoreAuthors = list("ignore_authors")
        noise.ignoreLabels = list("ignore_labels")
        noise.ignorePaths = list("ignore_paths")
        noise.ignoreTitlePrefixes = list("ignore_title_prefixes")
        return noise
    }

    /// Cross-references: programme ↔ project, duplicate component keys, link targets, self-edges.
    mutating func validate(root: Node, programmes: [Catalogue.Programme], projects: [Catalogue.Project]) {
        let projectKeys = Set(projects.map(\.key))
        let programmeKeys = programmes.map(\.key)
        for ref in programmeRefs where !programmeKeys.contains(ref.programme) {
            reader.error(
                ref.node, "project `\(ref.project)` names unknown programme `\(ref.programme)`",
                hint: Suggestion.hint(for: ref.programme, in: programmeKeys, noun: "declared programmes"))
        }
        for ref in programmeProjectRefs where !projectKeys.contains(ref.project) {
            reader.error(
                ref.node, "programme `\(ref.programme)` lists unknown project `\(ref.project)`",
                hint: Suggestion.hint(for: ref.project, in: projectKeys.sorted(), noun: "declared projects"))
        }
        for (key, owners) in componentOwners.sorted(by: { $0.key < $1.key }) where owners.count > 1 {
            let names = owners.map(\.project)
            let users = names.count == 2 ? "\(names[0]) and \(names[1])" : names.joined(separator: ", ")
            reader.error(
                owners[1].node, "duplicate component key `\(key)` used by projects \(users)",
                hint: "component keys must be unique across the whole catalogue")
        }
        checkCycles(relation: "blocked_by", severity: .error)
        checkCycles(relation: "depends_on", severity: .warning)
        let componentKeys = componentOwners.keys.sorted()
        for ref in linkRefs {
            if ref.from == ref.to {
                reader.error(ref.node, "component `\(ref.from)` links to itself")
            } else if componentOwners[ref.to] == nil {
                reader.error(
                    ref.node, "component `\(ref.from)` links to unknown component `\(ref.to)`",
                    hint: Suggestion.hint(for: ref.to, in: componentKeys, noun: "known components"))
            }
        }
    }

    /// Cycles among links: `blocked_by` cycles are errors (nothing in them can ever be
    /// unblocked); `depends_on` cycles are warnings (real systems have them, but they are
    /// worth a look). Each cycle is reported once, at its first link, with its path.
    mutating func checkCycles(relation: String, severity: Diagnostic.Severity) {
        var edges: [String: [(to: String, node: Node)]] = [:]
        for ref in linkRefs where ref.relation == relation && ref.from != ref.to {
            edges[ref.from, default: []].append((ref.to, ref.node))
        }
        var state: [String: Int] = [:] // 1 visiting, 2 done
        var stack: [String] = []
        var reported: Set<String> = []
        func visit(_ key: String) {
            state[key] = 1
            stack.append(key)
            for edge in edges[key] ?? [] {
                if state[edge.to] == 1, let start = stack.firstIndex(of: edge.to) {
                    let cycle = Array(stack[start...]) + [edge.to]
                    let canonical = cycle.dropLast().sorted().joined(separator: ",")
                    if reported.insert(canonical).inserted {
                        let path = cycle.map { "`\($0)`" }.joined(separator: " → ")
                        let verb = relation == "blocked_by" ? "blocked by" : "depends on"
                        let message = "components form a `\(relation)` cycle: \(path)"
                        let hint =
                            relation == "blocked_by"
                            ? "each component is \(verb) the next, so none can ever be unblocked; remove one link"
                            : "a dependency cycle is allowed, but check that it is intended"
                        if severity == .error {
                            reader.error(edge.node, message, hint: hint)
                        } else {
                            reader.warning(edge.node, message, hint: hint)
                        }
                    }
                } else if state[edge.to] == nil {
                    visit(edge.to)
                }
            }
            stack.removeLast()
            state[key] = 2
        }
        for key in edges.keys.sorted() where state[key] == nil { visit(key) }
    }

    static func dedupe(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }
}
