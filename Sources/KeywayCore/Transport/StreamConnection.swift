import Collections
import KeywayCrypto

/// The reliable layer of one session: streams multiplexed over packet numbers that continue
/// across rekeys and rebinds, acknowledgements, loss recovery, flow and congestion control.
///
/// It knows nothing of keys or addresses: the ``SessionManager`` feeds it decrypted frames and
/// asks it for plaintexts to encrypt. Because its state survives new keys and new endpoints, a
/// stream in flight survives any number of rebinds; only a peer restart (which loses the peer's
/// half) starts it over, see ``restarted(configuration:)``.
struct StreamConnection: Sendable {
    /// Where a sent, ack-eliciting packet stands.
    enum PacketState: Sendable { case inFlight, done }

    /// What a sent packet carried, to act on its acknowledgement or loss.
    enum SentFrame: Sendable {
        case stream(number: UInt64, range: Range<UInt64>, fin: Bool)
        case maxData
        case maxStreamData(number: UInt64)
        case reset(wireID: UInt64, code: UInt64, finalSize: UInt64)
        case ping
        /// A size probe of path MTU discovery (PING and PADDING), `size` bytes on the wire.
        case sizeProbe(size: Int)
    }

    /// An ack-eliciting packet that was sent.
    struct SentPacket: Sendable {
        let packetNumber: UInt64
        let sentAt: Instant
        let size: Int
        var state: PacketState
        let frames: [SentFrame]

        /// Whether this packet was a size probe of path MTU discovery.
        var isSizeProbe: Bool {
            if frames.count == 1, case .sizeProbe = frames[0] { return true }
            return false
        }
    }

    /// The peer at the other end.
    let peer: Ed25519.PublicKey
    /// 0 when this node's key sorts before the peer's, else 1: the low bit of the wire IDs of
    /// the streams this node opens, so both sides can open streams without a collision.
    let localParity: UInt64
    /// The reliability limits (a copy of the manager's configuration's).
    let limits: Limits

    // MARK: Streams

    /// Open streams by their local number, in the order they were opened.
    var streams: OrderedDictionary<UInt64, TransportStream> = [:]
    /// Local numbers by wire ID.
    var numbersByWireID: [UInt64: UInt64] = [:]
    /// The wire ID of the next stream this node opens.
    var nextLocalWireID: UInt64
    /// The lowest wire ID of the peer's parity not yet seen.
    var nextPeerWireID: UInt64
    /// Open streams the peer opened.
    var incomingCount = 0
    /// Where the next packet starts looking for stream data (round robin).
    var roundRobin = 0

    // MARK: Packet numbers and acknowledgements

    /// The next packet number to send.
    var nextPacketNumber: UInt64 = 0
    /// Packet numbers received (the newest ``Limits/maximumAckRanges`` ranges).
    var receivedPackets = RangeSet()
    /// When the largest packet number was received.
    var largestReceivedAt = Instant.zero
    /// Ack-eliciting packets received and not yet acknowledged.
    var unacknowledgedCount = 0
    /// When a delayed acknowledgement is due (`nil`: none pending).
    var ackDeadline: Instant?

    // MARK: Loss recovery and congestion

    /// Ack-eliciting packets sent and not yet settled, by packet number.
    var sent = Deque<SentPacket>()
    /// Bytes of in-flight packets, size probes apart (they are outside the congestion window).
    var bytesInFlight = 0
    /// In-flight packets, size probes included (they arm the probe timeout like any).
    var packetsInFlight = 0
    /// The largest packet number the peer acknowledged.
    var largestAcked: UInt64?
    /// The RTT estimate.
    var rtt: RTTEstimator
    /// The congestion controller.
    var congestion: NewReno
    /// Consecutive probe timeouts without an acknowledgement.
    var probeCount = 0
    /// Packets that may be sent regardless of the congestion window (probes).
    var probesToSend = 0
    /// When the last ack-eliciting packet was sent.
    var lastAckElicitingSentAt: Instant?
    /// When a packet not yet lost by the packet threshold becomes lost by the time threshold.
    var lossTime: Instant?
    /// Path MTU discovery: the datagram size this session may use now.
    var pathMTU: PathMTUSearch

    // MARK: Flow control

    /// The peer's session-wide limit on new stream bytes.
    var peerMaxData = TransportSpec.initialSessionWindow
    /// New stream bytes sent so far.
    var dataSent: UInt64 = 0
    /// The session-wide limit this node granted.
    var localMaxData = TransportSpec.initialSessionWindow
    /// Stream bytes received (the sum of the streams' highest offsets).
    var dataReceived: UInt64 = 0
    /// Stream bytes consumed.
    var dataConsumed: UInt64 = 0
    /// A MAX_DATA frame with ``localMaxData`` must be sent.
    var needsMaxData = false
    /// A PING must be sent (a receiver's probe).
    var pingPending = false
    /// RESET_STREAM frames to send.
    var pendingResets: [(wireID: UInt64, code: UInt64, finalSize: UInt64)] = []
    /// The rule the peer broke, once it broke one: the session manager then closes the session.
    var violation: TransportViolation?
    /// What the streams' out-of-order pieces are charged in all (``TransportStream/pendingCost``).
    var reassemblyCost: UInt64 = 0
    /// Stream bytes delivered in order and not yet consumed, over all streams (the sum of
    /// ``TransportStream/unconsumed``): what ``TransportConfiguration/receiveBudget`` charges.
    var unconsumedBytes: UInt64 = 0
    /// The session receive window in force: ``Limits/initialSessionWindow`` at first, doubled
    /// up to ``Limits/sessionWindow`` while the application keeps up with it
    /// (``TransportConfiguration/receiveWindowGrowthRTTs``).
    var receiveWindow: UInt64
    /// When ``localMaxData`` was last raised after consumption (`nil`: never).
    var lastCreditRaiseAt: Instant?

    /// The parts of ``TransportConfiguration`` this layer needs, in nanoseconds where timed.
    struct Limits: Sendable {
        let datagramSize: Int
        let maximumAckDelay: Int64
        let maximumAckRanges: Int
        /// ``TransportConfiguration/maximumDecodedAckRanges``.
        let maximumDecodedAckRanges: Int
        let streamWindow: UInt64
        let sessionWindow: UInt64
        /// The receive window a session starts with (``TransportSpec/initialSessionWindow``,
        /// or ``sessionWindow`` when windows do not grow).
        let initialSessionWindow: UInt64
        /// ``TransportConfiguration/receiveWindowGrowthRTTs`` (0: windows do not grow).
        let windowGrowthRTTs: Int64
        let sendBufferLimit: Int
        let maximumIncomingStreams: Int
        let incomingStreamIDAllowance: Int
        let maximumQueuedRefusals: Int
        let creditOnDelivery: Bool
        /// ``TransportConfiguration/reassemblyFragmentOverhead``.
        let fragmentOverhead: UInt64
        /// ``TransportConfiguration/maximumReassemblyRangesPerStream``.
        let maximumReassemblyRanges: Int
        let initialRTT: Duration
        let initialWindowPackets: Int
        let minimumWindowPackets: Int
        /// Path MTU discovery as a fresh session starts it (each session takes a copy).
        let pathMTUSearch: PathMTUSearch
        let pathMTUBlackHoleProbeTimeouts: Int

        init(_ configuration: TransportConfiguration) {
            datagramSize = configuration.maximumDatagramSize
            pathMTUSearch = PathMTUSearch(
                base: configuration.maximumDatagramSize,
                minimum: max(configuration.minimumDatagramSize, StreamConnection.smallestUsableDatagram),
                maximum: min(configuration.maximumProbedDatagramSize, TransportSpec.dataHeaderLength + Noise.maxMessageLength),
                attempts: configuration.pathMTUProbeAttempts, precision: configuration.pathMTUPrecision,
                raiseInterval: configuration.pathMTURaiseInterval, candidates: configuration.pathMTUCandidates.sorted(by: >))
            pathMTUBlackHoleProbeTimeouts = max(1, configuration.pathMTUBlackHoleProbeTimeouts)
            maximumAckDelay = configuration.maximumAckDelay.nanosecondsClamped
            maximumAckRanges = configuration.maximumAckRanges
            maximumDecodedAckRanges = max(1, configuration.maximumDecodedAckRanges)
            streamWindow = max(configuration.streamReceiveWindow, TransportSpec.initialStreamWindow)
            sessionWindow = max(configuration.sessionReceiveWindow, TransportSpec.initialSessionWindow)
            windowGrowthRTTs = Int64(clamping: max(0, configuration.receiveWindowGrowthRTTs))
            initialSessionWindow = windowGrowthRTTs > 0 ? TransportSpec.initialSessionWindow : sessionWindow
            sendBufferLimit = configuration.streamSendBufferLimit
            maximumIncomingStreams = configuration.maximumIncomingStreams
            incomingStreamIDAllowance = max(1, configuration.incomingStreamIDAllowance)
            maximumQueuedRefusals = max(1, configuration.maximumQueuedRefusals)
            creditOnDelivery = configuration.creditOnDelivery
            fragmentOverhead = configuration.reassemblyFragmentOverhead
            maximumReassemblyRanges = max(2, configuration.maximumReassemblyRangesPerStream)
            initialRTT = configuration.initialRTT
            initialWindowPackets = configuration.initialWindowPackets
            minimumWindowPackets = configuration.minimumWindowPackets
        }
    }

    /// A fresh connection between `local` and `peer`.
    init(local: Ed25519.PublicKey, peer: Ed25519.PublicKey, limits: Limits) {
        self.peer = peer
        self.limits = limits
        localParity = local < peer ? 0 : 1
        nextLocalWireID = localParity
        nextPeerWireID = 1 - localParity
        rtt = RTTEstimator(initial: limits.initialRTT)
        congestion = NewReno(
            datagramSize: limits.datagramSize, initialPackets: limits.initialWindowPackets,
            minimumPackets: limits.minimumWindowPackets)
        pathMTU = limits.pathMTUSearch
        receiveWindow = limits.initialSessionWindow
        if receiveWindow > localMaxData {
            localMaxData = receiveWindow
            needsMaxData = true
        }
    }

    // MARK: Application operations

    /// Opens a stream named `number`; nothing is sent until it carries data or its end.
    mutating func openStream(number: UInt64) -> StreamID {
        let id = StreamID(peer: peer, number: number)
        streams[number] = TransportStream(id: id, wireID: nextLocalWireID, window: limits.streamWindow)
        numbersByWireID[nextLocalWireID] = number
        nextLocalWireID += 2
        return id
    }

    /// Buffers bytes on stream `number`; returns how many were accepted (0 for an unknown,
    /// finished or reset stream).
    mutating func write(_ bytes: some Collection<UInt8>, number: UInt64) -> Int {
        streams[number]?.write(bytes, limit: limits.sendBufferLimit) ?? 0
    }

    /// Ends this side of stream `number` after the bytes written so far.
    mutating func finish(number: UInt64) {
        streams[number]?.finRequested = true
    }

    /// Aborts stream `number` in both directions with `code`.
    mutating func reset(number: UInt64, code: UInt64) {
        guard let stream = streams[number] else { return }
        pendingResets.append((stream.wireID, code, stream.sentOffset))
        remove(number: number)
    }

    /// The application consumed bytes of stream `number` up to `offset` (manual credit) at
    /// `now`, which decides whether the session's window grows.
    mutating func consume(number: UInt64, upTo offset: UInt64, now: Instant?) {
        guard let freed = streams[number]?.consume(upTo: offset, window: limits.streamWindow) else { return }
        unconsumedBytes -= min(unconsumedBytes, freed)
        creditSession(freed, now: now)
    }

    /// Gives `bytes` of session-wide credit back to the peer. Once less than half the window
    /// is left, the limit moves to the consumed bytes plus the window; when that happens within
    /// ``Limits/windowGrowthRTTs`` smoothed round trips of the previous move (`now` given: a
    /// consumption, not a reset or a closed stream), the window doubles first, up to
    /// ``Limits/sessionWindow``.
    /// Consumed bytes never exceed received ones, which never exceed ``localMaxData``; the
    /// arithmetic saturates all the same, so no accounting slip can trap.
    mutating func creditSession(_ bytes: UInt64, now: Instant? = nil) {
        dataConsumed = min(dataConsumed.addingReportingOverflow(bytes).overflow ? .max : dataConsumed + bytes, localMaxData)
        guard localMaxData - dataConsumed < receiveWindow / 2 else { return }
        if let now {
            if let last = lastCreditRaiseAt, receiveWindow < limits.sessionWindow,
               (now - last).nanosecondsClamped < Self.saturatingProduct(limits.windowGrowthRTTs, rtt.smoothed) {
                receiveWindow = min(receiveWindow.multipliedReportingOverflow(by: 2).overflow ? .max : receiveWindow * 2, limits.sessionWindow)
            }
            lastCreditRaiseAt = now
        }
        localMaxData = min(dataConsumed + receiveWindow, TransportSpec.maximumVarint)
        needsMaxData = true
    }

    /// `a * b`, or `Int64.max` where that overflows (both are non-negative here).
    private static func saturatingProduct(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }

    /// Forgets stream `number`, returning its unconsumed received bytes to the session credit.
    mutating func remove(number: UInt64) {
        guard let stream = streams.removeValue(forKey: number) else { return }
        numbersByWireID.removeValue(forKey: stream.wireID)
        reassemblyCost -= stream.pendingCost
        unconsumedBytes -= min(unconsumedBytes, stream.unconsumed)
        if stream.wireID & 1 != localParity { incomingCount -= 1 }
        if stream.highestReceived > stream.consumedOffset {
            creditSession(stream.highestReceived - stream.consumedOffset)
        }
    }

    // MARK: State for the session manager

    /// Whether ack-eliciting packets are in flight or stream data waits to be sent: the peer
    /// is expected to answer. (Flow-control updates alone do not count.)
    var isAwaitingPeer: Bool { packetsInFlight > 0 || hasStreamWork }

    /// When the oldest in-flight packet was sent.
    var oldestInFlightSentAt: Instant? {
        sent.first(where: { $0.state == .inFlight })?.sentAt
    }

    /// Whether there are streams.
    var hasStreams: Bool { !streams.isEmpty }

    /// Whether some stream still waits for the peer's bytes or end.
    var isAwaitingStreamData: Bool { streams.values.contains { !$0.isReceiveDone } }

    /// A connection that starts over after the peer restarted: streams that never reached the
    /// peer carry on from their first byte (renumbered on the wire); the others are returned,
    /// to be reported reset.
    /// The smallest datagram size this layer works with: room for the header, the tag, a packet
    /// number and an ACK frame of many ranges.
    static let smallestUsableDatagram = 512

    func restarted(local: Ed25519.PublicKey) -> (StreamConnection, lost: [StreamID]) {
        var fresh = StreamConnection(local: local, peer: peer, limits: limits)
        var lost: [StreamID] = []
        for (number, stream) in streams {
            guard !stream.hasProgress, stream.wireID & 1 == localParity else {
                lost.append(stream.id)
                continue
            }
            var carried = TransportStream(id: stream.id, wireID: fresh.nextLocalWireID, window: limits.streamWindow)
            carried.sendBuffer = stream.sendBuffer
            carried.bufferBase = stream.bufferBase
            carried.finRequested = stream.finRequested
            carried.writeBlocked = stream.writeBlocked
            fresh.streams[number] = carried
            fresh.numbersByWireID[carried.wireID] = number
            fresh.nextLocalWireID += 2
        }
        return (fresh, lost)
    }
}
