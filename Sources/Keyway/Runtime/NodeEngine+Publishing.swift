import KeywayCore
import NIOCore

/// Publishing what is reachable: the endpoint set, when it changes, and keeping it replicated.
extension NodeEngine {
    /// The endpoints to publish now (see ``ReachableEndpoints``).
    func computeReachable() -> [Endpoint] {
        ReachableEndpoints(
            bound: boundEndpoint, family: family, interfaces: interfaces, external: core.confirmedExternalEndpoint,
            announced: configuration.announce, limit: configuration.recordLimits.maximumEndpoints
        ).endpoints
    }

    /// The socket's own endpoints, for the core's reachability evidence: the bound endpoint,
    /// or, bound to a wildcard, each interface address of the socket's families with its port.
    func localEndpoints() -> [Endpoint] {
        guard boundEndpoint.address.isUnspecified else { return [boundEndpoint] }
        return interfaces.filter { ReachableEndpoints.family(family, carries: $0) }
            .map { Endpoint(address: $0, port: boundEndpoint.port) }
    }

    /// New interface addresses from a scan (a node bound to a wildcard address).
    func updateInterfaces(_ addresses: [IPAddress]) {
        guard running, addresses != interfaces else { return }
        interfaces = addresses
        core.setLocalEndpoints(localEndpoints(), now: clock.now())
        reachableMayHaveChanged()
        drain(flush: true)
    }

    /// Recomputes the endpoint set; when it changed, says so and publishes a newer record.
    func reachableMayHaveChanged() {
        let now = computeReachable()
        guard now != reachable else { return }
        reachable = now
        logger.info("reachable endpoints changed", metadata: ["endpoints": "\(now.map(\.description).joined(separator: ","))"])
        emit(.reachableEndpointsChanged(now))
        localAddressChanged()
        if configuration.publishAutomatically { publishAutomatically(reason: "endpoints changed") }
    }

    /// Publishes a new record when the endpoint set differs from the published one, and puts
    /// the current record again otherwise (same `seq`: stores just extend its life).
    func publishAutomatically(reason: String) {
        guard running else { return }
        guard !reachable.isEmpty else {
            logger.warning("nothing to publish: no usable address; use --announce", metadata: ["reason": "\(reason)"])
            return
        }
        if let record = core.publishedRecord, record.endpoints == reachable {
            putAgain(record)
            return
        }
        do {
            let (_, record) = try publishNew()
            logger.debug("publishing", metadata: ["reason": "\(reason)", "seq": "\(record.timestampMicroseconds)"])
        } catch {
            logger.error("cannot publish", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes a record of the current endpoints with a new `seq`, for a caller who waits.
    func publish() -> EventLoopFuture<PublishResult> {
        guard running else { return eventLoop.makeFailedFuture(KeywayNodeError.stopped) }
        guard !reachable.isEmpty else { return eventLoop.makeFailedFuture(KeywayNodeError.nothingToPublish) }
        do {
            let (operation, record) = try publishNew()
            let promise = eventLoop.makePromise(of: PublishResult.self)
            publishRequests[operation] = promise
            drain(flush: true)
            return promise.futureResult.map { [record] result in PublishResult(record: record, storedOn: result.storedOn) }
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    private func publishNew() throws(KeywayNodeError) -> (OperationID, EndpointRecord) {
        do {
            let (operation, record) = try core.publishRecord(
                endpoints: reachable, wallClockMicroseconds: RuntimeClock.wallClockMicroseconds(), now: clock.now())
            ownPuts.insert(operation)
            lastStoredOn = nil
            tableSizeAtLastPut = core.routingTable.count
            return (operation, record)
        } catch {
            throw .invalidRecord(error)
        }
    }

    private func putAgain(_ record: EndpointRecord) {
        let operation = core.putItem(record.signed(by: core.keyPair), now: clock.now())
        ownPuts.insert(operation)
        tableSizeAtLastPut = core.routingTable.count
    }

    /// A put of our own record finished.
    func ownPutFinished(_ operation: OperationID, sequence: Int64, storedOn: Int) {
        ownPuts.remove(operation)
        guard let record = core.publishedRecord else { return }
        if let promise = publishRequests.removeValue(forKey: operation) {
            promise.succeed(PublishResult(record: record, storedOn: storedOn))
        }
        // A put of a record since superseded says nothing about the current one.
        guard record.timestampMicroseconds == sequence else { return }
        lastStoredOn = storedOn
        logger.info("published", metadata: [
            "seq": "\(sequence)", "stored-on": "\(storedOn)",
            "endpoints": "\(record.endpoints.map(\.description).joined(separator: ","))",
        ])
        emit(.published(record, storedOn: storedOn))
    }

    /// Every ``KeywayNodeConfiguration/replicationCheckInterval``: puts the record again when it
    /// is on fewer nodes than it could be (the replication factor, or every known node and this
    /// one when fewer), and the table has grown since the last put (so dead contacts do not cause
    /// a put every time).
    func checkReplication() {
        guard running, ownPuts.isEmpty, let stored = lastStoredOn, let record = core.publishedRecord else { return }
        let known = core.routingTable.count
        guard known > tableSizeAtLastPut, stored < min(configuration.dht.replicationFactor, known + 1) else { return }
        logger.debug("record under-replicated; putting it again", metadata: ["stored-on": "\(stored)", "known": "\(known)"])
        putAgain(record)
        drain(flush: true)
    }
}
