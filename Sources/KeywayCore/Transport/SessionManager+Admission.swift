/// Admission of sessions that peers open: bounded in all, per source prefix and while
/// unconfirmed, making room by evicting the least recently active session that nothing
/// depends on rather than refusing the newcomer (issue 12, attack 4: 1,111 sessions from
/// throw-away keys at one address).
///
/// Only sessions a peer opened can be evicted, and only while unconfirmed (no data packet
/// under their keys yet) or idle (no stream); sessions this node dialled, and sessions that
/// carry streams, stay. A newcomer is refused only when nothing can be evicted.
extension SessionManager {
    /// What a session opened from `source` counts against: its prefix
    /// (``TransportConfiguration/sessionPrefixIPv4Bits``, ``TransportConfiguration/sessionPrefixIPv6Bits``),
    /// or no prefix for a local-network source when
    /// ``TransportConfiguration/sessionPrefixLimitExemptLocalNetworks`` is on.
    func sessionOrigin(of source: Endpoint) -> SessionOrigin {
        if configuration.sessionPrefixLimitExemptLocalNetworks && source.address.isLocalNetwork { return .localNetwork }
        return .prefix(AddressPrefix(source.address, ipv4Bits: configuration.sessionPrefixIPv4Bits, ipv6Bits: configuration.sessionPrefixIPv6Bits))
    }

    /// Makes room for one more session opened from `origin`: evicts until the session table,
    /// the origin's prefix (if it has one) and the unconfirmed sessions are all under their
    /// limits. Returns `false` (nothing evicted beyond what was possible) when no evictable
    /// session is left.
    ///
    /// Each pass scans the table once; it runs only for a new key after its initiation's
    /// Diffie-Hellman work (which the handshake rate limits bound), never per data packet.
    mutating func makeRoomForSession(from origin: SessionOrigin) -> Bool {
        let prefix: AddressPrefix?
        if case let .prefix(network) = origin { prefix = network } else { prefix = nil }
        for _ in 0..<3 {
            var unconfirmed = 0
            var oldestUnconfirmed: (slot: Int, at: Instant)?
            var oldestInPrefix: (slot: Int, at: Instant)?
            var oldest: (slot: Int, at: Instant)?
            for (slot, peer) in peers.enumerated() {
                guard let peer, peer.admittedFrom != nil, !peer.dialled else { continue }
                let isUnconfirmed = !peer.established
                guard isUnconfirmed || !peer.connection.hasStreams else { continue }
                let at = peer.lastActivity
                if isUnconfirmed {
                    unconfirmed += 1
                    if oldestUnconfirmed.map({ at < $0.at }) ?? true { oldestUnconfirmed = (slot, at) }
                }
                if oldest.map({ at < $0.at }) ?? true { oldest = (slot, at) }
                if prefix != nil, peer.admittedFrom == origin, oldestInPrefix.map({ at < $0.at }) ?? true { oldestInPrefix = (slot, at) }
            }
            let victim: Int?
            if let prefix, sessionsByPrefix[prefix, default: 0] >= configuration.maximumSessionsPerPrefix {
                victim = oldestInPrefix?.slot
            } else if unconfirmed >= configuration.maximumUnconfirmedSessions {
                victim = oldestUnconfirmed?.slot
            } else if slots.count >= configuration.maximumSessions {
                victim = oldest?.slot
            } else {
                return true
            }
            guard let victim else { return false }
            evict(slot: victim)
        }
        let prefixHasRoom = prefix.map { sessionsByPrefix[$0, default: 0] < configuration.maximumSessionsPerPrefix } ?? true
        return prefixHasRoom && slots.count < configuration.maximumSessions
    }

    /// Forgets the evictable session in `slot` to make room (it has no streams to reset).
    private mutating func evict(slot: Int) {
        guard let peer = peers[slot] else { return }
        for number in peer.connection.streams.keys {
            events.append(.streamReset(StreamID(peer: peer.key, number: number), .refused))
        }
        removePeer(slot: slot)
        statistics.sessionsEvicted += 1
        events.append(.sessionClosed(peer.key))
    }

    /// Records that the new session in `slot` was opened by an initiation from `origin`.
    mutating func admitted(slot: Int, from origin: SessionOrigin) {
        guard peers[slot]!.admittedFrom == nil, !peers[slot]!.dialled else { return }
        peers[slot]!.admittedFrom = origin
        if case let .prefix(prefix) = origin { sessionsByPrefix[prefix, default: 0] += 1 }
    }
}

/// What a session a peer opened counts against (``TransportConfiguration/maximumSessionsPerPrefix``).
enum SessionOrigin: Hashable, Sendable {
    /// A source prefix on the internet.
    case prefix(AddressPrefix)
    /// A source on loopback or a private network, exempt from the per-prefix limit
    /// (``TransportConfiguration/sessionPrefixLimitExemptLocalNetworks``).
    case localNetwork
}
