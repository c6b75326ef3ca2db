/// The bounded linger of a stopping node (``KeywayNodeCore/beginStop(quietPeriod:limit:now:)``):
/// the node keeps running (acknowledging, retransmitting, answering the DHT) until no stream
/// byte or stream end it sent waits for an acknowledgement and no peer has sent anything for
/// ``quietPeriod``, or until ``until``, whichever comes first. So a peer whose acknowledgement
/// of a stream's end was lost gets it again (TCP's TIME-WAIT, bounded).
public struct StopLinger: Sendable, Equatable {
    /// How long the peers must have been quiet.
    public let quietPeriod: Duration
    /// When the linger ends whatever the peers do.
    public let until: Instant

    /// A linger started at `now`, at most `limit` long.
    public init(quietPeriod: Duration, limit: Duration, now: Instant) {
        self.quietPeriod = quietPeriod
        until = now + limit
    }

    /// When to look again, or `nil` when the linger is over at `now`: when the peers will have
    /// been quiet long enough, or, while bytes wait for their acknowledgement, one quiet period
    /// from now; never past ``until``.
    public func nextCheck(transport: SessionManager, now: Instant) -> Instant? {
        guard now < until else { return nil }
        let sending = transport.hasUnacknowledgedStreamData
        let quietAt = transport.lastPacketReceivedAt.map { $0 + quietPeriod } ?? now
        if !sending && quietAt <= now { return nil }
        return min(until, sending ? now + quietPeriod : quietAt)
    }
}
