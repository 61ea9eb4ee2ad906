import FlyingFox
import Foundation
import HTTP
import LoopbackServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// CPU time of this process so far (user + system), in seconds.
func processCPU() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// What a request waiting for its answer costs the client: `count` requests, `lanes` at a
/// time, each answered `latency` late by a loopback server, sent through `send`; the CPU this
/// process spent, per request (the server's share is in it too, and is the same for both).
func httpCost(
    count: Int, lanes: Int, latency: Duration, _ send: @escaping @Sendable (URL) async throws -> Void
) async throws -> (cpu: Double, wall: Double) {
    let server = LoopbackServer()
    let port = try await server.start(
        port: 0,
        routes: [
            (
                "POST /graphql",
                { _ in
                    try? await Task.sleep(for: latency)
                    var headers = HTTPHeaders()
                    headers[.connection] = "close"
                    return HTTPResponse(statusCode: .ok, headers: headers, body: Data(#"{"data":{}}"#.utf8))
                }
            )
        ])
    guard let url = URL(string: "http://127.0.0.1:\(port)/graphql") else { fail("no loopback URL") }
    let cpu = processCPU()
    let began = Date()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<lanes {
            group.addTask {
                for _ in 0..<(count / lanes) { try await send(url) }
            }
        }
        try await group.waitForAll()
    }
    let result = ((processCPU() - cpu) / Double(count), Date().timeIntervalSince(began))
    await server.stop()
    return result
}

/// The HTTP rows: libcurl through `HTTP.Transport` against FoundationNetworking's `URLSession`.
func httpRows() async throws -> [(String, String)] {
    let body = Data(#"{"query":"query { viewer { login } }"}"#.utf8)
    let transport = try await httpCost(count: 64, lanes: 8, latency: .milliseconds(150)) { url in
        _ = try await Transport.shared.send(Request("POST", url, body: body))
    }
    let session = URLSession(configuration: .ephemeral)
    let foundation = try await httpCost(count: 64, lanes: 8, latency: .milliseconds(150)) { url in
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        _ = try await session.data(for: request)
    }
    return [
        (
            "HTTP, CPU per request answered 150 ms late (64 requests, 8 in flight): HTTP.Transport (libcurl) "
                + "against URLSession",
            String(
                format: "%.2f ms against %.2f ms (%.0f × less; walls %.2f s and %.2f s)", transport.cpu * 1000,
                foundation.cpu * 1000, foundation.cpu / max(transport.cpu, 1e-6), transport.wall, foundation.wall)
        )
    ]
}
