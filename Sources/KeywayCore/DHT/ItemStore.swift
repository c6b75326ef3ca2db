import Collections
import KeywayCrypto

/// BEP 44 storage: the items this node holds for others, with expiry and bounds.
///
/// Contracts:
/// - A mutable item is stored only if its signature verifies and its sizes are within BEP 44.
/// - A put whose `seq` is lower than the stored one MUST be refused (302); an equal `seq` with
///   the same value refreshes the item's lifetime, with another value it is refused (302).
/// - A put with `cas` MUST be refused (301) unless `cas` equals the stored `seq`.
/// - The store never holds more than `maximumStoredItems` items or `maximumStoredBytes` bytes of
///   values, nor more than `maximumStoredItemsPerPrefix` items first stored by one source prefix
///   (``DHTConfiguration/storageIPv4PrefixLength``, a /24; /48 for IPv6).
/// - A put is never refused for lack of room (attack 10 of issue 12: one IP filled the store
///   with targets next to our ID and an honest put got `202 storage full`). A source over its
///   share loses its own oldest item; a full store loses the oldest item of the source prefix
///   holding the most items (this node's own items, put with no source, are evicted last).
///   "Oldest" is the least recently stored or refreshed.
/// - An item stays charged to the prefix that first stored it while it lives: refreshing or
///   updating someone else's item (which anyone may do with the owner's signature) does not
///   move it into the putter's share, where the putter could then evict it.
public struct ItemStore: Sendable {
    /// What is stored under a target.
    public enum Item: Sendable, Equatable {
        /// A signed, versioned item.
        case mutable(MutableItem)
        /// An immutable item: its bencoded value, whose SHA-1 is the target.
        case immutable(encodedValue: [UInt8])

        var byteCount: Int {
            switch self {
            case let .mutable(item): return item.encodedValue.count + item.salt.count + 96
            case let .immutable(value): return value.count
            }
        }
    }

    /// Whom an item is charged to: the prefix of the source that first stored it, or `nil` for
    /// this node's own puts.
    public typealias Owner = AddressPrefix?

    private struct Entry: Sendable {
        var item: Item
        var expires: Instant
        var owner: Owner
    }

    private var entries: [NodeID: Entry] = [:]
    /// Targets held per owner, least recently stored or refreshed first.
    private var byOwner: [Owner: OrderedSet<NodeID>] = [:]
    /// Bytes currently held, as counted against ``DHTConfiguration/maximumStoredBytes``.
    public private(set) var byteCount = 0
    private let ownID: NodeID
    private let sharedConfiguration: SharedDHTConfiguration
    private var configuration: DHTConfiguration { sharedConfiguration.value }

    /// An empty store for a node with `ownID`.
    public init(ownID: NodeID, configuration: DHTConfiguration) {
        self.init(ownID: ownID, shared: SharedDHTConfiguration(configuration))
    }

    /// An empty store for a node with `ownID`, reading its limits from `shared`.
    init(ownID: NodeID, shared: SharedDHTConfiguration) {
        self.ownID = ownID
        self.sharedConfiguration = shared
    }

    /// Number of items held.
    public var count: Int { entries.count }

    /// The item under `target`, if held and not expired.
    public func item(for target: NodeID, now: Instant) -> Item? {
        guard let entry = entries[target], entry.expires > now else { return nil }
        return entry.item
    }

    /// Every mutable item held and not expired at `now`, in no particular order (for audits).
    public func mutableItems(now: Instant) -> [MutableItem] {
        entries.values.compactMap { entry in
            guard entry.expires > now, case let .mutable(item) = entry.item else { return nil }
            return item
        }
    }

    /// Targets of the items held and not expired at `now` that `node` is closer to than this
    /// node is, nearest to `node` first (a deterministic order, whatever the dictionary's).
    /// These are the items a node that newly appears there may need (see
    /// ``DHTConfiguration/handOffStoredItems``).
    public func targets(closerTo node: NodeID, now: Instant) -> [NodeID] {
        var found: [NodeID] = []
        for (target, entry) in entries where entry.expires > now && node.distance(to: target) < ownID.distance(to: target) {
            found.append(target)
        }
        return found.sorted { node.distance(to: $0) < node.distance(to: $1) }
    }

    /// The owner a put from `source` is charged to (`nil`: this node's own).
    public func owner(of source: IPAddress?) -> Owner {
        source.map { AddressPrefix($0, ipv4Bits: configuration.storageIPv4PrefixLength, ipv6Bits: configuration.storageIPv6PrefixLength) }
    }

    /// Items charged to the prefix of `source` (`nil`: this node's own).
    public func itemCount(from source: IPAddress?) -> Int { byOwner[owner(of: source)]?.count ?? 0 }

    /// Stores a mutable item put by `source` (`nil`: this node itself), applying every BEP 44
    /// rule; returns the KRPC error to answer with.
    public mutating func put(_ item: MutableItem, cas: Int64?, from source: IPAddress? = nil, now: Instant) -> KRPCError? {
        if item.encodedValue.count > DHTSpec.maximumValueLength {
            return KRPCError(code: DHTSpec.ErrorCode.valueTooBig, message: "v too big")
        }
        if item.salt.count > DHTSpec.maximumSaltLength {
            return KRPCError(code: DHTSpec.ErrorCode.saltTooBig, message: "salt too big")
        }
        let target = item.target
        if let existing = self.item(for: target, now: now), case let .mutable(stored) = existing {
            if let cas, cas != stored.sequence {
                return KRPCError(code: DHTSpec.ErrorCode.casMismatch, message: "CAS mismatch, re-read and try again")
            }
            if item.sequence < stored.sequence || (item.sequence == stored.sequence && item.encodedValue != stored.encodedValue) {
                return KRPCError(code: DHTSpec.ErrorCode.sequenceNotNewer, message: "sequence number less than current")
            }
            if item.sequence == stored.sequence {
                refresh(target, now: now)
                return nil
            }
        }
        // The signature is checked last: it is the expensive step.
        guard item.isValid else {
            return KRPCError(code: DHTSpec.ErrorCode.invalidSignature, message: "invalid signature")
        }
        insert(.mutable(item), at: target, owner: owner(of: source), now: now)
        return nil
    }

    /// Stores an immutable item (target = SHA-1 of its bencoded value) put by `source`.
    public mutating func putImmutable(encodedValue: [UInt8], from source: IPAddress? = nil, now: Instant) -> KRPCError? {
        if encodedValue.count > DHTSpec.maximumValueLength {
            return KRPCError(code: DHTSpec.ErrorCode.valueTooBig, message: "v too big")
        }
        guard let target = NodeID(bytes: SHA1.hash(encodedValue)) else { return nil }
        if self.item(for: target, now: now) != nil {
            refresh(target, now: now)
            return nil
        }
        insert(.immutable(encodedValue: encodedValue), at: target, owner: owner(of: source), now: now)
        return nil
    }

    /// Drops every item whose lifetime has ended.
    public mutating func expire(now: Instant) {
        let expired = entries.filter { $0.value.expires <= now }.map(\.key)
        for target in expired { remove(target) }
    }

    /// Extends the life of the item under `target` and makes it its owner's most recent.
    private mutating func refresh(_ target: NodeID, now: Instant) {
        guard let entry = entries[target] else { return }
        let expires = now + configuration.itemLifetime
        entries[target]?.expires = expires
        touch(target, owner: entry.owner)
    }

    private mutating func touch(_ target: NodeID, owner: Owner) {
        byOwner[owner]?.remove(target)
        byOwner[owner, default: []].append(target)
    }

    /// Stores `item`, charged to the owner of the item it replaces if any (see the contracts),
    /// making room by the fair policy first.
    private mutating func insert(_ item: Item, at target: NodeID, owner newOwner: Owner, now: Instant) {
        let owner = entries[target].map(\.owner) ?? newOwner
        remove(target)
        if owner != nil {
            while (byOwner[owner]?.count ?? 0) >= max(1, configuration.maximumStoredItemsPerPrefix) {
                guard let oldest = byOwner[owner]?.first else { break }
                remove(oldest)
            }
        }
        while !entries.isEmpty && (entries.count >= max(1, configuration.maximumStoredItems)
                                    || byteCount + item.byteCount > configuration.maximumStoredBytes) {
            guard let victim = largestOwner(), let oldest = byOwner[victim]?.first else { break }
            remove(oldest)
        }
        entries[target] = Entry(item: item, expires: now + configuration.itemLifetime, owner: owner)
        byOwner[owner, default: []].append(target)
        byteCount += item.byteCount
    }

    /// The owner holding the most items, this node itself last; ties go to the owner whose
    /// oldest item is the least recently stored (a deterministic choice).
    private func largestOwner() -> Owner? {
        var best: (owner: Owner, count: Int, oldest: Instant)?
        for (owner, targets) in byOwner where !targets.isEmpty {
            let count = owner == nil ? 0 : targets.count
            let oldest = targets.first.flatMap { entries[$0]?.expires } ?? .zero
            if let current = best, current.count > count || (current.count == count && current.oldest <= oldest) { continue }
            best = (owner, count, oldest)
        }
        return best?.owner
    }

    private mutating func remove(_ target: NodeID) {
        guard let old = entries.removeValue(forKey: target) else { return }
        byteCount -= old.item.byteCount
        byOwner[old.owner]?.remove(target)
        if byOwner[old.owner]?.isEmpty == true { byOwner.removeValue(forKey: old.owner) }
    }
}

/// BEP 5 peer storage for `announce_peer` / `get_peers`, bounded in both dimensions.
public struct PeerStore: Sendable {
    private var peers: [NodeID: [(endpoint: Endpoint, expires: Instant)]] = [:]
    private let sharedConfiguration: SharedDHTConfiguration
    private var configuration: DHTConfiguration { sharedConfiguration.value }

    /// An empty store.
    public init(configuration: DHTConfiguration) { self.init(shared: SharedDHTConfiguration(configuration)) }

    /// An empty store reading its limits from `shared`.
    init(shared: SharedDHTConfiguration) { self.sharedConfiguration = shared }

    /// Records that `endpoint` serves `infoHash`. Ignored when the store is full of other hashes.
    /// One address holds at most ``DHTConfiguration/maximumPeersPerInfoHashPerAddress`` of an
    /// info-hash's peers (its oldest announcement gives way), so one IP announcing from many
    /// ports cannot take all of its slots.
    public mutating func announce(_ endpoint: Endpoint, for infoHash: NodeID, now: Instant) {
        if peers[infoHash] == nil && peers.count >= configuration.maximumPeerInfoHashes { return }
        var list = peers[infoHash, default: []].filter { $0.endpoint != endpoint && $0.expires > now }
        let perAddress = max(1, configuration.maximumPeersPerInfoHashPerAddress)
        while list.count(where: { $0.endpoint.address == endpoint.address }) >= perAddress,
              let oldest = list.firstIndex(where: { $0.endpoint.address == endpoint.address }) {
            list.remove(at: oldest)
        }
        list.append((endpoint, now + configuration.peerLifetime))
        if list.count > configuration.maximumPeersPerInfoHash { list.removeFirst(list.count - configuration.maximumPeersPerInfoHash) }
        peers[infoHash] = list
    }

    /// Live peers for `infoHash`, oldest announcement first.
    public func peers(for infoHash: NodeID, now: Instant) -> [Endpoint] {
        (peers[infoHash] ?? []).filter { $0.expires > now }.map(\.endpoint)
    }

    /// Drops expired announcements.
    public mutating func expire(now: Instant) {
        for key in Array(peers.keys) {
            let live = peers[key]!.filter { $0.expires > now }
            peers[key] = live.isEmpty ? nil : live
        }
    }
}
