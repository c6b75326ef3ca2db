import KeywayCrypto

/// The DHT half's state and operations on the whole node core: each operation runs on the DHT
/// half and then routes events, as ``KeywayNodeCore/withDHT(now:_:)`` does.
extension KeywayNodeCore {
    /// The DHT half's routing table.
    public var routingTable: RoutingTable { dht.routingTable }
    /// Whether the node has joined the DHT (``DHTNode/isBootstrapped``).
    public var isBootstrapped: Bool { dht.isBootstrapped }
    /// The record this node is publishing, if any.
    public var publishedRecord: EndpointRecord? { dht.publishedRecord }
    /// The endpoint peers agree they see this node at (``DHTNode/externalEndpoint``).
    public var externalEndpoint: Endpoint? { dht.externalEndpoint }
    /// The external endpoint with evidence that peers reach it there (``DHTNode/confirmedExternalEndpoint``).
    public var confirmedExternalEndpoint: Endpoint? { dht.confirmedExternalEndpoint }
    /// The node's routing ID.
    public var id: NodeID { dht.id }
    /// The node's identity.
    public var keyPair: Ed25519.KeyPair { dht.keyPair }
    /// The DHT half's counters.
    public var statistics: DHTStatistics { dht.statistics }
    /// The endpoints the node publishes (or would publish) now, most preferred first.
    public var reachableEndpoints: [Endpoint] { publisher.reachable }

    /// Joins the DHT through `seeds` from now on, the attempts (and their backoff) starting
    /// over, unless the node has joined already or `seeds` is empty: for seeds given by name
    /// whose addresses were looked up again after every address failed, or found at last.
    /// A node that started alone counts as joining from then on.
    public mutating func bootstrap(through seeds: [DHTSeed], now: Instant) {
        guard !seeds.isEmpty, !dht.isBootstrapped else { return }
        hasBootstrapSources = true
        withDHT(now: now) { $0.bootstrap(seeds: seeds, now: now) }
    }

    /// Adds a contact (a routing table restored from disk; see ``DHTNode/addContact(_:now:)``).
    public mutating func addContact(_ contact: NodeContact, now: Instant) {
        withDHT(now: now) { $0.addContact(contact, now: now) }
    }

    /// Starts a resolve of `publicKey`'s endpoint record (see ``DHTNode/resolveRecord(publicKey:now:)``).
    @discardableResult
    public mutating func resolveRecord(publicKey: Ed25519.PublicKey, now: Instant) -> OperationID {
        withDHT(now: now) { $0.resolveRecord(publicKey: publicKey, now: now) }
    }

    /// Starts a lookup of a mutable item (see ``DHTNode/getItem(publicKey:salt:now:)``).
    @discardableResult
    public mutating func getItem(publicKey: Ed25519.PublicKey, salt: [UInt8], now: Instant) -> OperationID {
        withDHT(now: now) { $0.getItem(publicKey: publicKey, salt: salt, now: now) }
    }

    /// Puts a mutable item and keeps republishing it (see ``DHTNode/putItem(_:now:)``).
    @discardableResult
    public mutating func putItem(_ item: MutableItem, now: Instant) -> OperationID {
        withDHT(now: now) { $0.putItem(item, now: now) }
    }
}
