import Testing
import KeywayCrypto
@testable import KeywayCore

/// Sessions between two transport cores on the virtual network: handshakes, streams, refusal,
/// and hostile packets.
@Suite struct TransportSessionTests {
    typealias Network = VirtualNetwork<SessionManager>

    /// Two cores, 0 and 1, at 10.1.0.1 and 10.1.0.2.
    func pair(
        latency: Duration = .milliseconds(10), client: TransportConfiguration = TransportFixtures.roomy,
        server: TransportConfiguration = TransportFixtures.roomy
    ) -> Network {
        var network = Network(latency: latency)
        network.add(SessionManager(identity: TransportFixtures.identity(0), configuration: client, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), configuration: server, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        return network
    }

    var serverKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }
    var clientKey: Ed25519.PublicKey { TransportFixtures.identity(0).publicKey }

    /// Opens a stream from 0 to 1 and sends `bytes` with a FIN.
    func send(_ bytes: [UInt8], over network: inout Network) -> StreamID {
        let server = serverKey, endpoint = network.endpoints[1]
        return network.with(0) { core, now in
            core.connect(to: server, at: [endpoint], now: now)
            let stream = core.openStream(to: server, now: now)
            #expect(core.write(bytes, to: stream, now: now) == bytes.count)
            core.finish(stream, now: now)
            return stream
        }
    }

    func finished(_ events: [TransportEvent]) -> Bool {
        events.contains { if case .streamFinished = $0 { return true } else { return false } }
    }

    @Test func handshakeThenStreamDeliversBytesAndEnd() {
        var network = pair()
        let bytes = Array("hello, key".utf8)
        let stream = send(bytes, over: &network)
        let reached1 = network.run(until: { finished($0.events[1]) }, limit: .seconds(2))
        #expect(reached1)
        #expect(TransportFixtures.received(in: network.events[1]) == bytes)
        #expect(network.nodes[0].isEstablished(with: serverKey))
        #expect(network.nodes[1].isEstablished(with: clientKey))
        #expect(network.events[1].contains(.sessionEstablished(peer: clientKey, endpoint: network.endpoints[0])))
        #expect(network.events[1].contains { if case .incomingStream = $0 { return true } else { return false } })
        network.run(for: .seconds(1))
        #expect(network.events[0].contains(.streamSendComplete(stream)))
        #expect(network.nodes[0].statistics.handshakesCompleted == 1)
        #expect(network.nodes[1].statistics.handshakeMessagesProcessed == 1)
    }

    @Test func bothSidesWriteOnManyStreamsAndReset() {
        var network = pair()
        let server = serverKey, endpoint = network.endpoints[1]
        let streams = network.with(0) { core, now in
            core.connect(to: server, at: [endpoint], now: now)
            return (0..<5).map { n in
                let stream = core.openStream(to: server, now: now)
                core.write(TransportFixtures.payload(10_000 + n, seed: UInt64(n)), to: stream, now: now)
                return stream
            }
        }
        network.run(for: .seconds(1))
        let incoming = network.events[1].compactMap { event -> StreamID? in
            if case let .incomingStream(id) = event { return id } else { return nil }
        }
        #expect(incoming.count == 5)
        for (n, id) in incoming.enumerated() {
            #expect(TransportFixtures.received(on: id.number, in: network.events[1]) == TransportFixtures.payload(10_000 + n, seed: UInt64(n)))
        }
        // The server answers on the first stream and resets the second.
        network.with(1) { core, now in
            core.write(Array("pong".utf8), to: incoming[0], now: now)
            core.reset(incoming[1], code: 7, now: now)
        }
        network.run(for: .seconds(1))
        #expect(TransportFixtures.received(on: streams[0].number, in: network.events[0]) == Array("pong".utf8))
        #expect(network.events[0].contains(.streamReset(streams[1], .peer(code: 7))))
    }

    @Test func policyRefusesUnlistedKeyWithoutSession() {
        var server = TransportFixtures.roomy
        server.peerPolicy = .only([TransportFixtures.identity(9).publicKey])
        var network = pair(server: server)
        _ = send(Array("let me in".utf8), over: &network)
        network.run(for: .seconds(2))
        #expect(network.nodes[1].statistics.droppedRefused >= 1)
        #expect(network.events[1].contains(.peerRefused(clientKey)))
        #expect(network.nodes[1].statistics.responsesSent == 0)
        #expect(!network.nodes[0].isEstablished(with: serverKey))
        #expect(TransportFixtures.received(in: network.events[1]).isEmpty)
    }

    @Test func wrongMeshSecretNeverEstablishes() {
        var client = TransportFixtures.roomy, server = TransportFixtures.roomy
        client.presharedKey = SecureBytes([UInt8](repeating: 1, count: 32))
        server.presharedKey = SecureBytes([UInt8](repeating: 2, count: 32))
        var network = pair(client: client, server: server)
        _ = send(Array("x".utf8), over: &network)
        network.run(for: .seconds(2))
        #expect(!network.nodes[0].isEstablished(with: serverKey))
        // IKpsk2 mixes the secret into message 2, so the initiator is the one that refuses.
        #expect(network.nodes[0].statistics.droppedUnauthenticated >= 1)
    }

    @Test func sameMeshSecretEstablishes() {
        var configuration = TransportFixtures.roomy
        configuration.presharedKey = SecureBytes([UInt8](repeating: 3, count: 32))
        var network = pair(client: configuration, server: configuration)
        _ = send(Array("psk".utf8), over: &network)
        let reached2 = network.run(until: { finished($0.events[1]) }, limit: .seconds(2))
        #expect(reached2)
    }

    @Test func tamperedTruncatedReplayedAndGarbagePacketsAreDroppedAndCounted() throws {
        var network = pair()
        let stream = send(TransportFixtures.payload(5000), over: &network)
        let reached = network.run(until: { finished($0.events[1]) }, limit: .seconds(2))
        #expect(reached)
        // Everything acknowledged, so the congestion window lets the next packet out at once.
        network.run(for: .seconds(1))
        // A fresh data packet, taken from a copy of the client before the network sees it.
        var copy = network.nodes[0]
        let other = copy.openStream(to: serverKey, now: network.now)
        copy.write(Array("fresh".utf8), to: other, now: network.now)
        // The stream's announcement leaves first, on its own; the last packet carries the data.
        var next: Datagram?
        while let datagram = copy.pollTransmit() { next = datagram }
        let fresh = try #require(next).payload
        #expect(fresh[0] == TransportSpec.dataType)
        let source = network.endpoints[0]
        let before = network.nodes[1].statistics
        let eventsBefore = network.events[1].count
        network.with(1) { core, now in
            // Tampered: every byte position flipped in turn (header and ciphertext).
            for position in 0..<fresh.count {
                var tampered = fresh
                tampered[position] ^= 0x40
                core.handleDatagram(tampered, from: source, now: now)
            }
            // Truncated: every shorter length.
            for length in 0..<fresh.count {
                core.handleDatagram(Array(fresh.prefix(length)), from: source, now: now)
            }
            // Garbage of every transport type and many lengths, fixed ones included.
            var rng = SeededRandom(seed: 99)
            for type in TransportSpec.packetTypes {
                let initiation = TransportSpec.initiationLength
                for length in [1, 4, 15, 31, 32, 51, 52, 53, 99, 100, 101, initiation - 1, initiation, initiation + 1, 400] {
                    var junk = rng.bytes(count: length)
                    junk[0] = type
                    for i in 1..<min(4, length) { junk[i] = 0 }
                    core.handleDatagram(junk, from: source, now: now)
                }
            }
        }
        let afterAttack = network.nodes[1].statistics
        #expect(afterAttack.droppedUnauthenticated >= before.droppedUnauthenticated + fresh.count - 16)
        #expect(afterAttack.droppedMalformed > before.droppedMalformed + fresh.count)
        #expect(afterAttack.droppedUnknownIndex > before.droppedUnknownIndex)
        #expect(afterAttack.droppedBadMAC > before.droppedBadMAC)
        #expect(afterAttack.handshakeMessagesProcessed == before.handshakeMessagesProcessed)
        #expect(network.events[1].count == eventsBefore)
        // The genuine packet still authenticates (no forgery burnt its counter); its replay does not.
        network.with(1) { core, now in
            core.handleDatagram(fresh, from: source, now: now)
            core.handleDatagram(fresh, from: source, now: now)
        }
        #expect(network.nodes[1].statistics.droppedReplayed == afterAttack.droppedReplayed + 1)
        #expect(network.events[1].contains { if case let .streamData(_, bytes) = $0 { return bytes == Array("fresh".utf8) } else { return false } })
        #expect(network.nodes[1].isEstablished(with: clientKey))
        let claimed = network.with(1) { core, now in core.handleDatagram(Array("d1:ad2:id20:".utf8), from: source, now: now) }
        #expect(!claimed)
        _ = stream
    }

    @Test func handshakeFloodGetsCookiesNotDiffieHellman() throws {
        var server = TransportFixtures.roomy
        server.handshakesPerSecond = 0.001
        var network = pair(server: server)
        let serverKey = serverKey, endpoint = network.endpoints[1]
        // A genuine initiation, made by a third core.
        var attacker = SessionManager(identity: TransportFixtures.identity(5), seed: 5, now: network.now)
        attacker.connect(to: serverKey, at: [endpoint], now: network.now)
        let first = attacker.pollTransmit()
        let flood = try #require(first).payload
        let before = network.nodes[1].statistics
        network.with(1) { core, now in
            // 2,000 copies of a valid initiation (MAC1 right) from 2,000 addresses at once.
            for n in 0..<2000 {
                core.handleDatagram(flood, from: Endpoint(address: .v4(0xc633_6400 | UInt32(n)), port: 9), now: now)
            }
            // 1,000 initiations with a wrong MAC1 cost one hash each.
            var junk = flood
            junk[TransportPacket.initiationMACOffset] ^= 1
            for _ in 0..<1000 { core.handleDatagram(junk, from: endpoint, now: now) }
        }
        let after = network.nodes[1].statistics
        let processed = after.handshakeMessagesProcessed - before.handshakeMessagesProcessed
        #expect(processed <= Int(server.handshakeBurst))
        #expect(after.cookieRepliesSent - before.cookieRepliesSent >= 1000)
        #expect(after.droppedBadMAC - before.droppedBadMAC == 1000)
        // The server is still under load; a genuine client gets a cookie and gets in with it.
        let stream = network.with(0) { core, now in
            core.connect(to: serverKey, at: [endpoint], now: now)
            let stream = core.openStream(to: serverKey, now: now)
            core.write(Array("still here".utf8), to: stream, now: now)
            return stream
        }
        let reached4 = network.run(until: { $0.nodes[0].isEstablished(with: serverKey) }, limit: .seconds(5))
        #expect(reached4)
        #expect(network.nodes[0].statistics.cookieRepliesReceived >= 1)
        let reached5 = network.run(until: { TransportFixtures.received(in: $0.events[1]) == Array("still here".utf8) }, limit: .seconds(2))
        #expect(reached5)
        _ = stream
    }
}
