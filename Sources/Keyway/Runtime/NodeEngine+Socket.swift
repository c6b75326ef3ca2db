import KeywayCore
import NIOCore
import NIOPosix

/// The socket closed under a running node, and opened again.
///
/// SwiftNIO closes a datagram channel when a send fails with an error it does not count as
/// recoverable for datagrams (only `EMSGSIZE` and `EHOSTUNREACH` are): `ENETUNREACH` while the
/// host has no address for the destination is one. A host that loses its last address before it
/// gains a new one would lose its node with it. Instead the engine binds the endpoint it had
/// (same address, same port, so its published record and its peers' sessions stay right) on the
/// same event loop and becomes the new channel's handler; the core, with its sessions, streams
/// and table, never noticed. Sends that fail while no address exists close the socket again;
/// each close soon after a reopen doubles the wait (``KeywayNodeConfiguration/socketReopenDelay``
/// up to ``KeywayNodeConfiguration/socketReopenMaximumDelay``).
extension NodeEngine {
    func channelInactive(context: ChannelHandlerContext) {
        guard running else { return }
        let now = clock.now()
        let recent = lastSocketReopenAt.map { now - $0 < configuration.socketReopenMaximumDelay } ?? false
        socketReopenAttempt = recent ? socketReopenAttempt + 1 : 0
        let delay = reopenDelay(attempt: socketReopenAttempt)
        logger.notice("the socket closed; opening it again", metadata: ["endpoint": "\(boundEndpoint)", "in": "\(delay)"])
        scheduleReopen(after: delay, attempt: socketReopenAttempt)
    }

    /// The wait before attempt `attempt` (from 0) to open the socket again.
    private func reopenDelay(attempt: Int) -> Duration {
        let maximum = max(configuration.socketReopenDelay, configuration.socketReopenMaximumDelay)
        var delay = configuration.socketReopenDelay
        for _ in 0..<min(attempt, 16) where delay < maximum { delay = delay * 2 }
        return min(delay, maximum)
    }

    private func scheduleReopen(after delay: Duration, attempt: Int) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) { bound.value.reopenSocket(attempt: attempt) }
    }

    /// Binds ``boundEndpoint`` again with this engine as the handler; on failure tries again
    /// later.
    private func reopenSocket(attempt: Int) {
        guard running, context == nil else { return }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let bootstrap = KeywayNode.datagramBootstrap(configuration, eventLoop: eventLoop, family: family) { channel in
            try channel.pipeline.syncOperations.addHandler(bound.value)
        }
        let address: SocketAddress
        do {
            address = try SocketAddress.binding(boundEndpoint)
        } catch {
            logger.error("cannot open the socket again", metadata: ["endpoint": "\(boundEndpoint)", "error": "\(error)"])
            return
        }
        // The new socket starts with KRPC-sized read slots; the first transport packet grows them.
        transportReadSlots = false
        bootstrap.bind(to: address).assumeIsolated().whenComplete { [self] result in
            switch result {
            case let .success(channel):
                guard running else {
                    channel.close(promise: nil)
                    return
                }
                lastSocketReopenAt = clock.now()
                logger.notice("the socket is open again", metadata: ["endpoint": "\(boundEndpoint)"])
                drain(flush: true)
            case let .failure(error):
                let delay = reopenDelay(attempt: attempt + 1)
                logger.warning("cannot open the socket again yet", metadata: ["endpoint": "\(boundEndpoint)", "error": "\(error)", "retry-in": "\(delay)"])
                scheduleReopen(after: delay, attempt: attempt + 1)
            }
        }
    }

    /// Closes the socket the engine has now (the one it was bound with, or a reopened one).
    func closeSocket() -> EventLoopFuture<Void> {
        context?.channel.close() ?? eventLoop.makeSucceededVoidFuture()
    }
}
