import KeywayCore

/// Seeds that change while the node runs: a seed given by name whose addresses were looked up
/// again.
extension KeywayNode {
    /// Joins the DHT through `seeds` from now on, starting the attempts (and their backoff)
    /// over, unless the node has joined already or `seeds` is empty. For a caller that resolved
    /// its seeds' names again after every address failed
    /// (``KeywayEvent/seedsUnreachable(attempt:retryIn:)``), or resolved them at last.
    public func bootstrap(through seeds: [DHTSeed]) async throws {
        let engine = self.engine
        try await engine.eventLoop.submit { engine.value.bootstrap(through: seeds) }.get()
    }
}

extension NodeEngine {
    /// See ``KeywayNode/bootstrap(through:)``.
    func bootstrap(through seeds: [DHTSeed]) {
        guard running, !seeds.isEmpty, !core.isBootstrapped else { return }
        logger.info("joining through new seed addresses", metadata: ["seeds": "\(seeds.map(\.endpoint.description).joined(separator: ","))"])
        core.bootstrap(through: seeds, now: clock.now())
        drain(flush: true)
    }
}
