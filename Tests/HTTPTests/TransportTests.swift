import FlyingFox
import Foundation
import HTTP
import LoopbackServer
import Synchronization
import Testing

/// What the loopback server saw: each request's method, path, body and `Authorization` header.
final class Seen: Sendable {
    struct Entry: Sendable {
        let method: String
        let path: String
        let body: String
        let authorization: String?
    }

    private let entries = Mutex<[Entry]>([])
    var all: [Entry] { entries.withLock { $0 } }

    func record(_ request: HTTPRequest) async {
        let body = String(decoding: (try? await request.bodyData) ?? Data(), as: UTF8.self)
        let entry = Entry(
            method: request.method.rawValue, path: request.path, body: body, authorization: request.headers[.authorization])
        entries.withLock { $0.append(entry) }
    }
}

func answer(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> HTTPResponse {
    var fields = HTTPHeaders()
    fields[.connection] = "close"
    for (name, value) in headers { fields[HTTPHeader(name)] = value }
    return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: "Status \(status)"), headers: fields, body: Data(body.utf8))
}

/// A handler that answers 200 `after` late, its body the request's path.
func late(_ after: Duration) -> LoopbackServer.Handler {
    { request in
        try? await Task.sleep(for: after)
        return answer(200, request.path)
    }
}

/// A loopback server with `routes` for the length of `body`; its base URL is `http://127.0.0.1:PORT`.
func withServer(
    _ routes: [(String, LoopbackServer.Handler)], _ body: (URL) async throws -> Void
) async throws {
    let server = LoopbackServer()
    let port = try await server.start(port: 0, routes: routes)
    defer { Task { await server.stop() } }
    try await body(try #require(URL(string: "http://127.0.0.1:\(port)")))
    await server.stop()
}

@Suite("HTTP transport (libcurl)")
struct TransportTests {
    /// One redirect case: where a request with a token goes, and what it becomes.
    struct RedirectCase: Sendable, CustomTestStringConvertible {
        let from: String
        let to: String
        let status: Int
        let method: String
        let keepsToken: Bool
        let becomesGet: Bool
        var testDescription: String { "\(method) \(from) → \(status) \(to)" }
    }

    static let redirectCases: [RedirectCase] = [
        // The same origin keeps its credentials; a path or query change is the same origin.
        .init(
            from: "https://api.github.com/graphql", to: "https://api.github.com/v4/graphql", status: 307, method: "POST",
            keepsToken: true, becomesGet: false),
        .init(
            from: "https://api.github.com:443/x", to: "https://api.github.com/y", status: 308, method: "GET", keepsToken: true,
            becomesGet: false),
        // Another host, another port, or a step down from https: credentials stay behind.
        .init(
            from: "https://api.github.com/graphql", to: "https://elsewhere.example/graphql", status: 307, method: "POST",
            keepsToken: false, becomesGet: false),
        .init(
            from: "https://ghe.example/api/graphql", to: "https://ghe.example:8443/api/graphql", status: 307, method: "POST",
            keepsToken: false, becomesGet: false),
        .init(
            from: "https://api.github.com/x", to: "http://api.github.com/x", status: 301, method: "GET", keepsToken: false,
            becomesGet: false),
        // 303 always, and 301/302 after a POST, become a GET without the body.
        .init(
            from: "https://api.github.com/x", to: "https://api.github.com/y", status: 303, method: "POST", keepsToken: true,
            becomesGet: true),
        .init(
            from: "https://api.github.com/x", to: "https://api.github.com/y", status: 302, method: "POST", keepsToken: true,
            becomesGet: true),
        .init(
            from: "https://api.github.com/x", to: "https://api.github.com/y", status: 307, method: "PUT", keepsToken: true,
            becomesGet: false),
    ]

    @Test(arguments: redirectCases)
    func aRedirectKeepsCredentialsOnlyWithinTheirOrigin(_ example: RedirectCase) throws {
        var request = Request(example.method, try #require(URL(string: example.from)), body: Data("{}".utf8))
        request.setHeader("Authorization", "Bearer secret")
        request.setHeader("api-key", "secret")
        request.setHeader("Content-Type", "application/json")
        request.setHeader("Accept", "application/json")
        let next = Transport.redirected(request, to: try #require(URL(string: example.to)), status: example.status)
        #expect(next.url.absoluteString == example.to)
        #expect((next.header("authorization") != nil) == example.keepsToken)
        #expect((next.header("API-KEY") != nil) == example.keepsToken)
        #expect(next.header("Accept") == "application/json")
        #expect(next.method == (example.becomesGet ? "GET" : example.method))
        #expect((next.body == nil) == example.becomesGet)
    }

    @Test func anAnswerHasItsStatusHeadersAndBodyAndTheRequestArrivesWhole() async throws {
        let seen = Seen()
        try await withServer([
            (
                "POST /echo",
                { request in
                    await seen.record(request)
                    return answer(201, "{\"ok\":true}", headers: ["X-Thing": "one", "x-ratelimit-remaining": "4999"])
                }
            )
        ]) { base in
            // A body over 1 KiB: no `Expect: 100-continue` round trip holds it back.
            let payload = String(repeating: "a", count: 4_000)
            var request = Request("POST", base.appendingPathComponent("echo"), body: Data(payload.utf8))
            request.setHeader("Authorization", "Bearer t0ken")
            let response = try await Transport.shared.send(request)
            #expect(response.status == 201)
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"ok\":true}")
            #expect(response.header("x-thing") == "one")
            #expect(response.header("X-RateLimit-Remaining") == "4999")
            let entry = try #require(seen.all.first)
            #expect(entry.method == "POST" && entry.body == payload && entry.authorization == "Bearer t0ken")
        }
    }

    /// Followed on the wire: the token reaches the same origin after a redirect, and not
    /// another host name of the same server.
    @Test func aRedirectIsFollowedAndTheTokenStaysWithItsOrigin() async throws {
        let seen = Seen()
        try await withServer([
            ("POST /old", { _ in answer(307, headers: ["Location": "/new"]) }),
            (
                "POST /new",
                { request in
                    await seen.record(request)
                    return answer(200, "same origin")
                }
            ),
            (
                "POST /away",
                { request in
                    answer(
                        307,
                        headers: ["Location": "http://localhost:\(request.headers[.host]?.split(separator: ":").last ?? "")/new"])
                }
            ),
        ]) { base in
            var request = Request("POST", base.appendingPathComponent("old"), body: Data("q".utf8))
            request.setHeader("Authorization", "Bearer t0ken")
            let response = try await Transport.shared.send(request)
            #expect(response.status == 200 && response.url.path == "/new")
            request.url = base.appendingPathComponent("away")
            let moved = try await Transport.shared.send(request)
            #expect(moved.status == 200 && moved.url.host == "localhost")
            #expect(seen.all.map(\.authorization) == ["Bearer t0ken", nil])
            #expect(seen.all.map(\.body) == ["q", "q"])
        }
    }

    @Test func aRequestPastItsTimeoutFailsAsTimedOut() async throws {
        try await withServer([("GET /slow", late(.seconds(3)))]) { base in
            let began = ContinuousClock.now
            let error = await #expect(throws: TransportError.self) {
                _ = try await Transport.shared.send(
                    Request("GET", base.appendingPathComponent("slow"), timeout: .milliseconds(300)))
            }
            #expect(error?.code == .timedOut)
            #expect(ContinuousClock.now - began < .seconds(2.5))
        }
    }

    @Test func aPortNobodyListensOnIsUnreachable() async throws {
        // A port that was just free: bind, read its number, close.
        let server = LoopbackServer()
        let port = try await server.start(port: 0, routes: [])
        await server.stop()
        let error = await #expect(throws: TransportError.self) {
            _ = try await Transport.shared.send(Request("GET", try #require(URL(string: "http://127.0.0.1:\(port)/x"))))
        }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("127.0.0.1") == true)
    }

    /// A stop (SIGTERM) cancels the unit's task: its request ends at once, not when the
    /// server answers.
    @Test func cancellingTheTaskEndsTheExchangeAtOnce() async throws {
        try await withServer([("GET /never", late(.seconds(10)))]) { base in
            let began = ContinuousClock.now
            let task = Task { try await Transport.shared.send(Request("GET", base.appendingPathComponent("never"))) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            #expect(ContinuousClock.now - began < .seconds(5))
        }
    }

    /// Many requests in flight at once all come back, each with its own answer.
    @Test func concurrentRequestsEachGetTheirOwnAnswer() async throws {
        try await withServer([("GET /n/:number", late(.milliseconds(50)))]) { base in
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for number in 0..<40 {
                    group.addTask {
                        let response = try await Transport.shared.send(Request("GET", base.appendingPathComponent("n/\(number)")))
                        return (number, String(decoding: response.body, as: UTF8.self))
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == 40)
            #expect(answers.allSatisfy { $0.value == "/n/\($0.key)" })
        }
    }
}
