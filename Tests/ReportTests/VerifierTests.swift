import Foundation
import JSON
import Manifest
import Pipeline
import TestSupport
import Testing

@testable import Evidence
@testable import Report

/// A repository brief from a small hand-written evidence bundle; `change` adjusts people's
/// metrics and the pull requests before the bundle is made.
func sampleBrief(
    previous: PreviousWindow? = nil, reports: [PreviousReport] = [],
    change: (inout PopulationMetrics, inout [RepositoryBundle.PullRequest]) -> Void = { _, _ in }
) -> Brief {
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
    var pulls = [
        samplePull(101, "Add rate limiter", "merged"), samplePull(102, "Refactor store", "open", labels: ["blocked"]),
        samplePull(103, "Fix 3 flaky tests", "open"),
    ]
    change(&humans, &pulls)
    var bundle = RepositoryBundle(
        repository: RepositoryBundle.Subject(slug: "acme/api", defaultBranch: "main", documentationPaths: [], project: nil),
        window: RepositoryBundle.Window(start: "2026-11-13T00:00:00.000Z", end: "2026-11-27T00:00:00.000Z"),
        metrics: RepositoryMetrics(
            humans: humans, bots: bots, noisePullRequests: 0, noiseIssues: 0, goneIssues: 0, commenters: [],
            previous: previous),
        commits: [], pullRequests: pulls,
        issues: [
            RepositoryBundle.Issue(
                number: 77, title: "Crash on start", state: "open", stateReason: nil, author: "ada", isBot: false,
                labels: ["bug"], createdAt: "2026-07-30T00:00:00.000Z", closedAt: nil, noise: nil, workType: .bug)
        ],
        documentationChanges: [], workTypes: [], cut: RepositoryBundle.Cut())
    bundle.oldestOutstandingIssues = [
        RepositoryBundle.Aged(number: 77, title: "Crash on start", createdAt: "2026-07-30T00:00:00.000Z", ageSeconds: 10_368_000)
    ]
    return Brief.repository(bundle: bundle, previous: reports, estateRepositories: ["acme/api", "acme/web"])
}

func samplePull(
    _ number: Int, _ title: String, _ state: String, labels: [String] = [], bot: Bool = false, type: WorkType = .unknown
) -> RepositoryBundle.PullRequest {
    RepositoryBundle.PullRequest(
        number: number, title: title, state: state, author: bot ? "dependabot" : "ada", isBot: bot, isDraft: false,
        labels: labels, createdAt: "2026-11-14T00:00:00.000Z", mergedAt: nil, closedAt: nil, noise: nil, workType: type)
}

/// An answer with the status the sample brief's rules decide (#102 is open and labelled
/// blocked), and the risk that says why.
func content(
    _ summary: String, highlights: [String] = [], risks: [String] = ["#102 is labelled blocked"], status: Status = .blocked
)
    -> ReportContent
{
    ReportContent(status: status, summary: summary, highlights: highlights, risks: risks, nextSteps: [])
}

struct VerifierTests {
    /// Issue #15, item 0: a number is written as the key of the fact it states; a typed number
    /// is rejected even when it occurs in the evidence, because nothing binds it to its fact.
    @Test(arguments: [
        ("acme/api landed {pull_requests_merged} and {issues_resolved}.", []),
        ("Open-to-merge time: {open_to_merge_median}, {open_to_merge_p90}.", []),
        ("acme/api merged 12 pull requests.", ["typed_number"]),
        ("Pull requests merged: 40; Issues resolved: 12.", ["typed_number", "typed_number"]),
        ("acme/api merged twelve pull requests.", ["typed_number"]),
        // The phrasings a model uses: each typed number is rejected, whatever its words.
        ("acme/api merged 12 PRs.", ["typed_number"]),
        ("12 merged, 8 resolved.", ["typed_number", "typed_number"]),
        ("PRs merged: 12", ["typed_number"]),
        ("Twelve pull requests were merged.", ["typed_number"]),
        ("A dozen pull requests were merged.", ["typed_number"]),
        ("75% of resolved issues were completed.", ["typed_number"]),
        ("{pull_requests_open} are waiting.", ["unknown_fact"]),
        ("#103 “Fix 3 flaky tests” is still open.", []),
        ("#103 Fix 3 flaky tests is still open.", ["typed_number"]),
        ("3 flaky tests remain.", ["typed_number"]),
        ("Work on #101 landed; #102 is blocked.", []),
        ("Work on #555 landed.", ["unknown_reference"]),
        ("acme/api now depends on acme/web.", ["other_repository"]),
        ("Activity on 2026-11-20 at 14:30 and in v2 of p90 in repo-003.", []),
        ("", ["empty_summary"]),
        ("The team merged a lot and then...", ["truncated_summary"]),
    ])
    func numbersAreFactKeysAndReferencesAndRepositoriesComeFromTheEvidence(summary: String, codes: [String]) {
        let problems = Verifier.check(content(summary), brief: sampleBrief())
        #expect(problems.map(\.code) == codes, "\(problems)")
    }

    @Test func aTypedNumberIsAnsweredWithTheKeysThatHoldIt() {
        let problems = Verifier.check(content("Pull requests merged: 40."), brief: sampleBrief())
        #expect(problems.count == 1)
        #expect(
            problems.first?.message.hasSuffix("this value is {issues_outstanding} (40 outstanding issues opened by people)")
                == true)
    }

    /// A key in a sentence about another fact still fills in with its own words, so the report
    /// never shows a number under the wrong name.
    @Test func aFilledNumberCarriesTheWordsOfItsOwnFact() {
        let brief = sampleBrief()
        let answer = content("Pull requests merged: {issues_resolved}; outstanding: {issues_outstanding}.")
        #expect(Verifier.check(answer, brief: brief).isEmpty)
        #expect(
            answer.filled(by: brief).summary
                == "Pull requests merged: 8 resolved issues opened by people; outstanding: 40 outstanding issues opened by people."
        )
    }

    @Test func everyFactABriefOffersHasWordsAndTheBriefShowsIt() throws {
        let brief = sampleBrief()
        #expect(brief.sheet.facts.count >= 12)
        for fact in brief.sheet.facts {
            let base = fact.key.split(separator: ".").last.map(String.init) ?? fact.key
            #expect(FactSheet.wordings[base] != nil, "\(fact.key)")
            #expect(brief.text.contains("- {\(fact.key)} = \(fact.phrase)\n"))
        }
        #expect(
            brief.sheet["open_to_merge_median"]?.phrase == "a median open-to-merge time of 2.0 days for people's pull requests")
        #expect(brief.sheet["pull_requests_merged"]?.phrase == "12 merged pull requests by people")
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

/// Issue #15, item 2: previous values and changes are facts like any other, with words that
/// name them; a direction the answer types must be filled in and agree.
struct DeltaTests {
    /// The window before the sample's: 8 merged (now 12), 40 outstanding (now 40), 3 resolved
    /// (now 8), median open-to-merge 3 days (now 2).
    static func previous() -> PreviousWindow {
        var humans = PopulationMetrics()
        humans.pullRequestsMerged = 8
        humans.issuesResolved = 3
        humans.issuesOutstanding = 40
        humans.pullRequestsClosedUnmerged = 5
        humans.openToMergeSeconds = Summary([259_200])
        return PreviousWindow(
            start: "2026-10-30T00:00:00.000Z", end: "2026-11-13T00:00:00.000Z", humans: humans, bots: PopulationMetrics())
    }

    @Test(arguments: [
        ("pull_requests_merged:previous", "8 merged pull requests by people in the previous window"),
        ("pull_requests_merged:change", "up 4 from 8 merged pull requests by people in the previous window"),
        (
            "pull_requests_closed_unmerged:change",
            "down 2 from 5 pull requests by people closed without merging in the previous window"
        ),
        ("issues_outstanding:change", "unchanged from 40 outstanding issues opened by people in the previous window"),
        (
            "open_to_merge_median:change",
            "down 1.0 days from a median open-to-merge time of 3.0 days for people's pull requests in the previous window"
        ),
    ])
    func changesAreHandComputedAndNameTheirFact(key: String, phrase: String) {
        #expect(sampleBrief(previous: Self.previous()).sheet[key]?.phrase == phrase)
    }

    @Test(arguments: [
        ("Merged pull requests rose: {pull_requests_merged:change}.", []),
        ("Outstanding issues fell: {issues_outstanding:change}.", ["wrong_direction"]),
        ("Open-to-merge time increased: {open_to_merge_median:change}.", ["wrong_direction"]),
        ("Merged pull requests rose this window.", ["typed_change"]),
        ("Last time: {pull_requests_merged:previous}.", []),
        ("Last time there were 8 merged pull requests.", ["typed_number"]),
    ])
    func directionsMustBeFilledInAndAgree(summary: String, codes: [String]) {
        let problems = Verifier.check(content(summary), brief: sampleBrief(previous: Self.previous()))
        #expect(problems.map(\.code) == codes, "\(problems)")
    }

    @Test func withoutAPreviousWindowTheBriefSaysSoAndOffersNoPreviousFacts() {
        let brief = sampleBrief()
        #expect(brief.text.contains("- No previous window: the store does not hold all of the window before this one\n"))
        #expect(!brief.sheet.facts.contains { $0.key.contains(":") })
        let problems = Verifier.check(content("Last time: {pull_requests_merged:previous}."), brief: brief)
        #expect(problems.map(\.code) == ["unknown_fact"])
    }

    @Test func theHeuristicStatesChangesThatMatter() {
        let brief = sampleBrief(previous: Self.previous())
        let report = Heuristic.write(brief)
        #expect(Verifier.check(report, brief: brief).isEmpty, "\(Verifier.check(report, brief: brief))")
        #expect(
            report.filled(by: brief).highlights.contains(
                "Merged pull requests are up 4 from 8 merged pull requests by people in the previous window"))
    }
}

/// Issue #15, item 3: the previous report's risks carry over as ongoing or are said to be
/// resolved, once.
struct ContinuityTests {
    static func report(risks: [String]) -> PreviousReport {
        PreviousReport(
            window: "2026-10-30 to 2026-11-13", status: "blocked", summary: "acme/api was blocked.", highlights: [],
            risks: risks, nextSteps: [])
    }

    @Test func aRiskStillPresentIsOngoingAndOneThatWentIsResolvedOnce() {
        let brief = sampleBrief(
            reports: [
                Self.report(risks: [
                    "#102 is labelled blocked", "#101 is labelled blocked",
                    "Oldest outstanding issues: #77 open for 100.0 days",
                ])
            ])
        let report = Heuristic.write(brief)
        #expect(Verifier.check(report, brief: brief).isEmpty, "\(Verifier.check(report, brief: brief))")
        #expect(
            report.filled(by: brief).risks == [
                "(Ongoing) #102 is labelled blocked",
                "(Ongoing) Oldest outstanding issues: #77 open for 120.0 days",
                "Resolved since the previous report: #101 is labelled blocked",
            ])
    }

    @Test func aRiskReportedResolvedIsNotCarriedAgain() {
        let brief = sampleBrief(reports: [Self.report(risks: ["Resolved since the previous report: #101 is labelled blocked"])])
        let report = Heuristic.write(brief)
        #expect(!report.risks.contains { $0.contains("#101") })
        #expect(report.risks.first == "#102 is labelled blocked")
    }

    @Test func theBriefShowsThePreviousReportsAndSaysWhenThereIsNone() {
        #expect(sampleBrief().text.contains("- None: this is the first report of its scope in the store\n"))
        let text = sampleBrief(reports: [Self.report(risks: ["#77 is labelled blocked"])]).text
        #expect(text.contains("- 2026-10-30 to 2026-11-13: blocked — acme/api was blocked.\n"))
        #expect(text.contains("-   2026-10-30 to 2026-11-13 risk: #77 is labelled blocked\n"))
    }
}

struct HeuristicTests {
    enum Case: String, CaseIterable {
        case steady, noneResolvedWhileAgeing, backlogGrowsAndAges, mergeTimeDoubled, featureWorkWithABotBump
    }

    /// Issue #15, item 5: each status rule of docs/reports.md, and the risk that says why.
    @Test(
        arguments: [
            (Case.steady, Status.onTrack, nil),
            (
                Case.noneResolvedWhileAgeing, Status.atRisk,
                "No issue was resolved while the backlog ages, with a 90th-percentile outstanding-issue age of 120.0 days "
                    + "for issues opened by people"
            ),
            (
                Case.backlogGrowsAndAges, Status.atRisk,
                "The backlog grows and ages: up 10 from 30 outstanding issues opened by people in the previous window, "
                    + "with a 90th-percentile outstanding-issue age of 120.0 days for issues opened by people"
            ),
            (
                Case.mergeTimeDoubled, Status.atRisk,
                "Pull requests take at least twice as long to merge: up 1.0 days from a median open-to-merge time of "
                    + "1.0 days for people's pull requests in the previous window"
            ),
            (Case.featureWorkWithABotBump, Status.onTrack, nil),
        ] as [(Case, Status, String?)])
    func statusFollowsTheDocumentedRules(example: Case, status: Status, risk: String?) {
        var previous: PreviousWindow?
        if example == .backlogGrowsAndAges || example == .mergeTimeDoubled {
            var before = PopulationMetrics()
            before.pullRequestsMerged = 12
            before.issuesResolved = 8
            before.issuesOutstanding = example == .backlogGrowsAndAges ? 30 : 40
            before.openToMergeSeconds = Summary([example == .mergeTimeDoubled ? 86_400 : 172_800])
            previous = PreviousWindow(
                start: "2026-10-30T00:00:00.000Z", end: "2026-11-13T00:00:00.000Z", humans: before,
                bots: PopulationMetrics())
        }
        let brief = sampleBrief(previous: previous) { humans, pulls in
            pulls = [samplePull(101, "Add rate limiter", "merged", type: .feature)]
            if example == .noneResolvedWhileAgeing { humans.issuesResolved = 0 }
            if example == .featureWorkWithABotBump {
                pulls.insert(samplePull(104, "Bump yams from 6.1 to 6.2", "merged", bot: true, type: .chore), at: 0)
            }
        }
        let report = Heuristic.write(brief)
        #expect(Verifier.check(report, brief: brief).isEmpty, "\(Verifier.check(report, brief: brief))")
        #expect(report.status == status)
        let filled = report.filled(by: brief)
        if let risk { #expect(filled.risks.contains(risk), "\(filled.risks)") }
        // A bot's work is never a highlight; it is one sentence of the summary.
        #expect(filled.highlights.first == "Features: #101 “Add rate limiter”")
        #expect(!filled.highlights.joined().contains("#104"))
        #expect(filled.summary.hasSuffix(" Bots: 2 bot pull requests merged."))
    }

    @Test func itSaysBlockedForAnOpenItemLabelledBlockedAndPassesVerification() {
        let brief = sampleBrief()
        let report = Heuristic.write(brief)
        #expect(report.status == .blocked)
        #expect(
            report.filled(by: brief).summary
                == "acme/api is blocked: 12 merged pull requests by people, 8 resolved issues opened by people and "
                + "40 outstanding issues opened by people at the window's end."
                + " Bots: 2 bot pull requests merged.")
        #expect(report.risks.first == "#102 is labelled blocked")
        #expect(report.highlights.first == "Other work: #101 “Add rate limiter”")
        #expect(report.nextSteps == ["Unblock #102", "Triage the oldest outstanding issues: #77"])
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
                "# Repository status report: acme/api\nWindow: 2026-11-13T00:00:00.000Z to 2026-11-27T00:00:00.000Z (end exclusive)\n\n## Facts (write a number only as its {key}; it is filled in with the words shown)\n"
                    + "- {pull_requests_merged} = 12 merged pull requests by people\n"
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
