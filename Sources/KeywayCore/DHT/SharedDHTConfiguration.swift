/// One immutable ``DHTConfiguration`` held by reference, so that a node and its tables share a
/// single copy instead of each keeping its own.
///
/// A ``DHTConfiguration`` is about 600 bytes inline; a node kept six copies of it (its own,
/// the routing table's, the item and peer stores', the vote's and the recent destinations'),
/// 4 KiB a node that a simulator of a million nodes pays 4 GiB for. Read-only after creation,
/// so sharing it changes nothing but memory.
final class SharedDHTConfiguration: Sendable {
    /// The configuration.
    let value: DHTConfiguration

    /// A shared copy of `value`.
    init(_ value: DHTConfiguration) { self.value = value }
}
