import Foundation
import GitHubFake
import JSON
import ModelFake

// ghillie-devserver: a fake GitHub GraphQL API on 127.0.0.1 serving a generated estate, for
// demos and benchmarks. Not part of ghillie-run.

let usage = """
    usage: ghillie-devserver [options]

    A fake GitHub GraphQL API (and REST, for review comments) on 127.0.0.1 serving a generated
    estate, and a fake OpenAI-compatible model, for demos and benchmarks. Prints the GraphQL URL.

      --port N               where the fake GitHub listens (default 8787)
      --seed N               the estate generator's seed (default 42)
      --repositories N       how many repositories (default 8)
      --token T              the token it accepts (default devserver-token)
      --window-end DATE      the generated window's end (RFC 3339 or YYYY-MM-DD; default: last UTC midnight)
      --manifest FILE        also write a run manifest for the served estate to FILE
      --model-port N         where the fake model listens (default 8788; 0: off)
      --model-mode M         \(FakeModel.Mode.allCases.map(\.rawValue).joined(separator: ", "))
      --delay-ms N           answer every GitHub request N ms late (to watch progress, or interrupt)
      --budget N             GraphQL points per hour (default 5000, as GitHub's)
      --hostile              titles, commit messages, labels and review bodies carry hostile text
                             (markup, links, braces, bidi overrides, prompt injection; docs/reports.md)
      --mutate SEED[:RATE]   mangle answers as a broken proxy would (RATE 0.15 by default): fields
                             missing, mistyped or nulled, counts moved, bodies cut; each printed
      -h, --help             this text

    """

/// Stops with exit code 2 and the reason (a bad option or value).
func refuse(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ghillie-devserver: \(message)\n(`ghillie-devserver --help` lists the options)\n".utf8))
    exit(2)
}

/// The option's value read as `T`, or a refusal that says what the option takes.
func value<T>(_ option: String, _ text: String?, _ parse: (String) -> T?, takes: String) -> T {
    guard let text else { refuse("\(option) needs a value: \(takes)") }
    guard let parsed = parse(text) else { refuse("\(option) takes \(takes), not `\(text)`") }
    return parsed
}

var port: UInt16 = 8787
var seed: UInt64 = 42
var repositories = 8
var token = "devserver-token"
var manifestPath: String?
var modelPort: UInt16 = 8788
var modelMode = FakeModel.Mode.good
var delay = 0
var budget = 5000
var hostile = false
var mutations: Mutations?
var windowEnd = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "-h", "--help":
        FileHandle.standardOutput.write(Data(usage.utf8))
        exit(0)
    case "--hostile": hostile = true
    case "--port": port = value(argument, arguments.next(), { UInt16($0) }, takes: "a port number (0-65535)")
    case "--seed": seed = value(argument, arguments.next(), { UInt64($0) }, takes: "a number")
    case "--repositories":
        repositories = value(
            argument, arguments.next(), { Int($0).flatMap { $0 >= 1 ? $0 : nil } }, takes: "a number of 1 or more")
    case "--token": token = value(argument, arguments.next(), { $0.isEmpty ? nil : $0 }, takes: "a token")
    case "--manifest": manifestPath = value(argument, arguments.next(), { $0.isEmpty ? nil : $0 }, takes: "a file")
    case "--model-port": modelPort = value(argument, arguments.next(), { UInt16($0) }, takes: "a port number (0-65535)")
    case "--model-mode":
        modelMode = value(
            argument, arguments.next(), { FakeModel.Mode(rawValue: $0) },
            takes: "one of " + FakeModel.Mode.allCases.map(\.rawValue).joined(separator: ", "))
    case "--delay-ms":
        delay = value(argument, arguments.next(), { Int($0).flatMap { $0 >= 0 ? $0 : nil } }, takes: "milliseconds (0 or more)")
    case "--budget":
        budget = value(argument, arguments.next(), { Int($0).flatMap { $0 >= 0 ? $0 : nil } }, takes: "points (0 or more)")
    case "--mutate":
        let (seed, rate) = value(
            argument, arguments.next(),
            { text -> (UInt64, Double)? in
                let parts = text.split(separator: ":")
                guard let seed = parts.first.flatMap({ UInt64($0) }), parts.count <= 2 else { return nil }
                let rate = parts.count == 2 ? Double(parts[1]) : 0.15
                guard let rate, (0...1).contains(rate) else { return nil }
                return (seed, rate)
            }, takes: "SEED or SEED:RATE (RATE from 0 to 1)")
        mutations = Mutations(seed: seed, rate: rate) { mutation in
            FileHandle.standardError.write(Data("ghillie-devserver: mutated \(mutation)\n".utf8))
        }
    case "--window-end":
        windowEnd = value(
            argument, arguments.next(), { Timestamp.date($0) ?? Timestamp.date($0 + "T00:00:00Z") },
            takes: "an RFC 3339 time or a day (YYYY-MM-DD)")
    default:
        refuse("unknown option \(argument)")
    }
}
let generated = EstateGenerator(seed: seed, repositories: repositories, windowEnd: windowEnd).generate()
let estate = hostile ? generated.withHostileText() : generated
let fake = FakeGitHub(estate: estate, token: token, budget: budget)
if delay > 0 { fake.inject(Fault(.delay(.milliseconds(delay)), times: Int.max / 2)) }
fake.mangle(mutations)
/// A port another process holds (another devserver, say) ends the devserver at once, saying so.
func listening<T>(_ what: String, _ start: () async throws -> T) async -> T {
    do {
        return try await start()
    } catch {
        FileHandle.standardError.write(
            Data(
                "ghillie-devserver: the \(what): \(error) (another ghillie-devserver? --port and --model-port pick others)\n".utf8
            ))
        exit(1)
    }
}
let url = await listening("fake GitHub") { try await fake.start(port: port) }
var modelURL: URL?
let model = FakeModel(modes: [modelMode])
if modelPort != 0 { modelURL = await listening("fake model") { try await model.start(port: modelPort) } }
if let manifestPath {
    let text =
        "# Generated by ghillie-devserver (seed \(seed)) for the fake GitHub at \(url).\n"
        + estate.manifest(name: "devserver", endpoint: url) + "  token_env: GHILLIE_GITHUB_TOKEN\n"
    try Data(text.utf8).write(to: URL(fileURLWithPath: manifestPath))
}
FileHandle.standardError.write(
    Data(
        """
        ghillie-devserver: \(repositories) repositories (seed \(seed)\(hostile ? ", hostile text" : "")) at \(url)
        token: \(token) (a throwaway value for this fake server)
        \(modelURL.map { "fake model (\(modelMode.rawValue)) at \($0), model `fake-model`, any key" } ?? "no fake model")

        """.utf8))
FileHandle.standardOutput.write(Data("\(url)\n".utf8))
while true { try await Task.sleep(for: .seconds(3600)) }
