import Foundation
import Testing

@testable import GitHub

/// One credential's gate holds every request below GitHub's documented secondary limits
/// ("Rate limits for the REST API", *About secondary rate limits*): concurrent requests and
/// requests per minute per API; and a secondary-limit pause holds back every request of the
/// credential.
struct GateTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func requestsInFlightAreCappedAndALeavingOneWakesTheWaiters() async throws {
        let gate = Gate(limits: TrafficLimits(inFlight: 2))
        #expect(gate.enter(.graphQL, now: start) == nil)
        #expect(gate.enter(.rest, now: start) == nil)
        #expect(gate.enter(.graphQL, now: start) == .busy)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { await gate.slotFreed() } }
            // The waiters are suspended until a slot is given back.
            try await Task.sleep(for: .milliseconds(50))
            #expect(gate.inFlight == 2)
            gate.leave()
            try await group.waitForAll()
        }
        #expect(gate.enter(.graphQL, now: start) == nil)
        #expect(gate.enter(.graphQL, now: start) == .busy)
    }

    @Test func aWaiterSeesASlotFreedBeforeItWaits() async {
        let gate = Gate(limits: TrafficLimits(inFlight: 1))
        #expect(gate.enter(.graphQL, now: start) == nil)
        #expect(gate.enter(.graphQL, now: start) == .busy)
        gate.leave()
        await gate.slotFreed()
    }

    @Test func aCancelledWaiterReturns() async {
        let gate = Gate(limits: TrafficLimits(inFlight: 1))
        #expect(gate.enter(.graphQL, now: start) == nil)
        let waiter = Task { await gate.slotFreed() }
        waiter.cancel()
        await waiter.value
        #expect(gate.inFlight == 1)
    }

    static let perMinute: [(Gate.API, Int)] = [(.graphQL, 3), (.rest, 2)]

    @Test(arguments: perMinute)
    func requestsPerRollingMinuteAreCappedPerAPI(api: Gate.API, cap: Int) {
        let gate = Gate(limits: TrafficLimits(inFlight: 10, graphQLPerMinute: 3, restPerMinute: 2))
        for second in 0..<cap {
            #expect(gate.enter(api, now: start.addingTimeInterval(Double(second))) == nil)
            gate.leave()
        }
        // Held until the first of the minute's requests is a minute old.
        #expect(gate.enter(api, now: start.addingTimeInterval(30)) == .throttled(start.addingTimeInterval(60)))
        #expect(gate.enter(api == .graphQL ? .rest : .graphQL, now: start.addingTimeInterval(30)) == nil)
        #expect(gate.enter(api, now: start.addingTimeInterval(60.5)) == nil)
    }

    @Test func aSecondaryLimitPausesEveryRequestOfTheCredential() {
        let gate = Gate(limits: TrafficLimits())
        gate.pause(until: Date().addingTimeInterval(60))
        let later = Date().addingTimeInterval(30)
        guard case .paused = gate.enter(.graphQL, now: later) else { Issue.record("GraphQL not paused"); return }
        guard case .paused = gate.enter(.rest, now: later) else { Issue.record("REST not paused"); return }
        // A shorter pause never cuts a longer one short.
        gate.pause(until: Date().addingTimeInterval(1))
        guard case .paused = gate.enter(.rest, now: later) else { Issue.record("pause shortened"); return }
        #expect(gate.enter(.rest, now: Date().addingTimeInterval(61)) == nil)
    }
}
