import Testing
import KeywayCrypto
@testable import KeywayCore

/// Streams across moves, loss and reordering, on the virtual network with transport cores.
@Suite struct TransportRebindTests {
    typealias Network = VirtualNetwork<SessionManager>

    let clientKey = TransportFixtures.identity(0).publicKey
    let serverKey = TransportFixtures.identity(1).publicKey

    func pair(latency: Duration = .milliseconds(10)) -> Network {
        var network = Network(latency: latency, seed: 7)
        let configuration = TransportFixtures.roomy
        network.add(SessionManager(identity: TransportFixtures.identity(0), configuration: configuration, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        return network
    }

    func start(_ bytes: [UInt8], over network: inout Network, finish: Bool = true) -> StreamID {
        let server = serverKey, endpoint = network.endpoints[1]
        return network.with(0) { core, now in
            core.connect(to: server, at: [endpoint], now: now)
            let stream = core.openStream(to: server, now: now)
            #expect(core.write(bytes, to: stream, now: now) == bytes.count)
            if finish { core.finish(stream, now: now) }
            return stream
        }
    }

    func receivedCount(_ network: Network) -> Int {
        network.events[1].reduce(0) { total, event in
            if case let .streamData(_, bytes) = event { return total + bytes.count }
            return total
        }
    }

    func finished(_ network: Network) -> Bool {
        network.events[1].contains { if case .streamFinished = $0 { return true } else { return false } }
    }

    @Test func tenMegabytesArriveIntactWhileTheReceiverMovesThreeTimes() {
        let size = 10 << 20
        let payload = TransportFixtures.payload(size)
        var network = pair()
        _ = start(payload, over: &network)
        for move in 1...3 {
            let reached = network.run(until: { receivedCount($0) >= size * move / 4 }, limit: .seconds(30))
            #expect(reached, "move \(move) never reached")
            network.move(1, to: TransportFixtures.endpoint(2, port: 7000 + UInt16(move)))
        }
        let done = network.run(until: finished, limit: .seconds(60))
        #expect(done)
        let received = TransportFixtures.received(in: network.events[1])
        #expect(received.count == size)
        #expect(TransportFixtures.digest(received) == TransportFixtures.digest(payload))
        #expect(network.nodes[0].endpoint(of: serverKey) == TransportFixtures.endpoint(2, port: 7003))
        #expect(network.nodes[0].statistics.passiveRebinds == 3)
        #expect(network.nodes[0].statistics.handshakesCompleted == 1)
    }

    @Test func passiveRebindingCostsNoRoundTrip() {
        var network = pair(latency: .milliseconds(50))
        let stream = start(Array("first".utf8), over: &network)
        network.run(for: .seconds(1))
        let incoming = network.events[1].compactMap { event -> StreamID? in
            if case let .incomingStream(id) = event { return id } else { return nil }
        }
        #expect(incoming.count == 1)
        let initiations = network.nodes[1].statistics.initiationsSent + network.nodes[0].statistics.initiationsSent
        // The server moves and its next packet (a reply) comes from the new endpoint.
        let moved = TransportFixtures.endpoint(2, port: 9999)
        network.move(1, to: moved)
        network.tracing = true
        let sentAt = network.now
        _ = network.with(1) { core, now in core.write(Array("from afar".utf8), to: incoming[0], now: now) }
        let reached = network.run(until: { TransportFixtures.received(on: stream.number, in: $0.events[0]) == Array("from afar".utf8) }, limit: .seconds(1))
        #expect(reached)
        // Delivered one one-way latency later: the very first packet from the new endpoint.
        #expect(network.now - sentAt == .milliseconds(50))
        #expect(network.trace.first?.from == moved)
        #expect(network.nodes[0].endpoint(of: serverKey) == moved)
        #expect(network.events[0].contains(.endpointChanged(peer: serverKey, from: TransportFixtures.endpoint(2), to: moved, reason: .authenticatedPacket)))
        #expect(network.nodes[1].statistics.initiationsSent + network.nodes[0].statistics.initiationsSent == initiations)
    }

    @Test func lossAndReorderingStillDeliverIntactStreams() {
        let size = 512 * 1024
        let payload = TransportFixtures.payload(size, seed: 3)
        var network = pair()
        network.lossRate = 0.03
        network.jitter = .milliseconds(8)
        _ = start(payload, over: &network)
        let done = network.run(until: finished, limit: .seconds(120))
        #expect(done)
        let received = TransportFixtures.received(in: network.events[1])
        #expect(TransportFixtures.digest(received) == TransportFixtures.digest(payload))
        #expect(network.nodes[0].statistics.packetsLost > 0)
        #expect(network.nodes[0].statistics.bytesRetransmitted > 0)
    }

    @Test func silentMoveWithKnownRecordRebindsAndRetries() {
        var network = pair(latency: .milliseconds(50))
        _ = start(Array("hello".utf8), over: &network)
        network.run(for: .seconds(1))
        // The server moves without a word (it waits for nothing, so it does not probe); the
        // client opens a stream, writes, and hears nothing.
        let moved = TransportFixtures.endpoint(2, port: 8123)
        network.move(1, to: moved)
        let server = serverKey
        network.with(0) { core, now in
            let stream = core.openStream(to: server, now: now)
            core.write(Array(" again".utf8), to: stream, now: now)
        }
        let asked = network.run(until: { $0.events[0].contains(.resolveNeeded(serverKey)) }, limit: .seconds(3))
        #expect(asked)
        // The caller resolves the key and hands the newer record to the core.
        network.with(0) { core, now in core.updateEndpoints(of: server, to: [moved], sequence: 2, now: now) }
        let reached = network.run(until: { TransportFixtures.received(in: $0.events[1]) == Array("hello again".utf8) }, limit: .seconds(1))
        #expect(reached)
        #expect(network.nodes[0].statistics.activeRebinds == 1)
        // An older record changes nothing.
        network.with(0) { core, now in core.updateEndpoints(of: server, to: [TransportFixtures.endpoint(2)], sequence: 1, now: now) }
        #expect(network.nodes[0].endpoint(of: serverKey) == moved)
    }

    /// A dial to an address nobody answers at (a record resolved just before the peer restarted
    /// elsewhere) asks for a fresh resolve after ``TransportConfiguration/handshakeUnresponsiveAfter``;
    /// with no round-trip sample yet, probe timeouts of the initial estimate do not stretch it.
    @Test func aHandshakeToAStaleAddressIsResolvedAgainAfterOneUnresponsiveWait() {
        var network = pair()
        let server = serverKey, stale = TransportFixtures.endpoint(2, port: 4444)
        let started = network.now
        network.with(0) { core, now in
            core.connect(to: server, at: [stale], now: now)
            let stream = core.openStream(to: server, now: now)
            core.write(Array("hello".utf8), to: stream, now: now)
        }
        let asked = network.run(until: { $0.events[0].contains(.resolveNeeded(serverKey)) }, limit: .seconds(5))
        #expect(asked)
        let waited = network.now - started
        #expect(waited <= TransportFixtures.roomy.handshakeUnresponsiveAfter + .milliseconds(50), "asked to resolve after \(waited)")
        // The fresh record's address is dialled at once.
        let endpoint = network.endpoints[1]
        network.with(0) { core, now in core.updateEndpoints(of: server, to: [endpoint], sequence: 2, now: now) }
        let reached = network.run(until: { TransportFixtures.received(in: $0.events[1]) == Array("hello".utf8) }, limit: .milliseconds(200))
        #expect(reached)
    }

    @Test func idleSessionsExpireAndKeysAreRenewedByTime() {
        var network = pair()
        _ = start(Array("x".utf8), over: &network)
        network.run(for: .seconds(1))
        let server = serverKey
        // Keep it busy past the rekey time: a new handshake happens, the stream is unaffected.
        let stream = network.with(0) { core, now in core.openStream(to: server, now: now) }
        for second in 0..<130 {
            _ = network.with(0) { core, now in core.write([UInt8(second & 0xff)], to: stream, now: now) }
            network.run(for: .seconds(1))
        }
        #expect(network.nodes[0].statistics.handshakesCompleted >= 2)
        #expect(TransportFixtures.received(on: nil, in: network.events[1]).count == 131)
        network.with(0) { core, now in core.finish(stream, now: now) }
        network.run(for: .seconds(1))
        let incoming = network.events[1]
        network.with(1) { core, now in
            for case let .incomingStream(id) in incoming { core.finish(id, now: now) }
        }
        network.run(for: .seconds(400))
        #expect(network.nodes[0].peerCount == 0)
        #expect(network.nodes[1].peerCount == 0)
        #expect(network.events[0].contains(.sessionClosed(serverKey)))
    }
}
