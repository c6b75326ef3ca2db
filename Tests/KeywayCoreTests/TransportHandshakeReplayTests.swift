import Testing
import KeywayCrypto
@testable import KeywayCore

/// Replayed handshake initiations (issue 12, attack 11) and the TAI64N timestamp that stops
/// them.
@Suite(.timeLimit(.minutes(1))) struct TransportHandshakeReplayTests {
    typealias Network = VirtualNetwork<SessionManager>

    var initiatorKey: Ed25519.PublicKey { TransportFixtures.identity(0).publicKey }
    var responderKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }

    func core(_ number: Int, seed: UInt64, now: Instant) -> SessionManager {
        SessionManager(identity: TransportFixtures.identity(number), configuration: TransportFixtures.roomy, seed: seed, now: now)
    }

    /// The first initiation node 0 sent in `network`'s trace.
    func firstInitiation(in network: Network) -> [UInt8]? {
        network.trace.first { $0.from == network.endpoints[0] && $0.payload.first == TransportSpec.initiationType }?.payload
    }

    /// Issue 12, attack 11: an initiation captured from an earlier run of the initiator is
    /// replayed from a third address just after the restarted initiator's new initiation. It
    /// carried an older state ID, so the counter check let it through and it displaced the new
    /// handshake's keys, which were then never confirmed. Its timestamp is older: dropped.
    @Test func replayedInitiationFromAThirdAddressDoesNotDisplaceANewHandshake() throws {
        var network = Network(latency: .milliseconds(10))
        network.tracing = true
        network.add(core(0, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(core(1, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        let responder = responderKey, initiator = initiatorKey, endpoint = network.endpoints[1]
        network.with(0) { core, now in core.connect(to: responder, at: [endpoint], now: now) }
        let established = network.run(until: { $0.nodes[1].isEstablished(with: initiator) }, limit: .seconds(2))
        #expect(established)
        let captured = try #require(firstInitiation(in: network))
        network.run(for: .seconds(5))

        // The initiator restarts (new state ID) and sends on a new stream at once.
        network.restart(0, with: core(0, seed: 11, now: network.now), at: network.endpoints[0])
        let bytes = Array("after the restart".utf8)
        network.with(0) { core, now in
            core.connect(to: responder, at: [endpoint], now: now)
            let stream = core.openStream(to: responder, now: now)
            core.write(bytes, to: stream, now: now)
            core.finish(stream, now: now)
        }
        let processed = network.nodes[1].statistics.handshakeMessagesProcessed
        let reached = network.run(until: { $0.nodes[1].statistics.handshakeMessagesProcessed > processed }, limit: .seconds(1))
        #expect(reached)
        let replayedBefore = network.nodes[1].statistics.droppedReplayed
        // The attacker replays the captured initiation from elsewhere.
        network.with(1) { core, now in core.handleDatagram(captured, from: TransportFixtures.endpoint(66, port: 4444), now: now) }
        #expect(network.nodes[1].statistics.droppedReplayed == replayedBefore + 1)
        // The new handshake is confirmed by the initiator's first data packet, well before any
        // retry (500 ms) or unresponsive timer (1 s) could repair it.
        let delivered = network.run(until: { network in
            TransportFixtures.received(in: network.events[1].filter {
                if case let .streamData(id, _) = $0 { return id.peer == initiator } else { return false }
            }).suffix(bytes.count).elementsEqual(bytes)
        }, limit: .milliseconds(300))
        #expect(delivered)
        #expect(network.events[1].contains(.peerRestarted(initiator)))
        #expect(network.nodes[1].endpoint(of: initiator) == network.endpoints[0])
    }

    /// The same initiation twice, as a duplicate or from another address, is one handshake.
    @Test func aDuplicateInitiationIsDroppedAsAReplay() throws {
        var responder = core(1, seed: 2, now: .zero)
        var initiator = core(0, seed: 1, now: .zero)
        initiator.connect(to: responderKey, at: [TransportFixtures.endpoint(2)], now: .zero)
        let first = initiator.pollTransmit()
        let initiation = try #require(first).payload
        responder.handleDatagram(initiation, from: TransportFixtures.endpoint(1), now: .seconds(1))
        responder.handleDatagram(initiation, from: TransportFixtures.endpoint(7), now: .seconds(2))
        #expect(responder.statistics.handshakeMessagesProcessed == 2)
        #expect(responder.statistics.responsesSent == 1)
        #expect(responder.statistics.droppedReplayed == 1)
    }

    /// A responder that forgot the session (idle expiry here; eviction and aborts alike) still
    /// remembers the initiator's latest timestamp (``InitiatorTimestamps``): the old initiation
    /// replayed from anywhere is refused and makes no session, while the initiator's own newer
    /// one is welcome. With the table off (`maximumRememberedInitiators = 0`) the replay makes
    /// a session, as before; after ``TransportConfiguration/rememberedInitiatorLifetime`` it
    /// does too (the bound that lets a node whose clock went back in again).
    @Test(arguments: ["remembered", "off", "expired"])
    func aReplayAfterTheSessionIsGoneIsStillRefused(mode: String) throws {
        var configuration = TransportFixtures.roomy
        if mode == "off" { configuration.maximumRememberedInitiators = 0 }
        var responder = SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero)
        var initiator = core(0, seed: 1, now: .zero)
        initiator.connect(to: responderKey, at: [TransportFixtures.endpoint(2)], now: .zero)
        let first = initiator.pollTransmit()
        let initiation = try #require(first).payload
        responder.handleDatagram(initiation, from: TransportFixtures.endpoint(1), now: .seconds(1))
        #expect(responder.statistics.responsesSent == 1)

        var later = Instant.zero + .seconds(1) + configuration.idleSessionTimeout + .seconds(1)
        responder.handleTimeout(now: later)
        #expect(responder.peerCount == 0, "the session did not expire: the test means nothing")
        if mode == "expired" {
            later = later + configuration.rememberedInitiatorLifetime
            responder.handleTimeout(now: later)
        }
        responder.handleDatagram(initiation, from: TransportFixtures.endpoint(7), now: later)
        if mode == "remembered" {
            #expect(responder.statistics.droppedReplayed == 1)
            #expect(responder.statistics.responsesSent == 1)
            #expect(responder.peerCount == 0)
            var restarted = core(0, seed: 5, now: later)
            restarted.connect(to: responderKey, at: [TransportFixtures.endpoint(2)], now: later)
            let fresh = restarted.pollTransmit()
            responder.handleDatagram(try #require(fresh).payload, from: TransportFixtures.endpoint(1), now: later)
            #expect(responder.statistics.responsesSent == 2)
        } else {
            #expect(responder.statistics.droppedReplayed == 0)
            #expect(responder.statistics.responsesSent == 2)
        }
    }

    /// The table is bounded: throw-away keys from one /24 fill at most its per-prefix share,
    /// and the whole table never holds more than its limit.
    @Test func rememberedInitiatorsAreBounded() {
        var configuration = TransportFixtures.roomy
        configuration.maximumRememberedInitiators = 16
        configuration.maximumRememberedInitiatorsPerPrefix = 4
        var table = InitiatorTimestamps()
        let stamp = HandshakeTimestamp(label: TransportSpec.tai64Epoch + 1, nanoseconds: 0)
        let onePrefix = SessionOrigin.prefix(AddressPrefix(.v4(0xc633_6407), ipv4Bits: 24, ipv6Bits: 48))
        for n in 0..<50 {
            table.remember(stamp, for: TransportFixtures.identity(100 + n).publicKey, origin: onePrefix, now: .zero, configuration: configuration)
        }
        #expect(table.count == 4)
        for n in 0..<50 {
            table.remember(stamp, for: TransportFixtures.identity(200 + n).publicKey, origin: .localNetwork, now: .zero, configuration: configuration)
        }
        #expect(table.count == 16)
        // The most recent are kept, the oldest gone.
        #expect(table.latest(from: TransportFixtures.identity(249).publicKey, now: .zero, configuration: configuration) == stamp)
        #expect(table.latest(from: TransportFixtures.identity(200).publicKey, now: .zero, configuration: configuration) == nil)
    }

    /// Initiations sent within one clock tick still carry growing timestamps.
    @Test func timestampsGrowEvenWithinOneInstant() {
        var initiator = core(0, seed: 1, now: .zero)
        var stamps: [HandshakeTimestamp] = []
        for n in 0..<3 {
            initiator.connect(to: TransportFixtures.identity(10 + n).publicKey, at: [TransportFixtures.endpoint(20 + n)], now: .zero)
            if let stamp = initiator.lastTimestampSent { stamps.append(stamp) }
        }
        #expect(stamps.count == 3)
        #expect(stamps == stamps.sorted() && Set(stamps.map(\.description)).count == 3)
    }

    /// TAI64N as WireGuard writes it: 12 bytes, big-endian, `2^62 + 10 + seconds`.
    @Test func timestampEncodingIsTAI64N() throws {
        let stamp = HandshakeTimestamp(sinceEpoch: .seconds(1_700_000_000) + .nanoseconds(123_456_789))
        var bytes: [UInt8] = []
        stamp.append(to: &bytes)
        #expect(bytes.count == TransportSpec.timestampLength)
        #expect(bytes == [0x40, 0, 0, 0, 0x65, 0x53, 0xf1, 0x0a, 0x07, 0x5b, 0xcd, 0x15])
        let decoded = try #require(HandshakeTimestamp(bytes, at: 0))
        #expect(decoded == stamp)
        #expect(HandshakeTimestamp(bytes.prefix(8) + [0x3b, 0x9a, 0xca, 0x00], at: 0) == nil)
        #expect(stamp < stamp.successor)
    }

    /// A packet the initiator sent just before it restarted, arriving after the new session is
    /// confirmed, must not reach the fresh connection: its frames name stream IDs the new run
    /// reuses (here it would have spliced old bytes into the new stream).
    @Test func aPacketFromThePeersPreviousRunIsDroppedAfterItRestarts() throws {
        var network = Network(latency: .milliseconds(10))
        network.add(core(0, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(core(1, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        let responder = responderKey, initiator = initiatorKey, endpoint = network.endpoints[1]
        let old = network.with(0) { core, now in
            core.connect(to: responder, at: [endpoint], now: now)
            let stream = core.openStream(to: responder, now: now)
            core.write(Array("old".utf8), to: stream, now: now)
            return stream
        }
        let first = network.run(until: { TransportFixtures.received(in: $0.events[1]) == Array("old".utf8) }, limit: .seconds(2))
        #expect(first)
        network.run(for: .seconds(1))
        // A last packet of the old run, held back by the network.
        var copy = network.nodes[0]
        copy.write(Array("late".utf8), to: old, now: network.now)
        let held = copy.pollTransmit()
        let late = try #require(held).payload
        network.restart(0, with: core(0, seed: 11, now: network.now), at: network.endpoints[0])
        let fresh = network.with(0) { core, now in
            core.connect(to: responder, at: [endpoint], now: now)
            let stream = core.openStream(to: responder, now: now)
            core.write(Array("new".utf8), to: stream, now: now)
            return stream
        }
        let restarted = network.run(until: { $0.events[1].contains(.peerRestarted(initiator)) }, limit: .seconds(2))
        #expect(restarted)
        network.run(for: .milliseconds(200))
        let eventsBefore = network.events[1].count
        let unknownBefore = network.nodes[1].statistics.droppedUnknownIndex
        network.with(1) { core, now in core.handleDatagram(late, from: TransportFixtures.endpoint(1), now: now) }
        network.run(for: .milliseconds(200))
        #expect(network.nodes[1].statistics.droppedUnknownIndex == unknownBefore + 1)
        let after = Array(network.events[1].dropFirst(eventsBefore))
        #expect(!after.contains { if case .streamData = $0 { return true } else { return false } })
        _ = fresh
    }
}
