import Testing
import KeywayCrypto
@testable import KeywayCore

@Suite struct ItemStoreTests {
    let keyPair = try! Ed25519.KeyPair(seed: [UInt8](repeating: 1, count: 32))

    func item(_ seq: Int64, _ text: String, salt: [UInt8] = []) -> MutableItem {
        let value = Array("\(text.utf8.count):\(text)".utf8)
        return MutableItem.signed(by: keyPair, salt: salt, sequence: seq, encodedValue: value)
    }

    @Test func appliesBEP44SequenceAndCASRules() {
        var store = ItemStore(ownID: NodeID(high: 1, middle: 2, low: 3), configuration: DHTConfiguration())
        let now = Instant.zero
        #expect(store.put(item(5, "five"), cas: nil, now: now) == nil)
        #expect(store.put(item(4, "four"), cas: nil, now: now)?.code == 302)
        #expect(store.put(item(5, "other"), cas: nil, now: now)?.code == 302)
        #expect(store.put(item(5, "five"), cas: nil, now: now) == nil)
        #expect(store.put(item(6, "six"), cas: 4, now: now)?.code == 301)
        #expect(store.put(item(6, "six"), cas: 5, now: now) == nil)
        guard case let .mutable(held)? = store.item(for: item(6, "six").target, now: now) else {
            Issue.record("item missing")
            return
        }
        #expect(held.sequence == 6)
    }

    @Test func refusesForgedOversizedAndSaltyItems() {
        var store = ItemStore(ownID: NodeID(high: 0, middle: 0, low: 0), configuration: DHTConfiguration())
        var forged = item(1, "x")
        forged.signature[10] ^= 1
        #expect(store.put(forged, cas: nil, now: .zero)?.code == 206)
        #expect(store.count == 0)
        let big = MutableItem.signed(by: keyPair, sequence: 1, encodedValue: Array("1001:".utf8) + [UInt8](repeating: 65, count: 1001))
        #expect(store.put(big, cas: nil, now: .zero)?.code == 205)
        #expect(store.put(item(1, "x", salt: [UInt8](repeating: 1, count: 65)), cas: nil, now: .zero)?.code == 207)
        #expect(store.putImmutable(encodedValue: [UInt8](repeating: 65, count: 1001), now: .zero)?.code == 205)
    }

    @Test func expiresItemsAfterTheirLifetime() {
        var configuration = DHTConfiguration()
        configuration.itemLifetime = .seconds(10)
        var store = ItemStore(ownID: NodeID(high: 0, middle: 0, low: 0), configuration: configuration)
        #expect(store.put(item(1, "a"), cas: nil, now: .zero) == nil)
        #expect(store.item(for: item(1, "a").target, now: .zero + .seconds(9)) != nil)
        #expect(store.item(for: item(1, "a").target, now: .zero + .seconds(10)) == nil)
        store.expire(now: .zero + .seconds(10))
        #expect(store.count == 0)
        #expect(store.byteCount == 0)
    }

    @Test func staysWithinItsBoundsNeverRefusingAPut() {
        var configuration = DHTConfiguration()
        configuration.maximumStoredItems = 4
        let own = NodeID(high: 0, middle: 0, low: 0)
        var store = ItemStore(ownID: own, configuration: configuration)
        var accepted = 0
        for n in 0..<40 {
            let salt = Array("salt\(n)".utf8)
            if store.put(item(1, "v", salt: salt), cas: nil, from: .v4(0xc612_0101), now: .zero + .seconds(n)) == nil { accepted += 1 }
            #expect(store.count <= 4)
        }
        #expect(store.count == 4)
        #expect(accepted == 40)
        // One source: the 4 held are its 4 most recent.
        for n in 36..<40 { #expect(store.item(for: item(1, "v", salt: Array("salt\(n)".utf8)).target, now: .zero) != nil) }
    }

    @Test func tokensAreBoundToAddressAndExpireAfterTwoRotations() {
        var configuration = DHTConfiguration()
        configuration.tokenRotationInterval = .seconds(300)
        var rng = SeededRandom(seed: 3)
        var tokens = WriteTokens(configuration: configuration, now: .zero, rng: &rng)
        let a = IPAddress.v4(0x0a00_0001), b = IPAddress.v4(0x0a00_0002)
        let token = tokens.token(for: a)
        #expect(tokens.isValid(token, for: a))
        #expect(!tokens.isValid(token, for: b))
        tokens.rotateIfDue(now: .zero + .seconds(300), rng: &rng)
        #expect(tokens.isValid(token, for: a))
        tokens.rotateIfDue(now: .zero + .seconds(600), rng: &rng)
        #expect(!tokens.isValid(token, for: a))
    }

    @Test func tokensForIPv6AddressesAreBoundToTheWholeAddress() {
        var rng = SeededRandom(seed: 4)
        let tokens = WriteTokens(configuration: DHTConfiguration(), now: .zero, rng: &rng)
        let a = IPAddress.v6(high: 0x2001_0db8_0000_0000, low: 1), b = IPAddress.v6(high: 0x2001_0db8_0000_0000, low: 2)
        let c = IPAddress.v6(high: 0x2001_0db8_0000_0001, low: 1)
        let token = tokens.token(for: a)
        #expect(token.count == DHTConfiguration().tokenLength)
        #expect(token == tokens.token(for: a))
        #expect(tokens.isValid(token, for: a))
        #expect(!tokens.isValid(token, for: b) && !tokens.isValid(token, for: c))
        #expect(!tokens.isValid(token, for: .v4(1)))
    }
}
