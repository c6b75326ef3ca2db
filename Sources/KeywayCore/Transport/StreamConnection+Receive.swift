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
    }

    /// Takes the frames of authenticated packet `packetNumber`. Returns `false` if the frames
    /// do not parse; the packet is then dropped whole (and not acknowledged).
    mutating func receive(packetNumber: UInt64, plaintext: [UInt8], now: Instant, sink: inout Sink) -> Bool {
        guard let frames = TransportFrame.decodeAll(plaintext, from: TransportSpec.packetNumberLength) else { return false }
        if receivedPackets.contains(packetNumber) { return true }
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
        }
        return true
    }

    private mutating func handle(_ frame: TransportFrame, now: Instant, sink: inout Sink) {
        switch frame {
        case .ping, .padding:
            break
        case let .ack(ranges, delay):
            onAck(ranges: ranges, delayMicroseconds: delay, now: now, sink: &sink)
        case let .stream(wireID, offset, data, fin):
            onStreamFrame(wireID: wireID, offset: offset, data: data, fin: fin, sink: &sink)
        case let .resetStream(wireID, code, finalSize):
            guard let number = numbersByWireID[wireID], let stream = streams[number] else { return }
            if finalSize > stream.highestReceived { dataReceived += finalSize - stream.highestReceived }
            creditSession(finalSize > stream.consumedOffset ? finalSize - stream.consumedOffset : 0)
            // Credit was returned above; keep `remove` from returning it twice.
            streams[number]?.consumedOffset = max(stream.highestReceived, finalSize)
            remove(number: number)
            sink.events.append(.streamReset(stream.id, .peer(code: code)))
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

    /// STREAM data: finds or opens the stream, applies flow control, delivers in order.
    private mutating func onStreamFrame(wireID: UInt64, offset: UInt64, data: ArraySlice<UInt8>, fin: Bool, sink: inout Sink) {
        sink.receivedStreamData = true
        guard let number = streamNumber(forIncoming: wireID, sink: &sink) else { return }
        let end = offset + UInt64(data.count)
        let growth = end > streams[number]!.highestReceived ? end - streams[number]!.highestReceived : 0
        guard dataReceived + growth <= localMaxData,
              case let .accepted(grown) = streams[number]!.receive(offset: offset, data: data, fin: fin, events: &sink.events)
        else {
            sink.statistics.droppedBadFrames += 1
            let stream = streams[number]!
            pendingResets.append((wireID, StreamConnection.flowControlErrorCode, stream.sentOffset))
            sink.events.append(.streamReset(stream.id, .refused))
            remove(number: number)
            return
        }
        dataReceived += grown
        if limits.creditOnDelivery {
            consume(number: number, upTo: streams[number]!.readOffset)
        }
        finishIfDone(number: number, sink: &sink)
    }

    /// The local number of the stream with `wireID`, opening it (and any lower one of the
    /// peer's) when it is new; `nil` for a stream already closed, never opened by this node, or
    /// refused.
    private mutating func streamNumber(forIncoming wireID: UInt64, sink: inout Sink) -> UInt64? {
        if let number = numbersByWireID[wireID] { return number }
        guard wireID & 1 != localParity, wireID >= nextPeerWireID else { return nil }
        while nextPeerWireID <= wireID {
            let newID = nextPeerWireID
            nextPeerWireID += 2
            guard incomingCount < limits.maximumIncomingStreams else {
                pendingResets.append((newID, StreamConnection.refusedCode, 0))
                continue
            }
            let number = sink.nextStreamNumber
            sink.nextStreamNumber += 1
            let id = StreamID(peer: peer, number: number)
            streams[number] = TransportStream(id: id, wireID: newID, window: limits.streamWindow)
            numbersByWireID[newID] = number
            incomingCount += 1
            sink.events.append(.incomingStream(id))
        }
        return numbersByWireID[wireID]
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

    /// The application error code of a reset this layer sends when a peer breaks flow control.
    static let flowControlErrorCode: UInt64 = 0x3
    /// The application error code of a reset refusing a stream over the limit.
    static let refusedCode: UInt64 = 0x5
}
