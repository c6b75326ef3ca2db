import Testing
import KeywayCrypto
@testable import KeywayCore

/// Path MTU discovery on the virtual network: a session finds the largest datagram its path
/// carries, uses it for stream data, and falls back when the path shrinks, with every byte
/// delivered intact throughout.
@Suite struct PathMTUTests {
    typealias Network = VirtualNetwork<SessionManager>

    var serverKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }

    func pair(pathMTU: Int?, configuration: TransportConfiguration = TransportFixtures.roomy) -> Network {
        var network = Network(latency: .milliseconds(10), seed: 11)
        network.pathMTU = pathMTU
        network.add(SessionManager(identity: TransportFixtures.identity(0), configuration: configuration, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        return network
    }

    func start(_ bytes: [UInt8], over network: inout Network) {
        let server = serverKey, endpoint = network.endpoints[1]
        network.with(0) { core, now in
            core.connect(to: server, at: [endpoint], now: now)
            let stream = core.openStream(to: server, now: now)
            #expect(core.write(bytes, to: stream, now: now) == bytes.count)
            core.finish(stream, now: now)
        }
    }

    func finished(_ network: Network) -> Bool {
        network.events[1].contains { if case .streamFinished = $0 { return true } else { return false } }
    }

    func receivedCount(_ network: Network) -> Int {
        network.events[1].reduce(0) { total, event in
            if case let .streamData(_, bytes) = event { return total + bytes.count }
            return total
        }
    }

    /// Sends `payload` from node 0 to node 1 and checks it arrives whole.
    func transfer(_ payload: [UInt8], over network: inout Network, limit: Duration = .seconds(60)) {
        start(payload, over: &network)
        let done = network.run(until: finished, limit: limit)
        #expect(done)
        let received = TransportFixtures.received(in: network.events[1])
        #expect(received.count == payload.count)
        #expect(TransportFixtures.digest(received) == TransportFixtures.digest(payload))
    }

    @Test func aSessionSettlesJustBelowThePathMTUAndNeverExceedsIt() {
        // An Ethernet path under IPv4 and UDP headers.
        let mtu = 1472
        var network = pair(pathMTU: mtu)
        transfer(TransportFixtures.payload(4 << 20), over: &network)
        let precision = TransportConfiguration().pathMTUPrecision
        let size = network.nodes[0].datagramSize(to: serverKey)
        #expect(size.map { $0 <= mtu && $0 > mtu - precision } == true, "settled at \(size.map(String.init) ?? "nil") after \(network.nodes[0].statistics.sizeProbesSent) probes, \(network.nodes[0].statistics.sizeProbesLost) lost, at \(network.now)")
        #expect(network.longestDelivered <= mtu)
        // The probes above the path MTU were lost, and not taken for congestion.
        network.run(for: .seconds(2))
        let statistics = network.nodes[0].statistics
        #expect(statistics.sizeProbesLost >= TransportConfiguration().pathMTUProbeAttempts)
        #expect(statistics.sizeProbesLost == network.droppedOversize)
        #expect(statistics.packetsLost == 0)
    }

    @Test func aPathWithoutALimitIsUsedUpToTheMaximumAndNeedsFewerPackets() {
        let payload = TransportFixtures.payload(4 << 20, seed: 5)
        var probing = pair(pathMTU: nil)
        transfer(payload, over: &probing)
        let maximum = TransportConfiguration().maximumProbedDatagramSize
        #expect(probing.nodes[0].datagramSize(to: serverKey) == maximum)
        #expect(probing.longestDelivered == maximum)

        var fixed = TransportFixtures.roomy
        fixed.maximumProbedDatagramSize = fixed.maximumDatagramSize
        var baseline = pair(pathMTU: nil, configuration: fixed)
        transfer(payload, over: &baseline)
        #expect(baseline.nodes[0].datagramSize(to: serverKey) == fixed.maximumDatagramSize)
        #expect(baseline.nodes[0].statistics.sizeProbesSent == 0)
        // Larger datagrams carry the same bytes in far fewer packets.
        let sent = probing.nodes[0].statistics.datagramsSent, sentAtBase = baseline.nodes[0].statistics.datagramsSent
        #expect(sent * 4 < sentAtBase, "\(sent) datagrams with discovery, \(sentAtBase) without")
    }

    @Test func aPathThatShrinksMidTransferFallsBackAndLosesNoByte() {
        let size = 8 << 20
        let payload = TransportFixtures.payload(size, seed: 9)
        var network = pair(pathMTU: nil)
        start(payload, over: &network)
        let grown = network.run(until: { $0.nodes[0].datagramSize(to: serverKey) == TransportConfiguration().maximumProbedDatagramSize && receivedCount($0) > size / 4 }, limit: .seconds(30))
        #expect(grown)
        // A route change: from now on only 1,400-byte datagrams cross.
        let base = TransportConfiguration().maximumDatagramSize
        network.pathMTU = base
        let done = network.run(until: finished, limit: .seconds(60))
        #expect(done)
        let received = TransportFixtures.received(in: network.events[1])
        #expect(received.count == size)
        #expect(TransportFixtures.digest(received) == TransportFixtures.digest(payload))
        #expect(network.nodes[0].statistics.pathMTUBlackHoles == 1)
        #expect(network.nodes[0].datagramSize(to: serverKey) == base)
    }

    @Test func aTunnelNarrowerThanTheBaseSizeStillCarriesTheStream() {
        // A path at IPv6's minimum MTU, 1,280 bytes, under IPv6 and UDP headers: well below the
        // 1,400-byte base, so the first full packets vanish.
        let mtu = 1232
        var network = pair(pathMTU: mtu)
        transfer(TransportFixtures.payload(1 << 20, seed: 13), over: &network, limit: .seconds(30))
        let precision = TransportConfiguration().pathMTUPrecision
        let size = network.nodes[0].datagramSize(to: serverKey)
        #expect(size.map { $0 <= mtu && $0 > mtu - precision } == true, "settled at \(size.map(String.init) ?? "nil")")
        #expect(network.nodes[0].statistics.pathMTUBlackHoles >= 1)
        #expect(network.droppedOversize > 0)
    }

    /// Drives a search against a path that carries `mtu` bytes; returns the sizes in use after
    /// each step (a step: every probe of one size sent, then acknowledged or lost).
    func steps(mtu: Int, configuration: TransportConfiguration = TransportConfiguration()) -> [Int] {
        let limits = StreamConnection.Limits(configuration)
        var search = limits.pathMTUSearch
        var sizes: [Int] = []
        while sizes.count < 64, let size = search.dueProbe(now: .zero) {
            var sent = 0
            while search.dueProbe(now: .zero) == size {
                search.probeSent()
                sent += 1
            }
            for _ in 0..<sent {
                if size <= mtu { search.probeAcknowledged(size: size) } else { search.probeLost(size: size) }
            }
            sizes.append(search.current)
        }
        return sizes
    }

    @Test func commonPathsGetAGoodSizeWithinThreeRoundTripsAndTheSearchEnds() {
        let precision = TransportConfiguration().pathMTUPrecision
        // Loopback, jumbo frames, Ethernet under IPv4, and an odd tunnel.
        for mtu in [65_507, 8_972, 1_472, 1_420] {
            let sizes = steps(mtu: mtu)
            let final = sizes.last ?? 0
            #expect(sizes.count < 64, "the search for \(mtu) never ended")
            #expect(final <= mtu && (final > mtu - precision || final == TransportConfiguration().maximumProbedDatagramSize || final == TransportConfiguration().maximumDatagramSize), "\(mtu): \(sizes)")
            if mtu >= 1_452 {
                // Within 32 bytes of the path MTU or at a common size just under it, by step 3.
                #expect(sizes.prefix(3).contains { $0 >= min(mtu, TransportConfiguration().maximumProbedDatagramSize) - 48 }, "\(mtu): \(sizes)")
            }
        }
    }

    @Test func paddingDecodesAsOneFrameThatAsksForNothing() {
        var plaintext = [UInt8](repeating: 0, count: 8)
        TransportFrame.ping.encode(to: &plaintext)
        TransportFrame.padding(count: 500).encode(to: &plaintext)
        let frames = TransportFrame.decodeAll(plaintext, from: 8, maximumAckRanges: TransportConfiguration().maximumDecodedAckRanges)
        #expect(frames == [.ping, .padding(count: 500)])
        #expect(frames?.last?.isAckEliciting == false)
    }
}
