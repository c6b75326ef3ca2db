/// Sending: building the plaintext of the next packet.
extension StreamConnection {
    /// Bytes a data packet adds around its plaintext: the header and the AEAD tag.
    static let packetOverhead = TransportSpec.dataHeaderLength + Noise.macLength

    /// The largest plaintext a packet may carry.
    var maximumPlaintext: Int { pathMTU.current - Self.packetOverhead }

    /// Whether an acknowledgement must go out now.
    func isAckDue(now: Instant) -> Bool {
        guard let ackDeadline else { return false }
        return ackDeadline <= now
    }

    /// Whether a packet would carry something ack-eliciting (ignoring the congestion window).
    var hasElicitingWork: Bool {
        needsMaxData || probesToSend > 0 || pingPending || hasStreamWork
            || streams.values.contains(where: \.needsMaxStreamData)
    }

    /// Whether stream bytes, ends or resets wait to be sent.
    var hasStreamWork: Bool {
        if !pendingResets.isEmpty { return true }
        let credit = peerMaxData - dataSent
        for stream in streams.values {
            if !stream.lost.isEmpty || stream.needsFin { return true }
            if stream.newDataLimit(sessionCredit: credit) > stream.sentOffset { return true }
        }
        return false
    }

    /// Whether more than `count` stream bytes wait to be sent (new ones within flow control,
    /// or lost ones).
    func hasQueuedStreamBytes(moreThan count: Int) -> Bool {
        let credit = peerMaxData - dataSent
        var queued: UInt64 = 0
        for stream in streams.values {
            let limit = stream.newDataLimit(sessionCredit: credit)
            if limit > stream.sentOffset { queued += limit - stream.sentOffset }
            if let lost = stream.lost.first { queued += UInt64(lost.count) }
            if queued > UInt64(count) { return true }
        }
        return false
    }

    /// Whether the congestion window lets an ack-eliciting packet leave.
    var congestionAllows: Bool {
        probesToSend > 0 || bytesInFlight + pathMTU.current <= congestion.window
    }

    /// The plaintext of the next packet, if anything is due: an acknowledgement, control
    /// frames, or stream data within the flow-control and congestion limits.
    mutating func nextPacket(now: Instant, statistics: inout TransportStatistics) -> [UInt8]? {
        let eliciting = congestionAllows && hasElicitingWork
        // Path MTU discovery probes while more stream data waits than one datagram carries,
        // which is when a larger datagram pays; a session that only trickles small messages
        // keeps the size it has. Data does not wait for probes (they are outside the
        // congestion window), only the order of packets changes.
        if eliciting, hasQueuedStreamBytes(moreThan: maximumPlaintext), let size = pathMTU.dueProbe(now: now) {
            return buildSizeProbe(size: size, now: now, statistics: &statistics)
        }
        guard eliciting || isAckDue(now: now) else { return nil }
        return buildPacket(now: now, eliciting: eliciting, statistics: &statistics)
    }

    /// A size probe: PING and PADDING making the packet exactly `size` bytes on the wire (with
    /// an acknowledgement first when one is pending). It carries no stream data, so its loss
    /// costs nothing but the probe.
    private mutating func buildSizeProbe(size: Int, now: Instant, statistics: inout TransportStatistics) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(size - Self.packetOverhead)
        TransportBytes.appendLittleEndian(nextPacketNumber, to: &out)
        appendAckIfPending(now: now, to: &out)
        TransportFrame.ping.encode(to: &out)
        let padding = size - Self.packetOverhead - out.count
        if padding > 0 { TransportFrame.padding(count: padding).encode(to: &out) }
        // Not counted in bytes in flight: probes are few (``PathMTUSearch/attempts`` per step,
        // a handful of steps per search) and must not hold data back while the window is small.
        sent.append(SentPacket(packetNumber: nextPacketNumber, sentAt: now, size: size, state: .inFlight, frames: [.sizeProbe(size: size)]))
        packetsInFlight += 1
        lastAckElicitingSentAt = now
        pathMTU.probeSent()
        statistics.sizeProbesSent += 1
        nextPacketNumber += 1
        return out
    }

    /// Appends an ACK frame when an acknowledgement is pending, and clears it.
    private mutating func appendAckIfPending(now: Instant, to out: inout [UInt8]) {
        guard ackDeadline != nil, receivedPackets.last != nil else { return }
        let delay = now >= largestReceivedAt ? (now - largestReceivedAt).nanosecondsClamped / 1000 : 0
        TransportFrame.encodeAck(ranges: receivedPackets.ranges[...], delayMicroseconds: UInt64(delay), to: &out)
        ackDeadline = nil
        unacknowledgedCount = 0
    }

    /// The plaintext of a keepalive: a packet number and, when one is pending, an
    /// acknowledgement (neither asks for an answer).
    mutating func keepalivePacket(now: Instant, statistics: inout TransportStatistics) -> [UInt8] {
        buildPacket(now: now, eliciting: false, statistics: &statistics)
    }

    private mutating func buildPacket(now: Instant, eliciting: Bool, statistics: inout TransportStatistics) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(maximumPlaintext)
        TransportBytes.appendLittleEndian(nextPacketNumber, to: &out)
        appendAckIfPending(now: now, to: &out)
        var frames: [SentFrame] = []
        if eliciting {
            writeControlFrames(into: &out, frames: &frames)
            writeStreamFrames(into: &out, frames: &frames, statistics: &statistics)
            if frames.isEmpty && (probesToSend > 0 || pingPending) {
                TransportFrame.ping.encode(to: &out)
                frames.append(.ping)
            }
        }
        if !frames.isEmpty {
            pingPending = false
            let size = out.count + Self.packetOverhead
            sent.append(SentPacket(packetNumber: nextPacketNumber, sentAt: now, size: size, state: .inFlight, frames: frames))
            bytesInFlight += size
            packetsInFlight += 1
            lastAckElicitingSentAt = now
            if probesToSend > 0 { probesToSend -= 1 }
        }
        nextPacketNumber += 1
        return out
    }

    /// MAX_DATA, MAX_STREAM_DATA and RESET_STREAM frames that are due and fit.
    private mutating func writeControlFrames(into out: inout [UInt8], frames: inout [SentFrame]) {
        let room = maximumPlaintext - TransportSpec.maximumStreamHeaderLength
        if needsMaxData && out.count < room {
            TransportFrame.maxData(localMaxData).encode(to: &out)
            frames.append(.maxData)
            needsMaxData = false
        }
        while let reset = pendingResets.last, out.count < room {
            pendingResets.removeLast()
            TransportFrame.resetStream(id: reset.wireID, code: reset.code, finalSize: reset.finalSize).encode(to: &out)
            frames.append(.reset(wireID: reset.wireID, code: reset.code, finalSize: reset.finalSize))
        }
        for index in streams.values.indices where streams.values[index].needsMaxStreamData && out.count < room {
            let stream = streams.values[index]
            TransportFrame.maxStreamData(id: stream.wireID, maximum: stream.advertisedMaximum).encode(to: &out)
            frames.append(.maxStreamData(number: stream.id.number))
            streams.values[index].needsMaxStreamData = false
        }
    }

    /// STREAM frames, lost bytes first, then new bytes, round robin over the streams.
    private mutating func writeStreamFrames(
        into out: inout [UInt8], frames: inout [SentFrame], statistics: inout TransportStatistics
    ) {
        let count = streams.count
        guard count > 0 else { return }
        let start = roundRobin % count
        for step in 0..<count {
            let index = (start + step) % count
            while let space = streamSpace(out.count), writeOneFrame(stream: index, space: space, into: &out, frames: &frames, statistics: &statistics) {}
            if streamSpace(out.count) == nil {
                roundRobin = index + 1
                return
            }
        }
        roundRobin = start + 1
    }

    /// Payload bytes a STREAM frame could still carry, or `nil` when none fits.
    private func streamSpace(_ used: Int) -> Int? {
        let space = maximumPlaintext - used - TransportSpec.maximumStreamHeaderLength
        return space > 0 ? space : nil
    }

    /// Writes one STREAM frame of stream `index` if it has something to send; returns whether
    /// it wrote one.
    private mutating func writeOneFrame(
        stream index: Int, space: Int, into out: inout [UInt8], frames: inout [SentFrame],
        statistics: inout TransportStatistics
    ) -> Bool {
        let stream = streams.values[index]
        var range: Range<UInt64>
        var isRetransmission = false
        if let lost = stream.lost.first {
            range = lost.lowerBound..<min(lost.upperBound, lost.lowerBound + UInt64(space))
            isRetransmission = true
        } else {
            let limit = stream.newDataLimit(sessionCredit: peerMaxData - dataSent)
            if limit > stream.sentOffset {
                range = stream.sentOffset..<min(limit, stream.sentOffset + UInt64(space))
            } else if stream.needsFin {
                range = stream.writeEnd..<stream.writeEnd
            } else {
                return false
            }
        }
        let fin = stream.finRequested && !stream.finSent && range.upperBound == stream.writeEnd
        TransportFrame.encodeStreamHeader(id: stream.wireID, offset: range.lowerBound, length: range.count, fin: fin, to: &out)
        out.append(contentsOf: stream.bytes(range))
        frames.append(.stream(number: stream.id.number, range: range, fin: fin))
        if isRetransmission {
            streams.values[index].lost.remove(range)
            statistics.bytesRetransmitted += range.count
        } else if range.upperBound > stream.sentOffset {
            dataSent += range.upperBound - stream.sentOffset
            streams.values[index].sentOffset = range.upperBound
        }
        if fin { streams.values[index].finSent = true }
        // An empty frame that carries only the end is written once per packet at most.
        return !range.isEmpty
    }
}
