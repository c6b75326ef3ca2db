import KeywayCore
import NIOCore

/// Stopping: the bounded linger before the socket closes, and the resets that tell peers the
/// streams still open are gone.
extension NodeEngine {
    /// The code streams are reset with when their node stops (no application meaning).
    static let stopResetCode: UInt64 = 0

    /// Succeeds once no stream byte or stream end this node sent waits for an acknowledgement
    /// and no peer has sent anything for ``KeywayNodeConfiguration/stopQuietPeriod``, or once
    /// ``KeywayNodeConfiguration/stopLingerLimit`` has passed, whichever comes first. The node
    /// runs normally meanwhile: it acknowledges, retransmits and answers the DHT.
    func linger() -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        let limit = clock.now() + configuration.stopLingerLimit
        checkLinger(promise, limit: limit)
        return promise.futureResult
    }

    private func checkLinger(_ promise: EventLoopPromise<Void>, limit: Instant) {
        let now = clock.now()
        let transport = core.transport
        let quiet = configuration.stopQuietPeriod
        guard running, now < limit else { return promise.succeed() }
        let sending = transport.hasUnacknowledgedStreamData
        let quietAt = transport.lastPacketReceivedAt.map { $0 + quiet } ?? now
        if !sending && quietAt <= now { return promise.succeed() }
        // Look again when the peers will have been quiet long enough, or, while bytes wait for
        // their acknowledgement, one quiet period from now; never past the limit.
        let next = min(limit, sending ? now + quiet : quietAt)
        eventLoop.assumeIsolated().scheduleTask(deadline: clock.deadline(of: next)) { [self] in
            checkLinger(promise, limit: limit)
        }
    }

    /// Resets, in the core, every stream the application holds that is not done in both
    /// directions, and sends the resets at once: the peers learn the streams ended instead of
    /// retransmitting into a closed socket.
    func resetOpenStreams() {
        let open = streams.streams.filter { !$0.value.isDone }.map(\.key)
        guard !open.isEmpty else { return }
        let now = clock.now()
        core.withTransport(now: now) { transport in
            for id in open { transport.reset(id, code: Self.stopResetCode, now: now) }
        }
        drain(flush: true)
    }
}
