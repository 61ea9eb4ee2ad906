import Foundation
import Synchronization

/// What one credential may send, shared by every unit using it: a cap on requests in flight,
/// on requests and on response time per minute per API, and a pause after a secondary rate
/// limit that holds back every request, not only the one that met it.
///
/// GitHub's secondary limits (docs: "Rate limits for the REST API", *About secondary rate
/// limits*): at most 100 concurrent requests (REST and GraphQL together); at most 2,000 points
/// a minute on the GraphQL endpoint (a query without mutations is 1 point) and 900 on REST
/// endpoints (a GET is 1); at most 60 seconds of GraphQL CPU time (estimated by response
/// time) and 90 in all per minute. The defaults stay well below each.
public struct TrafficLimits: Sendable, Hashable {
    /// Requests in flight at once, both APIs together.
    public var inFlight: Int
    /// GraphQL requests started per rolling minute.
    public var graphQLPerMinute: Int
    /// REST requests started per rolling minute.
    public var restPerMinute: Int
    /// Seconds of GraphQL response time per rolling minute.
    public var graphQLSecondsPerMinute: Double
    /// Seconds of response time per rolling minute, both APIs together.
    public var totalSecondsPerMinute: Double

    public init(inFlight: Int = 8, graphQLPerMinute: Int = 1_000, restPerMinute: Int = 450,
                graphQLSecondsPerMinute: Double = 45, totalSecondsPerMinute: Double = 70) {
        self.inFlight = inFlight
        self.graphQLPerMinute = graphQLPerMinute
        self.restPerMinute = restPerMinute
        self.graphQLSecondsPerMinute = graphQLSecondsPerMinute
        self.totalSecondsPerMinute = totalSecondsPerMinute
    }
}

/// One credential's gate (see ``TrafficLimits``).
final class Gate: Sendable {
    enum API: Sendable { case graphQL, rest }

    /// Why a request waits before it is sent.
    enum Hold: Sendable, Equatable {
        /// A secondary rate limit paused the credential until then.
        case paused(Date)
        /// A per-minute cap is reached until then.
        case throttled(Date)
        /// Every slot is in flight.
        case busy
    }

    private struct State {
        var inFlight = 0
        var pausedUntil: Date?
        /// Start times of recent requests, per API.
        var started: [API: [Date]] = [:]
        /// (end time, seconds) of recent responses, per API.
        var spent: [API: [(Date, Double)]] = [:]
    }

    let limits: TrafficLimits
    private let state = Mutex(State())

    init(limits: TrafficLimits) {
        self.limits = limits
    }

    /// Takes a slot for one request now, or says why not and until when.
    func enter(_ api: API, now: Date = Date()) -> Hold? {
        state.withLock { state in
            if let until = state.pausedUntil, until > now { return .paused(until) }
            let minuteAgo = now.addingTimeInterval(-60)
            for key in [API.graphQL, .rest] {
                state.started[key]?.removeAll { $0 <= minuteAgo }
                state.spent[key]?.removeAll { $0.0 <= minuteAgo }
            }
            let started = state.started[api] ?? []
            if started.count >= (api == .graphQL ? limits.graphQLPerMinute : limits.restPerMinute), let first = started.first {
                return .throttled(first.addingTimeInterval(60))
            }
            let own = (state.spent[api] ?? []).reduce(0) { $0 + $1.1 }
            let all = state.spent.values.joined().reduce(0) { $0 + $1.1 }
            if (api == .graphQL && own >= limits.graphQLSecondsPerMinute) || all >= limits.totalSecondsPerMinute {
                let oldest = state.spent.values.joined().map(\.0).min() ?? now
                return .throttled(oldest.addingTimeInterval(60))
            }
            guard state.inFlight < limits.inFlight else { return .busy }
            state.inFlight += 1
            state.started[api, default: []].append(now)
            return nil
        }
    }

    /// Gives the slot back, with how long the response took.
    func leave(_ api: API, seconds: Double, now: Date = Date()) {
        state.withLock { state in
            state.inFlight = max(0, state.inFlight - 1)
            state.spent[api, default: []].append((now, seconds))
        }
    }

    /// Holds every request of the credential until `until` (a secondary rate limit).
    func pause(until: Date) {
        state.withLock { state in
            if (state.pausedUntil ?? .distantPast) < until { state.pausedUntil = until }
        }
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
}
