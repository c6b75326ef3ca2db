import Collections

/// Receiving: packet numbers, frames and the streams they open.
extension StreamConnection {
    /// Everything a frame handler reports to, bundled to keep signatures short.
    struct Sink {
        var events: Deque<TransportEvent>
        var statistics: TransportStatistics
        /// The next local stream number, shared by all sessions of the manager.
        var nextStreamNumber: UInt64
        /// Whether a STREAM frame arrived.
        var receivedStreamData = false
        /// Reassembly bytes (with overhead) the whole node may still buffer out of order
        /// (``TransportConfiguration/reassemblyBudget`` less what all sessions hold).
        var reassemblyAvailable: UInt64 = .max
        /// Bytes the session may still hold delivered and unconsumed: the least of what
        /// ``TransportConfiguration/receiveBudget`` and the source prefix's share
        /// (``TransportConfiguration/receiveBudgetPerPrefix``) leave.
        var receiveAvailable: UInt64 = .max
    }

    /// What became of a packet's plaintext.
    enum ReceiveResult: Equatable {
        /// Its frames were taken (or it was a duplicate).
        case processed
        /// Its frames do not parse or its packet number is out of range: dropped whole.
        case malformed
        /// Its out-of-order stream data does not fit the reassembly limits now: dropped whole
        /// and not acknowledged, so an honest sender sends it again once the gap before it is
        /// filled and the data can be delivered.
        case deferred
        /// Its new stream bytes do not fit what the receive budget leaves the session
        /// (``Sink/receiveAvailable``): dropped whole and not acknowledged, so an honest sender
        /// sends it again once the application has read.
        case overReceiveBudget
    }

    /// Takes the frames of authenticated packet `packetNumber`. Returns `false` if the frames
    /// do not parse; the packet is then dropped whole (and not acknowledged).
    /// Packet numbers above ``TransportSpec/maximumVarint`` are refused the same way (a sender
    /// counts from 0 and never gets there), so `packetNumber + 1` cannot overflow. A frame that
    /// breaks the protocol sets ``violation`` and stops the packet's frames there; the caller
    /// then closes the session.
    mutating func receive(packetNumber: UInt64, plaintext: [UInt8], now: Instant, sink: inout Sink) -> ReceiveResult {
        guard packetNumber <= TransportSpec.maximumVarint,
              let frames = TransportFrame.decodeAll(plaintext, from: TransportSpec.packetNumberLength, maximumAckRanges: limits.maximumDecodedAckRanges) else { return .malformed }
        if receivedPackets.contains(packetNumber) { return .processed }
        guard reassemblyAdmits(frames, available: sink.reassemblyAvailable) else { return .deferred }
        guard newStreamBytes(frames) <= sink.receiveAvailable else { return .overReceiveBudget }
        let outOfOrder = receivedPackets.last.map { packetNumber + 1 < $0.upperBound || packetNumber > $0.upperBound } ?? false
        receivedPackets.insert(packetNumber..<packetNumber + 1)
        receivedPackets.keepHighest(limits.maximumAckRanges)
        if packetNumber + 1 == receivedPackets.last?.upperBound { largestReceivedAt = now }
        if frames.contains(where: \.isAckEliciting) {
            unacknowledgedCount += 1
            // Acknowledge every second packet at once, any gap at once (it may be a loss), and
            // a stream's end at once (the application may close right after reading it).
            let due = unacknowledgedCount >= 2 || outOfOrder || frames.contains(where: \.isStreamEnd)
                ? now : now + .nanoseconds(limits.maximumAckDelay)
            ackDeadline = min(ackDeadline ?? due, due)
        }
        for frame in frames {
            handle(frame, now: now, sink: &sink)
            if violation != nil { break }
        }
        return .processed
    }

    /// Whether the out-of-order stream data of `frames` fits every reassembly limit: each
    /// stream's window (bytes plus ``Limits/fragmentOverhead`` per piece), its cap on disjoint
    /// ranges, the session's window and the node's budget (`available`). Conservative: the
    /// whole packet's cost is checked against each limit, so a limit is exceeded by no packet.
    private func reassemblyAdmits(_ frames: [TransportFrame], available: UInt64) -> Bool {
        var packetCost: UInt64 = 0
        var newRanges = 0
        var streamsTouched: [TransportStream] = []
        for case let .stream(wireID, offset, data, _) in frames where !data.isEmpty {
            let end = offset + UInt64(data.count)  // the decoder bounds it by 2^62 - 1
            let stream = numbersByWireID[wireID].flatMap { streams[$0] }
            let growth: (cost: UInt64, newRange: Bool)
            if let stream {
                growth = stream.reassemblyGrowth(offset: offset, end: end, fragmentOverhead: limits.fragmentOverhead)
                streamsTouched.append(stream)
            } else {
                // A new stream (or one that is gone, whose data is dropped anyway).
                growth = offset > 0 ? (UInt64(data.count) + limits.fragmentOverhead, true) : (0, false)
            }
            guard growth.cost > 0 else { continue }
            packetCost += growth.cost
            if growth.newRange { newRanges += 1 }
        }
        guard packetCost > 0 else { return true }
        guard packetCost <= available,
              reassemblyCost + packetCost <= limits.sessionWindow else { return false }
        for stream in streamsTouched {
            guard stream.pendingCost + packetCost <= limits.streamWindow,
                  stream.received.count + newRanges <= limits.maximumReassemblyRanges else { return false }
        }
        return packetCost <= limits.streamWindow && newRanges <= limits.maximumReassemblyRanges
    }

    /// The stream bytes `frames` carry beyond what their streams already delivered in order
    /// (an upper bound of what taking them adds to ``unconsumedBytes`` and the reassembly),
    /// each piece with ``Limits/fragmentOverhead``. Data for a stream that is gone costs
    /// nothing (it is dropped); data opening a new stream costs all its bytes.
    private func newStreamBytes(_ frames: [TransportFrame]) -> UInt64 {
        var total: UInt64 = 0
        for case let .stream(wireID, offset, data, _) in frames where !data.isEmpty {
            let end = offset + UInt64(data.count)  // the decoder bounds it by 2^62 - 1
            let delivered: UInt64
            if let number = numbersByWireID[wireID], let stream = streams[number] {
                delivered = stream.readOffset
            } else if wireID & 1 != localParity, wireID >= nextPeerWireID {
                delivered = 0
            } else {
                continue
            }
            guard end > delivered else { continue }
            total += end - max(offset, delivered) + limits.fragmentOverhead
        }
        return total
    }

    private mutating func handle(_ frame: TransportFrame, now: Instant, sink: inout Sink) {
        switch frame {
        case .ping, .padding:
            break
        case let .ack(ranges, delay):
            onAck(ranges: ranges, delayMicroseconds: delay, now: now, sink: &sink)
        case let .stream(wireID, offset, data, fin):
            onStreamFrame(wireID: wireID, offset: offset, data: data, fin: fin, now: now, sink: &sink)
        case let .resetStream(wireID, code, finalSize):
            onResetStream(wireID: wireID, code: code, finalSize: finalSize, sink: &sink)
        case let .maxData(maximum):
            peerMaxData = max(peerMaxData, maximum)
        case let .maxStreamData(wireID, maximum):
            // The opener of a stream announces its window in the same packet as the stream's
            // first bytes, and control frames come first: like QUIC, a MAX_STREAM_DATA frame
            // for a new stream of the peer's parity opens it, so the window is not lost.
            guard let number = streamNumber(forIncoming: wireID, sink: &sink),
                  let known = streams[number]?.peerMaximum else { return }
            streams[number]?.peerMaximum = max(known, maximum)
        }
    }

    /// RESET_STREAM, validated as RFC 9000 sections 4.5 and 19.4 require: the final size is
    /// at least every byte received, equal to a final size already known, and within both the
    /// stream's and the session's flow-control limits; anything else closes the session. Only
    /// then do the stream's bytes up to the final size count as received and consumed.
    private mutating func onResetStream(wireID: UInt64, code: UInt64, finalSize: UInt64, sink: inout Sink) {
        guard let number = numbersByWireID[wireID], let stream = streams[number] else {
            // A stream of this node's that it never opened cannot be reset (STREAM_STATE_ERROR);
            // one already closed, or one of the peer's never seen, needs nothing (no state is
            // made for a stream only a reset names).
            if wireID & 1 == localParity, wireID >= nextLocalWireID { violation = .streamState }
            return
        }
        if let known = stream.finalSize, known != finalSize {
            violation = .finalSize
            return
        }
        guard finalSize >= stream.highestReceived else {
            violation = .finalSize
            return
        }
        let growth = finalSize - stream.highestReceived
        guard finalSize <= stream.advertisedMaximum, growth <= sessionCreditRemaining else {
            violation = .flowControl
            return
        }
        dataReceived += growth
        // Every byte up to the final size is now consumed: consumedOffset <= highestReceived
        // <= finalSize, so this cannot underflow.
        creditSession(finalSize - stream.consumedOffset)
        unconsumedBytes -= min(unconsumedBytes, stream.unconsumed)
        // Credit was returned above; keep `remove` from returning it twice.
        streams[number]?.consumedOffset = finalSize
        streams[number]?.highestReceived = finalSize
        remove(number: number)
        sink.events.append(.streamReset(stream.id, .peer(code: code)))
    }

    /// Session-wide bytes the peer may still send beyond the highest offsets received.
    var sessionCreditRemaining: UInt64 {
        localMaxData >= dataReceived ? localMaxData - dataReceived : 0
    }

    /// STREAM data: finds or opens the stream, applies flow control, delivers in order. Data
    /// beyond the stream's or the session's window, or contradicting the stream's end, closes
    /// the session (RFC 9000 sections 4.1 and 4.5).
    private mutating func onStreamFrame(wireID: UInt64, offset: UInt64, data: ArraySlice<UInt8>, fin: Bool, now: Instant, sink: inout Sink) {
        sink.receivedStreamData = true
        guard let number = streamNumber(forIncoming: wireID, sink: &sink) else { return }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(data.count))
        let highest = streams[number]!.highestReceived
        guard !overflow, end <= highest || end - highest <= sessionCreditRemaining else {
            violation = .flowControl
            return
        }
        let costBefore = streams[number]!.pendingCost
        let deliveredBefore = streams[number]!.readOffset
        let outcome = streams[number]!.receive(
            offset: offset, data: data, fin: fin, fragmentOverhead: limits.fragmentOverhead, events: &sink.events)
        reassemblyCost = reassemblyCost - costBefore + streams[number]!.pendingCost
        unconsumedBytes += streams[number]!.readOffset - deliveredBefore
        guard case let .accepted(grown) = outcome else {
            if case let .violation(kind) = outcome { violation = kind }
            return
        }
        dataReceived += grown
        if limits.creditOnDelivery {
            consume(number: number, upTo: streams[number]!.readOffset, now: now)
        }
        finishIfDone(number: number, sink: &sink)
    }

    /// The local number of the stream with `wireID`, opening it when it is new; `nil` for a
    /// stream already closed, never opened by this node, or refused.
    ///
    /// Like QUIC's MAX_STREAMS rule (RFC 9000 section 4.6), a peer may name a new stream at
    /// most ``Limits/incomingStreamIDAllowance`` IDs past the lowest of its IDs not yet seen
    /// (the watermark ``nextPeerWireID``); a frame naming one further closes the session with
    /// STREAM_LIMIT_ERROR, before any work. Lower IDs the frame only implies open too, as in
    /// QUIC, but only while ``Limits/maximumIncomingStreams`` leaves room: once full, an
    /// implied ID costs nothing (the watermark just moves past it) and only the named stream
    /// is refused with a reset, of which at most ``Limits/maximumQueuedRefusals`` wait.
    private mutating func streamNumber(forIncoming wireID: UInt64, sink: inout Sink) -> UInt64? {
        if let number = numbersByWireID[wireID] { return number }
        if wireID & 1 == localParity {
            // RFC 9000 section 19.8: a frame for a local stream not yet opened.
            if wireID >= nextLocalWireID { violation = .streamState }
            return nil
        }
        guard wireID >= nextPeerWireID else { return nil }
        // Streams below `wireID` the frame implies (the watermark and `wireID` share a parity).
        let implied = (wireID - nextPeerWireID) / 2
        guard implied < UInt64(limits.incomingStreamIDAllowance) else {
            violation = .streamLimit
            return nil
        }
        let room = UInt64(max(0, limits.maximumIncomingStreams - incomingCount))
        let opening = min(implied + 1, room)
        for step in 0..<opening {
            let newID = nextPeerWireID + 2 * step
            let number = sink.nextStreamNumber
            sink.nextStreamNumber += 1
            let id = StreamID(peer: peer, number: number)
            streams[number] = TransportStream(id: id, wireID: newID, window: limits.streamWindow)
            numbersByWireID[newID] = number
            incomingCount += 1
            sink.events.append(.incomingStream(id))
        }
        nextPeerWireID = wireID + 2
        if let number = numbersByWireID[wireID] { return number }
        // Over the limit: refuse the named stream (its opener waits on it); the implied ones
        // were never seen, so nothing is owed for them.
        guard refusalsQueued < limits.maximumQueuedRefusals else {
            violation = .streamLimit
            return nil
        }
        pendingResets.append((wireID, TransportSpec.streamRefusedCode, 0))
        return nil
    }

    /// Refusals among ``pendingResets`` (resets this node chose to send for its own streams
    /// are bounded by the application, not the peer).
    var refusalsQueued: Int {
        var count = 0
        for reset in pendingResets where reset.code == TransportSpec.streamRefusedCode && reset.wireID & 1 != localParity {
            count += 1
        }
        return count
    }

    /// Reports a completed send side and forgets a stream both sides are done with.
    mutating func finishIfDone(number: UInt64, sink: inout Sink) {
        guard let stream = streams[number] else { return }
        if stream.isSendDone && !stream.sendCompleteReported {
            streams[number]?.sendCompleteReported = true
            sink.events.append(.streamSendComplete(stream.id))
        }
        if stream.isSendDone && stream.isReceiveDone {
            remove(number: number)
        }
    }
}
