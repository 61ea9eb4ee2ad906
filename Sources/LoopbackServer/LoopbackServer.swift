public import FlyingFox
import FlyingSocks
import Foundation
import Synchronization

/// An HTTP server on 127.0.0.1 for the fake servers of tests and the demo (test support).
///
/// One place for what every fake needs: listening on loopback only, waiting (patiently, on
/// a loaded machine) until it listens, and stopping. Handlers send `Connection: close`
/// themselves: keep-alive cost a 44 ms Nagle stall per request (measured with URLSession).
public final class LoopbackServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    private let running = Mutex<(HTTPServer, Task<Void, any Error>)?>(nil)

    public init() {}

    /// Starts listening on `port` (0 picks a free one) with `routes` (`"POST /graphql"`…);
    /// returns the port it listens on.
    public func start(port: UInt16, routes: [(String, Handler)]) async throws -> UInt16 {
        let http = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: port), logger: .disabled)
        for (route, handler) in routes {
            await http.appendRoute(HTTPRoute(stringLiteral: route)) { request in await handler(request) }
        }
        // The server's own failure (the port is taken) ends the wait at once: waiting out the
        // timeout made a taken port look like a hang, then a crash.
        let failure = Mutex<(any Error)?>(nil)
        let task = Task {
            do {
                try await http.run()
            } catch {
                failure.withLock { $0 = error }
                throw error
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while await http.listeningAddress == nil {
            if let error = failure.withLock({ $0 }) { throw ListenError(port: port, reason: "\(error)") }
            guard ContinuousClock.now < deadline else {
                task.cancel()
                throw ListenError(port: port, reason: "not listening after 60 seconds")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        guard case .ip4(_, let bound) = await http.listeningAddress else { throw URLError(.cannotConnectToHost) }
        running.withLock { $0 = (http, task) }
        return bound
    }

    /// The server could not listen: the port, and why (a port another process holds).
    public struct ListenError: Error, CustomStringConvertible {
        public let port: UInt16
        public let reason: String

        public var description: String { "cannot listen on 127.0.0.1:\(port): \(reason)" }
    }

    public func stop() async {
        guard
            let (http, task) = running.withLock({ value in
                defer { value = nil }; return value
            })
        else { return }
        await http.stop(timeout: 1)
        task.cancel()
    }
}
