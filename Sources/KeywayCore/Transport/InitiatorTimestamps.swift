import Collections
import KeywayCrypto

/// The latest handshake timestamp accepted from initiators whose sessions are gone, so that a
/// replay of an old initiation after the session was dropped (idle expiry, eviction, an abort)
/// is still refused, as it is while the session lives (``PeerSession/lastInitiationTimestamp``).
///
/// Definitions: an entry is a static key, the latest TAI64N timestamp accepted from it, where
/// its session came from (``SessionOrigin``) and when the session was last active (the lifetime
/// runs from then). It is written when a
/// session that had accepted an initiation is removed, and read by the replay check of every
/// initiation from a key without a session.
///
/// Bounds: at most ``TransportConfiguration/maximumRememberedInitiators`` entries, the least
/// recently remembered forgotten first (O(1) amortised: a recency queue compacted when stale
/// entries make up half of it); at most ``TransportConfiguration/maximumRememberedInitiatorsPerPrefix``
/// from one source prefix (local-network origins are exempt like the session limit), beyond
/// which a prefix's further initiators are not remembered, so throw-away keys from one network
/// cannot flush everyone else's; an entry counts for
/// ``TransportConfiguration/rememberedInitiatorLifetime``, so a node whose wall clock went back
/// across a restart is refused for at most that long (or until its clock passes the old value).
struct InitiatorTimestamps: Sendable {
    private struct Entry: Sendable {
        var timestamp: HandshakeTimestamp
        var origin: SessionOrigin?
        var rememberedAt: Instant
        var serial: UInt64
    }

    private var entries: [Ed25519.PublicKey: Entry] = [:]
    /// Keys in the order they were remembered, with the serial of that write (stale once the
    /// key was written again or forgotten).
    private var recency = Deque<(key: Ed25519.PublicKey, serial: UInt64)>()
    private var perPrefix: [AddressPrefix: Int] = [:]
    private var serial: UInt64 = 0

    /// Keys remembered.
    var count: Int { entries.count }

    /// The latest timestamp accepted from `key` before its session went, if still remembered.
    func latest(from key: Ed25519.PublicKey, now: Instant, configuration: TransportConfiguration) -> HandshakeTimestamp? {
        guard let entry = entries[key], now < entry.rememberedAt + configuration.rememberedInitiatorLifetime else { return nil }
        return entry.timestamp
    }

    /// Remembers `timestamp` for `key`, whose session (opened from `origin`, `nil` when this
    /// node dialled; last active at `now`) is being removed.
    mutating func remember(
        _ timestamp: HandshakeTimestamp, for key: Ed25519.PublicKey, origin: SessionOrigin?,
        now: Instant, configuration: TransportConfiguration
    ) {
        let limit = max(0, configuration.maximumRememberedInitiators)
        guard limit > 0 else { return }
        let old = entries[key]
        let kept = max(timestamp, old?.timestamp ?? timestamp)
        forget(key)
        if case let .prefix(prefix)? = origin,
           perPrefix[prefix, default: 0] >= max(0, configuration.maximumRememberedInitiatorsPerPrefix) {
            // The prefix is full: what was remembered for this key stays as it was.
            if let old { restore(key, old) }
            return
        }
        serial &+= 1
        entries[key] = Entry(timestamp: kept, origin: origin, rememberedAt: now, serial: serial)
        recency.append((key, serial))
        if case let .prefix(prefix)? = origin { perPrefix[prefix, default: 0] += 1 }
        while entries.count > limit, let oldest = recency.popFirst() {
            if entries[oldest.key]?.serial == oldest.serial { forget(oldest.key) }
        }
        if recency.count > 2 * entries.count + 64 {
            recency = Deque(recency.filter { entries[$0.key]?.serial == $0.serial })
        }
    }

    /// Puts back an entry just forgotten (its recency entry is still current).
    private mutating func restore(_ key: Ed25519.PublicKey, _ entry: Entry) {
        entries[key] = entry
        if case let .prefix(prefix)? = entry.origin { perPrefix[prefix, default: 0] += 1 }
    }

    /// Forgets `key` (its recency entry goes stale).
    private mutating func forget(_ key: Ed25519.PublicKey) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        if case let .prefix(prefix)? = entry.origin {
            perPrefix[prefix, default: 1] -= 1
            if perPrefix[prefix] == 0 { perPrefix.removeValue(forKey: prefix) }
        }
    }
}
