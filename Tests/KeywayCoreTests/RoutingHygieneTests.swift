import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 12, attacks 6 and 7, as crafted datagrams against one DHT core: a node claiming an
/// honest contact's ID from other ports must not get it evicted, and one socket or one /24 with
/// many IDs must not take over the victim's own neighbourhood.
@Suite struct RoutingHygieneTests {
    let honest = Endpoint(address: .v4(0xc612_0101), port: 6881)      // 198.18.1.1
    let honestID = NodeID(bytes: [UInt8](repeating: 0x3c, count: 20))!
    let observer = Endpoint(address: .v4(0xc613_0909), port: 40_000)  // 198.19.9.9
    let observerID = NodeID(bytes: [UInt8](repeating: 0xee, count: 20))!

    /// A victim that joined through the honest node, which answered: a verified contact.
    func makeVictim() throws -> DHTNode {
        var victim = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: 32)), seed: 5, now: .zero)
        victim.bootstrap(seeds: [DHTSeed(endpoint: honest)], now: .zero)
        let answered = answerHonestQueries(&victim, now: .zero)
        #expect(answered > 0, "the victim never queried its seed")
        let contact = try #require(victim.routingTable.contact(for: honestID))
        #expect(contact.node.endpoint == honest)
        return victim
    }

    /// Answers every query the victim sends to the honest endpoint (as the honest node, with no
    /// contacts), drops everything else; returns how many it answered.
    @discardableResult
    func answerHonestQueries(_ victim: inout DHTNode, now: Instant) -> Int {
        var answered = 0
        var replies: [[UInt8]] = []
        while let datagram = victim.pollTransmit() {
            guard datagram.endpoint == honest, let message = try? KRPCMessage.decode(datagram.payload),
                  case .query = message.body else { continue }
            replies.append(KRPCMessage(transactionID: message.transactionID, body: .response(KRPCResponse(id: honestID, nodes: []))).encoded())
            answered += 1
        }
        for reply in replies { victim.handleDatagram(reply, from: honest, now: now) }
        return answered
    }

    /// Sends a query from `source` and discards the victim's answers.
    func send(_ query: KRPCQuery, from source: Endpoint, to victim: inout DHTNode, now: Instant) {
        victim.handleDatagram(KRPCMessage(transactionID: [0x01, 0x02], body: .query(query)).encoded(), from: source, now: now)
    }

    /// What the victim answers a third party's find_node for `target`. The observer first proves
    /// its address with a write token, so the answer is not cut to the amplification limit
    /// that applies to unverified sources (DHTAmplificationTests).
    func findNode(_ target: NodeID, at victim: inout DHTNode, now: Instant) throws -> [NodeContact] {
        send(.getPeers(id: observerID, infoHash: target), from: observer, to: &victim, now: now)
        var token: [UInt8]?
        while let datagram = victim.pollTransmit() {
            guard datagram.endpoint == observer, let message = try? KRPCMessage.decode(datagram.payload),
                  case let .response(response) = message.body else { continue }
            token = response.token
        }
        send(.announcePeer(id: observerID, infoHash: target, port: observer.port, impliedPort: true, token: try #require(token)), from: observer, to: &victim, now: now)
        while victim.pollTransmit() != nil {}
        send(.findNode(id: observerID, target: target), from: observer, to: &victim, now: now)
        var nodes: [NodeContact]?
        while let datagram = victim.pollTransmit() {
            guard datagram.endpoint == observer, let message = try? KRPCMessage.decode(datagram.payload),
                  case let .response(response) = message.body else { continue }
            nodes = response.nodes
        }
        return try #require(nodes)
    }

    /// An ID close to `id`: the same first 19 bytes, the last one `last`.
    func neighbour(of id: NodeID, last: UInt8) -> NodeID {
        var bytes = id.bytes
        bytes[19] = last
        return NodeID(bytes: bytes)!
    }

    /// Attack 6: pings claiming the honest contact's ID from two other ports, whose owner never
    /// answers. The victim asks the contact it holds whether it is still there, and whatever
    /// goes unanswered at the claimed endpoints is never charged to the contact that answers.
    @Test func claimingAContactsIDFromOtherPortsNeverEvictsIt() throws {
        var victim = try makeVictim()
        let attacker = Endpoint(address: .v4(0xc612_c801), port: 5000)    // 198.18.200.1
        var now = Instant.zero
        for round in 0..<30 {
            now = .zero + .seconds(round)
            for port in [attacker.port, attacker.port + 1] {
                send(.ping(id: honestID), from: Endpoint(address: attacker.address, port: port), to: &victim, now: now)
            }
            answerHonestQueries(&victim, now: now)
            victim.handleTimeout(now: now)
            answerHonestQueries(&victim, now: now)
        }
        let contact = try #require(victim.routingTable.contact(for: honestID), "the honest contact was evicted")
        #expect(contact.node.endpoint == honest)
        #expect(contact.failures == 0)
        #expect(try findNode(honestID, at: &victim, now: now).contains(NodeContact(id: honestID, endpoint: honest)))
    }

    /// Attack 6, the other half: even when the victim does query the claimed endpoints (the
    /// attacker answers nothing), the failures land on the (ID, endpoint) pair it queried.
    @Test func failuresAtAClaimedEndpointAreNotChargedToTheContact() throws {
        var victim = try makeVictim()
        let claimed = Endpoint(address: .v4(0xc612_c801), port: 5000)
        for _ in 0..<10 { victim.recordFailure(of: honestID, at: claimed, now: .zero) }
        let contact = try #require(victim.routingTable.contact(for: honestID))
        #expect(contact.failures == 0)
        #expect(contact.node.endpoint == honest)
    }

    /// Attack 7: 32 node IDs next to the victim's own, all from one UDP socket. One endpoint is
    /// one contact, so the victim's neighbourhood as it tells others holds one of them at most.
    @Test func oneSocketWithManyIDsTakesOneRoutingEntry() throws {
        var victim = try makeVictim()
        let socket = Endpoint(address: .v4(0xc612_3232), port: 7000)      // 198.18.50.50
        for n in 0..<32 {
            send(.ping(id: neighbour(of: victim.id, last: UInt8(n) ^ 0x80)), from: socket, to: &victim, now: .zero)
        }
        answerHonestQueries(&victim, now: .zero)
        let answer = try findNode(victim.id, at: &victim, now: .zero)
        #expect(answer.filter { $0.endpoint == socket }.count == 1)
        #expect(answer.contains { $0.endpoint == honest })
    }

    /// Attack 7 from a /24: 32 IDs next to the victim's, each from its own port and address of one
    /// /24, while 16 honest nodes in other /24s are known. The attacker's prefix holds at most
    /// `routingContactsPerPrefix` contacts, never a majority of the 8 closest the victim names.
    @Test func onePrefixNeverOwnsTheVictimsNeighbourhood() throws {
        var victim = try makeVictim()
        for n in 0..<16 {
            let endpoint = Endpoint(address: .v4(0xc612_0001 | UInt32(n + 2) << 8), port: 6881)
            let id = NodeID(bytes: (0..<20).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ n &* 101 &+ 1) })!
            send(.ping(id: id), from: endpoint, to: &victim, now: .zero)
        }
        let attackers = (0..<32).map { n in Endpoint(address: .v4(0xc613_6400 | UInt32(n + 1)), port: UInt16(7000 + n)) } // 198.19.100.0/24
        for (n, endpoint) in attackers.enumerated() {
            send(.ping(id: neighbour(of: victim.id, last: UInt8(n) ^ 0x80)), from: endpoint, to: &victim, now: .zero)
        }
        answerHonestQueries(&victim, now: .zero)
        let limit = DHTConfiguration().routingContactsPerPrefix
        let held = victim.routingTable.allContacts.filter { attackers.contains($0.node.endpoint) }
        #expect(!held.isEmpty, "no attacker entered at all: the test no longer measures the limit")
        #expect(held.count <= limit)
        let answer = try findNode(victim.id, at: &victim, now: .zero)
        #expect(answer.count == 8)
        #expect(answer.filter { attackers.contains($0.endpoint) }.count * 2 <= answer.count)
    }

    /// The limits are for the internet: on loopback and private networks (one operator's mesh)
    /// they are off by default, so a host or a pod network can run many nodes.
    @Test func localNetworksAreExemptFromPrefixLimits() throws {
        var victim = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: 32)), seed: 5, now: .zero)
        let local = (0..<12).map { Endpoint(address: .v4(0x7f00_0001), port: UInt16(20_000 + $0)) }
        for (n, endpoint) in local.enumerated() {
            send(.ping(id: NodeID(bytes: [UInt8](repeating: UInt8(n * 20 + 1), count: 20))!), from: endpoint, to: &victim, now: .zero)
        }
        #expect(victim.routingTable.allContacts.count == local.count)
    }
}
