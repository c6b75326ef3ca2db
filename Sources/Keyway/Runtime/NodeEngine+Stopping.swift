import KeywayCore
import NIOCore

/// Stopping: the bounded linger before the socket closes, and the resets that tell peers the
/// streams still open are gone.
extension NodeEngine {
    /// The code streams are reset with when their node stops (no application meaning).
    static let stopResetCode: UInt64 = 0

    /// Succeeds once the core's stop linger is over (``KeywayNodeCore/beginStop(quietPeriod:limit:now:)``):
    /// no stream byte or stream end this node sent waits for an acknowledgement and no peer has
    /// sent anything for ``KeywayNodeConfiguration/stopQuietPeriod``, or
    /// ``KeywayNodeConfiguration/stopLingerLimit`` has passed, whichever comes first. The node
    /// runs normally meanwhile: it acknowledges, retransmits and answers the DHT.
    func linger() -> EventLoopFuture<Void> {
        guard running else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        lingerWaiter?.succeed()
        lingerWaiter = promise
        core.beginStop(quietPeriod: configuration.stopQuietPeriod, limit: configuration.stopLingerLimit, now: clock.now())
        drain(flush: true)
        return promise.futureResult
    }

    /// The core's linger is over.
    func lingerEnded() {
        lingerWaiter?.succeed()
        lingerWaiter = nil
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
