import KeywayCrypto

/// Which keys may open a session with this node (it may always dial any key itself).
public enum PeerPolicy: Sendable {
    /// Every key may open a session.
    case anyone
    /// Only these keys may open a session.
    case only(Set<Ed25519.PublicKey>)
    /// The function decides; it MUST be pure and fast (it runs for every authenticated
    /// handshake initiation).
    case decide(@Sendable (Ed25519.PublicKey) -> Bool)

    /// Whether `key` may open a session.
    public func allows(_ key: Ed25519.PublicKey) -> Bool {
        switch self {
        case .anyone: return true
        case let .only(keys): return keys.contains(key)
        case let .decide(decide): return decide(key)
        }
    }
}

/// Every tunable limit of the transport core, with the reason for its default.
///
/// These are implementation choices; the constants the wire format fixes live in
/// ``TransportSpec``. Timer defaults follow WireGuard where the concept is the same, shortened
/// where keyway promises to recover from a move within seconds.
public struct TransportConfiguration: Sendable {
    // MARK: Admission

    /// Which keys may open a session with this node.
    public var peerPolicy: PeerPolicy = .anyone
    /// The mesh secret: when set, every handshake is IKpsk2 with it and peers without it fail.
    public var presharedKey: SecureBytes?

    // MARK: Handshakes

    /// The wall-clock time at the core's ``Instant/zero``, as time since 1970-01-01 UTC. A
    /// handshake initiation carries a TAI64N timestamp of this plus `now` (WireGuard's replay
    /// guard); responders accept from each key only timestamps that grow, so it MUST not go
    /// back across restarts of this node: the runtime sets it from the system clock when the
    /// node starts. Simulations and tests leave it at zero and run one virtual clock.
    public var handshakeClockOrigin: Duration = .zero

    /// First wait before a handshake initiation is sent again; doubled each attempt.
    /// Short, because a lost initiation otherwise delays a reconnect by this much.
    public var handshakeRetryInitialDelay: Duration = .milliseconds(500)
    /// Longest wait between initiations.
    public var handshakeRetryMaximumDelay: Duration = .seconds(8)
    /// Random extra wait added to each retry, up to this (so peers do not retry in lock-step).
    public var handshakeRetryJitter: Duration = .milliseconds(100)
    /// How long a handshake is retried before the peer is reported unreachable and its streams
    /// reset (WireGuard: 90 s).
    public var handshakeGiveUpAfter: Duration = .seconds(90)
    /// Handshake initiations this node processes per second (with Diffie-Hellman work) before
    /// it counts as under load and demands cookies.
    public var handshakesPerSecond: Double = 50
    /// Initiations this node processes in a burst before the rate above applies.
    public var handshakeBurst: Double = 20
    /// Under load, initiations with a valid cookie this node processes per second from one
    /// source address.
    public var handshakesPerSourcePerSecond: Double = 5
    /// Under load, the burst allowed per source address.
    public var handshakeBurstPerSource: Double = 5
    /// Source addresses whose rate this node remembers at most (the oldest is forgotten).
    public var rateLimitTableSize = 4096
    /// Cookie replies this node sends per second at most (each answers an initiation under load).
    public var cookieRepliesPerSecond: Double = 1000
    /// How long the secret behind cookies lives before it changes (WireGuard: 2 minutes).
    public var cookieSecretLifetime: Duration = .seconds(120)
    /// How long an initiator uses a received cookie (shorter than ``cookieSecretLifetime``).
    public var cookieLifetime: Duration = .seconds(110)

    // MARK: Keys

    /// A session's keys are renewed (a new handshake by their initiator) when this old
    /// (WireGuard `REKEY_AFTER_TIME`).
    public var rekeyAfterTime: Duration = .seconds(120)
    /// ... or after this many packets were sent with them (WireGuard: 2^60).
    public var rekeyAfterMessages: UInt64 = 1 << 60
    /// Keys older than this are neither used nor accepted, and are zeroed (WireGuard
    /// `REJECT_AFTER_TIME`).
    public var rejectAfterTime: Duration = .seconds(180)
    /// Keys that sent this many packets are no longer used (WireGuard: 2^64 - 2^13 - 1).
    public var rejectAfterMessages: UInt64 = UInt64.max - (1 << 13)

    // MARK: Liveness and rebinding

    /// After receiving data and sending nothing for this long, a node sends an empty keepalive
    /// so its peer knows the session lives (WireGuard `KEEPALIVE_TIMEOUT`).
    public var keepaliveTimeout: Duration = .seconds(10)
    /// When set, a keepalive is sent whenever nothing was sent for this long, to hold NAT
    /// mappings open (WireGuard's persistent keepalive; typically 25 s).
    public var persistentKeepalive: Duration?
    /// A peer that acknowledged nothing for this long while data waits (and at least two probe
    /// timeouts) counts as unresponsive: its key is resolved again and a handshake retried.
    public var unresponsiveAfter: Duration = .seconds(1)
    /// A handshake unanswered for this long (no session yet, so no round-trip sample) makes
    /// the peer unresponsive: its key is resolved again. The default is the first handshake
    /// retry, so a dial to an address the peer has just left (it restarted elsewhere) finds
    /// the new record after half a second.
    public var handshakeUnresponsiveAfter: Duration = .milliseconds(500)
    /// While a peer stays unresponsive, its key is resolved again this often (a record
    /// published a moment later, by a peer still starting, is found on the next try).
    public var resolveRetryInterval: Duration = .milliseconds(500)
    /// A peer with no stream and no traffic for this long is forgotten and its keys zeroed.
    public var idleSessionTimeout: Duration = .seconds(180)
    /// Endpoints remembered per peer (handshakes go to all of them).
    public var maximumEndpointsPerPeer = 4

    // MARK: Session limits (a peer's key costs nothing, so sessions are bounded)

    /// Sessions (peers with state) this node holds at most. A handshake from a new key when
    /// the table is full evicts the least recently active session a peer opened that is
    /// unconfirmed or idle (no stream); sessions this node dialled and sessions with streams
    /// are never evicted. 2,048 sessions take about 14 MB at the measured 6.6 kB each.
    public var maximumSessions = 2048
    /// Sessions opened by initiations from one source prefix (a /24 or a /48, whatever the
    /// port) at most; a newcomer evicts that prefix's least recently active evictable one.
    /// One host with throw-away keys then holds at most this many.
    public var maximumSessionsPerPrefix = 256
    /// Sessions peers opened that are not confirmed yet (their handshake's keys wait for the
    /// first data packet: pending handshakes) at most; a newcomer evicts the oldest.
    public var maximumUnconfirmedSessions = 256
    /// Prefix length of an IPv4 source for ``maximumSessionsPerPrefix`` (a /24, as the DHT's
    /// limits).
    public var sessionPrefixIPv4Bits = 24
    /// Prefix length of an IPv6 source for ``maximumSessionsPerPrefix`` (a /48, a site).
    public var sessionPrefixIPv6Bits = 48
    /// Sessions opened from loopback or a private network (``IPAddress/isLocalNetwork``) are
    /// not counted against ``maximumSessionsPerPrefix``: a mesh of many nodes on one host's
    /// loopback, one pod network or one LAN is one operator's, and there the limit would only
    /// evict its own nodes' sessions as if they were one attacker (as the DHT's
    /// `routingLimitsExemptLocalNetworks` exempts them from the routing prefix limits).
    /// ``maximumSessions`` and ``maximumUnconfirmedSessions`` still bound them.
    public var sessionPrefixLimitExemptLocalNetworks = true
    /// Initiators whose sessions are gone of which the latest accepted handshake timestamp is
    /// still remembered (``InitiatorTimestamps``), so a replay of an old initiation after the
    /// session was dropped is refused as while it lived. The least recently remembered is
    /// forgotten first. 8,192 (four times ``maximumSessions``): about 100 bytes each, under
    /// 1 MB; new keys cost Diffie-Hellman work under the handshake rate limits (50 a second),
    /// so flushing it takes minutes. 0 remembers none (per-session replay checks only).
    public var maximumRememberedInitiators = 8192
    /// Of those, initiators whose sessions came from one source prefix (as
    /// ``maximumSessionsPerPrefix`` counts them; local-network sources are exempt when
    /// ``sessionPrefixLimitExemptLocalNetworks`` is on) at most; further ones from that prefix
    /// are not remembered, so throw-away keys from one network cannot flush everyone else's.
    public var maximumRememberedInitiatorsPerPrefix = 256
    /// How long a remembered timestamp refuses older initiations from its key. A node whose
    /// wall clock went back across a restart (a container without a real-time clock) is
    /// refused by peers that remember it until its clock passes the old timestamp or this
    /// passes, whichever comes first. One hour.
    public var rememberedInitiatorLifetime: Duration = .seconds(60 * 60)

    // MARK: Packets and reliability

    /// The largest datagram (UDP payload) a session sends before path MTU discovery proves a
    /// larger one crosses, and the size it falls back to when larger ones stop arriving. 1,400
    /// fits the common 1,500-byte MTU under IPv6 and UDP headers with room for tunnels.
    public var maximumDatagramSize = 1400
    /// The datagram size a session falls back to when even ``maximumDatagramSize`` stops
    /// arriving (RFC 8899 MIN_PLPMTU), as through a tunnel narrower than that: senders set
    /// don't-fragment, so the kernel no longer splits such datagrams. 1,200 is QUIC's minimum
    /// and fits IPv6's 1,280-byte minimum MTU under headers. At least 512.
    public var minimumDatagramSize = 1200
    /// The largest datagram path MTU discovery tries (RFC 8899 MAX_PLPMTU); at or below
    /// ``maximumDatagramSize`` discovery is off. 16 KiB: on loopback (MTU 64 KiB) one stream
    /// then pays its per-packet costs (system calls, acknowledgements, bookkeeping) a tenth as
    /// often, and a path with 9,000-byte jumbo frames settles near 8,950; a 1,500-byte path
    /// settles near 1,450 after a few lost probes. Larger sizes measured slower on loopback.
    public var maximumProbedDatagramSize = 16384
    /// Probes lost at one size before discovery counts that size as too large (RFC 8899
    /// MAX_PROBES: 3).
    public var pathMTUProbeAttempts = 3
    /// Sizes discovery tries after the maximum, before bisecting: a 9,000-byte jumbo frame
    /// and a 1,500-byte Ethernet frame, each under IPv6 and UDP headers (48 bytes), so most
    /// paths have a good size within two or three round trips.
    public var pathMTUCandidates = [8952, 1452]
    /// Discovery stops when the size in use is within this many bytes of one that failed.
    public var pathMTUPrecision = 32
    /// How long discovery rests after it converged before it tries larger sizes again
    /// (RFC 8899 PMTU_RAISE_TIMER: 600 s).
    public var pathMTURaiseInterval: Duration = .seconds(600)
    /// Consecutive probe timeouts (nothing acknowledged) after which a session above
    /// ``maximumDatagramSize`` assumes the path shrank and falls back to that size.
    public var pathMTUBlackHoleProbeTimeouts = 2
    /// How long a receiver may delay an acknowledgement (QUIC `max_ack_delay`).
    public var maximumAckDelay: Duration = .milliseconds(25)
    /// The RTT assumed before any sample (QUIC: 333 ms).
    public var initialRTT: Duration = .milliseconds(333)
    /// Acknowledgement ranges remembered and sent at most.
    public var maximumAckRanges = 32
    /// Acknowledgement ranges one received ACK frame may carry; a frame with more makes its
    /// packet malformed (dropped whole). Bounds the work and the array one frame can cost: a
    /// 1,400-byte packet could otherwise name about 700 ranges, each walked on every ACK. 256,
    /// well above the ``maximumAckRanges`` any keyway peer sends (32 by default); it MUST stay
    /// at or above what peers send, or their acknowledgements are lost.
    public var maximumDecodedAckRanges = 256
    /// Packets of one session's key set the replay window keeps track of (RFC 6479's bitmap):
    /// a packet more than this many behind the newest accepted one is refused as a replay, one
    /// inside it is accepted once. Rounded up to whole 64-bit words, plus the one being cleared;
    /// memory is 8 bytes per 64 packets for each of a session's up to three key sets. 4,032
    /// (64 words, 512 bytes): above the 2,048 packets of reordering the transport tolerates.
    /// Clamped to 64...262,080.
    public var replayWindowPackets = 4032

    // MARK: Streams and flow control

    /// Bytes a peer may send on one stream beyond what this node's application consumed.
    public var streamReceiveWindow: UInt64 = 4 << 20
    /// Bytes a peer may send on all streams together beyond what was consumed: the most a
    /// session's receive window grows to (see ``receiveWindowGrowthRTTs``).
    public var sessionReceiveWindow: UInt64 = 16 << 20
    /// How a session's receive window grows. A session starts with the specification's
    /// initial window (``TransportSpec/initialSessionWindow``, 1 MiB) and doubles it, up to
    /// ``sessionReceiveWindow``, each time the application consumed half of it less than this
    /// many smoothed round trips after the previous credit update: the window, not the reader,
    /// held the transfer back (Chromium QUIC's auto-tuning). A reader slower than the path
    /// never grows its session's window, so a peer feeding a local consumer that is slow from
    /// the start gets 1 MiB of credit, not 16. 0: every session gets ``sessionReceiveWindow``
    /// at once.
    public var receiveWindowGrowthRTTs = 2
    /// Stream bytes all sessions together may hold delivered in order and not yet consumed by
    /// the application (``SessionManager/consumed(_:count:now:)``; with ``creditOnDelivery``
    /// data is consumed as it is delivered and holds nothing). A packet whose new stream bytes
    /// do not fit is not taken nor acknowledged, as for ``reassemblyBudget``: its sender repeats
    /// it once the application has read. With ``reassemblyBudget`` this is the node's ceiling on
    /// peers' data, whatever the number of sessions: 24 MiB + 16 MiB keep a node under 64 MB.
    public var receiveBudget: UInt64 = 24 << 20
    /// The part of ``receiveBudget`` the sessions admitted from one source prefix
    /// (``sessionPrefixIPv4Bits``, ``sessionPrefixIPv6Bits``) may hold together, so that one
    /// network's peers feeding a slow consumer cannot take the whole budget from the others.
    /// Sessions this node dialled, and those from exempt local networks
    /// (``sessionPrefixLimitExemptLocalNetworks``), count only against the whole budget.
    public var receiveBudgetPerPrefix: UInt64 = 8 << 20
    /// Bytes ``SessionManager/write(_:to:now:)`` buffers per stream before it accepts less.
    public var streamSendBufferLimit = 4 << 20
    /// Streams a peer may have open towards this node at once; more are refused with a reset.
    public var maximumIncomingStreams = 1024
    /// How far past the lowest stream ID it has not used yet a peer may name a new stream, in
    /// streams (QUIC's MAX_STREAMS allowance, RFC 9000 section 4.6). A frame naming one
    /// further closes the session (``TransportViolation/streamLimit``) before any work, so one
    /// frame opens at most this many streams. An honest peer opens its IDs in order; it only
    /// gets ahead when the first frames of that many streams are all lost or reordered.
    public var incomingStreamIDAllowance = 1024
    /// Resets refusing peer streams over ``maximumIncomingStreams`` that may wait to be sent.
    /// A peer that provokes more refusals than this node can send (it never acknowledges, so
    /// the congestion window stays shut) has its session closed
    /// (``TransportViolation/streamLimit``) instead of growing the queue.
    public var maximumQueuedRefusals = 256
    /// What each out-of-order piece of stream data waiting for reassembly is charged on top of
    /// its bytes, against the stream's and the session's receive windows and
    /// ``reassemblyBudget``: about what one piece costs in memory (its array's header and
    /// allocation, its table entry). 400,000 one-byte fragments then count for 52 MB, not
    /// 400 kB, and are refused long before.
    public var reassemblyFragmentOverhead: UInt64 = 128
    /// Disjoint byte ranges one stream may hold received (its delivered prefix and the pieces
    /// waiting above gaps). Data that would add one more is not accepted (its packet is not
    /// acknowledged, so an honest sender repeats it later); this bounds the range bookkeeping
    /// per stream (a sorted array with binary search, so each insert is O(log n) comparisons
    /// and moves at most this many ranges).
    public var maximumReassemblyRangesPerStream = 256
    /// Bytes of out-of-order stream data (with ``reassemblyFragmentOverhead`` per piece) all
    /// sessions together may buffer. A packet whose out-of-order data does not fit is not
    /// acknowledged; the sender repeats it. 16 MiB: one session's whole default window.
    public var reassemblyBudget: UInt64 = 16 << 20
    /// Whether data counts as consumed (and its flow-control credit returns to the peer) as
    /// soon as it is handed out as an event. When `false`, the caller MUST call
    /// ``SessionManager/consumed(_:count:now:)`` as it processes data.
    public var creditOnDelivery = true

    // MARK: Congestion control (NewReno, RFC 9002 section 7)

    /// Initial congestion window in datagrams (RFC 9002: 10).
    public var initialWindowPackets = 10
    /// Smallest congestion window in datagrams (RFC 9002: 2).
    public var minimumWindowPackets = 2

    /// The defaults above.
    public init() {}
}
