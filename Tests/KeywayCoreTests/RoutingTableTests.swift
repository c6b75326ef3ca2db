import Testing
@testable import KeywayCore

@Suite struct RoutingTableTests {
    let own = NodeID(high: 0, middle: 0, low: 0)
    let configuration = DHTConfiguration()

    func contact(_ id: NodeID, _ n: Int) -> NodeContact {
        // A /24 of its own each, so the prefix limits do not apply.
        NodeContact(id: id, endpoint: Endpoint(address: .v4(0x0a00_0001 | UInt32(n) << 8), port: 1000))
    }

    /// An ID sharing exactly `prefix` leading bits with `own` (all zero), varied by `n`.
    func id(prefix: Int, _ n: UInt64) -> NodeID {
        var id = NodeID(high: 0, middle: n, low: 0)
        id = id.flippingBit(prefix)
        return id
    }

    @Test func splitsOnlyTheBucketHoldingItsOwnID() {
        var table = RoutingTable(ownID: own, configuration: configuration, now: .zero)
        // 8 far contacts (prefix 0) fill bucket 0 without splitting further once separated.
        for n in 0..<8 { table.observe(contact(id(prefix: 0, UInt64(n)), n), responded: true, now: .zero) }
        #expect(table.buckets.count == 1)
        for n in 0..<8 { table.observe(contact(id(prefix: 3, UInt64(n)), 100 + n), responded: true, now: .zero) }
        #expect(table.count == 16)
        #expect(table.buckets.count >= 2)
        // A ninth far contact does not fit: bucket 0 is full of good contacts and cannot split.
        let directive = table.observe(contact(id(prefix: 0, 99), 99), responded: true, now: .zero)
        #expect(directive == .none)
        #expect(table.contact(for: id(prefix: 0, 99)) == nil)
        #expect(table.count == 16)
    }

    @Test func fullBucketPingsQuestionableContactAndReplacesItOnFailure() {
        var table = RoutingTable(ownID: own, configuration: configuration, now: .zero)
        for n in 0..<8 { table.observe(contact(id(prefix: 0, UInt64(n)), n), responded: true, now: .zero) }
        for n in 0..<8 { table.observe(contact(id(prefix: 5, UInt64(n)), 50 + n), responded: true, now: .zero) }
        let later = Instant.zero + .seconds(16 * 60)
        let newcomer = contact(id(prefix: 0, 77), 77)
        let directive = table.observe(newcomer, responded: true, now: later)
        guard case let .ping(questionable) = directive else {
            Issue.record("expected a ping directive, got \(directive)")
            return
        }
        #expect(table.contact(for: newcomer.id) == nil)
        // The questionable contact fails twice: it is bad and the newcomer takes its slot.
        table.recordFailure(of: questionable.id, now: later)
        #expect(table.contact(for: questionable.id) != nil)
        table.recordFailure(of: questionable.id, now: later)
        #expect(table.contact(for: questionable.id) == nil)
        #expect(table.contact(for: newcomer.id) != nil)
    }

    /// A full bucket's replacement cache holds the newest ``DHTConfiguration/replacementCacheSize``
    /// newcomers and never more; a bad contact is replaced by the newest of them.
    @Test func replacementCacheKeepsTheNewestUpToItsSize() {
        var small = configuration
        small.replacementCacheSize = 3
        var table = RoutingTable(ownID: own, configuration: small, now: .zero)
        for n in 0..<8 { table.observe(contact(id(prefix: 0, UInt64(n)), n), responded: true, now: .zero) }
        for n in 0..<8 { table.observe(contact(id(prefix: 5, UInt64(n)), 50 + n), responded: true, now: .zero) }
        for n in 0..<20 {
            table.observe(contact(id(prefix: 0, UInt64(100 + n)), 100 + n), responded: true, now: .zero)
            #expect(table.buckets[0].replacements.count == min(n + 1, 3))
        }
        #expect(table.buckets[0].replacements.map(\.node.id) == (17..<20).map { id(prefix: 0, UInt64(100 + $0)) })
        let victim = table.buckets[0].contacts[0].node
        table.recordFailure(of: victim.id, at: victim.endpoint, now: .zero)
        table.recordFailure(of: victim.id, at: victim.endpoint, now: .zero)
        #expect(table.contact(for: victim.id) == nil)
        #expect(table.contact(for: id(prefix: 0, 119)) != nil)

        var none = configuration
        none.replacementCacheSize = 0
        var bare = RoutingTable(ownID: own, configuration: none, now: .zero)
        for n in 0..<8 { bare.observe(contact(id(prefix: 0, UInt64(n)), n), responded: true, now: .zero) }
        for n in 0..<8 { bare.observe(contact(id(prefix: 5, UInt64(n)), 50 + n), responded: true, now: .zero) }
        bare.observe(contact(id(prefix: 0, 100), 100), responded: true, now: .zero)
        #expect(bare.buckets[0].replacements.isEmpty)
    }

    @Test func closestIsSortedByXORDistanceAndSkipsBadContacts() {
        var table = RoutingTable(ownID: own, configuration: configuration, now: .zero)
        var rng = SeededRandom(seed: 1)
        var ids: [NodeID] = []
        for n in 0..<200 {
            let id = NodeID.random(using: &rng)
            ids.append(id)
            table.observe(contact(id, n), responded: true, now: .zero)
        }
        let target = NodeID.random(using: &rng)
        let closest = table.closest(to: target, count: 8)
        #expect(closest.count == 8)
        let distances = closest.map { $0.id.distance(to: target) }
        #expect(distances == distances.sorted())
        // Nothing held is closer than the 8th result.
        let held = table.allContacts.map { $0.node.id.distance(to: target) }.sorted()
        #expect(Array(held.prefix(8)) == distances)
        let first = closest[0].id
        table.recordFailure(of: first, now: .zero)
        table.recordFailure(of: first, now: .zero)
        #expect(!table.closest(to: target, count: 8).contains { $0.id == first })
    }

    /// `closest` visits buckets nearest first and stops early; it must answer exactly what a
    /// scan of every contact answers, for targets far, near and equal to our own ID, with bad
    /// contacts, both families and any count.
    @Test func closestAgreesWithAFullScan() {
        var rng = SeededRandom(seed: 11)
        let ownID = NodeID.random(using: &rng)
        var table = RoutingTable(ownID: ownID, configuration: configuration, now: .zero)
        for n in 0..<3000 {
            // Half random, half sharing a long prefix with our ID, so that many buckets split.
            var id = NodeID.random(using: &rng)
            if n % 2 == 1 {
                for bit in 0..<(n % 40) where id.bit(bit) != ownID.bit(bit) { id = id.flippingBit(bit) }
            }
            let address: IPAddress = n % 3 == 0 ? .v6(high: 0x2001_0db8 << 32 | UInt64(n), low: 1) : .v4(0x0a00_0001 | UInt32(n) << 8)
            table.observe(NodeContact(id: id, endpoint: Endpoint(address: address, port: 1000)), responded: true, now: .zero)
        }
        for contact in table.allContacts.enumerated() where contact.offset % 7 == 0 {
            for _ in 0..<configuration.failuresBeforeBad { table.recordFailure(of: contact.element.node.id, now: .zero) }
        }
        #expect(table.buckets.count > 20)
        var targets = [ownID, ownID.flippingBit(159), ownID.flippingBit(0)]
        for _ in 0..<40 { targets.append(.random(using: &rng)) }
        for bit in stride(from: 1, to: 40, by: 3) { targets.append(ownID.flippingBit(bit)) }
        for target in targets {
            for family in [nil, true, false] as [Bool?] {
                let eligible = table.allContacts.filter {
                    !$0.isBad(configuration: configuration) && (family == nil || $0.node.endpoint.address.isIPv4 == family)
                }.map(\.node).sorted { $0.id.distance(to: target) < $1.id.distance(to: target) }
                for count in [1, 8, 20, 10_000] {
                    #expect(table.closest(to: target, count: count, ipv4: family) == Array(eligible.prefix(count)))
                }
            }
        }
    }

    @Test func unsolicitedQueryDoesNotMoveAKnownContact() {
        var table = RoutingTable(ownID: own, configuration: configuration, now: .zero)
        let original = contact(id(prefix: 2, 1), 1)
        table.observe(original, responded: true, now: .zero)
        let moved = NodeContact(id: original.id, endpoint: Endpoint(address: .v4(0x0a09_0909), port: 1))
        // An unsolicited packet from elsewhere: the known endpoint is asked whether it is still there.
        #expect(table.observe(moved, responded: false, now: .zero) == .ping(original))
        #expect(table.contact(for: original.id)?.node.endpoint == original.endpoint)
        // Even an answer from the other endpoint does not move a contact that still answers.
        table.observe(moved, responded: true, now: .zero)
        #expect(table.contact(for: original.id)?.node.endpoint == original.endpoint)
        // Once the known endpoint has failed a query, the claim is checked, and an answer there moves it.
        table.recordFailure(of: original.id, at: original.endpoint, now: .zero)
        #expect(table.observe(moved, responded: false, now: .zero) == .ping(moved))
        table.observe(moved, responded: true, now: .zero)
        #expect(table.contact(for: original.id)?.node.endpoint == moved.endpoint)
    }

    @Test func randomIDFallsInTheRequestedBucket() {
        var table = RoutingTable(ownID: NodeID(high: 0xdead_beef, middle: 42, low: 7), configuration: configuration, now: .zero)
        var rng = SeededRandom(seed: 9)
        for n in 0..<300 { table.observe(contact(NodeID.random(using: &rng), n), responded: true, now: .zero) }
        for index in table.buckets.indices {
            let id = table.randomID(inBucket: index, using: &rng)
            #expect(table.bucketIndex(for: id) == index)
        }
    }

    @Test func idleBucketsAreReportedForRefresh() {
        var table = RoutingTable(ownID: own, configuration: configuration, now: .zero)
        table.observe(contact(id(prefix: 1, 1), 1), responded: true, now: .zero)
        #expect(table.bucketsNeedingRefresh(now: .zero + .seconds(60)).isEmpty)
        #expect(table.bucketsNeedingRefresh(now: .zero + .seconds(15 * 60)) == [0])
        table.markRefreshed(0, now: .zero + .seconds(15 * 60))
        #expect(table.bucketsNeedingRefresh(now: .zero + .seconds(15 * 60)).isEmpty)
    }
}

extension RoutingTable {
    /// A failure of the contact `id` at the endpoint the table holds for it.
    @discardableResult
    mutating func recordFailure(of id: NodeID, now: Instant) -> NodeContact? {
        guard let endpoint = contact(for: id)?.node.endpoint else { return nil }
        return recordFailure(of: id, at: endpoint, now: now)
    }
}

@Suite struct RoutingTableRecoveryTests {
    let own = NodeID(high: 0, middle: 0, low: 0)

    func contact(_ n: Int) -> NodeContact {
        // Prefix length 0: all in the far bucket, which cannot split once a nearer one exists.
        NodeContact(id: NodeID(high: 1 << 63 | UInt64(n), middle: 0, low: 0), endpoint: Endpoint(address: .v4(0x0a00_0001 | UInt32(n) << 8), port: 1000))
    }

    /// A bucket whose contacts all died must admit live nodes that only query us.
    @Test func aBucketOfDeadContactsAdmitsNodesThatOnlyQuery() {
        var table = RoutingTable(ownID: own, configuration: DHTConfiguration(), now: .zero)
        table.observe(NodeContact(id: own.flippingBit(5), endpoint: Endpoint(address: .v4(1), port: 1)), responded: true, now: .zero)
        for n in 0..<8 { table.observe(contact(n), responded: true, now: .zero) }
        #expect(table.buckets[0].contacts.count == 8)
        // They all fail one query: questionable, not yet bad.
        for n in 0..<8 { table.recordFailure(of: contact(n).id, now: .zero) }
        let newcomer = contact(100)
        let directive = table.observe(newcomer, responded: false, now: .zero + .seconds(1))
        guard case let .ping(target) = directive else {
            Issue.record("expected a ping of a questionable contact, got \(directive)")
            return
        }
        #expect(table.contact(for: newcomer.id) == nil)
        // The pinged contact fails again: it is bad and the newcomer takes its slot.
        table.recordFailure(of: target.id, now: .zero + .seconds(3))
        #expect(table.contact(for: target.id) == nil)
        #expect(table.contact(for: newcomer.id) != nil)
        // And once contacts are bad, a querying node replaces one at once.
        for n in 0..<8 { table.recordFailure(of: contact(n).id, now: .zero + .seconds(4)) }
        let second = contact(101)
        table.observe(second, responded: false, now: .zero + .seconds(5))
        #expect(table.contact(for: second.id) != nil)
    }
}
