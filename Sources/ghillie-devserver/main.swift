import Foundation
import GitHubFake

// ghillie-devserver: a fake GitHub GraphQL API on 127.0.0.1 serving a generated estate, for
// demos and benchmarks. Not part of ghillie-run.
//
//   ghillie-devserver [--port N] [--seed N] [--repositories N] [--token T] [--window-end RFC3339]
var port: UInt16 = 8787
var seed: UInt64 = 42
var repositories = 8
var token = "devserver-token"
var windowEnd = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    let value = arguments.next() ?? ""
    switch argument {
    case "--port": port = UInt16(value) ?? port
    case "--seed": seed = UInt64(value) ?? seed
    case "--repositories": repositories = Int(value) ?? repositories
    case "--token": token = value
    case "--window-end":
        let formatter = ISO8601DateFormatter()
        windowEnd = formatter.date(from: value) ?? windowEnd
    default:
        FileHandle.standardError.write(Data("ghillie-devserver: unknown option \(argument)\n".utf8))
        exit(2)
    }
}
let estate = EstateGenerator(seed: seed, repositories: repositories, windowEnd: windowEnd).generate()
let fake = FakeGitHub(estate: estate, token: token)
let url = try await fake.start(port: port)
FileHandle.standardError.write(Data("""
    ghillie-devserver: \(repositories) repositories (seed \(seed)) at \(url)
    token: \(token) (a throwaway value for this fake server)

    """.utf8))
FileHandle.standardOutput.write(Data("\(url)\n".utf8))
while true { try await Task.sleep(for: .seconds(3600)) }
