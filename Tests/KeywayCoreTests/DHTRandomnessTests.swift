import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 12, found by reading: KRPC transaction IDs were sequential, token secrets and refresh
/// targets came from xoshiro (whose outputs give its state away), and maintenance pings could
/// take all 512 pending-query slots.
@Suite struct DHTRandomnessTests {
    func makeNode(_ configuration: DHTConfiguration = DHTConfiguration(), seed: UInt64 = 1) throws -> DHTNode {
        var node = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 5, count: 32)), configuration: configuration, seed: seed, now: .zero)
        for n in 0..<16 {
            node.addContact(NodeContact(id: NodeID(bytes: [UInt8](repeating: UInt8(n * 16 + 3), count: 20))!,
                                        endpoint: Endpoint(address: .v4(0xc612_0001 | UInt32(n + 1) << 8), port: 6881)), now: .zero)
        }
        return node
    }

    /// Transaction IDs of the queries the node sends for a few lookups.
    func transactionIDs(_ node: inout DHTNode) -> [UInt16] {
        for n in 0..<8 { node.findNode(target: NodeID(bytes: [UInt8](repeating: UInt8(n * 31 + 7), count: 20))!, now: .zero) }
        var ids: [UInt16] = []
        while let datagram = node.pollTransmit() {
            guard let message = try? KRPCMessage.decode(datagram.payload), case .query = message.body,
                  message.transactionID.count == 2 else { continue }
            ids.append(UInt16(message.transactionID[0]) << 8 | UInt16(message.transactionID[1]))
        }
        return ids
    }

    @Test func transactionIDsAreNotSequential() throws {
        var node = try makeNode()
        let ids = transactionIDs(&node)
        #expect(ids.count >= 16)
        let steps = zip(ids, ids.dropFirst()).filter { $1 == $0 &+ 1 }.count
        #expect(steps <= 1, "\(steps) of \(ids.count - 1) transaction IDs follow their predecessor")
        #expect(Set(ids).count == ids.count)
    }

    @Test func theSameSeedGivesTheSameChoices() throws {
        var a = try makeNode(seed: 42), b = try makeNode(seed: 42), c = try makeNode(seed: 43)
        let idsA = transactionIDs(&a)
        #expect(idsA == transactionIDs(&b))
        #expect(idsA != transactionIDs(&c))
    }

    /// A real node's secret seed decides its choices, and is not kept in its configuration.
    @Test func aSecretSeedKeysTheGeneratorAndIsNotKept() throws {
        var configuration = DHTConfiguration()
        configuration.randomSeed = SecureBytes([UInt8](repeating: 0xa5, count: KeyedRandom.seedLength))
        var keyed = try makeNode(configuration, seed: 42)
        var plain = try makeNode(seed: 42)
        #expect(keyed.configuration.randomSeed == nil)
        #expect(transactionIDs(&keyed) != transactionIDs(&plain))
        // The write tokens differ too: their secrets come from the keyed generator.
        #expect(keyed.tokens.token(for: .v4(0xc612_0101)) != plain.tokens.token(for: .v4(0xc612_0101)))
    }

    @Test func keyedRandomIsTheChaCha20KeystreamOfItsKey() {
        let key = SecureBytes([UInt8](repeating: 7, count: KeyedRandom.seedLength))
        var generator = KeyedRandom(seed: key)
        let block = SecureRandom.deterministicBytes(count: KeyedRandom.seedLength + KeyedRandom.blockSize, seed: key)!
        #expect(generator.bytes(count: 40) == Array(block.dropFirst(KeyedRandom.seedLength).prefix(40)))
        var a = KeyedRandom(seed: 1), b = KeyedRandom(seed: 1), c = KeyedRandom(seed: 2)
        let first = (0..<100).map { _ in a.next() }
        #expect(first == (0..<100).map { _ in b.next() })
        #expect(first != (0..<100).map { _ in c.next() })
    }

    /// Maintenance pings fill only their share of the pending-query slots: a lookup still gets
    /// its queries out.
    @Test func maintenancePingsCannotTakeTheSlotsLookupsNeed() throws {
        var node = try makeNode()
        let configuration = DHTConfiguration()
        for n in 0..<configuration.maximumPendingQueries + 100 {
            node.sendQuery(.ping(id: node.id), to: Endpoint(address: .v4(0xc613_0000 | UInt32(n)), port: 6881),
                           expecting: nil, purpose: .maintenance, now: .zero)
        }
        #expect(node.pendingQueries == configuration.maximumPendingQueries - configuration.pendingQueriesReservedForLookups)
        while node.pollTransmit() != nil {}
        node.findNode(target: NodeID(bytes: [UInt8](repeating: 0x77, count: 20))!, now: .zero)
        #expect(node.activeLookups == 1)
        var lookupQueries = 0
        while let datagram = node.pollTransmit() {
            if let message = try? KRPCMessage.decode(datagram.payload), case .query(.findNode) = message.body { lookupQueries += 1 }
        }
        #expect(lookupQueries == configuration.lookupParallelism)
        // Timeouts give the maintenance share back.
        node.handleTimeout(now: .zero + configuration.queryTimeout)
        #expect(node.pendingMaintenance == 0)
    }
}
