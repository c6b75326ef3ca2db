/// NewReno congestion control as RFC 9002 section 7 specifies it for QUIC: slow start,
/// congestion avoidance, and one window reduction per recovery period.
struct NewReno: Sendable {
    /// Bytes of one full datagram (it changes when path MTU discovery finds a larger size).
    private(set) var datagramSize: Int
    /// Datagrams the window never falls below.
    let minimumPackets: Int
    /// The smallest window.
    private(set) var minimumWindow: Int
    /// Bytes that may be in flight.
    private(set) var window: Int
    /// Slow start ends at this window.
    private(set) var slowStartThreshold = Int.max
    /// Packets sent before this instant belong to the current recovery period.
    private var recoveryStart: Instant?
    /// Acknowledged bytes not yet turned into window growth in congestion avoidance.
    private var avoidanceCredit = 0

    /// A controller for `datagramSize`-byte datagrams.
    init(datagramSize: Int, initialPackets: Int, minimumPackets: Int) {
        self.datagramSize = datagramSize
        self.minimumPackets = minimumPackets
        window = datagramSize * initialPackets
        minimumWindow = datagramSize * minimumPackets
    }

    /// The session's datagram size became `size`: the window, counted in bytes, stays (as in
    /// QUIC), but growth in congestion avoidance and the floor follow the new size.
    mutating func datagramSizeChanged(to size: Int) {
        datagramSize = size
        minimumWindow = size * minimumPackets
        window = max(window, minimumWindow)
        slowStartThreshold = max(slowStartThreshold, minimumWindow)
    }

    /// Whether the window is still in slow start.
    var inSlowStart: Bool { window < slowStartThreshold }

    /// `bytes` of a packet sent at `sentAt` were acknowledged.
    mutating func onAcknowledged(bytes: Int, sentAt: Instant) {
        if let recoveryStart, sentAt <= recoveryStart { return }
        if inSlowStart {
            window += bytes
        } else {
            avoidanceCredit += bytes
            if avoidanceCredit >= window {
                avoidanceCredit -= window
                window += datagramSize
            }
        }
    }

    /// A packet sent at `sentAt` was declared lost at `now`: halve the window once per
    /// recovery period.
    mutating func onLoss(sentAt: Instant, now: Instant) {
        if let recoveryStart, sentAt <= recoveryStart { return }
        recoveryStart = now
        slowStartThreshold = max(window / 2, minimumWindow)
        window = slowStartThreshold
        avoidanceCredit = 0
    }
}
