/// The Kademlia routing table: k-buckets over the 160-bit ID space (BEP 5).
///
/// Definitions: bucket `i` (for `i` below the last) holds contacts whose IDs share exactly `i`
/// leading bits with ours; the last bucket holds every contact sharing at least as many. Only the
/// last bucket ever splits (it is the one whose range contains our own ID), which gives the
/// unbalanced tree of BEP 5 with at most 160 buckets. Within a bucket, contacts are kept least
/// recently seen first. A full bucket never drops a live contact for a new one: a questionable
/// contact is pinged first (the caller sends that ping), and the newcomer waits in the bucket's
/// replacement cache.
///
/// Hygiene against Sybil and eclipse attacks (as libtorrent's `restrict_routing_ips` and
/// libp2p's diversity filter): one contact per endpoint; at most
/// ``DHTConfiguration/routingContactsPerPrefixPerBucket`` per /24 (IPv4) or /64 (IPv6) in a
/// bucket and ``DHTConfiguration/routingContactsPerPrefix`` in the whole table (loopback and
/// private networks exempt from the prefix limits when ``DHTConfiguration/routingLimitsExemptLocalNetworks``); a node that
/// only sent us a query enters only once it answers a ping of ours from that endpoint
/// (``observeQuerier(_:now:)``); a failure counts only against the contact at the endpoint that
/// failed to answer; a claim of a known ID from another endpoint never displaces a contact that
/// still answers.
///
/// The table is a value with no I/O: every method takes `now` and returns what the caller must do.
public struct RoutingTable: Sendable {
    /// One contact's state.
    public struct Contact: Sendable, Equatable {
        /// The contact's ID and endpoint.
        public var node: NodeContact
        /// When it last answered one of our queries (`nil`: never).
        public var lastResponse: Instant?
        /// When we last heard anything from it.
        public var lastSeen: Instant
        /// Consecutive queries it left unanswered.
        public var failures: Int

        /// BEP 5 "good": answered within `questionableAfter` and not failing.
        func isGood(now: Instant, configuration: DHTConfiguration) -> Bool {
            guard let lastResponse, failures == 0 else { return false }
            return now - lastResponse < configuration.questionableAfter
        }

        /// BEP 5 "bad": failed to answer several queries in a row.
        func isBad(configuration: DHTConfiguration) -> Bool { failures >= configuration.failuresBeforeBad }
    }

    /// One k-bucket.
    public struct Bucket: Sendable {
        /// Live contacts, least recently seen first.
        public var contacts: [Contact] = []
        /// Candidates waiting for a slot, most recently seen last.
        public var replacements: [Contact] = []
        /// When a contact was last added, refreshed or replaced (for idle-bucket refresh).
        public var lastChanged: Instant
    }

    /// What the caller must do after ``observe(_:responded:now:)``.
    public enum Directive: Equatable, Sendable {
        /// Nothing.
        case none
        /// Ping this contact: a questionable one (if it fails, ``recordFailure(of:now:)`` will
        /// evict it in favour of a replacement), or a known ID heard from a new endpoint (its
        /// answer proves the move and updates the endpoint).
        case ping(NodeContact)
    }

    /// This node's ID, the centre of the table.
    public let ownID: NodeID
    /// The limits the table obeys.
    public var configuration: DHTConfiguration { sharedConfiguration.value }
    private let sharedConfiguration: SharedDHTConfiguration
    /// The buckets, from farthest (prefix length 0) to the one containing our own ID.
    public private(set) var buckets: [Bucket]
    /// The ID of the live contact at each endpoint (one contact per endpoint).
    private var idAtEndpoint: [Endpoint: NodeID] = [:]
    // The live contacts per routing prefix (``DHTConfiguration/routingContactsPerPrefix``) are
    // counted by a scan when a newcomer asks to enter, not kept in a dictionary: that
    // dictionary cost about 4 KiB a node (a third of the table) to save a scan of at most a
    // few hundred contacts on the rare path where a new contact could enter.

    /// An empty table around `ownID`.
    public init(ownID: NodeID, configuration: DHTConfiguration, now: Instant) {
        self.init(ownID: ownID, shared: SharedDHTConfiguration(configuration), now: now)
    }

    /// An empty table around `ownID`, reading its limits from `shared`.
    init(ownID: NodeID, shared: SharedDHTConfiguration, now: Instant) {
        self.ownID = ownID
        self.sharedConfiguration = shared
        self.buckets = [Bucket(lastChanged: now)]
    }

    /// Number of live contacts.
    public var count: Int { buckets.reduce(0) { $0 + $1.contacts.count } }

    /// Every live contact, bucket by bucket.
    public var allContacts: [Contact] { buckets.flatMap(\.contacts) }

    /// The bucket index an ID belongs in.
    @inline(__always)
    public func bucketIndex(for id: NodeID) -> Int {
        min(ownID.commonPrefixLength(with: id), buckets.count - 1)
    }

    /// Whether the contact at `endpoint` has answered a query of ours (from that endpoint: the
    /// table holds one contact per endpoint, and answers are taken only from where we asked).
    public func hasAnswered(at endpoint: Endpoint) -> Bool {
        guard let id = idAtEndpoint[endpoint], let contact = contact(for: id) else { return false }
        return contact.node.endpoint == endpoint && contact.lastResponse != nil
    }

    /// The contact with `id`, if the table holds it.
    public func contact(for id: NodeID) -> Contact? {
        buckets[bucketIndex(for: id)].contacts.first { $0.node.id == id }
    }

    /// Records that `node` was heard from: it answered a query of ours from that endpoint
    /// (`responded`), or it is a contact we were given without an answer (restored from disk, or
    /// named by a seed). A node that only sent us a query goes through ``observeQuerier(_:now:)``.
    ///
    /// A newcomer takes a free slot or a bad contact's slot; in a full bucket it waits in the
    /// replacement cache, and a questionable contact is pinged (the returned directive) so a dead
    /// one is found out and replaced. A good contact is never displaced. A newcomer that would
    /// break a prefix limit, or that has not answered and claims an endpoint another contact
    /// holds, is ignored; one that answered from an endpoint held by another ID replaces that
    /// contact (the endpoint answers with a new key now).
    @discardableResult
    public mutating func observe(_ node: NodeContact, responded: Bool, now: Instant) -> Directive {
        guard node.id != ownID else { return .none }
        while true {
            let index = bucketIndex(for: node.id)
            if let position = buckets[index].contacts.firstIndex(where: { $0.node.id == node.id }) {
                var contact = buckets[index].contacts[position]
                if contact.node.endpoint != node.endpoint {
                    // The same ID at another endpoint: a node that moved, or someone claiming its
                    // ID. Only an answer to our own query proves the new address (an unsolicited
                    // packet could be spoofed), and a contact that still answers at its old
                    // address is never moved: the move is taken only once the old endpoint has
                    // failed a query. Otherwise ask the old endpoint whether it is still there.
                    guard responded, contact.failures > 0 else {
                        return contact.failures > 0 ? .ping(node) : .ping(contact.node)
                    }
                    guard idAtEndpoint[node.endpoint] == nil, admitsPrefix(of: node.endpoint, into: index, replacing: contact.node.endpoint) else {
                        return .none
                    }
                    unindexContact(contact.node)
                    contact.node.endpoint = node.endpoint
                    indexContact(contact.node)
                }
                buckets[index].contacts.remove(at: position)
                contact.lastSeen = now
                if responded {
                    contact.lastResponse = now
                    contact.failures = 0
                }
                buckets[index].contacts.append(contact)
                return .none
            }
            if let holder = idAtEndpoint[node.endpoint] {
                // Another ID holds that endpoint. An answer from it under a new ID replaces the
                // old one (a restart with a new key); anything less is ignored, so one socket
                // cannot fill the table with made-up IDs.
                guard responded else { return .none }
                remove(holder)
            }
            let contact = Contact(node: node, lastResponse: responded ? now : nil, lastSeen: now, failures: 0)
            if buckets[index].contacts.count < configuration.bucketSize {
                guard admitsPrefix(of: node.endpoint, into: index) else { return .none }
                insert(contact, into: index, now: now)
                return .none
            }
            // Full: split the bucket that holds our own ID, then try again.
            if index == buckets.count - 1 && buckets.count < NodeID.bitCount {
                split(now: now)
                continue
            }
            // A full bucket: a bad contact makes room for anyone alive. A questionable contact
            // is pinged, and the newcomer waits in the replacement cache for its slot.
            if let bad = buckets[index].contacts.firstIndex(where: { $0.isBad(configuration: configuration) }) {
                let old = buckets[index].contacts[bad].node
                guard admitsPrefix(of: node.endpoint, into: index, replacing: old.endpoint) else { return .none }
                buckets[index].contacts.remove(at: bad)
                unindexContact(old)
                insert(contact, into: index, now: now)
                return .none
            }
            if admitsPrefix(of: node.endpoint, into: index, checkingBucket: false) { addReplacement(contact, to: index) }
            if let questionable = buckets[index].contacts.first(where: { !$0.isGood(now: now, configuration: configuration) }) {
                return .ping(questionable.node)
            }
            return .none
        }
    }

    /// Records a query from `node`. A contact we hold at that endpoint is marked as seen. A node
    /// we do not hold creates no state: it is answered with a ping (the returned directive), when
    /// the table could take it, and enters only when it answers from that endpoint (which a
    /// spoofed source cannot do). The same ID from another endpoint is handled as in
    /// ``observe(_:responded:now:)``: the contact that answers is kept.
    public mutating func observeQuerier(_ node: NodeContact, now: Instant) -> Directive {
        guard node.id != ownID else { return .none }
        let index = bucketIndex(for: node.id)
        if let position = buckets[index].contacts.firstIndex(where: { $0.node.id == node.id }) {
            guard buckets[index].contacts[position].node.endpoint == node.endpoint else {
                return observe(node, responded: false, now: now)
            }
            var contact = buckets[index].contacts.remove(at: position)
            contact.lastSeen = now
            buckets[index].contacts.append(contact)
            return .none
        }
        guard idAtEndpoint[node.endpoint] == nil else { return .none }
        // Worth a ping only if the answer could enter: a free slot, a slot that can be split,
        // a bad contact's slot, or the replacement cache of a bucket with questionable contacts.
        let bucket = buckets[index]
        let couldEnter = bucket.contacts.count < configuration.bucketSize
            || (index == buckets.count - 1 && buckets.count < NodeID.bitCount)
            || bucket.contacts.contains { !$0.isGood(now: now, configuration: configuration) }
        guard couldEnter, admitsPrefix(of: node.endpoint, into: index, checkingBucket: bucket.contacts.count < configuration.bucketSize) else {
            return .none
        }
        return .ping(node)
    }

    /// Records that the node `id` at `endpoint` left a query unanswered. Only the contact at
    /// that endpoint is charged: a query to an address someone merely claimed for a known ID
    /// never counts against the contact that answers elsewhere. A contact that becomes bad is
    /// replaced by the freshest replacement, if there is one; that replacement is returned (it
    /// has just entered the table).
    @discardableResult
    public mutating func recordFailure(of id: NodeID, at endpoint: Endpoint, now: Instant) -> NodeContact? {
        let index = bucketIndex(for: id)
        guard let position = buckets[index].contacts.firstIndex(where: { $0.node.id == id }) else {
            buckets[index].replacements.removeAll { $0.node.id == id && $0.node.endpoint == endpoint }
            return nil
        }
        guard buckets[index].contacts[position].node.endpoint == endpoint else { return nil }
        buckets[index].contacts[position].failures += 1
        guard buckets[index].contacts[position].isBad(configuration: configuration) else { return nil }
        while let replacement = buckets[index].replacements.popLast() {
            // A replacement may have taken an endpoint or a prefix share since it was queued.
            let old = buckets[index].contacts[position].node
            guard idAtEndpoint[replacement.node.endpoint] == nil,
                  admitsPrefix(of: replacement.node.endpoint, into: index, replacing: old.endpoint) else { continue }
            buckets[index].contacts.remove(at: position)
            unindexContact(old)
            insert(replacement, into: index, now: now)
            return replacement.node
        }
        return nil
    }

    /// Removes `id` outright (for example a seed whose key did not match).
    public mutating func remove(_ id: NodeID) {
        let index = bucketIndex(for: id)
        if let position = buckets[index].contacts.firstIndex(where: { $0.node.id == id }) {
            unindexContact(buckets[index].contacts.remove(at: position).node)
        }
        removeReplacement(id: id, from: index)
    }

    /// Up to `count` contacts closest to `target` by XOR distance, nearest first, leaving out
    /// bad contacts (and, when given, contacts of another address family than `family`).
    ///
    /// Buckets are visited nearest first, and the visit stops as soon as `count` contacts are
    /// found, which gives the same answer as scanning every contact. With `c` the target's
    /// bucket, every contact of bucket `c` (unless it is the last) agrees with the target up to
    /// bit `c` included; every contact of the buckets after `c` differs from it first at bit
    /// `c`; every contact of a bucket `j < c` first at bit `j`. So the groups, in order: bucket
    /// `c`, then buckets `c+1...` together, then `c-1`, `c-2`, ... down to 0, each strictly
    /// farther than the one before. Queries call this for every `find_node`, `get` and
    /// `get_peers` they answer.
    ///
    /// With `verifiedOnly`, only contacts that have answered a query of ours are given: what the
    /// node tells others (a contact restored from disk or named by a seed is used for our own
    /// lookups, but vouched for only once it has answered).
    public func closest(to target: NodeID, count: Int, ipv4: Bool? = nil, verifiedOnly: Bool = false) -> [NodeContact] {
        guard count > 0 else { return [] }
        var best: [(distance: NodeID, node: NodeContact)] = []
        best.reserveCapacity(count + 1)
        func consider(_ index: Int) {
            for contact in buckets[index].contacts where !contact.isBad(configuration: configuration) {
                if let ipv4, contact.node.endpoint.address.isIPv4 != ipv4 { continue }
                if verifiedOnly && contact.lastResponse == nil { continue }
                let distance = contact.node.id.distance(to: target)
                if best.count == count, let last = best.last, !(distance < last.distance) { continue }
                var position = best.count
                while position > 0 && distance < best[position - 1].distance { position -= 1 }
                best.insert((distance, contact.node), at: position)
                if best.count > count { best.removeLast() }
            }
        }
        let nearest = bucketIndex(for: target)
        consider(nearest)
        if best.count < count {
            for index in (nearest + 1)..<max(nearest + 1, buckets.count) { consider(index) }
        }
        var index = nearest - 1
        while best.count < count && index >= 0 {
            consider(index)
            index -= 1
        }
        return best.map(\.node)
    }

    /// Indices of buckets unchanged since `now - bucketRefreshInterval`.
    public func bucketsNeedingRefresh(now: Instant) -> [Int] {
        buckets.indices.filter { now - buckets[$0].lastChanged >= configuration.bucketRefreshInterval }
    }

    /// Marks a bucket as refreshed (a lookup in its range has started).
    public mutating func markRefreshed(_ index: Int, now: Instant) {
        guard buckets.indices.contains(index) else { return }
        buckets[index].lastChanged = now
    }

    /// A random ID that falls in bucket `index`.
    public func randomID(inBucket index: Int, using rng: inout some RandomNumberGenerator) -> NodeID {
        var id = NodeID.random(using: &rng)
        // Copy our first `index` bits, then (except in the last bucket) differ at bit `index`.
        for bit in 0..<min(index, NodeID.bitCount) where id.bit(bit) != ownID.bit(bit) {
            id = id.flippingBit(bit)
        }
        if index < buckets.count - 1, index < NodeID.bitCount, id.bit(index) == ownID.bit(index) {
            id = id.flippingBit(index)
        }
        return id
    }

    private mutating func split(now: Instant) {
        let last = buckets.count - 1
        let old = buckets[last]
        var near = Bucket(lastChanged: now)
        var far = Bucket(lastChanged: old.lastChanged)
        for contact in old.contacts {
            if ownID.commonPrefixLength(with: contact.node.id) > last { near.contacts.append(contact) } else { far.contacts.append(contact) }
        }
        for contact in old.replacements {
            if ownID.commonPrefixLength(with: contact.node.id) > last { near.replacements.append(contact) } else { far.replacements.append(contact) }
        }
        buckets[last] = far
        buckets.append(near)
    }

    // MARK: Hygiene bookkeeping

    /// The routing prefix of an address (/24 IPv4, /64 IPv6 by default).
    func routingPrefix(of address: IPAddress) -> AddressPrefix {
        AddressPrefix(address, ipv4Bits: configuration.routingIPv4PrefixLength, ipv6Bits: configuration.routingIPv6PrefixLength)
    }

    /// Whether a contact at `endpoint` may enter bucket `index` without exceeding the prefix
    /// limits, counting the contact at `replaced` (if any) as already gone.
    private func admitsPrefix(of endpoint: Endpoint, into index: Int, replacing replaced: Endpoint? = nil, checkingBucket: Bool = true) -> Bool {
        if configuration.routingLimitsExemptLocalNetworks && endpoint.address.isLocalNetwork { return true }
        let prefix = routingPrefix(of: endpoint.address)
        let freed = replaced.map { routingPrefix(of: $0.address) == prefix } ?? false ? 1 : 0
        if contacts(inPrefix: prefix) - freed >= configuration.routingContactsPerPrefix { return false }
        guard checkingBucket else { return true }
        let inBucket = buckets[index].contacts.reduce(0) { $0 + (routingPrefix(of: $1.node.endpoint.address) == prefix ? 1 : 0) }
        return inBucket - freed < configuration.routingContactsPerPrefixPerBucket
    }

    private mutating func insert(_ contact: Contact, into index: Int, now: Instant) {
        buckets[index].contacts.append(contact)
        buckets[index].lastChanged = now
        removeReplacement(id: contact.node.id, from: index)
        indexContact(contact.node)
    }

    /// Live contacts whose routing prefix is `prefix`, over the whole table.
    private func contacts(inPrefix prefix: AddressPrefix) -> Int {
        var count = 0
        for bucket in buckets {
            for contact in bucket.contacts where routingPrefix(of: contact.node.endpoint.address) == prefix { count += 1 }
        }
        return count
    }

    private mutating func indexContact(_ node: NodeContact) {
        idAtEndpoint[node.endpoint] = node.id
    }

    private mutating func unindexContact(_ node: NodeContact) {
        if idAtEndpoint[node.endpoint] == node.id { idAtEndpoint.removeValue(forKey: node.endpoint) }
    }

    private mutating func addReplacement(_ contact: Contact, to index: Int) {
        buckets[index].replacements.removeAll { $0.node.id == contact.node.id }
        // Make room before appending, so the array never holds more than the cache size: one
        // over it would double its capacity for good (the table's largest single cost).
        let limit = max(0, configuration.replacementCacheSize)
        guard limit > 0 else { return }
        if buckets[index].replacements.count >= limit {
            buckets[index].replacements.removeFirst(buckets[index].replacements.count - limit + 1)
        }
        buckets[index].replacements.append(contact)
    }

    private mutating func removeReplacement(id: NodeID, from index: Int) {
        buckets[index].replacements.removeAll { $0.node.id == id }
    }
}
