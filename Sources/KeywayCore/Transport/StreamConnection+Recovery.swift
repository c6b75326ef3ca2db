/// Loss recovery (RFC 9002, simplified): acknowledgements, RTT samples, loss detection by
/// packet and time thresholds, and probe timeouts.
extension StreamConnection {

    /// The index in ``sent`` of the first packet numbered `packetNumber` or above.
    private func sentIndex(atLeast packetNumber: UInt64) -> Int {
        var low = 0, high = sent.count
        while low < high {
            let mid = (low + high) / 2
            if sent[mid].packetNumber < packetNumber { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// An ACK frame arrived.
    mutating func onAck(ranges: [Range<UInt64>], delayMicroseconds: UInt64, now: Instant, sink: inout Sink) {
        guard let top = ranges.last, top.upperBound <= nextPacketNumber else { return }
        let largest = top.upperBound - 1
        var newest: SentPacket?
        var touched: [UInt64] = []
        for range in ranges {
            var index = sentIndex(atLeast: range.lowerBound)
            while index < sent.count, sent[index].packetNumber < range.upperBound {
                if sent[index].state == .inFlight {
                    sent[index].state = .done
                    let packet = sent[index]
                    settle(packet)
                    if !packet.isSizeProbe { congestion.onAcknowledged(bytes: packet.size, sentAt: packet.sentAt) }
                    for frame in packet.frames { acknowledged(frame, touched: &touched) }
                    if newest.map({ $0.packetNumber < packet.packetNumber }) ?? true { newest = packet }
                }
                index += 1
            }
        }
        largestAcked = max(largestAcked ?? 0, largest)
        if let newest {
            if newest.packetNumber == largest {
                // The peer's delay is any varint: saturate rather than wrap (the estimator caps
                // it at the maximum ack delay anyway).
                let (scaled, overflow) = Int64(clamping: delayMicroseconds).multipliedReportingOverflow(by: 1000)
                let delay = overflow ? Int64.max : scaled
                rtt.update(sample: (now - newest.sentAt).nanosecondsClamped, ackDelay: delay, maximumAckDelay: limits.maximumAckDelay)
            }
            probeCount = 0
        }
        detectLosses(now: now, statistics: &sink.statistics)
        dropSettled()
        for number in touched {
            if let stream = streams[number], stream.writeBlocked,
               Int(stream.writeEnd - stream.ackedPrefix) * 2 <= limits.sendBufferLimit {
                streams[number]?.writeBlocked = false
                sink.events.append(.streamWritable(stream.id))
            }
            finishIfDone(number: number, sink: &sink)
        }
    }

    /// Takes a packet out of the in-flight accounting.
    private mutating func settle(_ packet: SentPacket) {
        if !packet.isSizeProbe { bytesInFlight -= packet.size }
        packetsInFlight -= 1
    }

    /// Pops settled packets off the front of ``sent``.
    private mutating func dropSettled() {
        while let first = sent.first, first.state == .done { sent.removeFirst() }
    }

    /// What the acknowledgement of `frame` means.
    private mutating func acknowledged(_ frame: SentFrame, touched: inout [UInt64]) {
        if case let .sizeProbe(size) = frame {
            pathMTU.probeAcknowledged(size: size)
            congestion.datagramSizeChanged(to: pathMTU.current)
            return
        }
        guard case let .stream(number, range, fin) = frame, streams[number] != nil else { return }
        streams[number]!.acknowledge(range, fin: fin)
        if touched.last != number { touched.append(number) }
    }

    /// What the loss of `frame` means: its content is queued again.
    private mutating func lost(_ frame: SentFrame) {
        switch frame {
        case let .stream(number, range, fin):
            streams[number]?.markLost(range, fin: fin)
        case .maxData:
            needsMaxData = true
        case let .maxStreamData(number):
            if streams[number]?.finalSize == nil { streams[number]?.needsMaxStreamData = true }
        case let .reset(wireID, code, finalSize):
            pendingResets.append((wireID, code, finalSize))
        case .ping:
            break
        case let .sizeProbe(size):
            pathMTU.probeLost(size: size)
        }
    }

    /// Declares lost every in-flight packet below the largest acknowledged one that is
    /// ``TransportSpec/lossPacketThreshold`` packets or ``RTTEstimator/lossDelay`` older; arms ``lossTime`` for
    /// the next one that may become lost by time.
    mutating func detectLosses(now: Instant, statistics: inout TransportStatistics) {
        lossTime = nil
        guard let largestAcked else { return }
        let delay = Duration.nanoseconds(rtt.lossDelay)
        var lostSentAt: Instant?
        for index in sent.indices {
            let packet = sent[index]
            guard packet.packetNumber < largestAcked else { break }
            guard packet.state == .inFlight else { continue }
            if packet.packetNumber + TransportSpec.lossPacketThreshold <= largestAcked || packet.sentAt + delay <= now {
                sent[index].state = .done
                settle(packet)
                for frame in packet.frames { lost(frame) }
                // A lost size probe says the path is narrower, not congested (RFC 8899 4.4).
                if packet.isSizeProbe {
                    statistics.sizeProbesLost += 1
                    continue
                }
                statistics.packetsLost += 1
                lostSentAt = max(lostSentAt ?? packet.sentAt, packet.sentAt)
            } else {
                let at = packet.sentAt + delay
                lossTime = min(lossTime ?? at, at)
            }
        }
        if let lostSentAt { congestion.onLoss(sentAt: lostSentAt, now: now) }
    }

    /// When the probe timeout fires, if packets are in flight.
    var probeDeadline: Instant? {
        guard packetsInFlight > 0, let last = lastAckElicitingSentAt else { return nil }
        let timeout = rtt.probeTimeout(maximumAckDelay: limits.maximumAckDelay) << min(probeCount, 16)
        return last + .nanoseconds(timeout)
    }

    /// The earliest timer of this layer: a delayed acknowledgement, a loss by time, a probe.
    var nextTimeout: (at: Instant, timer: TransportTimer)? {
        var best: (at: Instant, timer: TransportTimer)?
        if let ackDeadline { best = (ackDeadline, .ackDelay) }
        if let recovery = lossTime ?? probeDeadline, best.map({ recovery < $0.at }) ?? true {
            best = (recovery, .lossDetection)
        }
        return best
    }

    /// Fires the loss-detection timer if due: losses by time first, else a probe timeout,
    /// which queues the oldest in-flight data again and lets ``TransportSpec/probePackets`` packets out.
    mutating func handleLossTimeout(now: Instant, statistics: inout TransportStatistics) {
        if let lossTime, lossTime <= now {
            detectLosses(now: now, statistics: &statistics)
            dropSettled()
            return
        }
        guard let probeDeadline, probeDeadline <= now else { return }
        probeCount += 1
        probesToSend = TransportSpec.probePackets
        if probeCount >= limits.pathMTUBlackHoleProbeTimeouts, pathMTU.current > pathMTU.minimum {
            // Nothing was acknowledged through several timeouts: packets of this size may not
            // cross (the path shrank, or is a tunnel narrower than the base). Fall back a level
            // (discovered size -> base -> minimum) and search again below what failed.
            pathMTU.blackHole()
            congestion.datagramSizeChanged(to: pathMTU.current)
            statistics.pathMTUBlackHoles += 1
        }
        var probed = 0
        for packet in sent where packet.state == .inFlight && !packet.isSizeProbe {
            for frame in packet.frames { lost(frame) }
            probed += 1
            if probed == TransportSpec.probePackets { break }
        }
    }

    /// The peer moved to a new endpoint that a record revealed: whatever is in flight went to
    /// the old one, so it is all declared lost (without counting as congestion) and queued
    /// again, and the congestion window starts over for the new path, as QUIC does on
    /// migration.
    mutating func pathChanged(statistics: inout TransportStatistics) {
        for index in sent.indices where sent[index].state == .inFlight {
            sent[index].state = .done
            settle(sent[index])
            statistics.packetsLost += 1
            for frame in sent[index].frames { lost(frame) }
        }
        dropSettled()
        lossTime = nil
        probeCount = 0
        // The new path's MTU is unknown: start a fresh search from the base size.
        pathMTU = limits.pathMTUSearch
        congestion = NewReno(
            datagramSize: pathMTU.current, initialPackets: limits.initialWindowPackets,
            minimumPackets: limits.minimumWindowPackets)
    }
}
