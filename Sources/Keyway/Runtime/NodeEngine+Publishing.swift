import KeywayCore
import NIOCore

/// Publishing: the core's publisher (``EndpointPublisher``) decides what and when; the engine
/// hands it the socket's interfaces, waits for publishes callers asked for, and reports the
/// publisher's events.
extension NodeEngine {
    /// The endpoints the node publishes (or would publish) now.
    var reachable: [Endpoint] { core.reachableEndpoints }

    /// The core's publisher configuration, from the node's.
    static func publisherConfiguration(_ configuration: KeywayNodeConfiguration, clock: RuntimeClock) -> PublisherConfiguration {
        var publisher = PublisherConfiguration()
        publisher.publishAutomatically = configuration.publishAutomatically
        publisher.announce = configuration.announce
        publisher.replicationCheckInterval = configuration.replicationCheckInterval
        publisher.recordLimits = configuration.recordLimits
        publisher.wallClockAtOrigin = clock.wallClockAtOrigin
        return publisher
    }

    /// New interface addresses from a scan (a node bound to a wildcard address).
    func updateInterfaces(_ addresses: [IPAddress]) {
        guard running, var socket = core.publisher.socket, addresses != socket.interfaces else { return }
        socket.interfaces = addresses
        core.updateSocket(socket, now: clock.now())
        drain(flush: true)
    }

    /// Publishes a record of the current endpoints with a new `seq`, for a caller who waits.
    func publish() -> EventLoopFuture<PublishResult> {
        guard running else { return eventLoop.makeFailedFuture(KeywayNodeError.stopped) }
        do {
            let (operation, record) = try core.publish(now: clock.now())
            let promise = eventLoop.makePromise(of: PublishResult.self)
            publishRequests[operation] = promise
            drain(flush: true)
            return promise.futureResult.map { [record] result in PublishResult(record: record, storedOn: result.storedOn) }
        } catch {
            switch error {
            case .nothingToPublish: return eventLoop.makeFailedFuture(KeywayNodeError.nothingToPublish)
            case let .invalidRecord(reason): return eventLoop.makeFailedFuture(KeywayNodeError.invalidRecord(reason))
            }
        }
    }

    /// A put of our own record finished: completes the caller waiting on it, if any.
    func ownPutFinished(_ operation: OperationID, storedOn: Int) {
        guard let promise = publishRequests.removeValue(forKey: operation), let record = core.publishedRecord else { return }
        promise.succeed(PublishResult(record: record, storedOn: storedOn))
    }

    /// Logs and reports one event of the publisher.
    func handle(_ event: PublisherEvent) {
        switch event {
        case let .reachableEndpointsChanged(endpoints):
            logger.info("reachable endpoints changed", metadata: ["endpoints": "\(endpoints.map(\.description).joined(separator: ","))"])
            emit(.reachableEndpointsChanged(endpoints))
        case let .putStarted(record, reason, newSequence):
            if case let .underReplicated(storedOn, known) = reason {
                logger.debug("record under-replicated; putting it again", metadata: ["stored-on": "\(storedOn)", "known": "\(known)"])
            } else if newSequence {
                logger.debug("publishing", metadata: ["reason": "\(reason)", "seq": "\(record.timestampMicroseconds)"])
            }
        case let .published(record, storedOn):
            logger.info("published", metadata: [
                "seq": "\(record.timestampMicroseconds)", "stored-on": "\(storedOn)",
                "endpoints": "\(record.endpoints.map(\.description).joined(separator: ","))",
            ])
            emit(.published(record, storedOn: storedOn))
        case let .nothingToPublish(reason):
            logger.warning("nothing to publish: no usable address; use --announce", metadata: ["reason": "\(reason)"])
        case let .cannotPublish(_, error):
            logger.error("cannot publish", metadata: ["error": "\(error)"])
        }
    }
}
