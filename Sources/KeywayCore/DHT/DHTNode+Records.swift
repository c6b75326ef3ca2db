import KeywayCrypto

/// Endpoint records: the node's own record and other nodes' records, on top of BEP 44 items.
extension DHTNode {
    /// Publishes `endpoints` as this node's signed endpoint record and keeps republishing it.
    ///
    /// `seq` is the publish time in microseconds since 1970, as pkarr requires; the core has no
    /// wall clock, so the caller passes it. The core makes `seq` strictly increase even if the
    /// wall clock steps back, so a newer record always supersedes an older one.
    /// Throws when the endpoints cannot form a record (none, duplicates, unspecified, too many).
    @discardableResult
    public mutating func publishRecord(endpoints: [Endpoint], wallClockMicroseconds: Int64, now: Instant) throws(EndpointRecordError) -> (OperationID, EndpointRecord) {
        let sequence = max(wallClockMicroseconds, lastRecordSequence + 1)
        let record = try EndpointRecord(publicKey: keyPair.publicKey, timestampMicroseconds: sequence, endpoints: endpoints)
        lastRecordSequence = sequence
        return (putItem(record.signed(by: keyPair), now: now), record)
    }

    /// The record this node is currently publishing, if any.
    public var publishedRecord: EndpointRecord? {
        guard let item = published[id]?.item else { return nil }
        return try? EndpointRecord(item: item)
    }

    /// Starts a resolve of `publicKey`'s endpoint record; it ends with
    /// ``DHTEvent/itemResolved(_:target:item:statistics:)`` whose item ``EndpointRecord/init(item:limits:)`` decodes.
    @discardableResult
    public mutating func resolveRecord(publicKey: Ed25519.PublicKey, now: Instant) -> OperationID {
        getItem(publicKey: publicKey, now: now)
    }
}
