import KeywayCore
import KeywayCrypto

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

/// What a running node is doing now, for `keyway status`: its endpoints, its routing table by
/// bucket, what it stores, its sessions. Ages are measured on the node's clock at the moment of
/// the snapshot.
public struct KeywayNodeStatus: Sendable, Equatable {
    /// One bucket of the routing table.
    public struct Bucket: Sendable, Equatable {
        /// Its position, 0 the farthest from this node's ID.
        public var index: Int
        /// Live contacts.
        public var contacts: Int
        /// Contacts waiting to replace failing ones.
        public var replacements: Int
    }

    /// One transport session.
    public struct Session: Sendable, Equatable {
        /// The peer's key.
        public var peer: Ed25519.PublicKey
        /// Where the session sends now.
        public var endpoint: Endpoint?
        /// `direct` (the only path the transport has so far).
        public var path: String
        /// Whether keys are confirmed both ways.
        public var established: Bool
        /// Whether this node dialled the peer.
        public var dialled: Bool
        /// The smoothed round-trip time, once measured.
        public var rtt: Duration?
        /// The datagram size in use.
        public var datagramSize: Int
        /// Since the last authenticated packet from the peer.
        public var lastReceivedAgo: Duration?
        /// Since the current keys were derived.
        public var lastHandshakeAgo: Duration?
    }

    /// The node's key.
    public var publicKey: Ed25519.PublicKey
    /// The bound socket address.
    public var localEndpoint: Endpoint
    /// What the node would publish now, most preferred first.
    public var reachable: [Endpoint]
    /// The record in force, once published.
    public var published: EndpointRecord?
    /// The endpoint peers say they see (BEP 42), and whether it is confirmed reachable.
    public var externalEndpoint: Endpoint?
    /// Whether ``externalEndpoint`` is confirmed (and so published).
    public var externalEndpointConfirmed: Bool
    /// Responders whose view of this node's endpoint counts now.
    public var observedAddressVoters: Int
    /// Whether the node has joined the DHT (a node with nothing to join through, a lone
    /// seed, counts as joined).
    public var bootstrapped: Bool
    /// The routing table, bucket by bucket.
    public var buckets: [Bucket]
    /// BEP 44 items stored for others.
    public var storedItems: Int
    /// Transport sessions.
    public var sessions: [Session]
    /// Streams the application holds.
    public var streams: Int
}

extension KeywayNode {
    /// What the node is doing now (see ``KeywayNodeStatus``).
    public func status() async throws -> KeywayNodeStatus {
        let engine = self.engine
        let localEndpoint = self.localEndpoint
        return try await engine.eventLoop.submit {
            let engine = engine.value
            let now = engine.clock.now()
            let table = engine.core.routingTable
            let dht = engine.core.dht
            let sessions = engine.core.transport.sessionSummaries.map { summary in
                KeywayNodeStatus.Session(
                    peer: summary.peer, endpoint: summary.endpoint, path: "direct", established: summary.established,
                    dialled: summary.dialled, rtt: summary.smoothedRTT, datagramSize: summary.datagramSize,
                    lastReceivedAgo: summary.lastReceivedAt.map { now - $0 }, lastHandshakeAgo: summary.lastHandshakeAt.map { now - $0 })
            }
            return KeywayNodeStatus(
                publicKey: engine.configuration.keyPair.publicKey, localEndpoint: localEndpoint, reachable: engine.reachable,
                published: engine.core.publishedRecord, externalEndpoint: dht.externalEndpoint,
                externalEndpointConfirmed: dht.confirmedExternalEndpoint != nil && dht.confirmedExternalEndpoint == dht.externalEndpoint,
                observedAddressVoters: dht.observedAddressVoters, bootstrapped: engine.core.isBootstrapped || !engine.core.hasBootstrapSources,
                buckets: table.buckets.enumerated().map { index, bucket in
                    KeywayNodeStatus.Bucket(index: index, contacts: bucket.contacts.count, replacements: bucket.replacements.count)
                },
                storedItems: dht.store.count, sessions: sessions.sorted { $0.peer.zBase32 < $1.peer.zBase32 },
                streams: engine.streams.streams.count)
        }.get()
    }
}
