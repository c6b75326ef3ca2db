import KeywayCore

/// A snapshot of everything a running node counts, taken at once on its event loop: what a
/// metrics exporter reads. The counters come from the core's statistics and the runtime's
/// stream accounting; nothing here is computed for the snapshot's sake.
public struct KeywayNodeCounters: Sendable, Equatable {
    /// The DHT core's counters.
    public var dht: DHTStatistics
    /// The transport's counters.
    public var transport: TransportStatistics
    /// Contacts in the routing table now.
    public var routingTableContacts: Int
    /// Transport sessions now (established or being set up).
    public var sessions: Int
    /// Streams the application holds now.
    public var streams: Int
    /// Stream bytes the transport took from writes since the start.
    public var streamBytesSent: Int
    /// Stream bytes delivered in order to readers since the start.
    public var streamBytesReceived: Int
    /// Items this node stores for others now.
    public var storedItems: Int
}

extension KeywayNode {
    /// The node's counters now.
    public func counters() async throws -> KeywayNodeCounters {
        let engine = self.engine
        return try await engine.eventLoop.submit {
            let engine = engine.value
            return KeywayNodeCounters(
                dht: engine.core.statistics, transport: engine.core.transport.statistics,
                routingTableContacts: engine.core.routingTable.count, sessions: engine.core.transport.peerCount,
                streams: engine.streams.streams.count, streamBytesSent: engine.streams.bytesWritten,
                streamBytesReceived: engine.streams.bytesDelivered, storedItems: engine.core.dht.store.count)
        }.get()
    }
}
