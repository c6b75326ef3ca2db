import Testing
import KeywayCrypto
@testable import KeywayCore

/// Whole-mesh behaviour of the DHT core on the in-memory network.
@Suite struct DHTMeshTests {
    /// Builds `count` nodes that all bootstrap from node 0, staggered by 20 ms.
    func bootstrappedMesh(_ count: Int, configuration: DHTConfiguration = InMemoryNetwork.fastConfiguration) -> InMemoryNetwork {
        var network = InMemoryNetwork()
        for n in 0..<count { network.addNode(number: n, configuration: configuration) }
        let seed = DHTSeed(endpoint: network.endpoints[0])
        for n in 1..<count {
            network.with(n) { node, now in node.bootstrap(seeds: [seed], now: now) }
            network.run(for: .milliseconds(20))
        }
        _ = network.run(until: { net in (1..<count).allSatisfy { net.nodes[$0].isBootstrapped } }, limit: .seconds(60))
        return network
    }

    func value(_ text: String) -> [UInt8] { Array("\(text.utf8.count):\(text)".utf8) }

    @Test func fiftyNodesBootstrapPublishAndResolveEveryRecord() throws {
        let count = 50
        var network = bootstrappedMesh(count)
        for n in 1..<count { #expect(network.nodes[n].isBootstrapped, "node \(n) did not bootstrap") }

        // Every node publishes its endpoint record.
        for n in 0..<count {
            let endpoint = network.endpoints[n]
            network.with(n) { node, now in
                _ = try? node.publishRecord(endpoints: [endpoint], wallClockMicroseconds: 1_700_000_000_000_000 + Int64(n), now: now)
            }
        }
        network.run(for: .seconds(30))
        for n in 0..<count {
            let published = network.events[n].compactMap { event -> Int? in
                if case let .itemPublished(_, _, _, storedOn, _) = event { return storedOn }
                return nil
            }
            #expect(published.count == 1)
            #expect((published.first ?? 0) >= DHTSpec.k / 2, "node \(n) stored on too few nodes")
        }

        // Every node resolves every other node's record and finds its endpoint.
        for n in 0..<count {
            for other in 0..<count where other != n {
                let key = network.nodes[other].keyPair.publicKey
                network.with(n) { node, now in node.resolveRecord(publicKey: key, now: now) }
            }
        }
        network.run(for: .seconds(60))
        var resolved = 0
        for n in 0..<count {
            for case let .itemResolved(_, target, item?, _) in network.events[n] {
                let owner = try #require((0..<count).first { NodeID(publicKey: network.nodes[$0].keyPair.publicKey) == target })
                #expect(item.isValid)
                let record = try EndpointRecord(item: item)
                #expect(record.publicKey == network.nodes[owner].keyPair.publicKey)
                #expect(record.endpoints == [network.endpoints[owner]])
                #expect(record.timestampMicroseconds == 1_700_000_000_000_000 + Int64(owner))
                resolved += 1
            }
        }
        #expect(resolved == count * (count - 1), "resolved \(resolved) of \(count * (count - 1))")
    }

    /// A node restarted from a saved table often holds contacts that are gone. Its first lookup
    /// sends before it has any round-trip sample; once the live contacts answer, the dead one
    /// must stop holding the lookup open after a few round trips, not after the query timeout
    /// (issue 5: a restarted `keyway connect` waited 2 s on its own stale contact).
    @Test func aDeadRestoredContactDoesNotHoldAFreshNodesFirstLookupForATimeout() throws {
        var network = bootstrappedMesh(6, configuration: DHTConfiguration())
        let owner = network.nodes[3].keyPair.publicKey
        let endpoint = network.endpoints[3]
        network.with(3) { node, now in
            _ = try? node.publishRecord(endpoints: [endpoint], wallClockMicroseconds: 1_700_000_000_000_000, now: now)
        }
        network.run(for: .seconds(5))

        let client = network.addNode(number: 6, configuration: DHTConfiguration())
        let gone = NodeContact(id: NodeID(publicKey: Ed25519.KeyPair.generate().publicKey), endpoint: Endpoint("10.9.9.9:6881")!)
        let live = NodeContact(id: network.nodes[1].id, endpoint: network.endpoints[1])
        let started = network.now
        network.with(client) { node, now in
            node.addContact(gone, now: now)
            node.addContact(live, now: now)
            node.resolveRecord(publicKey: owner, now: now)
        }
        let resolved = network.run(until: { net in
            net.events[client].contains { if case .itemResolved(_, _, _?, _) = $0 { true } else { false } }
        }, limit: .seconds(10))
        #expect(resolved, "the record was not resolved")
        let elapsed = network.now - started
        // 10 ms one-way: the answers take a few tens of milliseconds; the stall wait after the
        // first sample is the configured minimum. The query timeout is 2 s.
        #expect(elapsed < DHTConfiguration().queryTimeout / 2, "the first lookup took \(elapsed)")
    }

    @Test func recordSequenceAlwaysIncreasesEvenIfTheClockStepsBack() throws {
        var network = bootstrappedMesh(10)
        var sequences: [Int64] = []
        for (step, clock) in [Int64(5_000), 4_000, 4_000, 9_000].enumerated() {
            let endpoint = Endpoint(address: .v4(0x0a01_0000 | UInt32(step)), port: 7000)
            network.with(4) { node, now in
                if let (_, record) = try? node.publishRecord(endpoints: [endpoint], wallClockMicroseconds: clock, now: now) {
                    sequences.append(record.timestampMicroseconds)
                }
            }
            network.run(for: .seconds(3))
        }
        #expect(sequences == [5_000, 5_001, 5_002, 9_000])
        let key = network.nodes[4].keyPair.publicKey
        network.with(8) { node, now in node.resolveRecord(publicKey: key, now: now) }
        network.run(for: .seconds(5))
        let latest = network.events[8].compactMap { event -> EndpointRecord? in
            if case let .itemResolved(_, _, item?, _) = event { return try? EndpointRecord(item: item) }
            return nil
        }
        #expect(latest.map(\.endpoints) == [[Endpoint(address: .v4(0x0a01_0003), port: 7000)]])
    }

    @Test func publishingRefusesEndpointsNoOneCouldReach() {
        var node = DHTNode(keyPair: try! Ed25519.KeyPair(seed: [UInt8](repeating: 4, count: 32)), seed: 1, now: .zero)
        #expect(throws: EndpointRecordError.self) {
            try node.publishRecord(endpoints: [Endpoint(address: .v4(0), port: 7000)], wallClockMicroseconds: 1, now: .zero)
        }
        #expect(throws: EndpointRecordError.noEndpoints) {
            try node.publishRecord(endpoints: [], wallClockMicroseconds: 1, now: .zero)
        }
        #expect(node.publishedRecord == nil)
        #expect(node.pollTransmit() == nil)
    }

    /// A put lookup ends once the closest nodes that answered in time have answered: a query
    /// to a slow node stalls after about a round trip and stops holding it. When the slow node
    /// is the closest of all to the target, it must still get the item once its answer (with
    /// its write token) arrives, or lookups from elsewhere, which converge on it, find nothing
    /// there. With the late-put window off (`false`) it never stores the item, which shows the
    /// scenario exercises it.
    @Test(arguments: [true, false])
    func aSlowNodeClosestToTheTargetStillGetsThePut(latePuts: Bool) throws {
        var configuration = InMemoryNetwork.fastConfiguration
        configuration.latePutWindow = latePuts ? configuration.queryTimeout : .zero
        let count = 40
        var network = bootstrappedMesh(count, configuration: configuration)
        let owner = 3
        let keyPair = network.nodes[owner].keyPair
        let salt = Array("late".utf8)
        let item = MutableItem.signed(by: keyPair, salt: salt, sequence: 1, encodedValue: value("late"))
        let target = item.target
        let closest = try #require((0..<count).filter { $0 != owner }.min { network.nodes[$0].id.distance(to: target) < network.nodes[$1].id.distance(to: target) })
        // Its answers take 250 ms more: past the stall wait, inside the 500 ms query timeout.
        network.extraDelay[network.endpoints[closest]] = .milliseconds(250)
        network.with(owner) { node, now in node.putItem(item, now: now) }
        network.run(for: .seconds(3))
        let published = network.events[owner].contains { if case .itemPublished = $0 { return true } else { return false } }
        #expect(published)
        let stored = network.nodes[closest].store.item(for: target, now: network.now) != nil
        if latePuts {
            #expect(stored, "the closest node never got the item")
            #expect(network.nodes[owner].statistics.latePuts >= 1)
        } else {
            #expect(!stored, "the closest node got the item without a late put: the scenario does not test it")
        }
    }

    /// Kademlia, section 2.5: a node that joins closer to a key than the nodes holding it must
    /// be handed the item; otherwise lookups converge on the newcomers, none of which has it,
    /// and fail until the owner's next republish (issue 4: the one failed pair of the
    /// 100,000-node run). Without hand-over (`false`) the same mesh does fail some resolves,
    /// which shows the scenario exercises it.
    @Test(arguments: [true, false])
    func nodesJoiningCloserThanTheHoldersAreHandedTheItem(handOff: Bool) throws {
        var configuration = InMemoryNetwork.fastConfiguration
        configuration.handOffStoredItems = handOff
        let count = 150
        var network = bootstrappedMesh(count, configuration: configuration)
        let owner = 3
        let keyPair = network.nodes[owner].keyPair
        // A salted item, so that its target is not the owner's own ID (the owner would always
        // be the closest node and hold it).
        let salt = Array("hand-off".utf8)
        let item = MutableItem.signed(by: keyPair, salt: salt, sequence: 1, encodedValue: value("held"))
        let target = item.target
        network.with(owner) { node, now in node.putItem(item, now: now) }
        network.run(for: .seconds(10))
        let holders = (0..<count).filter { network.nodes[$0].store.item(for: target, now: network.now) != nil }
        #expect(holders.count >= DHTSpec.k / 2)
        let nearestHolder = try #require(holders.map { network.nodes[$0].id.distance(to: target) }.min())

        // Keys (from addNode's derivation) whose IDs are closer to the target than every holder.
        var closer: [Int] = []
        for number in 100_000..<1_000_000 where closer.count < DHTSpec.k + 2 {
            var seed = [UInt8](repeating: 0, count: 32)
            for i in 0..<8 { seed[i] = UInt8(truncatingIfNeeded: number >> (8 * i)) }
            seed[31] = 0x5a
            let id = NodeID(publicKey: try Ed25519.KeyPair(seed: seed).publicKey)
            if id.distance(to: target) < nearestHolder { closer.append(number) }
        }
        #expect(closer.count == DHTSpec.k + 2)
        let seed = DHTSeed(endpoint: network.endpoints[0])
        let newcomers = closer.map { network.addNode(number: $0, configuration: configuration) }
        for n in newcomers {
            network.with(n) { node, now in node.bootstrap(seeds: [seed], now: now) }
            network.run(for: .milliseconds(20))
        }
        let joined = network.run(until: { net in newcomers.allSatisfy { net.nodes[$0].isBootstrapped } }, limit: .seconds(30))
        #expect(joined)
        network.run(for: .seconds(5))
        let handedOver = newcomers.filter { network.nodes[$0].store.item(for: target, now: network.now) != nil }

        // Every node but the owner resolves the item at once.
        let resolvers = (0..<network.nodes.count).filter { $0 != owner }
        for n in resolvers {
            network.with(n) { node, now in node.getItem(publicKey: keyPair.publicKey, salt: salt, now: now) }
        }
        network.run(for: .seconds(30))
        let found = resolvers.filter { n in
            network.events[n].contains { event in
                if case let .itemResolved(_, resolved, item?, _) = event { return resolved == target && item.sequence == 1 && item.isValid }
                return false
            }
        }
        if handOff {
            #expect(handedOver.count == newcomers.count, "only \(handedOver.count) of \(newcomers.count) newcomers were handed the item")
            #expect(found.count == resolvers.count, "\(resolvers.count - found.count) of \(resolvers.count) resolves missed the item")
            #expect(newcomers.allSatisfy { network.nodes[$0].statistics.invalidSignatures == 0 })
        } else {
            #expect(handedOver.isEmpty)
            #expect(found.count < resolvers.count, "without hand-over every resolve still found the item: the scenario does not test it")
        }
    }

    @Test func newerSequenceSupersedesOlderOne() throws {
        var network = bootstrappedMesh(20)
        let owner = 7
        let keyPair = network.nodes[owner].keyPair
        network.with(owner) { node, now in node.putItem(.signed(by: keyPair, sequence: 1, encodedValue: value("old")), now: now) }
        network.run(for: .seconds(10))
        network.with(owner) { node, now in node.putItem(.signed(by: keyPair, sequence: 2, encodedValue: value("new")), now: now) }
        network.run(for: .seconds(10))
        network.with(3) { node, now in node.getItem(publicKey: keyPair.publicKey, now: now) }
        network.run(for: .seconds(10))
        let results = network.events[3].compactMap { event -> MutableItem? in
            if case let .itemResolved(_, _, item?, _) = event { return item }
            return nil
        }
        #expect(results.count == 1)
        #expect(results.first?.sequence == 2)
        #expect(results.first?.encodedValue == value("new"))
    }

    @Test func resolveOfUnknownKeyEndsEmptyInBoundedTime() {
        var network = bootstrappedMesh(15)
        let stranger = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0xee, count: 32))
        let start = network.now
        network.with(2) { node, now in node.getItem(publicKey: stranger.publicKey, now: now) }
        let done = network.run(until: { net in net.events[2].contains { if case .itemResolved = $0 { true } else { false } } }, limit: .seconds(30))
        #expect(done)
        let result = network.events[2].first { if case .itemResolved = $0 { true } else { false } }
        guard case let .itemResolved(_, _, item, statistics)? = result else { return }
        #expect(item == nil)
        #expect(statistics.queries > 0)
        #expect(network.now - start < .seconds(5))
    }

    @Test func lookupsRouteAroundDeadNodes() {
        var network = bootstrappedMesh(30)
        let owner = 11
        let keyPair = network.nodes[owner].keyPair
        network.with(owner) { node, now in node.putItem(.signed(by: keyPair, sequence: 9, encodedValue: value("alive")), now: now) }
        network.run(for: .seconds(10))
        // A third of the other nodes vanish without a word.
        for n in stride(from: 1, to: 30, by: 3) where n != owner { network.down.insert(network.endpoints[n]) }
        network.with(5) { node, now in node.getItem(publicKey: keyPair.publicKey, now: now) }
        network.run(for: .seconds(30))
        let found = network.events[5].contains { if case let .itemResolved(_, _, item?, _) = $0 { item.sequence == 9 } else { false } }
        #expect(found)
        #expect(network.nodes[5].pendingQueries == 0)
        #expect(network.nodes[5].activeLookups == 0)
    }

    @Test func deadNodesCostAFewRoundTripsNotAQueryTimeout() {
        // Production timeouts (2 s) on a 10 ms network: a lookup must not wait for the dead.
        var network = bootstrappedMesh(30, configuration: DHTConfiguration())
        let owner = 11
        let keyPair = network.nodes[owner].keyPair
        network.with(owner) { node, now in node.putItem(.signed(by: keyPair, sequence: 9, encodedValue: value("alive")), now: now) }
        network.run(for: .seconds(10))
        // The owner's closest neighbours, which hold its record, die except one.
        let holders = network.nodes[owner].routingTable.closest(to: network.nodes[owner].id, count: 6).compactMap { network.index[$0.endpoint] }
        for n in holders.dropFirst() where n != 5 { network.down.insert(network.endpoints[n]) }
        network.with(5) { node, now in node.getItem(publicKey: keyPair.publicKey, now: now) }
        network.run(for: .seconds(10))
        let result = network.events[5].compactMap { event -> (MutableItem?, LookupStatistics)? in
            if case let .itemResolved(_, _, item, statistics) = event { return (item, statistics) }
            return nil
        }
        #expect(result.count == 1)
        #expect(result.first?.0?.sequence == 9)
        let duration = result.first?.1.duration ?? .seconds(99)
        #expect(duration < .seconds(1), "resolve took \(duration) with dead nodes near the target")
    }

    @Test func unreachableSeedsAreRetriedWithBackoff() {
        var network = InMemoryNetwork()
        network.addNode(number: 0)
        let nowhere = DHTSeed(endpoint: Endpoint(address: .v4(0x0a00_0063), port: 1))
        network.with(0) { node, now in node.bootstrap(seeds: [nowhere], now: now) }
        network.run(for: .seconds(20))
        let retries = network.events[0].compactMap { event -> (Int, Instant)? in
            if case let .seedsUnreachable(attempt, retryAt) = event { return (attempt, retryAt) }
            return nil
        }
        #expect(retries.count >= 3)
        #expect(retries.map(\.0) == Array(1...retries.count))
        // Each wait is at least as long as the one before.
        let gaps = zip(retries.dropFirst(), retries).map { $0.1 - $1.1 }
        #expect(zip(gaps.dropFirst(), gaps).allSatisfy { $0 >= $1 })
        #expect(!network.nodes[0].isBootstrapped)
    }

    @Test func seedWithWrongKeyIsRejected() {
        var network = InMemoryNetwork()
        network.addNode(number: 0)
        network.addNode(number: 1)
        let wrong = NodeID(publicKey: try! Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: 32)).publicKey)
        let seed = DHTSeed(endpoint: network.endpoints[0], expectedID: wrong)
        network.with(1) { node, now in node.bootstrap(seeds: [seed], now: now) }
        network.run(for: .seconds(1))
        #expect(network.events[1].contains(.seedKeyMismatch(network.endpoints[0])))
        #expect(network.nodes[1].routingTable.count == 0)
    }

    @Test func externalEndpointIsBelievedOnceAQuorumAgrees() {
        let network = bootstrappedMesh(10)
        let events = network.events[4].filter { if case .externalEndpointChanged = $0 { true } else { false } }
        #expect(events == [.externalEndpointChanged(network.endpoints[4])])
        #expect(network.nodes[4].externalEndpoint == network.endpoints[4])
    }

    @Test func sameSeedsGiveTheSameRun() {
        func trace() -> [Int] {
            var network = bootstrappedMesh(12)
            let key = network.nodes[9].keyPair.publicKey
            network.with(3) { node, now in node.getItem(publicKey: key, now: now) }
            network.run(for: .seconds(5))
            return network.nodes.map { $0.statistics.bytesSent } + [network.delivered]
        }
        #expect(trace() == trace())
    }
}
