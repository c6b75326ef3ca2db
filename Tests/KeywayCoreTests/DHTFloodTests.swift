import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 12, attack 8 and the egress budget: a host with thousands of source ports must not lock
/// fresh sources out of the rate limiter, and whatever asks, answers stay within a global budget
/// of bytes per second.
@Suite struct DHTFloodTests {
    func makeVictim(_ configuration: DHTConfiguration = DHTConfiguration()) throws -> DHTNode {
        DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 4, count: 32)), configuration: configuration, seed: 3, now: .zero)
    }

    func ping(_ n: Int) -> [UInt8] {
        KRPCMessage(transactionID: [UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)],
                    body: .query(.ping(id: NodeID(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: 20))!))).encoded()
    }

    /// Whether a datagram the victim sends is an answer (not a query of its own).
    func isAnswer(_ datagram: Datagram) -> Bool {
        guard let message = try? KRPCMessage.decode(datagram.payload) else { return false }
        if case .query = message.body { return false }
        return true
    }

    /// Answers the victim sends, by destination.
    func drain(_ victim: inout DHTNode) -> [Endpoint: Int] {
        var answers: [Endpoint: Int] = [:]
        while let datagram = victim.pollTransmit() { if isAnswer(datagram) { answers[datagram.endpoint, default: 0] += 1 } }
        return answers
    }

    /// 4,100 source ports of one host, each pinging every 1.3 s. Fresh sources elsewhere still
    /// get every answer, and the host as a whole is held to one source's rate.
    func floodFromPorts(of host: IPAddress, fresh: [Endpoint]) throws -> (freshAnswered: Int, flooderAnswered: Int) {
        var victim = try makeVictim()
        var flooderAnswered = 0
        var now = Instant.zero
        for round in 0..<4 {
            now = .zero + .milliseconds(1300 * round)
            for port in 0..<4100 {
                victim.handleDatagram(ping(port), from: Endpoint(address: host, port: UInt16(10_000 + port)), now: now)
            }
            flooderAnswered += drain(&victim).values.reduce(0, +)
            victim.handleTimeout(now: now)
            _ = drain(&victim)
        }
        for (n, source) in fresh.enumerated() { victim.handleDatagram(ping(n), from: source, now: now) }
        let answers = drain(&victim)
        return (fresh.reduce(0) { $0 + (answers[$1] ?? 0) }, flooderAnswered)
    }

    /// Attack 8 as filed, from a host on the internet: its ports are one /24, one bucket.
    @Test func manyPortsOfOneHostDoNotLockOutFreshSources() throws {
        let fresh = (0..<15).map { Endpoint(address: .v4(0xc612_0001 | UInt32($0 + 1) << 8), port: 6881) } // 198.18.n.1
        let result = try floodFromPorts(of: .v4(0xc633_6407), fresh: fresh)   // 198.51.100.7
        #expect(result.freshAnswered == 15)
        // One bucket: its burst plus the rate over the 3.9 s of the attack.
        let configuration = DHTConfiguration()
        #expect(Double(result.flooderAnswered) <= configuration.inboundQueryBurstPerSource + configuration.inboundQueryRatePerSource * 3.9 + 1)
    }

    /// The same from ports on loopback, where sources are counted per endpoint (one operator's
    /// mesh): the table is full, and a newcomer takes the place of the source heard from longest
    /// ago instead of being refused.
    @Test func aFullSourceTableForgetsTheLeastRecentInsteadOfRefusing() throws {
        let fresh = (0..<15).map { Endpoint(address: .v4(0x7f00_0001), port: UInt16(40_000 + $0)) }
        let result = try floodFromPorts(of: .v4(0x7f00_0001), fresh: fresh)
        #expect(result.freshAnswered == 15)
    }

    /// IPv6: one /48 is one source, whatever the addresses within it.
    @Test func oneIPv6Slash48IsOneSource() throws {
        var configuration = DHTConfiguration()
        configuration.inboundQueryRatePerSource = 10
        configuration.inboundQueryBurstPerSource = 20
        var victim = try makeVictim(configuration)
        for n in 0..<200 {
            // 2001:db8:1:n::1 — 200 different /64s of one /48.
            victim.handleDatagram(ping(n), from: Endpoint(address: .v6(high: 0x2001_0db8_0001_0000 | UInt64(n), low: 1), port: 6881), now: .zero)
        }
        #expect(drain(&victim).values.reduce(0, +) == 20)
        victim.handleDatagram(ping(1), from: Endpoint(address: .v6(high: 0x2001_0db8_0002_0000, low: 1), port: 6881), now: .zero)
        #expect(drain(&victim).values.reduce(0, +) == 1)
    }

    /// Many prefixes at once: answers stop at the egress budget, and resume as it refills.
    @Test func answersStayWithinTheEgressBudget() throws {
        var configuration = DHTConfiguration()
        configuration.egressBytesPerSecond = 10_000
        configuration.egressBurstBytes = 10_000
        var victim = try makeVictim(configuration)
        func flood(at now: Instant) -> Int {
            for n in 0..<2000 {
                let source = Endpoint(address: .v4(0xc612_0001 | UInt32(n) << 8), port: 6881)
                victim.handleDatagram(ping(n), from: source, now: now)
            }
            var bytes = 0
            while let datagram = victim.pollTransmit() { if isAnswer(datagram) { bytes += datagram.payload.count } }
            return bytes
        }
        let first = flood(at: .zero)
        #expect(first > 0 && first <= 10_000)
        #expect(victim.statistics.repliesOverEgressBudget > 0)
        let second = flood(at: .zero + .seconds(1))
        #expect(second > 0 && second <= 10_000)
    }

    /// With query limiting off (a load benchmark), the egress budget is off too.
    @Test func noBudgetWhenLimitingIsOff() throws {
        var configuration = DHTConfiguration()
        configuration.inboundQueryRatePerSource = 0
        configuration.egressBytesPerSecond = 1
        var victim = try makeVictim(configuration)
        for n in 0..<100 { victim.handleDatagram(ping(n), from: Endpoint(address: .v4(0xc612_0001), port: 6881), now: .zero) }
        #expect(drain(&victim).values.reduce(0, +) == 100)
    }
}
