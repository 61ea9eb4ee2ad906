import Foundation
import JSON
import Manifest
import Pipeline
import TestSupport
import Testing

@testable import Evidence
@testable import Report

/// A repository brief from a small hand-written evidence bundle.
func sampleBrief() -> Brief {
    var humans = PopulationMetrics()
    humans.pullRequestsMerged = 12
    humans.pullRequestsClosedUnmerged = 3
    humans.openToMergeSeconds = Summary([86_400, 172_800, 172_800, 604_800])
    humans.issuesResolved = 8
    humans.issuesResolvedByReason = ["completed": 6, "not_planned": 2, "other": 0]
    humans.issuesOutstanding = 40
    humans.outstandingIssueAgeSeconds = Summary([2_592_000, 2_592_000, 10_368_000])
    var bots = PopulationMetrics()
    bots.pullRequestsMerged = 2
    func pull(_ number: Int, _ title: String, _ state: String, labels: [String] = []) -> RepositoryBundle.PullRequest {
        RepositoryBundle.PullRequest(
            number: number, title: title, state: state, author: "ada", isBot: false, isDraft: false, labels: labels,
            createdAt: "2026-11-14T00:00:00.000Z", mergedAt: nil, closedAt: nil, noise: nil, workType: .unknown)
    }
    let bundle = RepositoryBundle(
        repository: RepositoryBundle.Subject(slug: "acme/api", defaultBranch: "main", documentationPaths: [], project: nil),
        window: RepositoryBundle.Window(start: "2026-11-13T00:00:00.000Z", end: "2026-11-27T00:00:00.000Z"),
        metrics: RepositoryMetrics(
            humans: humans, bots: bots, noisePullRequests: 0, noiseIssues: 0, goneIssues: 0, commenters: []),
        commits: [],
        pullRequests: [pull(101, "Add rate limiter", "merged"), pull(102, "Refactor store", "open", labels: ["blocked"])],
        issues: [
            RepositoryBundle.Issue(
                number: 77, title: "Crash on start", state: "open", stateReason: nil, author: "ada", isBot: false,
                labels: ["bug"], createdAt: "2026-10-01T00:00:00.000Z", closedAt: nil, noise: nil, workType: .bug)
        ],
        documentationChanges: [], workTypes: [], cut: RepositoryBundle.Cut())
    return Brief.repository(bundle: bundle, previous: [], estateRepositories: ["acme/api", "acme/web"])
}

func content(_ summary: String, highlights: [String] = [], risks: [String] = []) -> ReportContent {
    ReportContent(status: .onTrack, summary: summary, highlights: highlights, risks: risks, nextSteps: [])
}

struct VerifierTests {
    @Test(arguments: [
        ("acme/api merged 12 pull requests and resolved 8 issues.", []),
        ("Median open-to-merge time was 2 days (48 hours); p90 one week.", []),
        ("Median open-to-merge time was 2.0 days, the oldest tenth of issues 120 days.", []),
        ("80% of closed pull requests were merged (12 of 15): neither is stated.", ["unsupported_number", "unsupported_number"]),
        ("75% of resolved issues were completed.", []),
        ("acme/api merged 13 pull requests.", ["unsupported_number"]),
        ("Work on #101 landed; #102 is blocked.", []),
        ("Work on #555 landed.", ["unknown_reference"]),
        ("acme/api now depends on acme/web.", ["other_repository"]),
        ("Activity on 2026-11-20 at 14:30 and in v2 of p90 in repo-003.", []),
        ("", ["empty_summary"]),
        ("The team merged a lot and then...", ["truncated_summary"]),
    ])
    func numbersReferencesAndRepositoriesMustComeFromTheEvidence(summary: String, codes: [String]) {
        let problems = Verifier.check(content(summary), brief: sampleBrief())
        #expect(problems.map(\.code) == codes, "\(problems)")
    }

    @Test func atMostFiveItemsPerList() {
        let problems = Verifier.check(
            content("acme/api is fine.", highlights: Array(repeating: "ok", count: 6)), brief: sampleBrief())
        #expect(problems.map(\.code) == ["too_many_items"])
    }

    @Test(
        arguments: [
            (#"{"status":"at_risk","summary":"s","highlights":["h"],"risks":[],"next_steps":[]}"#, nil),
            ("```json\n{\"status\":\"on-track\",\"summary\":\"s\"}\n```", nil),
            (#"Sure! {"status":"on_track","summary":"s"}"#, "invalid_json"),
            (#"{"status":"great","summary":"s"}"#, "unknown_status"),
            (#"{"status":"on_track","summary":"s","risks":"none"}"#, "bad_list"),
            ("", "invalid_json"),
        ] as [(String, String?)])
    func answersAreOneJSONObjectFencesTolerated(answer: String, problem: String?) {
        switch ReportContent.parse(answer) {
        case .success: #expect(problem == nil)
        case .failure(let problems): #expect(problems.items.first?.code == problem)
        }
    }
}

struct HeuristicTests {
    @Test func itSaysBlockedForAnOpenItemLabelledBlockedAndPassesVerification() {
        let brief = sampleBrief()
        let report = Heuristic.write(brief)
        #expect(report.status == .blocked)
        #expect(
            report.summary
                == "acme/api is blocked: 12 pull requests merged, 8 issues resolved and 40 outstanding at the window's end.")
        #expect(report.risks.first == "#102 is labelled blocked")
        #expect(report.highlights.first == "Merged #101: Add rate limiter")
        #expect(Verifier.check(report, brief: brief).isEmpty)
    }

    @Test(arguments: [
        ([Status.onTrack, .onTrack], Status.onTrack),
        ([Status.onTrack, .atRisk], Status.atRisk),
        ([Status.atRisk, .blocked, .onTrack], Status.blocked),
        ([Status.unknown, .onTrack], Status.onTrack),
        ([Status.unknown], Status.unknown),
    ])
    func aRollUpTakesTheWorstKnownStatusOfItsParts(parts: [Status], expected: Status) {
        let children = parts.enumerated().map { index, status in
            ChildReport(
                scope: .repository, subject: "acme/r\(index)", name: "acme/r\(index)", status: status,
                summary: "acme/r\(index) is fine.", risks: [], references: [])
        }
        let brief = Brief.estate(
            key: "e", windowStart: "2026-11-13T00:00:00.000Z", windowEnd: "2026-11-27T00:00:00.000Z",
            children: children,
            metrics: RepositoryMetrics(
                humans: PopulationMetrics(), bots: PopulationMetrics(), noisePullRequests: 0, noiseIssues: 0,
                goneIssues: 0, commenters: []),
            estateRepositories: Set(children.map(\.subject)))
        let report = Heuristic.write(brief)
        #expect(report.status == expected)
        #expect(Verifier.check(report, brief: brief).isEmpty, "\(Verifier.check(report, brief: brief))")
    }
}

struct TemplateTests {
    static let folder = SourceTree.url("templates")

    @Test(arguments: ["system", "brief", "markdown"])
    func theTemplatesFolderHoldsTheBuiltInTemplates(_ name: String) throws {
        let file = try String(contentsOf: Self.folder.appendingPathComponent("\(name).mustache"), encoding: .utf8)
        #expect(file == Templates.defaults[name])
    }

    @Test func theBriefTemplateRendersSectionsAsTheModelReadsThem() {
        let text = sampleBrief().text
        #expect(
            text.hasPrefix(
                "# Repository status report: acme/api\nWindow: 2026-11-13T00:00:00.000Z to 2026-11-27T00:00:00.000Z (end exclusive)\n\n## Metrics (people; bots apart)\n- Pull requests merged: 12\n"
            ))
        #expect(!text.contains("{{") && !text.contains("CONTENT_TYPE"))
    }

    @Test func aTemplateThatDoesNotParseIsAConfigurationProblem() {
        let config = ReportConfig(
            scopes: [.repository], model: ModelConfig(backend: .heuristic, endpoint: nil, model: nil, apiKeyEnv: nil),
            output: "out", templates: ["markdown": "{{#open}} never closed"])
        #expect(throws: ConfigurationProblem.self) { try Templates(config) }
    }
}
