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
        answer(&victim, responders: responders, observedBy: { _ in observed }, now: now, identity: identity)
    }

    /// As ``answer(_:responders:observed:now:identity:)``, each responder reporting the victim
    /// where `observedBy` says it sees it.
    @discardableResult
    func answer(_ victim: inout DHTNode, responders: Set<Endpoint>, observedBy: (Endpoint) -> Endpoint, now: Instant,
                identity: (Endpoint) -> NodeID) -> Int {
        var replies: [(Endpoint, [UInt8])] = []
        while let datagram = victim.pollTransmit() {
            guard responders.contains(datagram.endpoint), let message = try? KRPCMessage.decode(datagram.payload),
                  case .query = message.body else { continue }
            let response = KRPCResponse(id: identity(datagram.endpoint), nodes: [])
            let reply = KRPCMessage(transactionID: message.transactionID, body: .response(response), observedEndpoint: observedBy(datagram.endpoint))
            replies.append((datagram.endpoint, reply.encoded()))
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

/// Issue 12, item 4: the believed external endpoint is published only on evidence that peers can
/// reach the node there unasked: a query (or an authenticated handshake initiation) from a source
/// the node had not sent to within the NAT-mapping window, or the socket being bound there.
@Suite struct ObservedAddressEvidenceTests {
    let fake = ObservedAddressTests()
    /// Three fake responders in three /24s: enough for the quorum.
    let quorum = [0xc633_6401, 0xc633_6501, 0xc633_6601].map { Endpoint(address: .v4(UInt32($0)), port: 6881) }
    let claimed = Endpoint(address: .v4(0xcb00_714d), port: 5555)   // 203.0.113.77:5555
    let fresh = Endpoint(address: .v4(0xc612_0909), port: 6881)     // 198.18.9.9, never contacted

    /// A victim whose queries the quorum answered, all reporting `claimed`.
    func believing(configuration: DHTConfiguration = DHTConfiguration(), localEndpoints: [Endpoint] = []) throws -> DHTNode {
        var victim = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 7, count: 32)), configuration: configuration, seed: 11, now: .zero)
        victim.setLocalEndpoints(localEndpoints)
        victim.bootstrap(seeds: quorum.map { DHTSeed(endpoint: $0) }, now: .zero)
        fake.answer(&victim, responders: Set(quorum), observed: claimed, now: .zero) { endpoint in
            NodeID(bytes: [UInt8](repeating: endpoint.address.bytes[1], count: 20))!
        }
        return victim
    }

    static func ping(from number: UInt8) -> [UInt8] {
        let sender = NodeID(bytes: [UInt8](repeating: number, count: 20))!
        return KRPCMessage(transactionID: [number, 1], body: .query(.ping(id: sender))).encoded()
    }

    static func confirmations(_ node: inout DHTNode) -> [DHTEvent] {
        var found: [DHTEvent] = []
        while let event = node.pollEvent() {
            if case .externalEndpointConfirmed = event { found.append(event) }
        }
        return found
    }

    @Test func aFakeQuorumAloneDoesNotGetItsEndpointPublished() throws {
        var victim = try believing()
        #expect(victim.externalEndpoint == claimed, "the quorum did not form: the test means nothing")
        #expect(victim.confirmedExternalEndpoint == nil)
        #expect(Self.confirmations(&victim).isEmpty)
        // Their answers keep coming (more lookups), still answers only.
        victim.findNode(target: NodeID(bytes: [UInt8](repeating: 0x42, count: 20))!, now: .seconds(1))
        fake.answer(&victim, responders: Set(quorum), observed: claimed, now: .seconds(1)) { endpoint in
            NodeID(bytes: [UInt8](repeating: endpoint.address.bytes[1], count: 20))!
        }
        #expect(victim.confirmedExternalEndpoint == nil)
    }

    @Test func anUnsolicitedQueryFromAFreshSourceConfirmsIt() throws {
        var victim = try believing()
        _ = Self.confirmations(&victim)
        victim.handleDatagram(Self.ping(from: 9), from: fresh, now: .seconds(2))
        #expect(victim.confirmedExternalEndpoint == claimed)
        #expect(Self.confirmations(&victim) == [.externalEndpointConfirmed(claimed, evidence: .unsolicitedQuery(from: fresh))])
        // Answering it is a send like any other: it does not confirm twice.
        victim.handleDatagram(Self.ping(from: 10), from: Endpoint(address: .v4(0xc612_0a0a), port: 1), now: .seconds(3))
        #expect(Self.confirmations(&victim).isEmpty)
    }

    @Test func aQueryFromSomeoneWeQueriedDoesNotCountUntilTheWindowPassed() throws {
        var victim = try believing()
        // A responder we queried queries us back, from its endpoint and from another port of
        // its address (a NAT that filters by address lets both in).
        victim.handleDatagram(Self.ping(from: 1), from: quorum[0], now: .seconds(1))
        victim.handleDatagram(Self.ping(from: 2), from: Endpoint(address: quorum[1].address, port: 40_000), now: .seconds(1))
        #expect(victim.confirmedExternalEndpoint == nil)
        // Once the mapping our queries opened may have lapsed (nothing sent there since), the
        // same source's query got in unasked.
        let later = Instant.zero + DHTConfiguration().reachabilityEvidenceWindow * 2 + .seconds(1)
        while victim.pollTransmit() != nil {}
        victim.handleDatagram(Self.ping(from: 1), from: quorum[0], now: later)
        #expect(victim.confirmedExternalEndpoint == claimed)
    }

    @Test func aLocalNetworkSourceDoesNotConfirmAnInternetEndpoint() throws {
        var victim = try believing()
        victim.handleDatagram(Self.ping(from: 3), from: Endpoint(address: .v4(0xc0a8_0105), port: 6881), now: .seconds(1))   // 192.168.1.5
        victim.handleDatagram(Self.ping(from: 4), from: Endpoint(address: .v6(high: 0x2001_0db8 << 32, low: 1), port: 6881), now: .seconds(1))
        #expect(victim.confirmedExternalEndpoint == nil)
    }

    @Test func aBoundEndpointEqualToTheObservedOneIsConfirmedAtOnce() throws {
        var victim = try believing(localEndpoints: [claimed])
        #expect(victim.confirmedExternalEndpoint == claimed)
        #expect(Self.confirmations(&victim) == [.externalEndpointConfirmed(claimed, evidence: .localEndpoint)])
        var other = try believing(localEndpoints: [Endpoint(address: claimed.address, port: 6000)])
        #expect(other.confirmedExternalEndpoint == nil)
        other.setLocalEndpoints([claimed])
        #expect(other.confirmedExternalEndpoint == claimed)
    }

    @Test func aNewBelievedEndpointStartsOver() throws {
        var victim = try believing()
        victim.handleDatagram(Self.ping(from: 9), from: fresh, now: .seconds(1))
        #expect(victim.confirmedExternalEndpoint == claimed)
        // The NAT maps us elsewhere now: a quorum reports the new endpoint.
        let moved = Endpoint(address: claimed.address, port: 6000)
        victim.findNode(target: NodeID(bytes: [UInt8](repeating: 0x42, count: 20))!, now: .seconds(2))
        victim.bootstrap(seeds: quorum.map { DHTSeed(endpoint: $0) }, now: .seconds(2))
        fake.answer(&victim, responders: Set(quorum), observed: moved, now: .seconds(2)) { endpoint in
            NodeID(bytes: [UInt8](repeating: endpoint.address.bytes[1], count: 20))!
        }
        #expect(victim.externalEndpoint == moved)
        #expect(victim.confirmedExternalEndpoint == nil)
        // The old evidence's source was answered since: it no longer counts; a new one does.
        victim.handleDatagram(Self.ping(from: 9), from: fresh, now: .seconds(3))
        #expect(victim.confirmedExternalEndpoint == nil)
        let another = Endpoint(address: .v4(0xc612_0b0b), port: 6881)
        victim.handleDatagram(Self.ping(from: 11), from: another, now: .seconds(3))
        #expect(victim.confirmedExternalEndpoint == moved)
    }

    @Test func withoutTheRequirementTheQuorumIsEnough() throws {
        var configuration = DHTConfiguration()
        configuration.requireReachabilityEvidence = false
        let victim = try believing(configuration: configuration)
        #expect(victim.confirmedExternalEndpoint == claimed)
    }

    /// The destinations table is bounded: more distinct destinations than its limit keep it at
    /// twice the limit, and the oldest are forgotten first.
    @Test func recentDestinationsAreBounded() {
        var configuration = DHTConfiguration()
        configuration.recentDestinationLimit = 16
        var table = RecentDestinations(configuration: configuration, now: .zero)
        for n in 0..<1000 { table.record(Endpoint(address: .v4(0xc612_0000 | UInt32(n)), port: 1), now: .zero) }
        #expect(table.count <= 32)
        #expect(table.contains(Endpoint(address: .v4(0xc612_0000 | 999), port: 2), now: .zero))
        #expect(!table.contains(Endpoint(address: .v4(0xc612_0000), port: 1), now: .zero))
        // Per address, never per port; per endpoint on loopback.
        table.record(Endpoint(address: .v4(0x7f00_0001), port: 1000), now: .zero)
        #expect(table.contains(Endpoint(address: .v4(0x7f00_0001), port: 1000), now: .zero))
        #expect(!table.contains(Endpoint(address: .v4(0x7f00_0001), port: 1001), now: .zero))
    }

    /// The destinations are remembered by 64-bit fingerprints: every IPv4 prefix and endpoint,
    /// and each of many IPv6 prefixes and local endpoints, is told apart from every other one,
    /// and a destination sent to is found again.
    @Test func recentDestinationsTellDestinationsApart() {
        var configuration = DHTConfiguration()
        configuration.recentDestinationLimit = 1 << 16
        var table = RecentDestinations(configuration: configuration, now: .zero)
        var destinations: [Endpoint] = []
        for n in UInt32(0)..<2000 {
            destinations.append(Endpoint(address: .v4(0xc612_0000 &+ n), port: 1))
            destinations.append(Endpoint(address: .v6(high: 0x2001_0db8_0000_0000 | UInt64(n), low: 0), port: 1))
            destinations.append(Endpoint(address: .v4(0x7f00_0001), port: UInt16(1000 + n)))
            destinations.append(Endpoint(address: .v6(high: 0, low: 1), port: UInt16(1000 + n)))
        }
        let fingerprints = Set(destinations.map { RecentDestinations.fingerprint(of: table.destination(for: $0)) })
        #expect(fingerprints.count == destinations.count)
        for endpoint in destinations where endpoint.port != 1 || endpoint.address.isIPv4 {
            table.record(endpoint, now: .zero)
        }
        for endpoint in destinations {
            let sent = endpoint.port != 1 || endpoint.address.isIPv4
            #expect(table.contains(endpoint, now: .zero) == sent)
        }
        // An IPv4 address and an IPv6 one never share a fingerprint, whatever their bits.
        #expect(RecentDestinations.fingerprint(of: .prefix(AddressPrefix(.v4(5), ipv4Bits: 32, ipv6Bits: 64)))
            != RecentDestinations.fingerprint(of: .prefix(AddressPrefix(.v6(high: 0, low: 5), ipv4Bits: 32, ipv6Bits: 128))))
    }

    /// Through the whole core: a transport handshake initiation from a peer never contacted
    /// confirms the endpoint; one from a peer this node had just queried does not.
    @Test func anUnsolicitedHandshakeConfirmsAndASolicitedOneDoesNot() throws {
        func victimCore() throws -> KeywayNodeCore {
            var core = KeywayNodeCore(identity: TransportFixtures.identity(1), seed: 5, now: .zero)
            core.withDHT(now: .zero) { $0.bootstrap(seeds: quorum.map { DHTSeed(endpoint: $0) }, now: .zero) }
            var replies: [(Endpoint, [UInt8])] = []
            while let datagram = core.pollTransmit() {
                guard let message = try? KRPCMessage.decode(datagram.payload), case .query = message.body else { continue }
                let response = KRPCResponse(id: NodeID(bytes: [UInt8](repeating: datagram.endpoint.address.bytes[1], count: 20))!, nodes: [])
                replies.append((datagram.endpoint, KRPCMessage(transactionID: message.transactionID, body: .response(response), observedEndpoint: claimed).encoded()))
            }
            for (source, reply) in replies { core.handleDatagram(reply, from: source, now: .zero) }
            return core
        }
        func initiation(to victim: Ed25519.PublicKey) -> [UInt8] {
            var initiator = SessionManager(identity: TransportFixtures.identity(2), seed: 9, now: .zero)
            initiator.connect(to: victim, at: [Endpoint(address: .v4(0xc612_0101), port: 7000)], now: .seconds(1))
            return initiator.pollTransmit()!.payload
        }
        let victimKey = TransportFixtures.identity(1).publicKey
        var unsolicited = try victimCore()
        #expect(unsolicited.dht.externalEndpoint == claimed)
        unsolicited.handleDatagram(initiation(to: victimKey), from: fresh, now: .seconds(1))
        #expect(unsolicited.dht.confirmedExternalEndpoint == claimed)
        #expect(unsolicited.transport.statistics.responsesSent == 1, "the initiation was not accepted: the test means nothing")

        var solicited = try victimCore()
        // The victim queries the peer's endpoint first (that opens the NAT mapping); the peer's
        // initiation that follows is let in by that mapping.
        let peerID = NodeID(bytes: [UInt8](repeating: 0x99, count: 20))!
        solicited.withDHT(now: .seconds(1)) {
            $0.addContact(NodeContact(id: peerID, endpoint: fresh), now: .seconds(1))
            $0.findNode(target: peerID, now: .seconds(1))
        }
        var queriedPeer = false
        while let datagram = solicited.pollTransmit() { queriedPeer = queriedPeer || datagram.endpoint == fresh }
        #expect(queriedPeer)
        solicited.handleDatagram(initiation(to: victimKey), from: fresh, now: .seconds(1))
        #expect(solicited.transport.statistics.responsesSent == 1)
        #expect(solicited.dht.confirmedExternalEndpoint == nil)

        // The same when what opened the mapping was the victim's own transport initiation.
        var dialled = try victimCore()
        dialled.connect(to: TransportFixtures.identity(2).publicKey, at: [fresh], now: .seconds(1))
        var initiatedToPeer = false
        while let datagram = dialled.pollTransmit() { initiatedToPeer = initiatedToPeer || datagram.endpoint == fresh }
        #expect(initiatedToPeer)
        dialled.handleDatagram(initiation(to: victimKey), from: fresh, now: .seconds(1))
        #expect(dialled.transport.statistics.responsesSent == 1, "the crossing initiation was not accepted: the test means nothing")
        #expect(dialled.dht.confirmedExternalEndpoint == nil)
    }
}
