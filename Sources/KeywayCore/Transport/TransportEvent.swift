import KeywayCrypto

/// A stream as the application names it: the peer's key and a number this node chose.
///
/// The number is local (the wire uses another, per session), so a stream keeps its name when
/// a restarted peer makes the session start over.
public struct StreamID: Hashable, Sendable, CustomStringConvertible {
    /// The peer at the other end.
    public let peer: Ed25519.PublicKey
    /// This node's number for the stream, unique among all its streams.
    public let number: UInt64

    /// A stream name from its parts.
    public init(peer: Ed25519.PublicKey, number: UInt64) {
        self.peer = peer
        self.number = number
    }

    /// `#number`, for logs.
    public var description: String { "stream #\(number)" }
}

/// Why a stream was reset.
public enum StreamResetReason: Sendable, Equatable {
    /// The peer reset it with this application error code.
    case peer(code: UInt64)
    /// This node refused it (too many incoming streams).
    case refused
    /// The peer restarted after bytes of this stream had reached it, so they are lost.
    case peerRestarted
    /// The peer could not be reached for ``TransportConfiguration/handshakeGiveUpAfter``.
    case unreachable
    /// The peer broke the transport protocol and its session was closed
    /// (``TransportEvent/sessionAborted(_:_:)``).
    case sessionAborted(TransportViolation)
}

/// A rule of the transport protocol that an authenticated peer broke; the session is closed
/// at once, as a QUIC endpoint closes a connection with the error of the same name (RFC 9000
/// section 20.1, whose codes are the raw values).
public enum TransportViolation: UInt64, Sendable, Equatable {
    /// More stream bytes than the window granted, for one stream or the session
    /// (FLOW_CONTROL_ERROR).
    case flowControl = 0x3
    /// A stream ID beyond the allowance of incoming streams, or more refused streams
    /// outstanding than this node keeps resets for (STREAM_LIMIT_ERROR).
    case streamLimit = 0x4
    /// A frame for a stream of this node's parity that this node never opened
    /// (STREAM_STATE_ERROR).
    case streamState = 0x5
    /// A final size below the bytes already received, or other than one already known
    /// (FINAL_SIZE_ERROR).
    case finalSize = 0x6
}

/// Why a session moved to another endpoint.
public enum RebindReason: Sendable, Equatable {
    /// An authenticated packet arrived from the new endpoint (no extra round trip).
    case authenticatedPacket
    /// A newer endpoint record no longer lists the old endpoint.
    case record
}

/// What the transport core reports to its caller through ``SessionManager/pollEvent()``.
public enum TransportEvent: Sendable, Equatable {
    /// A handshake completed and keys are confirmed for `peer`: the first time, or after the
    /// peer restarted.
    case sessionEstablished(peer: Ed25519.PublicKey, endpoint: Endpoint)
    /// `peer` lost its state (it restarted); streams that had reached it were reset.
    case peerRestarted(Ed25519.PublicKey)
    /// The session with `peer` now sends to `to`.
    case endpointChanged(peer: Ed25519.PublicKey, from: Endpoint?, to: Endpoint, reason: RebindReason)
    /// `peer` does not answer (or has no known endpoint) while data waits: the caller SHOULD
    /// resolve its key and pass the result to ``SessionManager/updateEndpoints(of:to:sequence:now:)``.
    case resolveNeeded(Ed25519.PublicKey)
    /// Handshakes with `peer` went unanswered for ``TransportConfiguration/handshakeGiveUpAfter``.
    case peerUnreachable(Ed25519.PublicKey)
    /// `peer` tried to open a session and the ``PeerPolicy`` refused it.
    case peerRefused(Ed25519.PublicKey)
    /// The session with `peer` was idle and is forgotten; its keys are zeroed.
    case sessionClosed(Ed25519.PublicKey)
    /// `peer` broke the transport protocol: the session is forgotten (its keys zeroed) and its
    /// streams were reset with ``StreamResetReason/sessionAborted(_:)``. A new handshake
    /// starts a new session.
    case sessionAborted(Ed25519.PublicKey, TransportViolation)
    /// The peer opened a stream.
    case incomingStream(StreamID)
    /// In-order bytes of a stream.
    case streamData(StreamID, [UInt8])
    /// The peer finished its side of the stream; no data follows.
    case streamFinished(StreamID)
    /// The stream was aborted; nothing more is sent or received on it.
    case streamReset(StreamID, StreamResetReason)
    /// A stream whose send buffer was full can take more bytes.
    case streamWritable(StreamID)
    /// Everything written on the stream, its end included, was acknowledged.
    case streamSendComplete(StreamID)
}

/// The timers of the transport core; ``SessionManager/nextTimeout()`` is the earliest armed.
public enum TransportTimer: Sendable, Equatable {
    /// A handshake initiation went unanswered: send a fresh one (backoff and jitter).
    case handshakeRetry
    /// A handshake went unanswered too long: give up and report the peer unreachable.
    case handshakeGiveUp
    /// Data was received and nothing sent since: send an empty keepalive.
    case keepalive
    /// Nothing was sent for the persistent-keepalive interval: send an empty keepalive.
    case persistentKeepalive
    /// Outstanding data was not acknowledged in time: declare losses or send probes.
    case lossDetection
    /// A delayed acknowledgement is due.
    case ackDelay
    /// Streams wait for the peer's bytes and nothing arrived for a while: send a PING, which
    /// also tells a peer that lost track of this node's move where it is now.
    case receiverProbe
    /// The peer stopped answering while data waits: resolve its key and retry the handshake.
    case unresponsive
    /// Keys reached ``TransportConfiguration/rejectAfterTime``: zero and drop them.
    case keyExpiry
    /// The session was idle for ``TransportConfiguration/idleSessionTimeout``: forget it.
    case idleExpiry
}

/// Counters of everything the transport core did, for tests, metrics and the simulator.
public struct TransportStatistics: Sendable, Equatable {
    /// Datagrams handed to ``SessionManager/handleDatagram(_:from:now:)`` that were transport packets.
    public var datagramsReceived = 0
    /// Their bytes.
    public var bytesReceived = 0
    /// Datagrams handed out by ``SessionManager/pollTransmit()``.
    public var datagramsSent = 0
    /// Their bytes.
    public var bytesSent = 0
    /// Handshake initiations sent.
    public var initiationsSent = 0
    /// Handshake responses sent.
    public var responsesSent = 0
    /// Handshakes completed (keys derived), on either side.
    public var handshakesCompleted = 0
    /// Noise handshake messages read: each costs Diffie-Hellman operations. Floods MUST NOT
    /// raise this beyond the rate limit.
    public var handshakeMessagesProcessed = 0
    /// Cookie replies sent to initiations that arrived under load.
    public var cookieRepliesSent = 0
    /// Cookie replies accepted.
    public var cookieRepliesReceived = 0
    /// Packets dropped for their length, type or reserved bytes, before any cryptography.
    public var droppedMalformed = 0
    /// Handshake packets dropped for a wrong MAC1 (not meant for this node's key).
    public var droppedBadMAC = 0
    /// Initiations dropped by the rate limits.
    public var droppedRateLimited = 0
    /// Packets naming a session index this node does not know.
    public var droppedUnknownIndex = 0
    /// Packets that failed authentication (tampered, truncated, or a failed handshake).
    public var droppedUnauthenticated = 0
    /// Data packets whose counter was seen before or is too old.
    public var droppedReplayed = 0
    /// Data packets under expired keys.
    public var droppedExpired = 0
    /// Initiations from keys the ``PeerPolicy`` refused.
    public var droppedRefused = 0
    /// Authenticated data packets whose frames did not parse or broke the protocol.
    public var droppedBadFrames = 0
    /// Authenticated data packets not taken (nor acknowledged) because their out-of-order
    /// stream data did not fit a reassembly limit.
    public var droppedReassemblyLimit = 0
    /// Authenticated data packets not taken (nor acknowledged) because their stream data did
    /// not fit what ``TransportConfiguration/receiveBudget`` or the source prefix's share left.
    public var droppedReceiveBudget = 0
    /// Moves to a new endpoint after an authenticated packet from it.
    public var passiveRebinds = 0
    /// Moves to a new endpoint after a newer record.
    public var activeRebinds = 0
    /// Empty keepalive packets sent.
    public var keepalivesSent = 0
    /// Data packets declared lost (size probes apart).
    public var packetsLost = 0
    /// Size probes of path MTU discovery sent.
    public var sizeProbesSent = 0
    /// Size probes lost (the path did not carry their size).
    public var sizeProbesLost = 0
    /// Times a session fell back to the base datagram size because larger packets stopped
    /// arriving.
    public var pathMTUBlackHoles = 0
    /// Stream bytes sent again after a loss or probe.
    public var bytesRetransmitted = 0
    /// Times a resolve was asked for.
    public var resolvesRequested = 0
    /// Times a peer was found to have restarted.
    public var peerRestarts = 0
    /// Sessions closed because the peer broke the protocol (``TransportViolation``).
    public var sessionsAborted = 0
    /// Unconfirmed or idle sessions peers opened that were forgotten to make room for a new one
    /// (``TransportConfiguration/maximumSessions`` and the limits beside it).
    public var sessionsEvicted = 0
    /// Initiations from new keys dropped because the session limits were reached and nothing
    /// could be evicted (every session is dialled by this node or carries streams).
    public var droppedSessionLimit = 0

    /// All zeros.
    public init() {}
}

/// What ``SessionManager/sessionSummaries`` tells of one peer.
public struct SessionSummary: Sendable, Equatable {
    /// The peer's key.
    public var peer: Ed25519.PublicKey
    /// Where the session sends now.
    public var endpoint: Endpoint?
    /// Whether keys are confirmed in both directions.
    public var established: Bool
    /// Whether this node dialled the peer (else the peer dialled this node).
    public var dialled: Bool
    /// The smoothed round-trip time, once measured.
    public var smoothedRTT: Duration?
    /// The datagram size the session uses (path MTU discovery).
    public var datagramSize: Int
    /// When the last authenticated packet arrived.
    public var lastReceivedAt: Instant?
    /// When the current keys were derived (the last completed handshake).
    public var lastHandshakeAt: Instant?
}
