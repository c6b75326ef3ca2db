import KeywayCrypto

/// Everything a ``SessionManager`` knows about one peer key: where it is, its keys (current,
/// previous and unconfirmed), a handshake in progress, and the reliable layer on top.
struct PeerSession: Sendable {
    /// A handshake this node initiated and is waiting on.
    struct Initiation: Sendable {
        /// The Noise state after message 1.
        var noise: NoiseHandshakeState
        /// This node's index for the keys it will make.
        let localIndex: UInt32
        /// The initiation's MAC1, which a cookie reply binds to.
        let mac1: [UInt8]
        /// When this handshake (not this attempt) started.
        let firstAttemptAt: Instant
        /// When this attempt was sent.
        let sentAt: Instant
        /// Attempts so far.
        let attempts: Int
        /// When the next attempt is due.
        let retryAt: Instant
    }

    /// Keys made as responder that wait for the initiator's first data packet (key
    /// confirmation), and what that initiator said about itself.
    struct Unconfirmed: Sendable {
        var keys: SessionKeys
        let remoteStateID: UInt64
    }

    /// The peer's key.
    let key: Ed25519.PublicKey
    /// MAC1's key for packets to this peer.
    let mac1Key: [UInt8]
    /// The peer's static X25519 key (the X25519 form of ``key``) once converted or verified:
    /// the conversion costs about as much as a Diffie-Hellman, so a rekey does not pay it again.
    var staticKey: [UInt8]?
    /// A random number naming this node's state about the peer; a new one means this node
    /// forgot the peer (restart, idle expiry), which tells the peer to start its streams over.
    let localStateID: UInt64
    /// The peer's state ID, once a handshake confirmed it.
    var remoteStateID: UInt64?
    /// The timestamp of the newest initiation accepted from this key: older or equal ones are
    /// replays and are dropped (WireGuard's rule).
    var lastInitiationTimestamp: HandshakeTimestamp?
    /// Whether this node dialled the peer (so the ``PeerPolicy`` does not apply).
    var dialled = false

    /// Where packets go.
    var endpoint: Endpoint?
    /// Every endpoint known for the peer (handshakes go to all).
    var candidates: [Endpoint] = []
    /// The `seq` of the newest endpoint record applied.
    var recordSequence: Int64?

    /// The keys packets are sent with.
    var current: SessionKeys?
    /// The keys before, kept for packets still in flight.
    var previous: SessionKeys?
    /// Responder keys awaiting confirmation.
    var next: Unconfirmed?
    /// A handshake in progress.
    var initiation: Initiation?
    /// A cookie from the peer, and when it arrived.
    var cookie: (bytes: [UInt8], receivedAt: Instant)?

    /// The reliable layer.
    var connection: StreamConnection
    /// Whether a handshake ever completed.
    var established = false
    /// The application asked for a session (connect or stream), so handshakes are retried.
    var wanted = false

    /// When an authenticated packet last arrived.
    var lastReceivedAt: Instant?
    /// When a packet was last sent.
    var lastSentAt: Instant?
    /// When an empty keepalive is due (data arrived and nothing was sent since).
    var keepaliveAt: Instant?
    /// When the peer may next be reported unresponsive (resolve rate limit).
    var nextResolveAt: Instant?
    /// Receiver probes sent since stream data last arrived (their interval doubles).
    var probesSinceData = 0
    /// The last time anything happened, for idle expiry.
    var lastActivity: Instant
    /// The reassembly cost of ``connection`` as last added to the manager's node-wide total.
    var reassemblyCharged: UInt64 = 0
    /// What this session is charged against ``TransportConfiguration/receiveBudget``
    /// (``StreamConnection/unconsumedBytes`` when last synchronised).
    var receiveCharged: UInt64 = 0
    /// Where the initiation that made this session came from, when the peer opened it
    /// (``TransportConfiguration/maximumSessionsPerPrefix``); `nil` when this node dialled.
    var admittedFrom: SessionOrigin?

    // MARK: Timer queue (``SessionManager/settleTimers()``)

    /// The deadline this peer has in the manager's heap, if any.
    var scheduledDeadline: Instant?
    /// The token of this peer's live heap entry (0: none).
    var deadlineToken: UInt64 = 0
    /// The peer changed and its deadline must be computed again.
    var deadlineDirty = false

    /// A peer with no keys yet.
    init(key: Ed25519.PublicKey, localStateID: UInt64, connection: StreamConnection, now: Instant) {
        self.key = key
        mac1Key = HandshakeMACs.mac1Key(for: key)
        self.localStateID = localStateID
        self.connection = connection
        lastActivity = now
    }

    /// The endpoints a handshake initiation goes to: the current one first, then the others.
    func handshakeTargets(limit: Int) -> [Endpoint] {
        var targets: [Endpoint] = []
        for endpoint in [endpoint].compactMap({ $0 }) + candidates where !targets.contains(endpoint) {
            targets.append(endpoint)
        }
        return Array(targets.prefix(limit))
    }

    /// The local indices of every key set and handshake, to unregister them all.
    var localIndices: [UInt32] {
        [current?.localIndex, previous?.localIndex, next?.keys.localIndex, initiation?.localIndex].compactMap { $0 }
    }

    /// Since when the peer owes an answer while data waits, or `nil` if it owes none: the
    /// oldest unacknowledged packet sent after the last packet received, or the start of a
    /// handshake the application is waiting on.
    func awaitingSince() -> Instant? {
        if let oldest = connection.oldestInFlightSentAt, (lastReceivedAt ?? .zero) <= oldest {
            return oldest
        }
        if let initiation, wanted || connection.hasStreamWork {
            return initiation.firstAttemptAt
        }
        return nil
    }
}
