import Testing
import KeywayCrypto
@testable import KeywayCore

/// An initiation that names one Ed25519 key but proves another X25519 static key is refused,
/// whether the responder has never heard of the named key (it converts it) or has a session
/// with it (it compares with the key it keeps from that session's handshake).
@Suite(.timeLimit(.minutes(1))) struct TransportImpersonationTests {
    typealias Network = VirtualNetwork<SessionManager>

    var aliceKey: Ed25519.PublicKey { TransportFixtures.identity(0).publicKey }
    var bobKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }

    /// An initiation to Bob from Mallory's static key whose payload says it is Alice.
    func forgedInitiation() throws -> [UInt8] {
        let mallory = TransportFixtures.identity(2)
        var rng = SeededRandom(seed: 5)
        var noise = try NoiseHandshakeState.initiator(
            staticKeyPair: NoiseStaticKeyPair(identity: mallory),
            ephemeralSecretKey: NoiseHandshakeState.ephemeralSecretKey(using: &rng),
            responderStaticKey: try bobKey.curve25519(), prologue: TransportSpec.prologue)
        var payload = aliceKey.bytes
        TransportBytes.appendLittleEndian(UInt64(1), to: &payload)
        HandshakeTimestamp(sinceEpoch: .seconds(1 << 31)).append(to: &payload)
        #expect(payload.count == TransportSpec.initiationPayloadLength)
        var packet = InitiationPacket.unsealed(senderIndex: 77, noiseMessage: try noise.writeMessage(payload: payload))
        _ = HandshakeMACs.seal(&packet, mac1Key: HandshakeMACs.mac1Key(for: bobKey), cookie: nil)
        return packet
    }

    /// Delivers the forged initiation to Bob (node 1) and checks he answered nothing.
    func expectRefused(in network: inout Network) throws {
        let forged = try forgedInitiation()
        let before = network.nodes[1].statistics
        let answered = network.with(1) { core, now -> Bool in
            core.handleDatagram(forged, from: TransportFixtures.endpoint(9), now: now)
            var answered = false
            while let datagram = core.pollTransmit() {
                if datagram.endpoint == TransportFixtures.endpoint(9) { answered = true }
            }
            return answered
        }
        #expect(!answered)
        #expect(network.nodes[1].statistics.droppedUnauthenticated == before.droppedUnauthenticated + 1)
        #expect(network.nodes[1].statistics.responsesSent == before.responsesSent)
    }

    @Test func aForgedInitiationForAnUnknownKeyIsRefused() throws {
        var network = Network(latency: .milliseconds(5))
        network.add(SessionManager(identity: TransportFixtures.identity(0), seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        try expectRefused(in: &network)
    }

    @Test func aForgedInitiationForAKnownPeerIsRefused() throws {
        var network = Network(latency: .milliseconds(5))
        network.add(SessionManager(identity: TransportFixtures.identity(0), seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        let bobKey = bobKey, aliceKey = aliceKey, endpoint = network.endpoints[1]
        network.with(0) { core, now in core.connect(to: bobKey, at: [endpoint], now: now) }
        let established = network.run(until: { $0.nodes[1].isEstablished(with: aliceKey) }, limit: .seconds(2))
        #expect(established)
        try expectRefused(in: &network)
        #expect(network.nodes[1].isEstablished(with: aliceKey))
    }
}
