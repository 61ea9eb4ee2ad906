import Foundation
import Synchronization

/// What one credential may send, shared by every unit using it: a cap on requests in flight
/// and on requests per minute per API, and a pause after a secondary rate limit that holds
/// back every request, not only the one that met it.
///
/// GitHub's secondary limits ("Rate limits for the REST API", *About secondary rate limits*):
/// at most 100 concurrent requests (REST and GraphQL together); at most 2,000 points a minute
/// on the GraphQL endpoint (a query without mutations is 1 point) and 900 on REST endpoints
/// (a GET is 1). The defaults stay well below each. GitHub also limits CPU time (60 s a minute
/// for GraphQL), which a client cannot see: GitHub suggests response time as a rough estimate,
/// but with requests in flight at once that counts network and queueing many times over and
/// held an 800-request run idle for most of a minute. A secondary limit GitHub does answer
/// pauses every request of the credential instead; fewer requests in flight
/// (`github.max_requests_in_flight`) is GitHub's own advice for staying clear of it.
public struct TrafficLimits: Sendable, Hashable {
    /// Requests in flight at once, both APIs together.
    public var inFlight: Int
    /// GraphQL requests started per rolling minute.
    public var graphQLPerMinute: Int
    /// REST requests started per rolling minute.
    public var restPerMinute: Int

    public init(inFlight: Int = 8, graphQLPerMinute: Int = 1_000, restPerMinute: Int = 450) {
        self.inFlight = inFlight
        self.graphQLPerMinute = graphQLPerMinute
        self.restPerMinute = restPerMinute
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
        /// Requests held back because every slot was in flight, woken when one leaves.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
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
            state.started[api]?.removeAll { $0 <= minuteAgo }
            let started = state.started[api] ?? []
            if started.count >= (api == .graphQL ? limits.graphQLPerMinute : limits.restPerMinute), let first = started.first {
                return .throttled(first.addingTimeInterval(60))
            }
            guard state.inFlight < limits.inFlight else { return .busy }
            state.inFlight += 1
            state.started[api, default: []].append(now)
            return nil
        }
    }

    /// Gives the slot back and wakes the requests waiting for a slot (every one: a woken request
    /// may find another reason to wait, and must not keep the slot from the others).
    func leave() {
        let woken = state.withLock { state in
            state.inFlight = max(0, state.inFlight - 1)
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once a slot may be free (a request left since ``enter(_:now:)`` said `.busy`),
    /// or the task is cancelled.
    func slotFreed() async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock `leave` takes: a slot freed before this point is seen here.
                let now = state.withLock { state in
                    if Task.isCancelled || state.inFlight < limits.inFlight { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
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
