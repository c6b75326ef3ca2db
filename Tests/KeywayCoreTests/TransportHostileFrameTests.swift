import Testing
import KeywayCrypto
@testable import KeywayCore

/// Authenticated peers that send hostile frames (issue 12): final sizes, stream IDs and
/// numbers chosen to break the receiver's arithmetic or tables. Each attack must close the
/// attacker's session with the matching ``TransportViolation`` and leave the node serving.
@Suite(.timeLimit(.minutes(1))) struct TransportHostileFrameTests {
    typealias Network = VirtualNetwork<SessionManager>

    var attackerKey: Ed25519.PublicKey { TransportFixtures.identity(0).publicKey }
    var victimKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }

    /// An attacker (0) with an established session to a victim (1), and an honest third core
    /// (2) that has not connected yet.
    func establishedPair(victim: TransportConfiguration = TransportFixtures.roomy) -> Network {
        var network = Network(latency: .milliseconds(5))
        network.add(SessionManager(identity: TransportFixtures.identity(0), configuration: TransportFixtures.roomy, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), configuration: victim, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        network.add(SessionManager(identity: TransportFixtures.identity(2), configuration: TransportFixtures.roomy, seed: 3, now: .zero), at: TransportFixtures.endpoint(3))
        let victimKey = victimKey, attackerKey = attackerKey, endpoint = network.endpoints[1]
        network.with(0) { core, now in core.connect(to: victimKey, at: [endpoint], now: now) }
        let established = network.run(until: { $0.nodes[1].isEstablished(with: attackerKey) && $0.nodes[0].isEstablished(with: victimKey) }, limit: .seconds(2))
        #expect(established)
        return network
    }

    /// Delivers `frames` from the attacker to the victim in one authenticated packet.
    func inject(_ frames: [TransportFrame], into network: inout Network, packetNumber: UInt64? = nil) {
        let victimKey = victimKey, source = network.endpoints[0]
        let packet = network.with(0) { core, _ in core.craftedDataPacket(to: victimKey, frames: frames, packetNumber: packetNumber) }
        network.with(1) { core, now in core.handleDatagram(packet, from: source, now: now) }
    }

    /// The honest core 2 opens a stream to the victim and the victim receives its bytes.
    func victimStillServes(_ network: inout Network) -> Bool {
        let victimKey = victimKey, endpoint = network.endpoints[1]
        let bytes = Array("still serving".utf8)
        network.with(2) { core, now in
            core.connect(to: victimKey, at: [endpoint], now: now)
            let stream = core.openStream(to: victimKey, now: now)
            core.write(bytes, to: stream, now: now)
            core.finish(stream, now: now)
        }
        let honest = TransportFixtures.identity(2).publicKey
        return network.run(until: { network in
            network.events[1].contains { if case let .streamData(id, got) = $0 { return id.peer == honest && got == bytes } else { return false } }
        }, limit: .seconds(3))
    }

    func aborted(_ network: Network, with violation: TransportViolation) -> Bool {
        network.events[1].contains(.sessionAborted(attackerKey, violation))
    }

    // MARK: Attack 1: final sizes

    /// Issue 12, attack 1: MAX_STREAM_DATA opens a stream of the attacker's, then RESET_STREAM
    /// names a final size of 2^40, far beyond any window. This used to underflow the session
    /// credit and trap.
    @Test func resetWithHugeFinalSizeClosesTheSessionWithoutTrapping() {
        var network = establishedPair()
        let id = network.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        inject([.maxStreamData(id: id, maximum: 1 << 20), .resetStream(id: id, code: 7, finalSize: 1 << 40)], into: &network)
        let networkAbortedFlowControl = aborted(network, with: .flowControl)
        #expect(networkAbortedFlowControl)
        #expect(!network.nodes[1].isEstablished(with: attackerKey))
        #expect(network.nodes[1].statistics.sessionsAborted == 1)
        #expect(network.events[1].contains { if case .streamReset(_, .sessionAborted(.flowControl)) = $0 { return true } else { return false } })
        #expect(victimStillServes(&network))
    }

    /// Final sizes just past the session window (the threshold the issue measured, 16 MiB + 1)
    /// and just past the stream window close the session too; one at the stream window is a
    /// normal reset.
    @Test func finalSizeIsCheckedAgainstStreamAndSessionWindows() {
        var configuration = TransportFixtures.roomy
        configuration.streamReceiveWindow = 1 << 20
        var network = establishedPair(victim: configuration)
        let first = network.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        inject([.maxStreamData(id: first, maximum: 1), .resetStream(id: first, code: 1, finalSize: 1 << 20)], into: &network)
        #expect(network.events[1].contains { if case .streamReset(_, .peer(code: 1)) = $0 { return true } else { return false } })
        #expect(network.nodes[1].isEstablished(with: attackerKey))
        let second = network.nodes[0].localStreamWireID(towards: victimKey, index: 1)
        inject([.maxStreamData(id: second, maximum: 1), .resetStream(id: second, code: 2, finalSize: (1 << 20) + 1)], into: &network)
        let networkAbortedFlowControl = aborted(network, with: .flowControl)
        #expect(networkAbortedFlowControl)
        #expect(victimStillServes(&network))
    }

    /// RFC 9000 section 4.5: a final size below the bytes received, or other than the one a
    /// FIN already fixed, is FINAL_SIZE_ERROR.
    @Test func finalSizeBelowReceivedBytesOrChangedClosesTheSession() {
        var network = establishedPair()
        let id = network.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        inject([.stream(id: id, offset: 0, data: ArraySlice(repeating: 1, count: 100), fin: false)], into: &network)
        inject([.resetStream(id: id, code: 0, finalSize: 50)], into: &network)
        let networkAbortedFinalSize = aborted(network, with: .finalSize)
        #expect(networkAbortedFinalSize)

        var second = establishedPair()
        let other = second.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        // Out of order, so the stream stays open after its FIN fixed the final size at 30.
        inject([.stream(id: other, offset: 10, data: ArraySlice(repeating: 2, count: 20), fin: true)], into: &second)
        inject([.resetStream(id: other, code: 0, finalSize: 31)], into: &second)
        let secondAbortedFinalSize = aborted(second, with: .finalSize)
        #expect(secondAbortedFinalSize)
        #expect(victimStillServes(&second))
    }

    /// A STREAM frame past the stream's window closes the session with FLOW_CONTROL_ERROR.
    @Test func streamDataBeyondTheWindowClosesTheSession() {
        var network = establishedPair()
        let id = network.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        let window = TransportFixtures.roomy.streamReceiveWindow
        inject([.stream(id: id, offset: window, data: [9], fin: false)], into: &network)
        let networkAbortedFlowControl = aborted(network, with: .flowControl)
        #expect(networkAbortedFlowControl)
    }

    /// Packet numbers and ACK delays at the top of their ranges are numbers like any other.
    @Test func extremePacketNumberAndAckDelayDoNotTrap() {
        var network = establishedPair()
        inject([.ping], into: &network, packetNumber: .max)
        inject([.ping], into: &network, packetNumber: TransportSpec.maximumVarint)
        inject([.ack(ranges: [0..<1], delayMicroseconds: TransportSpec.maximumVarint)], into: &network)
        #expect(network.nodes[1].isEstablished(with: attackerKey))
        #expect(network.nodes[1].statistics.droppedBadFrames >= 1)
        #expect(victimStillServes(&network))
    }

    // MARK: Attack 2: stream IDs

    /// Issue 12, attack 2: one frame naming stream ID 2^62-3 (or 2^62-4, the attacker's
    /// parity). The victim used to walk every implied ID and queue a reset for each (seconds
    /// of stall, a gigabyte of resets); it must close the session at once and create nothing.
    @Test func farStreamIDClosesTheSessionWithoutWalkingImpliedIDs() {
        var network = establishedPair()
        let parity = network.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        let far = TransportSpec.maximumVarint - 2 - (parity == 1 ? 0 : 1)
        #expect(far & 1 == parity)
        let attacker = attackerKey
        let incomingBefore = network.events[1].count { if case let .incomingStream(id) = $0 { return id.peer == attacker } else { return false } }
        inject([.stream(id: far, offset: 0, data: [1], fin: false)], into: &network)
        let networkAbortedStreamLimit = aborted(network, with: .streamLimit)
        #expect(networkAbortedStreamLimit)
        let incomingAfter = network.events[1].count { if case let .incomingStream(id) = $0 { return id.peer == attacker } else { return false } }
        #expect(incomingAfter == incomingBefore)
        // MAX_STREAM_DATA opens streams too and obeys the same allowance.
        var second = establishedPair()
        inject([.maxStreamData(id: far, maximum: 1)], into: &second)
        let secondAbortedStreamLimit = aborted(second, with: .streamLimit)
        #expect(secondAbortedStreamLimit)
        #expect(victimStillServes(&second))
    }

    /// Within the allowance, implied streams open as in QUIC; past the incoming-stream limit
    /// only the named stream is refused, and a peer that piles up refusals (it never
    /// acknowledges the resets) is cut off rather than growing the queue.
    @Test func refusalsOverTheStreamLimitAreBounded() {
        var configuration = TransportFixtures.roomy
        configuration.maximumIncomingStreams = 4
        configuration.maximumQueuedRefusals = 32
        var network = establishedPair(victim: configuration)
        let ten = network.nodes[0].localStreamWireID(towards: victimKey, index: 9)
        inject([.stream(id: ten, offset: 0, data: [1], fin: false)], into: &network)
        let attacker = attackerKey
        let opened = network.events[1].count { if case let .incomingStream(id) = $0 { return id.peer == attacker } else { return false } }
        #expect(opened == 4)
        #expect(network.nodes[1].isEstablished(with: attackerKey))
        var index: UInt64 = 10
        var largestQueue = 0
        for _ in 0..<400 where !aborted(network, with: .streamLimit) {
            var frames: [TransportFrame] = []
            for _ in 0..<100 {
                frames.append(.stream(id: network.nodes[0].localStreamWireID(towards: victimKey, index: index), offset: 0, data: [2], fin: false))
                index += 1
            }
            inject(frames, into: &network)
            if let slot = network.nodes[1].slots[attackerKey] {
                largestQueue = max(largestQueue, network.nodes[1].peers[slot]!.connection.pendingResets.count)
            }
        }
        let networkAbortedStreamLimit = aborted(network, with: .streamLimit)
        #expect(networkAbortedStreamLimit)
        #expect(largestQueue <= 32)
        #expect(victimStillServes(&network))
    }

    // MARK: Attack 3: reassembly

    /// The victim's session with the attacker (internal state, to check the bounds).
    func victimConnection(_ network: Network) -> StreamConnection? {
        network.nodes[1].slots[attackerKey].map { network.nodes[1].peers[$0]!.connection }
    }

    /// Sends `count` one-byte fragments of the attacker's first stream at the offsets
    /// `offset(i)`, packed many to a packet, never the byte at offset 0 (so nothing delivers).
    func sendFragments(_ count: Int, perPacket: Int = 120, into network: inout Network, offset: (Int) -> UInt64) {
        let id = network.nodes[0].localStreamWireID(towards: victimKey, index: 0)
        var frames: [TransportFrame] = [.maxStreamData(id: id, maximum: 1)]
        for i in 0..<count {
            frames.append(.stream(id: id, offset: offset(i), data: [UInt8(truncatingIfNeeded: i)], fin: false))
            if frames.count >= perPacket || i == count - 1 {
                inject(frames, into: &network)
                frames = []
            }
        }
    }

    /// Issue 12, attack 3: one-byte fragments in descending order (each below the last, so
    /// each inserts at the front). They used to cost 13 times their size and quadratic time;
    /// now each is charged its overhead against the stream window and the rest are refused.
    @Test func descendingOneByteFragmentsAreChargedTheirOverhead() {
        var configuration = TransportFixtures.roomy
        configuration.streamReceiveWindow = 256 << 10
        var network = establishedPair(victim: configuration)
        let count = 20_000
        sendFragments(count, into: &network) { UInt64(count - $0) }
        let connection = victimConnection(network)
        let stream = connection?.streams.values.first
        let limit = (256 << 10) / (1 + Int(configuration.reassemblyFragmentOverhead))
        #expect(stream != nil)
        #expect((stream?.pending.count ?? .max) <= limit)
        #expect((stream?.pendingCost ?? .max) <= 256 << 10)
        #expect(network.nodes[1].statistics.droppedReassemblyLimit > 0)
        #expect(network.nodes[1].reassemblyCharged == connection?.reassemblyCost)
        #expect(victimStillServes(&network))
    }

    /// Every other byte: each fragment a disjoint range. The ranges per stream stay under
    /// their cap, so range bookkeeping stays small whatever the order.
    @Test func disjointFragmentsAreCappedPerStream() {
        var configuration = TransportFixtures.roomy
        configuration.maximumReassemblyRangesPerStream = 64
        var network = establishedPair(victim: configuration)
        sendFragments(5_000, perPacket: 10, into: &network) { UInt64(2 * $0 + 1) }
        let stream = victimConnection(network)?.streams.values.first
        #expect((stream?.received.count ?? .max) <= 64)
        #expect(network.nodes[1].statistics.droppedReassemblyLimit > 0)
    }

    /// The node-wide budget bounds what all sessions buffer together.
    @Test func reassemblyBudgetBoundsTheWholeNode() {
        var configuration = TransportFixtures.roomy
        configuration.reassemblyBudget = 64 << 10
        configuration.maximumReassemblyRangesPerStream = 10_000
        var network = establishedPair(victim: configuration)
        sendFragments(3_000, perPacket: 20, into: &network) { UInt64(100 * $0 + 1) }
        #expect(network.nodes[1].reassemblyCharged <= 64 << 10)
        #expect(network.nodes[1].statistics.droppedReassemblyLimit > 0)
    }

    /// Out-of-order data an honest sender sends still arrives whole: a deferred packet is not
    /// acknowledged, so it is sent again and taken once the gap before it is filled.
    @Test func honestTransferCompletesUnderTightReassemblyLimits() {
        var configuration = TransportFixtures.roomy
        configuration.reassemblyBudget = 32 << 10
        configuration.maximumReassemblyRangesPerStream = 4
        var network = Network(latency: .milliseconds(5))
        network.jitter = .milliseconds(4)
        network.lossRate = 0.05
        network.add(SessionManager(identity: TransportFixtures.identity(0), configuration: TransportFixtures.roomy, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        let victimKey = victimKey, endpoint = network.endpoints[1]
        let bytes = TransportFixtures.payload(400_000)
        network.with(0) { core, now in
            core.connect(to: victimKey, at: [endpoint], now: now)
            let stream = core.openStream(to: victimKey, now: now)
            core.write(bytes, to: stream, now: now)
            core.finish(stream, now: now)
        }
        let done = network.run(until: { $0.events[1].contains { if case .streamFinished = $0 { return true } else { return false } } }, limit: .seconds(30))
        #expect(done)
        #expect(TransportFixtures.received(in: network.events[1]) == bytes)
        #expect(network.nodes[1].statistics.droppedReassemblyLimit > 0)
    }

    /// An ACK frame naming more ranges than ``TransportConfiguration/maximumDecodedAckRanges``
    /// makes its packet malformed; one at the limit decodes.
    @Test func ackRangesBeyondTheConfiguredLimitAreRefused() {
        let ranges: [Range<UInt64>] = (0..<UInt64(20)).map { (n: UInt64) -> Range<UInt64> in (n * 3)..<(n * 3 + 1) }
        var plaintext = [UInt8](repeating: 0, count: 8)
        TransportFrame.ack(ranges: ranges, delayMicroseconds: 0).encode(to: &plaintext)
        let atLimit = TransportFrame.decodeAll(plaintext, from: 8, maximumAckRanges: 20)
        let overLimit = TransportFrame.decodeAll(plaintext, from: 8, maximumAckRanges: 19)
        let expected: [TransportFrame] = [.ack(ranges: ranges, delayMicroseconds: 0)]
        #expect(atLimit == expected)
        #expect(overLimit == nil)
    }
}
