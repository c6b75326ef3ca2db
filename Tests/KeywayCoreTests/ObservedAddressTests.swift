import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 12, attack 5: responders' BEP 42 `ip` reports must not let one operator choose the
/// endpoint a node publishes first in its own record. One vote per source /24 (or /64), only
/// from the node we asked at the endpoint we asked it, and a quorum of distinct networks.
@Suite struct ObservedAddressTests {
    let spoofed = Endpoint(address: .v4(0xcb00_714d), port: 5555)     // 203.0.113.77:5555
    let genuine = Endpoint(address: .v4(0xc612_0505), port: 6881)     // 198.18.5.5:6881

    func makeVictim(seeds: [Endpoint]) throws -> DHTNode {
        var victim = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 7, count: 32)), seed: 11, now: .zero)
        victim.bootstrap(seeds: seeds.map { DHTSeed(endpoint: $0) }, now: .zero)
        return victim
    }

    /// Answers every query the victim sends to one of `responders`, as `identity` says for that
    /// endpoint, reporting the victim at `observed`; drops the rest. Returns how many it answered.
    @discardableResult
    func answer(_ victim: inout DHTNode, responders: Set<Endpoint>, observed: Endpoint, now: Instant,
                identity: (Endpoint) -> NodeID) -> Int {
        var replies: [(Endpoint, [UInt8])] = []
        while let datagram = victim.pollTransmit() {
            guard responders.contains(datagram.endpoint), let message = try? KRPCMessage.decode(datagram.payload),
                  case .query = message.body else { continue }
            let response = KRPCResponse(id: identity(datagram.endpoint), nodes: [])
            replies.append((datagram.endpoint, KRPCMessage(transactionID: message.transactionID, body: .response(response), observedEndpoint: observed).encoded()))
        }
        for (source, reply) in replies { victim.handleDatagram(reply, from: source, now: now) }
        return replies.count
    }

    func externalEndpointEvents(_ victim: inout DHTNode) -> [Endpoint] {
        var found: [Endpoint] = []
        while let event = victim.pollEvent() {
            if case let .externalEndpointChanged(endpoint) = event { found.append(endpoint) }
        }
        return found
    }

    /// Attack 5 as filed: one fake responder answers the victim's queries, each time with a new
    /// random ID, and always reports `203.0.113.77:5555`. It is one source network: one vote.
    @Test func oneResponderWithRandomIDsCannotSteerTheExternalEndpoint() throws {
        let attacker = Endpoint(address: .v4(0xc633_6407), port: 6881)   // 198.51.100.7
        var victim = try makeVictim(seeds: [attacker])
        var generator = SeededRandom(seed: 99)
        var answered = 0
        var now = Instant.zero
        for round in 0..<8 where answered < 4 {
            now = .zero + .seconds(round)
            if round > 0 { victim.findNode(target: NodeID(bytes: generator.bytes(count: 20))!, now: now) }
            answered += answer(&victim, responders: [attacker], observed: spoofed, now: now) { _ in
                NodeID(bytes: generator.bytes(count: 20))!
            }
            victim.handleTimeout(now: now)
        }
        #expect(answered >= 4, "the victim asked the attacker too few times for the test to mean anything")
        #expect(victim.externalEndpoint == nil)
        #expect(externalEndpointEvents(&victim).isEmpty)
    }

    /// Four hosts of one /24, each a consistent node, all reporting the same lie: one vote.
    @Test func oneSlash24HoldsOneVote() throws {
        let attackers = (1...4).map { Endpoint(address: .v4(0xc633_6400 | UInt32($0)), port: 6881) }
        var victim = try makeVictim(seeds: attackers)
        let answered = answer(&victim, responders: Set(attackers), observed: spoofed, now: .zero) { endpoint in
            NodeID(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: endpoint.address.bytes.last ?? 0), count: 20))!
        }
        #expect(answered >= 4)
        #expect(victim.externalEndpoint == nil)
    }

    /// Honest responders in three networks agree: the endpoint is believed, and an attacker's
    /// one /24 that answers afterwards, however often, does not displace it.
    @Test func aQuorumOfNetworksIsBelievedAndKept() throws {
        let honest = [0xc612_0101, 0xc612_0201, 0xc612_0301].map { Endpoint(address: .v4(UInt32($0)), port: 6881) }
        var victim = try makeVictim(seeds: honest)
        answer(&victim, responders: Set(honest), observed: genuine, now: .zero) { endpoint in
            NodeID(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: endpoint.address.bytes[2]), count: 20))!
        }
        #expect(victim.externalEndpoint == genuine)
        #expect(externalEndpointEvents(&victim) == [genuine])

        let attackers = (1...8).map { Endpoint(address: .v4(0xc633_6400 | UInt32($0)), port: 6881) }
        var victim2 = victim
        victim2.bootstrap(seeds: attackers.map { DHTSeed(endpoint: $0) }, now: .seconds(1))
        answer(&victim2, responders: Set(attackers), observed: spoofed, now: .seconds(1)) { endpoint in
            NodeID(bytes: [UInt8](repeating: 0x80 | UInt8(truncatingIfNeeded: endpoint.address.bytes.last ?? 0), count: 20))!
        }
        #expect(victim2.externalEndpoint == genuine)
    }

    /// A report carried by an answer whose ID is not the one we asked at that endpoint is not a
    /// vote: another node (or a forger) answers there.
    @Test func anAnswerFromAnotherIDThanQueriedDoesNotVote() throws {
        let honest = [0xc612_0101, 0xc612_0201, 0xc612_0301].map { Endpoint(address: .v4(UInt32($0)), port: 6881) }
        var victim = try makeVictim(seeds: [])
        for (n, endpoint) in honest.enumerated() {
            victim.addContact(NodeContact(id: NodeID(bytes: [UInt8](repeating: UInt8(n + 1), count: 20))!, endpoint: endpoint), now: .zero)
        }
        victim.findNode(target: NodeID(bytes: [UInt8](repeating: 0x55, count: 20))!, now: .zero)
        answer(&victim, responders: Set(honest), observed: spoofed, now: .zero) { endpoint in
            NodeID(bytes: [UInt8](repeating: 0xf0 | UInt8(truncatingIfNeeded: endpoint.address.bytes[2]), count: 20))!
        }
        #expect(victim.externalEndpoint == nil)
    }

    /// A mesh on one host's loopback: every node is in 127.0.0.0/24, so local sources vote per
    /// endpoint (as the routing limits exempt them) and the mesh still learns its address.
    @Test func loopbackMeshStillLearnsItsEndpoint() throws {
        let local = (0..<3).map { Endpoint(address: .v4(0x7f00_0001), port: UInt16(20_000 + $0)) }
        let observed = Endpoint(address: .v4(0x7f00_0001), port: 30_000)
        var victim = try makeVictim(seeds: local)
        answer(&victim, responders: Set(local), observed: observed, now: .zero) { endpoint in
            NodeID(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: endpoint.port), count: 20))!
        }
        #expect(victim.externalEndpoint == observed)
    }
}
