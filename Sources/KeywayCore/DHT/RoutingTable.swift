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
    public let configuration: DHTConfiguration
    /// The buckets, from farthest (prefix length 0) to the one containing our own ID.
    public private(set) var buckets: [Bucket]

    /// An empty table around `ownID`.
    public init(ownID: NodeID, configuration: DHTConfiguration, now: Instant) {
        self.ownID = ownID
        self.configuration = configuration
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

    /// The contact with `id`, if the table holds it.
    public func contact(for id: NodeID) -> Contact? {
        buckets[bucketIndex(for: id)].contacts.first { $0.node.id == id }
    }

    /// Records that `node` was heard from: it answered a query of ours (`responded`) or sent us one.
    ///
    /// A newcomer takes a free slot or a bad contact's slot; in a full bucket it waits in the
    /// replacement cache, and a questionable contact is pinged (the returned directive) so a dead
    /// one is found out and replaced. A good contact is never displaced.
    @discardableResult
    public mutating func observe(_ node: NodeContact, responded: Bool, now: Instant) -> Directive {
        guard node.id != ownID else { return .none }
        while true {
            let index = bucketIndex(for: node.id)
            if let position = buckets[index].contacts.firstIndex(where: { $0.node.id == node.id }) {
                var contact = buckets[index].contacts.remove(at: position)
                if contact.node.endpoint != node.endpoint {
                    // Only an answer to our query (which we sent to that endpoint) proves the
                    // new address; an unsolicited packet could be spoofed. So ping the claimed
                    // address: a node that moved is re-learnt by its answer (without this, peers
                    // keep its dead address until it goes bad and is replaced).
                    guard responded else {
                        buckets[index].contacts.insert(contact, at: position)
                        return .ping(node)
                    }
                    contact.node.endpoint = node.endpoint
                }
                contact.lastSeen = now
                if responded {
                    contact.lastResponse = now
                    contact.failures = 0
                }
                buckets[index].contacts.append(contact)
                return .none
            }
            let contact = Contact(node: node, lastResponse: responded ? now : nil, lastSeen: now, failures: 0)
            if buckets[index].contacts.count < configuration.bucketSize {
                buckets[index].contacts.append(contact)
                buckets[index].lastChanged = now
                removeReplacement(id: node.id, from: index)
                return .none
            }
            // Full: split the bucket that holds our own ID, then try again.
            if index == buckets.count - 1 && buckets.count < NodeID.bitCount {
                split(now: now)
                continue
            }
            // A full bucket: a bad contact makes room for anyone alive (a node that sent us a
            // query is alive too; otherwise a bucket full of dead contacts would never again
            // admit a node that only queries us, leaving a hole in the table). A questionable
            // contact is pinged, and the newcomer waits in the replacement cache for its slot.
            if let bad = buckets[index].contacts.firstIndex(where: { $0.isBad(configuration: configuration) }) {
                buckets[index].contacts.remove(at: bad)
                buckets[index].contacts.append(contact)
                buckets[index].lastChanged = now
                return .none
            }
            addReplacement(contact, to: index)
            if let questionable = buckets[index].contacts.first(where: { !$0.isGood(now: now, configuration: configuration) }) {
                return .ping(questionable.node)
            }
            return .none
        }
    }

    /// Records that `id` left a query unanswered. A contact that becomes bad is replaced by
    /// the freshest replacement, if there is one; that replacement is returned (it has just
    /// entered the table).
    @discardableResult
    public mutating func recordFailure(of id: NodeID, now: Instant) -> NodeContact? {
        let index = bucketIndex(for: id)
        guard let position = buckets[index].contacts.firstIndex(where: { $0.node.id == id }) else {
            removeReplacement(id: id, from: index)
            return nil
        }
        buckets[index].contacts[position].failures += 1
        guard buckets[index].contacts[position].isBad(configuration: configuration),
              let replacement = buckets[index].replacements.popLast() else { return nil }
        buckets[index].contacts.remove(at: position)
        buckets[index].contacts.append(replacement)
        buckets[index].lastChanged = now
        return replacement.node
    }

    /// Removes `id` outright (for example a seed whose key did not match).
    public mutating func remove(_ id: NodeID) {
        let index = bucketIndex(for: id)
        buckets[index].contacts.removeAll { $0.node.id == id }
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
    public func closest(to target: NodeID, count: Int, ipv4: Bool? = nil) -> [NodeContact] {
        guard count > 0 else { return [] }
        var best: [(distance: NodeID, node: NodeContact)] = []
        best.reserveCapacity(count + 1)
        func consider(_ index: Int) {
            for contact in buckets[index].contacts where !contact.isBad(configuration: configuration) {
                if let ipv4, contact.node.endpoint.address.isIPv4 != ipv4 { continue }
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

    private mutating func addReplacement(_ contact: Contact, to index: Int) {
        buckets[index].replacements.removeAll { $0.node.id == contact.node.id }
        buckets[index].replacements.append(contact)
        if buckets[index].replacements.count > configuration.replacementCacheSize {
            buckets[index].replacements.removeFirst()
        }
    }

    private mutating func removeReplacement(id: NodeID, from index: Int) {
        buckets[index].replacements.removeAll { $0.node.id == id }
    }
}
