import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 12, attack 10 and the peer-slot finding: one IP must not fill a node's storage so that
/// an honest, validly signed put is refused, nor take every peer slot of an info-hash.
@Suite struct DHTStorageFloodTests {
    let attacker = Endpoint(address: .v4(0xc633_6407), port: 6881)      // 198.51.100.7
    let honest = Endpoint(address: .v4(0xc612_0101), port: 6881)        // 198.18.1.1
    let clientID = NodeID(bytes: [UInt8](repeating: 0x21, count: 20))!

    func makeVictim(_ configuration: DHTConfiguration) throws -> DHTNode {
        DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 8, count: 32)), configuration: configuration, seed: 2, now: .zero)
    }

    /// Sends `query` from `source`, returns the victim's answer to it.
    func ask(_ victim: inout DHTNode, _ query: KRPCQuery, from source: Endpoint, now: Instant = .zero) throws -> KRPCMessage.Body {
        victim.handleDatagram(KRPCMessage(transactionID: [7, 7], body: .query(query)).encoded(), from: source, now: now)
        var answer: KRPCMessage.Body?
        while let datagram = victim.pollTransmit() {
            guard datagram.endpoint == source, let message = try? KRPCMessage.decode(datagram.payload) else { continue }
            if case .query = message.body { continue }
            answer = message.body
        }
        return try #require(answer)
    }

    func token(_ victim: inout DHTNode, for source: Endpoint, target: NodeID) throws -> [UInt8] {
        guard case let .response(response) = try ask(&victim, .get(id: clientID, target: target, sequence: nil), from: source) else {
            throw KRPCError(code: 0, message: "no response")
        }
        return try #require(response.token)
    }

    /// Attack 10 as filed: 16,384 puts from one IP (the store's whole capacity), then an
    /// honest, validly signed put whose target is farther from the victim's ID than every one of
    /// the attacker's (the put the old "closer displaces farther" rule refused with 202).
    @Test func oneIPFillingTheStoreDoesNotGetAnHonestPutRefused() throws {
        var configuration = DHTConfiguration()
        configuration.inboundQueryRatePerSource = 0   // the flood is about storage, not rate
        var victim = try makeVictim(configuration)
        let attackerToken = try token(&victim, for: attacker, target: victim.id)
        var farthest = NodeID(bytes: [UInt8](repeating: 0, count: 20))!
        for n in 0..<configuration.maximumStoredItems {
            let text = "flood\(n)"
            let value = Array("\(text.utf8.count):\(text)".utf8)
            let target = NodeID(bytes: SHA1.hash(value))!
            farthest = max(farthest, target.distance(to: victim.id))
            victim.handleDatagram(KRPCMessage(transactionID: [1, 1], body: .query(.put(KRPCPut(id: clientID, token: attackerToken, encodedValue: value)))).encoded(), from: attacker, now: .zero)
            while victim.pollTransmit() != nil {}
        }
        #expect(victim.store.itemCount(from: attacker.address) <= configuration.maximumStoredItemsPerPrefix)

        let owner = try Ed25519.KeyPair(seed: [UInt8](repeating: 0x44, count: 32))
        var salt: [UInt8] = []
        for n in 0..<1_000_000 {
            salt = Array("s\(n)".utf8)
            if MutableItem.target(publicKey: owner.publicKey, salt: salt).distance(to: victim.id) > farthest { break }
        }
        let item = MutableItem.signed(by: owner, salt: salt, sequence: 1, encodedValue: Array("6:honest".utf8))
        #expect(item.target.distance(to: victim.id) > farthest)
        let honestToken = try token(&victim, for: honest, target: item.target)
        let put = KRPCPut(id: clientID, token: honestToken, encodedValue: item.encodedValue, publicKey: item.publicKey.bytes,
                          salt: salt, sequence: item.sequence, signature: item.signature)
        let answer = try ask(&victim, .put(put), from: honest)
        if case let .error(error) = answer { Issue.record("honest put refused: \(error.code) \(error.message)") }
        #expect(victim.store.item(for: item.target, now: .zero) == .mutable(item))
    }

    /// A full store makes room by taking the oldest item of the prefix holding the most.
    @Test func aFullStoreEvictsTheLargestSourcesOldestItem() {
        var configuration = DHTConfiguration()
        configuration.maximumStoredItems = 8
        configuration.maximumStoredItemsPerPrefix = 6
        var store = ItemStore(ownID: NodeID(high: 0, middle: 0, low: 0), configuration: configuration)
        func value(_ text: String) -> [UInt8] { Array("\(text.utf8.count):\(text)".utf8) }
        func target(_ text: String) -> NodeID { NodeID(bytes: SHA1.hash(value(text)))! }
        let a = IPAddress.v4(0xc633_6401), b = IPAddress.v4(0xc612_0101), c = IPAddress.v4(0xc612_0201)
        // One prefix beyond its share loses its own oldest: a0...a7 leave a2...a7.
        for n in 0..<8 { #expect(store.putImmutable(encodedValue: value("a\(n)"), from: a, now: .zero + .seconds(n)) == nil) }
        #expect(store.itemCount(from: a) == 6)
        #expect(store.item(for: target("a1"), now: .zero) == nil)
        #expect(store.item(for: target("a2"), now: .zero) != nil)
        for n in 0..<2 { #expect(store.putImmutable(encodedValue: value("b\(n)"), from: b, now: .zero + .seconds(10 + n)) == nil) }
        #expect(store.count == 8)
        // Full: c's put takes a's oldest (a holds the most), not b's.
        #expect(store.putImmutable(encodedValue: value("c0"), from: c, now: .zero + .seconds(20)) == nil)
        #expect(store.count == 8)
        #expect(store.item(for: target("a2"), now: .zero) == nil)
        #expect(store.item(for: target("b0"), now: .zero) != nil)
        #expect(store.item(for: target("c0"), now: .zero) != nil)
        #expect(store.itemCount(from: a) == 5)
    }

    /// Refreshing an item someone else stored does not move it into the refresher's share,
    /// where the refresher's own flood would evict it.
    @Test func refreshingAnotherSourcesItemDoesNotTakeItOver() throws {
        var configuration = DHTConfiguration()
        configuration.maximumStoredItemsPerPrefix = 2
        var store = ItemStore(ownID: NodeID(high: 0, middle: 0, low: 0), configuration: configuration)
        let owner = try Ed25519.KeyPair(seed: [UInt8](repeating: 0x45, count: 32))
        let record = MutableItem.signed(by: owner, sequence: 1, encodedValue: Array("6:honest".utf8))
        #expect(store.put(record, cas: nil, from: honest.address, now: .zero) == nil)
        #expect(store.put(record, cas: nil, from: attacker.address, now: .zero) == nil)
        for n in 0..<5 { _ = store.putImmutable(encodedValue: Array("2:x\(n)".utf8), from: attacker.address, now: .zero) }
        #expect(store.item(for: record.target, now: .zero) == .mutable(record))
    }

    /// One IP announcing from 64 ports holds at most its per-address share of an info-hash's
    /// peers; another IP's announcement is kept.
    @Test func oneIPCannotTakeEveryPeerSlotOfAnInfoHash() throws {
        var victim = try makeVictim(DHTConfiguration())
        let infoHash = NodeID(bytes: [UInt8](repeating: 0x42, count: 20))!
        let attackerToken = try token(&victim, for: attacker, target: infoHash)
        for port in 0..<64 {
            _ = try ask(&victim, .announcePeer(id: clientID, infoHash: infoHash, port: UInt16(7000 + port), impliedPort: false, token: attackerToken), from: attacker, now: .zero + .milliseconds(port * 20))
        }
        let honestToken = try token(&victim, for: honest, target: infoHash)
        _ = try ask(&victim, .announcePeer(id: clientID, infoHash: infoHash, port: 6881, impliedPort: false, token: honestToken), from: honest, now: .seconds(2))
        let peers = victim.peers.peers(for: infoHash, now: .seconds(2))
        #expect(peers.filter { $0.address == attacker.address }.count <= DHTConfiguration().maximumPeersPerInfoHashPerAddress)
        #expect(peers.contains(honest))
    }
}
