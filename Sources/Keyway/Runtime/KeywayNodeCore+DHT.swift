import KeywayCore
import KeywayCrypto

/// The DHT operations the engine uses, on the whole node core: each runs on the DHT half and
/// then routes events, as ``KeywayNodeCore/withDHT(now:_:)`` does.
extension KeywayNodeCore {
    var routingTable: RoutingTable { dht.routingTable }
    var isBootstrapped: Bool { dht.isBootstrapped }
    var publishedRecord: EndpointRecord? { dht.publishedRecord }
    var externalEndpoint: Endpoint? { dht.externalEndpoint }
    var confirmedExternalEndpoint: Endpoint? { dht.confirmedExternalEndpoint }
    var id: NodeID { dht.id }
    var keyPair: Ed25519.KeyPair { dht.keyPair }
    /// The DHT half's counters.
    var statistics: DHTStatistics { dht.statistics }

    mutating func bootstrap(seeds: [DHTSeed], now: Instant) {
        withDHT(now: now) { $0.bootstrap(seeds: seeds, now: now) }
    }

    mutating func setLocalEndpoints(_ endpoints: [Endpoint], now: Instant) {
        withDHT(now: now) { $0.setLocalEndpoints(endpoints) }
    }

    mutating func addContact(_ contact: NodeContact, now: Instant) {
        withDHT(now: now) { $0.addContact(contact, now: now) }
    }

    mutating func resolveRecord(publicKey: Ed25519.PublicKey, now: Instant) -> OperationID {
        withDHT(now: now) { $0.resolveRecord(publicKey: publicKey, now: now) }
    }

    mutating func publishRecord(
        endpoints: [Endpoint], wallClockMicroseconds: Int64, now: Instant
    ) throws(EndpointRecordError) -> (OperationID, EndpointRecord) {
        try withDHT(now: now) { (dht: inout DHTNode) throws(EndpointRecordError) in
            try dht.publishRecord(endpoints: endpoints, wallClockMicroseconds: wallClockMicroseconds, now: now)
        }
    }

    mutating func getItem(publicKey: Ed25519.PublicKey, salt: [UInt8], now: Instant) -> OperationID {
        withDHT(now: now) { $0.getItem(publicKey: publicKey, salt: salt, now: now) }
    }

    mutating func putItem(_ item: MutableItem, now: Instant) -> OperationID {
        withDHT(now: now) { $0.putItem(item, now: now) }
    }
}
