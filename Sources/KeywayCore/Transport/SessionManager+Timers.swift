/// Timers: every ``TransportTimer`` of every peer, and where each fires.
extension SessionManager {
    /// The armed timers of `peer` and their deadlines.
    func timers(of peer: PeerSession) -> [(TransportTimer, Instant)] {
        var timers: [(TransportTimer, Instant)] = []
        if let initiation = peer.initiation {
            timers.append((.handshakeRetry, initiation.retryAt))
            timers.append((.handshakeGiveUp, initiation.firstAttemptAt + configuration.handshakeGiveUpAfter))
        }
        if let keepaliveAt = peer.keepaliveAt, peer.current != nil { timers.append((.keepalive, keepaliveAt)) }
        if let interval = configuration.persistentKeepalive, peer.current != nil {
            timers.append((.persistentKeepalive, (peer.lastSentAt ?? peer.lastActivity) + interval))
        }
        if peer.current != nil, let (at, timer) = peer.connection.nextTimeout { timers.append((timer, at)) }
        if let unresponsive = unresponsiveDeadline(of: peer) { timers.append((.unresponsive, unresponsive)) }
        if let probe = receiverProbeDeadline(of: peer) { timers.append((.receiverProbe, probe)) }
        let created = [peer.current?.createdAt, peer.previous?.createdAt, peer.next?.keys.createdAt].compactMap { $0 }
        if let oldest = created.min() { timers.append((.keyExpiry, oldest + configuration.rejectAfterTime)) }
        if peer.initiation == nil && !peer.connection.hasStreams {
            timers.append((.idleExpiry, peer.lastActivity + configuration.idleSessionTimeout))
        }
        return timers
    }

    /// When the peer counts as unresponsive: ``TransportConfiguration/unresponsiveAfter`` after it
    /// started owing an answer (and, once a session carries data, at least two probe timeouts
    /// of its measured round-trip time), or at once when no endpoint is known and the
    /// application waits; never before the next allowed resolve. An unanswered handshake has no
    /// round-trip sample to wait on, so it waits ``TransportConfiguration/handshakeUnresponsiveAfter``
    /// only: a dial to a stale address is re-resolved at the first handshake retry, not after
    /// two probe timeouts of the initial estimate.
    func unresponsiveDeadline(of peer: PeerSession) -> Instant? {
        let due: Instant
        if peer.endpoint == nil {
            guard peer.wanted || peer.connection.isAwaitingPeer else { return nil }
            due = peer.lastActivity
        } else {
            guard let since = peer.awaitingSince() else { return nil }
            let wait: Duration
            if peer.current == nil {
                wait = configuration.handshakeUnresponsiveAfter
            } else {
                let probes = Duration.nanoseconds(2 * peer.connection.rtt.probeTimeout(maximumAckDelay: limits.maximumAckDelay))
                wait = max(configuration.unresponsiveAfter, probes)
            }
            due = since + wait
        }
        return max(due, peer.nextResolveAt ?? due)
    }

    /// When a receiver probe is due: streams wait for the peer and nothing arrived for
    /// ``TransportConfiguration/unresponsiveAfter``, doubling with each probe that brought no
    /// stream data, up to ``TransportConfiguration/keepaliveTimeout``.
    func receiverProbeDeadline(of peer: PeerSession) -> Instant? {
        guard peer.current != nil, let last = peer.lastReceivedAt, peer.connection.isAwaitingStreamData else { return nil }
        let delay = min(configuration.unresponsiveAfter * (1 << min(peer.probesSinceData, 16)), configuration.keepaliveTimeout)
        return max(last, peer.lastSentAt ?? last) + delay
    }

    /// Fires every timer whose deadline is at or before `now`.
    /// Only the peers whose deadline passed are visited (``popDuePeers(now:)``).
    public mutating func handleTimeout(now: Instant) {
        defer { settleTimers() }
        for slot in popDuePeers(now: now) where peers[slot] != nil {
            touch(slot)
            handleTimers(slot: slot, now: now)
        }
    }

    private mutating func handleTimers(slot: Int, now: Instant) {
        timerEvaluations += 1
        expireKeys(slot: slot, now: now)
        if let initiation = peers[slot]!.initiation {
            if initiation.firstAttemptAt + configuration.handshakeGiveUpAfter <= now {
                // handshakeGiveUp
                giveUp(slot: slot)
            } else if initiation.retryAt <= now {
                // handshakeRetry
                startHandshake(slot: slot, now: now)
            }
        }
        if peers[slot]!.current != nil, let (at, _) = peers[slot]!.connection.nextTimeout, at <= now {
            // lossDetection and ackDelay: the flush below sends a due acknowledgement.
            peers[slot]!.connection.handleLossTimeout(now: now, statistics: &statistics)
        }
        if let unresponsive = unresponsiveDeadline(of: peers[slot]!), unresponsive <= now {
            requestResolve(slot: slot, now: now)
            if peers[slot]!.initiation == nil { startHandshake(slot: slot, now: now) }
        }
        if let probe = receiverProbeDeadline(of: peers[slot]!), probe <= now {
            peers[slot]!.probesSinceData += 1
            peers[slot]!.connection.pingPending = true
        }
        flush(slot: slot, now: now)
        if let keepaliveAt = peers[slot]!.keepaliveAt, keepaliveAt <= now {
            peers[slot]!.keepaliveAt = nil
            sendKeepalive(slot: slot, now: now)
        }
        if let interval = configuration.persistentKeepalive, peers[slot]!.current != nil,
           (peers[slot]!.lastSentAt ?? peers[slot]!.lastActivity) + interval <= now {
            sendKeepalive(slot: slot, now: now)
        }
        let peer = peers[slot]!
        if peer.initiation == nil && !peer.connection.hasStreams && peer.lastActivity + configuration.idleSessionTimeout <= now {
            // idleExpiry
            removePeer(slot: slot)
            events.append(.sessionClosed(peer.key))
        }
    }

    /// ``TransportTimer/keyExpiry``: drops (and so zeroes) keys older than
    /// ``TransportConfiguration/rejectAfterTime``.
    private mutating func expireKeys(slot: Int, now: Instant) {
        let limit = configuration.rejectAfterTime
        if let keys = peers[slot]!.previous, keys.createdAt + limit <= now {
            indexTable.removeValue(forKey: keys.localIndex)
            peers[slot]!.previous = nil
        }
        if let keys = peers[slot]!.current, keys.createdAt + limit <= now {
            indexTable.removeValue(forKey: keys.localIndex)
            peers[slot]!.current = nil
        }
        if let next = peers[slot]!.next, next.keys.createdAt + limit <= now {
            indexTable.removeValue(forKey: next.keys.localIndex)
            peers[slot]!.next = nil
        }
    }
}
